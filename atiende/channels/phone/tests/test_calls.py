"""Event sequences → the call log and callbacks, in any order, each event once."""

import datetime as dt

import pytest

from atiende.cases.models import Case, Note
from atiende.channels.phone import services
from atiende.channels.phone.inbound import CtiEvent
from atiende.channels.phone.models import AgentPhone, Call, CallEvent
from atiende.channels.phone.tests.conftest import T0, event, fixture, run
from atiende.core import clock
from atiende.core.audit import AuditEntry
from atiende.customers import services as customers
from atiende.sla.models import SlaTimer


@pytest.fixture
def ana(agent):
    AgentPhone.objects.create(user=agent, extension="201", phone="+573009990001")
    return agent


@pytest.fixture
def bruno(db):
    from atiende.accounts import services as accounts

    return accounts.create_user(email="bruno@mesa.test", name="Bruno Agente", role="agent")


@pytest.fixture
def carla(acme):
    return customers.create_contact(name="Carla Cliente", organization=acme, phones=["3001234567"])


def the_call(call_id: str = "c-1") -> Call:
    return Call.objects.get(call_id=call_id)


def test_an_answered_call_is_logged_with_caller_agent_and_duration(_frozen, pbx, ana, bruno, carla):
    pbx.send(fixture("newcall.json"))
    run()
    call = the_call("4c2f-0001")
    assert (call.state, call.contact, call.organization.slug) == ("ringing", carla, "acme")
    assert set(call.agents.all()) == {ana, bruno}  # the group that rang
    _frozen.advance(seconds=8)
    pbx.send(fixture("answer.json"))
    run()
    assert the_call("4c2f-0001").state == "answered"
    _frozen.advance(minutes=3)
    pbx.send(fixture("hangup.json"))
    run()
    call = the_call("4c2f-0001")
    assert (call.state, call.cause, call.missed) == ("ended", "normalClearing", False)
    assert call.agent == ana  # by extension 201
    assert call.duration_seconds == 180
    assert call.started_at == T0 and call.answered_at == T0 + dt.timedelta(seconds=8)
    assert call.recording_url.endswith("4c2f-0001.wav")
    assert (call.from_raw, call.from_e164, call.to_e164) == (
        "3001234567",
        "+573001234567",
        "+576017442727",
    )
    assert call.case is None and not Case.objects.exists()  # answered: no callback
    assert CallEvent.objects.filter(call=call).count() == 3


def test_the_agent_is_found_by_phone_when_the_pbx_sends_a_number(_frozen, pbx, ana):
    pbx.send(event("newCall"))
    pbx.send(event("answer", answeringNumber="300 999 0001"))
    run()
    assert the_call().agent == ana


def test_without_answering_number_the_only_named_agent_answered(_frozen, pbx, ana):
    pbx.send(event("newCall", user="ana agente"))
    pbx.send(event("answer", user="Ana Agente"))
    run()
    assert the_call().agent == ana


@pytest.mark.parametrize("cause", ["noAnswer", "busy", "cancel", "congestion"])
def test_a_missed_inbound_call_opens_a_callback_on_the_line(_frozen, pbx, carla, cause):
    pbx.send(event("newCall"))
    _frozen.advance(seconds=25)
    pbx.send(event("hangup", cause=cause))
    run()
    call = the_call()
    assert (call.state, call.missed, call.callback) == ("ended", True, True)
    case = call.case
    assert (case.type, case.channel.slug, case.requester, case.organization.slug) == (
        "request",
        "linea-bogota",
        carla,
        "acme",
    )
    assert SlaTimer.objects.filter(case=case).count() == 2  # the line's SLA
    note = Note.objects.get(case=case, external_id="cti:c-1")
    assert "Devolver la llamada" in note.body_text and "+573001234567" in note.body_text
    # no acknowledgement goes out on a phone line
    assert not Note.objects.filter(case=case, direction="outbound").exists()


