"""Reads of accounts: a user's own API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from atiende.accounts.models import ApiToken, User
from atiende.core.errors import NotFound


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first (an admin too sees only their own here)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def token_for(user: User, token_id: int) -> ApiToken:
    row = tokens_of(user).filter(pk=token_id).first()
    if row is None:
        raise NotFound(f"No existe el token {token_id}.")
    return row
