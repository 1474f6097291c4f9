"""API tokens: every user sees and revokes their own (anyone else's is a 404). A token is
shown only once, when `atiende create-user --api-token` issues it; here only its prefix
appears."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from atiende.accounts import selectors, services
from atiende.accounts.models import ApiToken

from .auth import caller
from .types import Id

router = Router(tags=["tokens"])


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenList(Schema):
    items: list[TokenOut]
    count: int


def token_out(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    }


@router.get("/tokens", response=TokenList, summary="Mis tokens de API")
def list_tokens(request: HttpRequest) -> dict[str, Any]:
    """Los tokens propios (prefijo, nombre, creación, último uso — anotado como mucho una vez
    por minuto — y revocación). El token completo no se vuelve a mostrar."""
    user = caller(request)
    rows = list(selectors.tokens_of(user)[:100])
    return {"items": [token_out(r) for r in rows], "count": len(rows)}


@router.post("/tokens/{token_id}/revoke", response=TokenOut, summary="Revocar un token propio")
def revoke_token(request: HttpRequest, token_id: Id) -> dict[str, Any]:
    """Solo los tokens propios (el de otro usuario u organización: 404). Desde ese momento
    el token es un 401. Revocar uno ya revocado no cambia nada."""
    user = caller(request)
    row = services.revoke_token(token=selectors.token_for(user, token_id), actor=user)
    return token_out(row)
