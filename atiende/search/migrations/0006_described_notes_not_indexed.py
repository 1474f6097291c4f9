from django.db import migrations

from atiende.search import schema


def forward(apps, schema_editor):
    schema.replace_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    """A note whose text is its case's description is not indexed on its own: the case's
    document holds every word of it (see search/schema.py). Reverting it changes nothing
    searches find: such notes stay out of the index until the description changes."""

    dependencies = [("search", "0005_automatic_notes_not_indexed")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
