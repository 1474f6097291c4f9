"""A worker stores WhatsApp messages the same on a connection that prepares its statements
(how `atiende worker` connects to PostgreSQL, decision 0014)."""

from __future__ import annotations

from atiende.cases.models import Case, Note
from atiende.channels.whatsapp.tests.conftest import run
from atiende.core.tests.prepared import prepared_count, prepared_here


def test_messages_are_stored_once_by_a_worker_that_prepares_its_statements(meta, monitoreo, graph):
    with prepared_here():
        for i in range(12):
            meta.text(f"Mensaje {i}: el enlace no responde", message_id=f"wamid.P{i}")
        meta.text("Mensaje 0: el enlace no responde", message_id="wamid.P0")  # again
        run()
        assert prepared_count() > 0  # the worker's statements ran prepared
    notes = Note.objects.filter(direction="inbound").order_by("external_id")
    assert [n.external_id for n in notes] == sorted(f"wamid.P{i}" for i in range(12))
    assert Case.objects.count() == 1  # one sender: one case, every message on it
    assert len(graph.reads()) == 12
