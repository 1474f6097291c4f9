"""Security headers on every HTML page (and on the rest: they cost nothing there)."""

from __future__ import annotations

import pytest

from atiende.core.middleware import content_security_policy

PAGES = ["/", "/canales", "/accounts/login/", "/accounts/password/reset/", "/admin/login/"]


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_security_headers(client, reference, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Type"].startswith("text/html")
    csp = directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline code, no other origin, no nonce needed
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


def test_the_api_docs_page_loads_nothing_from_other_origins(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn." not in html and "https://" not in html.split("<body", 1)[0]
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_json_answers_carry_the_headers_too(client, db):
    response = client.get("/api/v1/channels")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_page_that_needs_inline_code_gets_a_nonce_only_there():
    with_nonce = directives(content_security_policy("abc123"))
    assert with_nonce["script-src"] == ["'self'", "'nonce-abc123'"]
    assert with_nonce["style-src"] == ["'self'", "'nonce-abc123'"]


def test_the_nonce_in_the_header_is_the_one_the_template_used(rf, db):
    from django.http import HttpResponse
    from django.template import engines

    from atiende.core.middleware import SecurityHeadersMiddleware

    template = engines["django"].from_string('<script nonce="{{ request.csp_nonce }}">1</script>')

    def view(request):
        return HttpResponse(template.render({"request": request}))

    response = SecurityHeadersMiddleware(view)(rf.get("/"))
    nonce = response.content.decode().split('nonce="')[1].split('"')[0]
    assert len(nonce) >= 16
    assert f"'nonce-{nonce}'" in directives(response["Content-Security-Policy"])["script-src"]


def test_scripts_get_the_csrf_token_from_the_page_not_from_the_cookie(client, db):
    response = client.get("/accounts/login/")
    assert response.cookies["csrftoken"]["httponly"]
    html = response.content.decode()
    header_token = html.split('"X-CSRFToken": "')[1].split('"')[0]
    form_token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert header_token and form_token  # both masked forms of the cookie's secret
    from django.middleware.csrf import _unmask_cipher_token

    assert _unmask_cipher_token(header_token) == _unmask_cipher_token(form_token)
