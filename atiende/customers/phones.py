"""Phone numbers are stored in E.164; Colombian numbers may be written the local way.

`normalize` is the one place where a number someone typed, a signature carried or a PBX
sent becomes E.164. libphonenumber knows today's Colombian plan (10 digits since the
"marcación única nacional" of 2021) but not the older ways of writing a number that CRMs,
signatures and caller ids still carry, nor the habits of PBXs; a pre-pass rewrites those
first (docs/phone.md, "How numbers are normalised"):

- a bare 7-digit local number gets the fixed-line prefix `60` + the zone (Bogotá: `1`);
- the old 8-digit national form (`1 228 1260`, also after `57`) gets `60` in front;
- `03` + a mobile (old fixed-to-mobile) and `03`/`05`/`07`/`09`/`0456`… + zone + 7 digits
  (old mobile-to-fixed and long-distance carrier prefixes) lose the prefix;
- `00` (international access) and `57` (the country code without `+`) are stripped, and so
  is a leading trunk-access digit `9` (or `0`) in front of a complete national number;
- `anonymous`, `private`, an empty value and the like are no number at all.

Each rewrite is only a candidate: the first one libphonenumber calls valid wins, so a
foreign number without `+` (`493055571600`) still reads as foreign.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from atiende.core.errors import InvalidInput

DEFAULT_REGION = "CO"
DEFAULT_ZONE = "1"  # Bogotá and Cundinamarca
COUNTRY_CODE = "57"
ZONES = "1245678"  # the old one-digit area codes, now the third digit of `60Z…`
SHORT_CARRIERS = "3579"  # 03 (from a mobile), 05, 07, 09 (long distance)
LONG_CARRIERS = ("456", "444", "414", "438")  # 0456, 0444, … (long distance)
WITHHELD = {
    "",
    "anonymous",
    "anonimo",
    "anónimo",
    "private",
    "privado",
    "restricted",
    "unknown",
    "unavailable",
    "withheld",
    "desconocido",
}


@functools.cache
def _kinds() -> dict[int, str]:
    import phonenumbers

    return {
        phonenumbers.PhoneNumberType.MOBILE: "mobile",
        phonenumbers.PhoneNumberType.FIXED_LINE: "fixed",
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed",
        phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
        phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium",
        phonenumbers.PhoneNumberType.VOIP: "voip",
    }


@dataclass(frozen=True)
class Number:
    """A number as written (`raw`) and as understood: `e164` is None when it is withheld
    (`kind == "anonymous"`) or cannot be read (`kind == "invalid"`)."""

    raw: str
    e164: str | None
    kind: str  # mobile, fixed, toll_free, premium, voip, other, anonymous, invalid

    @property
    def anonymous(self) -> bool:
        return self.kind == "anonymous"


def _national(n: str, zone: str) -> list[str]:
    """Rewrites of a Colombian national digit string into today's 10-digit form (or the
    toll-free/premium forms libphonenumber reads itself)."""
    out = []
    if len(n) == 7 and n[0] != "0":
        out.append("60" + zone + n)
    if len(n) == 8 and n[0] in ZONES:
        out.append("60" + n)
    if len(n) == 12 and n.startswith("03") and n[2] == "3":
        out.append(n[2:])  # 03 + mobile
    if len(n) == 13 and n.startswith("03") and n[2] in ZONES and n[3] == "3":
        out.append(n[3:])  # 03 + zone + mobile, as some old CRMs wrote it
    if len(n) == 10 and n[0] == "0" and n[1] in SHORT_CARRIERS and n[2] in ZONES:
        out.append("60" + n[2:])  # 0 + carrier + zone + 7 digits
    if len(n) == 12 and n[0] == "0" and n[1:4] in LONG_CARRIERS and n[4] in ZONES:
        out.append("60" + n[4:])
    if len(n) in (11, 8) and n[0] in "90":  # a trunk-access digit before the number
        out.extend(_national(n[1:], zone) if len(n) == 8 else [n[1:]])
    out.append(n)
    return out


def _candidates(text: str, zone: str) -> list[str]:
    digits = "".join(ch for ch in text if ch.isdigit())
    plus = text.lstrip().startswith("+")
    found: list[str] = []
    if plus:
        if digits.startswith(COUNTRY_CODE):
            found += ["+57" + n for n in _national(digits[2:], zone)]
        found.append("+" + digits)
        return found
    if digits.startswith("00") and not digits.startswith("000"):
        rest = digits[2:]
        if rest.startswith(COUNTRY_CODE):
            found += ["+57" + n for n in _national(rest[2:], zone)]
        found.append("+" + rest)
    if digits.startswith(COUNTRY_CODE) and len(digits) in (10, 12):
        found += ["+57" + n for n in _national(digits[2:], zone)]
    found += ["+57" + n for n in _national(digits, zone)]
    found.append(text)  # libphonenumber's own reading (01 8000 …, national formats)
    if len(digits) > 10:
        found.append("+" + digits)  # an international number without '+' (WhatsApp ids)
    return found


def normalize(raw: str | None, *, zone: str = DEFAULT_ZONE, region: str = DEFAULT_REGION) -> Number:
    """Read `raw` as a phone number; `zone` is the area digit of 7-digit local numbers."""
    text = (raw or "").strip()
    if text.lower() in WITHHELD or not any(ch.isdigit() for ch in text):
        return Number(raw or "", None, "anonymous" if text.lower() in WITHHELD else "invalid")
    zone = zone if zone in ZONES else DEFAULT_ZONE
    # libphonenumber (~12 ms of metadata) is imported with the first number read, not by
    # every process that imports this module at start (issue 17).
    import phonenumbers

    seen: set[str] = set()
    for candidate in _candidates(text, zone):
        if candidate in seen:
            continue
        seen.add(candidate)
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return Number(
                raw or "",
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                _kinds().get(phonenumbers.number_type(number), "other"),
            )
    return Number(raw or "", None, "invalid")


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """'318 487 2656', '573184872656', '+57 318 487 2656', '2281260' -> E.164, or a clear
    error for what is not a number."""
    number = normalize(raw, region=region)
    if number.e164 is None:
        raise InvalidInput(
            f"Número de teléfono inválido: {raw!r}.",
            errors={"phone": f"{raw!r} no es un número válido."},
        )
    return number.e164


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
