"""Replies that name only our mail, senders nobody vouches for, and what customers may
download: intake and the outbox against a real aiosmtpd (issue #11, defects 2 and 4)."""

from __future__ import annotations

import pytest

from atiende.accounts import services as accounts
from atiende.cases import services as cases
from atiende.cases.models import Attachment, Case, Note
from atiende.channels import services as channels
from atiende.channels.email import intake
from atiende.channels.email.models import SentEmail
from atiende.channels.email.tests.conftest import fixture
from atiende.core.models import AuditEntry
from atiende.sla.models import SlaTimer
from atiende.worker import queue

pytestmark = pytest.mark.usefixtures("frozen", "sla_targets", "smtp_sender")


def mail(
    sender: str,
    subject: str,
    message_id: str,
    body: str = "Más información.",
    *,
    headers: str = "",
    in_reply_to: str = "",
) -> bytes:
    thread = f"In-Reply-To: {in_reply_to}\nReferences: {in_reply_to}\n" if in_reply_to else ""
    return (
        f"{headers}From: {sender}\nTo: mesadeayuda@certicamara.com\nSubject: {subject}\n"
        f"Date: Tue, 3 Mar 2026 10:05:00 -0500\nMessage-ID: {message_id}\n{thread}"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    ).encode()


@pytest.fixture
def case(correo, acme, smtp_server):
    got = intake.ingest(fixture("plain.eml"), channel="correo")
    return Case.objects.get(number=got.case_number)


# -- defect 2: a reply that names only a message we sent ------------------------------


def test_a_reply_naming_only_our_acknowledgement_becomes_a_note_on_its_case(case, smtp_server):
    queue.run_pending()
    ack_id = smtp_server.parsed()["Message-ID"]
    got = intake.ingest(
        mail(
            "Pedro <pedro@acme.com.co>", "Otra pregunta", "<r-ack@acme.com.co>", in_reply_to=ack_id
        ),
        channel="correo",
    )
    assert got.status == "stored" and got.case_number == case.number
    assert Case.objects.count() == 1
    note = Note.objects.get(pk=got.note_id)
    assert note.visibility == "public" and not note.unverified


def test_a_reply_to_an_escalation_notice_lands_on_its_case(case, smtp_server):
    (notice,) = channels.queue_notifications(
        case_id=case.pk,
        event="escalation.requested",
        subject="Solicitud de escalamiento",
        body="Verifique el caso.",
        recipients=[{"kind": "email", "address": "orlando.mendez@certicamara.com"}],
    )
    queue.run_pending()
    sent = next(m for m in smtp_server.messages if m.rcpt_tos == ["orlando.mendez@certicamara.com"])
    notice_id = __import__("email").message_from_bytes(sent.data)["Message-ID"]
    notice.refresh_from_db()
    assert notice.external_id == notice_id
    got = intake.ingest(
        mail(
            "orlando.mendez@certicamara.com", "visto", "<o1@certicamara.com>", in_reply_to=notice_id
        ),
        channel="correo",
    )
    assert got.case_number == case.number and Case.objects.count() == 1
    # Not known on the case: kept for an agent, not shown to the customer.
    assert Note.objects.get(pk=got.note_id).unverified


def test_every_message_we_send_is_recorded_with_its_case_before_it_leaves(case, agent, smtp_server):
    answer = cases.add_note(case=case, actor=agent, body_text="¿Qué versión usa?")
    queue.run_pending()
    ids = [
        __import__("email").message_from_bytes(m.data)["Message-ID"] for m in smtp_server.messages
    ]
    rows = {r.message_id: r for r in SentEmail.objects.all()}
    assert set(ids) == set(rows) and len(ids) == 2  # the acknowledgement and the answer
    assert all(r.case_id == case.pk for r in rows.values())
    assert rows[Note.objects.get(pk=answer.pk).external_id].note_id == answer.pk


def test_a_retried_send_repeats_the_same_message_id(case, agent, smtp_server, frozen):
    queue.run_pending()  # the acknowledgement
    smtp_server.reject_rcpt["pedro@acme.com.co"] = "451 4.3.0 inténtelo más tarde"
    note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
    queue.run_pending()
    note.refresh_from_db()
    assert note.delivery_status == "pending"
    first = SentEmail.objects.get(note=note).message_id
    del smtp_server.reject_rcpt["pedro@acme.com.co"]
    frozen.advance(minutes=5)
    queue.run_pending()
    note.refresh_from_db()
    assert note.delivery_status == "sent" and note.external_id == first
    assert smtp_server.parsed()["Message-ID"] == first


