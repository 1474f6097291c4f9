from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from atiende.core import clock
from atiende.worker import queue

FIXTURES = Path(__file__).parent / "fixtures"
BOGOTA_TOKEN = "token-bogota-de-prueba"
NACIONAL_TOKEN = "token-nacional-de-prueba"
T0 = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)  # Wednesday 10:00 in Bogotá


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def run(rounds: int = 3) -> None:
    for _ in range(rounds):
        queue.run_pending(500)


@pytest.fixture
def _frozen():
    with clock.frozen(T0) as c:
        yield c


@pytest.fixture
def lines(make_channel, sla_targets, monkeypatch):
    monkeypatch.setenv("ATIENDE_CTI_LINEA_BOGOTA_TOKEN", BOGOTA_TOKEN)
    monkeypatch.setenv("ATIENDE_CTI_LINEA_NACIONAL_TOKEN", NACIONAL_TOKEN)
    hours = [{"schedule": "horario-habil"}]
    return {
        "linea-bogota": make_channel(
            "linea-bogota",
            "phone",
            name="Línea de servicio al cliente en Bogotá",
            address="+576017442727",
            hours=hours,
            settings={"token_env": "ATIENDE_CTI_LINEA_BOGOTA_TOKEN"},
        ),
        "linea-nacional": make_channel(
            "linea-nacional",
            "phone",
            name="Línea gratuita nacional",
            address="+5718000181531",
            hours=hours,
            settings={"token_env": "ATIENDE_CTI_LINEA_NACIONAL_TOKEN"},
        ),
    }


class Pbx:
    """Posts generic-CTI events to the webhook as a PBX would."""

    def __init__(self, client):
        self.client = client

    def post(
        self,
        event: dict,
        *,
        line: str = "linea-bogota",
        token: str | None = BOGOTA_TOKEN,
        form: bool = False,
        query_token: bool = False,
        **extra,
    ):
        path = f"/webhooks/cti/{line}"
        headers = dict(extra)
        if token is not None and query_token:
            path += "?" + urlencode({"token": token})
        elif token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if form:
            pairs = []
            for key, value in event.items():
                pairs += (
                    [(f"{key}[]", v) for v in value] if isinstance(value, list) else [(key, value)]
                )
            return self.client.generic(
                "POST", path, urlencode(pairs), "application/x-www-form-urlencoded", **headers
            )
        return self.client.generic("POST", path, json.dumps(event), "application/json", **headers)

    def send(self, event: dict, **kw) -> dict:
        resp = self.post(event, **kw)
        assert resp.status_code == 200, resp.content
        return resp.json()


@pytest.fixture
def pbx(client, lines):
    return Pbx(client)


def event(kind: str, call_id: str = "c-1", **fields) -> dict:
    body = {
        "event": kind,
        "from": "3001234567",
        "to": "6017442727",
        "direction": "in",
        "callId": call_id,
    }
    body.update(fields)
    return body
