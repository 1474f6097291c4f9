"""Webhooks skip the browser's middleware (channels/middleware.py), and keep what every
request needs: the host check, the security headers, the request id, the 503 of an
unreachable database, the webhook timings."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation

from atiende.channels.phone.tests.conftest import BOGOTA_TOKEN, event, lines  # noqa: F401
from atiende.worker.models import Job

pytestmark = pytest.mark.usefixtures("lines")
PATH = "/webhooks/cti/linea-bogota"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {BOGOTA_TOKEN}"}


def post(client: Client, body: dict | None = None, path: str = PATH, **extra):
    payload = json.dumps(body or event("newCall"))
    return client.generic("POST", path, payload, "application/json", **AUTH, **extra)


def test_a_webhook_skips_sessions_authentication_and_cookies(client):
    resp = post(client)
    assert resp.status_code == 200
    request = resp.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "user")
    assert not resp.cookies
    assert "Cookie" not in resp.get("Vary", "")


def test_a_page_still_gets_the_browser_middleware(client):
    resp = client.get("/accounts/login/")
    assert resp.status_code == 200
    assert hasattr(resp.wsgi_request, "session") and hasattr(resp.wsgi_request, "user")
    assert "csrftoken" in resp.cookies
    assert resp["X-Frame-Options"] == "DENY"


def test_a_webhook_answer_carries_the_headers_every_answer_carries(client):
    resp = post(client)
    assert resp["X-Request-ID"]
    assert "frame-ancestors 'none'" in resp["Content-Security-Policy"]
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["X-Frame-Options"] == "DENY"
    assert resp["Content-Language"] == "es-co"
    assert resp["Content-Length"] == str(len(resp.content))


def test_a_webhook_from_an_unknown_host_is_400_and_stores_nothing(client, settings):
    settings.ALLOWED_HOSTS = ["atiende.example.co"]
    resp = post(client, HTTP_HOST="evil.example.com")
    assert resp.status_code == 400
    assert not Job.objects.filter(kind="phone.event").exists()
    assert post(client, HTTP_HOST="atiende.example.co").status_code == 200


def test_an_unknown_webhook_path_is_404_not_500(client):
    assert post(client, path="/webhooks/no-such-channel").status_code == 404


def test_a_webhook_path_is_resolved_once_and_an_unknown_one_never_kept(client):
    from atiende.channels import middleware

    middleware._resolve.cache_clear()
    assert post(client).status_code == 200
    assert post(client, event("answer")).status_code == 200
    assert middleware._resolve.cache_info().hits == 1
    assert middleware._resolve.cache_info().currsize == 1
    for _ in range(2):
        assert post(client, path="/webhooks/nada/otra").status_code == 404
    assert middleware._resolve.cache_info().currsize == 1


def test_a_webhook_runs_in_the_default_language_whatever_the_thread_served_before(client):
    translation.activate("en")  # as a page for an English-speaking agent leaves the thread
    try:
        resp = post(client, {"event": "ring", "direction": "in", "callId": "x"})
        during = translation.get_language()  # the language the post ran in, left active
    finally:
        translation.deactivate()
    assert during == "es-co"
    assert resp.status_code == 422
    assert resp["Content-Language"] == "es-co"
    assert "Evento inválido" in resp.json()["error"]


def test_the_webhook_timings_are_still_observed(client):
    from atiende.ops import metrics

    def observed() -> float:
        samples = [s for f in metrics.webhook_histogram().collect() for s in f.samples]
        wanted = [
            s.value
            for s in samples
            if s.name.endswith("_count") and s.labels.get("channel") == "phone"
        ]
        return sum(wanted)

    before = observed()
    post(client)
    assert observed() == before + 1


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_is_a_503_with_retry_after_and_nothing_stored():
    """The database really unreachable: the connection pointed at nothing for one post."""
    original = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict["PORT"] = "1"  # nothing listens there
    else:
        connection.settings_dict["NAME"] = "/nonexistent/atiende/db.sqlite3"
    try:
        resp = Client(raise_request_exception=False).generic(
            "POST", PATH, json.dumps(event("newCall")), "application/json", **AUTH
        )
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)
    assert resp.status_code == 503
    assert resp["Retry-After"]
    assert not Job.objects.filter(kind="phone.event").exists()
