"""Worker jobs of the WhatsApp channel: the webhook inbox, the flow outbox, media, statuses.

The jobs that call the Graph API import its client (and httpx with it) when they run: every
process that queues jobs imports this module (issue 17, process start). A worker's loop
imports the client when it starts (`warm_up`), before its first message."""

from __future__ import annotations

import logging
import mimetypes

from atiende.cases import services as cases
from atiende.cases.models import Delivery, Note, Visibility
from atiende.channels import services as channel_services
from atiende.channels.whatsapp import conf, flows, inbound, services
from atiende.channels.whatsapp import selectors as reads
from atiende.core import clock
from atiende.core.errors import DomainError
from atiende.directory import selectors as directory
from atiende.directory.models import Channel
from atiende.worker import queue
from atiende.worker.errors import DeliveryError
from atiende.worker.registry import handler, periodic, warm_up

log = logging.getLogger(__name__)

warm_up("atiende.channels.whatsapp.graph", "atiende.channels.whatsapp.outbound")

STATUS = {
    "sent": Delivery.SENT,
    "delivered": Delivery.DELIVERED,
    "read": Delivery.READ,
    "played": Delivery.READ,
    "failed": Delivery.FAILED,
}


@periodic("whatsapp.release_held", every=60)
def release_held() -> None:
    """Messages held on the corporate line longer than the channel's `menu_wait_minutes`
    reach a case."""
    services.flush_due()


@handler("whatsapp.webhook", batch=True)
def process_notification(payload: dict) -> None:
    try:
        batch = inbound.parse(payload["body"])
    except inbound.Malformed as exc:
        raise DeliveryError(f"notificación ilegible: {exc}", permanent=True) from exc
    everything = len(batch.messages) + len(batch.statuses)
    batch = inbound.fresh(batch, clock.now())
    if len(batch.messages) + len(batch.statuses) < everything:
        log.warning(
            "whatsapp: dropped %d items older than the replay window",
            everything - len(batch.messages) - len(batch.statuses),
        )
    for error in batch.errors:
        log.error("whatsapp: error notified by Meta: %s", error)
    for m in sorted(batch.messages, key=lambda m: m.timestamp):
        channel = conf.channel_for(m.phone_number_id, m.display_phone_number)
        if channel is None:
            log.warning(
                "whatsapp: message %s for unknown number %s/%s ignored",
                m.id,
                m.phone_number_id,
                m.display_phone_number,
            )
            continue
        try:
            flows.handle(channel, m)
        except DomainError:
            # Refused by a service (e.g. the channel is inactive): one message must not
            # hold back the rest of the batch; it is logged for an admin.
            log.exception("whatsapp: message %s on %s refused", m.id, channel.slug)
    for s in batch.statuses:
        if not apply_status(s):
            # The send that produced this id may not have committed yet: look again shortly.
            queue.enqueue(
                "whatsapp.status",
                {"status": s.__dict__},
                run_at=clock.now() + queue.backoff(1),
                max_attempts=5,
            )


def _window_closed(s: inbound.WaStatus) -> bool:
    from atiende.channels.whatsapp import graph

    return any(str(e.get("code")) == str(graph.WINDOW_CLOSED) for e in s.errors)


def apply_status(s: inbound.WaStatus) -> bool:
    status = STATUS.get(s.status)
    if status is None:
        return True
    note = reads.sent_note(s.id)
    if note is not None:
        cases.record_delivery(
            note=note, status=status, error=s.error_text if status == Delivery.FAILED else ""
        )
        if status == Delivery.FAILED and _window_closed(s):
            # Free text sent after the window closed (clock skew, a late send): the
            # template goes instead, once per note.
            queue.enqueue(
                "whatsapp.resend_as_template",
                {"note_id": note.pk},
                dedupe_key=f"whatsapp-template:{note.pk}",
            )
        return True
    n = reads.sent_notification(s.id)
    if n is not None:
        if status == Delivery.FAILED:
            channel_services.notification_failed(n, error=s.error_text)
        return True
    return False


