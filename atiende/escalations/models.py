from django.conf import settings
from django.db import models
from django.db.models import F, Q


class EscalationLevel(models.Model):
    """One rung of the ladder (1..N, as configured; the reference has four): who is
    responsible and how to reach them."""

    number = models.PositiveSmallIntegerField(unique=True)
    name = models.CharField(max_length=200, help_text="p. ej. Primer escalamiento")
    title = models.CharField(max_length=200, help_text="p. ej. Grupo de soporte técnico")
    responsible_name = models.CharField(max_length=200, blank=True)
    contacts = models.JSONField(
        default=list, blank=True, help_text='[{"kind": "email", "value": "...", "label": "..."}]'
    )
    group = models.ForeignKey(
        "accounts.SupportGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_escalate_on_breach = models.BooleanField(default=False)

    class Meta:
        ordering = ["number"]
        verbose_name = "nivel de escalamiento"
        verbose_name_plural = "niveles de escalamiento"

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class Via(models.TextChoices):
    PORTAL = "portal", "Portal"
    API = "api", "API"
    EMAIL = "email", "Correo electrónico"
    WHATSAPP = "whatsapp", "WhatsApp"
    AGENT = "agent", "Agente"
    AUTO = "auto", "Automático (ANS vencido)"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pendiente de verificación"
    ACCEPTED = "accepted", "Aceptado"
    REJECTED = "rejected", "Rechazado"


class EscalationRequest(models.Model):
    """A request to move a case from level N to N+1, verified by the responsible of N+1.

    At most one request per case is pending: the partial unique constraint below is the
    guarantee (concurrent requests lose on it), not a check in Python.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="escalations")
    from_level = models.PositiveSmallIntegerField()
    to_level = models.PositiveSmallIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=10, choices=Via.choices)
    grounds = models.JSONField(
        default=list, blank=True, help_text="Por qué procedía: breach, reopened, agent."
    )
    reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    next_reminder_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="pending"),
                name="escalation_one_pending_per_case",
            ),
            models.CheckConstraint(
                condition=Q(to_level=F("from_level") + 1), name="escalation_one_level_up"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "to_level", "created_at"], name="escalation_queue"),
            models.Index(
                fields=["next_reminder_at"],
                name="escalation_reminder_due",
                condition=Q(next_reminder_at__isnull=False),
            ),
        ]
        verbose_name = "solicitud de escalamiento"
        verbose_name_plural = "solicitudes de escalamiento"

    def __str__(self) -> str:
        return f"{self.case} {self.from_level}→{self.to_level} ({self.status})"
