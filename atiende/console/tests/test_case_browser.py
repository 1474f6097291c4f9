"""The case page in a real browser (headless Debian Chromium, Playwright), against a live
server, with the real peers: the local SMTP server receives the email answer threaded to
the customer's message, the local Graph API peer receives the WhatsApp answer, an
internal note reaches nobody, awaiting the customer pauses the SLA shown, and a level-1
agent's escalation is accepted by the level-2 responsible in a second browser context.
Screenshots go to var/screenshots/ (docs/console.md shows them)."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Case, Note
from atiende.channels.email import intake
from atiende.channels.email.tests.conftest import fixture
from atiende.channels.whatsapp.models import Conversation
from atiende.console.canned.models import CannedAnswer
from atiende.console.tests.case_fixtures import *  # noqa: F403
from atiende.core import clock
from atiende.core.tests.browser import (
    CHROMIUM,
    chromium,
    csp_violations,
    installed,
    new_page,
    no_horizontal_scroll,
    sign_in,
)
from atiende.customers import services as customers
from atiende.worker import queue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not installed(), reason=f"Chromium is not installed at {CHROMIUM}"),
]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
PASSWORD = "clave-segura-1"


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


@contextlib.contextmanager
def signed_in(browser, live_server, email: str, *, width: int = 1280, height: int = 900):
    page = new_page(browser, width=width, height=height)
    sign_in(page, live_server.url, email, PASSWORD)
    try:
        yield page
    finally:
        page.context.close()


def tiny_png() -> bytes:
    """A real one-pixel PNG, so the preview has something to draw."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x0b\x5c\xab")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def run_worker() -> None:
    for _ in range(3):
        queue.run_pending(100)


def test_an_agent_answers_an_email_case_threaded_and_a_note_reaches_nobody(
    browser,
    live_server,
    agent,
    correo,
    smtp_server,
    smtp_sender,
    acme,
    sla_targets,
    clock_at,
    ladder,
):
    got = intake.ingest(fixture("plain.eml"), channel="correo")
    case = Case.objects.get(number=got.case_number)
    run_worker()  # the acknowledgement
    before = len(smtp_server.messages)
    with signed_in(browser, live_server, agent.email) as page:
        page.goto(f"{live_server.url}/console/cases/{case.number}")
        assert page.get_by_role("heading", level=1).inner_text().startswith(case.number)
        assert page.get_by_text("El token no responde").is_visible()
        assert page.get_by_label("Canal de respuesta").input_value() == "correo"

        page.get_by_label("Mensaje").fill("Hola Pedro, ¿qué versión del firmador usa?")
        page.get_by_label("Adjuntos (varios; máximo 25 MB cada uno)").set_input_files(
            [
                {"name": "pasos.png", "mimeType": "image/png", "buffer": tiny_png()},
                {"name": "guia.txt", "mimeType": "text/plain", "buffer": b"Paso 1"},
            ]
        )
        assert "pasos.png" in page.locator("#composer-file-list").inner_text()
        page.get_by_role("button", name="Enviar respuesta").click()
        page.wait_for_load_state()
        assert page.get_by_text("Respuesta enviada.").is_visible()
        run_worker()
        assert len(smtp_server.messages) == before + 1
        sent = smtp_server.parsed()
        assert smtp_server.messages[-1].rcpt_tos == ["pedro@acme.com.co"]
        assert sent["In-Reply-To"] == "<plain-1@acme.com.co>"
        assert "<plain-1@acme.com.co>" in sent["References"]
        assert "qué versión del firmador" in sent.get_body(("plain",)).get_content()
        assert {p.get_filename() for p in sent.iter_attachments()} == {"pasos.png", "guia.txt"}
        page.reload()
        assert page.locator(".delivery-sent").first.is_visible()
        preview = page.get_by_role("img", name="pasos.png")
        # The preview loads after the page: wait for it to finish (loaded or broken).
        page.wait_for_function("img => img.complete", arg=preview.element_handle())
        assert preview.evaluate("img => img.naturalWidth") == 1

        # An internal note, chosen with the "n" shortcut: stored, never sent.
        page.locator("body").press("n")
        assert page.get_by_role("button", name="Guardar nota interna").is_visible()
        page.get_by_label("Mensaje").fill("Nota: el cliente usa la versión 3.1")
        page.get_by_role("button", name="Guardar nota interna").click()
        page.wait_for_load_state()
        assert page.locator(".note-internal", has_text="versión 3.1").is_visible()
        run_worker()
        assert len(smtp_server.messages) == before + 1
        note = Note.objects.get(body_text="Nota: el cliente usa la versión 3.1")
        assert note.visibility == "internal" and note.delivery_status is None

        # Reply and wait for the customer: the SLA shown is paused.
        page.locator("body").press("r")
        page.get_by_label("Mensaje").fill("Quedamos atentos a su respuesta.")
        page.get_by_label("Después de enviar, el caso queda").select_option("awaiting_info")
        page.get_by_role("button", name="Enviar respuesta").click()
        page.wait_for_load_state()
        assert "en pausa" in page.locator("#sla-resolution").inner_text()
        assert "En espera de información" in page.locator(".case-badges").inner_text()
        assert csp_violations(page) == []
        assert page.console_errors == []

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "console-case.png"), full_page=True)
        page.set_viewport_size({"width": 375, "height": 740})
        page.reload()
        assert no_horizontal_scroll(page)
        page.screenshot(path=str(SCREENSHOTS / "console-case-phone.png"), full_page=True)


