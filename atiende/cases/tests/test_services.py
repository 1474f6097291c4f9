import datetime as dt

import pytest

from atiende.cases import services, transitions
from atiende.cases.models import Case, Note
from atiende.core import clock
from atiende.core.errors import InvalidInput, PermissionDenied, TransitionRefused
from atiende.core.models import AuditEntry
from atiende.worker.models import Job

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def case(portal, customer):
    return services.open_case(
        actor=customer, channel=portal, subject="No puedo firmar", type="incident", priority="high"
    )


def test_case_numbers_are_cs_and_seven_digits_increasing(portal, customer):
    numbers = [
        services.open_case(actor=customer, channel=portal, subject=f"caso {i}").number
        for i in range(3)
    ]
    assert numbers == ["CS0000001", "CS0000002", "CS0000003"]


def test_customer_opens_cases_in_their_own_organization(portal, customer, globex):
    case = services.open_case(actor=customer, channel=portal, subject="x", organization=globex)
    assert case.organization.slug == "acme"
    assert case.requester == customer.contact


def test_opening_a_case_is_audited_with_its_initial_values(case, customer):
    entry = AuditEntry.objects.get(case=case, action="case.created")
    assert entry.actor == customer
    assert entry.changes["number"] == [None, case.number]
    assert entry.changes["status"] == [None, "new"]


def test_invalid_case_fields_are_reported_per_field_and_nothing_is_stored(portal, agent):
    with pytest.raises(InvalidInput) as err:
        services.open_case(actor=agent, channel=portal, subject=" ", type="bug", priority="urgent")
    assert set(err.value.errors) == {"subject", "type", "priority"}
    assert Case.objects.count() == 0


def test_a_channel_refuses_requests_it_does_not_attend(make_channel, agent, acme):
    monitoring = make_channel(
        "whatsapp-monitoreo",
        "whatsapp",
        attends=[{"type": "incident", "priority": "critical"}],
        attends_label="Incidentes críticos",
    )
    with pytest.raises(InvalidInput) as err:
        services.open_case(
            actor=agent,
            channel=monitoring,
            subject="x",
            type="request",
            priority="low",
            organization=acme,
        )
    assert "no atiende" in err.value.errors["channel"]
    ok = services.open_case(
        actor=agent,
        channel=monitoring,
        subject="caído",
        type="incident",
        priority="critical",
        organization=acme,
    )
    assert ok.pk


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["open", "awaiting_info", "open", "resolved", "closed"], True),
        (["resolved", "open", "resolved", "closed"], True),
        (["cancelled"], True),
        (["closed"], False),
        (["open", "closed"], False),
        (["resolved", "cancelled"], False),
        (["cancelled", "open"], False),
    ],
)
def test_status_follows_the_transition_table(case, agent, path, allowed):
    try:
        for status in path:
            case = services.change_status(case=case, actor=agent, status=status)
    except TransitionRefused as exc:
        assert not allowed, exc.message
        assert "No se puede pasar" in exc.message or "no puede cambiar" in exc.message
    else:
        assert allowed
        assert case.status == path[-1]


def test_every_status_pair_outside_the_table_is_refused(agent, portal, customer):
    for current, targets in transitions.ALLOWED.items():
        for target in set(transitions.ALLOWED) - targets - {current}:
            case = services.open_case(
                actor=agent, channel=portal, subject="x", organization=customer.contact.organization
            )
            Case.objects.filter(pk=case.pk).update(status=current)
            case.refresh_from_db()
            with pytest.raises(TransitionRefused):
                services.change_status(case=case, actor=agent, status=target)
            assert Case.objects.get(pk=case.pk).status == current


def test_status_changes_are_audited_old_to_new(case, agent):
    services.change_status(case=case, actor=agent, status="open")
    entry = AuditEntry.objects.filter(case=case, action="case.status_changed").get()
    assert entry.changes == {"status": ["new", "open"]}
    assert entry.actor == agent


