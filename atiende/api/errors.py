"""One error format for the whole API.

    {"code": "invalid", "detail": "<mensaje en español>", "errors": {"campo": "mensaje"}}

`errors` appears only when there are field-level messages; a domain error's extra items
(e.g. `limit` of a 413, `current`/`requested` of a refused transition) are added at the
top level. Request validation (django-ninja/pydantic) is translated to the same shape,
with the messages in Spanish.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.signals import got_request_exception
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from atiende.core import dbfaults
from atiende.core.errors import DomainError, InvalidInput

logger = logging.getLogger("atiende.api")

_SCALARS = (str, int, float, bool, type(None), list, dict)


def body(
    code: str, detail: str, errors: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "detail": detail}
    if errors:
        out["errors"] = errors
    for key, value in extra.items():
        if key not in out:
            out[key] = value if isinstance(value, _SCALARS) else str(value)
    return out


# Pydantic's error types, said in Spanish. `{...}` are filled from the error's context.
_MESSAGES = {
    "missing": "Este campo es obligatorio.",
    "string_type": "Debe ser un texto.",
    "string_unicode": "El texto contiene caracteres inválidos.",
    "int_type": "Debe ser un número entero.",
    "int_parsing": "Debe ser un número entero.",
    "int_from_float": "Debe ser un número entero.",
    "int_parsing_size": "El número es demasiado grande.",
    "float_type": "Debe ser un número.",
    "float_parsing": "Debe ser un número.",
    "bool_type": "Debe ser verdadero o falso.",
    "bool_parsing": "Debe ser verdadero o falso.",
    "list_type": "Debe ser una lista.",
    "dict_type": "Debe ser un objeto JSON.",
    "model_type": "Debe ser un objeto JSON.",
    "model_attributes_type": "Debe ser un objeto JSON.",
    "literal_error": "Valor inválido; use uno de: {expected}.",
    "enum": "Valor inválido; use uno de: {expected}.",
    "greater_than": "Debe ser mayor que {gt}.",
    "greater_than_equal": "Debe ser mayor o igual a {ge}.",
    "less_than": "Debe ser menor que {lt}.",
    "less_than_equal": "Debe ser menor o igual a {le}.",
    "string_too_short": "Debe tener al menos {min_length} caracteres.",
    "string_too_long": "Admite máximo {max_length} caracteres.",
    "too_short": "Debe tener al menos {min_length} elementos.",
    "too_long": "Admite máximo {max_length} elementos.",
    "string_pattern_mismatch": "Formato inválido.",
    "extra_forbidden": "Campo desconocido.",
    "json_invalid": "JSON inválido.",
    "union_tag_invalid": "Valor inválido.",
}


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    template = _MESSAGES.get(kind)
    if template is None:
        return str(error.get("msg", "Valor inválido."))
    try:
        return template.format(**ctx).replace(" or ", " o ")
    except (KeyError, IndexError):
        return template


def _field(loc: tuple[Any, ...]) -> str:
    """('body', 'payload', 'emails', 0) -> 'emails.0'; ('query', 'limit') -> 'limit'."""
    source, *rest = loc or ("body",)
    if source == "body":
        rest = rest[1:]  # the view's parameter name, not something the client sent
    return ".".join(str(part) for part in rest) or str(source)


def validation_errors(errors: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in errors:
        out.setdefault(_field(tuple(error.get("loc", ()))), _message(error))
    return out


def install(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, content: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, content, status=status)

    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        errors = exc.errors if isinstance(exc, InvalidInput) else None
        return respond(request, exc.status, body(exc.code, exc.message, errors, **exc.extra))

    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = validation_errors(exc.errors)
        return respond(request, 422, body("invalid", "Datos inválidos.", errors))

    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = respond(
            request,
            401,
            body(
                "unauthenticated",
                "Se requiere autenticación: envíe el encabezado «Authorization: Bearer <token>».",
            ),
        )
        response["WWW-Authenticate"] = 'Bearer realm="atiende"'
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # django-ninja raises these itself; the only one a client can provoke is an
        # unparseable body.
        if exc.status_code == 400:
            return respond(
                request,
                400,
                body(
                    "bad_request",
                    "No se pudo interpretar el cuerpo de la petición; envíe JSON válido.",
                    {"body": "JSON inválido."},
                ),
            )
        return respond(request, exc.status_code, body("error", str(exc)))

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 404, body("not_found", "No encontrado."))

    def on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 413, body("too_large", "La petición es demasiado grande."))

    def on_bad_request(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 400, body("bad_request", "La petición no se pudo interpretar."))

    def on_conflict(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A concurrent change won a unique constraint the service had checked a moment ago.
        logger.info("integrity error on %s %s: %s", request.method, request.path, exc)
        return respond(
            request,
            409,
            body(
                "conflict", "Otro cambio simultáneo entró en conflicto con este; intente de nuevo."
            ),
        )

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Still reported as Django reports it (logging, error tracking, the test client),
        # but answered in the API's format.
        logger.exception("unexpected error on %s %s", request.method, request.path)
        got_request_exception.send(sender=None, request=request)
        return respond(request, 500, body("server_error", "Error interno del servidor."))

    # django-ninja types a handler's argument as "the exception or its class": ours take
    # the exception, which is what it passes.
    add: Any = api.add_exception_handler
    add(DomainError, on_domain_error)
    add(ValidationError, on_validation_error)
    add(AuthenticationError, on_unauthenticated)
    add(HttpError, on_http_error)
    add(Http404, on_not_found)
    add(RequestDataTooBig, on_too_big)
    add(SuspiciousOperation, on_bad_request)
    add(MultiPartParserError, on_bad_request)
    add(IntegrityError, on_conflict)
    for unavailable in dbfaults.UNAVAILABLE:  # the database unreachable: 503, not 500
        add(unavailable, dbfaults.api_response)
    add(Exception, on_unexpected)
