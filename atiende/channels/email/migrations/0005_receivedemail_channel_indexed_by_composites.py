"""The received mail's channel loses its own index: the unique (channel, external_id) and
received_email_mid start with it (issue 17; core/migration_ops.py)."""

import django.db.models.deletion
from django.db import migrations, models

from atiende.core.migration_ops import drop_own_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('channels_email', '0004_quarantine_envelope_sender'),
        ('directory', '0001_initial'),
    ]

    operations = [
        drop_own_indexes(
            [
                migrations.AlterField(
                    model_name='receivedemail',
                    name='channel',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.channel'),
                ),
            ],
            [
                ("channels_email_receivedemail_channel_id_d1bf0727", "channels_email_receivedemail", "channel_id"),
            ],
        ),
    ]
