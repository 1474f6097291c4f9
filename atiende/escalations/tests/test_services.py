import datetime as dt

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Case, Note
from atiende.channels.models import Notification
from atiende.configuration.models import Setting
from atiende.core.errors import PermissionDenied
from atiende.core.models import AuditEntry
from atiende.escalations import selectors, services
from atiende.escalations.models import EscalationRequest
from atiende.escalations.services import EscalationRefused
from atiende.escalations.tests.fixtures import *  # noqa: F403
from atiende.escalations.tests.fixtures import TUESDAY_10AM
from atiende.sla import services as sla
from atiende.sla.models import SlaTimer
from atiende.worker import queue
from atiende.worker.models import Job

pytestmark = pytest.mark.django_db


def refusal(case, actor, **kw) -> EscalationRefused:
    with pytest.raises(EscalationRefused) as caught:
        services.request_escalation(case=case, actor=actor, **kw)
    return caught.value


def climb(case, level_of, to: int):
    """Up the ladder as each level's responsible asks and the next one accepts."""
    while case.level < to:
        row = services.request_escalation(
            case=case, actor=level_of[case.level], reason="No es de mi nivel"
        )
        services.decide_escalation(request=row, actor=level_of[row.to_level], decision="accept")
        case.refresh_from_db()
    return case


def notify_jobs(event: str) -> list[dict]:
    return [j.payload for j in Job.objects.filter(kind="notify") if j.payload["event"] == event]


def addresses(payload: dict) -> set[tuple[str, str]]:
    return {(r["kind"], r["address"]) for r in payload["recipients"]}


# --- Eligibility: every rule and every refusal code ---------------------------------------


def test_a_fresh_case_is_not_eligible_and_says_from_when(incident, ladder, customer):
    result = selectors.eligibility(incident, actor=customer)
    assert not result.eligible
    assert result.code == "not_eligible"
    assert result.eligible_from == TUESDAY_10AM + dt.timedelta(hours=1)
    assert "1 de diciembre a las 11:00 a. m." in result.detail
    refused = refusal(incident, customer, to_level=2)
    assert refused.code == "not_eligible"
    assert refused.extra["eligible_from"] == "2026-12-01T16:00:00Z"
    assert not EscalationRequest.objects.exists()


def test_a_breached_first_response_lets_the_customer_escalate(incident, ladder, customer, clock_at):
    clock_at.advance(minutes=61)
    sla.sweep()
    result = selectors.eligibility(incident, actor=customer)
    assert result.eligible and result.grounds == ["breach"]
    row = services.request_escalation(
        case=incident, actor=customer, to_level=2, reason="Nadie responde"
    )
    assert (row.status, row.from_level, row.to_level, row.via) == ("pending", 1, 2, "api")
    assert row.requested_by_contact == customer.contact


def test_a_target_past_due_counts_before_the_sweep_records_it(incident, ladder, customer, clock_at):
    clock_at.advance(minutes=60)
    assert selectors.eligibility(incident, actor=customer).grounds == ["breach"]


def test_a_breached_resolution_target_counts_too(incident, ladder, customer, agent, clock_at):
    cases.add_note(case=incident, actor=agent, body_text="Estamos revisando.")
    clock_at.advance(hours=7)
    assert not selectors.eligibility(incident, actor=customer).eligible
    clock_at.advance(hours=1, minutes=1)
    sla.sweep()
    assert selectors.eligibility(incident, actor=customer).grounds == ["breach"]


def test_a_customer_who_rejects_the_solution_may_escalate(
    incident, ladder, customer, agent, clock_at
):
    cases.add_note(case=incident, actor=agent, body_text="Reinstale el firmador.")
    clock_at.advance(minutes=20)
    cases.change_status(case=incident, actor=agent, status="resolved")
    assert not selectors.eligibility(incident, actor=customer).eligible
    clock_at.advance(minutes=5)
    cases.change_status(case=incident, actor=customer, status="open")
    result = selectors.eligibility(incident, actor=customer)
    assert result.eligible and result.grounds == ["reopened"]


def test_an_agent_of_the_current_level_may_ask(incident, ladder, agent):
    result = selectors.eligibility(incident, actor=agent)
    assert result.eligible and result.grounds == ["agent"]
    row = services.request_escalation(case=incident, actor=agent, reason="Requiere el supervisor")
    assert (row.via, row.requested_by) == ("agent", agent)


