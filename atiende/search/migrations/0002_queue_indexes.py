from django.db import migrations

# The console's SLA queues read running clocks by deadline ("at risk": past 75 % and not
# yet due, nearest deadline first) and breached clocks by case. Partial indexes hold only
# those rows, a few per open case, however many finished cases there are. Their WHERE
# clauses are the ones Django writes for the queue selectors (console/selectors.py), so
# both SQLite and PostgreSQL use them.
INDEXES = [
    (
        "search_sla_running_due",
        "CREATE INDEX search_sla_running_due ON sla_slatimer (due_at, case_id) "
        "WHERE next_check_at IS NOT NULL",
    ),
    (
        "search_sla_breached_case",
        "CREATE INDEX search_sla_breached_case ON sla_slatimer (case_id) "
        "WHERE breached_at IS NOT NULL",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("search", "0001_search_document"), ("sla", "0002_slatimer")]
    operations = [
        migrations.RunSQL(sql, reverse_sql=f"DROP INDEX IF EXISTS {name}")
        for name, sql in INDEXES
    ]
