"""Production mode (ATIENDE_PUBLIC_URL=https://…): the settings it computes, Django's
deployment checks, and how requests are treated behind the TLS proxy. Settings are
computed when the settings module is imported, so each case imports it in a child process
with its own environment; request tests then run here with those computed values."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from atiende.accounts.models import SignInAttempt

ATIENDE = str(Path(sys.executable).parent / "atiende")
PUBLIC = "https://mesa.example.com"
PASSWORD = "clave-segura-1"
KEYS = [
    "PRODUCTION",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "TRUSTED_PROXIES",
    "AUTH_PASSWORD_VALIDATORS",
]
OUR_VARS = (
    "ATIENDE_PUBLIC_URL",
    "ATIENDE_ALLOWED_HOSTS",
    "ATIENDE_CSRF_TRUSTED_ORIGINS",
    "ATIENDE_TRUSTED_PROXIES",
    "ATIENDE_HSTS_SECONDS",
    "ATIENDE_HSTS_INCLUDE_SUBDOMAINS",
    "ATIENDE_HSTS_PRELOAD",
    "ATIENDE_DEBUG",
    "ATIENDE_SECRET_KEY",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests in this process
)


def child_env(tmp_path: Path, **env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in OUR_VARS}
    base.update(DJANGO_SETTINGS_MODULE="atiende.settings", ATIENDE_DATA_DIR=str(tmp_path))
    base.update(env)
    return base


def computed(tmp_path: Path, **env: str) -> dict:
    script = (
        "import json, sys\n"
        "from django.conf import settings as s\n"
        f"keys = {KEYS!r}\n"
        "out = {k: getattr(s, k, None) for k in keys}\n"
        "out['TRUSTED_PROXIES'] = [str(n) for n in s.TRUSTED_PROXIES]\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=child_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def check_deploy(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ATIENDE, "check", "--deploy"],
        env=child_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_no_warning_in_production_mode(tmp_path):
    done = check_deploy(tmp_path, ATIENDE_PUBLIC_URL=PUBLIC)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output and "ERROR" not in output, output
    assert "security." not in output, output
    # What it does say: the first step of the HSTS rollout.
    assert "atiende.I001" in output


def test_check_deploy_is_silent_once_hsts_is_confirmed(tmp_path):
    done = check_deploy(tmp_path, ATIENDE_PUBLIC_URL=PUBLIC, ATIENDE_HSTS_SECONDS="31536000")
    assert done.returncode == 0
    assert "System check identified no issues" in done.stdout, done.stdout + done.stderr


def test_check_deploy_without_a_public_url_still_lists_what_production_mode_fixes(tmp_path):
    done = check_deploy(tmp_path)
    output = done.stdout + done.stderr
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in output, output


def test_production_settings(tmp_path):
    s = computed(tmp_path, ATIENDE_PUBLIC_URL=PUBLIC + "/")
    assert s["PRODUCTION"] is True
    assert s["ALLOWED_HOSTS"] == ["mesa.example.com"]
    assert s["CSRF_TRUSTED_ORIGINS"] == [PUBLIC]
    assert s["SECURE_SSL_REDIRECT"] and s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SESSION_COOKIE_HTTPONLY"] and s["CSRF_COOKIE_HTTPONLY"]
    assert s["SESSION_COOKIE_SAMESITE"] == s["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert s["SECURE_HSTS_SECONDS"] == 3600 and not s["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert s["SECURE_PROXY_SSL_HEADER"] is None  # it would believe every client
    assert s["TRUSTED_PROXIES"] == ["127.0.0.1/32", "::1/128"]
    names = [v["NAME"].rsplit(".", 1)[-1] for v in s["AUTH_PASSWORD_VALIDATORS"]]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


def test_production_settings_with_more_hosts_proxies_and_a_confirmed_hsts(tmp_path):
    s = computed(
        tmp_path,
        ATIENDE_PUBLIC_URL=PUBLIC,
        ATIENDE_ALLOWED_HOSTS="soporte.example.com,.clientes.example.com",
        ATIENDE_TRUSTED_PROXIES="10.0.0.0/24, 192.0.2.10",
        ATIENDE_HSTS_SECONDS="31536000",
        ATIENDE_HSTS_PRELOAD="1",
    )
    assert s["ALLOWED_HOSTS"] == [
        "mesa.example.com",
        "soporte.example.com",
        ".clientes.example.com",
    ]
    assert s["CSRF_TRUSTED_ORIGINS"] == [
        PUBLIC,
        "https://soporte.example.com",
        "https://*.clientes.example.com",
    ]
    assert s["TRUSTED_PROXIES"] == ["10.0.0.0/24", "192.0.2.10/32"]
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and s["SECURE_HSTS_PRELOAD"]


def test_without_a_public_url_nothing_changes(tmp_path):
    s = computed(tmp_path)
    assert s["PRODUCTION"] is False
    assert s["ALLOWED_HOSTS"] == ["*"] and s["CSRF_TRUSTED_ORIGINS"] == []
    assert not s["SECURE_SSL_REDIRECT"] and not s["SESSION_COOKIE_SECURE"]
    assert not s["CSRF_COOKIE_SECURE"] and s["SECURE_HSTS_SECONDS"] == 0
    assert s["TRUSTED_PROXIES"] == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ATIENDE_PUBLIC_URL": "mesa.example.com"}, "ATIENDE_PUBLIC_URL"),
        ({"ATIENDE_PUBLIC_URL": PUBLIC, "ATIENDE_ALLOWED_HOSTS": "*"}, "ATIENDE_ALLOWED_HOSTS"),
        ({"ATIENDE_TRUSTED_PROXIES": "proxy.example.com"}, "ATIENDE_TRUSTED_PROXIES"),
        ({"ATIENDE_PUBLIC_URL": PUBLIC, "ATIENDE_HSTS_SECONDS": "un año"}, "ATIENDE_HSTS_SECONDS"),
        ({"ATIENDE_SIGNIN_MAX_FAILURES": "cinco"}, "ATIENDE_SIGNIN_MAX_FAILURES"),
    ],
)
def test_bad_production_settings_stop_the_start_with_a_clear_error(tmp_path, env, message):
    done = check_deploy(tmp_path, **env)
    assert done.returncode == 2
    assert done.stderr.startswith("atiende: ") and message in done.stderr
    assert "Traceback" not in done.stderr


# -- requests in production mode, with the settings computed above --


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    values = computed(tmp_path_factory.mktemp("prod"), ATIENDE_PUBLIC_URL=PUBLIC)
    values["TRUSTED_PROXIES"] = [ipaddress.ip_network(n) for n in values["TRUSTED_PROXIES"]]
    values.pop("AUTH_PASSWORD_VALIDATORS")
    values["PUBLIC_URL"] = PUBLIC
    return values


@pytest.fixture
def prod(production, db):
    with override_settings(**production):
        yield


PROXY = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}
HOST = {"HTTP_HOST": "mesa.example.com"}


def test_a_request_for_another_host_is_refused(prod, client):
    assert client.get("/accounts/login/", HTTP_HOST="evil.example", **PROXY).status_code == 400
    assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1", **PROXY).status_code == 400
    assert client.get("/accounts/login/", **HOST, **PROXY).status_code == 200


def test_plain_http_is_redirected_to_https(prod, client):
    response = client.get("/canales?x=1", **HOST, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 301
    assert response["Location"] == "https://mesa.example.com/canales?x=1"


def test_x_forwarded_proto_from_anyone_else_is_ignored(prod, client):
    response = client.get(
        "/canales", **HOST, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == 301 and response["Location"].startswith("https://")


def test_https_through_the_proxy_gets_hsts_and_secure_cookies(prod, client):
    response = client.get("/accounts/login/", **HOST, **PROXY)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=3600"
    cookie = response.cookies["csrftoken"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_the_session_cookie_is_secure_httponly_and_lax(prod, client, agent):
    response = client.post(
        "/accounts/login/", {"username": agent.email, "password": PASSWORD}, **HOST, **PROXY
    )
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_the_proxy_tells_the_clients_address_and_no_one_else_can(prod, client):
    def attempt_address(**meta) -> str:
        client.post(
            "/accounts/login/", {"username": "x@acme.com.co", "password": "y"}, **HOST, **meta
        )
        return SignInAttempt.objects.order_by("-id").first().address

    assert attempt_address(**PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7") == "198.51.100.7"
    # A client that sends its own X-Forwarded-For through the proxy: the proxy appends the
    # address it saw, and that right-most one is the one believed.
    assert attempt_address(**PROXY, HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.8") == "198.51.100.8"


def test_forged_forwarded_for_cannot_move_an_untrusted_clients_address(client, db):
    with override_settings(TRUSTED_PROXIES=[ipaddress.ip_network("10.0.0.0/8")]):
        client.post(
            "/accounts/login/",
            {"username": "x@acme.com.co", "password": "y"},
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
        assert SignInAttempt.objects.get().address == "203.0.113.9"
        client.post(
            "/accounts/login/",
            {"username": "x@acme.com.co", "password": "y"},
            REMOTE_ADDR="10.1.2.3",
            HTTP_X_FORWARDED_FOR="198.51.100.7, 10.9.9.9",
        )
        assert SignInAttempt.objects.order_by("-id").first().address == "198.51.100.7"


def test_a_cross_site_post_is_refused_and_a_same_site_one_accepted(prod, agent):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/", **HOST, **PROXY)
    token = page.context["csrf_token"]
    data = {"username": agent.email, "password": PASSWORD, "csrfmiddlewaretoken": str(token)}
    evil = browser.post(
        "/accounts/login/", data, **HOST, **PROXY, HTTP_ORIGIN="https://evil.example"
    )
    assert evil.status_code == 403
    ok = browser.post("/accounts/login/", data, **HOST, **PROXY, HTTP_ORIGIN=PUBLIC)
    assert ok.status_code == 302 and ok["Location"] == "/console/"


def test_an_http_public_url_names_the_host_but_is_not_production_mode(tmp_path):
    s = computed(tmp_path, ATIENDE_PUBLIC_URL="http://mesa.lan:8000")
    assert s["PRODUCTION"] is False
    assert s["ALLOWED_HOSTS"] == ["mesa.lan"]
    assert not s["SECURE_SSL_REDIRECT"] and not s["SESSION_COOKIE_SECURE"]
    done = check_deploy(tmp_path, ATIENDE_PUBLIC_URL="http://mesa.lan:8000")
    assert "atiende.W001" in done.stdout + done.stderr
