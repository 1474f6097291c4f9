"""The request id, the webhook timings, and the ops endpoints answered early.

`RequestIdMiddleware` goes before TrustedProxyMiddleware (settings.MIDDLEWARE), while
REMOTE_ADDR is still the peer: a trusted proxy's `X-Request-ID` is kept (so its access
log and atiende's agree), anyone else's replaced. `OpsMiddleware` goes right after it:
the client's address is then the real one (so `/metrics`' loopback rule cannot be met
through the proxy), and the host check and HTTPS redirect, which come later, do not apply
to `/healthz`, `/readyz` and `/metrics` — a balancer probes a machine by its address over
plain HTTP."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.signals import request_finished
from django.urls import resolve

from atiende.core import requestid
from atiende.core.middleware import _in

log = logging.getLogger(__name__)

# Answered here, by the views their URL patterns name (ops/urls.py, ops/views.py).
EARLY = frozenset({"/healthz", "/readyz", "/metrics"})
# The webhooks' path segment after /webhooks/ -> the channel kind in the histogram.
WEBHOOK_KINDS = {"whatsapp": "whatsapp", "cti": "phone"}


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        peer = request.META.get("REMOTE_ADDR", "")
        trusted = bool(incoming) and bool(settings.TRUSTED_PROXIES)
        trusted = trusted and _in(peer, settings.TRUSTED_PROXIES)
        rid = requestid.accept(incoming) if trusted else requestid.new()
        # Kept until the response is closed (request_finished, below), so the lines Django
        # writes after the middleware returns (django.request's 4xx/5xx) carry it too.
        requestid.current.set(rid)
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


def _request_finished(**kwargs) -> None:
    requestid.current.set("")


request_finished.connect(_request_finished, dispatch_uid="atiende-request-id-finished")


class OpsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in EARLY:
            return resolve(request.path_info).func(request)
        if not request.path_info.startswith("/webhooks/") or request.method != "POST":
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        kind = WEBHOOK_KINDS.get(request.path_info.split("/")[2])
        if kind:
            from atiende.ops import metrics

            try:
                metrics.observe_webhook(kind, time.perf_counter() - started)
            except Exception:  # the event is already in the inbox: the answer must go out
                log.exception("webhook metrics: observation failed")
        return response
