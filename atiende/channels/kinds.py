"""What a channel kind's adapter says about a channel's configuration.

Each adapter registers the rules of its kind from its `conf.py` when its app is ready
(`channels/<kind>/apps.py`), the way it registers its sender (`senders.py`), so the
configuration loader checks a channel's address, link and `settings:` without naming a
kind. A kind nobody registered (the portal, the API) takes any address and options; the
loader's own checks (ids, schedules, `*_env` names, no secrets in the file) apply to every
kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from atiende.core.errors import InvalidInput


def _no_problems(*args: Any) -> list:
    return []


@dataclass(frozen=True)
class KindRules:
    # The channel's address as stored (raises ValueError with the problem). A kind that
    # has one requires an address; None: the address is optional free text.
    clean_address: Callable[[str], str] | None = None
    # Problems of the channel's `settings:` as (setting name, message).
    check_options: Callable[[dict[str, Any]], list[tuple[str, str]]] = _no_problems
    # Problems of the channel's link given its cleaned address, as messages.
    check_link: Callable[[str, str], list[str]] = _no_problems


NO_RULES = KindRules()
_RULES: dict[str, KindRules] = {}


def register(kind: str, rules: KindRules) -> None:
    if _RULES.get(kind, rules) != rules:
        raise ValueError(f"the rules of channel kind {kind!r} are registered twice")
    _RULES[kind] = rules


def rules_for(kind: str) -> KindRules:
    return _RULES.get(kind, NO_RULES)


# Address forms shared by several kinds.


def phone_number(text: str) -> str:
    """A phone number in E.164 ('601 7442727' -> '+576017442727')."""
    from atiende.customers.phones import to_e164

    try:
        return to_e164(text)
    except InvalidInput:
        raise ValueError(f"{text!r} is not a valid phone number") from None


def email_address(text: str) -> str:
    """A valid email address, lowercased."""
    try:
        validate_email(text)
    except ValidationError:
        raise ValueError(f"{text!r} is not a valid email address") from None
    return text.lower()
