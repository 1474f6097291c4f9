"""Who gets into the console: staff yes, anonymous to the sign-in page, customers 404."""

import pytest

from atiende.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def _user(role, email):
    return User.objects.create_user(email=email, password="x-Secreto-2026", name="P", role=role)


def test_anonymous_goes_to_sign_in_with_next(client):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/console/"


def test_agent_sees_the_console(client):
    client.force_login(_user(Role.AGENT, "agente@example.com"))
    response = client.get("/console/")
    assert response.status_code == 200
    assert "Colas" in response.content.decode()


def test_customer_gets_not_found(client):
    client.force_login(_user(Role.CUSTOMER, "cliente@example.com"))
    assert client.get("/console/").status_code == 404
