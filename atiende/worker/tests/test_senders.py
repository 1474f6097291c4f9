"""The sender registry decides which answers leave through their channel; no domain code
names a kind."""

from atiende.cases import services as cases
from atiende.worker import queue, senders


def test_an_answer_on_a_kind_without_a_sender_stays_where_the_customer_reads_it(
    make_channel, agent, acme
):
    channel = make_channel("linea", "phone")
    case = cases.open_case(actor=agent, channel=channel, subject="Llamada", organization=acme)
    note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
    assert note.delivery_status is None


def test_a_kind_with_a_registered_sender_delivers_its_answers(make_channel, agent, acme):
    channel = make_channel("linea", "phone")
    case = cases.open_case(actor=agent, channel=channel, subject="Llamada", organization=acme)
    with senders.recording("phone") as phone:
        note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
        queue.run_pending()
    note.refresh_from_db()
    assert [n.pk for n in phone.notes] == [note.pk]
    assert (note.delivery_status, note.external_id) == ("sent", f"recorded-note-{note.pk}")
    assert senders.for_kind("phone") is None  # the block put back what was registered


def test_recording_puts_back_the_real_sender():
    real = senders.for_kind("email")
    with senders.recording("email") as fake:
        assert senders.for_kind("email") is fake
    assert senders.for_kind("email") is real is not None


def test_a_sender_registered_by_path_is_made_once_when_first_asked_for():
    from atiende.channels.email.outbound import SmtpSender
    from atiende.channels.whatsapp.outbound import WhatsAppSender

    assert isinstance(senders.for_kind("email"), SmtpSender)
    assert isinstance(senders.for_kind("whatsapp"), WhatsAppSender)
    assert senders.for_kind("whatsapp") is senders.for_kind("whatsapp")