def test_an_agent_answers_a_whatsapp_case_through_the_graph_api(
    browser, live_server, agent, corporativo, graph, acme_contact, clock_at, ladder
):
    # A transactional test starts without the rows the migrations seeded.
    CannedAnswer.objects.get_or_create(
        slug="saludo", defaults={"title": "Saludo", "body": "Buen día, {contacto}. Caso {numero}."}
    )
    customers.update_contact(contact=acme_contact, whatsapp_id="573001234567")
    Conversation.objects.create(
        channel=corporativo,
        wa_id="573001234567",
        last_inbound_at=clock.now() - dt.timedelta(hours=2),
        updated_at=clock.now(),
    )
    case = cases.open_case(
        actor=None,
        channel=corporativo,
        subject="No me llega el código",
        type="request",
        priority="high",
        requester=acme_contact,
        acknowledge=False,
    )
    with signed_in(browser, live_server, agent.email) as page:
        page.goto(f"{live_server.url}/console/cases/{case.number}")
        assert page.get_by_text("Ventana de 24 horas de WhatsApp abierta").is_visible()
        assert page.get_by_label("Mensaje").is_enabled()
        page.get_by_label("Respuesta predefinida").select_option("saludo")
        page.get_by_role("button", name="Insertar respuesta predefinida").click()
        assert page.get_by_label("Mensaje").input_value().startswith("Buen día, Pedro Pérez.")
        page.get_by_label("Mensaje").fill("Hola Pedro, ya le reenviamos el código.")
        page.get_by_role("button", name="Enviar respuesta").click()
        page.wait_for_load_state()
        run_worker()
        sends = [
            r.json for r in graph.requests if r.method == "POST" and r.path.endswith("/messages")
        ]
        assert sends and sends[-1]["to"] == "573001234567"
        assert sends[-1]["text"]["body"] == "Hola Pedro, ya le reenviamos el código."
        assert csp_violations(page) == []


def test_a_level_one_agent_requests_escalation_and_level_two_accepts_it(
    browser, live_server, agent, supervisor, acme_incident, ladder, clock_at
):
    supervisor.set_password(PASSWORD)
    supervisor.save(update_fields=["password"])
    number = acme_incident.number
    with signed_in(browser, live_server, agent.email) as page:
        page.goto(f"{live_server.url}/console/cases/{number}")
        assert page.get_by_text("Procede el escalamiento").is_visible()
        page.get_by_label("Motivo del escalamiento").fill("Requiere al supervisor")
        page.get_by_role("button", name="Solicitar escalamiento").click()
        page.wait_for_load_state()
        assert page.get_by_text("Solicitud pendiente: nivel 1 → 2").is_visible()
        assert page.get_by_role("button", name="Aceptar escalamiento").count() == 0

        with signed_in(browser, live_server, supervisor.email) as other:
            other.goto(f"{live_server.url}/console/cases/{number}")
            assert other.get_by_text("Requiere al supervisor").first.is_visible()
            assert other.get_by_text("Evidencia").is_visible()
            other.get_by_role("button", name="Aceptar escalamiento").click()
            other.wait_for_load_state()
            assert other.get_by_text("el caso sube al nivel 2").is_visible()
            assert "Nivel 2" in other.locator(".rung.current").inner_text()

        page.reload()
        assert "Nivel 2" in page.locator(".case-badges").inner_text()
    acme_incident.refresh_from_db()
    assert acme_incident.level == 2