def test_customer_can_reopen_a_resolved_case_within_the_window_only(case, agent, customer):
    with clock.frozen(T0) as c:
        services.change_status(case=case, actor=agent, status="resolved")
        c.advance(days=3)
        case = services.change_status(case=case, actor=customer, status="open")
        assert case.status == "open" and case.resolved_at is None
        services.change_status(case=case, actor=agent, status="resolved")
        c.advance(days=8)
        with pytest.raises(TransitionRefused) as err:
            services.change_status(case=case, actor=customer, status="open")
        assert err.value.code == "reopen_window_passed"


def test_customer_cannot_change_status_of_an_unresolved_case(case, customer):
    with pytest.raises(PermissionDenied):
        services.change_status(case=case, actor=customer, status="cancelled")


def test_resolved_cases_close_after_the_configured_days(case, agent):
    with clock.frozen(T0) as c:
        services.change_status(case=case, actor=agent, status="resolved")
        c.advance(days=6)
        assert services.close_resolved_cases() == 0
        c.advance(days=1, seconds=1)
        assert services.close_resolved_cases() == 1
    case.refresh_from_db()
    assert case.status == "closed" and case.closed_at is not None


def test_level_cannot_be_patched_directly(case, agent):
    with pytest.raises(InvalidInput) as err:
        services.update_case(case=case, actor=agent, level=3)
    assert "level" in err.value.errors


def test_assignment_is_audited_separately(case, agent):
    services.update_case(case=case, actor=agent, assignee=agent, priority="critical")
    actions = list(AuditEntry.objects.filter(case=case).values_list("action", flat=True))
    assert "case.assignee_changed" in actions and "case.updated" in actions
    updated = AuditEntry.objects.get(case=case, action="case.updated")
    assert updated.changes == {"priority": ["high", "critical"]}


def test_first_public_agent_answer_opens_the_case_and_sets_first_response(case, agent):
    services.add_note(case=case, actor=agent, body_text="Trabajo interno", visibility="internal")
    case.refresh_from_db()
    assert case.first_response_at is None and case.status == "new"
    services.add_note(case=case, actor=agent, body_text="Estamos revisando")
    case.refresh_from_db()
    assert case.first_response_at is not None and case.status == "open"


def test_customer_reply_resumes_a_case_awaiting_information(case, agent, customer):
    services.change_status(case=case, actor=agent, status="awaiting_info")
    services.add_note(case=case, actor=customer, body_text="Aquí está el dato")
    case.refresh_from_db()
    assert case.status == "open"


def test_customers_cannot_write_internal_notes(case, customer):
    with pytest.raises(InvalidInput):
        services.add_note(case=case, actor=customer, body_text="x", visibility="internal")


def test_public_answer_on_an_email_case_is_queued_in_the_same_transaction(
    email_channel, agent, acme
):
    case = services.open_case(
        actor=agent, channel=email_channel, subject="Correo", organization=acme
    )
    note = services.add_note(case=case, actor=agent, body_text="Respuesta")
    assert note.delivery_status == "pending"
    job = Job.objects.get(kind="deliver_note")
    assert job.payload == {"note_id": note.pk}


def test_a_portal_answer_needs_no_delivery(case, agent):
    note = services.add_note(case=case, actor=agent, body_text="Respuesta")
    assert note.delivery_status is None
    assert not Job.objects.filter(kind="deliver_note").exists()


def test_the_same_external_message_becomes_one_note(case, portal):
    first = services.add_note(case=case, body_text="hola", channel=portal, external_id="msg-1")
    again = services.add_note(case=case, body_text="hola", channel=portal, external_id="msg-1")
    assert first.created and not again.created
    assert again.pk == first.pk
    assert Note.objects.filter(case=case, external_id="msg-1").count() == 1


def test_closed_cases_accept_no_notes(case, agent):
    services.change_status(case=case, actor=agent, status="cancelled")
    with pytest.raises(TransitionRefused):
        services.add_note(case=case, actor=agent, body_text="tarde")
