"""The database unreachable (restarting, failed over, connection lost): a 503, not a 500.

A request whose database call fails because the server cannot be reached gets a fast
503 with `Retry-After` — the API's JSON error (`{"code": "unavailable", ...}`) under
/api/, a short plain page elsewhere — and the broken connection is dropped at the end of
the request (Django closes connections that had errors), so the next request connects
afresh and succeeds as soon as the server is back. Nothing is half-written: the failed
request's transaction never committed.

`Middleware` covers views; the API, which turns every exception into its own answer,
registers `api_response` for the same errors (api/errors.py); `server_error`, the project's
500 handler (urls.py), covers what fails outside a view — a middleware that reads the
session or saves it, say.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

log = logging.getLogger(__name__)

# OperationalError: connection refused or lost, server shutting down or starting up,
# SQLite busy past its timeout. InterfaceError: a connection already closed.
UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
MESSAGE = (
    "La base de datos no está disponible en este momento; no se guardó nada. "
    "Intente de nuevo en unos segundos."
)
PAGE = (
    '<!doctype html><html lang="es"><meta charset="utf-8"><title>Servicio no disponible'
    "</title><h1>Servicio no disponible</h1><p>{message}</p></html>"
)


def is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, UNAVAILABLE)


def _log(request: HttpRequest, exc: BaseException) -> None:
    log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)


def api_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    _log(request, exc)
    response = JsonResponse({"code": "unavailable", "detail": MESSAGE}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def page_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    _log(request, exc)
    response = HttpResponse(PAGE.format(message=MESSAGE), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class Middleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return response_for(request, exc) if is_unavailable(exc) else None


def response_for(request: HttpRequest, exc: BaseException) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_response(request, exc)
    return page_response(request, exc)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler: an unreachable database anywhere in the request is a 503 too."""
    exc = sys.exc_info()[1]
    if exc is not None and is_unavailable(exc):
        return response_for(request, exc)
    return defaults.server_error(request)
