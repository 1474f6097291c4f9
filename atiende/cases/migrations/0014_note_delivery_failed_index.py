from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_console_filter_indexes"),
        ("customers", "0002_contact_whatsapp_user_id"),
        ("directory", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="note",
            index=models.Index(
                condition=models.Q(("delivery_status", "failed"), ("direction", "outbound")),
                fields=["channel"],
                name="note_delivery_failed",
            ),
        ),
    ]
