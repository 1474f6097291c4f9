"""One test per message of the corpus (tests/fixtures/*.eml), all through `intake.ingest`."""

from __future__ import annotations

import base64

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Attachment, Case, Note
from atiende.channels.email import inbound, intake
from atiende.channels.email.models import QuarantinedEmail, ReceivedEmail, SentEmail
from atiende.channels.email.tests.conftest import fixture
from atiende.core import clock
from atiende.worker.models import Job

pytestmark = pytest.mark.usefixtures("frozen", "sla_targets")

PNG = (  # the 1x1 image inside inline_image.eml
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
OUR_REPLY_ID = "<CS0000001.n3.atiende@certicamara.com>"


def ingest(name: str, **kw):
    return intake.ingest(fixture(name), channel="correo", **kw)


def acks(case: Case) -> int:
    return Note.objects.filter(case=case, automatic=True).count()


def first_case(correo, acme, agent):
    """CS0000001 from plain.eml, answered by an agent whose message went out as OUR_REPLY_ID."""
    got = ingest("plain.eml")
    answer = cases.add_note(
        case=Case.objects.get(number=got.case_number),
        actor=agent,
        body_text="¿Qué versión del controlador tiene instalada?",
    )
    Note.objects.filter(pk=answer.pk).update(external_id=OUR_REPLY_ID)
    SentEmail.objects.create(
        message_id=OUR_REPLY_ID, case=answer.case, note=answer, created_at=clock.now()
    )
    return got, answer


def test_plain_opens_a_case_for_the_contact_with_an_acknowledgement_queued(correo, acme):
    got = ingest("plain.eml")
    assert got.status == "stored" and got.case_number == "CS0000001"
    case = Case.objects.get(number="CS0000001")
    assert case.subject == "No puedo firmar documentos" and case.organization == acme
    assert case.requester.name == "Pedro Pérez"
    note = Note.objects.get(external_id="<plain-1@acme.com.co>")
    assert (
        note.direction == "inbound" and note.visibility == "public" and "nómina" in note.body_text
    )
    ack = Note.objects.get(case=case, automatic=True)
    assert "CS0000001" in ack.body_text and ack.delivery_status == "pending"
    assert Job.objects.filter(kind="deliver_note", payload__note_id=ack.pk).exists()
    eml = Attachment.objects.get(case=case, filename="mensaje-original.eml")
    assert eml.size == len(fixture("plain.eml"))


def test_plain_other_folder_is_the_same_message_stored_once(correo, acme):
    first = ingest("plain.eml")
    again = ingest("plain_other_folder.eml")
    assert again.status == "duplicate" and again.note_id == first.note_id
    assert Note.objects.filter(direction="inbound").count() == 1 and Case.objects.count() == 1


def test_reused_message_id_with_other_content_is_a_second_note(correo, acme):
    ingest("plain.eml")
    other = ingest("reused_message_id.eml")
    assert other.status == "stored"
    assert Note.objects.get(pk=other.note_id).external_id.startswith("<plain-1@acme.com.co>#")
    assert ingest("reused_message_id.eml").status == "duplicate"


def test_no_message_id_is_deduplicated_by_content(correo, acme):
    first = ingest("no_message_id.eml")
    assert first.status == "stored"
    assert ingest("no_message_id.eml").status == "duplicate"
    assert Note.objects.get(pk=first.note_id).external_id.endswith("@sin-message-id.atiende>")


def test_html_only_keeps_the_text_and_sanitises_the_html(correo, acme):
    note = Note.objects.get(pk=ingest("html_only.eml").note_id)
    assert "El portal muestra error 500 al adjuntar." in note.body_text
    assert "<b>error 500</b>" in note.body_html
    for bad in ("<script", "onclick", "javascript:", "tracker.example.net", "<style"):
        assert bad not in note.body_html


def test_latin1_mislabeled_is_read_as_windows_1252(correo, acme):
    got = ingest("latin1_mislabeled.eml")
    note = Note.objects.get(pk=got.note_id)
    assert note.body_text == "El cobro fue de € 20 – dijeron “cita” para el miércoles."
    assert Case.objects.get(number=got.case_number).subject == "Facturación"


def test_raw_8bit_latin1_headers_and_body_are_decoded(correo, acme):
    got = ingest("raw_8bit_latin1.eml")
    case = Case.objects.get(number=got.case_number)
    assert case.subject == "Facturación de marzo" and case.requester.name == "Andrés"
    assert (
        Note.objects.get(pk=got.note_id).body_text
        == "No llegó la factura de marzo – ¿la pueden reenviar?"
    )


def test_utf8_mislabeled_as_latin1_is_read_as_utf8(correo, acme):
    got = ingest("utf8_mislabeled.eml")
    assert Case.objects.get(number=got.case_number).subject == "Contraseña"
    assert Note.objects.get(pk=got.note_id).body_text == "Olvidé la contraseña del token."


def test_encoded_words_in_subject_and_sender_name(correo, acme):
    got = ingest("encoded_words.eml")
    case = Case.objects.get(number=got.case_number)
    assert case.subject == "Cotización – urgente" and case.requester.name == "José Múnez"
    assert "cotización para 100" in Note.objects.get(pk=got.note_id).body_text


def test_unknown_charset_never_crashes(correo, acme):
    got = ingest("unknown_charset.eml")
    assert got.status == "stored"
    assert Note.objects.get(pk=got.note_id).body_text.startswith("Configuración del cliente")


def test_attachments_encoded_names_are_stored_and_executables_refused(correo, acme):
    got = ingest("attachments_encoded_names.eml")
    names = set(Attachment.objects.filter(note_id=got.note_id).values_list("filename", flat=True))
    assert names == {
        "factura nº 1.pdf",
        "informe de conciliación.csv",
        "ñandu.txt",
        "mensaje-original.eml",
    }
    assert "instalador.exe (ejecutable)" in Note.objects.get(pk=got.note_id).body_text


def test_inline_image_is_a_case_attachment_and_the_html_shows_it(correo, acme, client, agent):
    got = ingest("inline_image.eml")
    png = Attachment.objects.get(note_id=got.note_id, content_type="image/png")
    assert png.size == 70
    url = f"/api/v1/cases/{got.case_number}/attachments/{png.pk}/download"
    body_html = Note.objects.get(pk=got.note_id).body_html
    assert f'<img src="{url}">' in body_html and "cid:" not in body_html
    assert inbound.sanitize_html(body_html) == body_html  # what nh3 keeps on a second pass
    client.force_login(agent)
    served = client.get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == base64.b64decode(PNG)


def test_an_inline_images_link_is_the_apis_download_route():
    from django.urls import reverse

    from atiende.channels.email import images

    for number, pk in (("CS0000001", 7), ("CS1234567", 1234567890)):
        route = reverse(
            "api-v1:download_attachment", kwargs={"number": number, "attachment_id": pk}
        )
        assert images.download_url(number, pk) == route


def test_inline_image_with_an_unknown_cid_becomes_a_placeholder(correo, acme):
    got = ingest("inline_image_unknown_cid.eml")
    png = Attachment.objects.get(note_id=got.note_id, content_type="image/png")
    assert png.filename == "captura 1.png"
    body_html = Note.objects.get(pk=got.note_id).body_html
    url = f"/api/v1/cases/{got.case_number}/attachments/{png.pk}/download"
    assert f'<img src="{url}" alt="captura 1">' in body_html
    assert "[imagen no disponible: captura 2]" in body_html
    assert "cid:" not in body_html and "/admin/logout/" not in body_html
    assert body_html.count("<img") == 2  # the bare relative URL lost its src, not the tag


def test_html_from_a_sender_keeps_no_relative_or_remote_image_source():
    html = (
        '<img src="/api/v1/cases/CS0000001/attachments/1/download">'
        '<img src="/api/v1/cases/CS0000001/attachments/1/download/../../../../me">'
        '<img src="//tracker.example.net/p.gif"><img src="https://tracker.example.net/p.gif">'
    )
    cleaned = inbound.sanitize_html(html)
    assert cleaned.count("src=") == 1 and "tracker" not in cleaned and "/me" not in cleaned


def test_reply_outlook_joins_the_case_by_subject_tag_and_trims_the_quote(correo, acme):
    ingest("plain.eml")
    got = ingest("reply_outlook.eml")
    assert got.case_number == "CS0000001" and Case.objects.count() == 1
    note = Note.objects.get(pk=got.note_id)
    assert note.body_text == "Ya reinstalé el controlador y sigue igual."
    assert acks(Case.objects.get()) == 1  # follow-ups are never acknowledged


def test_reply_gmail_joins_the_case_by_in_reply_to_our_message(correo, acme, agent):
    first_case(correo, acme, agent)
    got = ingest("reply_gmail.eml")
    assert got.case_number == "CS0000001" and Case.objects.count() == 1
    assert Note.objects.get(pk=got.note_id).body_text == "Es la versión 3.2 del controlador."


def test_auto_reply_is_stored_but_never_answered(correo, acme):
    got = ingest("auto_reply.eml")
    assert got.status == "stored" and "Auto-Submitted" in got.detail
    assert acks(Case.objects.get(number=got.case_number)) == 0


def test_mailing_list_is_never_answered(correo, acme):
    got = ingest("mailing_list.eml")
    assert acks(Case.objects.get(number=got.case_number)) == 0


def test_empty_return_path_is_never_answered(correo, acme):
    got = ingest("empty_return_path.eml")
    assert acks(Case.objects.get(number=got.case_number)) == 0


def test_envelope_sender_from_the_mta_counts_as_return_path(correo, acme):
    got = ingest("plain.eml", envelope_sender="")
    assert acks(Case.objects.get(number=got.case_number)) == 0


def test_bounce_marks_our_note_failed_and_opens_no_case(correo, acme, agent):
    _, answer = first_case(correo, acme, agent)
    got = ingest("bounce.eml")
    assert got.status == "bounce" and Case.objects.count() == 1
    answer.refresh_from_db()
    assert answer.delivery_status == "failed" and "5.1.1" in answer.delivery_error
    info = Note.objects.get(pk=got.note_id)
    assert info.visibility == "internal" and "pedro@acme.com.co" in info.body_text
    assert ingest("bounce.eml").status == "duplicate"


def test_bounce_about_mail_we_never_sent_opens_no_case(correo, acme):
    assert ingest("bounce.eml").status == "bounce"
    assert Case.objects.count() == 0 and ReceivedEmail.objects.get().outcome == "bounce"


@pytest.mark.parametrize(
    "name, status",
    [
        ("bounce_qmail.eml", "5.1.1"),
        ("bounce_exim.eml", "5.1.1"),
        ("bounce_exchange_undeliverable.eml", "5.1.10"),
    ],
)
def test_text_bounce_marks_our_note_failed_and_opens_no_case(correo, acme, agent, name, status):
    _, answer = first_case(correo, acme, agent)
    got = ingest(name)
    assert got.status == "bounce" and got.case_number == "CS0000001"
    assert Case.objects.count() == 1 and acks(Case.objects.get()) == 1
    answer.refresh_from_db()
    assert answer.delivery_status == "failed" and status in answer.delivery_error
    assert "pedro@acme.com.co" in answer.delivery_error
    info = Note.objects.get(pk=got.note_id)
    assert info.visibility == "internal" and "no se entregó" in info.body_text
    assert ingest(name).status == "duplicate"


def test_text_bounce_about_mail_we_never_sent_is_recorded_and_dropped(correo, acme):
    got = ingest("bounce_qmail.eml")
    assert got.status == "bounce" and got.case_number is None
    assert Case.objects.count() == 0 and Note.objects.count() == 0
    row = ReceivedEmail.objects.get()
    assert row.outcome == "bounce" and "5.1.1" in row.detail


def test_text_delay_warning_adds_a_note_but_does_not_fail_the_delivery(correo, acme, agent):
    _, answer = first_case(correo, acme, agent)
    got = ingest("bounce_delayed_text.eml")
    assert got.status == "bounce" and Case.objects.count() == 1
    answer.refresh_from_db()
    assert answer.delivery_status != "failed"
    assert "está demorado" in Note.objects.get(pk=got.note_id).body_text


def test_a_person_writing_from_postmaster_opens_a_case(correo, acme):
    got = ingest("postmaster_human.eml")
    assert got.status == "stored" and got.case_number == "CS0000001"


def test_a_customer_forwarding_an_undeliverable_notice_opens_a_case(correo, acme):
    got = ingest("forwarded_undeliverable.eml")
    assert got.status == "stored" and got.case_number == "CS0000001"
    assert acks(Case.objects.get()) == 1


def test_forwarded_message_is_kept_as_an_eml_attachment(correo, acme):
    got = ingest("forwarded.eml")
    names = list(Attachment.objects.filter(note_id=got.note_id).values_list("filename", flat=True))
    assert "adjunto-1.eml" in names and "mensaje-original.eml" in names


def test_malformed_is_quarantined_once_and_retry_keeps_it(correo, acme):
    got = ingest("malformed.eml")
    assert got.status == "quarantined" and "remitente" in got.detail
    assert ingest("malformed.eml").status == "quarantined"
    row = QuarantinedEmail.objects.get()
    assert row.attempts == 2 and bytes(row.raw) == fixture("malformed.eml")
    assert intake.retry_quarantined(row).status == "quarantined"
    assert Note.objects.count() == 0


def test_a_quarantined_message_is_stored_by_a_retry_once_the_cause_is_fixed(correo, acme):
    correo.active = False
    correo.save()
    assert ingest("plain.eml").status == "quarantined"
    correo.active = True
    correo.save()
    row = QuarantinedEmail.objects.get()
    assert intake.retry_quarantined(row).status == "stored"
    row.refresh_from_db()
    assert row.resolved_at is not None and row.note_id is not None


def test_mail_from_our_own_address_is_never_answered(correo, acme):
    raw = fixture("plain.eml").replace(
        b"From: Pedro P\xc3\xa9rez <pedro@acme.com.co>", b"From: Mesa <mesadeayuda@certicamara.com>"
    )
    got = intake.ingest(raw, channel="correo")
    assert "remitente propio" in got.detail and acks(Case.objects.get(number=got.case_number)) == 0


def test_a_sender_gets_at_most_the_configured_automatic_answers_per_interval(correo, acme):
    correo.settings |= {"auto_reply_max": 2, "auto_reply_interval_seconds": 3600}
    correo.save()
    for i in range(4):
        raw = fixture("no_message_id.eml").replace(
            b"Certificado vencido", f"Certificado {i}".encode()
        )
        intake.ingest(raw, channel="correo")
    assert Case.objects.count() == 4 and Note.objects.filter(automatic=True).count() == 2


def test_a_stranger_using_a_case_tag_adds_an_unverified_note(correo, acme, globex):
    ingest("plain.eml")
    raw = fixture("reply_outlook.eml").replace(
        b"pedro@acme.com.co>\nTo:", b"intruso@globex.co>\nTo:"
    )
    got = intake.ingest(raw, channel="correo")
    note = Note.objects.get(pk=got.note_id)
    assert got.case_number == "CS0000001" and note.unverified and note.visibility == "internal"
