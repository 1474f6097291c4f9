"""The sign-in page in a real browser at a phone's width, driven the way a person (or a
screen reader) finds things: by labels and roles."""

from __future__ import annotations

import re

import pytest

from atiende.core.tests.browser import csp_violations, no_horizontal_scroll, phone_page

PASSWORD = "clave-segura-1"
REFUSED_START = "No fue posible iniciar sesión"


@pytest.fixture
def page():
    with phone_page(width=375) as p:
        yield p


def sign_in(page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_load_state("domcontentloaded")


def refusal(page) -> str:
    return page.get_by_role("alert").inner_text()


@pytest.mark.django_db(transaction=True)
def test_staff_sign_in_and_land_on_the_console(live_server, page, agent):
    sign_in(page, f"{live_server.url}/accounts/login/", agent.email, PASSWORD)
    assert page.url == f"{live_server.url}/console/"  # the console may not exist yet


@pytest.mark.django_db(transaction=True)
def test_a_customer_lands_on_the_portal(live_server, page, customer):
    sign_in(page, f"{live_server.url}/accounts/login/", customer.email, PASSWORD)
    assert page.url == f"{live_server.url}/portal/"


@pytest.mark.django_db(transaction=True)
def test_an_open_redirect_in_next_is_ignored(live_server, page, customer):
    sign_in(
        page,
        f"{live_server.url}/accounts/login/?next=//evil.example/",
        customer.email,
        PASSWORD,
    )
    assert page.url == f"{live_server.url}/portal/"


@pytest.mark.django_db(transaction=True)
def test_six_bad_tries_lock_the_account_and_say_nothing_about_which_accounts_exist(
    live_server, page, agent
):
    login = f"{live_server.url}/accounts/login/"
    messages = []
    for _ in range(6):
        sign_in(page, login, agent.email, "no-es-la-clave")
        messages.append(refusal(page))
    assert messages[0].startswith(REFUSED_START)
    assert len(set(messages)) == 1
    # The right password now: still refused, with the same words.
    sign_in(page, login, agent.email, PASSWORD)
    assert page.url == login and refusal(page) == messages[0]
    # An account that does not exist: the identical message.
    sign_in(page, login, "nadie@acme.com.co", PASSWORD)
    assert refusal(page) == messages[0]
    assert csp_violations(page) == []


@pytest.mark.django_db(transaction=True)
def test_the_page_works_from_the_keyboard_at_375_pixels(live_server, page, customer):
    page.goto(f"{live_server.url}/accounts/login/")
    assert no_horizontal_scroll(page)
    # The email field has the focus on arrival; Tab moves to the password, Enter submits.
    assert page.evaluate("() => document.activeElement.id") == "id_username"
    page.keyboard.type(customer.email)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "id_password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Ingresar"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/portal/$"))
    page.goto(f"{live_server.url}/accounts/login/")
    box = page.get_by_role("button", name="Ingresar").bounding_box()
    assert box is not None and box["width"] <= 375 and box["height"] >= 40  # easy to tap
    page.screenshot(path="/tmp/signin-phone.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_page_in_english(live_server, page, agent):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("domcontentloaded")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/console/$"))
