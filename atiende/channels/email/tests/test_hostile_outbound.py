"""Hostile suite, outbound mail: no text a customer controls — a subject, a display name,
an address, a note's body, an attachment's name — can add a header or a recipient. Every
assertion is on the bytes the real aiosmtpd server received (issue #11)."""

from __future__ import annotations

import email
import email.policy

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Case, Note
from atiende.channels import services as channels
from atiende.channels.email import intake
from atiende.channels.email.tests.conftest import fixture
from atiende.customers.models import ContactEmail
from atiende.worker import queue
from atiende.worker.models import Job

pytestmark = pytest.mark.usefixtures("frozen", "sla_targets", "smtp_sender")

EVIL = "evil@attacker.example"


def header_block(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[0]


def header_names(data: bytes) -> list[str]:
    """The names of the top-level header fields, as the bytes on the wire have them."""
    names = []
    for line in header_block(data).split(b"\r\n"):
        if line and not line[:1].isspace():
            names.append(line.split(b":", 1)[0].decode("ascii", "replace").lower())
    return names


def assert_clean(smtp_server, *, to: str) -> email.message.EmailMessage:
    """Exactly one message, to `to` only, with no header a customer could have smuggled."""
    assert len(smtp_server.messages) == 1, [m.rcpt_tos for m in smtp_server.messages]
    got = smtp_server.messages[0]
    assert got.rcpt_tos == [to]
    names = header_names(got.data)
    for smuggled in ("bcc", "cc", "x-injected", "content-type-x"):
        assert smuggled not in names
    assert names.count("to") == 1 and names.count("subject") == 1 and names.count("from") == 1
    msg = email.message_from_bytes(got.data, policy=email.policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == [to]
    return msg


@pytest.fixture
def case(correo, acme, smtp_server):
    got = intake.ingest(fixture("plain.eml"), channel="correo")
    case = Case.objects.get(number=got.case_number)
    queue.run_pending()  # the acknowledgement
    smtp_server.messages.clear()
    return case


@pytest.mark.parametrize(
    "subject",
    [
        f"Ayuda\r\nBcc: {EVIL}",
        f"Ayuda\nBcc: {EVIL}",
        "Ayuda\rX-Injected: 1\r\n\r\ncuerpo falso",
        f"=?utf-8?q?Ayuda=0D=0ABcc:_{EVIL}?=",
        "Ayuda\u2028Bcc: " + EVIL,
        "Ayuda\x0b\x0c\x1b\x85Bcc: " + EVIL,  # (PostgreSQL text holds no NUL at all)
    ],
    ids=["crlf", "lf", "cr-body", "encoded-word", "line-separator", "controls"],
)
def test_a_subject_with_line_breaks_adds_no_header(case, agent, smtp_server, subject):
    Case.objects.filter(pk=case.pk).update(subject=subject)  # however it got there
    note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
    queue.run_pending()
    msg = assert_clean(smtp_server, to="pedro@acme.com.co")
    assert "Ayuda" in msg["Subject"] and case.number in msg["Subject"]
    assert Note.objects.get(pk=note.pk).delivery_status == "sent"


@pytest.mark.parametrize(
    "name",
    [
        f'Pedro, "Jefe" <{EVIL}>',
        f"Pedro\r\nBcc: {EVIL}",
        f'"Pedro"\r\n\tCc: {EVIL}',
        f"Pedro <pedro@acme.com.co>, {EVIL}",
        "Pérez; Gómez (oficina) \\ <>",
        f"Pérez, <{EVIL}>",
        f"=?utf-8?q?Pedro=0D=0ABcc:_{EVIL}?=",
    ],
    ids=["comma-quotes", "crlf", "folded", "address-list", "specials", "accented-list", "encoded"],
)
def test_a_display_name_cannot_add_a_recipient_or_header(case, agent, smtp_server, name):
    case.requester.name = name
    case.requester.save(update_fields=["name"])
    cases.add_note(case=case, actor=agent, body_text="Respuesta")
    queue.run_pending()
    assert_clean(smtp_server, to="pedro@acme.com.co")


@pytest.mark.parametrize(
    "address",
    [
        f"pedro@acme.com.co\r\nRCPT TO:<{EVIL}>",
        f"pedro@acme.com.co\nBcc: {EVIL}",
        f"pedro@acme.com.co>, <{EVIL}",
        f"pedro@acme.com.co,{EVIL}",
    ],
    ids=["smtp-command", "header", "angle-brackets", "comma"],
)
def test_an_address_with_line_breaks_or_lists_is_refused_for_good(
    case, agent, smtp_server, address
):
    ContactEmail.objects.filter(contact=case.requester).update(address=address)
    note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
    queue.run_pending()
    assert smtp_server.messages == []
    note.refresh_from_db()
    assert note.delivery_status == "failed" and "no es válida" in note.delivery_error
    assert not Job.objects.filter(kind="deliver_note", status="pending").exists()


def test_a_note_body_cannot_end_the_message_or_start_another(case, agent, smtp_server):
    body = (
        "Hola\r\n.\r\nMAIL FROM:<x@attacker.example>\r\nRCPT TO:<"
        + EVIL
        + ">\r\nDATA\r\nSubject: falso\r\n\r\nspam\r\n.\r\n"
        + "\nBcc: "
        + EVIL
        + "\n\nfin"
    )
    cases.add_note(case=case, actor=agent, body_text=body)
    queue.run_pending()
    msg = assert_clean(smtp_server, to="pedro@acme.com.co")
    text = msg.get_body(("plain",)).get_content()
    assert "MAIL FROM:<x@attacker.example>" in text and "fin" in text  # all of it, as text


def test_an_attachment_name_cannot_add_a_header(case, agent, smtp_server):
    note = cases.add_note(case=case, actor=agent, body_text="Adjunto")
    cases.add_attachment(
        case=case, note=note, filename=f"a.pdf\r\nBcc: {EVIL}\r\n", chunks=[b"%PDF-1.4"]
    )
    queue.run_pending()
    msg = assert_clean(smtp_server, to="pedro@acme.com.co")
    (att,) = list(msg.iter_attachments())
    assert "\n" not in att.get_filename() and "\r" not in att.get_filename()


def test_a_notification_with_hostile_subject_and_name_stays_one_message(case, smtp_server):
    channels.queue_notifications(
        case_id=case.pk,
        event="escalation.requested",
        subject=f"Escalamiento\r\nBcc: {EVIL}",
        body="Verifique.\r\n.\r\nRCPT TO:<" + EVIL + ">",
        recipients=[
            {
                "kind": "email",
                "address": "orlando.mendez@certicamara.com",
                "name": f"Orlando\r\nCc: {EVIL}",
            }
        ],
    )
    queue.run_pending()
    msg = assert_clean(smtp_server, to="orlando.mendez@certicamara.com")
    assert "Escalamiento" in msg["Subject"]
