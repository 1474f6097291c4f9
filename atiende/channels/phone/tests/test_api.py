"""/api/v1/calls: the call log, filters, tenant scoping, screen pop, calls into cases."""

import datetime as dt

import pytest
from django.test import Client

from atiende.api.tests.conftest import ApiClient
from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.channels.phone.models import AgentPhone, Call
from atiende.channels.phone.tests.conftest import NACIONAL_TOKEN, T0, event, run
from atiende.customers import services as customers

pytestmark = pytest.mark.usefixtures("_frozen")


@pytest.fixture
def api(tokens, api_channel, portal):
    return ApiClient(Client(), tokens)


@pytest.fixture
def make_case(portal, customer):
    """A case ACME's customer opened through the portal."""

    def make(subject: str = "No puedo firmar el documento"):
        return cases.open_case(actor=customer, channel=portal, subject=subject, type="incident")

    return make


@pytest.fixture
def calls(_frozen, pbx, customer, agent):
    """Three calls: ACME's customer missed (Bogotá), an unknown caller answered by Ana
    (Bogotá), Ana calling out on the national line."""
    AgentPhone.objects.create(user=agent, extension="201")
    customers.update_contact(contact=customer.contact, phones=["3001234567"])
    pbx.send(event("newCall", "acme-1"))
    pbx.send(event("hangup", "acme-1", cause="noAnswer"))
    _frozen.advance(minutes=10)
    unknown = {"from": "6045551234"}
    pbx.send(event("newCall", "unk-2", **unknown))
    pbx.send(event("answer", "unk-2", answeringNumber="201", **unknown))
    _frozen.advance(minutes=10)
    out = {"from": "018000181531", "to": "3157778899", "direction": "out", "user": "Ana Agente"}
    pbx.send(event("newCall", "out-3", **out), line="linea-nacional", token=NACIONAL_TOKEN)
    run()
    return {c.call_id: c for c in Call.objects.all()}


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.content
    return [item["call_id"] for item in resp.json()["items"]]


def test_staff_list_the_calls_newest_first_with_filters(api, calls):
    resp = api.get("/calls", as_="agent")
    assert ids(resp) == ["out-3", "unk-2", "acme-1"] and resp.json()["count"] == 3
    acme = calls["acme-1"]
    checks = {
        "line=linea-nacional": ["out-3"],
        "direction=in": ["unk-2", "acme-1"],
        "state=answered": ["unk-2"],
        "missed=true": ["acme-1"],
        "missed=false": ["out-3", "unk-2"],
        f"contact={acme.contact_id}": ["acme-1"],
        "organization=acme": ["acme-1"],
        "since=" + (T0 + dt.timedelta(minutes=5)).isoformat().replace("+", "%2B"): [
            "out-3",
            "unk-2",
        ],
        "limit=1&offset=1": ["unk-2"],
    }
    for query, expected in checks.items():
        assert ids(api.get(f"/calls?{query}", as_="agent")) == expected, query


def test_a_call_shows_caller_agent_and_case(api, calls):
    item = api.get(f"/calls/{calls['unk-2'].pk}", as_="agent").json()
    assert item["from"] == "6045551234" and item["from_e164"] == "+576045551234"
    assert item["state"] == "answered" and item["agent"]["name"] == "Ana Agente"
    assert item["contacts"] == [] and item["organization"] is None
    missed = api.get(f"/calls/{calls['acme-1'].pk}", as_="agent").json()
    assert missed["missed"] and missed["callback"] and missed["case"].startswith("CS")
    assert missed["contacts"][0]["organization"] == "acme"


def test_bad_filters_are_422(api, calls):
    for query in ("direction=sideways", "state=x", "limit=0", "contact=0", "since=ayer"):
        assert api.get(f"/calls?{query}", as_="agent").status_code == 422, query


def test_a_customer_sees_only_their_organizations_calls(api, calls):
    assert ids(api.get("/calls", as_="customer")) == ["acme-1"]
    mine = api.get(f"/calls/{calls['acme-1'].pk}", as_="customer")
    assert mine.status_code == 200
    assert ids(api.get("/calls", as_="other_customer")) == []
    for call in calls.values():
        assert api.get(f"/calls/{call.pk}", as_="other_customer").status_code == 404
        assert api.post(f"/calls/{call.pk}/case", {}, as_="other_customer").status_code == 404
    assert api.get(f"/calls/{calls['unk-2'].pk}", as_="customer").status_code == 404
    assert api.get("/calls/999999", as_="agent").status_code == 404
    assert api.get("/calls").status_code == 401