@handler("whatsapp.resend_as_template", atomic=False)
def resend_as_template(payload: dict) -> None:
    from atiende.channels.whatsapp import outbound

    note = (
        Note.objects.select_related("case", "channel", "case__requester")
        .filter(pk=payload["note_id"])
        .first()
    )
    if note is None or note.delivery_status != Delivery.FAILED:
        return
    wamid = outbound.WhatsAppSender().send_template(note)
    cases.record_delivery(note=note, status=Delivery.SENT, external_id=wamid)


@handler("whatsapp.resend_as_template:failed")
def resend_failed(payload: dict) -> None:
    note = Note.objects.select_related("case").filter(pk=payload["note_id"]).first()
    if note is not None:
        cases.record_delivery(note=note, status=Delivery.FAILED, error=payload.get("_error", ""))


@handler("whatsapp.status")
def late_status(payload: dict) -> None:
    if not apply_status(inbound.WaStatus(**payload["status"])):
        raise DeliveryError(f"no hay un mensaje enviado con id {payload['status']['id']}")


def _channel(payload: dict) -> Channel:
    """The job's channel, from the per-process snapshot of the channels (no query: every
    inbound message's read receipt asks it)."""
    channel = directory.channel_by_id(payload["channel_id"])
    if channel is None:
        raise DeliveryError(f"el canal {payload['channel_id']} ya no existe", permanent=True)
    return channel


@handler("whatsapp.send", atomic=False)
def send(payload: dict) -> None:
    from atiende.channels.whatsapp import outbound

    channel = _channel(payload)
    outbound.send_payload(channel, payload["to"], payload["payload"])


@handler("whatsapp.mark_read", atomic=False)
def mark_read(payload: dict) -> None:
    from atiende.channels.whatsapp import graph

    channel = _channel(payload)
    pnid = conf.phone_number_id(channel)
    if not pnid:
        return
    try:
        graph.mark_read(pnid, payload["message_id"])
    except graph.GraphError as exc:
        raise DeliveryError(str(exc), permanent=not exc.temporary) from exc


@handler("whatsapp.media", atomic=False)
def download_media(payload: dict) -> None:
    from atiende.channels.whatsapp import graph

    note = Note.objects.select_related("case").filter(pk=payload["note_id"]).first()
    if note is None or note.attachments.exists():
        return
    channel = _channel(payload)
    try:
        content, mime = graph.download_media(payload["media_id"], conf.phone_number_id(channel))
    except graph.MediaRefused as exc:  # off Meta's hosts, a private address, too large
        raise DeliveryError(str(exc), permanent=True) from exc
    except graph.GraphError as exc:
        raise DeliveryError(
            f"No se pudo descargar el archivo de WhatsApp {exc}", permanent=not exc.temporary
        ) from exc
    mime = (payload.get("mime_type") or mime or "").split(";")[0].strip()
    filename = payload.get("filename") or (
        f"whatsapp-{payload.get('type', 'archivo')}-{payload['media_id']}{mimetypes.guess_extension(mime) or ''}"
    )
    try:
        cases.add_attachment(
            case=note.case,
            note=note,
            filename=filename,
            chunks=[content],  # visible to customers as its note is (hidden until confirmed)
        )
    except DomainError as exc:
        raise DeliveryError(
            f"El archivo «{filename}» no se pudo guardar: {exc}", permanent=True
        ) from exc


@handler("whatsapp.media:failed")
def media_failed(payload: dict) -> None:
    note = Note.objects.select_related("case").filter(pk=payload["note_id"]).first()
    if note is None:
        return
    what = payload.get("filename") or f"{payload.get('type', 'archivo')} {payload['media_id']}"
    try:
        cases.add_note(
            case=note.case,
            visibility=Visibility.INTERNAL,
            automatic=True,
            body_text=(
                f"No se pudo descargar el archivo ({what}) que el cliente envió por WhatsApp: "
                f"{payload.get('_error', '')[:500]}. Pídale que lo envíe de nuevo o por otro canal."
            ),
        )
    except DomainError:
        log.warning("whatsapp: media failure note not added to %s", note.case.number)
