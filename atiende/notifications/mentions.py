"""@mentions in internal notes: "@ana" (the part of an email before the @), "@ana.lopez",
or a name written without spaces ("@AnaLópez"), matched without case. Only active staff
users are mentioned; a customer or an unknown word is nobody. An email address in the text
("escriba a ana@example.com") is not a mention: the @ must start a word."""

from __future__ import annotations

import re
import unicodedata

from atiende.accounts.models import STAFF_ROLES, User

MENTION = re.compile(r"(?<![\w@.])@([\w][\w.+-]*\w|\w)", re.UNICODE)


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().replace(" ", "")


def handles(text: str) -> set[str]:
    return {_key(m) for m in MENTION.findall(text or "")}


def mentioned_users(text: str) -> list[User]:
    """The staff users named by the @mentions in `text` (one query, only when there is one)."""
    wanted = handles(text)
    if not wanted:
        return []
    staff = User.objects.filter(is_active=True, role__in=list(STAFF_ROLES)).only(
        "id", "email", "name", "role", "is_active"
    )
    found = []
    for user in staff:
        local = _key(user.email.split("@", 1)[0])
        names = {_key(user.name), _key(user.name.replace(" ", "."))}
        if local in wanted or names & wanted:
            found.append(user)
    return found
