"""The call log: one `Call` per PBX call session, the events that built it, the numbers
the lines refuse, and the agents' extensions and phones (how a PBX names an agent)."""

from django.conf import settings
from django.db import models

from atiende.core.construction import quick_init


class Direction(models.TextChoices):
    IN = "in", "Entrante"
    OUT = "out", "Saliente"


class CallState(models.TextChoices):
    RINGING = "ringing", "Timbrando"
    ANSWERED = "answered", "Contestada"
    ENDED = "ended", "Terminada"


@quick_init
class Call(models.Model):
    """A call on a phone line, built from the PBX's `newCall`, `answer` and `hangup` events
    in whatever order they arrive (see services.apply_event)."""

    channel = models.ForeignKey("directory.Channel", on_delete=models.PROTECT, related_name="calls")
    call_id = models.CharField("identificador de la llamada en la central", max_length=250)
    direction = models.CharField("dirección", max_length=3, choices=Direction.choices)
    from_raw = models.CharField("de (como llegó)", max_length=100, blank=True)
    to_raw = models.CharField("a (como llegó)", max_length=100, blank=True)
    from_e164 = models.CharField("de (E.164)", max_length=20, blank=True)
    to_e164 = models.CharField("a (E.164)", max_length=20, blank=True)
    # The customer's side: `from` of an inbound call, `to` of an outbound one.
    caller_e164 = models.CharField("número del cliente", max_length=20, blank=True, db_index=True)
    anonymous = models.BooleanField("número oculto", default=False)
    queue = models.CharField("cola", max_length=200, blank=True)
    agent_names = models.JSONField("agentes nombrados por la central", default=list, blank=True)
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name="agentes timbrados"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        verbose_name="agente que atendió",
    )
    answering_number = models.CharField("número que contestó", max_length=100, blank=True)
    state = models.CharField(
        "estado", max_length=10, choices=CallState.choices, default=CallState.RINGING
    )
    cause = models.CharField("causa", max_length=30, blank=True)
    missed = models.BooleanField("perdida", default=False)
    out_of_hours = models.BooleanField("fuera de horario", default=False)
    started_at = models.DateTimeField("inicio")
    answered_at = models.DateTimeField("contestada", null=True, blank=True)
    ended_at = models.DateTimeField("terminada", null=True, blank=True)
    duration_seconds = models.PositiveIntegerField("duración (s)", null=True, blank=True)
    contacts = models.ManyToManyField(
        "customers.Contact", blank=True, related_name="+", verbose_name="contactos reconocidos"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        verbose_name="contacto",
    )
    organization = models.ForeignKey(
        "customers.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        verbose_name="organización",
    )
    ambiguous = models.BooleanField("varios contactos con este número", default=False)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    # Whose agents the call notifies while it rings: the support group the PBX's queue names,
    # else the line's `group` setting; none: every agent (selectors.calls_for_agent).
    group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="grupo que atiende",
    )
    callback = models.BooleanField("devolución de llamada abierta", default=False)
    # "Marcar como atendida": someone dealt with the missed call (or its callback).
    done_at = models.DateTimeField("atendida", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="atendida por",
    )
    voicemail = models.BooleanField("buzón de voz", default=False)
    # http(s) only: the webhook checks it (inbound.py)
    recording_url = models.CharField(
        "grabación o buzón (solo agentes)", max_length=1000, blank=True
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "call_id"], name="call_unique_per_line")
        ]
        indexes = [
            models.Index(fields=["started_at", "id"], name="call_started"),
            models.Index(fields=["state", "started_at"], name="call_state"),
            # the live screen pop: the calls an agent answered, polled every few seconds
            models.Index(fields=["agent", "state", "ended_at"], name="call_agent_live"),
        ]
        verbose_name = "llamada"
        verbose_name_plural = "llamadas"

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.from_raw} → {self.to_raw} ({self.state})"


@quick_init
class CallEvent(models.Model):
    """One PBX event as it was received: the unique (line, call id, event) is what makes
    processing exactly once, however often the PBX sends it."""

    channel = models.ForeignKey("directory.Channel", on_delete=models.PROTECT, related_name="+")
    pbx_call_id = models.CharField(max_length=250)
    event = models.CharField(max_length=10)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "pbx_call_id", "event"], name="call_event_once"
            )
        ]
        verbose_name = "evento de llamada"
        verbose_name_plural = "eventos de llamada"

    def __str__(self) -> str:
        return f"{self.event} {self.pbx_call_id}"


class BlockedNumber(models.Model):
    """A caller the lines refuse: `newCall` from it answers `reject` (the PBX plays busy).
    Without a line it applies to every line."""

    number = models.CharField(
        "número",
        max_length=100,
        help_text="Como se escriba (se guarda en E.164), o «anonymous» para los números ocultos.",
    )
    channel = models.ForeignKey(
        "directory.Channel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="línea",
        help_text="Vacío: todas las líneas.",
    )
    reason = models.CharField("motivo", max_length=300, blank=True)
    created_at = models.DateTimeField("creado", auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["number", "channel"], name="blocked_number_once")
        ]
        verbose_name = "número bloqueado"
        verbose_name_plural = "números bloqueados"

    def __str__(self) -> str:
        return self.number


class AgentPhone(models.Model):
    """How the PBX knows an agent: an extension and/or a phone number (`answeringNumber`)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="phone_profile",
        verbose_name="agente",
    )
    extension = models.CharField("extensión", max_length=20, blank=True, db_index=True)
    phone = models.CharField("teléfono (E.164)", max_length=20, blank=True, db_index=True)

    class Meta:
        verbose_name = "teléfono de agente"
        verbose_name_plural = "teléfonos de agentes"

    def __str__(self) -> str:
        return f"{self.user} ({self.extension or self.phone})"
