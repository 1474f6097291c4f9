from django.conf import settings
from django.db import models

from atiende.core.construction import quick_init


@quick_init
class AuditEntry(models.Model):
    """Append-only record of every change a service makes: who, when, what, old -> new.

    Entries tied to a case also make up the case's timeline (status changes, assignments,
    escalations, SLA events), so `case` is indexed with the time.
    """

    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60)
    case = models.ForeignKey(  # indexed by (case, at, id) below, which starts with it
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit",
        db_index=False,
    )
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at", "id"]),
            models.Index(fields=["object_type", "object_id"]),
        ]
        verbose_name = "registro de auditoría"
        verbose_name_plural = "registros de auditoría"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit entries are append-only")
