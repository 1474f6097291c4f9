from django.conf import settings
from django.db import models
from django.db.models import Q

from atiende.cases.statuses import Status
from atiende.core import deferred
from atiende.core.construction import quick_init


class CaseType(models.TextChoices):
    REQUEST = "request", "Requerimiento"
    CHANGE = "change", "Cambio"
    INCIDENT = "incident", "Incidente"


class Priority(models.TextChoices):
    CRITICAL = "critical", "Crítica"
    HIGH = "high", "Alta"
    MODERATE = "moderate", "Media"
    LOW = "low", "Baja"


# The active statuses in a fixed order: partial indexes and the console's queries spell
# `status IN (...)` the same way (statuses.ACTIVE is a set, without an order).
ACTIVE_STATUSES = ("new", "open", "awaiting_info")
PRIORITY_RANK = {"critical": 0, "high": 1, "moderate": 2, "low": 3}


class Classification(models.TextChoices):
    PUBLIC = "public", "Público"
    INTERNAL = "internal", "Uso interno"
    CONFIDENTIAL = "confidential", "Confidencial"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Comentario (visible al cliente)"
    INTERNAL = "internal", "Nota de trabajo (interna)"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Entrante"
    OUTBOUND = "outbound", "Saliente"
    INTERNAL = "internal", "Interna"


class Delivery(models.TextChoices):
    PENDING = "pending", "Pendiente"
    SENT = "sent", "Enviado"
    DELIVERED = "delivered", "Entregado"
    READ = "read", "Leído"
    FAILED = "failed", "Fallido"


class CaseCounter(models.Model):
    """The source of case numbers: incremented inside the transaction that creates the case."""

    name = models.CharField(max_length=20, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


@quick_init
class Case(models.Model):
    number = models.CharField(max_length=12, unique=True)
    type = models.CharField(max_length=20, choices=CaseType.choices)
    priority = models.CharField(max_length=20, choices=Priority.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    level = models.PositiveSmallIntegerField(default=1)
    # channel, organization, requester, assignee and group have no index of their own: an
    # index of Meta.indexes starts with each (case_channel, case_org, …), one B-tree less
    # per row written (issue 17)
    channel = models.ForeignKey(
        "directory.Channel", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    organization = models.ForeignKey(
        "customers.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    requester = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,
    )
    group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,
    )
    classification = models.CharField(
        max_length=20, choices=Classification.choices, default=Classification.INTERNAL
    )
    subject = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # A duplicate merged into another case: closed, pointing at the case that survives
    # (cases/merging.py). New answers go there.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases"
    )
    # A case that is part of a major incident: the parent case that answers for all of
    # them (cases/incidents.py).
    parent_incident = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="incident_cases"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="case_created"),
            models.Index(fields=["updated_at", "id"], name="case_updated"),
            models.Index(fields=["status", "created_at", "id"], name="case_status"),
            models.Index(fields=["organization", "created_at", "id"], name="case_org"),
            models.Index(fields=["assignee", "status", "created_at"], name="case_assignee"),
            models.Index(fields=["type", "priority", "created_at"], name="case_type_prio"),
            models.Index(fields=["channel", "created_at"], name="case_channel"),
            models.Index(fields=["level", "created_at"], name="case_level"),
            models.Index(fields=["group", "status", "created_at"], name="case_group"),
            models.Index(fields=["requester", "created_at"], name="case_requester"),
            # The console's queues filtered by one column, by last activity (the default
            # sort): the page is the first entries of one index, not a sort of every
            # matching case (20,000 critical incidents took SQLite 80-105 ms to sort at a
            # million cases). Other filters are checked along the walk.
            models.Index(fields=["status", "updated_at", "id"], name="case_status_updated"),
            models.Index(
                fields=["type", "priority", "updated_at", "id"], name="case_type_prio_updated"
            ),
            models.Index(fields=["level", "updated_at", "id"], name="case_level_updated"),
            models.Index(fields=["channel", "updated_at", "id"], name="case_channel_updated"),
            models.Index(fields=["organization", "updated_at", "id"], name="case_org_updated"),
            # The console's queues of active cases by last activity (console/selectors.py,
            # which writes the same conditions as literals so SQLite's planner matches them).
            models.Index(
                fields=["assignee", "updated_at", "id"],
                name="case_active_assignee",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            models.Index(
                fields=["group", "updated_at", "id"],
                name="case_active_unassigned",
                condition=Q(status__in=ACTIVE_STATUSES, assignee__isnull=True),
            ),
            models.Index(
                fields=["updated_at", "id"],
                name="case_active_critical",
                condition=Q(status__in=ACTIVE_STATUSES, type="incident", priority="critical"),
            ),
            models.Index(
                fields=["updated_at", "id"],
                name="case_awaiting",
                condition=Q(status="awaiting_info"),
            ),
        ]
        constraints = [
            # The configured ladder sets the top (the reference has four levels).
            models.CheckConstraint(condition=Q(level__gte=1), name="case_level_positive"),
        ]
        verbose_name = "caso"
        verbose_name_plural = "casos"

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


