"""Generated requests (schemathesis) against /api/v1/calls aimed at a call that exists: no
5xx, whatever the body or query."""

import time

import pytest
import schemathesis

from atiende.api.tests.test_schema import _probe, wsgi_app  # noqa: F401 (a fixture)
from atiende.channels.phone import services
from atiende.channels.phone.inbound import CtiEvent
from atiende.core import clock


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_no_call_endpoint_answers_5xx(wsgi_app, tokens, lines, api_channel, mode):  # noqa: F811
    auth = {"Authorization": f"Bearer {tokens['agent']}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema", wsgi_app)
    failures: list = []
    made = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/calls/{"):
            continue
        for _ in range(3):
            made += 1
            call = services.apply_event(
                line=lines["linea-bogota"],
                event=CtiEvent(
                    event="hangup",
                    call_id=f"fuzz-{made}",
                    direction="in",
                    from_="3001234567",
                    cause="busy",
                ),
                received_at=clock.now(),
            )
            _probe(
                operation.as_strategy(generation_mode=mode, path_parameters={"call_id": call.pk}),
                8,
                auth,
                failures,
                time.monotonic() + 20,  # a time budget per operation on a loaded machine
            )
    assert failures == []
