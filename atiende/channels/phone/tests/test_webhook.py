"""The CTI webhook: authentication, shapes, answers; what it refuses stores nothing."""

import json

import pytest

from atiende.channels.phone.models import BlockedNumber, Call, CallEvent
from atiende.channels.phone.tests.conftest import (
    BOGOTA_TOKEN,
    FIXTURES,
    NACIONAL_TOKEN,
    event,
    fixture,
    run,
)
from atiende.worker.models import Job

pytestmark = pytest.mark.usefixtures("_frozen")


def nothing_stored() -> bool:
    return not Job.objects.exists() and not Call.objects.exists()


def test_an_event_is_acknowledged_with_an_empty_object_and_queued(pbx):
    assert pbx.send(fixture("newcall.json")) == {}
    job = Job.objects.get(kind="phone.event")
    assert job.payload["line"] == "linea-bogota"
    assert job.payload["event"]["call_id"] == "4c2f-0001"
    assert not Call.objects.exists()  # the worker builds the call
    run()
    assert Call.objects.get().state == "ringing"


@pytest.mark.parametrize(
    "token", [None, "", "otro", BOGOTA_TOKEN + "x", BOGOTA_TOKEN[:-1], NACIONAL_TOKEN]
)
def test_a_missing_or_wrong_token_is_401_and_nothing_is_stored(pbx, token):
    resp = pbx.post(event("newCall"), token=token)
    assert resp.status_code == 401
    assert "error" in resp.json()
    assert nothing_stored()


def test_the_token_may_come_in_the_query_string(pbx):
    assert pbx.post(event("newCall"), query_token=True).status_code == 200
    assert pbx.post(event("answer"), token="mal", query_token=True).status_code == 401


def test_a_line_without_a_configured_token_refuses_every_event(pbx, monkeypatch):
    monkeypatch.delenv("ATIENDE_CTI_LINEA_BOGOTA_TOKEN")
    for token in ("", "cualquiera"):
        assert pbx.post(event("newCall"), token=token).status_code == 401
    assert nothing_stored()


@pytest.mark.parametrize("line", ["linea-inexistente", "correo", "linea-apagada"])
def test_an_unknown_line_is_404(pbx, make_channel, line):
    make_channel("correo", "email", address="mesa@mesa.test")
    make_channel(
        "linea-apagada",
        "phone",
        active=False,
        settings={"token_env": "ATIENDE_CTI_LINEA_BOGOTA_TOKEN"},
    )
    assert pbx.post(event("newCall"), line=line).status_code == 404
    assert nothing_stored()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (event("newCall", direction="sideways"), "direction"),
        (event("newCall", direction=""), "direction"),
        ({k: v for k, v in event("newCall").items() if k != "direction"}, "direction"),
        (event("ring"), "event"),
        ({k: v for k, v in event("newCall").items() if k != "event"}, "event"),
        (event("newCall", callId=""), "callId"),
        (event("newCall", callId="x" * 251), "callId"),
        (event("newCall", **{"from": "300\x00123"}), "from"),
        (event("newCall", **{"from": "1" * 101}), "from"),
        (event("hangup", cause="no answer!"), "cause"),
        (event("hangup", recordingUrl="javascript:alert(1)"), "recordingUrl"),
        (event("newCall", user=[{"name": "x"}]), "user"),
        (event("newCall", queue=["a", "b"]), "queue"),
        (event("newCall", callId=True), "callId"),
    ],
)
def test_invalid_fields_are_422_with_the_reason_and_nothing_is_stored(pbx, body, field):
    resp = pbx.post(body)
    assert resp.status_code == 422, resp.content
    assert resp.json()["field"] == field
    assert resp.json()["error"]
    assert nothing_stored()


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[]", "application/json"),
        (b'"newCall"', "application/json"),
        ("\u00e1".encode("latin-1"), "application/json"),
        (b"event=newCall", "text/plain"),
        (b"\xff\xfe", "application/x-www-form-urlencoded"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"{}", "application/json"),
    ],
)
def test_malformed_bodies_are_4xx_never_5xx_and_nothing_is_stored(client, lines, raw, content_type):
    resp = client.generic(
        "POST",
        "/webhooks/cti/linea-bogota",
        raw,
        content_type,
        HTTP_AUTHORIZATION=f"Bearer {BOGOTA_TOKEN}",
    )
    assert 400 <= resp.status_code < 500, resp.content
    assert nothing_stored()


def test_an_oversized_body_is_refused(pbx):
    resp = pbx.post(event("newCall", queue="q" * 70_000))
    assert resp.status_code in (413, 422)
    assert nothing_stored()


def test_only_post_is_accepted(client, lines):
    resp = client.get("/webhooks/cti/linea-bogota", HTTP_AUTHORIZATION=f"Bearer {BOGOTA_TOKEN}")
    assert resp.status_code == 405


def test_a_form_encoded_event_from_a_dialplan_is_read_like_json(client, lines):
    raw = (FIXTURES / "asterisk_newcall_form.txt").read_text().strip()
    resp = client.generic(
        "POST",
        "/webhooks/cti/linea-bogota?token=" + BOGOTA_TOKEN,
        raw,
        "application/x-www-form-urlencoded",
    )
    assert (resp.status_code, resp.json()) == (200, {})
    run()
    call = Call.objects.get()
    assert (call.call_id, call.from_e164, call.queue) == (
        "1733390000.42",
        "+573001234567",
        "soporte",
    )
    assert call.agent_names == ["Ana Agente", "Bruno Agente"]


