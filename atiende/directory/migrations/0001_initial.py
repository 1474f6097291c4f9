"""The Channel model moves here from the channels app; its table stays `channels_channel`.

State only: the table, its rows and the foreign keys to it are untouched. The content type
follows the model, so admin history and permissions keep pointing at it.
"""

from django.db import migrations, models


def move_content_type(apps, schema_editor, old="channels", new="directory"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    moved = ContentType.objects.using(db).filter(app_label=old, model="channel")
    if moved.exists():
        # One created for the new label by an earlier partial run would clash: drop it.
        ContentType.objects.using(db).filter(app_label=new, model="channel").delete()
        moved.update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="directory", new="channels")


KINDS = [
    ("phone", "Teléfono"),
    ("email", "Correo electrónico"),
    ("whatsapp", "WhatsApp"),
    ("portal", "Portal de autogestión"),
    ("api", "API"),
    ("internal", "Interno"),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("channels", "0003_channel_link_and_labels"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Channel",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("slug", models.SlugField(unique=True, verbose_name="identificador")),
                        ("kind", models.CharField(choices=KINDS, max_length=20, verbose_name="tipo")),
                        ("name", models.CharField(max_length=200, verbose_name="nombre")),
                        ("address", models.CharField(blank=True, max_length=200, verbose_name="dirección o número")),
                        ("display_address", models.CharField(blank=True, max_length=200, verbose_name="dirección como se muestra")),
                        ("link", models.CharField(blank=True, max_length=300, verbose_name="enlace")),
                        ("description", models.TextField(blank=True, verbose_name="descripción")),
                        ("attends", models.JSONField(blank=True, default=list, verbose_name="solicitudes que atiende")),
                        ("attends_label", models.CharField(blank=True, max_length=200, verbose_name="tipos de solicitudes (texto)")),
                        ("hours", models.JSONField(default=list, verbose_name="horarios por tipo de solicitud")),
                        ("settings", models.JSONField(blank=True, default=dict, verbose_name="ajustes del canal")),
                        ("public", models.BooleanField(default=True, help_text="Se muestra en la página «Canales de atención».", verbose_name="público")),
                        ("position", models.PositiveIntegerField(default=0, verbose_name="posición")),
                        ("active", models.BooleanField(default=True, verbose_name="activo")),
                    ],
                    options={
                        "verbose_name": "canal",
                        "verbose_name_plural": "canales",
                        "db_table": "channels_channel",
                        "ordering": ["position", "slug"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
