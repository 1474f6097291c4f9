"""Roll-ups the reports read: one row of figures per case, and contacts per channel, day and
hour. The worker keeps them (`services.refresh`); `selectors.direct_*` count the same
things from the live tables, and the tests check that both agree."""

from django.db import models


class TimerState(models.TextChoices):
    MET = "met", "Cumplido"
    BREACHED = "breached", "Incumplido"
    PENDING = "pending", "En curso o detenido"
    NONE = "none", "Sin ANS"


class CaseFigures(models.Model):
    """A case as the reports count it: its dimensions, the state of its two SLA clocks and
    the business seconds each took (met or breached late). `created_day` is the local
    (America/Bogota) date the case was opened."""

    case = models.OneToOneField(
        "cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    created_day = models.DateField()
    channel = models.ForeignKey("directory.Channel", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=20)
    priority = models.CharField(max_length=20)
    level = models.PositiveSmallIntegerField()
    organization = models.ForeignKey(
        "customers.Organization", null=True, on_delete=models.CASCADE, related_name="+"
    )
    assignee = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(help_text="Abierto (nuevo, abierto o en espera).")
    fr_state = models.CharField(max_length=10, choices=TimerState.choices)
    res_state = models.CharField(max_length=10, choices=TimerState.choices)
    fr_seconds = models.PositiveIntegerField(null=True)
    res_seconds = models.PositiveIntegerField(null=True)
    # The histogram buckets of the two times (`reports.histogram`), for the percentiles.
    fr_bucket = models.PositiveSmallIntegerField(null=True)
    res_bucket = models.PositiveSmallIntegerField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["created_day"], name="figures_day"),
            models.Index(fields=["organization", "created_day"], name="figures_org_day"),
            models.Index(fields=["channel", "created_day"], name="figures_channel_day"),
            # The refresh re-reads every open case: its clocks can still change without the
            # case being saved (a breach by the sweep). A finished case's clocks cannot.
            models.Index(fields=["case"], name="figures_live", condition=models.Q(active=True)),
        ]
        verbose_name = "cifras de un caso"
        verbose_name_plural = "cifras de casos"

    def __str__(self) -> str:
        return f"{self.case_id} {self.created_day}"


class ContactHour(models.Model):
    """How many customers wrote or called a channel on a local day and hour, and how many
    of them while its attention hours were closed."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    channel = models.ForeignKey("directory.Channel", on_delete=models.CASCADE, related_name="+")
    contacts = models.PositiveIntegerField()
    out_of_hours = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "channel", "hour"], name="contact_hour_once")
        ]
        verbose_name = "contactos por hora"
        verbose_name_plural = "contactos por hora"

    def __str__(self) -> str:
        return f"{self.channel_id} {self.day} {self.hour}h"


class RefreshState(models.Model):
    """Where the last refresh got to: the instant its reads started (the next one reads
    from there, minus a margin)."""

    name = models.CharField(max_length=40, primary_key=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = "actualización de informes"
        verbose_name_plural = "actualizaciones de informes"

    def __str__(self) -> str:
        return f"{self.name} {self.refreshed_at}"


class SlaDay(models.Model):
    """SLA clock states of the cases opened on a local day, per channel, type, priority and
    level: the per-case figures summed (no organization: a report for one organization
    reads the per-case figures through their organization index)."""

    day = models.DateField()
    channel = models.ForeignKey("directory.Channel", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=20)
    priority = models.CharField(max_length=20)
    level = models.PositiveSmallIntegerField()
    cases = models.PositiveIntegerField()
    fr_met = models.PositiveIntegerField()
    fr_breached = models.PositiveIntegerField()
    fr_pending = models.PositiveIntegerField()
    res_met = models.PositiveIntegerField()
    res_breached = models.PositiveIntegerField()
    res_pending = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="sla_day")]
        verbose_name = "ANS por día"
        verbose_name_plural = "ANS por día"

    def __str__(self) -> str:
        return f"{self.day} {self.channel_id} {self.type}/{self.priority}/{self.level}"


class OrganizationDay(models.Model):
    """Cases each organization opened on a local day, and how many of them are still open."""

    day = models.DateField()
    organization = models.ForeignKey(
        "customers.Organization", null=True, on_delete=models.CASCADE, related_name="+"
    )
    cases = models.PositiveIntegerField()
    open = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="organization_day")]
        verbose_name = "casos por organización y día"
        verbose_name_plural = "casos por organización y día"

    def __str__(self) -> str:
        return f"{self.day} {self.organization_id}"


class TimeKind(models.TextChoices):
    FIRST_RESPONSE = "fr", "Primera respuesta"
    RESOLUTION = "res", "Resolución"


class TimeMonth(models.Model):
    """How many of the cases opened in a local month, per channel and type, took a first
    response (or a resolution) within each histogram bucket (`reports.histogram`): the
    medians and p90s of a range read whole months here and the days at its edges from the
    per-case figures."""

    month = models.DateField(help_text="El primer día del mes.")
    channel = models.ForeignKey("directory.Channel", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=20)
    kind = models.CharField(max_length=3, choices=TimeKind.choices)
    bucket = models.PositiveSmallIntegerField()
    cases = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month"], name="time_month")]
        verbose_name = "tiempos por mes"
        verbose_name_plural = "tiempos por mes"

    def __str__(self) -> str:
        return f"{self.month} {self.channel_id} {self.type} {self.kind} #{self.bucket}"


class MissedCallDay(models.Model):
    """The missed calls of a local day per line and organization, by the histogram bucket
    of their business time to the callback (`bucket` null: not called back within the
    window)."""

    day = models.DateField()
    channel = models.ForeignKey("directory.Channel", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        "customers.Organization", null=True, on_delete=models.CASCADE, related_name="+"
    )
    bucket = models.PositiveSmallIntegerField(null=True)
    calls = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="missed_call_day")]
        verbose_name = "llamadas perdidas por día"
        verbose_name_plural = "llamadas perdidas por día"

    def __str__(self) -> str:
        return f"{self.day} {self.channel_id} #{self.bucket}"