def test_message_ids_carry_an_unguessable_part(case, agent, smtp_server):
    a = cases.add_note(case=case, actor=agent, body_text="uno")
    b = cases.add_note(case=case, actor=agent, body_text="dos")
    queue.run_pending()
    ids = [Note.objects.get(pk=n.pk).external_id for n in (a, b)]
    for note, mid in zip((a, b), ids, strict=True):
        assert mid != f"<{case.number}.n{note.pk}.atiende@certicamara.com>"
        random_part = mid.split(".")[2]
        assert len(random_part) == 20 and int(random_part, 16) >= 0
    assert ids[0].split(".")[2] != ids[1].split(".")[2]


def test_a_mail_that_takes_the_old_predictable_id_first_does_not_block_our_answer(
    case, agent, smtp_server
):
    queue.run_pending()
    note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
    squatter = f"<{case.number}.n{note.pk}.atiende@certicamara.com>"
    intake.ingest(
        mail("Pedro <pedro@acme.com.co>", f"RE: [{case.number}]", squatter), channel="correo"
    )
    queue.run_pending()
    note.refresh_from_db()
    assert note.delivery_status == "sent" and note.external_id != squatter
    assert sum(1 for m in smtp_server.messages if b"Respuesta" in m.data) == 1


def test_a_bounce_of_a_notification_marks_it_failed(case, smtp_server):
    (notice,) = channels.queue_notifications(
        case_id=case.pk,
        event="sla.breached",
        subject="ANS incumplido",
        body="El caso incumplió su ANS.",
        recipients=[{"kind": "email", "address": "nadie@certicamara.com"}],
    )
    queue.run_pending()
    notice.refresh_from_db()
    report = fixture("bounce.eml").replace(
        b"<CS0000001.n3.atiende@certicamara.com>", notice.external_id.encode()
    )
    got = intake.ingest(report, channel="correo")
    notice.refresh_from_db()
    assert got.status == "bounce" and notice.status == "failed"
    assert Case.objects.count() == 1


# -- defect 4: senders nobody vouches for ----------------------------------------------


@pytest.fixture
def waiting(case, agent):
    """CS0000001 opened by pedro@acme.com.co, waiting for information from the customer."""
    cases.change_status(case=case, actor=agent, status="open")
    return cases.change_status(case=case, actor=agent, status="awaiting_info")


def _timers(case):
    return list(
        SlaTimer.objects.filter(case=case)
        .order_by("kind")
        .values_list("kind", "due_at", "pauses", "paused_seconds", "met_at", "next_check_at")
    )


def test_a_new_address_at_the_customers_domain_adds_an_unverified_note_that_moves_nothing(
    waiting,
):
    timers = _timers(waiting)
    got = intake.ingest(
        mail("Nuevo <nuevo@acme.com.co>", f"RE: [{waiting.number}] listo", "<f1@acme.com.co>"),
        channel="correo",
    )
    note = Note.objects.get(pk=got.note_id)
    assert got.case_number == waiting.number
    assert note.unverified and note.visibility == "internal" and note.direction == "inbound"
    waiting.refresh_from_db()
    assert waiting.status == "awaiting_info" and _timers(waiting) == timers
    assert Attachment.objects.filter(note=note).exists()  # its .eml, for agents


def test_the_requester_still_answers_publicly_and_resumes_the_case(waiting):
    got = intake.ingest(
        mail("Pedro <pedro@acme.com.co>", f"RE: [{waiting.number}]", "<p2@acme.com.co>"),
        channel="correo",
    )
    note = Note.objects.get(pk=got.note_id)
    assert note.visibility == "public" and not note.unverified
    waiting.refresh_from_db()
    assert waiting.status == "open"


def test_a_portal_user_of_the_organization_is_known_on_its_cases(waiting, customer):
    got = intake.ingest(
        mail("Carla <carla@acme.com.co>", f"RE: [{waiting.number}]", "<c1@acme.com.co>"),
        channel="correo",
    )
    assert not Note.objects.get(pk=got.note_id).unverified