def test_staff_of_another_level_cannot_ask_without_grounds(incident, ladder, supervisor):
    assert refusal(incident, supervisor, to_level=2).code == "not_eligible"


def test_skipping_a_level_is_refused_with_an_explanation(incident, ladder, agent):
    refused = refusal(incident, agent, to_level=3)
    assert refused.code == "skip_level"
    assert "debe surtir primero el nivel 2" in refused.message
    assert refused.status == 409


def test_asking_for_the_current_level_is_not_eligible(incident, ladder, level_of):
    climb(incident, level_of, 2)
    assert refusal(incident, level_of[2], to_level=2).code == "not_eligible"


def test_the_top_level_cannot_climb(incident, level_of):
    climb(incident, level_of, 4)
    refused = refusal(incident, level_of[4], to_level=4)
    assert refused.code == "top_level"
    assert selectors.eligibility(incident, actor=level_of[4]).code == "top_level"


def test_fewer_configured_levels_lower_the_top(incident, ladder, agent, supervisor):
    ladder[4].delete()
    ladder[3].delete()
    climb(incident, {1: agent, 2: supervisor}, 2)
    assert refusal(incident, agent).code == "top_level"


@pytest.mark.parametrize("status", ["cancelled", "closed"])
def test_a_finished_case_cannot_climb(incident, ladder, agent, status):
    if status == "closed":
        cases.change_status(case=incident, actor=agent, status="resolved")
    cases.change_status(case=incident, actor=agent, status=status)
    refused = refusal(incident, agent)
    assert refused.code == "closed"


def test_a_repeated_request_gets_already_pending_with_its_id(incident, ladder, agent):
    row = services.request_escalation(case=incident, actor=agent)
    refused = refusal(incident, agent, to_level=2)
    assert refused.code == "already_pending"
    assert refused.extra["pending_id"] == row.pk
    assert EscalationRequest.objects.filter(status="pending").count() == 1


def test_the_database_refuses_a_second_pending_request(incident, ladder, agent):
    from django.db import IntegrityError, transaction

    services.request_escalation(case=incident, actor=agent)
    with pytest.raises(IntegrityError), transaction.atomic():
        EscalationRequest.objects.create(
            case=incident, from_level=1, to_level=2, via="agent", created_at=TUESDAY_10AM
        )


# --- Deciding -----------------------------------------------------------------------------


def test_accepting_moves_assigns_restarts_the_level_target_and_tells_everyone(
    incident, ladder, customer, agent, supervisor, clock_at
):
    cases.add_note(case=incident, actor=agent, body_text="Revisando.")  # level 1 answered
    row = services.request_escalation(case=incident, actor=agent, reason="Requiere el supervisor")
    clock_at.advance(minutes=30)
    services.decide_escalation(request=row, actor=supervisor, decision="accept", reason="Lo tomo")

    incident.refresh_from_db()
    row.refresh_from_db()
    assert (row.status, row.decided_by, row.decided_at) == ("accepted", supervisor, clock_at.at)
    assert (incident.level, incident.assignee, incident.group) == (2, supervisor, None)
    timer = SlaTimer.objects.get(case=incident, kind="first_response")
    assert (timer.level, timer.met_at, timer.breached_at) == (2, None, None)
    assert timer.due_at == clock_at.at + dt.timedelta(hours=1)
    actions = list(AuditEntry.objects.filter(case=incident).values_list("action", flat=True))
    for action in (
        "escalation.requested",
        "case.level_changed",
        "sla.level_target_started",
        "escalation.accepted",
    ):
        assert action in actions
    # The customer reads it on the case (automatic public notes) and on the timeline.
    notes = list(
        Note.objects.filter(case=incident, automatic=True).values_list("body_text", flat=True)
    )
    assert any("fue escalado al nivel 2" in n and "Orlando Méndez" in n for n in notes)
    assert any("Se solicitó escalar" in n for n in notes)
    timeline = [item["kind"] for item in cases_timeline(customer, incident)]
    assert "escalation.requested" in timeline and "escalation.accepted" in timeline
    assert "case.level_changed" not in timeline
    # The previous and the new level's responsibles, by email (and WhatsApp where they have it).
    accepted = notify_jobs("escalation.accepted")
    assert len(accepted) == 1
    assert {
        ("email", "ana.agente@mesa.test"),
        ("email", "mesadeayuda@certicamara.com"),
        ("email", "sergio.sup@mesa.test"),
        ("email", "orlando.mendez@certicamara.com"),
    } <= addresses(accepted[0])
    assert ("whatsapp", "+573168731648") not in addresses(accepted[0])  # the desk's own line


