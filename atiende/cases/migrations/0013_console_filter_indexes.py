# The console's queues filtered by one column, by last activity (see Case.Meta.indexes),
# then fresh planner statistics for the cases table: without them SQLite keeps choosing
# the indexes it has statistics for (cases/0012).

from django.conf import settings
from django.db import migrations, models


def analyze(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_invitation_portalaccess_portalregistration"),
        ("cases", "0012_console_queue_indexes"),
        ("customers", "0002_contact_whatsapp_user_id"),
        ("directory", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["status", "updated_at", "id"], name="case_status_updated"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["type", "priority", "updated_at", "id"], name="case_type_prio_updated"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["level", "updated_at", "id"], name="case_level_updated"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["channel", "updated_at", "id"], name="case_channel_updated"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["organization", "updated_at", "id"], name="case_org_updated"
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
