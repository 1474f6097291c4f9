"""The channel directory: the configured ways in and the rules for what each attends when."""

from django.db import models


class ChannelKind(models.TextChoices):
    PHONE = "phone", "Teléfono"
    EMAIL = "email", "Correo electrónico"
    WHATSAPP = "whatsapp", "WhatsApp"
    PORTAL = "portal", "Portal de autogestión"
    API = "api", "API"
    INTERNAL = "internal", "Interno"


class Channel(models.Model):
    """A configured way in: a phone line, a mailbox, a WhatsApp number, the portal.

    `attends` says which requests it takes ("all" or a list of {type, priority});
    `hours` says which schedule applies to which kind of request, first match wins:
    [{"when": {"type": "incident"}, "schedule": "24x7", "label": "..."}, {"schedule": "horario-habil"}].
    `settings` holds channel-specific options; secrets appear only as names of
    environment variables (keys ending in `_env`).
    """

    slug = models.SlugField("identificador", unique=True)
    kind = models.CharField("tipo", max_length=20, choices=ChannelKind.choices)
    name = models.CharField("nombre", max_length=200)
    address = models.CharField("dirección o número", max_length=200, blank=True)
    display_address = models.CharField("dirección como se muestra", max_length=200, blank=True)
    # An absolute URL (https://wa.me/...) or a path on this site (/portal/); the loader checks it.
    link = models.CharField("enlace", max_length=300, blank=True)
    description = models.TextField("descripción", blank=True)
    attends = models.JSONField("solicitudes que atiende", default=list, blank=True)
    attends_label = models.CharField("tipos de solicitudes (texto)", max_length=200, blank=True)
    hours = models.JSONField("horarios por tipo de solicitud", default=list)
    settings = models.JSONField("ajustes del canal", default=dict, blank=True)
    public = models.BooleanField(
        "público", default=True, help_text="Se muestra en la página «Canales de atención»."
    )
    position = models.PositiveIntegerField("posición", default=0)
    active = models.BooleanField("activo", default=True)

    class Meta:
        db_table = "channels_channel"  # the table it had in the channels app
        ordering = ["position", "slug"]
        verbose_name = "canal"
        verbose_name_plural = "canales"

    def __str__(self) -> str:
        return self.name

    def attends_request(self, type: str, priority: str) -> bool:
        if self.attends == "all" or not self.attends:
            return True
        return any(
            rule.get("type") in (None, type) and rule.get("priority") in (None, priority)
            for rule in self.attends
        )

    def hours_rule_for(self, type: str, priority: str) -> dict:
        for rule in self.hours:
            when = rule.get("when") or {}
            if when.get("type") in (None, type) and when.get("priority") in (None, priority):
                return rule
        return self.hours[-1] if self.hours else {}

    def schedule_slug_for(self, type: str, priority: str) -> str | None:
        return self.hours_rule_for(type, priority).get("schedule")