@quick_init
class Note(models.Model):
    # Set by cases.services.add_note, not stored: whether that call wrote this row (False:
    # the same external message was already there and this is it).
    created: bool

    # indexed by note_case, which starts with it
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes", db_index=False)
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.ForeignKey(
        "directory.Channel", null=True, blank=True, on_delete=models.PROTECT, related_name="notes"
    )
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    delivery_status = models.CharField(
        max_length=12, choices=Delivery.choices, null=True, blank=True
    )
    delivery_error = models.TextField(blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    automatic = models.BooleanField(default=False)
    unverified = models.BooleanField(
        default=False,
        help_text="Remitente no verificado: llegó de alguien que no es conocido en el caso; queda "
        "interna, sin mover el caso, hasta que un agente la confirme.",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at", "id"], name="note_case"),
            # Email intake counts a channel's automatic answers of the last hour (rate limit).
            models.Index(
                fields=["channel", "created_at"],
                name="note_automatic_recent",
                condition=Q(automatic=True),
            ),
            # /metrics counts the messages to customers whose delivery failed for good.
            models.Index(
                fields=["channel"],
                name="note_delivery_failed",
                condition=Q(direction="outbound", delivery_status="failed"),
            ),
        ]
        constraints = [
            # What makes channel intake idempotent: one note per message id per channel.
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="note_channel_external_id",
            )
        ]
        verbose_name = "nota"
        verbose_name_plural = "notas"

    def __str__(self) -> str:
        return f"{self.case.number} #{self.pk}"


@quick_init
class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    note = models.ForeignKey(
        Note, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    sha256 = models.CharField(max_length=64, db_index=True)
    public = models.BooleanField(default=True, help_text="Visible al cliente.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    objects = deferred.Manager()  # rows may be written late: core/deferred.py

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "adjunto"
        verbose_name_plural = "adjuntos"

    def __str__(self) -> str:
        return self.filename


class Follower(models.Model):
    """A colleague of the requester's organization who gets the case's notifications."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followers")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "contact"], name="case_follower_unique")
        ]
        indexes = [models.Index(fields=["contact", "case"], name="case_follower_contact")]
        verbose_name = "seguidor del caso"
        verbose_name_plural = "seguidores del caso"

    def __str__(self) -> str:
        return f"{self.case.number}: {self.contact}"


class Rating(models.Model):
    """The customer's rating of one resolution (1 to 5): at most one per resolution instant, so
    a reopened case is rated again only once it is resolved again."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="ratings")
    resolved_at = models.DateTimeField()
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "resolved_at"], name="rating_per_resolution"),
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_1_5"
            ),
        ]
        verbose_name = "calificación"
        verbose_name_plural = "calificaciones"

    def __str__(self) -> str:
        return f"{self.case.number}: {self.score}"


class FollowUp(models.Model):
    """A case opened by the customer's answer on a case past its reopen window."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="follows_up")
    original = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")

    class Meta:
        verbose_name = "caso de seguimiento"
        verbose_name_plural = "casos de seguimiento"

    def __str__(self) -> str:
        return f"{self.case.number} ← {self.original.number}"
