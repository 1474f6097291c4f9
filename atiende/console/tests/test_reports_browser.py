"""A supervisor signs in, opens «Informes», reads SLA compliance per channel and the
out-of-hours heatmap, and downloads a CSV — in headless Chromium, at 1280 and 375 px."""

from __future__ import annotations

from pathlib import Path

import pytest

from atiende.accounts import services as accounts
from atiende.core.tests.browser import csp_violations, no_horizontal_scroll, phone_page
from atiende.reports import services
from atiende.reports.tests import week as the_week

week, frozen_end = the_week.week, the_week.frozen_end  # the test week's fixtures
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
PASSWORD = "Informes-Seguros-2026"


@pytest.mark.django_db(transaction=True)
def test_supervisor_reads_sla_and_the_out_of_hours_heatmap_and_downloads_csv(
    live_server,
    week,
    frozen_end,
    tmp_path,
):
    services.refresh()
    accounts.create_user(
        email="sofia.sup@mesa.test", name="Sofía Supervisora", role="supervisor", password=PASSWORD
    )
    with phone_page(width=1280, height=900) as page:
        page.goto(f"{live_server.url}/console/")
        page.get_by_label("Correo electrónico").fill("sofia.sup@mesa.test")
        page.get_by_label("Contraseña").fill(PASSWORD)
        page.get_by_role("button", name="Ingresar").click()
        page.get_by_role("link", name="Informes").click()
        page.get_by_label("Desde").fill("2026-11-23")
        page.get_by_label("Hasta").fill("2026-11-29")
        page.get_by_role("button", name="Ver informes").click()

        assert page.get_by_role("heading", name="Cumplimiento de ANS por canal").is_visible()
        sla = page.get_by_role("table", name="Cumplimiento y tiempos en horas hábiles")
        correo = sla.get_by_role("row").filter(has_text="Correo")
        assert "66.7 %" in correo.inner_text() and "50 %" in correo.inner_text()

        heading = page.get_by_role("heading", name="Contactos fuera del horario de atención")
        assert heading.is_visible()
        contacts = page.get_by_role(
            "table", name="Clientes que escriben o llaman con el canal cerrado"
        )
        row = contacts.get_by_role("row").filter(has_text="Correo").inner_text().split()
        assert row[-3:] == ["3", "2", "66.7"] or "66.7" in row
        heatmap = page.get_by_role("img", name="Contactos por hora de la semana: Correo")
        assert heatmap.is_visible()

        with page.expect_download() as info:
            page.get_by_role("link", name="Descargar CSV").first.click()
        target = tmp_path / "sla.csv"
        info.value.save_as(target)
        text = target.read_text(encoding="utf-8")
        assert text.startswith("Canal,Nombre,Casos") and "correo,Correo,3,2,1" in text

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "console-reports.png"), full_page=True)
        assert csp_violations(page) == []

        page.set_viewport_size({"width": 375, "height": 740})
        assert no_horizontal_scroll(page)
        page.screenshot(path=str(SCREENSHOTS / "console-reports-375.png"), full_page=True)
