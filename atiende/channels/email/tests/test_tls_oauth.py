"""TLS (implicit and STARTTLS) and SASL XOAUTH2 against real servers.

IMAP: a Dovecot with a certificate from a throwaway CA (tests/tls.py), and XOAUTH2 checked
by Dovecot's own `oauth2` passdb, which POSTs every token to a small introspection server
run here (RFC 7662). SMTP: aiosmtpd with STARTTLS required, with implicit TLS, and with an
XOAUTH2 mechanism that checks the SASL string the way Gmail and Microsoft 365 do.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote

import pytest
from aiosmtpd.smtp import MISSING, AuthResult
from imapclient.exceptions import LoginError

from atiende.cases.models import Note
from atiende.channels.email import conf, imap, intake, outbound
from atiende.channels.email.tests import dovecot as dovecot_server
from atiende.channels.email.tests import tls
from atiende.channels.email.tests.conftest import RecordingHandler, empty_mailbox, fixture
from atiende.core.errors import InvalidInput
from atiende.worker import queue
from atiende.worker.errors import DeliveryError

GOOD_TOKEN = "ya29.token-de-prueba"


# -- peers ------------------------------------------------------------------------------


@dataclass
class Introspection:
    """An OAuth2 token introspection endpoint (RFC 7662) that knows one user's tokens."""

    tokens: dict[str, str] = field(default_factory=dict)  # token → username
    seen: list[str] = field(default_factory=list)  # tokens Dovecot asked about
    url: str = ""


@pytest.fixture(scope="session")
def introspection():
    state = Introspection(tokens={GOOD_TOKEN: dovecot_server.USER})

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            token = form.get("token", [""])[0]
            state.seen.append(token)
            user = state.tokens.get(token)
            body = json.dumps({"active": True, "username": user} if user else {"active": False})
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/introspect"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def certificates(tmp_path_factory):
    if not tls.available():
        pytest.skip("the openssl command is not installed")
    return tls.make(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def dovecot_tls_session(certificates, introspection):
    if not dovecot_server.available():
        pytest.skip("dovecot is not installed (.ci/run installs dovecot-imapd)")
    server = dovecot_server.start(
        certificates=certificates, oauth2_introspection_url=introspection.url
    )
    yield server
    server.stop()


@pytest.fixture
def dovecot_tls(dovecot_tls_session, correo):
    empty_mailbox(dovecot_tls_session)
    return dovecot_tls_session


class XOAuth2Handler(RecordingHandler):
    """Accepts `AUTH XOAUTH2` when the SASL string is exactly
    user=<user>\\x01auth=Bearer <token>\\x01\\x01 with a token it issued; otherwise answers the
    way Gmail does: a 334 challenge with a JSON error, then 535 after the client's reply."""

    tokens: dict[str, str]  # token → user
    attempts: list[bytes]

    async def auth_XOAUTH2(self, server, args):
        if len(args) == 2:
            blob = base64.b64decode(args[1])
        else:
            blob = await server.challenge_auth("", encode_to_b64=False)
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        self.attempts.append(blob)
        found = re.fullmatch(rb"user=([^\x01]+)\x01auth=Bearer ([^\x01]+)\x01\x01", blob)
        if found and self.tokens.get(found.group(2).decode()) == found.group(1).decode():
            return AuthResult(success=True, auth_data=found.group(1).decode())
        error = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}
        if await server.challenge_auth(json.dumps(error)) is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False)


def start_smtp(certificates, *, mode: str, xoauth2: bool = False):
    """aiosmtpd with TLS: mode "starttls" (STARTTLS required before MAIL) or "implicit"."""
    from aiosmtpd.controller import Controller

    handler: RecordingHandler
    if xoauth2:
        handler = XOAuth2Handler()
        handler.tokens, handler.attempts = {GOOD_TOKEN: "mesadeayuda@certicamara.com"}, []
    else:
        handler = RecordingHandler()
    port = dovecot_server.free_port()
    options: dict = {}
    if mode == "starttls":
        options |= {"tls_context": certificates.server_context(), "require_starttls": True}
    else:
        options |= {"ssl_context": certificates.server_context()}
    if xoauth2:
        options |= {
            "auth_required": True,
            "auth_require_tls": True,
            "auth_exclude_mechanism": ["PLAIN", "LOGIN"],
        }
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    handler.port = port  # type: ignore[attr-defined]
    return controller, handler


@pytest.fixture
def smtp_starttls(certificates, correo):
    controller, handler = start_smtp(certificates, mode="starttls")
    yield handler
    controller.stop()


@pytest.fixture
def smtp_implicit(certificates, correo):
    controller, handler = start_smtp(certificates, mode="implicit")
    yield handler
    controller.stop()


@pytest.fixture
def smtp_xoauth2(certificates, correo):
    controller, handler = start_smtp(certificates, mode="starttls", xoauth2=True)
    yield handler
    controller.stop()


def ca_query(certificates) -> str:
    return f"ca={quote(str(certificates.ca))}"


