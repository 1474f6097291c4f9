from django.db import migrations

# The console's SLA queues now read the partial indexes declared on SlaTimer
# (sla/0003_slatimer_case_active: clocks of active cases only), so these two from 0002,
# which also held every clock of every finished case, only cost writes. IF EXISTS: on
# SQLite, sla/0003 rebuilds the clocks' table, and Django's rebuild keeps only the indexes
# it declares.
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
    dependencies = [("search", "0002_queue_indexes"), ("sla", "0003_slatimer_case_active")]
    operations = [
        migrations.RunSQL(f"DROP INDEX IF EXISTS {name}", reverse_sql=sql)
        for name, sql in INDEXES
    ]
