from django.db import models


class CannedAnswer(models.Model):
    """A text module an agent inserts in the composer ("respuesta predefinida"): data an
    admin edits, like the configuration's other texts. `{numero}`, `{contacto}`,
    `{asunto}`, `{agente}` and `{organizacion}` are replaced for the case at hand.

    `whatsapp_approved` marks a text that may go to a WhatsApp customer outside the
    24-hour window: it is sent as the body of the channel's approved "case updated"
    template (`template_note`), the only kind of message WhatsApp allows then."""

    slug = models.SlugField(unique=True)
    title = models.CharField("título", max_length=200)
    body = models.TextField("texto")
    whatsapp_approved = models.BooleanField(
        "aprobada para WhatsApp fuera de la ventana de 24 horas", default=False
    )
    active = models.BooleanField("activa", default=True)
    position = models.PositiveSmallIntegerField("orden", default=0)

    class Meta:
        ordering = ["position", "title", "id"]
        verbose_name = "respuesta predefinida"
        verbose_name_plural = "respuestas predefinidas"

    def __str__(self) -> str:
        return self.title