def test_a_missed_call_from_a_caller_with_an_open_phone_case_is_a_note_on_it(
    _frozen, pbx, carla, lines
):
    from atiende.cases import services as cases

    open_case = cases.open_case(
        actor=None,
        channel=lines["linea-bogota"],
        subject="Certificado",
        requester=carla,
        acknowledge=False,
    )
    pbx.send(event("newCall"))
    pbx.send(event("hangup", cause="cancel"))
    run()
    assert the_call().case == open_case
    assert Case.objects.count() == 1
    assert Note.objects.filter(case=open_case, external_id="cti:c-1").exists()


def test_repeated_missed_calls_within_an_hour_join_one_callback(_frozen, pbx):
    for i in range(3):
        pbx.send(event("newCall", f"m-{i}", **{"from": "315 777 8899"}))
        pbx.send(event("hangup", f"m-{i}", cause="noAnswer", **{"from": "315 777 8899"}))
        run()
        _frozen.advance(minutes=20)
    assert Case.objects.count() == 1
    case = Case.objects.get()
    assert Note.objects.filter(case=case, external_id__startswith="cti:").count() == 3
    assert set(Call.objects.values_list("case", flat=True)) == {case.pk}


def test_a_missed_call_after_the_callback_was_closed_opens_a_new_one(_frozen, pbx, agent):
    from atiende.cases import services as cases

    pbx.send(event("newCall", "m-1"))
    pbx.send(event("hangup", "m-1", cause="busy"))
    run()
    first = the_call("m-1").case
    cases.change_status(case=first, actor=agent, status="cancelled", reason="número equivocado")
    pbx.send(event("newCall", "m-2"))
    pbx.send(event("hangup", "m-2", cause="busy"))
    run()
    assert the_call("m-2").case not in (None, first)


@pytest.mark.parametrize("hidden", ["anonymous", "", "private"])
def test_an_anonymous_missed_call_is_logged_without_callback(_frozen, pbx, hidden):
    pbx.send(event("newCall", **{"from": hidden}))
    pbx.send(event("hangup", cause="noAnswer", **{"from": hidden}))
    run()
    call = the_call()
    assert (call.missed, call.anonymous, call.caller_e164, call.case) == (True, True, "", None)
    assert not Case.objects.exists()


def test_an_out_of_hours_call_is_logged_and_its_callback_starts_at_the_next_opening(pbx):
    evening = dt.datetime(2026, 3, 5, 2, 0, tzinfo=dt.UTC)  # Wednesday 21:00 in Bogotá
    with clock.frozen(evening):
        pbx.send(event("newCall"))
        pbx.send(event("hangup", cause="noAnswer"))
        run()
    call = the_call()
    assert call.out_of_hours and call.missed
    timer = SlaTimer.objects.get(case=call.case, kind="first_response")
    # Thursday 07:00 in Bogotá, when horario-habil opens
    assert timer.started_at == dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
    assert "fuera del horario" in Note.objects.get(external_id="cti:c-1").body_text


def test_an_outbound_call_names_the_calling_agent_and_opens_no_callback(_frozen, pbx, ana, carla):
    pbx.send(fixture("outbound_newcall.json"))
    hangup = {**fixture("outbound_newcall.json"), "event": "hangup", "cause": "noAnswer"}
    pbx.send(hangup)
    run()
    call = the_call("out-3")
    assert (call.direction, call.agent, call.caller_e164) == ("out", ana, "+573157778899")
    assert (call.missed, call.case) == (False, None)


def test_a_group_call_resolves_every_named_agent(_frozen, pbx, ana, bruno):
    pbx.send(event("newCall", user=["Ana Agente", "Bruno Agente", "Nadie Conocido"]), form=True)
    pbx.send(event("answer", answeringNumber="201"), form=True)
    run()
    call = the_call()
    assert call.agent_names == ["Ana Agente", "Bruno Agente", "Nadie Conocido"]
    assert set(call.agents.all()) == {ana, bruno}
    assert call.agent == ana


