"""Hostile suite, inbound mail: random MIME trees, broken encodings and boundaries, huge
headers, thousands of parts, nested message/rfc822, a 50 MB message. Whatever arrives is
stored or quarantined — never a crash — and the mail around it is stored too (issue #11).

The fuzzing calls the parser and the intake directly (hypothesis, a few hundred examples
in seconds); one test runs pathological mail through the real poller and Dovecot.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atiende.cases.models import Attachment, Note
from atiende.channels.email import imap, inbound, intake
from atiende.channels.email.models import QuarantinedEmail, ReceivedEmail
from atiende.channels.email.tests import hostile_mail
from atiende.channels.messages import InboundAttachment

OUTCOMES = {"stored", "duplicate", "bounce", "quarantined"}

# -- a generator of hostile MIME ------------------------------------------------------

CHARSETS = st.sampled_from(
    ["utf-8", "iso-8859-1", "us-ascii", "unknown-8bit", "utf-99", "", "utf-7", "utf-16", '"x']
)
ENCODINGS = st.sampled_from(
    ["", "7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "b@se64"]
)
TYPES = st.sampled_from(
    [
        "text/plain",
        "text/html",
        "application/octet-stream",
        "image/png",
        "application/pdf",
        "message/delivery-status",
        "text/rfc822-headers",
        "application/x-msdownload",
        "text/",
        "/",
        "nonsense",
    ]
)
NASTY_WORDS = st.sampled_from(
    [
        "=?utf-8?B?###?=",
        "=?utf-8?Q?=FF=FE?=",
        "=?x-desconocido?q?a?=",
        "=?utf-8?q?a=0D=0ABcc:_x@y.z?=",
        "\u202e\u200b",
        "",
    ]
)


def _text(max_size: int) -> st.SearchStrategy[bytes]:
    """Header-ish bytes: unicode, raw 8-bit, encoded words gone wrong (no bare CR/LF: a
    line break in a header is the message's structure, generated below)."""
    return st.one_of(
        st.text(max_size=max_size).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.binary(max_size=max_size),
        NASTY_WORDS.map(str.encode),
    ).map(lambda b: b.replace(b"\r", b" ").replace(b"\n", b" "))


@st.composite
def leaf(draw) -> bytes:
    ctype = draw(TYPES)
    params = b""
    if draw(st.booleans()):
        params += b"; charset=" + draw(CHARSETS).encode()
    if draw(st.booleans()):
        params += b'; name="' + draw(_text(60)) + b'"'
    head = b"Content-Type: " + ctype.encode() + params + b"\r\n"
    cte = draw(ENCODINGS)
    if cte:
        head += b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n"
    if draw(st.booleans()):
        disposition = draw(st.sampled_from([b"attachment", b"inline", b"??"]))
        head += (
            b"Content-Disposition: "
            + disposition
            + b"; filename*=utf-8''"
            + draw(_text(40)).replace(b" ", b"%20")
            + b"\r\n"
        )
    if draw(st.booleans()):
        head += b"Content-ID: <" + draw(_text(30)) + b">\r\n"
    body = draw(st.binary(max_size=800))
    return head + b"\r\n" + body


def _multipart(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw) -> bytes:
        boundary = draw(
            st.one_of(
                st.text(alphabet="abc'()+_,-./:=? ", min_size=1, max_size=70),
                st.sampled_from(["", " ", "--", "a" * 500]),
            )
        ).encode()
        subtype = draw(st.sampled_from([b"mixed", b"alternative", b"related", b"report", b"x"]))
        parts = draw(st.lists(children, min_size=0, max_size=6))
        used = draw(st.sampled_from([boundary, boundary + b"x", b""]))  # sometimes wrong
        body = b"".join(b"--" + used + b"\r\n" + p + b"\r\n" for p in parts)
        if draw(st.booleans()):
            body += b"--" + used + b"--\r\n"  # often unterminated
        return (
            b"Content-Type: multipart/"
            + subtype
            + b'; boundary="'
            + boundary
            + b'"\r\n\r\n'
            + draw(st.binary(max_size=40))  # preamble
            + body
        )

    return build()


def _rfc822(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.tuples(_text(40), children).map(
        lambda t: (
            b"Content-Type: message/rfc822\r\n\r\nFrom: "
            + t[0]
            + b"\r\nSubject: "
            + t[0]
            + b"\r\n"
            + t[1]
        )
    )


MIME = st.recursive(
    leaf(), lambda children: st.one_of(_multipart(children), _rfc822(children)), max_leaves=12
)


@st.composite
def hostile_message(draw) -> bytes:
    kind = draw(st.sampled_from(["plain", "plain", "plain", "list", "noise", "none"]))
    sender = {
        "plain": b"Pedro <pedro@acme.com.co>",
        "list": b'"=?utf-8?q?Pe=0Adro?=" <pedro@acme.com.co>, otro@acme.com.co',
        "noise": draw(_text(60)),
        "none": b"",
    }[kind]
    head = b""
    if draw(st.booleans()) or sender:
        head += b"From: " + sender + b"\r\n"
    head += b"To: mesadeayuda@certicamara.com\r\nSubject: " + draw(_text(300)) + b"\r\n"
    if draw(st.booleans()):
        head += b"Message-ID: <" + draw(_text(80)) + b">\r\n"
    if draw(st.booleans()):
        head += b"In-Reply-To: " + draw(_text(80)) + b"\r\nReferences: " + draw(_text(200))
        head += b"\r\n"
    if draw(st.booleans()):
        head += b"Date: " + draw(_text(40)) + b"\r\n"
    if draw(st.booleans()):
        head += b"Authentication-Results: " + draw(_text(120)) + b"\r\n"
    for name in draw(st.lists(_text(20), max_size=3)):
        head += b"X-" + name.replace(b":", b"") + b": " + draw(_text(60)) + b"\r\n"
    head += b"MIME-Version: 1.0\r\n"
    return head + draw(MIME)


# -- the parser: pure, many examples ----------------------------------------------------


@given(raw=hostile_message())
@settings(max_examples=300, deadline=None)
def test_the_parser_understands_or_refuses_anything(raw):
    try:
        parsed = inbound.parse(raw, channel="correo", trusted_authserv_ids={"mx.certicamara.com"})
    except inbound.Unparseable:
        return
    msg = parsed.message
    assert isinstance(msg.body_text, str) and msg.body_text
    assert isinstance(msg.subject, str) and "\n" not in msg.subject
    assert msg.external_id and len(msg.external_id) <= 255
    assert all(
        isinstance(a, InboundAttachment) and isinstance(a.content, bytes) for a in msg.attachments
    )


# -- intake: stored or quarantined, and the mail around it too -----------------------

_n = itertools.count()


def good(i: int) -> bytes:
    return (
        f"From: Cliente {i} <cliente{i}@acme.com.co>\r\nTo: mesadeayuda@certicamara.com\r\n"
        f"Subject: Normal {i}\r\nMessage-ID: <normal-{i}@acme.com.co>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nTodo bien.\r\n"
    ).encode()


@pytest.mark.usefixtures("frozen", "sla_targets")
@given(raw=hostile_message())
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_intake_stores_or_quarantines_anything_and_the_neighbours_are_stored(correo, acme, raw):
    i, j = next(_n), next(_n)
    outcomes = intake.ingest_many(
        correo, [(good(i), f"t:{i}"), (raw, "t:hostile"), (good(j), f"t:{j}")], own=set()
    )
    assert [o.status for o in outcomes][::2] == ["stored", "stored"]
    hostile = outcomes[1]
    assert hostile.status in OUTCOMES
    if hostile.status == "quarantined":
        assert QuarantinedEmail.objects.filter(source="t:hostile").exists()
    elif hostile.status in ("stored", "duplicate"):
        assert Note.objects.filter(pk=hostile.note_id).exists()
    for k in (i, j):
        assert Note.objects.filter(external_id=f"<normal-{k}@acme.com.co>").exists()


@pytest.mark.usefixtures("frozen", "sla_targets")
@pytest.mark.parametrize("name", sorted(hostile_mail.PATHOLOGICAL))
def test_pathological_mail_is_stored_or_quarantined(correo, acme, name):
    raw = hostile_mail.PATHOLOGICAL[name]()
    got = intake.ingest(raw, channel="correo")
    assert got.status in ("stored", "quarantined"), got
    if got.status == "stored":
        note = Note.objects.get(pk=got.note_id)
        assert (
            Attachment.objects.filter(note=note).count() <= intake.MAX_ATTACHMENTS_PER_MESSAGE + 1
        )
        assert len(note.body_text) < 100_000
    assert intake.ingest(raw, channel="correo").status in ("duplicate", "quarantined")


@pytest.mark.usefixtures("frozen", "sla_targets")
def test_an_encoded_line_break_in_the_senders_name_is_stored_not_quarantined(correo, acme):
    raw = (
        b'From: "=?utf-8?q?Pe=0D=0Adro?=" <pedro@acme.com.co>\r\nTo: mesadeayuda@certicamara.com'
        b"\r\nSubject: hola\r\nMessage-ID: <salto@acme.com.co>\r\n\r\nhola\r\n"
    )
    got = intake.ingest(raw, channel="correo")
    assert got.status == "stored"
    requester = Note.objects.get(pk=got.note_id).author_contact
    assert requester.name == "Pe dro" and requester.emails.get().address == "pedro@acme.com.co"


@pytest.mark.usefixtures("frozen", "sla_targets")
def test_nul_characters_are_stored_or_quarantined_on_every_database(correo, acme):
    """PostgreSQL text cannot hold NUL: found by the fuzzing above on PostgreSQL, where such
    a message failed to store and even to quarantine, holding up the mailbox."""
    raw = (
        b"From: Pe\x00dro <pedro@acme.com.co>\r\nTo: mesadeayuda@certicamara.com\r\n"
        b"Subject: hola\x00mundo\r\nMessage-ID: <nul\x00@acme.com.co>\r\n"
        b"In-Reply-To: <x\x00@y>\r\n\r\ncuerpo\x00 con nulo\r\n"
    )
    got = intake.ingest(raw, channel="correo")
    assert got.status == "stored"
    note = Note.objects.get(pk=got.note_id)
    assert note.case.subject == "hola\ufffdmundo" and "\x00" not in note.body_text
    no_sender = b"From: \x00\r\nSubject: sin\x00remitente\r\n\r\nnada\x00\r\n"
    assert intake.ingest(no_sender, channel="correo").status == "quarantined"
    assert QuarantinedEmail.objects.get().subject == "sin\ufffdremitente"


@pytest.mark.usefixtures("frozen", "sla_targets")
def test_thousands_of_parts_keep_the_first_hundred_and_count_the_rest(correo, acme):
    got = intake.ingest(hostile_mail.thousands_of_parts(3000), channel="correo")
    note = Note.objects.get(pk=got.note_id)
    kept = Attachment.objects.filter(note=note).exclude(filename=intake.ORIGINAL_EML)
    assert kept.count() == intake.MAX_ATTACHMENTS_PER_MESSAGE
    assert "2900 adjuntos más" in note.body_text


@pytest.mark.usefixtures("frozen", "sla_targets")
def test_a_fifty_megabyte_message_is_stored_without_its_oversized_part(correo, acme):
    raw = hostile_mail.fifty_megabytes()
    assert len(raw) > 50 * 1024 * 1024
    got = intake.ingest(raw, channel="correo")
    assert got.status == "stored"
    note = Note.objects.get(pk=got.note_id)
    assert "grande.bin (supera" in note.body_text
    assert not Attachment.objects.filter(note=note, filename="grande.bin").exists()


# -- the real poller: a pathological message between two good ones -------------------


@pytest.mark.usefixtures("frozen", "sla_targets")
def test_the_poller_moves_past_pathological_mail(own_dovecot, correo, acme):
    own_dovecot.deliver(
        [
            good(9001),
            hostile_mail.nested_rfc822(),
            hostile_mail.huge_headers(n=2000, line=200_000),
            hostile_mail.broken_boundaries(),
            good(9002),
        ]
    )
    result = imap.poll_once(correo)
    assert result.fetched == 5 and result.stored + result.quarantined == 5
    for k in (9001, 9002):
        assert Note.objects.filter(external_id=f"<normal-{k}@acme.com.co>").exists()
    assert QuarantinedEmail.objects.filter(source__startswith="imap:").count() == result.quarantined
    assert ReceivedEmail.objects.count() == result.stored
    assert own_dovecot.count("INBOX") == 0 and own_dovecot.count("Procesados") == 5
