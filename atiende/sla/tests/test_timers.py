import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Note
from atiende.core import clock, events
from atiende.core.models import AuditEntry
from atiende.core.tests.threads import at_once, raised
from atiende.sla import services as sla
from atiende.sla.models import SlaTimer
from atiende.worker.models import Job

BOG = ZoneInfo("America/Bogota")


def bogota(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BOG)


def timer(case, kind) -> SlaTimer:
    return SlaTimer.objects.get(case=case, kind=kind)


@pytest.fixture
def open_at(sla_targets, email_channel, portal, customer, acme):
    def make(
        at, *, channel=None, type="request", priority="high", actor=None, assignee=None, group=None
    ):
        with clock.frozen(at):
            return cases.open_case(
                actor=actor or customer,
                channel=channel or email_channel,
                subject="x",
                type=type,
                priority=priority,
                assignee=assignee,
                group=group,
            )

    return make


def test_friday_evening_email_request_is_due_saturday_morning(open_at):
    case = open_at(bogota(2026, 3, 6, 18, 30))  # Friday, 30 minutes before closing
    first = timer(case, "first_response")
    assert first.schedule == "horario-habil"
    assert first.due_at.astimezone(BOG) == bogota(2026, 3, 7, 8, 30)
    # 8 h: 0.5 h on Friday, 5 h on Saturday, 2.5 h on Monday
    assert timer(case, "resolution").due_at.astimezone(BOG) == bogota(2026, 3, 9, 9, 30)


def test_saturday_noon_request_before_a_holiday_monday_is_due_tuesday(open_at):
    case = open_at(bogota(2026, 1, 10, 12, 45))  # Monday 12 January 2026 is Reyes Magos
    assert timer(case, "first_response").due_at.astimezone(BOG) == bogota(2026, 1, 13, 7, 45)


def test_out_of_hours_case_starts_at_the_next_opening_and_says_when(open_at):
    case = open_at(bogota(2026, 11, 28, 14, 0))  # Saturday afternoon, closed
    first = timer(case, "first_response")
    assert first.started_at.astimezone(BOG) == bogota(2026, 11, 30, 7, 0)
    ack = Note.objects.get(case=case, automatic=True)
    assert case.number in ack.body_text
    assert "será atendido a partir del lunes 30 de noviembre a las 7:00 a. m." in ack.body_text
    assert ack.delivery_status == "pending"  # an email case: the answer goes out by email


def test_out_of_hours_incident_ack_points_to_the_24x7_channels(open_at, make_channel):
    make_channel(
        "whatsapp-monitoreo",
        "whatsapp",
        name="WhatsApp Centro de Monitoreo",
        display_address="+57 318 487 2656",
        hours=[{"schedule": "24x7"}],
        attends=[{"type": "incident", "priority": "critical"}],
    )
    case = open_at(bogota(2026, 12, 25, 10, 0), type="incident", priority="high")  # Navidad
    body = Note.objects.get(case=case, automatic=True).body_text
    assert "será atendido a partir del sábado 26 de diciembre a las 8:00 a. m." in body
    assert "WhatsApp Centro de Monitoreo (+57 318 487 2656)" in body
    assert "Portal de autogestión" in body


def test_in_hours_ack_gives_just_the_case_number(open_at):
    case = open_at(bogota(2026, 3, 4, 10, 0))
    body = Note.objects.get(case=case, automatic=True).body_text
    assert case.number in body and "fuera de su horario" not in body


def test_critical_incidents_run_on_24x7_whatever_the_channel(open_at):
    case = open_at(
        bogota(2026, 3, 7, 22, 0), type="incident", priority="critical"
    )  # Saturday night
    first = timer(case, "first_response")
    assert first.schedule == "24x7"
    assert first.due_at.astimezone(BOG) == bogota(2026, 3, 7, 22, 15)


def test_an_incident_through_the_portal_runs_on_24x7_and_a_request_does_not(open_at, portal):
    incident = open_at(
        bogota(2026, 3, 8, 10, 0), channel=portal, type="incident", priority="high"
    )  # Sunday
    request = open_at(bogota(2026, 3, 8, 10, 0), channel=portal, type="request", priority="high")
    assert timer(incident, "first_response").due_at.astimezone(BOG) == bogota(2026, 3, 8, 11, 0)
    assert timer(request, "first_response").due_at.astimezone(BOG) == bogota(2026, 3, 9, 8, 0)


def test_the_first_public_agent_answer_meets_first_response_and_the_ack_does_not(open_at, agent):
    case = open_at(bogota(2026, 3, 4, 10, 0))
    assert timer(case, "first_response").met_at is None
    with clock.frozen(bogota(2026, 3, 4, 10, 20)):
        cases.add_note(case=case, actor=agent, body_text="Revisando")
    first = timer(case, "first_response")
    assert first.met_at.astimezone(BOG) == bogota(2026, 3, 4, 10, 20)
    assert first.next_check_at is None


