"""Auto-replies: why a message must not be answered automatically (RFC 3834, mailing
lists, loops)."""

from __future__ import annotations

import re
from email.message import Message

from atiende.channels.email.inbound.decoding import RawHeaders

_NO_REPLY_SENDER = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+\-.].*)?$", re.IGNORECASE
)


def _no_auto_reply(
    msg: Message, raw: RawHeaders, sender: str, return_path: str | None, own: set[str]
) -> str | None:
    auto = raw.get("Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = raw.get("Precedence").lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe", "List-Post"):
        if name in raw:
            return f"lista de correo ({name})"
    suppress = raw.get("X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return f"X-Auto-Response-Suppress: {suppress}"
    if return_path == "":
        return "remitente de sobre vacío (<>)"
    if _NO_REPLY_SENDER.match(sender.split("@", 1)[0]):
        return f"remitente automático ({sender})"
    if msg.get_content_type() == "multipart/report":
        return "informe de entrega"
    if sender in own:
        return f"remitente propio ({sender})"
    if raw.get("X-Loop").lower() in own:
        return "bucle (X-Loop)"
    return None
