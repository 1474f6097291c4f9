import datetime as dt

import pytest

from atiende.cases import services as cases
from atiende.escalations.models import EscalationRequest
from atiende.escalations.tests.fixtures import *  # noqa: F403
from atiende.escalations.tests.fixtures import TUESDAY_10AM
from atiende.sla import services as sla

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(api, incident):
    return incident


@pytest.fixture
def level_tokens(tokens, coordinator, director):
    from atiende.accounts import services as accounts

    return {
        **tokens,
        "coordinator": accounts.issue_token(user=coordinator),
        "director": accounts.issue_token(user=director),
    }


def escalate(api, number, as_, to_level, reason="Sin respuesta"):
    return api.post(
        f"/cases/{number}/escalations", {"to_level": to_level, "reason": reason}, as_=as_
    )


def decide(api, request_id, as_, decision="accept", reason=""):
    return api.post(
        f"/escalations/{request_id}/decision", {"decision": decision, "reason": reason}, as_=as_
    )


def test_a_customer_escalates_after_a_breach_and_the_supervisor_accepts(
    api, case, ladder, clock_at
):
    clock_at.advance(minutes=61)
    sla.sweep()
    r = escalate(api, case.number, "customer", 2, "Nadie me ha respondido")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["status"], body["from_level"], body["to_level"], body["via"]) == (
        "pending",
        1,
        2,
        "api",
    )
    assert body["grounds"] == ["breach"] and body["evidence"] is None  # evidence is for staff

    queue = api.get("/escalations", params={"status": "pending"}, as_="supervisor").json()
    assert [item["id"] for item in queue["items"]] == [body["id"]]
    evidence = queue["items"][0]["evidence"]
    assert evidence["levels"][0]["breaches"][0]["timer"] == "first_response"
    assert evidence["last_public_answer"] is None and evidence["solution_proposed"] is False

    r = decide(api, body["id"], "supervisor", "accept", "Lo reviso yo")
    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["decided_by"]) == ("accepted", "Sergio Supervisor")
    got = api.get(f"/cases/{case.number}", as_="customer").json()
    assert (got["level"], got["assignee"]["name"]) == (2, "Sergio Supervisor")
    assert api.get("/escalations", as_="supervisor").json()["count"] == 0
    timeline = api.get(f"/cases/{case.number}/timeline", as_="customer").json()["items"]
    kinds = [item["kind"] for item in timeline]
    assert "escalation.requested" in kinds and "escalation.accepted" in kinds
    assert any(
        item["kind"] == "note" and "fue escalado al nivel 2" in item["body"] for item in timeline
    )


def test_a_skip_is_refused_with_a_409_that_explains_it(api, case, ladder):
    r = escalate(api, case.number, "agent", 3)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "skip_level"
    assert "debe surtir primero el nivel 2" in body["detail"]
    assert (body["from_level"], body["to_level"]) == (1, 3)


def test_a_repeated_submission_gets_already_pending_with_the_id(api, case, ladder):
    first = escalate(api, case.number, "agent", 2).json()
    r = escalate(api, case.number, "agent", 2)
    assert r.status_code == 409
    assert (r.json()["code"], r.json()["pending_id"]) == ("already_pending", first["id"])


def test_not_eligible_says_from_when(api, case, ladder):
    r = escalate(api, case.number, "customer", 2)
    assert r.status_code == 409
    assert r.json()["code"] == "not_eligible"
    assert r.json()["eligible_from"] == "2026-12-01T16:00:00Z"
    e = api.get(f"/cases/{case.number}/escalation-eligibility", as_="customer").json()
    assert (e["eligible"], e["code"], e["to_level"]) == (False, "not_eligible", 2)
    assert dt.datetime.fromisoformat(
        e["eligible_from"].replace("Z", "+00:00")
    ) == TUESDAY_10AM + dt.timedelta(hours=1)
    assert "podrá solicitarse" in e["detail"].lower()


