import datetime as dt

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Note
from atiende.channels.models import Notification
from atiende.core import clock
from atiende.worker import queue, senders
from atiende.worker.errors import DeliveryError
from atiende.worker.models import Job

T0 = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def email_sender():
    with senders.recording("email") as sender:
        yield sender


@pytest.fixture
def email_case(email_channel, agent, acme):
    return cases.open_case(actor=agent, channel=email_channel, subject="Correo", organization=acme)


def test_an_answer_is_sent_by_the_worker_and_marked_sent(email_case, agent, email_sender):
    with clock.frozen(T0):
        note = cases.add_note(case=email_case, actor=agent, body_text="Respuesta")
        queue.run_pending()
    note.refresh_from_db()
    assert [n.pk for n in email_sender.notes] == [note.pk]
    assert note.delivery_status == "sent" and note.external_id == f"recorded-note-{note.pk}"


def test_a_temporary_failure_is_retried_and_then_succeeds(email_case, agent, email_sender):
    email_sender.fail = DeliveryError("421 try later")
    with clock.frozen(T0) as c:
        note = cases.add_note(case=email_case, actor=agent, body_text="Respuesta")
        queue.run_pending()
        assert Note.objects.get(pk=note.pk).delivery_status == "pending"
        email_sender.fail = None
        c.advance(seconds=6)
        queue.run_pending()
    assert Note.objects.get(pk=note.pk).delivery_status == "sent"


def test_a_permanent_failure_is_shown_on_the_note(email_case, agent, email_sender):
    email_sender.fail = DeliveryError("550 buzón inexistente", permanent=True)
    with clock.frozen(T0):
        note = cases.add_note(case=email_case, actor=agent, body_text="Respuesta")
        queue.run_pending()
    note.refresh_from_db()
    assert note.delivery_status == "failed" and "550 buzón inexistente" in note.delivery_error


def test_without_a_sender_the_note_says_why_it_was_not_sent(email_case, agent):
    with clock.frozen(T0):
        note = cases.add_note(case=email_case, actor=agent, body_text="Respuesta")
        queue.run_pending()
    note.refresh_from_db()
    assert note.delivery_status == "failed" and "No hay un medio de envío" in note.delivery_error


def test_delivery_states_never_go_backwards(email_case, agent):
    note = cases.add_note(case=email_case, actor=agent, body_text="Respuesta")
    cases.record_delivery(note=note, status="read")
    cases.record_delivery(note=Note.objects.get(pk=note.pk), status="delivered")
    assert Note.objects.get(pk=note.pk).delivery_status == "read"


def _notify_and_deliver(case, *addresses: str) -> None:
    """A case event for these email recipients, fanned out and delivered by the worker."""
    with clock.frozen(T0):
        queue.enqueue(
            "notify",
            {
                "case_id": case.pk,
                "event": "sla.breached",
                "subject": "s",
                "body": "b",
                "recipients": [{"kind": "email", "address": a} for a in addresses],
            },
        )
        queue.run_pending()
        queue.run_pending()


def test_a_case_event_notifies_each_recipient_once(email_case, email_sender):
    _notify_and_deliver(email_case, "a@x.co", "b@x.co")
    assert sorted(n.address for n in email_sender.notifications) == ["a@x.co", "b@x.co"]
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert (
        Job.objects.filter(status="done").count() == 3
    )  # the fan-out and one delivery per recipient


def test_a_notification_refused_for_good_is_marked_failed_with_the_reason(email_case, email_sender):
    from atiende.core.models import AuditEntry

    email_sender.fail = DeliveryError("buzón inexistente", permanent=True)
    _notify_and_deliver(email_case, "nadie@x.co")
    n = Notification.objects.get()
    assert n.status == "failed" and "buzón inexistente" in n.error
    entry = AuditEntry.objects.get(action="notification.failed")
    assert entry.case_id == email_case.pk and entry.object_id == str(n.pk)