def test_an_agent_confirms_the_note_which_resumes_the_case_and_its_author_is_known_after(
    waiting, agent
):
    got = intake.ingest(
        mail("Nuevo <nuevo@acme.com.co>", f"RE: [{waiting.number}]", "<f2@acme.com.co>"),
        channel="correo",
    )
    note = cases.confirm_note(note=Note.objects.get(pk=got.note_id), actor=agent)
    assert note.visibility == "public" and not note.unverified
    assert not Attachment.objects.get(note=note, filename="mensaje-original.eml").public
    waiting.refresh_from_db()
    assert waiting.status == "open"
    entry = AuditEntry.objects.get(action="note.confirmed")
    assert entry.actor_id == agent.pk and entry.changes["unverified"] == [True, False]
    again = intake.ingest(
        mail("Nuevo <nuevo@acme.com.co>", f"RE: [{waiting.number}]", "<f3@acme.com.co>"),
        channel="correo",
    )
    assert not Note.objects.get(pk=again.note_id).unverified


def test_only_an_agent_confirms_a_note(waiting, customer):
    got = intake.ingest(
        mail("Nuevo <nuevo@acme.com.co>", f"RE: [{waiting.number}]", "<f4@acme.com.co>"),
        channel="correo",
    )
    from atiende.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        cases.confirm_note(note=Note.objects.get(pk=got.note_id), actor=customer)


def _trust(correo, *ids: str) -> None:
    correo.settings = {**correo.settings, "trusted_authserv_ids": list(ids)}
    correo.save()


def test_dmarc_pass_from_the_trusted_mta_is_believed(waiting, correo):
    _trust(correo, "mx.certicamara.com")
    got = intake.ingest(
        mail(
            "Nuevo <nuevo@acme.com.co>",
            f"RE: [{waiting.number}]",
            "<d1@acme.com.co>",
            headers="Authentication-Results: mx.certicamara.com;\n"
            " spf=pass smtp.mailfrom=acme.com.co; dkim=pass header.d=acme.com.co;\n"
            " dmarc=pass (p=reject dis=none) header.from=acme.com.co\n",
        ),
        channel="correo",
    )
    note = Note.objects.get(pk=got.note_id)
    assert note.visibility == "public" and not note.unverified
    waiting.refresh_from_db()
    assert waiting.status == "open"


@pytest.mark.parametrize(
    "headers",
    [
        # the sender's own header, with the sender's own id: ignored
        "Authentication-Results: mx.acme.com.co; dmarc=pass header.from=acme.com.co\n",
        # our MTA says DMARC failed; a forged "pass" below it (another id) changes nothing
        "Authentication-Results: mx.certicamara.com; dmarc=fail header.from=acme.com.co\n"
        "Authentication-Results: evil.example; dmarc=pass header.from=acme.com.co\n",
        # a pass for another domain than the From: address's
        "Authentication-Results: mx.certicamara.com; dmarc=pass header.from=evil.example\n",
        # "pass" only inside a comment
        "Authentication-Results: mx.certicamara.com; dmarc=none (dmarc=pass) header.from=acme.com.co\n",
        # no header at all
        "",
    ],
    ids=["untrusted-authserv-id", "trusted-fail", "other-domain", "comment", "none"],
)
def test_a_forged_or_failed_authentication_result_is_not_believed(waiting, correo, headers):
    _trust(correo, "mx.certicamara.com")
    got = intake.ingest(
        mail(
            "Nuevo <nuevo@acme.com.co>",
            f"RE: [{waiting.number}]",
            "<d2@acme.com.co>",
            headers=headers,
        ),
        channel="correo",
    )
    assert Note.objects.get(pk=got.note_id).unverified
    waiting.refresh_from_db()
    assert waiting.status == "awaiting_info"


def test_without_a_trusted_mta_configured_no_authentication_result_is_believed(waiting):
    got = intake.ingest(
        mail(
            "Nuevo <nuevo@acme.com.co>",
            f"RE: [{waiting.number}]",
            "<d3@acme.com.co>",
            headers="Authentication-Results: mx.certicamara.com; dmarc=pass header.from=acme.com.co\n",
        ),
        channel="correo",
    )
    assert Note.objects.get(pk=got.note_id).unverified


