from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels_email', '0003_channel_in_directory'),
    ]

    operations = [
        migrations.AddField(
            model_name='quarantinedemail',
            name='envelope_sender',
            field=models.CharField(blank=True, max_length=300, null=True, verbose_name='remitente del sobre'),
        ),
    ]
