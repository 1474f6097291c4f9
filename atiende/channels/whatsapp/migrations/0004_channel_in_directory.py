"""State only: the Channel model moved to the directory app; its table (`channels_channel`),
its rows and the foreign keys to it are unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels_whatsapp', '0003_conversation_step_and_held_messages'),
        ('directory', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='conversation',
                    name='channel',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.channel'),
                ),
                migrations.AlterField(
                    model_name='heldmessage',
                    name='channel',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.channel'),
                ),
                migrations.AlterField(
                    model_name='processedmessage',
                    name='channel',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.channel'),
                ),
            ],
            database_operations=[],
        ),
    ]