def test_a_blocked_caller_is_rejected_busy_and_the_call_is_still_logged(pbx, lines):
    BlockedNumber.objects.create(number="+573001234567", reason="llamadas abusivas")
    assert pbx.send(event("newCall", **{"from": "300 123 4567"})) == {
        "action": "reject",
        "reason": "busy",
    }
    # the PBX refuses the call and still sends its hangup
    assert pbx.send(event("hangup", cause="busy")) == {}
    # an outbound newCall to that number is not refused
    assert pbx.send(event("newCall", "c-2", direction="out", to="3001234567")) == {}
    run()
    call = Call.objects.get(call_id="c-1")
    assert (call.state, call.cause, call.missed) == ("ended", "busy", True)


def test_blocking_can_be_per_line_and_for_withheld_numbers(pbx, lines):
    BlockedNumber.objects.create(number="anonymous", channel=lines["linea-nacional"])
    hidden = event("newCall", **{"from": "anonymous"})
    assert pbx.send(hidden) == {}  # Bogotá does not block them
    assert pbx.send(hidden, line="linea-nacional", token=NACIONAL_TOKEN) == {
        "action": "reject",
        "reason": "busy",
    }


def test_a_number_blocked_or_unblocked_takes_effect_at_the_next_call(pbx, lines):
    """The block list is held in memory per process; saving or deleting an entry renews it
    in the process that made the change at once."""
    first = event("newCall", "b-1", **{"from": "3001234567"})
    assert pbx.send(first) == {}  # the list (empty) is now held
    entry = BlockedNumber.objects.create(number="+573001234567")
    assert pbx.send(event("newCall", "b-2", **{"from": "3001234567"}))["action"] == "reject"
    entry.delete()
    assert pbx.send(event("newCall", "b-3", **{"from": "3001234567"})) == {}


def test_a_duplicate_event_is_acknowledged_again_and_queued_once(pbx):
    for _ in range(3):
        assert pbx.send(event("newCall")) == {}
    assert Job.objects.filter(kind="phone.event").count() == 1
    run()
    assert CallEvent.objects.count() == 1


def test_the_allow_list_admits_only_the_pbx_addresses(pbx, lines):
    line = lines["linea-bogota"]
    line.settings = {**line.settings, "allowed_addresses": "10.1.2.3, 192.168.50.0/24"}
    line.save()
    assert pbx.post(event("newCall"), REMOTE_ADDR="127.0.0.1").status_code == 403
    assert pbx.post(event("newCall"), REMOTE_ADDR="10.1.2.4").status_code == 403
    assert nothing_stored()
    assert pbx.post(event("newCall"), REMOTE_ADDR="192.168.50.17").status_code == 200
    assert pbx.post(event("answer"), REMOTE_ADDR="10.1.2.3").status_code == 200


def test_the_webhook_needs_no_session_or_csrf(lines):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    resp = strict.post(
        "/webhooks/cti/linea-bogota",
        json.dumps(event("newCall")),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {BOGOTA_TOKEN}",
    )
    assert resp.status_code == 200
    assert "sessionid" not in resp.cookies


@pytest.mark.django_db(transaction=True)
def test_the_same_event_posted_four_times_at_once_is_queued_once(lines):
    from django.test import Client

    from atiende.channels.phone.tests.conftest import Pbx
    from atiende.core.tests.threads import at_once, raised

    def post():
        return Pbx(Client()).post(event("newCall", "race-9")).status_code

    outcomes = at_once([post] * 4)
    assert raised(outcomes) == [] and outcomes == [200] * 4
    assert Job.objects.filter(kind="phone.event").count() == 1
    run()
    assert Call.objects.count() == 1 and CallEvent.objects.count() == 1


def test_an_outbound_call_is_answered_with_the_caller_id_to_present(pbx, lines):
    line = lines["linea-bogota"]
    line.settings = {
        **line.settings,
        "outbound_caller_id": "601 7442727",
        "outbound_caller_ids": "573*=3168731648, 4930*=+4930555716",
    }
    line.save()
    out = {"direction": "out", "from": "201"}
    assert pbx.send(event("newCall", "o-1", to="300 123 4567", **out)) == {
        "action": "dial",
        "caller_id": "3168731648",
        "number": "300 123 4567",
    }
    assert pbx.send(event("newCall", "o-2", to="00493055571600", **out))["caller_id"] == (
        "+4930555716"
    )
    assert pbx.send(event("newCall", "o-3", to="6045551234", **out))["caller_id"] == "6017442727"
    # only an outbound newCall gets it; inbound calls and later events answer {}
    assert pbx.send(event("answer", "o-1", to="3001234567", **out)) == {}
    assert pbx.send(event("newCall", "i-1")) == {}


def test_a_line_without_caller_id_rules_answers_an_outbound_call_with_nothing(pbx):
    assert pbx.send(event("newCall", "o-1", direction="out", to="3001234567")) == {}
