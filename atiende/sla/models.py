from django.db import models

from atiende.core import deferred
from atiende.core.construction import quick_init

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Schedule(models.Model):
    """Attention hours as data: weekly open intervals, a timezone and a holiday calendar."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="America/Bogota")
    always_open = models.BooleanField(default=False)
    weekly = models.JSONField(
        default=dict, blank=True, help_text='{"mon": ["07:00-19:00"], ..., "sat": ["08:00-13:00"]}'
    )
    holiday_country = models.CharField(max_length=8, blank=True, default="CO")
    closed_dates = models.JSONField(default=list, blank=True, help_text='["2026-12-24", ...]')
    special_openings = models.JSONField(
        default=dict, blank=True, help_text='{"2026-12-20": ["08:00-12:00"]}'
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = "horario"
        verbose_name_plural = "horarios"

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """First-response and resolution targets, in business seconds, per type and priority."""

    type = models.CharField(max_length=20)
    priority = models.CharField(max_length=20)
    first_response_seconds = models.PositiveIntegerField()
    resolution_seconds = models.PositiveIntegerField()
    schedule = models.ForeignKey(
        Schedule,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Horario propio de este objetivo (p. ej. 24x7); vacío = el del canal.",
    )

    class Meta:
        ordering = ["type", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["type", "priority"], name="sla_target_unique")
        ]
        verbose_name = "objetivo de ANS"
        verbose_name_plural = "objetivos de ANS"

    def __str__(self) -> str:
        return f"{self.type}/{self.priority}"


class TimerKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "Primera respuesta"
    RESOLUTION = "resolution", "Resolución"


@quick_init
class SlaTimer(models.Model):
    """One SLA clock of a case.

    `due_at = add(started_at, target_seconds + paused_seconds)` on the case's schedule, where
    `pauses` are the [from, to) intervals the clock stood still (awaiting_info, resolved
    before a reopening). `next_check_at` is the next instant the sweep must look at this
    timer (when it becomes at risk, then when it falls due); it is null when nothing can
    happen (met, paused, breached, or the case is finished), so the sweep reads only an
    index of timers that are due.

    `case_active` mirrors whether the case is active (new, open, awaiting the customer);
    `on_status_change` keeps it in step. It is copied here so the console's "at risk" and
    "breached" queues are read from small partial indexes of the clocks of active cases,
    ordered by due instant, without joining a million cases (console/selectors.py).
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="sla_timers")
    kind = models.CharField(max_length=20, choices=TimerKind.choices)
    schedule = models.CharField(max_length=50)
    level = models.PositiveSmallIntegerField(default=1)
    target_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    at_risk_at = models.DateTimeField()
    pauses = models.JSONField(default=list, blank=True)
    paused_seconds = models.PositiveBigIntegerField(default=0)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    at_risk_flagged_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    case_active = models.BooleanField(default=True)

    objects = deferred.Manager()  # rows may be written late: core/deferred.py

    class Meta:
        ordering = ["case", "kind"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="sla_timer_unique")]
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="sla_timer_next_check",
                condition=models.Q(next_check_at__isnull=False),
            ),
            # The console's queues (console/selectors.py). Their conditions are plain column
            # terms (no parameters), so SQLite's planner can match a query to them as well.
            # "At risk": running clocks the sweep flagged, by due instant.
            models.Index(
                fields=["due_at", "case", "at_risk_at"],
                name="sla_timer_at_risk",
                condition=models.Q(
                    case_active=True,
                    next_check_at__isnull=False,
                    at_risk_flagged_at__isnull=False,
                ),
            ),
            # "Breached": recorded breaches of active cases, by due instant.
            models.Index(
                fields=["due_at", "case"],
                name="sla_timer_breached",
                condition=models.Q(case_active=True, breached_at__isnull=False),
            ),
        ]
        verbose_name = "reloj de ANS"
        verbose_name_plural = "relojes de ANS"

    def __str__(self) -> str:
        return f"{self.case_id}/{self.kind}"

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None
