from django.db import models
from django.db.models import Q

from atiende.core import deferred
from atiende.core.construction import quick_init


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pendiente"
    RUNNING = "running", "En curso"
    DONE = "done", "Hecho"
    FAILED = "failed", "Fallido (definitivo)"


@quick_init
class Job(models.Model):
    """A unit of background work: an inbound event to process or an outbound message to send.

    Written in the same transaction as the change that causes it; claimed by workers under
    a lease, so a worker that dies leaves its jobs to be taken up again when the lease ends.
    """

    kind = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    run_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=8)
    lease_until = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # Jobs with the same key run one at a time in id order: a later message of a
    # conversation waits while an earlier one waits to be retried (queue.claim).
    ordering_key = models.CharField(max_length=100, null=True, blank=True)
    # A temporary failure is retried until `max_attempts` AND this moment have passed, so
    # an outage of a peer longer than the backoff of `max_attempts` loses nothing.
    retry_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = deferred.Manager()  # rows may be written late: core/deferred.py

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["run_at", "id"], name="job_due", condition=Q(status="pending")),
            models.Index(fields=["lease_until"], name="job_lease", condition=Q(status="running")),
            models.Index(fields=["kind", "status"], name="job_kind"),
            models.Index(
                fields=["ordering_key", "id"],
                name="job_in_order",
                condition=Q(status__in=["pending", "running"], ordering_key__isnull=False),
            ),
        ]
        verbose_name = "trabajo"
        verbose_name_plural = "trabajos"

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class PeriodicTask(models.Model):
    """A recurring job (sweeps, polling). The lease makes it run on one worker at a time."""

    name = models.CharField(max_length=60, primary_key=True)
    interval_seconds = models.PositiveIntegerField()
    next_run_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=100, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    runs = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = "tarea periódica"
        verbose_name_plural = "tareas periódicas"

    def __str__(self) -> str:
        return self.name