def cases_timeline(user, case):
    from atiende.cases.selectors import case_timeline

    return case_timeline(user, case)


def test_the_new_level_meets_its_own_response_target(incident, ladder, level_of, agent, clock_at):
    cases.add_note(case=incident, actor=agent, body_text="Revisando.")
    climb(incident, level_of, 2)
    clock_at.advance(minutes=30)
    cases.add_note(case=incident, actor=level_of[2], body_text="Soy el supervisor; lo reviso.")
    timer = SlaTimer.objects.get(case=incident, kind="first_response")
    assert timer.met_at == clock_at.at
    clock_at.advance(hours=2)
    sla.sweep()
    result = selectors.eligibility(incident, actor=None)
    assert not result.eligible and result.code == "not_eligible"


def test_whatsapp_goes_to_a_responsible_with_a_whatsapp_number(incident, ladder, level_of):
    climb(incident, level_of, 2)
    services.request_escalation(case=incident, actor=level_of[2])
    requested = notify_jobs("escalation.requested")[-1]
    assert ("whatsapp", "+573187174937") in addresses(requested)
    assert ("email", "nelson@mesa.test") in addresses(requested)


def test_the_notify_job_delivers_to_each_responsible(incident, ladder, level_of):
    from atiende.worker import senders

    with senders.recording("email", "whatsapp") as recording:
        climb(incident, level_of, 2)
        services.request_escalation(
            case=incident, actor=level_of[2], reason="Requiere coordinación"
        )
        queue.run_pending()
    sent = Notification.objects.filter(case=incident, event="escalation.requested")
    assert sent.exists() and all(n.status == "sent" for n in sent)
    recorded = [(n.kind, n.address, n.subject) for n in recording.notifications]
    assert (
        "whatsapp",
        "+573187174937",
        f"[{incident.number}] Escalamiento al nivel 3 por verificar",
    ) in recorded
    assert (
        "email",
        "nelson@mesa.test",
        f"[{incident.number}] Escalamiento al nivel 3 por verificar",
    ) in recorded


def test_rejecting_keeps_the_case_and_shows_the_reason(
    incident, ladder, agent, supervisor, customer
):
    row = services.request_escalation(case=incident, actor=agent, reason="Requiere el supervisor")
    services.decide_escalation(
        request=row,
        actor=supervisor,
        decision="reject",
        reason="El nivel 1 tiene el procedimiento; aplique la guía 7.",
    )
    incident.refresh_from_db()
    row.refresh_from_db()
    assert (row.status, row.decision_reason) == (
        "rejected",
        "El nivel 1 tiene el procedimiento; aplique la guía 7.",
    )
    assert incident.level == 1
    note = Note.objects.filter(case=incident, automatic=True).order_by("-id").first()
    assert "no fue aceptada" in note.body_text and "guía 7" in note.body_text
    rejected = notify_jobs("escalation.rejected")
    assert ("email", agent.email) in addresses(rejected[0])
    assert AuditEntry.objects.filter(case=incident, action="escalation.rejected").exists()
    # A new request is possible again once the first is decided.
    assert services.request_escalation(case=incident, actor=agent).status == "pending"


def test_rejecting_needs_a_reason(incident, ladder, agent, supervisor):
    from atiende.core.errors import InvalidInput

    row = services.request_escalation(case=incident, actor=agent)
    with pytest.raises(InvalidInput):
        services.decide_escalation(request=row, actor=supervisor, decision="reject", reason=" ")


@pytest.mark.parametrize("who", ["agent", "coordinator", "director", "customer"])
def test_only_the_next_levels_responsible_may_decide(
    incident, ladder, agent, coordinator, director, customer, who
):
    row = services.request_escalation(case=incident, actor=agent)
    actor = {
        "agent": agent,
        "coordinator": coordinator,
        "director": director,
        "customer": customer,
    }[who]
    with pytest.raises(PermissionDenied) as caught:
        services.decide_escalation(request=row, actor=actor, decision="accept")
    assert caught.value.status == 403
    row.refresh_from_db()
    assert row.status == "pending"


