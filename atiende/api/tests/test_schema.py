"""The OpenAPI schema, and generated requests against every operation it declares."""

import contextlib
import json
import time

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.failures import FailureGroup

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
    ("post", "/api/v1/contacts/{contact_id}/invite"),
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/{number}"),
    ("patch", "/api/v1/cases/{number}"),
    ("get", "/api/v1/cases/{number}/notes"),
    ("post", "/api/v1/cases/{number}/notes"),
    ("post", "/api/v1/cases/{number}/notes/{note_id}/confirm"),
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
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens/{token_id}/revoke"),
    # the phone channel's call log (atiende/channels/phone/api.py)
    ("get", "/api/v1/calls"),
    ("get", "/api/v1/calls/{call_id}"),
    ("get", "/api/v1/calls/{call_id}/pop"),
    ("post", "/api/v1/calls/{call_id}/case"),
    # the service manager's reports (atiende/api/reports.py)
    ("get", "/api/v1/reports/sla"),
    ("get", "/api/v1/reports/contacts-by-hour"),
    ("get", "/api/v1/reports/escalations"),
    ("get", "/api/v1/reports/backlog"),
    ("get", "/api/v1/reports/satisfaction"),
    ("get", "/api/v1/reports/missed-calls"),
    ("get", "/api/v1/reports/cases"),
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


def test_the_export_command_writes_the_served_schema(client, tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.json"
    call_command("export_openapi_schema", api="atiende.api.main.api", output=str(out))
    assert json.loads(out.read_text()) == client.get("/api/v1/schema").json()


@pytest.fixture
def wsgi_app(db):
    # Django closes the database connection when a request ends; inside the test's
    # transaction that would throw the test data away (the test client avoids it the same way).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Examples per operation and persona/mode (half of them aimed at objects that exist, for
# operations with path parameters). Each run also has a wall-clock budget, shared out
# among the operations still to probe, so a loaded machine shortens it instead of
# stalling CI; every operation still gets at least MIN_EXAMPLES.
EXAMPLES = 50
MIN_EXAMPLES = 10
BUDGET_SECONDS = 25.0
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
]


def _probe(strategy, examples: int, headers: dict, failures: list, deadline: float) -> int:
    ran = {"n": 0}

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
        if ran["n"] >= MIN_EXAMPLES and time.monotonic() > deadline:
            return
        ran["n"] += 1
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as exc:  # collected, reported together below
            failures.append(
                (
                    case.operation.label,
                    case.path_parameters,
                    case.query,
                    case.body if not isinstance(case.body, bytes) else case.body[:100],
                    response.status_code,
                    response.text[:300],
                    str(exc)[:500],
                )
            )

    # Unsatisfiable: nothing to get wrong, e.g. negative data for an operation without parameters.
    with contextlib.suppress(Unsatisfiable):
        probe()
    return ran["n"]


def test_the_schema_has_no_repeated_key(client):
    """A key twice in one JSON object (e.g. an operation's "200" declared twice) is read
    differently by each tool: Swagger UI refuses the whole document."""
    import json

    def no_repeats(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"repeated keys: {keys}"
        return dict(pairs)

    json.loads(client.get("/api/v1/schema").content, object_pairs_hook=no_repeats)


@pytest.mark.parametrize("persona", ["agent", "customer"])
@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_no_endpoint_answers_5xx_or_off_schema_to_generated_requests(
    wsgi_app, tokens, api_channel, portal, make_case, acme_contact, agent, persona, mode
):
    """Generated requests against every operation, as staff and as a customer (whose cases,
    contacts and organization are ACME's, as the known objects are): no 5xx, and every
    answer matches the schema (documented status, content type and body)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema", wsgi_app)
    auth = {"Authorization": f"Bearer {tokens[persona]}"}
    failures: list = []
    operations = [result.ok() for result in schema.get_all_operations()]
    started = time.monotonic()
    ran: dict[str, int] = {}
    for index, operation in enumerate(operations):
        share = (BUDGET_SECONDS - (time.monotonic() - started)) / (len(operations) - index)
        deadline = time.monotonic() + max(share, 0)
        known_share = EXAMPLES // 2 if "{" in operation.path else 0
        ran[operation.label] = _probe(
            operation.as_strategy(generation_mode=mode),
            EXAMPLES - known_share,
            auth,
            failures,
            deadline if not known_share else time.monotonic() + max(share, 0) / 2,
        )
        if known_share:
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
            ran[operation.label] += _probe(
                operation.as_strategy(generation_mode=mode, path_parameters=known),
                known_share,
                auth,
                failures,
                deadline,
            )
    assert failures == []
    # Every operation was probed (one without parameters has a single valid request, and no
    # invalid one).
    if mode == schemathesis.GenerationMode.POSITIVE:
        assert min(ran.values()) >= 1, ran
