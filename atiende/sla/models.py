from django.db import models

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
        constraints = [models.UniqueConstraint(fields=["type", "priority"], name="sla_target_unique")]
        verbose_name = "objetivo de ANS"
        verbose_name_plural = "objetivos de ANS"

    def __str__(self) -> str:
        return f"{self.type}/{self.priority}"
