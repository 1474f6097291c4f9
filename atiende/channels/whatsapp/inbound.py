"""WhatsApp Cloud API webhook JSON → plain messages. Pure: no database, no clock, no I/O.

A notification batches entries → changes → messages/statuses; `parse` flattens them into
`WaMessage` and `WaStatus` items, each carrying the business number it came in on (for
routing). `text_of` gives the words an agent reads on the case for every message type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")

# Meta redelivers an unacknowledged notification for up to 7 days. Anything older than
# that (plus a margin) is not a redelivery but a replay of a captured body: it is dropped.
# Inside the window the (channel, message id) uniqueness makes a replay harmless.
REPLAY_WINDOW = dt.timedelta(days=7, hours=1)


class Malformed(ValueError):
    """The body is not a WhatsApp Business Account notification we can read."""


@dataclass(frozen=True)
class Media:
    id: str
    mime_type: str = ""
    sha256: str = ""
    filename: str = ""
    caption: str = ""
    voice: bool = False


@dataclass
class WaMessage:
    phone_number_id: str
    display_phone_number: str
    id: str
    wa_id: str
    name: str
    timestamp: int
    type: str
    text: str  # what the agent reads on the case
    media: Media | None = None
    reply_id: str | None = None  # button/list reply id, or template quick-reply payload
    context_id: str | None = None  # the wamid this message answers
    forwarded: bool = False
    reaction_to: str | None = None
    # Business-scoped user id (BSUID): sent for every user by newer webhooks, and alone
    # (`wa_id` empty) when the user hides the number behind a username.
    user_id: str | None = None
    username: str = ""

    @property
    def sent_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp, tz=dt.UTC)


@dataclass
class WaStatus:
    phone_number_id: str
    display_phone_number: str
    id: str
    status: str
    timestamp: int
    recipient_id: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    callback_data: str = ""

    @property
    def error_text(self) -> str:
        return "; ".join(_describe_error(e) for e in self.errors)


@dataclass
class Batch:
    messages: list[WaMessage] = field(default_factory=list)
    statuses: list[WaStatus] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def timestamps(self) -> list[int]:
        return [m.timestamp for m in self.messages] + [s.timestamp for s in self.statuses]


def _describe_error(e: dict[str, Any]) -> str:
    details = (e.get("error_data") or {}).get("details") or ""
    title = e.get("title") or e.get("message") or "error"
    return f"({e.get('code', '?')}) {title}" + (
        f": {details}" if details and details != title else ""
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def parse(body: Any) -> Batch:
    """Flatten a notification. Raises `Malformed` when it is not one."""
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        raise Malformed("not a whatsapp_business_account notification")
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise Malformed("entry is missing")
    batch = Batch()
    for entry in entries:
        for change in (entry or {}).get("changes") or []:
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value") or {}
            if not isinstance(value, dict):
                raise Malformed("value is not an object")
            meta = value.get("metadata") or {}
            pnid, display = (
                str(meta.get("phone_number_id", "")),
                str(meta.get("display_phone_number", "")),
            )
            senders: dict[str, dict[str, Any]] = {}
            for c in value.get("contacts") or []:
                if not isinstance(c, dict):
                    continue
                for key in (c.get("wa_id"), c.get("user_id")):
                    if key:
                        senders[str(key)] = c
            for m in value.get("messages") or []:
                if not isinstance(m, dict) or not m.get("id"):
                    raise Malformed("message without id")
                batch.messages.append(_message(m, pnid, display, senders))
            for s in value.get("statuses") or []:
                if not isinstance(s, dict) or not s.get("id"):
                    raise Malformed("status without id")
                batch.statuses.append(
                    WaStatus(
                        phone_number_id=pnid,
                        display_phone_number=display,
                        id=s["id"],
                        status=str(s.get("status", "")),
                        timestamp=_int(s.get("timestamp")),
                        recipient_id=str(s.get("recipient_id", "")),
                        errors=list(s.get("errors") or []),
                        callback_data=str(s.get("biz_opaque_callback_data", "")),
                    )
                )
            batch.errors.extend(value.get("errors") or [])
    return batch


def _message(
    m: dict[str, Any], pnid: str, display: str, senders: dict[str, dict[str, Any]]
) -> WaMessage:
    # The sender: its number (`from`, omitted when the user hides it) and its business-scoped
    # user id (`from_user_id`); what the message lacks, its entry in `contacts[]` may have.
    contact = senders.get(str(m.get("from") or "")) or senders.get(str(m.get("from_user_id") or ""))
    contact = contact or {}
    profile = contact.get("profile") or {}
    kind = str(m.get("type", "unsupported"))
    context = m.get("context") or {}
    msg = WaMessage(
        phone_number_id=pnid,
        display_phone_number=display,
        id=str(m["id"]),
        wa_id=str(m.get("from") or contact.get("wa_id") or ""),
        name=str(profile.get("name") or profile.get("username") or ""),
        timestamp=_int(m.get("timestamp")),
        type=kind,
        text="",
        context_id=context.get("id"),
        forwarded=bool(context.get("forwarded") or context.get("frequently_forwarded")),
        user_id=str(m.get("from_user_id") or contact.get("user_id") or "") or None,
        username=str(profile.get("username") or ""),
    )
    raw = m.get(kind)
    obj: dict = raw if isinstance(raw, dict) else {}
    if kind == "text":
        msg.text = str(obj.get("body", ""))
    elif kind in MEDIA_TYPES:
        msg.media = Media(
            id=str(obj.get("id", "")),
            mime_type=str(obj.get("mime_type", "")),
            sha256=str(obj.get("sha256", "")),
            filename=str(obj.get("filename", "")),
            caption=str(obj.get("caption", "")),
            voice=bool(obj.get("voice")),
        )
        label = {
            "image": "Imagen",
            "document": "Documento",
            "audio": "Nota de voz" if msg.media.voice else "Audio",
            "video": "Video",
            "sticker": "Sticker",
        }[kind]
        msg.text = f"[{label}: {msg.media.filename}]" if msg.media.filename else f"[{label}]"
        if msg.media.caption:
            msg.text += f" {msg.media.caption}"
    elif kind == "location":
        parts = [obj.get("name"), obj.get("address")]
        where = ", ".join(str(p) for p in parts if p)
        coords = f"{obj.get('latitude')},{obj.get('longitude')}"
        msg.text = f"[Ubicación] {where + ' ' if where else ''}https://maps.google.com/?q={coords}"
    elif kind == "contacts":
        cards = []
        for c in m.get("contacts") or []:
            name = (c.get("name") or {}).get("formatted_name", "")
            phones = ", ".join(p.get("phone", "") for p in c.get("phones") or [] if p.get("phone"))
            emails = ", ".join(e.get("email", "") for e in c.get("emails") or [] if e.get("email"))
            cards.append(" ".join(x for x in (name, phones, emails) if x))
        msg.text = "[Contacto compartido] " + "; ".join(cards)
    elif kind == "interactive":
        itype = obj.get("type", "")
        raw_reply = obj.get(itype)
        reply: dict = raw_reply if isinstance(raw_reply, dict) else {}
        if itype == "nfm_reply":
            msg.text = f"[Formulario] {reply.get('response_json', '')}"
        else:
            msg.reply_id = str(reply.get("id", "")) or None
            msg.text = str(reply.get("title", "")) or str(reply.get("id", ""))
    elif kind == "button":
        msg.reply_id = str(obj.get("payload", "")) or None
        msg.text = str(obj.get("text", "")) or str(obj.get("payload", ""))
    elif kind == "reaction":
        msg.reaction_to = obj.get("message_id")
        emoji = obj.get("emoji") or ""
        msg.text = f"[Reacción {emoji}]" if emoji else "[Reacción retirada]"
    elif kind == "system":
        msg.text = f"[Sistema] {obj.get('body', '') or obj.get('type', '')}"
    else:
        errs = m.get("errors") or []
        msg.text = (
            "[Mensaje no compatible con WhatsApp Business"
            + (f": {_describe_error(errs[0])}" if errs else "")
            + "]"
        )
    if msg.forwarded:
        msg.text = "[Reenviado] " + msg.text
    return msg


def fresh(batch: Batch, now: dt.datetime) -> Batch:
    """Drop messages and statuses older than the replay window (see REPLAY_WINDOW)."""
    cutoff = (now - REPLAY_WINDOW).timestamp()
    return Batch(
        messages=[m for m in batch.messages if m.timestamp >= cutoff],
        statuses=[s for s in batch.statuses if s.timestamp >= cutoff],
        errors=batch.errors,
    )


def as_dict(m: WaMessage) -> dict[str, Any]:
    """A message as JSON-ready data (a held message is stored so); `from_dict` reverses it."""
    return asdict(m)


def from_dict(data: dict[str, Any]) -> WaMessage:
    """The message `as_dict` gave; keys it does not know are ignored and missing ones take
    their defaults (rows written by an older version keep loading)."""
    known = {f.name for f in fields(WaMessage)}
    values = {k: v for k, v in data.items() if k in known}
    media = values.pop("media", None)
    values.setdefault("phone_number_id", "")
    values.setdefault("display_phone_number", "")
    values.setdefault("wa_id", "")
    values.setdefault("name", "")
    values.setdefault("timestamp", 0)
    values.setdefault("type", "text")
    values.setdefault("text", "")
    media_known = {f.name for f in fields(Media)}
    return WaMessage(
        **values,
        media=Media(**{k: v for k, v in media.items() if k in media_known}) if media else None,
    )
