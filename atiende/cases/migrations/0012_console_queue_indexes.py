# The console's queues of active cases by last activity (see Case.Meta.indexes), then
# fresh planner statistics for the two tables whose indexes changed here and in
# sla/0003: without them SQLite keeps choosing the older, wider indexes it has statistics
# for. A full ANALYZE on SQLite (about a minute at a million cases): a sampled one
# (`analysis_limit`) gave statistics so wrong for few-valued columns (status, channel)
# that the "all" queue sorted the whole table. PostgreSQL's ANALYZE always samples.

from django.conf import settings
from django.db import migrations, models


def analyze(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table in ("cases_case", "sla_slatimer"):
            cursor.execute(f"ANALYZE {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_invitation_portalaccess_portalregistration"),
        ("cases", "0011_followup_follower_rating"),
        ("customers", "0002_contact_whatsapp_user_id"),
        ("directory", "0001_initial"),
        ("sla", "0003_slatimer_case_active"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status__in", ("new", "open", "awaiting_info"))),
                fields=["assignee", "updated_at", "id"],
                name="case_active_assignee",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    ("assignee__isnull", True), ("status__in", ("new", "open", "awaiting_info"))
                ),
                fields=["group", "updated_at", "id"],
                name="case_active_unassigned",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    ("priority", "critical"),
                    ("status__in", ("new", "open", "awaiting_info")),
                    ("type", "incident"),
                ),
                fields=["updated_at", "id"],
                name="case_active_critical",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status", "awaiting_info")),
                fields=["updated_at", "id"],
                name="case_awaiting",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
