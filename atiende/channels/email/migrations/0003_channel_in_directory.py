"""State only: the Channel model moved to the directory app; its table (`channels_channel`),
its rows and the foreign keys to it are unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels_email', '0002_sent_email'),
        ('directory', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                # The proxy's base moves with it (no table of its own).
                migrations.DeleteModel(name='EmailChannel'),
                migrations.CreateModel(
                    name='EmailChannel',
                    fields=[],
                    options={
                        'verbose_name': 'buzón de correo',
                        'verbose_name_plural': 'buzones de correo',
                        'proxy': True,
                        'indexes': [],
                        'constraints': [],
                    },
                    bases=('directory.channel',),
                ),
                migrations.AlterField(
                    model_name='mailboxstate',
                    name='channel',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.channel'),
                ),
                migrations.AlterField(
                    model_name='quarantinedemail',
                    name='channel',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.channel'),
                ),
                migrations.AlterField(
                    model_name='receivedemail',
                    name='channel',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.channel'),
                ),
            ],
            database_operations=[],
        ),
    ]