def test_a_member_of_the_levels_group_or_an_admin_may_decide(
    incident, ladder, level_of, admin_user, coordinator
):
    from atiende.accounts import services as accounts

    group = accounts.ensure_group(slug="coordinacion", name="Coordinación")
    ladder[3].group = group
    ladder[3].save()
    helper = accounts.create_user(
        email="helper@mesa.test", name="Helper", role="agent", group="coordinacion"
    )
    climb(incident, level_of, 2)
    row = services.request_escalation(case=incident, actor=level_of[2])
    assert selectors.can_verify(helper, 3) and selectors.can_verify(admin_user, 3)
    services.decide_escalation(request=row, actor=admin_user, decision="accept")
    incident.refresh_from_db()
    # An admin is not the level's person: the case goes to the level's only mapped person.
    assert (incident.level, incident.group, incident.assignee) == (3, group, coordinator)


def test_a_decided_request_cannot_be_decided_again(incident, ladder, agent, supervisor):
    row = services.request_escalation(case=incident, actor=agent)
    services.decide_escalation(request=row, actor=supervisor, decision="accept")
    with pytest.raises(EscalationRefused) as caught:
        services.decide_escalation(request=row, actor=supervisor, decision="reject", reason="no")
    assert caught.value.code == "already_decided"


def test_the_level_changes_only_through_escalation(incident, agent):
    from atiende.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        cases.update_case(case=incident, actor=agent, level=2)


# --- Automatic escalation, reminders ------------------------------------------------------


def test_a_breach_escalates_automatically_when_the_level_says_so(incident, ladder, clock_at):
    ladder[1].auto_escalate_on_breach = True
    ladder[1].save()
    clock_at.advance(minutes=59)
    sla.sweep()
    assert not EscalationRequest.objects.exists()
    clock_at.advance(minutes=2)
    sla.sweep()
    row = EscalationRequest.objects.get()
    assert (row.via, row.from_level, row.to_level, row.grounds, row.requested_by) == (
        "auto",
        1,
        2,
        ["breach"],
        None,
    )
    assert "primera respuesta" in row.reason
    assert notify_jobs("escalation.requested")
    # The resolution breach later finds the request pending: nothing more, no error.
    clock_at.advance(hours=8)
    assert sla.sweep()["breached"] == 1
    assert EscalationRequest.objects.count() == 1


def test_without_the_setting_a_breach_only_makes_the_case_eligible(incident, ladder, clock_at):
    clock_at.advance(minutes=61)
    assert sla.sweep()["breached"] == 1
    assert not EscalationRequest.objects.exists()


def test_automatic_escalation_climbs_from_the_accepted_level_too(
    incident, ladder, level_of, clock_at
):
    for lv in ladder.values():
        lv.auto_escalate_on_breach = True
        lv.save()
    cases.add_note(case=incident, actor=level_of[1], body_text="Revisando.")
    climb(incident, level_of, 2)
    clock_at.advance(minutes=61)
    sla.sweep()
    row = EscalationRequest.objects.get(status="pending")
    assert (row.from_level, row.to_level, row.via) == (2, 3, "auto")


def test_an_undecided_request_reminds_its_verifier_after_business_time(
    incident, ladder, agent, supervisor, clock_at
):
    Setting.objects.create(key="escalations.reminder_after_minutes", value=30)
    row = services.request_escalation(case=incident, actor=agent)
    assert row.next_reminder_at == clock_at.at + dt.timedelta(minutes=30)
    clock_at.advance(minutes=29)
    assert services.send_reminders() == 0
    clock_at.advance(minutes=1)
    assert services.send_reminders() == 1
    assert services.send_reminders() == 0
    reminders = notify_jobs("escalation.reminder")
    assert ("email", "orlando.mendez@certicamara.com") in addresses(reminders[0])
    assert "desde hace 30 min" in reminders[0]["body"]
    clock_at.advance(minutes=30)
    assert services.send_reminders() == 1
    row.refresh_from_db()
    assert row.reminders_sent == 2
    services.decide_escalation(request=row, actor=supervisor, decision="accept")
    clock_at.advance(hours=5)
    assert services.send_reminders() == 0


