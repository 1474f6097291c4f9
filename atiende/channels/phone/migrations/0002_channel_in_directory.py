"""State only: the Channel model moved to the directory app; its table (`channels_channel`),
its rows and the foreign keys to it are unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('phone', '0001_call_log'),
        ('directory', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='call',
                    name='channel',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='calls', to='directory.channel'),
                ),
                migrations.AlterField(
                    model_name='callevent',
                    name='channel',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.channel'),
                ),
                migrations.AlterField(
                    model_name='blockednumber',
                    name='channel',
                    field=models.ForeignKey(blank=True, help_text='Vacío: todas las líneas.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.channel', verbose_name='línea'),
                ),
            ],
            database_operations=[],
        ),
    ]
