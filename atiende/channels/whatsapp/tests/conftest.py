from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from atiende.channels.whatsapp import simulate
from atiende.channels.whatsapp.tests.peer import GraphPeer
from atiende.core import clock
from atiende.worker import queue

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "app-secret-de-prueba"
MONITOREO_ID = "106540352242922"
CORPORATIVO_ID = "106540352242933"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


T0 = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)  # Wednesday 10:00 in Bogotá


@pytest.fixture
def _frozen():
    """The clock stopped at T0 (modules that want it for every test use it with
    `pytestmark = pytest.mark.usefixtures("_frozen")`); the test can move it."""
    with clock.frozen(T0) as c:
        yield c


def run(rounds: int = 3) -> None:
    """Let the worker run what is queued, and what that queues, `rounds` times over."""
    for _ in range(rounds):
        queue.run_pending(500)


@pytest.fixture
def graph(monkeypatch):
    peer = GraphPeer().start()
    monkeypatch.setenv("ATIENDE_WHATSAPP_APP_SECRET", SECRET)
    monkeypatch.setenv("ATIENDE_WHATSAPP_VERIFY_TOKEN", "verificame")
    monkeypatch.setenv("ATIENDE_WHATSAPP_ACCESS_TOKEN", peer.token)
    monkeypatch.setenv("ATIENDE_WHATSAPP_GRAPH_URL", peer.base)
    monkeypatch.setenv("ATIENDE_WA_MONITOREO_PHONE_NUMBER_ID", MONITOREO_ID)
    monkeypatch.setenv("ATIENDE_WA_CORPORATIVO_PHONE_NUMBER_ID", CORPORATIVO_ID)
    yield peer
    peer.stop()


@pytest.fixture
def monitoreo(make_channel, sla_targets):
    return make_channel(
        "whatsapp-monitoreo",
        "whatsapp",
        name="WhatsApp Centro de Monitoreo",
        address="+573184872656",
        attends=[{"type": "incident", "priority": "critical"}],
        hours=[{"schedule": "24x7"}],
        settings={
            "phone_number_id_env": "ATIENDE_WA_MONITOREO_PHONE_NUMBER_ID",
            "oncall_whatsapp": "573005550001",
            "oncall_email": "guardia@mesa.test",
        },
    )


@pytest.fixture
def corporativo(make_channel, sla_targets):
    return make_channel(
        "whatsapp-corporativo",
        "whatsapp",
        name="WhatsApp Corporativo",
        address="+573168731648",
        settings={"phone_number_id_env": "ATIENDE_WA_CORPORATIVO_PHONE_NUMBER_ID"},
    )


class Meta:
    """Posts notifications to atiende signed as Meta signs them."""

    def __init__(self, client):
        self.client = client

    def post_raw(self, raw: bytes, signature: str | None = "auto"):
        headers = {}
        if signature == "auto":
            signature = simulate.sign(SECRET, raw)
        if signature is not None:
            headers["HTTP_X_HUB_SIGNATURE_256"] = signature
        return self.client.generic(
            "POST", "/webhooks/whatsapp", raw, content_type="application/json", **headers
        )

    def post(self, body: dict):
        return self.post_raw(simulate.encode(body))

    def text(
        self,
        text: str,
        *,
        wa_id: str = "573001234567",
        name: str = "Ana Gómez",
        line: str = "monitoreo",
        reply_id: str | None = None,
        message_id: str | None = None,
        timestamp: int | None = None,
    ):
        if timestamp is None:
            timestamp = int(clock.now().timestamp())
        pnid, display = (
            (MONITOREO_ID, "573184872656")
            if line == "monitoreo"
            else (CORPORATIVO_ID, "573168731648")
        )
        body = simulate.text_notification(
            phone_number_id=pnid,
            display_phone_number=display,
            wa_id=wa_id,
            text=text,
            name=name,
            reply_id=reply_id,
            message_id=message_id,
            timestamp=timestamp,
        )
        resp = self.post(body)
        assert resp.status_code == 200, resp.content
        return body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]


@pytest.fixture
def meta(client, graph):
    return Meta(client)
