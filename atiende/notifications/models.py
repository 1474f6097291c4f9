from django.conf import settings
from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    ASSIGNED = "assigned", "Caso asignado"
    CUSTOMER_ANSWERED = "customer_answered", "Respuesta del cliente"
    MENTIONED = "mentioned", "Mención en una nota interna"
    ESCALATION = "escalation", "Escalamiento por verificar"
    AT_RISK = "at_risk", "Caso en riesgo de vencer"
    BREACHED = "breached", "ANS vencido"


class Notification(models.Model):
    """Something an agent should know about, shown by the console's bell until read."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.CharField(max_length=500)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at", "id"], name="agent_notification_user"),
            # The bell counts a user's unread ones every few seconds: only those are indexed.
            models.Index(
                fields=["user", "created_at"],
                name="agent_notification_unread",
                condition=Q(read_at__isnull=True),
            ),
        ]
        verbose_name = "notificación de agente"
        verbose_name_plural = "notificaciones de agentes"

    def __str__(self) -> str:
        return self.text


class Preference(models.Model):
    """Which notifications also go by email to an agent (none unless they ask)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email_kinds = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "preferencia de notificación"
        verbose_name_plural = "preferencias de notificación"

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.email_kinds) or 'sin correo'}"


class PresenceState(models.TextChoices):
    VIEWING = "viewing", "Viendo"
    WRITING = "writing", "Escribiendo"


class Presence(models.Model):
    """An agent on a case page: refreshed by the page's heartbeat; stale after a few seconds."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=PresenceState.choices)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="presence_case_user"),
        ]
        indexes = [models.Index(fields=["case", "seen_at"], name="presence_case_seen")]
        verbose_name = "presencia en un caso"
        verbose_name_plural = "presencias en casos"

    def __str__(self) -> str:
        return f"{self.user_id} {self.state} {self.case_id}"
