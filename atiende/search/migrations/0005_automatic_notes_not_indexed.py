from django.db import migrations

from atiende.search import schema


def forward(apps, schema_editor):
    schema.note_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    """Automatic notes (acknowledgements, status notices) leave the search index: see
    search/schema.py. Reverting it changes nothing: automatic notes stay out of the index
    (their text is still in the notes; nothing else depends on their documents)."""

    dependencies = [("search", "0004_document_by_case")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
