"""Mailbox URLs that send a password unencrypted are warned about: by `atiende check`, and
in the log when the poller or the sender starts using them (issue #11, item 8)."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command

from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.channels.email import conf, imap, intake
from atiende.channels.email.tests.conftest import fixture
from atiende.worker import queue


@pytest.fixture(autouse=True)
def _warn_again():
    conf._warned.clear()  # the log warning is once per process and server
    yield
    conf._warned.clear()


def check_output(monkeypatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    call_command("check", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize(
    "url",
    [
        "imap://mesa%40certicamara.com:clave@mail.certicamara.com/INBOX",
        "smtp://mesa%40certicamara.com:clave@mail.certicamara.com:587",
        "imap://mesa%40certicamara.com@mail.certicamara.com/INBOX?auth=xoauth2&token_env=T",
    ],
)
def test_atiende_check_warns_about_credentials_in_the_clear(monkeypatch, url):
    out = check_output(monkeypatch, ATIENDE_CORREO_X_URL=url)
    assert "atiende.email.W001" in out and "ATIENDE_CORREO_X_URL" in out
    assert "clave" not in out.replace("envía la clave", "")  # never the password itself


@pytest.mark.parametrize(
    "url",
    [
        "imaps://mesa%40certicamara.com:clave@mail.certicamara.com/INBOX",
        "imap+starttls://mesa%40certicamara.com:clave@mail.certicamara.com/INBOX",
        "smtp+starttls://mesa%40certicamara.com:clave@mail.certicamara.com",
        "smtp://127.0.0.1:25",  # a local relay without authentication
    ],
)
def test_atiende_check_is_quiet_about_encrypted_or_anonymous_urls(monkeypatch, url):
    assert "W001" not in check_output(monkeypatch, ATIENDE_CORREO_X_URL=url)


@pytest.mark.usefixtures("frozen", "sla_targets")
def test_the_poller_warns_when_it_starts_on_plain_imap_with_a_password(
    own_dovecot, correo, acme, caplog
):
    assert own_dovecot.url.startswith("imap://")
    own_dovecot.deliver([fixture("plain.eml")])
    with caplog.at_level(logging.WARNING, logger="atiende.channels.email.conf"):
        assert imap.poll_once(correo).stored == 1
        imap.poll_once(correo)
    warnings = [r for r in caplog.records if "unencrypted" in r.getMessage()]
    assert len(warnings) == 1  # once per process, not every minute
    assert "email poller correo" in warnings[0].getMessage()
    assert "imap://127.0.0.1" in warnings[0].getMessage()


@pytest.mark.usefixtures("frozen", "sla_targets", "smtp_sender")
def test_the_sender_warns_when_it_starts_on_plain_smtp_with_a_password(
    correo, acme, agent, smtp_server, monkeypatch, caplog
):
    got = intake.ingest(fixture("plain.eml"), channel="correo")
    monkeypatch.setenv(
        "ATIENDE_CORREO_SMTP_URL",
        f"smtp://mesa%40certicamara.com:clave@127.0.0.1:{smtp_server.port}",
    )
    cases.add_note(case=Case.objects.get(number=got.case_number), actor=agent, body_text="Hola")
    with caplog.at_level(logging.WARNING, logger="atiende.channels.email.conf"):
        queue.run_pending()
    warnings = [r.getMessage() for r in caplog.records if "unencrypted" in r.getMessage()]
    assert warnings and "email sender correo" in warnings[0] and "clave" not in warnings[0]
