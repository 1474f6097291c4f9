"""The screen pop in a real browser: the PBX posts a call, the answering agent's console
shows the caller, their organization and open case without a reload, and one click turns
the call into a case; an agent outside the line's group is not notified."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from atiende.accounts import services as accounts
from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.channels.phone import simulate
from atiende.channels.phone.models import AgentPhone, Call
from atiende.channels.phone.tests.conftest import BOGOTA_TOKEN, lines  # noqa: F401
from atiende.core.tests.browser import (
    chromium,
    csp_violations,
    expect,
    new_page,
    no_horizontal_scroll,
    sign_in,
)
from atiende.customers import services as customers
from atiende.worker import queue

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
PASSWORD = "clave-segura-1"


def signed_in(browser, base: str, email: str, *, width: int):
    page = new_page(browser, width=width)
    sign_in(page, base, email, PASSWORD)
    return page


def work() -> None:
    for _ in range(3):
        queue.run_pending(100)


@pytest.mark.django_db(transaction=True)
def test_the_answering_agent_gets_the_screen_pop_and_opens_a_case_in_one_click(
    live_server,
    lines,  # noqa: F811
    agent,
    acme,
):
    soporte = accounts.ensure_group(slug="soporte-tecnico", name="Grupo de soporte técnico")
    soporte.members.add(agent)
    AgentPhone.objects.create(user=agent, extension="201")
    line = lines["linea-bogota"]
    line.settings = {**line.settings, "group": "soporte-tecnico"}
    line.save()
    accounts.create_user(
        email="bruno@mesa.test", name="Bruno Agente", role="agent", password=PASSWORD
    )
    carla = customers.create_contact(name="Carla Cliente", organization=acme, phones=["3001234567"])
    existing = cases.open_case(
        actor=None,
        channel=line,
        subject="No puede firmar el contrato",
        requester=carla,
        type="incident",
        priority="high",
        acknowledge=False,
    )
    url = f"{live_server.url}/webhooks/cti/linea-bogota"
    events = simulate.call_events(
        from_="300 123 4567", to="6017442727", answering_number="201", call_id="pop-1"
    )

    with chromium() as browser, httpx.Client(timeout=10) as pbx:
        ana = signed_in(browser, live_server.url, agent.email, width=1280)
        bruno = signed_in(browser, live_server.url, "bruno@mesa.test", width=375)

        assert simulate.post(pbx, url, BOGOTA_TOKEN, events[0]).json() == {}  # newCall
        work()
        expect(ana.locator(".call-ringing")).to_contain_text("Llamada entrante", timeout=10_000)
        ana_region = ana.locator("#llamadas-en-vivo")
        expect(ana_region).to_contain_text("Carla Cliente")

        assert simulate.post(pbx, url, BOGOTA_TOKEN, events[1]).status_code == 200  # answer
        work()
        pop = ana.locator(".call-pop")
        expect(pop).to_be_visible(timeout=10_000)
        expect(pop).to_contain_text("ACME S.A.S.")
        expect(pop).to_contain_text(existing.number)
        expect(pop).to_contain_text("Nivel 1")
        expect(pop.get_by_role("link", name="300 1234567")).to_have_attribute(
            "href", "tel:+573001234567"
        )
        # screen readers hear one status line, not the whole redrawn pop
        expect(ana.locator("#llamadas-aviso")).to_have_text(
            "Llamada en curso: Carla Cliente, ACME S.A.S."
        )
        assert ana.title().startswith("☎")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        ana.screenshot(path=str(SCREENSHOTS / "console-calls.png"), full_page=True)

        # the agent outside the line's group was never notified (3 polls later)
        bruno.wait_for_timeout(3000)
        bruno_region = bruno.locator("#llamadas-en-vivo")
        assert "Llamada" not in bruno_region.inner_text()
        assert bruno.locator(".call-pop").count() == 0
        assert no_horizontal_scroll(bruno)

        ana.set_viewport_size({"width": 375, "height": 900})
        assert no_horizontal_scroll(ana)
        ana.set_viewport_size({"width": 1280, "height": 900})

        pop.get_by_role("button", name="Crear caso desde la llamada").click()
        ana.wait_for_url(re.compile(r"/console/cases/CS\d{7}$"))
        number = ana.url.rsplit("/", 1)[1]
        call = Call.objects.get(call_id="pop-1")
        assert call.case is not None and call.case.number == number
        assert Case.objects.get(number=number).requester == carla

        for page in (ana, bruno):
            assert csp_violations(page) == []


@pytest.mark.django_db(transaction=True)
def test_the_call_log_page_reads_at_a_phones_width(live_server, lines, agent):  # noqa: F811
    url = f"{live_server.url}/webhooks/cti/linea-bogota"
    with httpx.Client(timeout=10) as pbx:
        for i, missed in enumerate((True, False, True)):
            for ev in simulate.call_events(
                from_=f"31577788{i:02d}", to="6017442727", missed=missed, call_id=f"log-{i}"
            ):
                simulate.post(pbx, url, BOGOTA_TOKEN, ev)
    work()
    with chromium() as browser:
        page = signed_in(browser, live_server.url, agent.email, width=375)
        page.get_by_role("link", name="Llamadas").click()
        expect(page.get_by_role("heading", name="Llamadas", exact=True)).to_be_visible()
        page.get_by_label("Perdidas").select_option("si")
        page.get_by_role("button", name="Filtrar").click()
        expect(page.locator(".call-log > li")).to_have_count(2)
        page.get_by_role("button", name="Marcar como atendida").first.click()
        expect(page.get_by_text("Atendida por Ana Agente")).to_be_visible()
        assert no_horizontal_scroll(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "console-calls-log.png"), full_page=True)
        assert csp_violations(page) == []