def _bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_token(user=user)}"}


def test_staff_confirm_a_note_through_the_api_and_customers_cannot(
    waiting, client, agent, customer, other_customer
):
    got = intake.ingest(
        mail("Nuevo <nuevo@acme.com.co>", f"RE: [{waiting.number}]", "<f5@acme.com.co>"),
        channel="correo",
    )
    url = f"/api/v1/cases/{waiting.number}/notes/{got.note_id}/confirm"
    assert client.post(url, headers=_bearer(customer)).status_code == 404
    foreign = client.post(url, headers=_bearer(other_customer))
    assert foreign.status_code == 404 and b"nuevo" not in foreign.content
    assert Note.objects.get(pk=got.note_id).unverified
    missing = client.post(
        f"/api/v1/cases/{waiting.number}/notes/999999/confirm", headers=_bearer(agent)
    )
    assert missing.status_code == 404
    hidden = client.get(f"/api/v1/cases/{waiting.number}/notes", headers=_bearer(customer)).json()
    assert got.note_id not in [n["id"] for n in hidden["items"]]
    answer = client.post(url, headers=_bearer(agent))
    assert answer.status_code == 200, answer.content
    assert answer.json()["visibility"] == "public"
    public = client.get(f"/api/v1/cases/{waiting.number}/notes", headers=_bearer(customer)).json()
    assert got.note_id in [n["id"] for n in public["items"]]
    files = client.get(f"/api/v1/cases/{waiting.number}/attachments", headers=_bearer(customer))
    assert "mensaje-original.eml" not in {a["filename"] for a in files.json()["items"]}


# -- item 8: automatic answers overall, the original .eml -----------------------------


def test_acknowledgements_are_limited_per_hour_for_the_whole_channel(correo, acme, frozen):
    correo.settings = {**correo.settings, "auto_reply_max_per_hour": 2}
    correo.save()
    for i in range(4):
        got = intake.ingest(
            mail(f"x{i}@forjado{i}.example", f"Hola {i}", f"<spam-{i}@forjado.example>"),
            channel="correo",
        )
        assert got.status == "stored"
    assert Case.objects.count() == 4
    assert Note.objects.filter(automatic=True).count() == 2
    frozen.advance(hours=1, seconds=1)
    intake.ingest(mail("x9@forjado9.example", "Otra", "<spam-9@forjado.example>"), channel="correo")
    assert Note.objects.filter(automatic=True).count() == 3


def test_the_original_eml_is_for_agents_only(correo, acme, client, agent, customer):
    got = intake.ingest(fixture("attachments_encoded_names.eml"), channel="correo")
    eml = Attachment.objects.get(note_id=got.note_id, filename="mensaje-original.eml")
    base = f"/api/v1/cases/{got.case_number}/attachments"
    listed = client.get(base, headers=_bearer(customer)).json()
    names = {a["filename"] for a in listed["items"]}
    assert "mensaje-original.eml" not in names and "factura nº 1.pdf" in names
    assert client.get(f"{base}/{eml.pk}/download", headers=_bearer(customer)).status_code == 404
    staff = client.get(f"{base}/{eml.pk}/download", headers=_bearer(agent))
    assert staff.status_code == 200
    assert b"instalador.exe" in b"".join(staff.streaming_content)


def test_a_group_beyond_the_channels_ceiling_logs_one_line_naming_its_senders(
    correo, acme, frozen, caplog
):
    correo.settings = {**correo.settings, "auto_reply_max_per_hour": 1}
    correo.save()
    items = [
        (mail(f"y{i}@forjado{i}.example", f"Hola {i}", f"<flood-{i}@forjado.example>"), f"t:{i}")
        for i in range(4)
    ]
    outcomes = intake.ingest_many(correo, items, own=intake.own_addresses())
    assert [o.status for o in outcomes] == ["stored"] * 4
    assert Note.objects.filter(automatic=True).count() == 1
    [line] = [r.getMessage() for r in caplog.records if "automatic answers" in r.getMessage()]
    assert all(f"y{i}@forjado{i}.example" in line for i in (1, 2, 3))
