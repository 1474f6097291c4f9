"""The sender and subject read without the policy's parser (`inbound/plain_headers.py`)
give what the policy gives: on generated headers of every shape, and on whole messages."""

from __future__ import annotations

import base64
import email
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from atiende.channels.email.inbound import decoding, plain_headers
from atiende.channels.email.tests.conftest import parsed_or_why

FIXTURES = Path(__file__).parent / "fixtures"

ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
words = st.text(alphabet=ATEXT + 'áéñ."\\()<>,;:@[] \t', min_size=1, max_size=12)


@st.composite
def encoded_words(draw) -> str:
    text = draw(st.text(alphabet='abc ÁÉñü¿?=_\t"<>', min_size=0, max_size=12))
    charset = draw(st.sampled_from(["utf-8", "UTF-8", "iso-8859-1", "us-ascii", "x-unknown"]))
    data = text.encode(charset if charset != "x-unknown" else "utf-8", "replace")
    if draw(st.booleans()):
        payload = base64.b64encode(data).decode()
        if draw(st.booleans()):
            payload = payload.rstrip("=")  # padding left off: the policy repairs it
        return f"=?{charset}?{draw(st.sampled_from('bB'))}?{payload}?="
    payload = "".join(
        chr(b) if chr(b).isalnum() and b < 128 else ("_" if b == 32 else f"={b:02X}") for b in data
    )
    if draw(st.booleans()):
        payload += draw(st.sampled_from(["=", "=Z", "?", " "]))  # malformed
    return f"=?{charset}?{draw(st.sampled_from('qQ'))}?{payload}?="


pieces = st.one_of(words, encoded_words())
spaces = st.sampled_from([" ", "  ", "\t", "\r\n ", ""])


@st.composite
def phrases(draw) -> str:
    parts = draw(st.lists(pieces, max_size=4))
    return "".join(p + draw(spaces) for p in parts)


addresses = st.sampled_from(
    [
        "ana@acme.com.co",
        "Ana.Perez@Acme.COM.co",
        "o'neil+x@ex-ample.org",
        "bad@@acme.co",
        "no-at-sign",
        '"quoted local"@acme.co',
        "a@[127.0.0.1]",
        "a@acme.co.",
    ]
)


@st.composite
def from_values(draw) -> str:
    address = draw(addresses)
    shape = draw(st.sampled_from(["bare", "named", "quoted", "two", "comment"]))
    if shape == "bare":
        return draw(spaces) + address + draw(spaces)
    phrase = draw(phrases())
    if shape == "quoted":
        phrase = f'"{phrase}"'
    value = f"{phrase}<{address}>" if draw(st.booleans()) else f"{phrase} <{address}>"
    if shape == "two":
        value += ", otra@acme.co"
    if shape == "comment":
        value += " (Gerencia)"
    return value


def message(name: str, value: str) -> email.message.EmailMessage:
    raw = f"{name}: {value}\r\nContent-Type: text/plain\r\n\r\nhola\r\n".encode(
        "utf-8", "surrogateescape"
    )
    return email.message_from_bytes(raw, policy=decoding.POLICY)  # type: ignore[return-value]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(from_values())
@example("=?utf-8?q?M=C3=B3nica_D=C3=ADaz?= <monica.diaz@ejemplo.com>")
@example("Valentina =?utf-8?b?T3Jkw7PDsWV6?= <valentina@gmail.com>")
@example("=?iso-8859-1?q?Valentina_Ord=F3=F1ez?=\r\n <valentina@correo.com.co>")
@example("=?utf-8?q?a?= =?utf-8?q?b?= c  d <x@acme.co>")
def test_a_sender_is_read_as_the_policy_reads_it(value):
    msg = message("From", value)
    raw = decoding.RawHeaders(msg)
    assert decoding._addresses(msg, "From", raw) == decoding._addresses(msg, "From")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phrases())
@example("=?utf-8?q?Reclamaci=C3=B3n=3A?= cobro no autorizado #00008")
@example("=?utf-8?q?Actualizaci=C3=B3n_de?=\r\n =?utf-8?q?datos?= #21")
@example("Re:   =?utf-8?q?hola?=mundo")
@example("solo texto\r\n\tdoblado")
def test_a_subject_is_read_as_the_policy_reads_it(value):
    msg = message("Subject", value)
    raw = decoding.RawHeaders(msg)
    assert decoding.header(msg, "Subject", raw) == decoding.header(msg, "Subject")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "=?utf-8?q?M=C3=B3nica_D=C3=ADaz?= <Monica@Ejemplo.com>",
            ("Mónica Díaz", "Monica@Ejemplo.com"),
        ),
        ("Valentina =?utf-8?b?T3Jkw7PDsWV6?= <v@gmail.com>", ("Valentina Ordóñez", "v@gmail.com")),
        ("ana@acme.co", ("", "ana@acme.co")),
    ],
)
def test_the_common_senders_take_the_plain_path(value, expected):
    assert plain_headers.mailbox(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        '"Pérez, Ana" <ana@acme.co>',  # quotes (and raw 8-bit)
        "Ana (Gerencia) <ana@acme.co>",  # a comment
        "Dr. Ana <ana@acme.co>",  # a dot in the name
        "ana@acme.co, luis@acme.co",  # two senders
        "=?utf-8?q?Ana=?= <ana@acme.co>",  # a malformed encoded word
        "=?x-unknown?q?Ana?= <ana@acme.co>",  # a charset we do not know
        "=?utf-8*es?q?Ana?= <ana@acme.co>",  # RFC 2231 language
    ],
)
def test_other_senders_are_left_to_the_policy(value):
    assert plain_headers.mailbox(value) is None


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("**/*.eml")), ids=lambda p: p.name)
def test_whole_messages_parse_the_same_either_way(path, monkeypatch):
    plain = parsed_or_why(path.read_bytes())
    monkeypatch.setattr(plain_headers, "mailbox", lambda value: None)
    monkeypatch.setattr(plain_headers, "unstructured", lambda value: None)
    assert parsed_or_why(path.read_bytes()) == plain
