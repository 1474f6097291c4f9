"""The canned answers atiende ships with (an admin edits or adds more)."""

from django.db import migrations

DEFAULTS = [
    (
        "saludo",
        "Saludo",
        "Buen día, {contacto}. Gracias por comunicarse con la mesa de ayuda; estamos revisando "
        "su caso {numero}.",
        True,
    ),
    (
        "solicitar-informacion",
        "Solicitar información",
        "{contacto}, para avanzar con el caso {numero} necesitamos más información: ",
        False,
    ),
    (
        "solucion-aplicada",
        "Solución aplicada",
        "{contacto}, aplicamos la solución del caso {numero} ({asunto}). Por favor confírmenos "
        "si todo funciona correctamente.",
        True,
    ),
    (
        "seguimiento",
        "Seguimiento",
        "{contacto}, su caso {numero} sigue en curso. Le escribiremos en cuanto tengamos "
        "novedades.",
        True,
    ),
]


def add(apps, schema_editor):
    CannedAnswer = apps.get_model("console_canned", "CannedAnswer")
    for position, (slug, title, body, approved) in enumerate(DEFAULTS):
        CannedAnswer.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "body": body,
                "whatsapp_approved": approved,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("console_canned", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