def test_named_agents_resolve_in_one_query_and_a_shared_name_to_nobody(ana, bruno):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from atiende.accounts import services as accounts
    from atiende.channels.phone import selectors

    accounts.create_user(email="otro.bruno@mesa.test", name="bruno agente", role="agent")
    accounts.create_user(email="cliente@acme.test", name="Dora Cliente", role="customer")
    with CaptureQueriesContext(connection) as queries:
        found = selectors.agents_by_names(
            ["ANA AGENTE", "Bruno Agente", "bruno@MESA.test", "Dora Cliente", "Nadie"]
        )
    assert len(queries) == 1
    # "Bruno Agente" is two agents' name: neither; his e-mail is his alone; not a customer
    assert found == [ana, bruno]
    assert selectors.agents_by_names([]) == []


def test_events_out_of_order_end_in_the_right_state(_frozen, pbx, ana):
    # hangup first, then newCall, then a late answer
    _frozen.advance(seconds=60)
    pbx.send(event("hangup", cause="normalClearing", answeringNumber="201"))
    run()
    call = the_call()
    assert call.state == "ended"
    _frozen.set(T0)
    pbx.send(event("newCall"))
    run()
    _frozen.set(T0 + dt.timedelta(seconds=90))
    pbx.send(event("answer", answeringNumber="201"))
    run()
    call = the_call()
    assert (call.state, call.missed, call.agent, call.case) == ("ended", False, ana, None)
    assert call.started_at == T0
    assert call.answered_at <= call.ended_at
    assert not Case.objects.exists()


def test_an_answer_after_the_hangup_still_makes_the_call_answered(_frozen, pbx):
    pbx.send(event("newCall"))
    pbx.send(event("hangup", cause="normalClearing"))
    pbx.send(event("answer"))
    run()
    call = the_call()
    assert (call.state, call.missed, call.answered_at is not None) == ("ended", False, True)


def test_a_hangup_without_newcall_creates_the_call(_frozen, pbx, carla):
    pbx.send(event("hangup", cause="busy"))
    run()
    call = the_call()
    assert (call.state, call.missed, call.contact) == ("ended", True, carla)
    assert call.case is not None


