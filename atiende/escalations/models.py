from django.db import models


class EscalationLevel(models.Model):
    """One rung of the ladder (1–4): who is responsible and how to reach them."""

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
