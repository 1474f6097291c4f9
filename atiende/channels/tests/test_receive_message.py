import pytest

from atiende.cases import services as cases
from atiende.cases.models import Case, Note
from atiende.channels.messages import InboundAttachment, InboundMessage
from atiende.channels.services import receive_message
from atiende.core.tests.threads import at_once, raised


def email(external_id="<m1@acme.com.co>", sender="pedro@acme.com.co", **kw) -> InboundMessage:
    kw.setdefault("subject", "No puedo firmar")
    kw.setdefault("body_text", "El token no responde.")
    return InboundMessage(channel="correo", external_id=external_id, sender_email=sender, **kw)


def test_a_first_message_opens_a_case_for_the_recognised_contact(email_channel, acme):
    got = receive_message(
        email(attachments=[InboundAttachment("captura.png", b"\x89PNG\r\n\x1a\nxx")])
    )
    assert got.new_case and not got.duplicate
    case = got.case
    assert case.subject == "No puedo firmar" and case.organization == acme
    assert case.requester.emails.get().address == "pedro@acme.com.co"
    assert got.note.direction == "inbound" and got.note.visibility == "public"
    assert case.attachments.get().content_type == "image/png"
    assert Note.objects.filter(case=case, automatic=True).count() == 1  # the acknowledgement


def test_the_same_message_twice_is_one_note(email_channel, acme):
    first = receive_message(email())
    again = receive_message(email())
    assert again.duplicate and again.note.pk == first.note.pk
    assert Case.objects.count() == 1
    assert Note.objects.filter(external_id="<m1@acme.com.co>").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_message_delivered_concurrently_is_one_note_and_one_case(email_channel, acme):
    results = at_once([lambda: receive_message(email())] * 4)
    assert raised(results) == []
    assert Case.objects.count() == 1
    assert Note.objects.filter(external_id="<m1@acme.com.co>").count() == 1
    assert sum(not r.duplicate for r in results) == 1


def test_a_reply_with_the_case_number_in_the_subject_joins_the_case(email_channel, acme):
    case = receive_message(email()).case
    got = receive_message(email("<m2@acme.com.co>", subject=f"RE: [{case.number}] No puedo firmar"))
    assert got.case == case and not got.new_case


@pytest.mark.parametrize("by", ["number", "open case"])
def test_a_message_joining_a_case_reads_it_once_locked_and_adds_its_note_without_a_savepoint(
    email_channel, acme, by
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from atiende.channels.messages import IntakeContext

    case = receive_message(email()).case
    joining = (
        email("<m2@acme.com.co>", subject=f"RE: [{case.number}] No puedo firmar")
        if by == "number"
        else email("<m2@acme.com.co>", subject="Otra cosa", join_open_case=True)
    )
    with CaptureQueriesContext(connection) as queries:
        got = receive_message(joining, context=IntakeContext(looked_up=True))
    assert got.case == case and not got.new_case and got.note.case_id == case.pk
    sql = [q["sql"] for q in queries.captured_queries]
    read = [s for s in sql if s.startswith("SELECT") and 'FROM "cases_case"' in s]
    assert len(read) == 1  # `_thread` locks it; `add_note` does not read it again
    assert read[0].endswith("FOR UPDATE") == connection.features.has_select_for_update
    assert not any(s.startswith("SELECT") and 'FROM "cases_note"' in s for s in sql)
    assert sum(s.startswith("SAVEPOINT") for s in sql) == 1  # receive_message's own
    assert Note.objects.filter(external_id="<m2@acme.com.co>").count() == 1


def test_a_reply_to_one_of_our_messages_joins_its_case(email_channel, acme, agent):
    case = receive_message(email()).case
    answer = cases.add_note(case=case, actor=agent, body_text="¿Qué versión usa?")
    Note.objects.filter(pk=answer.pk).update(external_id="<out-1@atiende>")
    got = receive_message(
        email("<m3@acme.com.co>", subject="Sin número", in_reply_to=["<out-1@atiende>"])
    )
    assert got.case == case


def test_a_stranger_cannot_add_to_another_organizations_case(email_channel, acme, globex):
    case = receive_message(email()).case
    got = receive_message(
        email("<x@globex.co>", sender="intruso@globex.co", subject=f"[{case.number}] hola")
    )
    assert got.case == case and got.unverified
    assert got.note.visibility == "internal" and got.note.unverified
    case.refresh_from_db()
    assert case.status == "new"


def test_a_message_about_a_closed_case_opens_a_new_one(email_channel, acme, agent):
    case = receive_message(email()).case
    cases.change_status(case=case, actor=agent, status="cancelled")
    got = receive_message(email("<m4@acme.com.co>", subject=f"RE: [{case.number}]"))
    assert got.new_case and got.case != case


def test_an_agent_accepts_an_unverified_note(email_channel, acme, globex, agent):
    case = receive_message(email()).case
    note = receive_message(
        email("<y@globex.co>", sender="otro@globex.co", subject=f"[{case.number}]")
    ).note
    accepted = cases.confirm_note(note=note, actor=agent)
    assert accepted.visibility == "public" and not accepted.unverified