def test_awaiting_info_pauses_the_clock_and_moves_the_due_instant(open_at, agent):
    case = open_at(bogota(2026, 3, 4, 10, 0))  # resolution due 18:00 (8 business hours)
    assert timer(case, "resolution").due_at.astimezone(BOG) == bogota(2026, 3, 4, 18, 0)
    with clock.frozen(bogota(2026, 3, 4, 11, 0)):
        cases.change_status(case=case, actor=agent, status="awaiting_info")
    paused = timer(case, "resolution")
    assert paused.paused and paused.next_check_at is None
    with clock.frozen(
        bogota(2026, 3, 5, 8, 0)
    ):  # 8 h paused on Wed + 1 h on Thu = 9 business hours
        cases.change_status(case=case, actor=agent, status="open")
    resumed = timer(case, "resolution")
    assert resumed.paused_seconds == 9 * 3600
    assert resumed.due_at.astimezone(BOG) == bogota(2026, 3, 5, 15, 0)
    actions = list(
        AuditEntry.objects.filter(case=case, action__startswith="sla.").values_list(
            "action", flat=True
        )
    )
    assert actions == ["sla.paused", "sla.resumed"]
    created = AuditEntry.objects.get(case=case, action="case.created")
    assert created.changes["sla_schedule"] == [None, "horario-habil"]
    assert created.changes["resolution_due"][1].startswith("2026-03-04T23:00")  # 18:00 in Bogotá


def test_resolving_meets_resolution_and_reopening_resumes_without_the_resolved_time(
    open_at, agent, customer
):
    case = open_at(bogota(2026, 3, 4, 10, 0))
    with clock.frozen(bogota(2026, 3, 4, 12, 0)):
        cases.change_status(case=case, actor=agent, status="resolved")
    assert timer(case, "resolution").met_at is not None
    with clock.frozen(bogota(2026, 3, 4, 15, 0)):
        cases.change_status(case=case, actor=customer, status="open")
    reopened = timer(case, "resolution")
    assert reopened.met_at is None and reopened.paused_seconds == 3 * 3600
    # 8 h of work plus the 3 h it stood resolved: Wed 10:00 -> 19:00 is 9 h, then Thu 07:00 + 2 h
    assert reopened.due_at.astimezone(BOG) == bogota(2026, 3, 5, 9, 0)


def test_changing_priority_recomputes_the_targets_and_says_so(open_at, agent):
    case = open_at(bogota(2026, 3, 4, 10, 0), type="incident", priority="high")
    with clock.frozen(bogota(2026, 3, 4, 10, 5)):
        cases.update_case(case=case, actor=agent, priority="critical")
    first = timer(case, "first_response")
    assert (first.schedule, first.target_seconds) == ("24x7", 15 * 60)
    assert first.due_at.astimezone(BOG) == bogota(2026, 3, 4, 10, 15)
    entry = AuditEntry.objects.get(case=case, action="sla.retargeted")
    assert entry.changes["first_response"]["target_seconds"] == [3600, 900]
    assert entry.actor == agent


def test_the_sweep_flags_at_risk_then_records_one_breach_at_the_due_instant(
    open_at, agent, supervisor
):
    from atiende.accounts.services import ensure_group

    group = ensure_group(
        slug="soporte-tecnico", name="Grupo de soporte técnico", email="mesadeayuda@certicamara.com"
    )
    case = open_at(bogota(2026, 3, 4, 10, 0), assignee=agent, group=group, actor=supervisor)
    published = []
    events.subscribe("sla.breached")(
        lambda case, timer: published.append((case.number, timer.kind))
    )

    assert sla.sweep(now=bogota(2026, 3, 4, 10, 44)) == {"at_risk": 0, "breached": 0}
    assert sla.sweep(now=bogota(2026, 3, 4, 10, 45)) == {"at_risk": 1, "breached": 0}  # 75 % of 1 h
    assert timer(case, "first_response").at_risk_flagged_at is not None
    assert sla.sweep(now=bogota(2026, 3, 4, 11, 3)) == {"at_risk": 0, "breached": 1}
    assert sla.sweep(now=bogota(2026, 3, 4, 11, 4)) == {"at_risk": 0, "breached": 0}

    breached = timer(case, "first_response")
    assert breached.breached_at.astimezone(BOG) == bogota(2026, 3, 4, 11, 0)  # when it fell due
    [entry] = AuditEntry.objects.filter(case=case, action="sla.breached")
    assert entry.changes["timer"] == "first_response" and entry.changes["level"] == 1
    job = Job.objects.get(kind="notify")
    assert {r["address"] for r in job.payload["recipients"]} == {
        agent.email,
        "mesadeayuda@certicamara.com",
    }
    assert (case.number, "first_response") in published


