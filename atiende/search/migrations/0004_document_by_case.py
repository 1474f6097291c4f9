from django.db import migrations

# PostgreSQL: the search reads the newest cases first (search/selectors.py). The GIN index
# finds the matching documents in no order, and a common word (a surname) matches a
# hundred thousand of them at a million cases; with this index the planner walks the
# cases from the newest and stops at the page. SQLite's FTS5 table needs none: it reads
# its matches in document order.
SQL = "CREATE INDEX IF NOT EXISTS search_document_case ON search_document (case_id, id)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL)
        schema_editor.execute("ANALYZE search_document")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_document_case")


class Migration(migrations.Migration):
    dependencies = [("search", "0003_drop_queue_indexes")]
    operations = [migrations.RunPython(create, drop)]
