"""The customers' portal in a real browser at a phone's width (375 px), driven by labels and
roles: invited by email → sets a password → signs in → opens a case with a screenshot →
sees the agent's answer (never the internal note) → answers → escalation refused with the
reason, then allowed → resolved → reopens → resolved again → rates. And another
organization's customer reaches nothing. Screenshots go to var/screenshots/portal-*.png
(shown in docs/portal.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atiende.accounts import invitations
from atiende.cases import services as cases
from atiende.cases.models import Case, Rating
from atiende.core.tests.browser import csp_violations, no_horizontal_scroll, phone_page, sign_in
from atiende.customers import services as customers
from atiende.portal.tests.conftest import mails
from atiende.sla import services as sla

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.fixture
def page():
    with phone_page(width=375) as p:
        yield p


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}.png"), full_page=True)


def check_page(page) -> None:
    assert no_horizontal_scroll(page), page.url
    assert csp_violations(page) == [], page.url


@pytest.mark.django_db(transaction=True)
def test_a_customer_goes_from_invitation_to_rating_on_a_phone(
    live_server, page, reference, acme, agent, supervisor, clock_at, tmp_path
):
    base = live_server.url
    contact = customers.create_contact(
        name="Lucía Ríos", organization=acme, emails=["lucia@acme.com.co"]
    )
    invitations.invite_contact(contact=contact, actor=agent, base_url=base)
    mail = mails().get(event=invitations.INVITATION_EVENT)
    link = re.search(r"https?://\S+/portal/invitacion/[\w-]+", mail.body).group(0)

    # The invitation: choose a password, then sign in.
    page.goto(link)
    shot(page, "invitation")
    check_page(page)
    page.get_by_label("Contraseña nueva").fill("una-clave-larga-9")
    page.get_by_label("Repita la contraseña").fill("una-clave-larga-9")
    page.get_by_role("button", name="Guardar la contraseña").click()
    page.wait_for_load_state("domcontentloaded")
    assert "/accounts/login/" in page.url
    sign_in(page, base, "lucia@acme.com.co", "una-clave-larga-9", landing=None)
    assert page.url == f"{base}/portal/"
    check_page(page)

    # A new case with a screenshot attached.
    page.get_by_role("link", name="Crear un caso nuevo").click()
    page.get_by_label("Incidente: algo dejó de funcionar o funciona mal").check()
    page.get_by_label("Asunto").fill("El firmador no abre")
    page.get_by_label("Descripción").fill("Al abrirlo sale una pantalla en blanco.")
    page.get_by_label("A varias personas o a un área").check()
    page.get_by_label("No podemos trabajar: es urgente").check()
    screenshot = tmp_path / "pantallazo.png"
    screenshot.write_bytes(PNG)
    page.get_by_label("Adjuntos (opcional)").set_input_files(str(screenshot))
    assert "pantallazo.png" in page.locator(".file-list").inner_text()
    shot(page, "new-case")
    check_page(page)
    page.get_by_role("button", name="Crear el caso").click()
    page.wait_for_load_state("domcontentloaded")
    case = Case.objects.get()
    assert page.url == f"{base}/portal/cases/{case.number}"
    assert f"Creamos su caso {case.number}" in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("link", name="Descargar pantallazo.png").is_visible()
    shot(page, "confirmation")
    check_page(page)

    # A colleague follows the case and gets the agent's answers by email.
    customers.create_contact(name="Pedro Pérez", organization=acme, emails=["pedro@acme.com.co"])
    page.get_by_label("Correo del colega").fill("pedro@acme.com.co")
    page.get_by_role("button", name="Agregar seguidor").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_role("button", name="Quitar a Pedro Pérez").is_visible()

    # The agent answers in public and writes an internal note: only the answer shows.
    cases.add_note(case=case, body_text="Estamos revisando el firmador.", actor=agent)
    cases.add_note(
        case=case, body_text="Nota interna: servidor 3 caído", actor=agent, visibility="internal"
    )
    cases.change_status(case=case, actor=agent, status="awaiting_info")
    page.reload()
    body = page.locator("main").inner_text()
    assert (
        mails()
        .filter(address="pedro@acme.com.co", body__contains="Estamos revisando el firmador.")
        .exists()
    )
    assert "Estamos revisando el firmador." in body
    assert "servidor 3" not in body
    assert "Esperamos su respuesta" in body
    shot(page, "case-awaiting")
    check_page(page)

    # The customer answers: the case resumes.
    page.get_by_label("Su respuesta").fill("Uso Windows 11 y la versión 4.2 del firmador.")
    page.get_by_role("button", name="Enviar la respuesta").click()
    page.wait_for_load_state("domcontentloaded")
    case.refresh_from_db()
    assert case.status == "open"

    # Escalation: not yet (the level is within its times), with the reason and from when.
    page.reload()
    escalation = page.locator("section", has=page.get_by_role("heading", name="Escalamiento"))
    assert "Podrá solicitarlo desde el" in escalation.inner_text()
    assert page.get_by_role("button", name="Solicitar escalamiento").count() == 0
    clock_at.advance(hours=9)  # past the resolution target (the first answer came in time)
    sla.sweep()
    page.reload()
    page.get_by_label("¿Por qué pide escalar el caso?").fill("Llevamos un día sin poder firmar.")
    page.get_by_role("button", name="Solicitar escalamiento").click()
    page.wait_for_load_state("domcontentloaded")
    assert case.escalations.get().via == "portal"
    shot(page, "case-escalated")

    # Resolved; reopened; resolved again; rated.
    cases.change_status(case=case, actor=agent, status="resolved")
    page.reload()
    page.get_by_role("button", name="Reabrir el caso").click()
    page.wait_for_load_state("domcontentloaded")
    case.refresh_from_db()
    assert case.status == "open"
    clock_at.advance(hours=1)
    cases.change_status(case=case, actor=agent, status="resolved")
    page.reload()
    page.get_by_label("5", exact=True).check()
    page.get_by_label("Comentario (opcional)").fill("Muy buena atención.")
    shot(page, "case-rating")
    page.get_by_role("button", name="Enviar la calificación").click()
    page.wait_for_load_state("domcontentloaded")
    assert Rating.objects.get().score == 5
    assert page.get_by_role("heading", name="Califique la atención").count() == 0
    check_page(page)

    # My cases, and the keyboard: the first Tab reaches the skip link, visibly focused.
    page.goto(f"{base}/portal/")
    assert case.number in page.locator("main").inner_text()
    shot(page, "cases")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Ir al contenido"
    check_page(page)


@pytest.mark.django_db(transaction=True)
def test_another_organizations_customer_gets_404_everywhere(
    live_server, page, customer, globex_user, incident, clock_at
):
    row = cases.add_attachment(
        case=incident, filename="contrato.txt", chunks=[b"secreto de ACME"], actor=customer
    )
    base = live_server.url
    sign_in(page, base, globex_user.email, "clave-segura-1", landing=None)
    for url in (
        f"/portal/cases/{incident.number}",
        f"/portal/cases/{incident.number}/attachments/{row.pk}",
        "/portal/cases/CS9999999",
    ):
        response = page.goto(base + url)
        assert response.status == 404, url
        assert "No puedo firmar" not in page.content()
    # The comment form, aimed at ACME's case from a page of Globex's own session.
    page.goto(f"{base}/portal/cases/new")
    target = f"{base}/portal/cases/{incident.number}/comment"
    with page.expect_response(target) as response:
        page.evaluate(
            """(url) => {
                const form = document.querySelector('form.case-form');
                const body = document.createElement('input');
                body.name = 'body';
                body.value = 'intruso';
                form.appendChild(body);
                form.action = url;
                form.submit();
            }""",
            target,
        )
    assert response.value.status == 404
    assert not incident.notes.filter(body_text="intruso").exists()
    shot(page, "not-found")