def test_the_same_event_applied_twice_counts_once(_frozen, lines):
    line = lines["linea-bogota"]
    for ev in ("newCall", "hangup", "hangup", "newCall"):
        e = CtiEvent.from_payload(
            {
                "event": ev,
                "call_id": "d-1",
                "direction": "in",
                "from_": "3157778899",
                "to": "6017442727",
                "cause": "noAnswer" if ev == "hangup" else "",
            }
        )
        services.apply_event(line=line, event=e, received_at=clock.now())
    assert CallEvent.objects.count() == 2
    assert Case.objects.count() == 1 and Note.objects.filter(external_id="cti:d-1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_to_four_workers_at_once_is_applied_once(lines):
    from atiende.core.tests.threads import at_once, raised

    line = lines["linea-bogota"]
    e = CtiEvent(
        event="hangup",
        call_id="race-1",
        direction="in",
        from_="3157778899",
        to="6017442727",
        cause="busy",
    )
    outcomes = at_once(
        [lambda: services.apply_event(line=line, event=e, received_at=clock.now())] * 4
    )
    assert raised(outcomes) == []
    assert [o for o in outcomes if o is not None].__len__() == 1
    assert Call.objects.count() == 1 and CallEvent.objects.count() == 1
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_three_events_of_a_call_applied_at_once_end_in_one_answered_call(lines):
    from atiende.core.tests.threads import at_once, raised

    line = lines["linea-bogota"]
    events = [
        CtiEvent(
            event=ev,
            call_id="race-2",
            direction="in",
            from_="3157778899",
            to="6017442727",
            cause="normalClearing" if ev == "hangup" else "",
        )
        for ev in ("newCall", "answer", "hangup")
    ]
    outcomes = at_once(
        [
            lambda e=e: services.apply_event(line=line, event=e, received_at=clock.now())
            for e in events
        ]
    )
    assert raised(outcomes) == []
    call = Call.objects.get()
    assert (call.state, call.missed) == ("ended", False)
    assert CallEvent.objects.count() == 3 and not Case.objects.exists()


def test_a_call_left_ringing_is_closed_as_missed_with_a_callback(_frozen, pbx):
    pbx.send(event("newCall"))
    run()
    _frozen.advance(minutes=14)
    assert services.close_stale_calls() == 0
    _frozen.advance(minutes=2)
    assert services.close_stale_calls() == 1
    call = the_call()
    assert (call.state, call.missed, call.cause, call.callback) == ("ended", True, "timeout", True)
    # the PBX's late hangup still lands on the same call, once
    pbx.send(event("hangup", cause="cancel"))
    run()
    call = the_call()
    assert (call.cause, call.missed) == ("cancel", True)
    assert Case.objects.count() == 1


def test_the_ringing_timeout_is_per_line(_frozen, pbx, lines):
    line = lines["linea-bogota"]
    line.settings = {**line.settings, "ring_timeout_minutes": 2}
    line.save()
    pbx.send(event("newCall"))
    run()
    _frozen.advance(minutes=3)
    assert services.close_stale_calls() == 1


def test_a_voicemail_keeps_its_recording_for_agents_only(_frozen, pbx, lines, agent, customer):
    from atiende.cases.selectors import case_timeline

    contact = customer.contact
    customers.update_contact(contact=contact, phones=["3123456789"])
    pbx.send(
        fixture("hangup_voicemail.json"), line="linea-nacional", token="token-nacional-de-prueba"
    )
    run()
    call = the_call("vm-7")
    assert (call.voicemail, call.missed, call.caller_e164) == (True, True, "+573123456789")
    assert call.recording_url == "https://pbx.example.co/voicemail/vm-7.wav"
    staff = [i for i in case_timeline(agent, call.case) if i["kind"] == "call.attached"]
    assert staff[0]["changes"]["recording_url"] == call.recording_url
    theirs = case_timeline(customer, call.case)
    assert "vm-7.wav" not in repr(theirs)
    assert AuditEntry.objects.filter(action="call.attached", case=call.case).count() == 1


def test_a_call_left_answered_is_closed_after_the_lines_answered_timeout(_frozen, pbx, lines, ana):
    pbx.send(event("newCall"))
    pbx.send(event("answer", answeringNumber="201"))
    run()
    _frozen.advance(minutes=239)
    assert services.close_stale_calls() == 0
    _frozen.advance(minutes=2)
    assert services.close_stale_calls() == 1
    call = the_call()
    # answered, so not missed and no callback; nobody knows the talk time
    assert (call.state, call.cause, call.missed, call.case) == ("ended", "timeout", False, None)
    assert call.duration_seconds is None
    # a late hangup corrects it
    pbx.send(event("hangup", cause="normalClearing", answeringNumber="201"))
    run()
    call = the_call()
    assert (call.cause, call.duration_seconds) == ("normalClearing", 241 * 60)


def test_the_answered_timeout_is_per_line(_frozen, pbx, lines):
    line = lines["linea-bogota"]
    line.settings = {**line.settings, "answered_timeout_minutes": 30}
    line.save()
    pbx.send(event("newCall"))
    pbx.send(event("answer"))
    run()
    _frozen.advance(minutes=31)
    assert services.close_stale_calls() == 1


def test_mark_done_only_for_missed_calls_and_callbacks_once_audited(_frozen, pbx, agent):
    pbx.send(event("newCall", "m-1"))
    pbx.send(event("hangup", "m-1", cause="noAnswer"))
    pbx.send(event("newCall", "a-1"))
    pbx.send(event("answer", "a-1"))
    run()
    call = services.mark_call_done(call=the_call("m-1"), actor=agent)
    assert (call.done_by, call.done_at) == (agent, clock.now())
    services.mark_call_done(call=call, actor=agent)
    assert AuditEntry.objects.filter(action="call.done", case=call.case).count() == 1
    with pytest.raises(services.NotMissed):
        services.mark_call_done(call=the_call("a-1"), actor=agent)


def test_an_unknown_caller_gets_a_contact_with_the_callback_and_the_log_names_it(_frozen, pbx):
    pbx.send(event("newCall", **{"from": "315 777 8899"}))
    pbx.send(event("hangup", cause="noAnswer", **{"from": "315 777 8899"}))
    run()
    call = the_call()
    assert call.contact is not None and call.contact == call.case.requester
    assert list(call.contacts.all()) == [call.contact] and not call.ambiguous
