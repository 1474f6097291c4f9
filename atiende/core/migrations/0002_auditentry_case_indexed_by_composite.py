"""The audit entry's case loses its own index: (case, at, id) starts with it (issue 17;
core/migration_ops.py)."""

import django.db.models.deletion
from django.db import migrations, models

from atiende.core.migration_ops import drop_own_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0015_foreign_keys_indexed_by_composites'),
        ('core', '0001_initial'),
    ]

    operations = [
        drop_own_indexes(
            [
                migrations.AlterField(
                    model_name='auditentry',
                    name='case',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='audit', to='cases.case'),
                ),
            ],
            [
                ("core_auditentry_case_id_60823c74", "core_auditentry", "case_id"),
            ],
        ),
    ]
