"""Who is calling: a bearer token, or a signed-in browser session.

Tokens are looked up by their SHA-256 (`accounts.services.user_for_token`). A session is
accepted so the portal and the console can call the API from the same origin; unsafe
methods then need Django's CSRF token, exactly as a form post would.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from atiende.accounts.models import User
from atiende.accounts.services import user_for_token
from atiende.core.errors import PermissionDenied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return user_for_token(token.strip())


class BrowserSession(APIKeyCookie):
    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, and only for a signed-in session

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise PermissionDenied(
                "Falta el token CSRF o no es válido; envíe el encabezado X-CSRFToken.",
                code="csrf_failed",
            )
        return user


AUTH = [BearerToken(), BrowserSession()]


def caller(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def require_staff(user: User) -> None:
    if not user.is_agent:
        raise PermissionDenied("Solo el personal de la mesa de ayuda puede hacer esto.")