def a_message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "mesadeayuda@certicamara.com"
    msg["To"] = "pedro@acme.com.co"
    msg["Subject"] = "[CS0000001] prueba"
    msg.set_content("hola")
    return msg


# -- IMAP -------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["imaps", "imap+starttls"])
def test_imap_over_tls_polls_the_mailbox_trusting_the_ca_named_in_the_url(
    dovecot_tls, correo, acme, monkeypatch, scheme, frozen, sla_targets
):
    dovecot_tls.deliver([fixture("plain.eml")])
    monkeypatch.setenv("ATIENDE_CORREO_IMAP_URL", dovecot_tls.tls_url(scheme))
    result = imap.poll_once(correo)
    assert (result.fetched, result.stored) == (1, 1)
    assert Note.objects.filter(external_id="<plain-1@acme.com.co>").exists()
    logins = [line for line in dovecot_tls.log().splitlines() if "Login: user=<mesa>" in line]
    assert logins and logins[-1].rstrip().split(", ")[-2] == "TLS"  # Dovecot says how it was


@pytest.mark.parametrize("scheme", ["imaps", "imap+starttls"])
def test_imap_refuses_a_certificate_it_cannot_verify(dovecot_tls, scheme):
    url = conf.parse_url(dovecot_tls.tls_url(scheme, ca=False), kind="imap")
    with pytest.raises(ssl.SSLCertVerificationError):
        imap.connect(url)


def test_the_ca_file_can_come_from_the_environment_for_every_mailbox(
    dovecot_tls, certificates, monkeypatch
):
    url = dovecot_tls.tls_url("imaps", ca=False)
    monkeypatch.setenv(conf.CA_FILE_ENV, str(certificates.ca))
    client = imap.connect(conf.parse_url(url, kind="imap"))
    try:
        assert b"UIDVALIDITY" in client.select_folder("INBOX")
    finally:
        client.logout()
    monkeypatch.setenv(conf.CA_FILE_ENV, "/no/such/ca.pem")
    with pytest.raises(InvalidInput, match=r"/no/such/ca\.pem"):
        imap.connect(conf.parse_url(url, kind="imap"))


def test_imap_xoauth2_is_checked_by_dovecot_against_the_introspection_endpoint(
    dovecot_tls, introspection, correo, acme, monkeypatch, certificates, frozen, sla_targets
):
    dovecot_tls.deliver([fixture("plain.eml")])
    monkeypatch.setenv("MS365_TOKEN", GOOD_TOKEN)
    monkeypatch.setenv(
        "ATIENDE_CORREO_IMAP_URL",
        f"imaps://{dovecot_server.USER}@127.0.0.1:{dovecot_tls.ssl_port}/INBOX"
        f"?auth=xoauth2&token_env=MS365_TOKEN&{ca_query(certificates)}",
    )
    assert imap.poll_once(correo).stored == 1
    assert introspection.seen[-1] == GOOD_TOKEN
    assert "method=XOAUTH2" in dovecot_tls.log()


def test_imap_xoauth2_with_a_token_the_provider_does_not_know_fails_to_log_in(
    dovecot_tls, introspection, monkeypatch, certificates
):
    monkeypatch.setenv("MS365_TOKEN", "caducado")
    url = conf.parse_url(
        f"imap+starttls://{dovecot_server.USER}@127.0.0.1:{dovecot_tls.port}/INBOX"
        f"?auth=xoauth2&token_env=MS365_TOKEN&{ca_query(certificates)}",
        kind="imap",
    )
    with pytest.raises(LoginError):
        imap.connect(url)
    assert introspection.seen[-1] == "caducado"
    monkeypatch.delenv("MS365_TOKEN")
    with pytest.raises(InvalidInput, match="MS365_TOKEN"):
        imap.connect(url)


# -- SMTP -------------------------------------------------------------------------------


pytestmark_smtp = pytest.mark.usefixtures("frozen", "sla_targets", "smtp_sender")


@pytestmark_smtp
def test_smtp_starttls_delivers_the_acknowledgement_encrypted(
    smtp_starttls, correo, acme, certificates, monkeypatch
):
    monkeypatch.setenv(
        "ATIENDE_CORREO_SMTP_URL",
        f"smtp+starttls://127.0.0.1:{smtp_starttls.port}?{ca_query(certificates)}",
    )
    got = intake.ingest(fixture("plain.eml"), channel="correo")
    queue.run_pending()
    ack = Note.objects.get(case__number=got.case_number, automatic=True)
    assert ack.delivery_status == "sent"
    assert len(smtp_starttls.messages) == 1 and smtp_starttls.messages[0].tls


def test_a_server_that_requires_starttls_refuses_plain_smtp(smtp_starttls):
    url = conf.parse_url(f"smtp://127.0.0.1:{smtp_starttls.port}", kind="smtp")
    with pytest.raises(DeliveryError, match="530"):
        outbound.send(url, a_message(), envelope_from="", to=["pedro@acme.com.co"])
    assert smtp_starttls.messages == []


