"""The generic-CTI webhook: `POST /webhooks/cti/<line>`.

The PBX holds the call while it waits for the answer, so the view does only what the answer
depends on — the line, the token, the event's shape, the block list for `newCall` — and puts
the event in the inbox (a worker job, one INSERT, deduplicated per line, call and event).
For an outbound `newCall` it answers the caller id to present (`dial`), from the line's
settings. The call log, the caller lookup and callbacks are the worker's (`jobs.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from atiende.channels.phone import conf, inbound, selectors
from atiende.core import clock
from atiende.customers.phones import normalize
from atiende.worker import queue

log = logging.getLogger(__name__)

JSON_TYPES = ("application/json", "text/json")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse(
        {"error": message, **extra}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def _given_token(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")  # request.headers copies every header
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.GET.get("token", "")


def _fields(request: HttpRequest) -> dict[str, list[str]]:
    content_type = (request.content_type or "").lower()
    if content_type in JSON_TYPES:
        return inbound.decode_json(request.body)
    if content_type in FORM_TYPES:
        try:
            return {key: request.POST.getlist(key) for key in request.POST}
        except Exception as exc:  # Django's multipart parser refuses a broken body
            raise inbound.Invalid("El formulario no se pudo leer.") from exc
    raise inbound.Invalid(
        "Tipo de contenido no admitido: envíe JSON o un formulario (application/x-www-form-urlencoded)."
    )


def dedupe_key(line: str, call_id: str, event: str) -> str:
    digest = hashlib.sha256(call_id.encode()).hexdigest()[:40]
    return f"cti:{line}:{event}:{digest}"


def _dial(line, event: inbound.CtiEvent) -> dict:
    """The caller id an outbound call should present (the line's `outbound_caller_ids`
    rules, else its `outbound_caller_id`): `{"action": "dial", "caller_id", "number"}`;
    `{}` when the line sets none (the PBX keeps its own)."""
    dialled = normalize(event.to, zone=conf.zone(line))
    ways = [(dialled.e164 or "").lstrip("+"), re.sub(r"\D", "", event.to)]
    caller_id = conf.caller_id_for(line, ways)
    if not caller_id:
        return {}
    return {"action": "dial", "caller_id": caller_id, "number": event.to}


@csrf_exempt
def webhook(request: HttpRequest, channel_id: str) -> JsonResponse:
    if request.method != "POST":
        return _error(405, "Solo se admite POST.")
    line = conf.line(channel_id)
    if line is None:
        return _error(404, f"No existe la línea telefónica {channel_id!r}.")
    expected = conf.token(line)
    given = _given_token(request)
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning(
            "cti %s: missing or wrong token from %s", line.slug, request.META.get("REMOTE_ADDR")
        )
        return _error(401, "Token inválido; consulte al administrador.")
    if not conf.address_allowed(line, request.META.get("REMOTE_ADDR", "")):
        log.warning("cti %s: post from %s refused", line.slug, request.META.get("REMOTE_ADDR"))
        return _error(403, "Esta dirección no puede enviar eventos a la línea.")
    if len(request.body) > inbound.MAX_BODY:
        return _error(413, "El evento es demasiado grande.")
    try:
        event = inbound.parse(_fields(request))
    except inbound.Invalid as exc:
        return _error(422, exc.reason, **({"field": exc.field} if exc.field else {}))
    answer: dict = {}
    caller = None
    if event.event == "newCall" and event.direction == "in":
        caller = normalize(event.from_, zone=conf.zone(line))
        if selectors.is_blocked(line, caller):
            answer = {"action": "reject", "reason": "busy"}
    elif event.event == "newCall" and event.direction == "out":
        answer = _dial(line, event)
    # One statement, no transaction of its own (queue.enqueue_once): a duplicate is a no-op.
    queue.enqueue_once(
        "phone.event",
        {"line": line.slug, "event": event.as_payload(), "received_at": clock.now().isoformat()},
        dedupe_key=dedupe_key(line.slug, event.call_id, event.event),
    )
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})
