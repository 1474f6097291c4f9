from django.db import models
from django.db.models import Q

from atiende.core import deferred
from atiende.core.construction import quick_init
from atiende.directory.models import Channel


class EmailChannel(Channel):
    """The email channels, as the admin shows them: connected or not (proxy, no table)."""

    class Meta:
        proxy = True
        verbose_name = "buzón de correo"
        verbose_name_plural = "buzones de correo"


@quick_init
class ReceivedEmail(models.Model):
    """One message we stored (or recognised as a bounce): the ledger behind idempotency.

    `external_id` is what the note carries (the Message-ID, or a content key when the
    Message-ID is missing or was reused for different content).
    """

    # indexed by the unique (channel, external_id) and received_email_mid, which start with it
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=255)
    message_id = models.CharField(max_length=255, blank=True)
    content_key = models.CharField(max_length=64)
    note = models.ForeignKey(
        "cases.Note", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20)  # note | bounce
    detail = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    objects = deferred.Manager()  # rows may be written late: core/deferred.py

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="received_email_once")
        ]
        indexes = [models.Index(fields=["channel", "message_id"], name="received_email_mid")]
        verbose_name = "correo recibido"
        verbose_name_plural = "correos recibidos"

    def __str__(self) -> str:
        return self.external_id


class QuarantinedEmail(models.Model):
    """A message we could not store: its raw bytes wait here for an admin to retry it."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    sha256 = models.CharField(max_length=64)
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    subject = models.CharField("asunto", max_length=300, blank=True)
    sender = models.CharField("remitente", max_length=300, blank=True)
    reason = models.TextField("motivo")
    source = models.CharField("origen", max_length=300, blank=True)
    # The SMTP envelope sender the MTA pipe was given ("" for a null sender, as bounces
    # have; None when none was given, as for IMAP): a retry applies the same loop rules.
    envelope_sender = models.CharField("remitente del sobre", max_length=300, null=True, blank=True)
    attempts = models.PositiveIntegerField("intentos", default=1)
    created_at = models.DateTimeField("recibido")
    resolved_at = models.DateTimeField("resuelto", null=True, blank=True)
    note = models.ForeignKey(
        "cases.Note", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "sha256"], name="quarantined_email_once")
        ]
        indexes = [
            models.Index(
                fields=["created_at"], name="quarantine_open", condition=Q(resolved_at__isnull=True)
            )
        ]
        verbose_name = "correo en cuarentena"
        verbose_name_plural = "correos en cuarentena"

    def __str__(self) -> str:
        return self.subject or self.sha256[:12]


class MailboxState(models.Model):
    """Where the IMAP poller is in one folder: UIDs are only meaningful under one UIDVALIDITY."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    folder = models.CharField(max_length=200)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    stored = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "folder"], name="mailbox_state_once")
        ]
        verbose_name = "estado de buzón"
        verbose_name_plural = "estados de buzón"

    def __str__(self) -> str:
        return f"{self.channel.slug}:{self.folder}"


class SentEmail(models.Model):
    """Every message atiende sends by email, by its Message-ID: notes (agents' answers,
    acknowledgements, automatic notices) and notifications (breaches, escalations). One
    record for all of them, so that a reply naming any of them in In-Reply-To/References
    finds its case, and a bounce finds what it is about.

    The Message-ID carries a random part (`outbound.new_message_id`): nobody can take it
    first with a message of their own. It is made once per note or notification and reused
    by every retry, so a repeated send is the same message for the receiving side.
    """

    message_id = models.CharField(max_length=255, unique=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    note = models.OneToOneField(
        "cases.Note", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    notification = models.OneToOneField(
        "channels.Notification", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "correo enviado"
        verbose_name_plural = "correos enviados"

    def __str__(self) -> str:
        return self.message_id
