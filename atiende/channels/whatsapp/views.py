"""The WhatsApp webhook: the subscription handshake (GET) and signed notifications (POST).

A POST is verified over its raw bytes, parsed just enough to know it is a notification,
and put in the inbox (a worker job) in one INSERT; the answer is 200 at once. Everything
else — routing, contacts, cases, flows, statuses — happens in `jobs.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from atiende.cases import downloads
from atiende.channels.whatsapp import conf, inbound, media_links
from atiende.core.errors import NotFound
from atiende.worker import queue

log = logging.getLogger(__name__)


def valid_signature(secret: str, raw_body: bytes, header: str | None) -> bool:
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    raw = request.body
    signature = request.META.get("HTTP_X_HUB_SIGNATURE_256")  # request.headers copies them all
    if not valid_signature(conf.app_secret(), raw, signature):
        log.warning(
            "whatsapp webhook: missing or wrong signature from %s", request.META.get("REMOTE_ADDR")
        )
        return HttpResponseForbidden("firma inválida")
    try:
        body = json.loads(raw)
        inbound.parse(body)  # cheap shape check; the worker parses again
    except (ValueError, inbound.Malformed, AttributeError, TypeError) as exc:
        # Signed but unreadable: answering 4xx would make Meta retry it for days to no end.
        log.warning("whatsapp webhook: malformed notification ignored (%s)", exc)
        return HttpResponse("ignorado", status=200, content_type="text/plain")
    queue.enqueue("whatsapp.webhook", {"body": body})
    return HttpResponse("ok", content_type="text/plain")


def _handshake(request: HttpRequest) -> HttpResponse:
    token = conf.verify_token()
    given = request.GET.get("hub.verify_token", "")
    if request.GET.get("hub.mode") == "subscribe" and token and hmac.compare_digest(given, token):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponseForbidden("token de verificación inválido")


@require_GET
def media_link(request: HttpRequest, token: str, filename: str) -> FileResponse:
    """A note's attachment for Meta to fetch (media sent by link): the signed token is the
    only credential; anything invalid, expired or not public is a plain 404. Served as the
    API serves attachments (`cases.downloads`): a download, never a page."""
    att = media_links.attachment_for(token)
    if att is None:
        raise Http404("enlace inválido o vencido")
    try:
        return downloads.attachment_response(att)
    except NotFound:
        raise Http404("archivo no disponible") from None
