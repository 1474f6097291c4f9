"""Outbound delivery: the worker sends queued public notes through their channel's sender."""

from __future__ import annotations

from atiende.cases import services as case_services
from atiende.cases.models import Delivery, Note
from atiende.channels import senders
from atiende.worker.errors import DeliveryError
from atiende.worker.registry import handler


@handler("deliver_note")
def deliver_note(payload: dict) -> None:
    note = Note.objects.select_related("case", "channel").filter(pk=payload["note_id"]).first()
    if note is None or note.delivery_status not in (Delivery.PENDING, Delivery.FAILED):
        return  # deleted, or already sent by an earlier attempt
    sender = senders.for_kind(note.channel.kind if note.channel else "")
    if sender is None:
        raise DeliveryError(
            f"No hay un medio de envío configurado para el canal «{note.channel}»; "
            "responda al cliente por otro canal.",
            permanent=True,
        )
    external_id = sender.send_note(note)
    if external_id:
        Note.objects.filter(pk=note.pk).update(external_id=external_id)
    case_services.record_delivery(note=note, status=Delivery.SENT)


@handler("deliver_note:failed")
def deliver_note_failed(payload: dict) -> None:
    note = Note.objects.select_related("case").filter(pk=payload["note_id"]).first()
    if note is not None:
        case_services.record_delivery(note=note, status=Delivery.FAILED, error=payload.get("_error", ""))
