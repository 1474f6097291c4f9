"""State only: the Channel model moved to the directory app; its table (`channels_channel`),
its rows and the foreign keys to it are unchanged."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0003_channel_link_and_labels'),
        ('directory', '0001_initial'),
        ('cases', '0009_channel_in_directory'),
        ('channels_email', '0003_channel_in_directory'),
        ('channels_whatsapp', '0004_channel_in_directory'),
        ('phone', '0002_channel_in_directory'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='Channel',
                ),
            ],
            database_operations=[],
        ),
    ]
