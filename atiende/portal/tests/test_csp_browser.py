"""The pages under our Content-Security-Policy in a real browser: nothing refused."""

from __future__ import annotations

import pytest

from atiende.accounts import services as accounts
from atiende.configuration import loader
from atiende.core.tests.browser import csp_violations, no_horizontal_scroll, phone_page
from atiende.portal.tests.test_canales_browser import REFERENCE


@pytest.fixture
def page():
    with phone_page() as p:
        yield p


@pytest.mark.django_db(transaction=True)
def test_public_and_sign_in_pages_show_no_csp_violation(live_server, page):
    loader.load(REFERENCE)
    for path in ("/", "/canales", "/accounts/login/", "/accounts/password/reset/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert csp_violations(page) == [], path
        assert no_horizontal_scroll(page), path
        # The stylesheet applied (a CSP refusing it would leave the default white body).
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(245, 247, 250)", path
    assert page.console_errors == []


@pytest.mark.django_db(transaction=True)
def test_the_admin_works_under_the_policy(live_server, page):
    loader.load(REFERENCE)
    accounts.create_user(
        email="root@mesa.test", name="Raíz", role="admin", password="Ajiaco-santafereño-1"
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "root@mesa.test")
    page.fill("#id_password", "Ajiaco-santafereño-1")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    visited = ["/admin/login/"]
    for path in (
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/directory/channel/",
        "/admin/directory/channel/correo/change/",
        "/admin/sla/schedule/",
        "/admin/accounts/supportgroup/add/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        visited.append(path)
        assert response.status == 200, path
        assert csp_violations(page) == [], path
    # The admin's own scripts ran: the "add another" and calendar widgets, the theme toggle.
    page.goto(f"{live_server.url}/admin/accounts/supportgroup/add/")
    assert page.locator("#id_members_add_all_link, .selector").count() >= 1
    assert page.evaluate("() => typeof window.django !== 'undefined'")
    assert csp_violations(page) == []
    assert page.console_errors == [], visited


@pytest.mark.django_db(transaction=True)
def test_the_api_docs_render_under_the_policy(live_server, page):
    page.goto(f"{live_server.url}/api/v1/docs")
    # Swagger UI (our static copy) ran and drew its interface; whether it can draw every
    # operation depends on the schema, which other tests check.
    page.wait_for_selector("#swagger-ui .swagger-ui", timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert csp_violations(page) == []
