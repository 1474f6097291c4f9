from django.db import models

from atiende.core.construction import quick_init


class Step(models.TextChoices):
    """Where a conversation is in its guided flow (`states.py` has the transitions)."""

    IDLE = "idle", "sin flujo en curso"
    HOLDING = "holding", "menú enviado; mensajes retenidos hasta que el cliente elija"
    ASKED_REQUEST = "asked_request", "se pidió la descripción de una solicitud"
    ASKED_INCIDENT = "asked_incident", "se pidió la descripción de un incidente"
    ASKED_NUMBER = "asked_number", "se pidió el número de un caso"
    INTERVIEW = "interview", "preguntas del Centro de Monitoreo sobre un incidente"


class Conversation(models.Model):
    """One WhatsApp user on one of our numbers: the 24-hour window and the guided flow.

    The user is known by the number (`wa_id`, also the address we send to) and/or the
    business-scoped user id (`user_id`, BSUID); a user who hides the number has only the
    latter, and is found by it first. `last_inbound_at` is the time of the user's latest
    message (the customer service window lasts 24 hours from it); `step` is where the
    guided flow is and `state` the data of that step (the interview's case and questions).
    """

    channel = models.ForeignKey("directory.Channel", on_delete=models.CASCADE, related_name="+")
    wa_id = models.CharField(max_length=64, blank=True)
    user_id = models.CharField(max_length=128, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_inbound_id = models.CharField(max_length=255, blank=True)
    step = models.CharField(max_length=20, choices=Step.choices, default=Step.IDLE)
    state = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "wa_id"],
                condition=~models.Q(wa_id=""),
                name="wa_conversation_unique",
            ),
            models.UniqueConstraint(
                fields=["channel", "user_id"],
                condition=~models.Q(user_id=""),
                name="wa_conversation_user_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(wa_id="", user_id=""), name="wa_conversation_has_user"
            ),
        ]
        verbose_name = "conversación de WhatsApp"
        verbose_name_plural = "conversaciones de WhatsApp"

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.wa_id or self.user_id}"


@quick_init
class ProcessedMessage(models.Model):
    """A WhatsApp message id already handled on a channel: what makes the guided flow
    idempotent too (a redelivered menu choice is not answered twice)."""

    channel = models.ForeignKey("directory.Channel", on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=255)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "message_id"], name="wa_processed_unique")
        ]
        verbose_name = "mensaje de WhatsApp procesado"
        verbose_name_plural = "mensajes de WhatsApp procesados"

    def __str__(self) -> str:
        return self.message_id


class HeldMessage(models.Model):
    """A customer's message that waits in the adapter for the customer's choice from the
    corporate menu (what kind of case it opens), with everything needed to store it later:
    the parsed message, media id included. Written in the same transaction as the inbox job
    that brought it, so a crash loses nothing; unique per (channel, message id), so a
    redelivery is not held twice. It leaves this table in the transaction that stores it as
    a note (the choice, the wait running out, or an agent looking)."""

    channel = models.ForeignKey("directory.Channel", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="held_messages"
    )
    message_id = models.CharField(max_length=255)
    message = models.JSONField()
    sent_at = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "message_id"], name="wa_held_unique")
        ]
        indexes = [models.Index(fields=["channel", "sent_at"], name="wa_held_due")]
        verbose_name = "mensaje de WhatsApp retenido"
        verbose_name_plural = "mensajes de WhatsApp retenidos"

    def __str__(self) -> str:
        return self.message_id
