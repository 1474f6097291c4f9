"""The WhatsApp sender: public notes and staff notifications through the Graph API.

Inside the 24-hour customer service window a note goes as free text (and its public
attachments as media); outside it, or when Meta says the window has closed (131047), the
channel's "case updated" template goes instead, and the note's audit trail says why.
Notifications to staff always use a template. Errors become `DeliveryError`s: temporary
(429, 5xx, rate limits: the worker retries with backoff) or permanent (with the reason).
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes

from django.db.models import Max, Q

from atiende.cases.models import Attachment, Note
from atiende.cases.storage import path_for
from atiende.channels.models import Notification
from atiende.channels.whatsapp import conf, graph, media_links
from atiende.channels.whatsapp import selectors as reads
from atiende.channels.whatsapp.models import Conversation
from atiende.core import audit, clock
from atiende.customers.models import Contact
from atiende.directory.models import Channel
from atiende.worker.errors import DeliveryError

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=24)
TEXT_LIMIT = 4096
DEFAULT_NOTE_TEMPLATE = "caso_actualizado"
DEFAULT_NOTIFICATION_TEMPLATE = "aviso_mesa_de_ayuda"
DEFAULT_LANGUAGE = "es_CO"

REASONS = {
    131026: "El número no puede recibir mensajes de WhatsApp (no tiene WhatsApp o no aceptó los términos); "
    "contacte al cliente por otro canal.",
    131047: "Pasaron más de 24 horas desde el último mensaje del cliente; solo se pueden enviar plantillas.",
    131030: "El número no está en la lista de destinatarios permitidos de la cuenta de prueba.",
    100: "Parámetro inválido (¿el número no tiene WhatsApp?).",
    190: "El token de acceso de WhatsApp venció o no es válido: avise al administrador.",
    132001: "La plantilla no existe en ese idioma: revise la configuración del canal.",
}


def _params(text: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": text}]


def window_open(
    channel: Channel, wa_id: str, now: dt.datetime | None = None, *, user_id: str | None = None
) -> bool:
    """Less than 24 h since the user's latest message on `channel` (found by number or BSUID)."""
    who = Q(wa_id=wa_id) if wa_id else Q(pk__in=[])
    if user_id:
        who |= Q(user_id=user_id)
    last = (
        Conversation.objects.filter(who, channel=channel, last_inbound_at__isnull=False)
        .aggregate(last=Max("last_inbound_at"))
        .get("last")
    )
    return last is not None and (now or clock.now()) < last + WINDOW


def address_of(contact: Contact | None) -> str:
    """The `to` of a send: the contact's WhatsApp number. The Cloud API reference atiende
    follows gives no way to address a user by BSUID, so a user who hides the number cannot
    be answered on WhatsApp: a permanent error that says so (the agent sees it on the note)."""
    if contact is not None and contact.whatsapp_id:
        return contact.whatsapp_id
    if contact is not None and contact.whatsapp_user_id:
        raise DeliveryError(
            f"El cliente oculta su número de WhatsApp (usuario {contact.whatsapp_user_id}) y "
            "atiende solo puede enviar mensajes a un número: responda por otro canal.",
            permanent=True,
        )
    raise DeliveryError(
        "El solicitante del caso no tiene número de WhatsApp; responda por otro canal.",
        permanent=True,
    )


def _error(exc: graph.GraphError) -> DeliveryError:
    reason = REASONS.get(exc.code)
    text = f"WhatsApp rechazó el mensaje {exc}" + (f" — {reason}" if reason else "")
    if exc.fbtrace_id:
        text += f" [fbtrace_id {exc.fbtrace_id}]"
    return DeliveryError(text, permanent=not exc.temporary)


def _phone_id(channel: Channel) -> str:
    pnid = conf.phone_number_id(channel)
    if not pnid:
        env = (channel.settings or {}).get("phone_number_id_env") or "phone_number_id_env"
        raise DeliveryError(
            f"El canal «{channel.name}» no tiene número de WhatsApp configurado ({env}).",
            permanent=True,
        )
    return pnid


def template_payload(channel: Channel, key: str, default: str, params: list[str]) -> dict:
    s = channel.settings or {}
    return {
        "type": "template",
        "template": {
            "name": s.get(key) or default,
            "language": {"code": s.get("template_language") or DEFAULT_LANGUAGE},
            "components": [
                {"type": "body", "parameters": [p for t in params for p in _params(t[:1000])]}
            ],
        },
    }


def send_payload(channel: Channel, to: str, payload: dict) -> str:
    try:
        return graph.send(_phone_id(channel), {"to": to} | payload)
    except graph.GraphError as exc:
        raise _error(exc) from exc


