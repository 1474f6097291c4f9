"""Outbound delivery: the worker sends queued public notes through their channel's sender."""

from __future__ import annotations

from atiende.cases import services as case_services
from atiende.cases.models import Delivery, Note
from atiende.channels import services
from atiende.channels.models import Notification, NotificationStatus
from atiende.worker import senders
from atiende.worker.errors import DeliveryError
from atiende.worker.registry import handler


@handler("deliver_note", atomic=False)
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
    case_services.record_delivery(note=note, status=Delivery.SENT, external_id=external_id)


@handler("deliver_note:failed")
def deliver_note_failed(payload: dict) -> None:
    note = Note.objects.select_related("case").filter(pk=payload["note_id"]).first()
    if note is not None:
        case_services.record_delivery(
            note=note, status=Delivery.FAILED, error=payload.get("_error", "")
        )


@handler("notify")
def notify(payload: dict) -> None:
    """Fan a case event out to its recipients: one Notification row and one delivery job each."""
    services.queue_notifications(
        case_id=payload.get("case_id"),
        event=payload["event"],
        subject=payload.get("subject", ""),
        body=payload["body"],
        recipients=payload["recipients"],
    )


@handler("deliver_notification", atomic=False)
def deliver_notification(payload: dict) -> None:
    n = Notification.objects.filter(pk=payload["notification_id"]).first()
    if n is None or n.status == NotificationStatus.SENT:
        return
    sender = senders.for_kind(n.kind)
    if sender is None:
        raise DeliveryError(
            f"No hay un medio de envío configurado para notificaciones por {n.get_kind_display()}.",
            permanent=True,
        )
    services.notification_sent(n, external_id=sender.send_notification(n) or "")


@handler("deliver_notification:failed")
def deliver_notification_failed(payload: dict) -> None:
    n = Notification.objects.filter(pk=payload["notification_id"]).first()
    if n is not None:
        services.notification_failed(n, error=payload.get("_error", ""))
