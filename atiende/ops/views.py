"""`/healthz`, `/readyz` and `/metrics`: for load balancers and Prometheus, not people.

They are answered early by `middleware.OpsMiddleware` (before the host check and the
HTTPS redirect, so a balancer can probe a machine by its address over plain HTTP); the
URL patterns lead to the same views when that middleware is not installed."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from atiende.core import clock
from atiende.ops import health


def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is looked at (no database)."""
    return _no_store(JsonResponse({"status": "ok", "time": clock.now().isoformat()}))


def readyz(request: HttpRequest) -> HttpResponse:
    ok, checks = health.readiness()
    body = {"status": "ok" if ok else "fail", "checks": checks}
    return _no_store(JsonResponse(body, status=200 if ok else 503))


def metrics(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        response = JsonResponse(
            {
                "code": "unauthorized",
                "detail": "Las métricas solo se leen desde esta máquina o con "
                "Authorization: Bearer <ATIENDE_METRICS_TOKEN>.",
            },
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    from atiende.ops import metrics as exposition

    body, content_type = exposition.render()
    return _no_store(HttpResponse(body, content_type=content_type))


def _may_scrape(request: HttpRequest) -> bool:
    """From loopback (the real client: TrustedProxyMiddleware has run), or with the token."""
    token = settings.ATIENDE_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer "):
        return hmac.compare_digest(given[7:].strip().encode(), token.encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response
