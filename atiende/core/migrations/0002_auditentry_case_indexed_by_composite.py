"""Foreign keys whose own index duplicates the start of a composite one lose it: one
B-tree less to write per row (issue 17). Only the index goes: SQLite would otherwise
rebuild the table for an AlterField, and with it lose the search triggers on cases."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0015_foreign_keys_indexed_by_composites'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='auditentry',
                    name='case',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='audit', to='cases.case'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "core_auditentry_case_id_60823c74"',
                    reverse_sql='CREATE INDEX "core_auditentry_case_id_60823c74" ON "core_auditentry" ("case_id")',
                ),
            ],
        ),
    ]