def test_a_met_or_cancelled_case_never_breaches(open_at, agent):
    met = open_at(bogota(2026, 3, 4, 10, 0))
    with clock.frozen(bogota(2026, 3, 4, 10, 10)):
        cases.add_note(case=met, actor=agent, body_text="Hola")
    cancelled = open_at(bogota(2026, 3, 4, 10, 0))
    with clock.frozen(bogota(2026, 3, 4, 10, 10)):
        cases.change_status(case=cancelled, actor=agent, status="cancelled")
    counts = sla.sweep(now=bogota(2026, 3, 20, 10, 0))
    assert counts["breached"] == 1  # only `met`'s resolution clock, still running
    assert not SlaTimer.objects.filter(case=cancelled, breached_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_record_each_breach_once(open_at):
    opened = [open_at(bogota(2026, 3, 4, 10, 0)) for _ in range(30)]
    later = bogota(2026, 3, 30, 10, 0)

    def run():
        for _ in range(5):
            sla.sweep(now=later, limit=7)

    assert raised(at_once([run] * 3)) == []
    assert AuditEntry.objects.filter(action="sla.breached").count() == 2 * len(opened)
    assert SlaTimer.objects.filter(breached_at__isnull=True).count() == 0


def test_the_case_sla_view_and_the_at_risk_queue(open_at):
    from atiende.cases.models import Case
    from atiende.sla import selectors

    case = open_at(bogota(2026, 3, 4, 10, 0))
    view = selectors.case_sla(case, now=bogota(2026, 3, 4, 10, 50))
    assert view["schedule"] == "horario-habil"
    assert view["first_response"]["state"] == "at_risk" and view["resolution"]["state"] == "running"
    assert view["first_response"]["target_seconds"] == 3600
    assert list(selectors.at_risk(Case.objects.all(), now=bogota(2026, 3, 4, 10, 50))) == [case]
    assert list(selectors.at_risk(Case.objects.all(), now=bogota(2026, 3, 4, 10, 40))) == []


def test_a_new_levels_first_answer_meets_its_restarted_response_clock(open_at, agent):
    case = open_at(bogota(2026, 3, 4, 10, 0))
    with clock.frozen(bogota(2026, 3, 4, 10, 10)):
        cases.add_note(case=case, actor=agent, body_text="Primera respuesta")
    with clock.frozen(bogota(2026, 3, 4, 12, 0)):
        case.refresh_from_db()
        case.level = 2
        case.save(update_fields=["level"])
        sla.restart_response_target(case)
    assert timer(case, "first_response").met_at is None
    with clock.frozen(bogota(2026, 3, 4, 12, 30)):
        cases.add_note(case=case, actor=agent, body_text="Respuesta del nivel 2")
    restarted = timer(case, "first_response")
    assert restarted.met_at.astimezone(BOG) == bogota(2026, 3, 4, 12, 30) and restarted.level == 2
    case.refresh_from_db()
    assert case.first_response_at.astimezone(BOG) == bogota(
        2026, 3, 4, 10, 10
    )  # the case's first answer


def test_the_clocks_know_whether_their_case_is_active(open_at, agent, customer):
    # `case_active` feeds the console's at-risk and breached indexes: it follows every
    # status change, and a breach survives resolving and reopening.
    case = open_at(bogota(2026, 3, 4, 10, 0))
    assert {t.case_active for t in SlaTimer.objects.filter(case=case)} == {True}
    with clock.frozen(bogota(2026, 3, 4, 11, 0)):
        cases.change_status(case=case, actor=agent, status="awaiting_info")
    assert {t.case_active for t in SlaTimer.objects.filter(case=case)} == {True}
    sla.sweep(now=bogota(2026, 3, 20, 10, 0))  # paused: nothing to record
    with clock.frozen(bogota(2026, 3, 5, 8, 0)):
        cases.change_status(case=case, actor=agent, status="open")
    sla.sweep(now=bogota(2026, 3, 20, 10, 0))  # long past due: both clocks breach
    with clock.frozen(bogota(2026, 3, 20, 11, 0)):
        cases.change_status(case=case, actor=agent, status="resolved")
    assert {t.case_active for t in SlaTimer.objects.filter(case=case)} == {False}
    with clock.frozen(bogota(2026, 3, 20, 12, 0)):
        cases.change_status(case=case, actor=customer, status="open")
    reopened = SlaTimer.objects.filter(case=case)
    assert {t.case_active for t in reopened} == {True}
    assert all(t.breached_at is not None for t in reopened)
    with clock.frozen(bogota(2026, 3, 20, 13, 0)):
        cases.change_status(case=case, actor=agent, status="cancelled")
    assert {t.case_active for t in SlaTimer.objects.filter(case=case)} == {False}
