from django.db import models

from atiende.core.construction import quick_init
from atiende.directory.models import ChannelKind


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pendiente"
    SENT = "sent", "Enviada"
    FAILED = "failed", "Fallida"


@quick_init
class Notification(models.Model):
    """A message to a person about a case event (breach, escalation, page), sent through
    the sender of its kind (email, WhatsApp) by the worker; its state is visible to staff."""

    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=60)
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    address = models.CharField(max_length=255)
    name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    template = models.CharField(
        max_length=100, blank=True, help_text="Plantilla (WhatsApp) a usar, si aplica."
    )
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    error = models.TextField(blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "created_at"], name="notification_case")]
        verbose_name = "notificación"
        verbose_name_plural = "notificaciones"

    def __str__(self) -> str:
        return f"{self.event} → {self.address}"
