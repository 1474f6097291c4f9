"""The OpenAPI schema, and generated requests against every operation it declares."""

import contextlib

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from atiende.cases import services as cases

OPERATIONS = {
    ("get", "/api/v1/channels"),
    ("get", "/api/v1/escalation-levels"),
    ("get", "/api/v1/organizations"),
    ("post", "/api/v1/organizations"),
    ("get", "/api/v1/organizations/{slug}"),
    ("patch", "/api/v1/organizations/{slug}"),
    ("get", "/api/v1/contacts"),
    ("post", "/api/v1/contacts"),
    ("get", "/api/v1/contacts/{contact_id}"),
    ("patch", "/api/v1/contacts/{contact_id}"),
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/{number}"),
    ("patch", "/api/v1/cases/{number}"),
    ("get", "/api/v1/cases/{number}/notes"),
    ("post", "/api/v1/cases/{number}/notes"),
    ("get", "/api/v1/cases/{number}/attachments"),
    ("post", "/api/v1/cases/{number}/attachments"),
    ("get", "/api/v1/cases/{number}/attachments/{attachment_id}/download"),
    ("get", "/api/v1/cases/{number}/timeline"),
    ("get", "/api/v1/cases/{number}/sla"),
    ("get", "/api/v1/cases/{number}/escalations"),
    ("post", "/api/v1/cases/{number}/escalations"),
    ("get", "/api/v1/cases/{number}/escalation-eligibility"),
    ("get", "/api/v1/escalations"),
    ("get", "/api/v1/escalations/{request_id}"),
    ("post", "/api/v1/escalations/{request_id}/decision"),
    ("get", "/api/v1/schedules"),
    ("get", "/api/v1/schedules/{schedule_id}"),
    ("get", "/api/v1/schedules/{schedule_id}/due"),
    ("get", "/api/v1/schedules/{schedule_id}/elapsed"),
    ("get", "/api/v1/schedules/{schedule_id}/open"),
    # the phone channel's call log (atiende/channels/phone/api.py)
    ("get", "/api/v1/calls"),
    ("get", "/api/v1/calls/{call_id}"),
    ("get", "/api/v1/calls/{call_id}/pop"),
    ("post", "/api/v1/calls/{call_id}/case"),
}


def test_the_openapi_schema_is_served_and_names_every_endpoint(client):
    response = client.get("/api/v1/schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    declared = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert declared == OPERATIONS
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }
    # The public sheet needs no credentials; everything else does.
    assert "security" not in schema["paths"]["/api/v1/channels"]["get"]
    assert schema["paths"]["/api/v1/cases"]["get"]["security"]


@pytest.fixture
def wsgi_app(db):
    # Django closes the database connection when a request ends; inside the test's
    # transaction that would throw the test data away (the test client avoids it the same way).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _probe(strategy, examples: int, headers: dict, failures: list) -> None:
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def probe(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(
                (
                    case.operation.label,
                    case.path_parameters,
                    case.query,
                    case.body,
                    response.status_code,
                    response.text[:300],
                )
            )

    # Unsatisfiable: nothing to get wrong, e.g. negative data for an operation without parameters.
    with contextlib.suppress(Unsatisfiable):
        probe()


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_no_endpoint_answers_5xx_to_generated_requests(
    wsgi_app, tokens, api_channel, portal, make_case, acme_contact, agent, mode
):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema", wsgi_app)
    auth = {"Authorization": f"Bearer {tokens['agent']}"}
    failures: list = []
    for result in schema.get_all_operations():
        operation = result.ok()
        _probe(operation.as_strategy(generation_mode=mode), 12, auth, failures)
        if "{" in operation.path:
            # Aim at objects that exist too, so the code past the lookup runs; a fresh case
            # each time, as an earlier probe may have closed the previous one.
            case = make_case()
            cases.add_note(case=case, body_text="Hola", actor=agent)
            row = cases.add_attachment(case=case, filename="a.txt", chunks=[b"hola"], actor=agent)
            known = {
                "number": case.number,
                "slug": "acme",
                "contact_id": acme_contact.pk,
                "attachment_id": row.pk,
            }
            known = {
                name: value for name, value in known.items() if "{" + name + "}" in operation.path
            }
            _probe(
                operation.as_strategy(generation_mode=mode, path_parameters=known),
                12,
                auth,
                failures,
            )
    assert failures == []