def test_recordings_are_for_agents_only(api, calls, pbx):
    pbx.send(
        event("hangup", "acme-1", cause="noAnswer", recordingUrl="https://pbx.example.co/r.wav")
    )
    run()
    call = calls["acme-1"]
    call.refresh_from_db()
    call.recording_url = "https://pbx.example.co/r.wav"
    call.save()
    assert api.get(f"/calls/{call.pk}", as_="agent").json()["recording_url"].endswith("r.wav")
    assert api.get(f"/calls/{call.pk}", as_="customer").json()["recording_url"] is None


def test_an_agent_opens_a_case_from_a_call_and_it_shows_on_the_timeline(api, calls, pbx, _frozen):
    call = calls["unk-2"]
    resp = api.post(f"/calls/{call.pk}/case", {"subject": "Consulta de firma"}, as_="agent")
    assert resp.status_code == 200, resp.content
    number = resp.json()["case"]
    case = Case.objects.get(number=number)
    assert (case.subject, case.channel.slug, case.type) == (
        "Consulta de firma",
        "linea-bogota",
        "request",
    )
    _frozen.advance(minutes=4)
    pbx.send(event("hangup", "unk-2", cause="normalClearing", **{"from": "6045551234"}))
    run()
    items = api.get(f"/cases/{number}/timeline", as_="agent").json()["items"]
    kinds = [i["kind"] for i in items]
    assert "call.attached" in kinds and "call.ended" in kinds
    ended = next(i for i in items if i["kind"] == "call.ended")
    assert ended["changes"]["duration_seconds"] == 14 * 60  # answered 10 + 4 minutes ago
    assert ended["changes"]["agent"] == "Ana Agente"


def test_a_call_is_attached_to_an_existing_case_once(api, calls, make_case):
    case = make_case()
    call = calls["unk-2"]
    resp = api.post(f"/calls/{call.pk}/case", {"case": case.number.lower()}, as_="agent")
    assert resp.status_code == 200 and resp.json()["case"] == case.number
    again = api.post(f"/calls/{call.pk}/case", {"case": case.number}, as_="agent")
    assert again.status_code == 200  # the same case: nothing changes
    other = make_case(subject="Otro")
    moved = api.post(f"/calls/{call.pk}/case", {"case": other.number}, as_="agent")
    assert moved.status_code == 409 and case.number in moved.json()["detail"]
    assert api.post(f"/calls/{call.pk}/case", {}, as_="agent").status_code == 409


def test_calls_into_cases_refuse_bad_input(api, calls):
    call = calls["out-3"]
    for body in ({"case": "CS12"}, {"case": "CS9999999"}, {"nope": 1}, {"type": "queja"}):
        resp = api.post(f"/calls/{call.pk}/case", body, as_="agent")
        assert resp.status_code in (404, 422), (body, resp.content)
    assert api.post(f"/calls/{call.pk}/case", {}, as_="customer").status_code == 404
    assert Call.objects.get(pk=call.pk).case is None


def test_a_customer_cannot_turn_their_own_call_into_a_case(api, calls):
    resp = api.post(f"/calls/{calls['acme-1'].pk}/case", {}, as_="customer")
    assert resp.status_code == 403


def test_the_screen_pop_shows_caller_organization_and_open_cases_with_sla(api, calls, make_case):
    other = make_case(subject="Certificado vencido")
    pop = api.get(f"/calls/{calls['acme-1'].pk}/pop", as_="agent").json()
    assert pop["number"] == "+573001234567"
    assert pop["organization"] == {"slug": "acme", "name": "ACME S.A.S."}
    assert pop["contacts"][0]["name"] == "Carla Cliente"
    numbers = [c["number"] for c in pop["open_cases"]]
    assert other.number in numbers and calls["acme-1"].case.number in numbers
    first = next(c for c in pop["open_cases"] if c["number"] == other.number)
    assert first["level"] == 1 and {t["kind"] for t in first["sla"]} == {
        "first_response",
        "resolution",
    }
    assert api.get(f"/calls/{calls['acme-1'].pk}/pop", as_="customer").status_code == 403


def test_the_contacts_api_reads_numbers_with_the_same_rules(api, acme):
    resp = api.post(
        "/contacts",
        {"name": "Pedro", "organization": "acme", "phones": ["228 1260", "033123456789"]},
        as_="agent",
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["phones"] == ["+576012281260", "+573123456789"]


@pytest.mark.parametrize(
    "since",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"],
)
def test_a_since_outside_what_the_database_compares_is_a_422(api, calls, since):
    from urllib.parse import quote

    assert api.get(f"/calls?since={quote(since)}", as_="agent").status_code == 422


def test_since_with_any_offset_filters_in_utc(api, calls):
    assert api.get("/calls?since=2000-01-01T00:00:00%2B14:00", as_="agent").json()["count"] == 3
    # an offset PostgreSQL refuses to compare (found by schemathesis: was a 500 there)
    far = api.get("/calls?since=4007-09-05T12:22:21.64%2B20:32", as_="agent")
    assert far.status_code == 200 and far.json()["count"] == 0
