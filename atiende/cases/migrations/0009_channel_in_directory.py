"""State only: the Channel model moved to the directory app; its table (`channels_channel`),
its rows and the foreign keys to it are unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0008_note_unverified_help_text'),
        ('directory', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='channel',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='directory.channel'),
                ),
                migrations.AlterField(
                    model_name='note',
                    name='channel',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='notes', to='directory.channel'),
                ),
            ],
            database_operations=[],
        ),
    ]
