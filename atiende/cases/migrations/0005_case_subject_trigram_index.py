from django.db import migrations

INDEX = "case_subject_trgm"


def create_index(apps, schema_editor):
    """On PostgreSQL, text search over subjects (`q=`, a case-insensitive substring) uses a
    trigram index instead of scanning every case. The expression matches what Django
    generates for `icontains`: UPPER(subject::text)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON cases_case USING gin ((UPPER(subject::text)) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_case_number_sequence")]
    operations = [migrations.RunPython(create_index, drop_index)]
