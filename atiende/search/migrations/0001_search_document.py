from django.db import migrations

from atiende.search import schema


def create(apps, schema_editor):
    schema.create(schema_editor)


def drop(apps, schema_editor):
    schema.drop(schema_editor)


class Migration(migrations.Migration):
    """The search index and the triggers that keep it current (see search/schema.py).
    Nothing here is a Django model: the table's shape differs per database."""

    dependencies = [
        ("cases", "0008_note_unverified_help_text"),
        ("customers", "0002_contact_whatsapp_user_id"),
    ]
    operations = [migrations.RunPython(create, drop)]
