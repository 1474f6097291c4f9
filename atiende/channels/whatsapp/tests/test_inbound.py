"""Webhook JSON → plain messages: one case per fixture file, no database."""

import datetime as dt

import pytest

from atiende.channels.whatsapp import inbound
from atiende.channels.whatsapp.tests.conftest import fixture

CASES = [
    ("text.json", "text", "Hola, el servicio de firma digital no responde", {}),
    ("image_reply.json", "image", "[Imagen] Foto del error", {"context_id": "wamid.OUT1"}),
    ("document.json", "document", "[Documento: factura.pdf] La factura", {}),
    ("audio_voice.json", "audio", "[Nota de voz]", {}),
    ("video.json", "video", "[Video]", {}),
    ("sticker.json", "sticker", "[Sticker]", {}),
    (
        "location.json",
        "location",
        "[Ubicación] Sede principal, Cra 7 # 26-20, Bogotá https://maps.google.com/?q=4.6097,-74.0817",
        {},
    ),
    (
        "contacts.json",
        "contacts",
        "[Contacto compartido] Pedro Pérez +57 300 111 2233 pedro@acme.com.co",
        {},
    ),
    (
        "interactive_button.json",
        "interactive",
        "Pedir escalamiento",
        {"reply_id": "escalar:CS0000001", "context_id": "wamid.OUT9"},
    ),
    ("interactive_list.json", "interactive", "Estado de mi caso", {"reply_id": "menu:estado"}),
    ("template_button.json", "button", "Reabrir caso", {"reply_id": "reabrir:CS0000001"}),
    ("reaction.json", "reaction", "[Reacción 👍]", {"reaction_to": "wamid.OUT1"}),
    (
        "unsupported.json",
        "unsupported",
        "[Mensaje no compatible con WhatsApp Business: (131051) Message type unknown: "
        "Message type is currently not supported.]",
        {},
    ),
    ("forwarded.json", "text", "[Reenviado] Mensaje reenviado del proveedor", {"forwarded": True}),
]


@pytest.mark.parametrize(("name", "type_", "text", "extra"), CASES, ids=[c[0] for c in CASES])
def test_each_message_type_reads_as_plain_text(name, type_, text, extra):
    batch = inbound.parse(fixture(name))
    [m] = batch.messages
    assert (m.type, m.text, m.wa_id, m.name) == (type_, text, "573001234567", "Ana Gómez")
    assert m.id.startswith("wamid.") and m.timestamp == 1767225600
    for key, value in extra.items():
        assert getattr(m, key) == value


def test_media_messages_carry_the_media_id_to_download():
    m = inbound.parse(fixture("document.json")).messages[0]
    assert m.media == inbound.Media(
        id="2013859600285441",
        mime_type="application/pdf",
        sha256="aGVsbG8=",
        filename="factura.pdf",
        caption="La factura",
    )
    assert inbound.parse(fixture("audio_voice.json")).messages[0].media.voice is True


def test_a_batch_with_several_entries_yields_every_message_with_its_sender():
    batch = inbound.parse(fixture("batch.json"))
    assert [(m.text, m.wa_id, m.name) for m in batch.messages] == [
        ("primero", "573001234567", "Ana Gómez"),
        ("segundo", "573009998877", "Luis"),
    ]


def test_statuses_carry_the_error_codes_of_failures():
    batch = inbound.parse(fixture("statuses.json"))
    assert [(s.id, s.status) for s in batch.statuses] == [
        ("wamid.OUT1", "delivered"),
        ("wamid.OUT2", "failed"),
    ]
    assert batch.statuses[0].callback_data == "atiende-1" and batch.statuses[0].error_text == ""
    assert batch.statuses[1].error_text.startswith(
        "(131047) Re-engagement message: Message failed to send"
    )


def test_routing_data_comes_from_the_metadata():
    m = inbound.parse(fixture("interactive_list.json")).messages[0]
    assert (m.phone_number_id, m.display_phone_number) == ("106540352242933", "573168731648")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": "x"}]}],
        },
        {
            "object": "whatsapp_business_account",
            "entry": [
                {"changes": [{"field": "messages", "value": {"messages": [{"type": "text"}]}}]}
            ],
        },
    ],
)
def test_what_is_not_a_notification_is_malformed(body):
    with pytest.raises(inbound.Malformed):
        inbound.parse(body)


def test_other_webhook_fields_are_ignored():
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"field": "account_update", "value": {"event": "VERIFIED"}}]}],
    }
    assert inbound.parse(body).messages == []


def test_bodies_older_than_the_replay_window_are_dropped():
    batch = inbound.parse(fixture("text.json"))
    sent = dt.datetime.fromtimestamp(1767225600, tz=dt.UTC)
    assert inbound.fresh(batch, sent + dt.timedelta(days=7)).messages  # Meta still retries then
    assert inbound.fresh(batch, sent + dt.timedelta(days=8)).messages == []
