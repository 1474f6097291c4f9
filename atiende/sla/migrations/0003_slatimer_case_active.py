from django.db import migrations, models

# `case_active` mirrors the case's status (new, open, awaiting_info) so the console's "at
# risk" and "breached" queues read partial indexes of the clocks of active cases (see
# SlaTimer). The backfill is one UPDATE, written in SQL both databases run; it goes before
# the indexes so they are built once, on the final values.
BACKFILL = (
    "UPDATE sla_slatimer SET case_active = FALSE WHERE case_id IN ("
    "SELECT id FROM cases_case WHERE status NOT IN ('new', 'open', 'awaiting_info'))"
)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0011_followup_follower_rating"),
        ("sla", "0002_slatimer"),
    ]

    operations = [
        migrations.AddField(
            model_name="slatimer",
            name="case_active",
            field=models.BooleanField(default=True),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="slatimer",
            index=models.Index(
                condition=models.Q(
                    ("at_risk_flagged_at__isnull", False),
                    ("case_active", True),
                    ("next_check_at__isnull", False),
                ),
                fields=["due_at", "case", "at_risk_at"],
                name="sla_timer_at_risk",
            ),
        ),
        migrations.AddIndex(
            model_name="slatimer",
            index=models.Index(
                condition=models.Q(("breached_at__isnull", False), ("case_active", True)),
                fields=["due_at", "case"],
                name="sla_timer_breached",
            ),
        ),
    ]
