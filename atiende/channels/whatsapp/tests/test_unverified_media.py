"""A media file that came with a note from an unverified sender follows the note: hidden
from customers while the note is unverified, visible once an agent confirms it."""

import pytest

from atiende.cases import selectors
from atiende.cases import services as cases
from atiende.cases.models import Note
from atiende.channels.whatsapp.tests.conftest import run
from atiende.core import clock
from atiende.worker import queue

pytestmark = pytest.mark.usefixtures("_frozen")

MEDIA = "9000000000000001"


def test_an_unverified_senders_media_is_shown_to_the_customer_once_the_note_is_confirmed(
    monitoreo, graph, acme, agent, customer
):
    case = cases.open_case(
        actor=agent,
        channel=monitoreo,
        organization=acme,
        subject="Token",
        type="incident",
        priority="critical",
    )
    note = Note.objects.create(
        case=case,
        body_text="foto del error",
        direction="inbound",
        visibility="internal",
        unverified=True,
        channel=monitoreo,
        created_at=clock.now(),
    )
    graph.media[MEDIA] = (b"\x89PNG\r\n\x1a\nimagen", "image/png")
    queue.enqueue(
        "whatsapp.media",
        {"note_id": note.pk, "channel_id": monitoreo.pk, "media_id": MEDIA, "type": "image"},
    )
    run()
    assert case.attachments.count() == 1
    assert not selectors.visible_attachments(customer, case).exists()

    cases.confirm_note(note=note, actor=agent)
    assert selectors.visible_attachments(customer, case).count() == 1