def test_eligibility_depends_on_who_asks(api, case, ladder):
    mine = api.get(f"/cases/{case.number}/escalation-eligibility", as_="agent").json()
    assert (mine["eligible"], mine["grounds"], mine["code"]) == (True, ["agent"], None)
    theirs = api.get(f"/cases/{case.number}/escalation-eligibility", as_="customer").json()
    assert theirs["eligible"] is False


def test_the_top_level_and_a_closed_case_are_refused(api, case, level_of, level_tokens):
    api.tokens = level_tokens
    for to, (asker, verifier) in {
        2: ("agent", "supervisor"),
        3: ("supervisor", "coordinator"),
        4: ("coordinator", "director"),
    }.items():
        made = escalate(api, case.number, asker, to)
        assert made.status_code == 201, made.json()
        assert decide(api, made.json()["id"], verifier).status_code == 200
    assert api.get(f"/cases/{case.number}", as_="agent").json()["level"] == 4
    r = escalate(api, case.number, "director", 4)
    assert (r.status_code, r.json()["code"]) == (409, "top_level")
    assert escalate(api, case.number, "director", 3).json()["code"] == "top_level"
    cases.change_status(case=case, actor=level_of[4], status="cancelled")
    assert escalate(api, case.number, "director", 4).json()["code"] == "closed"
    history = api.get(f"/cases/{case.number}/escalations", as_="customer").json()
    assert [(i["from_level"], i["to_level"], i["status"]) for i in history["items"]] == [
        (1, 2, "accepted"),
        (2, 3, "accepted"),
        (3, 4, "accepted"),
    ]


def test_a_rejection_keeps_the_level_and_needs_a_reason(api, case, ladder):
    made = escalate(api, case.number, "agent", 2).json()
    r = decide(api, made["id"], "supervisor", "reject")
    assert r.status_code == 422 and "reason" in r.json()["errors"]
    r = decide(api, made["id"], "supervisor", "reject", "Falta el diagnóstico del nivel 1")
    assert (r.status_code, r.json()["status"], r.json()["decision_reason"]) == (
        200,
        "rejected",
        "Falta el diagnóstico del nivel 1",
    )
    assert api.get(f"/cases/{case.number}", as_="agent").json()["level"] == 1
    r = decide(api, made["id"], "supervisor", "accept")
    assert (r.status_code, r.json()["code"]) == (409, "already_decided")
    seen = api.get("/escalations", params={"status": "rejected"}, as_="supervisor").json()
    assert [i["id"] for i in seen["items"]] == [made["id"]]


@pytest.mark.parametrize("who", ["agent", "customer", "coordinator"])
def test_a_wrong_verifier_gets_403(api, case, ladder, level_tokens, who):
    api.tokens = level_tokens
    made = escalate(api, case.number, "agent", 2).json()
    r = decide(api, made["id"], who)
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    assert EscalationRequest.objects.get(pk=made["id"]).status == "pending"


def test_an_admin_may_decide(api, case, ladder):
    made = escalate(api, case.number, "agent", 2).json()
    assert decide(api, made["id"], "admin").json()["status"] == "accepted"


def test_the_queue_shows_each_verifier_their_level_only(api, case, ladder, level_tokens):
    api.tokens = level_tokens
    made = escalate(api, case.number, "agent", 2).json()
    assert [i["id"] for i in api.get("/escalations", as_="supervisor").json()["items"]] == [
        made["id"]
    ]
    assert api.get("/escalations", as_="coordinator").json()["count"] == 0
    assert api.get("/escalations", as_="agent").json()["count"] == 0
    assert api.get("/escalations", as_="admin").json()["count"] == 1
    assert api.get("/escalations", as_="customer").json()["count"] == 1  # their own case's
    assert api.get("/escalations", as_="other_customer").json()["count"] == 0