class WhatsAppSender:
    def send_note(self, note: Note) -> str | None:
        case, channel = note.case, note.channel
        assert channel is not None  # the sender was chosen by the note's channel
        contact = case.requester
        wa_id = address_of(contact)
        pnid = _phone_id(channel)
        body = (note.body_text or "").strip()
        if window_open(channel, wa_id, user_id=contact.whatsapp_user_id if contact else None):
            try:
                return self._free_form(pnid, wa_id, note, body)
            except graph.GraphError as exc:
                if exc.code != graph.WINDOW_CLOSED:
                    raise _error(exc) from exc
        return self._template(pnid, channel, wa_id, note, body)

    def _free_form(self, pnid: str, wa_id: str, note: Note, body: str) -> str:
        first = ""
        for att in reads.public_attachments(note):
            assert note.channel is not None
            wamid = self._media(pnid, note.channel, wa_id, att)  # every one, not only the first
            first = first or wamid
        if body or not first:
            chunks = [body[i : i + TEXT_LIMIT] for i in range(0, len(body), TEXT_LIMIT)] or [""]
            for chunk in chunks:
                wamid = graph.send(
                    pnid,
                    {"to": wa_id, "type": "text", "text": {"body": chunk, "preview_url": False}},
                )
                first = first or wamid
        return first

    def _media(self, pnid: str, channel: Channel, wa_id: str, att: Attachment) -> str:
        mime = (
            att.content_type or mimetypes.guess_type(att.filename)[0] or "application/octet-stream"
        )
        kind = (
            "image"
            if mime in ("image/jpeg", "image/png")
            else (
                "audio"
                if mime.startswith("audio/")
                else "video"
                if mime.startswith("video/")
                else "document"
            )
        )
        obj: dict[str, str]
        if (channel.settings or {}).get("media_by_link") and not conf.public_url():
            log.warning(
                "whatsapp: %s has media_by_link but ATIENDE_PUBLIC_URL is not set: uploading",
                channel.slug,
            )
        if conf.media_by_link(channel):
            obj = {"link": media_links.link_for(att)}  # Meta fetches it from atiende
        else:
            content = path_for(att.sha256).read_bytes()
            obj = {"id": graph.upload_media(pnid, att.filename, content, mime)}
        if kind == "document":
            obj["filename"] = att.filename
        return graph.send(pnid, {"to": wa_id, "type": kind, kind: obj})

    def send_template(self, note: Note) -> str:
        """The note as the "case updated" template (Meta said the window had closed)."""
        wa_id = address_of(note.case.requester)
        assert note.channel is not None
        pnid = _phone_id(note.channel)
        return self._template(pnid, note.channel, wa_id, note, (note.body_text or "").strip())

    def _template(self, pnid: str, channel: Channel, wa_id: str, note: Note, body: str) -> str:
        payload = template_payload(
            channel, "template_note", DEFAULT_NOTE_TEMPLATE, [note.case.number, body or "(adjunto)"]
        )
        try:
            wamid = graph.send(pnid, {"to": wa_id} | payload)
        except graph.GraphError as exc:
            raise _error(exc) from exc
        audit.record(
            actor=None,
            action="note.sent_as_template",
            obj=note,
            case=note.case,
            changes={
                "template": [None, payload["template"]["name"]],
                "reason": "Fuera de la ventana de 24 horas de WhatsApp: se envió la plantilla en lugar del texto libre.",
            },
        )
        return wamid

    def send_notification(self, notification: Notification) -> str | None:
        channel = _notification_channel(notification)
        if channel is None:
            raise DeliveryError(
                "No hay un canal de WhatsApp con número configurado para enviar avisos.",
                permanent=True,
            )
        to = "".join(ch for ch in notification.address if ch.isdigit())
        text = notification.subject or notification.body
        number = notification.case.number if notification.case_id else ""
        payload = template_payload(
            channel,
            "template_notification",
            DEFAULT_NOTIFICATION_TEMPLATE,
            [number or "-", text[:1000]],
        )
        if notification.template:
            payload["template"]["name"] = notification.template
        return send_payload(channel, to, payload)


def _notification_channel(n: Notification) -> Channel | None:
    case_channel = n.case.channel if n.case_id else None
    if (
        case_channel is not None
        and case_channel.kind == "whatsapp"
        and conf.phone_number_id(case_channel)
    ):
        return case_channel
    for ch in conf.whatsapp_channels():
        if conf.phone_number_id(ch):
            return ch
    return None
