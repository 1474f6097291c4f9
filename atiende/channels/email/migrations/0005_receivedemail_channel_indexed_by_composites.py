"""Foreign keys whose own index duplicates the start of a composite one lose it: one
B-tree less to write per row (issue 17). Only the index goes: SQLite would otherwise
rebuild the table for an AlterField, and with it lose the search triggers on cases."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels_email', '0004_quarantine_envelope_sender'),
        ('directory', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='receivedemail',
                    name='channel',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.channel'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "channels_email_receivedemail_channel_id_d1bf0727"',
                    reverse_sql='CREATE INDEX "channels_email_receivedemail_channel_id_d1bf0727" ON "channels_email_receivedemail" ("channel_id")',
                ),
            ],
        ),
    ]
