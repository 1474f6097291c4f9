import pytest

from atiende.customers.models import Organization


def test_staff_list_every_organization_with_count(api, acme, globex):
    response = api.get("/organizations", as_="agent")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [o["slug"] for o in body["items"]] == ["acme", "globex"]
    assert set(body["items"][0]) == {"slug", "name", "email_domains", "created_at"}


def test_organization_list_filters_by_text_and_paginates(api, acme, globex):
    body = api.get("/organizations", as_="agent", params={"q": "glob"}).json()
    assert [o["slug"] for o in body["items"]] == ["globex"]
    body = api.get("/organizations", as_="agent", params={"limit": 1, "offset": 1}).json()
    assert body["count"] == 2
    assert [o["slug"] for o in body["items"]] == ["globex"]


def test_customer_sees_only_their_own_organization(api, acme, globex):
    body = api.get("/organizations", as_="customer").json()
    assert body == {"items": [body["items"][0]], "count": 1}
    assert body["items"][0]["slug"] == "acme"


def test_customer_cannot_see_another_organization(api, acme, globex):
    response = api.get("/organizations/globex", as_="customer")
    assert response.status_code == 404
    assert response.json()["detail"] == "No existe la organización globex."
    assert api.patch("/organizations/globex", {"name": "X"}, as_="customer").status_code == 404


def test_get_one_organization_by_slug(api, acme):
    response = api.get("/organizations/acme", as_="customer")
    assert response.status_code == 200
    assert response.json()["email_domains"] == ["acme.com.co"]


def test_an_agent_creates_an_organization(api, agent):
    response = api.post(
        "/organizations",
        {"slug": "initech", "name": "Initech", "email_domains": ["Initech.com"]},
        as_="agent",
    )
    assert response.status_code == 201
    assert response.json()["email_domains"] == ["initech.com"]
    assert Organization.objects.get(slug="initech").name == "Initech"


def test_a_duplicate_slug_is_a_field_error(api, acme):
    response = api.post("/organizations", {"slug": "acme", "name": "Otra"}, as_="admin")
    assert response.status_code == 422
    assert response.json()["errors"] == {"slug": "Ya existe la organización 'acme'."}


def test_a_customer_cannot_create_or_change_organizations(api, acme):
    response = api.post("/organizations", {"slug": "nueva", "name": "Nueva"}, as_="customer")
    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "detail": "Solo el personal de la mesa de ayuda puede hacer esto.",
    }
    assert api.patch("/organizations/acme", {"name": "Hackeada"}, as_="customer").status_code == 403
    assert Organization.objects.get(slug="acme").name == "ACME S.A.S."


def test_staff_patch_changes_name_and_domains_only(api, acme):
    response = api.patch("/organizations/acme", {"email_domains": ["acme.co"]}, as_="supervisor")
    assert response.status_code == 200
    assert response.json()["name"] == "ACME S.A.S."
    assert response.json()["email_domains"] == ["acme.co"]
    response = api.patch("/organizations/acme", {"slug": "otra"}, as_="supervisor")
    assert response.status_code == 422
    assert response.json()["errors"] == {"slug": "Campo desconocido."}


# --- Email domains decide who joins an organization: no free mail, no one else's ----------


@pytest.mark.parametrize(
    "domain", ["gmail.com", "Hotmail.com", "outlook.es", "proton.me", "gmx.de"]
)
def test_a_free_mail_domain_is_refused_with_a_422(api, domain):
    response = api.post(
        "/organizations",
        {"slug": "initech", "name": "Initech", "email_domains": ["initech.com", domain]},
        as_="agent",
    )
    assert response.status_code == 422, response.json()
    assert "correo gratuito" in response.json()["errors"]["email_domains"]
    assert api.get("/organizations/initech", as_="agent").status_code == 404


def test_another_organizations_domain_is_refused_with_a_409(api, acme, globex):
    response = api.post(
        "/organizations",
        {"slug": "initech", "name": "Initech", "email_domains": ["ACME.com.co"]},
        as_="agent",
    )
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "domain_taken"
    assert "acme.com.co" in response.json()["detail"]
    response = api.patch("/organizations/globex", {"email_domains": ["acme.com.co"]}, as_="agent")
    assert (response.status_code, response.json()["code"]) == (409, "domain_taken")
    response = api.patch("/organizations/acme", {"email_domains": ["gmail.com"]}, as_="agent")
    assert response.status_code == 422
    assert api.get("/organizations/globex", as_="agent").json()["email_domains"] == ["globex.co"]
    assert api.get("/organizations/acme", as_="agent").json()["email_domains"] == ["acme.com.co"]


def test_an_organization_may_keep_its_own_domains(api, acme):
    response = api.patch(
        "/organizations/acme", {"email_domains": ["acme.com.co", "acme.co"]}, as_="agent"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["email_domains"] == ["acme.com.co", "acme.co"]