@pytestmark_smtp
def test_smtps_delivers_over_implicit_tls(smtp_implicit, correo, acme, certificates, monkeypatch):
    monkeypatch.setenv(
        "ATIENDE_CORREO_SMTP_URL",
        f"smtps://127.0.0.1:{smtp_implicit.port}?{ca_query(certificates)}",
    )
    got = intake.ingest(fixture("plain.eml"), channel="correo")
    queue.run_pending()
    assert Note.objects.get(case__number=got.case_number, automatic=True).delivery_status == "sent"
    assert len(smtp_implicit.messages) == 1 and smtp_implicit.messages[0].tls


@pytest.mark.parametrize("scheme", ["smtps", "smtp+starttls"])
def test_smtp_refuses_a_certificate_it_cannot_verify_and_retries_later(
    smtp_starttls, smtp_implicit, scheme
):
    server = smtp_implicit if scheme == "smtps" else smtp_starttls
    url = conf.parse_url(f"{scheme}://127.0.0.1:{server.port}", kind="smtp")
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED") as failure:
        outbound.send(url, a_message(), envelope_from="", to=["pedro@acme.com.co"])
    assert not failure.value.permanent and server.messages == []


def test_a_certificate_for_another_host_is_refused_even_from_a_trusted_ca(tmp_path, correo):
    other = tls.make(tmp_path / "otro", names="DNS:otro.example")
    controller, server = start_smtp(other, mode="implicit")
    try:
        url = conf.parse_url(f"smtps://127.0.0.1:{server.port}?{ca_query(other)}", kind="smtp")
        with pytest.raises(DeliveryError, match=r"CERTIFICATE_VERIFY_FAILED.*mismatch"):
            outbound.send(url, a_message(), envelope_from="", to=["pedro@acme.com.co"])
        assert server.messages == []
    finally:
        controller.stop()


@pytestmark_smtp
def test_smtp_xoauth2_sends_the_sasl_string_with_the_token_from_the_environment(
    smtp_xoauth2, correo, acme, certificates, monkeypatch
):
    monkeypatch.setenv("GMAIL_TOKEN", GOOD_TOKEN)
    monkeypatch.setenv(
        "ATIENDE_CORREO_SMTP_URL",
        f"smtp+starttls://mesadeayuda%40certicamara.com@127.0.0.1:{smtp_xoauth2.port}"
        f"?auth=xoauth2&token_env=GMAIL_TOKEN&{ca_query(certificates)}",
    )
    got = intake.ingest(fixture("plain.eml"), channel="correo")
    queue.run_pending()
    assert Note.objects.get(case__number=got.case_number, automatic=True).delivery_status == "sent"
    assert smtp_xoauth2.attempts == [
        f"user=mesadeayuda@certicamara.com\x01auth=Bearer {GOOD_TOKEN}\x01\x01".encode()
    ]
    sent = smtp_xoauth2.messages[0]
    assert sent.tls and sent.auth == "mesadeayuda@certicamara.com"


def test_smtp_xoauth2_with_a_refused_token_is_a_temporary_failure(
    smtp_xoauth2, certificates, monkeypatch
):
    monkeypatch.setenv("GMAIL_TOKEN", "caducado")
    url = conf.parse_url(
        f"smtp+starttls://mesadeayuda%40certicamara.com@127.0.0.1:{smtp_xoauth2.port}"
        f"?auth=xoauth2&token_env=GMAIL_TOKEN&{ca_query(certificates)}",
        kind="smtp",
    )
    with pytest.raises(DeliveryError, match="535") as failure:
        outbound.send(url, a_message(), envelope_from="", to=["pedro@acme.com.co"])
    assert not failure.value.permanent and smtp_xoauth2.messages == []
    assert b"auth=Bearer caducado" in smtp_xoauth2.attempts[0]
    monkeypatch.delenv("GMAIL_TOKEN")
    with pytest.raises(DeliveryError, match="GMAIL_TOKEN") as missing:
        outbound.send(url, a_message(), envelope_from="", to=["pedro@acme.com.co"])
    assert not missing.value.permanent


def test_imap_xoauth2_rereads_a_token_file_that_a_helper_refreshes(
    dovecot_tls, introspection, certificates, tmp_path
):
    token_file = tmp_path / "ms365.token"
    token_file.write_text("caducado\n")
    url = conf.parse_url(
        f"imaps://{dovecot_server.USER}@127.0.0.1:{dovecot_tls.ssl_port}/INBOX"
        f"?auth=xoauth2&token_file={quote(str(token_file))}&{ca_query(certificates)}",
        kind="imap",
    )
    with pytest.raises(LoginError):
        imap.connect(url)
    token_file.write_text(GOOD_TOKEN + "\n")  # what the refresh job does, no restart
    client = imap.connect(url)
    client.logout()
    assert introspection.seen[-2:] == ["caducado", GOOD_TOKEN]
    token_file.unlink()
    with pytest.raises(InvalidInput, match=r"ms365\.token"):
        imap.connect(url)
