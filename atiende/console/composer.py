"""The case page's composer as one service: an answer to the customer (or an internal
note), its attachments and, optionally, the case's new status, in one transaction — a
refused status or an attachment over the limit leaves nothing half-stored (no note is
sent without its files). Everything is done by the case services the API uses
(`add_note`, whose outbox job delivers the answer through the channel's sender — the email
sender threads it to the customer's message; `add_attachment`; `change_status`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from atiende.accounts.models import User
from atiende.cases import services as cases
from atiende.cases.models import Case, Note, Visibility
from atiende.console import case_page
from atiende.console.canned import selectors as canned
from atiende.core import clock
from atiende.core.errors import InvalidInput, PermissionDenied
from atiende.core.transactions import service

STATUSES_AFTER_REPLY = ("awaiting_info", "resolved")


@dataclass
class Upload:
    filename: str
    size: int
    chunks: Iterable[bytes]


@service
def reply_from_console(
    *,
    case: Case,
    actor: User,
    body: str,
    internal: bool = False,
    channel_slug: str = "",
    template: str = "",
    uploads: list[Upload] | None = None,
    status: str = "",
) -> Note:
    if actor is None or not actor.is_agent:
        raise PermissionDenied("Solo el personal de la mesa de ayuda responde desde la consola.")
    uploads = uploads or []
    errors: dict[str, str] = {}
    body = (body or "").strip()
    channel = None
    if status and status not in STATUSES_AFTER_REPLY:
        errors["status"] = (
            "Después de responder, el caso puede quedar «En espera de información» o «Resuelto»."
        )
    if not internal:
        contact = case.requester
        emails = list(contact.emails.values_list("address", flat=True)) if contact else []
        allowed = case_page.reply_channels(case, contact, emails)
        if channel_slug:
            channel = next((c for c in allowed if c.slug == channel_slug), None)
            if channel is None:
                errors["channel"] = (
                    "Ese canal no sirve para responder a este contacto; use uno de: "
                    + ", ".join(f"«{c.name}»" for c in allowed)
                    + "."
                )
        else:
            channel = allowed[0] if allowed else None
        if channel is not None and channel.kind == "whatsapp":
            window = case_page.whatsapp_window(channel, contact, clock.now())
            if not window.open:
                answer = (
                    canned.answer_by_slug(template, whatsapp_approved=True) if template else None
                )
                if answer is None:
                    errors["template"] = (
                        "La ventana de 24 horas de WhatsApp está cerrada: elija una plantilla "
                        "aprobada; el texto libre no se puede enviar."
                    )
                else:
                    body = canned.text_for(answer, case, actor)
    if not body and uploads:
        body = "Adjuntos: " + ", ".join(u.filename for u in uploads)
    if not body:
        errors["body"] = "Escriba el mensaje (o adjunte un archivo)."
    if errors:
        raise InvalidInput("No se pudo guardar la respuesta.", errors=errors)
    note = cases.add_note(
        case=case,
        body_text=body,
        visibility=Visibility.INTERNAL if internal else Visibility.PUBLIC,
        actor=actor,
        channel=channel,
    )
    for upload in uploads:
        cases.add_attachment(
            case=case,
            filename=upload.filename,
            chunks=upload.chunks,
            actor=actor,
            note=note,
            public=not internal,
        )
    if status:
        cases.change_status(case=case, actor=actor, status=status)
    return note


def as_upload(file: Any) -> Upload:
    return Upload(filename=file.name or "", size=file.size, chunks=file.chunks())
