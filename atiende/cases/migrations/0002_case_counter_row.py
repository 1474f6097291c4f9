from django.db import migrations


def create_counter(apps, schema_editor):
    apps.get_model("cases", "CaseCounter").objects.get_or_create(name="case", defaults={"value": 0})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(create_counter, migrations.RunPython.noop)]
