"""The sign-in pages: where people land, no open redirects, one message for every refusal,
sign-out, password change and reset (the reset mail goes through the outbox to a real
SMTP server)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from atiende.accounts.models import SignInAttempt
from atiende.accounts.signin.forms import REFUSED
from atiende.channels.models import Notification
from atiende.core import clock
from atiende.worker import queue

PASSWORD = "clave-segura-1"
LOGIN = "/accounts/login/"
T0 = dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with clock.frozen(T0) as c:
        yield c


def test_staff_land_on_the_console(agent, client):
    response = client.post(LOGIN, {"username": agent.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_admins_land_on_the_console_too(admin_user, client):
    response = client.post(LOGIN, {"username": admin_user.email, "password": PASSWORD})
    assert response["Location"] == "/console/"


def test_customers_land_on_the_portal(customer, client):
    response = client.post(LOGIN, {"username": customer.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/portal/"


def test_a_safe_next_is_honoured(customer, client):
    response = client.post(
        f"{LOGIN}?next=/portal/cases/CS0000001",
        {"username": customer.email, "password": PASSWORD, "next": "/portal/cases/CS0000001"},
    )
    assert response["Location"] == "/portal/cases/CS0000001"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "http:evil.example",
        "https:/evil.example",
        "javascript:alert(1)",
        "///evil.example",
        " //evil.example",
    ],
)
def test_next_never_sends_anyone_to_another_site(agent, client, target):
    response = client.post(LOGIN, {"username": agent.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response["Location"] == "/console/"


def test_the_page_has_visible_spanish_labels_and_keeps_next(client, db):
    response = client.get(f"{LOGIN}?next=/portal/")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<label for="id_username">Correo electrónico</label>', html)
    assert re.search(r'<label for="id_password">Contraseña</label>', html)
    assert '<button type="submit" class="primary">Ingresar</button>' in html
    assert 'name="next" value="/portal/"' in html
    assert '<html lang="es-CO">' in html


def test_the_page_is_in_english_when_chosen(client, db):
    client.cookies["django_language"] = "en"
    html = client.get(LOGIN).content.decode()
    assert ">Email</label>" in html and ">Password</label>" in html and ">Sign in</button>" in html


def _refusal(response) -> tuple[int, bytes]:
    """The answer without the CSRF tokens (masked differently on every page)."""
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)
    body = re.sub(rb'"X-CSRFToken": "[^"]+"', b"", body)
    return response.status_code, body


def test_unknown_account_wrong_password_and_lock_out_get_the_same_answer(agent, client, frozen):
    wrong = client.post(LOGIN, {"username": agent.email, "password": "no-es"})
    unknown = client.post(LOGIN, {"username": "nadie@acme.com.co", "password": "no-es"})
    for _ in range(4):
        client.post(LOGIN, {"username": agent.email, "password": "no-es"})
    locked = client.post(LOGIN, {"username": agent.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert str(REFUSED) in wrong.content.decode()
    # Same status and same page apart from the typed address, which the form shows back.
    same = [
        (code, body.replace(agent.email.encode(), b"X").replace(b"nadie@acme.com.co", b"X"))
        for code, body in map(_refusal, (wrong, unknown, locked))
    ]
    assert same[0] == same[1] == same[2]
    assert same[0][0] == 200


def test_an_inactive_account_gets_the_same_answer(agent, client):
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = client.post(LOGIN, {"username": agent.email, "password": PASSWORD})
    assert str(REFUSED) in response.content.decode()


def test_signing_out_takes_a_post(agent, client):
    client.force_login(agent)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_sign_out_needs_the_csrf_token(agent):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post("/accounts/logout/").status_code == 403
    assert "_auth_user_id" in strict.session


def test_changing_the_password_checks_the_old_one_and_the_validators(agent, client):
    client.force_login(agent)
    url = "/accounts/password/change/"
    assert client.get("/accounts/password/change/").status_code == 200
    wrong_old = client.post(
        url,
        {"old_password": "nope", "new_password1": "Tinto-2026!", "new_password2": "Tinto-2026!"},
    )
    assert wrong_old.status_code == 200 and "old_password" in wrong_old.context["form"].errors
    weak = client.post(
        url, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    errors = " ".join(weak.context["form"].errors["new_password2"])
    assert "común" in errors and "numérica" in errors  # validators on, messages in Spanish
    like_email = client.post(
        url,
        {"old_password": PASSWORD, "new_password1": "ana.agente", "new_password2": "ana.agente"},
    )
    assert "parecida" in " ".join(like_email.context["form"].errors["new_password2"])
    ok = client.post(
        url,
        {"old_password": PASSWORD, "new_password1": "Tinto-2026!", "new_password2": "Tinto-2026!"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/accounts/password/change/done/"
    agent.refresh_from_db()
    assert agent.check_password("Tinto-2026!")


def test_changing_the_password_needs_a_sign_in(client, db):
    response = client.get("/accounts/password/change/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password/change/"


# -- password reset, through the outbox and a real SMTP server --


def _reset_link(smtp_server) -> str:
    body = smtp_server.parsed().get_body(("plain",)).get_content()
    (link,) = re.findall(r"https?://\S+/accounts/reset/\S+/", body)
    return link


@pytest.mark.usefixtures("smtp_sender")
def test_a_password_reset_mail_goes_out_and_its_link_works_once(agent, client, smtp_server):
    response = client.post("/accounts/password/reset/", {"email": agent.email.upper()})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    (notification,) = Notification.objects.filter(event="account.password_reset")
    assert notification.address == agent.email and notification.case is None
    queue.run_pending()
    assert smtp_server.messages[-1].rcpt_tos == [agent.email]
    msg = smtp_server.parsed()
    assert msg["Subject"].startswith("Restablecer su contraseña")
    link = _reset_link(smtp_server)
    assert link.startswith("http://testserver/accounts/reset/")
    path = link.removeprefix("http://testserver")

    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and weak.context["form"].errors
    done = client.post(
        set_url, {"new_password1": "Arepa-con-queso-7", "new_password2": "Arepa-con-queso-7"}
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    agent.refresh_from_db()
    assert agent.check_password("Arepa-con-queso-7")

    again = client.get(path, follow=True)
    assert not again.context["validlink"]  # used: the link no longer works
    assert "ya no sirve" in again.content.decode()
    signed_in = client.post(LOGIN, {"username": agent.email, "password": "Arepa-con-queso-7"})
    assert signed_in["Location"] == "/console/"


@pytest.mark.usefixtures("smtp_sender")
def test_a_reset_link_expires(agent, client, smtp_server, frozen, settings):
    client.post("/accounts/password/reset/", {"email": agent.email})
    queue.run_pending()
    path = re.sub(r"^https?://[^/]+", "", _reset_link(smtp_server))
    frozen.advance(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    page = client.get(path, follow=True)
    assert page.status_code == 200 and not page.context["validlink"]


@pytest.mark.usefixtures("smtp_sender")
def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    agent, client, smtp_server
):
    known = client.post("/accounts/password/reset/", {"email": agent.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nadie@acme.com.co"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    queue.run_pending()
    assert [m.rcpt_tos for m in smtp_server.messages] == [[agent.email]]


@pytest.mark.usefixtures("smtp_sender")
def test_the_reset_link_names_the_public_url_not_the_host_a_client_sent(
    agent, client, smtp_server, settings
):
    settings.PUBLIC_URL = "https://mesa.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    client.post("/accounts/password/reset/", {"email": agent.email}, HTTP_HOST="evil.example")
    queue.run_pending()
    assert _reset_link(smtp_server).startswith("https://mesa.example.com/accounts/reset/")


def test_signing_in_records_the_attempt_with_the_clients_address(agent, client):
    client.post(LOGIN, {"username": agent.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.1")
    (attempt,) = SignInAttempt.objects.all()
    assert (attempt.email, attempt.address, attempt.outcome) == (
        agent.email,
        "192.0.2.1",
        "succeeded",
    )


@pytest.mark.usefixtures("smtp_sender")
def test_reset_mails_to_one_account_are_limited(agent, client, smtp_server, frozen, settings):
    for _ in range(5):
        response = client.post("/accounts/password/reset/", {"email": agent.email})
        assert response["Location"] == "/accounts/password/reset/sent/"  # the same answer
    queue.run_pending()
    assert len(smtp_server.messages) == 3
    frozen.advance(seconds=settings.ATIENDE_SIGNIN_WINDOW_SECONDS + 1)
    client.post("/accounts/password/reset/", {"email": agent.email})
    queue.run_pending()
    assert len(smtp_server.messages) == 4


def test_a_post_without_a_csrf_token_gets_our_page_in_spanish(agent, db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN, {"username": agent.email, "password": PASSWORD})
    assert response.status_code == 403
    html = response.content.decode()
    assert "No se pudo enviar el formulario" in html and "<style" not in html
    assert "_auth_user_id" not in strict.session
