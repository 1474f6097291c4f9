import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from atiende.accounts import services
from atiende.accounts.models import ApiToken, User
from atiende.core.errors import InvalidInput


def test_create_user_command_prints_the_token_as_the_last_line(db, acme):
    out = io.StringIO()
    call_command(
        "create_user",
        email="Luis@Acme.com.co",
        name="Luis",
        role="customer",
        organization="acme",
        api_token=True,
        stdout=out,
    )
    token = out.getvalue().strip().splitlines()[-1]
    user = services.user_for_token(token)
    assert user is not None and user.email == "luis@acme.com.co"
    assert user.contact.organization == acme
    assert user.contact.emails.get().address == "luis@acme.com.co"


def test_tokens_are_stored_only_as_digests(agent):
    token = services.issue_token(user=agent)
    row = ApiToken.objects.get(user=agent)
    assert token not in (row.digest, row.prefix) and len(row.digest) == 64
    assert services.user_for_token(token) == agent
    assert services.user_for_token(token + "x") is None
    assert services.user_for_token("") is None


def test_a_revoked_token_or_inactive_user_no_longer_authenticates(agent):
    token = services.issue_token(user=agent)
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert services.user_for_token(token) is None


def test_create_user_reads_the_password_from_stdin(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("una-clave-larga-123\n"))
    call_command(
        "create_user",
        email="sup@mesa.test",
        name="Sup",
        role="supervisor",
        level=2,
        password_stdin=True,
        stdout=io.StringIO(),
    )
    user = User.objects.get(email="sup@mesa.test")
    assert user.check_password("una-clave-larga-123") and user.level == 2


def test_create_user_refuses_bad_input_with_clear_messages(db):
    with pytest.raises(CommandError) as err:
        call_command(
            "create_user",
            email="x@y.z",
            name="X",
            role="customer",
            organization="nope",
            stdout=io.StringIO(),
        )
    assert "nope" in str(err.value)
    with pytest.raises(InvalidInput) as err2:
        services.create_user(email="a@b.c", name="A", role="agent", level=0)
    assert "level" in err2.value.errors
    assert not User.objects.exists()


def test_the_same_email_cannot_be_registered_twice(agent):
    with pytest.raises(InvalidInput) as err:
        services.create_user(email="ANA.AGENTE@mesa.test", name="Otra", role="agent")
    assert "email" in err.value.errors


def test_admins_get_the_django_admin_and_customers_do_not(admin_user, customer, agent):
    assert admin_user.is_staff and admin_user.has_perm("cases.view_case")
    assert not customer.is_staff and not agent.is_staff


def test_a_responsibles_level_must_be_on_the_configured_ladder(db):
    from atiende.escalations.models import EscalationLevel

    for n in (1, 2, 3, 4, 5):
        EscalationLevel.objects.create(number=n, name=f"Nivel {n}", title=f"Nivel {n}")
    assert (
        services.create_user(email="g@mesa.test", name="G", role="supervisor", level=5).level == 5
    )
    with pytest.raises(InvalidInput) as err:
        services.create_user(email="h@mesa.test", name="H", role="supervisor", level=6)
    assert "1–5" in err.value.errors["level"]


# --- create-user: no silent organization, no weak password ----------------------------


def test_create_user_refuses_a_customer_whose_contact_is_in_another_organization(db, acme, globex):
    from atiende.customers import services as customers

    contact = customers.create_contact(
        name="Pedro", organization=globex, emails=["pedro@acme.com.co"]
    )
    with pytest.raises(CommandError) as err:
        call_command(
            "create_user",
            email="Pedro@acme.com.co",
            name="Pedro",
            role="customer",
            organization="acme",
            stdout=io.StringIO(),
        )
    message = str(err.value)
    assert "globex" in message and "acme" in message
    assert not User.objects.exists()
    contact.refresh_from_db()
    assert contact.organization == globex


def test_create_user_says_when_the_organization_comes_from_the_email_domain(db, acme):
    out = io.StringIO()
    call_command(
        "create_user", email="nuevo@acme.com.co", name="Nuevo", role="customer", stdout=out
    )
    user = User.objects.get(email="nuevo@acme.com.co")
    assert user.contact.organization == acme
    assert "acme" in out.getvalue() and "dominio" in out.getvalue()


def test_create_user_binds_an_existing_contact_of_the_same_organization(db, acme):
    from atiende.customers import services as customers

    contact = customers.create_contact(name="Luz", organization=acme, emails=["luz@acme.com.co"])
    user = services.create_user(
        email="luz@acme.com.co", name="Luz", role="customer", organization="acme"
    )
    assert user.contact == contact


@pytest.mark.parametrize("password", ["123", "password", "12345678901"])
def test_create_user_runs_the_password_validators(db, monkeypatch, password):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    with pytest.raises(CommandError) as err:
        call_command(
            "create_user",
            email="debil@mesa.test",
            name="Débil",
            role="agent",
            password_stdin=True,
            stdout=io.StringIO(),
        )
    assert "password" in str(err.value) and "contraseña" in str(err.value).lower()
    assert not User.objects.exists()


def test_the_admin_revokes_tokens_with_an_action(client, admin_user, agent):
    from atiende.core.models import AuditEntry

    token = services.issue_token(user=agent)
    row = ApiToken.objects.get(user=agent)
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    assert services.user_for_token(token) is None
    assert ApiToken.objects.get(pk=row.pk).revoked_at is not None
    assert AuditEntry.objects.filter(action="token.revoked", actor=admin_user).exists()
