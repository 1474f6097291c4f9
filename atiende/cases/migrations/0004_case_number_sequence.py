from django.db import migrations

SEQUENCE = "cases_case_number_seq"


def create_sequence(apps, schema_editor):
    """On PostgreSQL, case numbers come from a sequence (no lock held until commit); it
    starts after the counter row's value so existing numbers are never reused."""
    if schema_editor.connection.vendor != "postgresql":
        return
    counter = apps.get_model("cases", "CaseCounter").objects.filter(name="case").first()
    start = (counter.value if counter else 0) + 1
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START WITH {start} MINVALUE 1")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_note_unverified")]
    operations = [migrations.RunPython(create_sequence, drop_sequence)]