def test_reminders_wait_for_business_hours(portal, customer, sla_targets, ladder, agent):
    from atiende.core import clock

    friday_6pm = dt.datetime(2026, 12, 4, 23, 0, tzinfo=dt.UTC)  # 18:00 in Bogotá
    with clock.frozen(friday_6pm):
        case = cases.open_case(
            actor=customer, channel=portal, subject="Certificado", type="request", priority="low"
        )
        row = services.request_escalation(case=case, actor=agent)
    # One business hour on horario-habil: 18:00-19:00 Friday.
    assert row.next_reminder_at == dt.datetime(2026, 12, 5, 0, 0, tzinfo=dt.UTC)
    with clock.frozen(friday_6pm + dt.timedelta(minutes=30)):
        row2 = EscalationRequest.objects.get()
        assert services._next_reminder(case, clock.now()) == dt.datetime(
            2026, 12, 5, 13, 30, tzinfo=dt.UTC
        )
        assert row2.pk == row.pk


def test_the_reminder_job_is_registered():
    from atiende.worker import registry

    registry.load()
    assert "escalation_reminders" in registry.PERIODIC


# --- The evidence pack --------------------------------------------------------------------


def test_the_evidence_pack_tells_the_verifier_what_happened(
    incident, ladder, level_of, customer, agent, clock_at
):
    clock_at.advance(minutes=61)
    sla.sweep()  # level 1 missed its first response
    cases.add_note(case=incident, actor=agent, body_text="Reinstale el firmador, por favor.")
    clock_at.advance(minutes=30)
    cases.change_status(case=incident, actor=agent, status="resolved")
    clock_at.advance(minutes=10)
    cases.add_note(case=incident, actor=customer, body_text="Sigue fallando igual.")
    cases.change_status(case=incident, actor=customer, status="open")
    clock_at.advance(minutes=9)
    row = services.request_escalation(case=incident, actor=customer, reason="No lo resuelven")
    assert row.grounds == ["breach", "reopened"]
    services.decide_escalation(request=row, actor=level_of[2], decision="accept")
    clock_at.advance(minutes=20)

    pack = selectors.evidence(Case.objects.get(pk=incident.pk))
    first, second = pack["levels"]
    assert (first["level"], first["seconds"], first["business_seconds"]) == (1, 110 * 60, 110 * 60)
    assert [b["timer"] for b in first["breaches"]] == ["first_response"]
    assert (second["level"], second["seconds"], second["until"], second["breaches"]) == (
        2,
        20 * 60,
        None,
        [],
    )
    assert pack["last_public_answer"]["author"] == agent.name
    assert "Reinstale" in pack["last_public_answer"]["excerpt"]
    assert pack["solution_proposed"] is True and len(pack["reopened_at"]) == 1
    assert pack["customer_said"][-1]["excerpt"] == "Sigue fallando igual."
    assert pack["sla"]["first_response"]["level"] == 2


def test_losing_the_race_on_the_constraint_is_already_pending(incident, ladder, agent, monkeypatch):
    # As if another transaction committed its request between our check and our insert.
    other = EscalationRequest.objects.create(
        case=incident, from_level=1, to_level=2, via="agent", created_at=TUESDAY_10AM
    )
    real = selectors.eligibility

    def blind(case, **kw):
        result = real(case, **kw)
        if result.code == "already_pending":
            result.eligible, result.code, result.pending_id, result.grounds = (
                True,
                None,
                None,
                ["agent"],
            )
        return result

    monkeypatch.setattr(selectors, "eligibility", blind)
    refused = refusal(incident, agent)
    assert (refused.code, refused.extra["pending_id"]) == ("already_pending", other.pk)


def test_a_channel_message_from_the_customer_requests_as_their_contact(
    incident, ladder, customer, clock_at
):
    # What the email and WhatsApp intake call when a reply asks for escalation.
    clock_at.advance(minutes=61)
    row = services.request_escalation(
        case=incident,
        actor=None,
        contact=customer.contact,
        via="whatsapp",
        reason="Escalen por favor",
    )
    assert (row.via, row.requested_by, row.requested_by_contact, row.grounds) == (
        "whatsapp",
        None,
        customer.contact,
        ["breach"],
    )
    assert selectors.evidence(incident)["levels"][0]["breaches"][0]["recorded"] is False


def test_a_channel_message_before_any_failure_is_refused(incident, ladder, customer):
    refused = refusal(incident, None, contact=customer.contact, via="email")
    assert refused.code == "not_eligible"


def test_a_cancelled_case_stops_reminding(incident, ladder, agent, clock_at):
    row = services.request_escalation(case=incident, actor=agent)
    cases.change_status(case=incident, actor=agent, status="cancelled")
    clock_at.advance(hours=2)
    assert services.send_reminders() == 0
    row.refresh_from_db()
    assert (row.status, row.next_reminder_at) == ("pending", None)
