"""Phone numbers are stored in E.164; Colombian numbers may be written the local way."""

from __future__ import annotations

import phonenumbers

from atiende.core.errors import InvalidInput

DEFAULT_REGION = "CO"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """'318 487 2656', '573184872656', '+57 318 487 2656' -> '+573184872656'."""
    text = (raw or "").strip()
    candidates = [text]
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith("+") and len(digits) > 10:
        candidates.append("+" + digits)  # a WhatsApp id is the number without '+'
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidInput(
        f"Número de teléfono inválido: {raw!r}.",
        errors={"phone": f"{raw!r} no es un número válido."},
    )


def notification_address(address: str) -> str:
    """Where a notification to a person goes: an email address as given; anything else is a
    phone number (WhatsApp, mobile — written the local way, as a WhatsApp id or in E.164), in
    E.164 when it is valid, else as written (a configured number the loader already checked,
    kept as the configuration says rather than lost)."""
    if "@" in address:
        return address
    try:
        return to_e164(address)
    except InvalidInput:
        return address
