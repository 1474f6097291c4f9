"""The queues page and the search in a real browser: sign in, see the queues and their
counts, watch a count change without reloading, move with the keyboard, find a case by a
word typed without its accent. Screenshots go to var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from atiende.cases import services as cases
from atiende.console.tests.queues_world import world_fixture  # noqa: F401
from atiende.core.tests.browser import csp_violations, no_horizontal_scroll, phone_page, sign_in

SCREENSHOTS = Path(settings.BASE_DIR).parent / "var" / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_queues_counts_live_update_keyboard_and_accent_free_search(live_server, world):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with phone_page(width=1280, height=900) as page:
        sign_in(page, live_server.url, world.ana.email, "clave-segura-1")

        tabs = page.get_by_role("navigation", name="Colas")
        mine = tabs.get_by_role("link", name="Mis casos")
        assert mine.get_attribute("aria-current") == "page"
        assert page.locator("[data-count=mine]").inner_text() == "1"
        assert page.locator("[data-count=critical]").inner_text() == "1"
        row_link = page.get_by_role("link", name=world.mine.number)
        assert row_link.get_attribute("href") == f"/console/cases/{world.mine.number}"
        page.screenshot(path=str(SCREENSHOTS / "console-queues.png"), full_page=True)

        # A case assigned to me elsewhere: the count follows within the 10 s poll.
        cases.open_case(
            actor=world.beto,
            channel=world.mine.channel,
            subject="Nuevo caso asignado",
            assignee=world.ana,
            acknowledge=False,
        )
        page.wait_for_function(
            "() => document.querySelector('[data-count=mine]').textContent.trim() === '2'",
            timeout=15_000,
        )

        # Keyboard: j moves to the first row's case link, "/" goes to the search box.
        page.locator("h1").click()
        page.keyboard.press("j")
        assert page.evaluate("() => document.activeElement.textContent") == world.mine.number
        page.keyboard.press("/")
        search = page.get_by_label("Buscar casos")
        assert page.evaluate("() => document.activeElement.id") == "console-search-q"

        search.fill("facturacion")
        page.get_by_role("button", name="Buscar", exact=True).click()
        page.wait_for_url("**/console/search?q=facturacion")
        assert page.get_by_role("link", name=world.mine.number).is_visible()
        page.screenshot(path=str(SCREENSHOTS / "console-search.png"), full_page=True)
        assert csp_violations(page) == []
        assert page.console_errors == []


@pytest.mark.django_db(transaction=True)
def test_queues_at_a_phones_width(live_server, world):
    with phone_page(width=375, height=740) as page:
        sign_in(page, live_server.url, world.ana.email, "clave-segura-1")
        page.get_by_role("link", name="Todos").click()
        page.wait_for_url("**/console/?queue=all")
        assert page.get_by_role("link", name=world.globex.number).is_visible()
        assert no_horizontal_scroll(page)
        page.screenshot(path=str(SCREENSHOTS / "console-queues-phone.png"), full_page=True)
        assert csp_violations(page) == []
