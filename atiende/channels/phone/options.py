"""What a phone line's `settings:` may say, and the check the configuration loader runs.

Pure: no database. Secrets (the PBX token) appear only as the name of an environment
variable (`token_env`), which the loader checks for every `*_env` setting.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Any

from atiende.customers.phones import ZONES

KNOWN = (
    "token_env",
    "allowed_addresses",
    "ring_timeout_minutes",
    "callback_join_minutes",
    "local_zone",
    "group",
    "answered_timeout_minutes",
    "outbound_caller_id",
    "outbound_caller_ids",
)
DEFAULT_RING_TIMEOUT_MINUTES = 15
# A call answered this long ago and never hung up: the PBX lost its hangup.
DEFAULT_ANSWERED_TIMEOUT_MINUTES = 240
DEFAULT_CALLBACK_JOIN_MINUTES = 60
MAX_MINUTES = 24 * 60


def networks(value: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """'10.0.0.5, 192.168.1.0/24' → networks; ValueError names the first bad item."""
    out = []
    for item in str(value or "").split(","):
        item = item.strip()
        if item:
            out.append(ipaddress.ip_network(item, strict=False))
    return out


def caller_id_rules(value: Any) -> list[tuple[str, str]]:
    """'57601*=6017442727, 573*=3184872656' → [(pattern, caller id)]; ValueError names the
    first bad item. A pattern is digits with an optional trailing `*` (any rest)."""
    rules = []
    for item in str(value or "").split(","):
        item = item.strip()
        if not item:
            continue
        pattern, sep, caller_id = (part.strip() for part in item.partition("="))
        if not sep or not re.fullmatch(r"\+?\d+\*?|\*", pattern):
            raise ValueError(f"{item!r} is not PATTERN=CALLER_ID (a pattern is digits, then *)")
        if not re.fullmatch(r"\+?[\d ]{3,20}", caller_id):
            raise ValueError(f"{caller_id!r} is not a phone number to present")
        rules.append((pattern.lstrip("+"), caller_id.replace(" ", "")))
    return rules


def _minutes(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 1 <= value <= MAX_MINUTES


def check(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems of a phone line's settings as (setting name, message)."""
    found: list[tuple[str, str]] = []
    for key, value in settings.items():
        if key == "allowed_addresses":
            try:
                networks(value)
            except ValueError as exc:
                found.append(
                    (key, f"{exc}; expected addresses or networks like 10.0.0.5, 192.168.1.0/24")
                )
        elif key == "outbound_caller_ids":
            try:
                caller_id_rules(value)
            except ValueError as exc:
                found.append((key, f"{exc}; expected like 57601*=6017442727, 573*=3184872656"))
        elif key == "outbound_caller_id":
            if not isinstance(value, str | int) or not re.fullmatch(r"\+?[\d ]{3,20}", str(value)):
                found.append((key, "expected the phone number to present, like 6017442727"))
        elif key == "group":
            if not isinstance(value, str) or not re.fullmatch(r"[-a-zA-Z0-9_]{1,50}", value):
                found.append((key, "expected the slug of a support group, like soporte-tecnico"))
        elif key in ("ring_timeout_minutes", "callback_join_minutes", "answered_timeout_minutes"):
            if not _minutes(value):
                found.append((key, f"expected a whole number of minutes from 1 to {MAX_MINUTES}"))
        elif key == "local_zone":
            if str(value) not in ZONES or isinstance(value, bool):
                found.append(
                    (key, f"expected the one-digit area of 7-digit numbers ({', '.join(ZONES)})")
                )
        elif key not in KNOWN and not key.endswith("_env"):
            close = difflib.get_close_matches(key, KNOWN, n=1)
            found.append(
                (
                    key,
                    f"unknown phone setting {key!r}"
                    + (
                        f" (did you mean {close[0]!r}?)"
                        if close
                        else f" (expected one of: {', '.join(KNOWN)})"
                    ),
                )
            )
    return found
