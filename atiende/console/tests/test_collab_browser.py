"""Two agents on one case, in two browsers: each sees the other viewing and writing; a
change made on the stale page is refused with its message; the bell counts a new
assignment without a reload. Pages are found by labels and roles."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from atiende.accounts import services as accounts
from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.core.tests.browser import (
    chromium,
    csp_violations,
    new_page,
    no_horizontal_scroll,
    phone_page,
)
from atiende.core.tests.browser import sign_in as browser_sign_in

PASSWORD = "clave-segura-1"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
POLL = 15_000  # ms: the presence heartbeat is every 5 s, the bell every 8 s


@contextlib.contextmanager
def two_browsers(width: int = 1280, height: int = 900):
    """Two pages with their own cookies: two people at two desks."""
    with chromium() as browser:
        yield [new_page(browser, width=width, height=height) for _ in range(2)]


def sign_in(page, base: str, email: str) -> None:
    browser_sign_in(page, base, email, PASSWORD)


@pytest.fixture
def luis(db):
    return accounts.create_user(
        email="luis.perez@mesa.test", name="Luis Pérez", role="agent", password=PASSWORD
    )


@pytest.mark.django_db(transaction=True)
def test_two_agents_see_each_other_and_a_stale_change_is_refused(
    live_server, portal, acme, customer, agent, luis, sla_targets
):
    case = cases.open_case(actor=customer, channel=portal, subject="No puedo firmar")
    other = cases.open_case(actor=customer, channel=portal, subject="Tampoco puedo firmar")
    parent = cases.open_case(actor=agent, channel=portal, subject="Caída", organization=acme)
    url = f"{live_server.url}/console/incidents/{case.number}"  # a page with the case parts
    with two_browsers() as (ana_page, luis_page):
        sign_in(ana_page, live_server.url, agent.email)
        sign_in(luis_page, live_server.url, luis.email)
        ana_page.goto(url)
        luis_page.goto(url)
        luis_page.get_by_text("Ana Agente está viendo").wait_for(timeout=POLL)
        ana_page.get_by_text("Luis Pérez está viendo").wait_for(timeout=POLL)

        luis_page.get_by_label("Respuesta para todos los casos").press_sequentially("Estamos ")
        ana_page.get_by_text("Luis Pérez está escribiendo").wait_for(timeout=POLL)

        # Luis changes the case; Ana's page is now stale.
        luis_page.get_by_label("Número del incidente mayor").fill(parent.number)
        luis_page.get_by_role("button", name="Vincular al incidente").click()
        luis_page.get_by_text(f"quedó vinculado al incidente mayor {parent.number}").wait_for()

        ana_page.get_by_label("Número del caso que sobrevive").fill(other.number)
        ana_page.get_by_role("button", name="Fusionar").click()
        ana_page.get_by_text(re.compile("cambió desde que abrió esta página")).wait_for()
        assert Case.objects.get(pk=case.pk).merged_into_id is None
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        ana_page.screenshot(path=str(SCREENSHOTS / "console-stale-refused.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_bell_counts_a_new_assignment_without_a_reload(
    live_server, portal, acme, customer, agent, luis, sla_targets
):
    case = cases.open_case(actor=customer, channel=portal, subject="Certificado vencido")
    with two_browsers() as (luis_page, _):
        sign_in(luis_page, live_server.url, luis.email)
        bell = luis_page.get_by_role("link", name=re.compile("^Notificaciones"))
        assert "sin leer" not in bell.inner_text()
        cases.update_case(case=case, actor=agent, assignee=luis)
        luis_page.get_by_role("link", name=re.compile("1 sin leer")).wait_for(timeout=POLL)
        bell.click()
        luis_page.get_by_text(f"Se le asignó el caso {case.number}").wait_for()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        luis_page.screenshot(path=str(SCREENSHOTS / "console-notifications.png"), full_page=True)
        luis_page.get_by_role("button", name="Marcar como leída").click()
        luis_page.get_by_text("0 sin leer").wait_for()


@pytest.mark.django_db(transaction=True)
def test_the_collaboration_pages_fit_a_phone_and_obey_the_csp(
    live_server, portal, acme, customer, agent, sla_targets
):

    case = cases.open_case(actor=customer, channel=portal, subject="Un asunto bastante largo " * 4)
    cases.update_case(case=case, actor=None, assignee=agent)
    with phone_page(width=375) as page:
        sign_in(page, live_server.url, agent.email)
        for path in (
            "/console/notificaciones",
            "/console/cases/new?q=carla",
            f"/console/incidents/{case.number}",
        ):
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            assert no_horizontal_scroll(page), path
            assert csp_violations(page) == [], path
        page.screenshot(path=str(SCREENSHOTS / "console-incident-phone.png"), full_page=True)
