"""Build and sign webhook notifications as Meta does (for the simulate command, tests, bench)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def new_message_id() -> str:
    return "wamid.SIM" + secrets.token_hex(12).upper()


def envelope(
    *,
    phone_number_id: str,
    display_phone_number: str,
    messages: list[dict] | None = None,
    statuses: list[dict] | None = None,
    contacts: list[dict] | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }
    if contacts:
        value["contacts"] = contacts
    if messages:
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


def message(
    *,
    wa_id: str,
    text: str | None = None,
    reply_id: str | None = None,
    reply_title: str = "",
    message_id: str | None = None,
    timestamp: int | None = None,
    extra: dict | None = None,
    user_id: str | None = None,
) -> dict:
    m: dict[str, Any] = {
        "id": message_id or new_message_id(),
        "timestamp": str(int(timestamp if timestamp is not None else time.time())),
    }
    if wa_id:  # omitted when the user hides the number
        m["from"] = wa_id
    if user_id:
        m["from_user_id"] = user_id
    if reply_id is not None:
        kind = "list_reply" if reply_id.startswith("menu:") else "button_reply"
        m |= {
            "type": "interactive",
            "interactive": {"type": kind, kind: {"id": reply_id, "title": reply_title or reply_id}},
        }
    else:
        m |= {"type": "text", "text": {"body": text or ""}}
    return m | (extra or {})


def text_notification(
    *,
    phone_number_id: str,
    display_phone_number: str,
    wa_id: str,
    text: str = "",
    name: str = "",
    reply_id: str | None = None,
    message_id: str | None = None,
    timestamp: int | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """A text (or a reply) from `wa_id`; with `user_id` the sender also has a BSUID, and
    with `user_id` and no `wa_id` the sender hides the number (a username profile)."""
    contact: dict[str, Any] = {"profile": {"name": name or wa_id or ""}}
    if wa_id:
        contact["wa_id"] = wa_id
    if user_id:
        contact["user_id"] = user_id
        if not wa_id:
            contact["profile"] = {"username": name or "usuario"}
    return envelope(
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        contacts=[contact],
        messages=[
            message(
                wa_id=wa_id,
                text=text,
                reply_id=reply_id,
                message_id=message_id,
                timestamp=timestamp,
                user_id=user_id,
            )
        ],
    )


def encode(body: dict[str, Any]) -> bytes:
    # Meta escapes non-ASCII (\u00e1); signing the exact bytes sent is what matters.
    return json.dumps(body, separators=(",", ":")).encode()
