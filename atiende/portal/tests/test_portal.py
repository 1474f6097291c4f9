"""The customers' portal through Django's test client: what each page shows and does, on
the same services as the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from atiende.accounts import invitations
from atiende.accounts.models import Invitation
from atiende.cases import services as cases
from atiende.cases.models import Attachment, Case, Follower, FollowUp, Rating
from atiende.channels.models import Notification
from atiende.core import clock
from atiende.escalations.models import EscalationRequest
from atiende.portal.tests.conftest import mails
from atiende.sla import services as sla

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Invitations ------------------------------------------------------------------------------


def _link(notification: Notification) -> str:
    return re.search(r"/portal/invitacion/[\w-]+", notification.body).group(0)


def test_an_invited_contact_sets_a_password_once_and_signs_in(agent, acme, clock_at):
    from atiende.customers import services as customers

    contact = customers.create_contact(
        name="Lucía Nueva", organization=acme, emails=["lucia@acme.com.co"]
    )
    user = invitations.invite_contact(contact=contact, actor=agent)
    assert user.is_customer and not user.has_usable_password()
    mail = mails().get(event=invitations.INVITATION_EVENT)
    assert mail.address == "lucia@acme.com.co"
    link = _link(mail)

    page = Client().get(link)
    assert page.status_code == 200
    assert "lucia@acme.com.co" in page.content.decode()
    response = Client().post(
        link, {"password1": "una-clave-larga-9", "password2": "una-clave-larga-9"}
    )
    assert response.status_code == 302
    assert Client().login(username="lucia@acme.com.co", password="una-clave-larga-9")
    # Used once: the same link no longer works.
    again = Client().post(
        link, {"password1": "otra-clave-larga-9", "password2": "otra-clave-larga-9"}
    )
    assert again.status_code == 404


def test_an_invitation_link_expires_and_a_newer_one_replaces_it(agent, acme, clock_at):
    from atiende.customers import services as customers

    contact = customers.create_contact(name="Luis", organization=acme, emails=["luis@acme.com.co"])
    invitations.invite_contact(contact=contact, actor=agent)
    first = _link(mails().get(event=invitations.INVITATION_EVENT))
    invitations.invite_contact(contact=contact, actor=agent)
    assert Client().get(first).status_code == 404  # replaced
    second = _link(mails().filter(event=invitations.INVITATION_EVENT).order_by("id").last())
    assert Client().get(second).status_code == 200
    clock_at.advance(days=8)
    assert Client().get(second).status_code == 404  # expired
    assert Invitation.objects.filter(used_at__isnull=False).count() == 0


def test_weak_passwords_are_refused_on_the_invitation_page(agent, acme, clock_at):
    from atiende.customers import services as customers

    contact = customers.create_contact(name="Luis", organization=acme, emails=["luis@acme.com.co"])
    invitations.invite_contact(contact=contact, actor=agent)
    link = _link(mails().get(event=invitations.INVITATION_EVENT))
    response = Client().post(link, {"password1": "123", "password2": "123"})
    assert response.status_code == 422
    assert Client().get(link).status_code == 200  # not used up


def test_the_api_invites_a_contact_and_only_staff_may(api, acme_contact, customer, agent):
    staff = api.post(f"/contacts/{acme_contact.pk}/invite", {}, as_="agent")
    assert staff.status_code == 202, staff.content
    assert mails().filter(event=invitations.INVITATION_EVENT).count() == 1
    refused = api.post(f"/contacts/{acme_contact.pk}/invite", {}, as_="customer")
    assert refused.status_code == 403
    hidden = api.post(f"/contacts/{acme_contact.pk}/invite", {}, as_="other_customer")
    assert hidden.status_code == 404


def test_self_registration_is_off_unless_the_organization_allows_it(acme, agent, clock_at):
    response = Client().post(
        "/portal/registro", {"name": "Nora Nueva", "email": "nora@acme.com.co"}
    )
    assert response.status_code == 200
    assert not mails().filter(event=invitations.REGISTRATION_EVENT).exists()

    invitations.set_self_registration(organization=acme, enabled=True, actor=agent)
    Client().post("/portal/registro", {"name": "Nora Nueva", "email": "nora@acme.com.co"})
    mail = mails().get(event=invitations.REGISTRATION_EVENT)
    assert mail.address == "nora@acme.com.co"
    link = _link(mail)
    Client().post(link, {"password1": "una-clave-larga-9", "password2": "una-clave-larga-9"})
    assert Client().login(username="nora@acme.com.co", password="una-clave-larga-9")


# --- My cases ---------------------------------------------------------------------------------


def test_my_cases_shows_the_next_step_from_the_sla(customer, incident):
    page = signed_in(customer).get("/portal/")
    body = page.content.decode()
    assert page.status_code == 200
    assert incident.number in body
    # Opened Tuesday 1 December 10:00 (Bogotá), high incident on 24x7: answer within 1 h.
    assert "le responderemos antes del martes 1 de diciembre a las 11:00 a. m." in body


def test_my_cases_says_we_await_the_customer(customer, agent, incident):
    cases.change_status(case=incident, actor=agent, status="awaiting_info")
    body = signed_in(customer).get("/portal/").content.decode()
    assert "Esperamos su respuesta" in body


def test_a_manager_switches_to_the_organizations_cases(customer, colleague, portal, incident):
    other = cases.open_case(actor=colleague, channel=portal, subject="Caso de Pedro")
    mine = signed_in(customer).get("/portal/?ver=organization").content.decode()
    assert other.number not in mine  # not a manager: the switch does nothing
    invitations.set_manager(user=customer, manager=True, actor=None)
    page = signed_in(customer).get("/portal/?ver=organization").content.decode()
    assert other.number in page and incident.number in page


def test_search_by_number_and_words(customer, portal, incident):
    other = cases.open_case(actor=customer, channel=portal, subject="Certificado vencido")
    client = signed_in(customer)
    by_number = client.get(f"/portal/?q={other.number}").content.decode()
    assert other.number in by_number and incident.number not in by_number
    by_words = client.get("/portal/?q=firmar").content.decode()
    assert incident.number in by_words and other.number not in by_words


# --- New case ---------------------------------------------------------------------------------


def test_a_new_case_with_attachments_is_acknowledged(customer, portal, sla_targets, clock_at):
    client = signed_in(customer)
    response = client.post(
        "/portal/cases/new",
        {
            "kind": "incident",
            "subject": "El firmador no abre",
            "description": "Sale una pantalla en blanco.",
            "impact": "some",
            "urgency": "now",
            "files": [
                SimpleUploadedFile("pantalla.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100),
                SimpleUploadedFile("log.txt", b"error 500"),
            ],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/portal/cases/{case.number}"
    assert (case.type, case.priority, case.channel.slug) == ("incident", "high", "portal")
    assert sorted(Attachment.objects.values_list("filename", flat=True)) == [
        "log.txt",
        "pantalla.png",
    ]
    # The usual acknowledgement, and (a portal case) by email to the requester.
    assert case.notes.filter(automatic=True).exists()
    assert mails().filter(address="carla@acme.com.co", case=case).exists()
    page = client.get(response["Location"]).content.decode()
    assert f"Creamos su caso {case.number}" in page


def test_a_critical_incident_shows_the_monitoring_line(customer, reference):
    body = signed_in(customer).get("/portal/cases/new").content.decode()
    assert "573184872656" in body
    assert "24 horas" in body


def test_an_executable_is_refused_and_nothing_is_stored(customer, portal, sla_targets, clock_at):
    response = signed_in(customer).post(
        "/portal/cases/new",
        {
            "kind": "request",
            "subject": "Con un programa",
            "description": "Adjunto",
            "impact": "one",
            "urgency": "soon",
            "files": [SimpleUploadedFile("virus.exe", b"MZ\x90\x00" + b"\x00" * 100)],
        },
    )
    assert response.status_code == 422
    assert not Case.objects.exists()


def test_an_attachment_over_the_limit_is_refused(customer, portal, sla_targets, clock_at, settings):
    settings.ATIENDE_MAX_ATTACHMENT_BYTES = 1000
    response = signed_in(customer).post(
        "/portal/cases/new",
        {
            "kind": "request",
            "subject": "Grande",
            "description": "Adjunto",
            "impact": "one",
            "urgency": "soon",
            "files": [SimpleUploadedFile("grande.txt", b"x" * 2000)],
        },
    )
    assert response.status_code == 413
    assert not Case.objects.exists()


# --- A case -----------------------------------------------------------------------------------


def test_the_case_page_shows_public_notes_and_never_internal_ones(customer, agent, incident):
    cases.add_note(case=incident, body_text="Respuesta pública del agente", actor=agent)
    cases.add_note(
        case=incident, body_text="Nota interna secreta", actor=agent, visibility="internal"
    )
    cases.add_note(case=incident, body_text="Remitente desconocido", unverified=True)
    body = signed_in(customer).get(f"/portal/cases/{incident.number}").content.decode()
    assert "Respuesta pública del agente" in body
    assert "Nota interna secreta" not in body
    assert "Remitente desconocido" not in body


def test_answering_while_awaiting_resumes_the_case(customer, agent, incident):
    cases.change_status(case=incident, actor=agent, status="awaiting_info")
    response = signed_in(customer).post(
        f"/portal/cases/{incident.number}/comment", {"body": "Aquí va la información."}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "open"


def test_escalation_is_refused_with_the_reason_then_allowed(customer, incident, ladder, clock_at):
    client = signed_in(customer)
    page = client.get(f"/portal/cases/{incident.number}").content.decode()
    assert "Podrá solicitarlo desde el martes 1 de diciembre a las 11:00 a. m." in page
    refused = client.post(f"/portal/cases/{incident.number}/escalate", {"reason": "Urgente"})
    assert refused.status_code == 409
    assert not EscalationRequest.objects.exists()
    clock_at.advance(minutes=61)
    sla.sweep()
    allowed = client.post(f"/portal/cases/{incident.number}/escalate", {"reason": "Urgente"})
    assert allowed.status_code == 302
    assert EscalationRequest.objects.get().via == "portal"


def test_reopen_within_the_window_and_a_new_linked_case_after_it(
    customer, agent, incident, clock_at
):
    client = signed_in(customer)
    cases.change_status(case=incident, actor=agent, status="resolved")
    assert (
        client.post(f"/portal/cases/{incident.number}/reopen", {"reason": "Sigue"}).status_code
        == 302
    )
    incident.refresh_from_db()
    assert incident.status == "open"
    cases.change_status(case=incident, actor=agent, status="resolved")
    clock_at.advance(days=8)
    response = client.post(f"/portal/cases/{incident.number}/comment", {"body": "Volvió a fallar"})
    assert response.status_code == 302
    follow_up = FollowUp.objects.get()
    assert follow_up.original == incident
    assert response["Location"] == f"/portal/cases/{follow_up.case.number}"
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_rate_once_per_resolution(customer, agent, incident, clock_at):
    client = signed_in(customer)
    cases.change_status(case=incident, actor=agent, status="resolved")
    url = f"/portal/cases/{incident.number}/rate"
    assert client.post(url, {"score": "5", "comment": "Muy bien"}).status_code == 302
    assert client.post(url, {"score": "1"}).status_code == 409
    page = client.get(f"/portal/cases/{incident.number}").content.decode()
    assert "Califique la atención" not in page
    # Reopened and resolved again: a new resolution may be rated.
    client.post(f"/portal/cases/{incident.number}/reopen", {})
    clock_at.advance(hours=1)
    cases.change_status(case=incident, actor=agent, status="resolved")
    assert client.post(url, {"score": "4"}).status_code == 302
    assert Rating.objects.count() == 2


def test_the_customer_closes_the_case(customer, incident):
    response = signed_in(customer).post(f"/portal/cases/{incident.number}/close")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "closed"


def test_a_follower_gets_the_agents_answers(customer, colleague, agent, incident, globex_user):
    client = signed_in(customer)
    assert (
        client.post(
            f"/portal/cases/{incident.number}/followers", {"email": "pedro@acme.com.co"}
        ).status_code
        == 302
    )
    # Someone of another organization cannot be added.
    refused = client.post(f"/portal/cases/{incident.number}/followers", {"email": "gina@globex.co"})
    assert refused.status_code == 422
    assert Follower.objects.count() == 1
    cases.add_note(case=incident, body_text="Ya revisamos el firmador", actor=agent)
    mail = mails().filter(address="pedro@acme.com.co").order_by("id").last()
    assert "Ya revisamos el firmador" in mail.body
    assert f"/portal/cases/{incident.number}" in mail.body


def test_resolving_a_portal_case_tells_the_requester_by_email(customer, agent, incident):
    cases.change_status(case=incident, actor=agent, status="resolved")
    mail = mails().filter(address="carla@acme.com.co").order_by("id").last()
    assert "resuelto" in mail.body and f"/portal/cases/{incident.number}" in mail.body


def test_a_download_is_served_as_an_attachment(customer, incident):
    row = cases.add_attachment(
        case=incident, filename="x.html", chunks=[b"<script>alert(1)</script>"], actor=customer
    )
    response = signed_in(customer).get(f"/portal/cases/{incident.number}/attachments/{row.pk}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"


# --- Access -----------------------------------------------------------------------------------


def test_anonymous_people_go_to_sign_in_and_staff_to_the_console(agent):
    response = Client().get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert signed_in(agent).get("/portal/")["Location"] == "/console/"


def test_sign_in_does_not_redirect_outside_the_site(customer):
    response = Client().post(
        "/accounts/login/?next=https://evil.example/",
        {"username": "carla@acme.com.co", "password": "clave-segura-1"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


ROUTES = [
    ("get", "/portal/cases/{n}", {}),
    ("post", "/portal/cases/{n}/comment", {"body": "intruso"}),
    ("post", "/portal/cases/{n}/escalate", {"reason": "intruso"}),
    ("post", "/portal/cases/{n}/reopen", {}),
    ("post", "/portal/cases/{n}/close", {}),
    ("post", "/portal/cases/{n}/rate", {"score": "1"}),
    ("post", "/portal/cases/{n}/followers", {"email": "gus@globex.co"}),
    ("post", "/portal/cases/{n}/followers/{c}/remove", {}),
    ("get", "/portal/cases/{n}/attachments/{a}", {}),
]


@pytest.mark.parametrize("method,url,data", ROUTES, ids=[r[1] for r in ROUTES])
def test_another_organizations_case_is_404_like_a_missing_one(
    method, url, data, customer, other_customer, colleague, incident
):
    att = cases.add_attachment(case=incident, filename="a.txt", chunks=[b"secreto"], actor=customer)
    Follower.objects.create(case=incident, contact=colleague.contact, created_at=clock.now())
    intruder = signed_in(other_customer)
    foreign = url.format(n=incident.number, a=att.pk, c=colleague.contact_id)
    missing = url.format(n="CS9999999", a=att.pk, c=colleague.contact_id)
    got = getattr(intruder, method)(foreign, data)
    none = getattr(intruder, method)(missing, data)
    assert got.status_code == none.status_code == 404
    body = got.content.decode()
    assert "No puedo firmar" not in body and "secreto" not in body
    assert incident.notes.filter(body_text="intruso").count() == 0
    # The owner gets past the lookup.
    assert getattr(signed_in(customer), method)(foreign, data).status_code != 404


def test_the_new_case_time_guidance_out_of_hours(customer, portal, sla_targets):
    # Sunday 6 December 2026, 10:00 in Bogotá: requests wait for Monday 7:00.
    with clock.frozen(dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC)):
        body = signed_in(customer).get("/portal/cases/new").content.decode()
    assert "lunes 7 de diciembre a las 7:00 a. m." in body


def test_the_portal_speaks_english_on_request(customer, incident, settings):
    client = signed_in(customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get("/portal/").content.decode()
    assert "My cases" in body
    assert "we will answer before Tuesday 1 December at 11:00 a.m." in body


def test_a_request_that_cannot_fit_is_refused_before_it_is_read(customer, incident, settings):
    settings.ATIENDE_MAX_ATTACHMENT_BYTES = 1000
    big = SimpleUploadedFile("grande.txt", b"x" * 200_000)
    client = signed_in(customer)
    response = client.post(
        f"/portal/cases/{incident.number}/comment", {"body": "x", "files": [big]}
    )
    assert response.status_code == 413
    assert not incident.notes.filter(body_text="x").exists()


def test_the_upload_forms_still_need_the_csrf_token(customer, incident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    response = client.post(f"/portal/cases/{incident.number}/comment", {"body": "sin token"})
    assert response.status_code == 403
    assert not incident.notes.filter(body_text="sin token").exists()
    response = client.post("/portal/cases/new", {"subject": "sin token"})
    assert response.status_code == 403
