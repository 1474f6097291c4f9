"""Organizations in the Django admin: the same domain rules as the API, as form errors."""

from __future__ import annotations

import pytest

from atiende.customers.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _form(**fields):
    return {"slug": "initech", "name": "Initech", "email_domains": '["initech.com"]', **fields}


def test_the_admin_refuses_a_free_mail_domain_with_a_form_error(admin_client):
    response = admin_client.post(
        "/admin/customers/organization/add/", _form(email_domains='["initech.com", "yahoo.com"]')
    )
    assert response.status_code == 200  # the form again, with its error
    assert "correo gratuito" in response.content.decode()
    assert not Organization.objects.filter(slug="initech").exists()


def test_the_admin_refuses_another_organizations_domain(admin_client, acme):
    response = admin_client.post(
        "/admin/customers/organization/add/", _form(email_domains='["acme.com.co"]')
    )
    assert response.status_code == 200
    assert "ya es de la organización" in response.content.decode()
    assert not Organization.objects.filter(slug="initech").exists()
    globex = admin_client.post(
        f"/admin/customers/organization/{acme.pk}/change/",
        {"slug": "acme", "name": "ACME", "email_domains": '["acme.com.co", "hotmail.es"]'},
    )
    assert "correo gratuito" in globex.content.decode()
    acme.refresh_from_db()
    assert acme.email_domains == ["acme.com.co"]


def test_the_admin_saves_a_valid_organization_through_the_service(admin_client, admin_user):
    from atiende.core.models import AuditEntry

    response = admin_client.post(
        "/admin/customers/organization/add/", _form(email_domains='["Initech.com"]')
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org = Organization.objects.get(slug="initech")
    assert org.email_domains == ["initech.com"]
    assert AuditEntry.objects.filter(action="organization.created", actor=admin_user).exists()