def test_customers_cannot_see_or_escalate_another_organizations_case(api, case, ladder, clock_at):
    clock_at.advance(minutes=61)
    made = escalate(api, case.number, "agent", 2).json()
    for r in (
        escalate(api, case.number, "other_customer", 2),
        api.get(f"/cases/{case.number}/escalations", as_="other_customer"),
        api.get(f"/cases/{case.number}/escalation-eligibility", as_="other_customer"),
        api.get(f"/escalations/{made['id']}", as_="other_customer"),
        decide(api, made["id"], "other_customer"),
    ):
        assert r.status_code == 404, r.json()
        assert r.json()["code"] == "not_found"


def test_a_single_request_shows_its_evidence_to_staff(api, case, ladder):
    made = escalate(api, case.number, "agent", 2, "Requiere supervisor").json()
    staff = api.get(f"/escalations/{made['id']}", as_="supervisor").json()
    assert staff["evidence"]["case"] == case.number and staff["reason"] == "Requiere supervisor"
    assert api.get(f"/escalations/{made['id']}", as_="customer").json()["evidence"] is None


def test_invalid_bodies_are_422(api, case, ladder):
    # A level the ladder has not got is the ladder's answer (409), not a schema error.
    r = api.post(f"/cases/{case.number}/escalations", {"to_level": 9}, as_="agent")
    assert (r.status_code, r.json()["code"]) == (409, "skip_level")
    assert (
        api.post(
            f"/cases/{case.number}/escalations", {"to_level": 2, "x": 1}, as_="agent"
        ).status_code
        == 422
    )
    made = escalate(api, case.number, "agent", 2).json()
    r = api.post(f"/escalations/{made['id']}/decision", {"decision": "maybe"}, as_="supervisor")
    assert r.status_code == 422
    assert api.get("/escalations", params={"status": "nope"}, as_="supervisor").status_code == 422


def climb_to(api, number, level_tokens, top):
    """Climb a case one accepted level at a time up to `top` (the verifier of each level
    asks for the next one)."""
    asker = {1: "agent", 2: "supervisor", 3: "coordinator", 4: "director", 5: "fifth"}
    for to in range(2, top + 1):
        made = escalate(api, number, asker[to - 1], to)
        assert made.status_code == 201, made.json()
        assert decide(api, made.json()["id"], asker[to]).status_code == 200


def test_a_request_above_the_top_level_is_a_409_top_level_not_a_422(
    api, case, level_of, level_tokens
):
    api.tokens = level_tokens
    climb_to(api, case.number, level_tokens, 4)
    r = escalate(api, case.number, "director", 5)
    assert (r.status_code, r.json()["code"]) == (409, "top_level"), r.json()
    assert "último nivel" in r.json()["detail"]
    r = escalate(api, case.number, "director", 10**12)
    assert (r.status_code, r.json()["code"]) == (409, "top_level"), r.json()


def test_a_five_level_ladder_reaches_the_fifth_level(api, case, level_of, level_tokens):
    from atiende.accounts import services as accounts
    from atiende.escalations.models import EscalationLevel

    EscalationLevel.objects.create(number=5, name="Quinto escalamiento", title="Gerencia")
    fifth = accounts.create_user(
        email="gerente@mesa.test", name="Gerente", role="supervisor", level=5
    )
    api.tokens = {**level_tokens, "fifth": accounts.issue_token(user=fifth)}
    climb_to(api, case.number, level_tokens, 5)
    got = api.get(f"/cases/{case.number}", as_="agent").json()
    assert (got["level"], got["assignee"]["name"]) == (5, "Gerente")
    assert api.get("/cases", params={"level": 5}, as_="agent").json()["count"] == 1
    r = escalate(api, case.number, "fifth", 6)
    assert (r.status_code, r.json()["code"]) == (409, "top_level")


def test_a_level_below_one_is_still_a_422(api, case, ladder):
    r = api.post(f"/cases/{case.number}/escalations", {"to_level": 0}, as_="agent")
    assert r.status_code == 422 and "to_level" in r.json()["errors"]
