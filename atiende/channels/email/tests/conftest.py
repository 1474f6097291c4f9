"""Real peers for the email channel: a throwaway Dovecot and an aiosmtpd that records."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from atiende.channels.email.outbound import SmtpSender
from atiende.channels.email.tests import dovecot as dovecot_server
from atiende.core import clock
from atiende.worker import senders

FIXTURES = Path(__file__).parent / "fixtures"
# Tuesday 3 March 2026, 10:00 in Bogotá: inside horario-habil.
T0 = dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed_or_why(raw: bytes):
    """`inbound.parse` of `raw` on the test channel, or the reason it is unparseable: what
    tests compare when two ways of parsing must agree on every fixture."""
    from atiende.channels.email import inbound

    try:
        return inbound.parse(raw, channel="correo", own_addresses={"soporte@acme.com.co"})
    except inbound.Unparseable as exc:
        return str(exc)


@pytest.fixture
def frozen():
    with clock.frozen(T0) as c:
        yield c


@pytest.fixture
def correo(email_channel, monkeypatch):
    """The reference `correo` channel, with its URLs named the way the configuration names them."""
    email_channel.settings = {
        "imap_url_env": "ATIENDE_CORREO_IMAP_URL",
        "smtp_url_env": "ATIENDE_CORREO_SMTP_URL",
    }
    email_channel.name = "Correo de mesa de ayuda"
    email_channel.save()
    monkeypatch.delenv("ATIENDE_CORREO_IMAP_URL", raising=False)
    monkeypatch.delenv("ATIENDE_CORREO_SMTP_URL", raising=False)
    return email_channel


@pytest.fixture
def smtp_sender():
    """Our SMTP sender, registered for "email" for this test (other tests register fakes)."""
    previous = senders.for_kind("email")
    sender = SmtpSender()
    senders.register("email", sender)
    yield sender
    if previous is not None:
        senders.register("email", previous)
    else:
        senders.unregister("email")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool = False  # the connection was encrypted (STARTTLS or implicit TLS)
    auth: object = None  # what the server's AUTH step accepted, if any


@dataclass
class RecordingHandler:
    messages: list[Received] = field(default_factory=list)
    reject_rcpt: dict[str, str] = field(default_factory=dict)  # address → SMTP reply
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject_rcpt:
            return self.reject_rcpt[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        transport = getattr(server, "transport", None)
        tls = transport is not None and transport.get_extra_info("ssl_object") is not None
        with self.lock:
            self.messages.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content,
                    tls=tls,
                    auth=session.auth_data,
                )
            )
        return "250 Message accepted for delivery"

    def parsed(self, i: int = -1):
        import email
        import email.policy

        return email.message_from_bytes(self.messages[i].data, policy=email.policy.default)


@pytest.fixture
def smtp_server(correo, monkeypatch):
    """A real SMTP server on loopback that records what it receives; `correo` points at it."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    port = dovecot_server.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("ATIENDE_CORREO_SMTP_URL", f"smtp://127.0.0.1:{port}")
    handler.port = port  # type: ignore[attr-defined]
    yield handler
    controller.stop()


@pytest.fixture(scope="session")
def dovecot_session():
    if not dovecot_server.available():
        pytest.skip("dovecot is not installed (.ci/run installs dovecot-imapd)")
    server = dovecot_server.start()
    yield server
    server.stop()


def empty_mailbox(server) -> None:
    """Delete every folder but INBOX and every message in it."""
    c = server.client()
    try:
        for _flags, _delim, name in c.list_folders():
            if name != "INBOX":
                c.delete_folder(name)
        c.select_folder("INBOX")
        uids = c.search("ALL")
        if uids:
            c.delete_messages(uids)
            c.expunge()
    finally:
        c.logout()


@pytest.fixture
def dovecot(dovecot_session, correo, monkeypatch):
    """The session's Dovecot with empty folders; `correo` reads its INBOX."""
    empty_mailbox(dovecot_session)
    monkeypatch.setenv("ATIENDE_CORREO_IMAP_URL", dovecot_session.url)
    return dovecot_session


@pytest.fixture
def own_dovecot(correo, monkeypatch):
    """A Dovecot of this test's own (the shared one's UIDs stay where other tests expect
    them); `correo` reads its INBOX."""
    if not dovecot_server.available():
        pytest.skip("dovecot is not installed (.ci/run installs dovecot-imapd)")
    server = dovecot_server.start()
    monkeypatch.setenv("ATIENDE_CORREO_IMAP_URL", server.url)
    yield server
    server.stop()


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for an `atiende` child process that uses this test's database."""
    import os

    from django.conf import settings
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{s['NAME']}"
    else:
        from urllib.parse import quote

        auth = quote(s["USER"] or "", safe="") + (
            f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
        )
        url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = dict(os.environ, DATABASE_URL=url, ATIENDE_DATA_DIR=str(settings.DATA_DIR))
    env.update(extra)
    return env


ATIENDE = str(Path(__import__("sys").executable).parent / "atiende")
