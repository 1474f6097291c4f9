from atiende.customers.models import Contact


def test_staff_list_contacts_filtered_by_organization_and_text(
    api, acme_contact, globex_contact, customer
):
    body = api.get("/contacts", as_="agent").json()
    assert body["count"] == 4  # the two customers, Pedro and Greta
    body = api.get("/contacts", as_="agent", params={"organization": "globex"}).json()
    assert [c["name"] for c in body["items"]] == ["Greta Globex", "Gustavo Globex"]
    body = api.get("/contacts", as_="agent", params={"q": "pedro@acme"}).json()
    assert [c["name"] for c in body["items"]] == ["Pedro Pérez"]
    assert body["items"][0] == {
        "id": acme_contact.pk,
        "name": "Pedro Pérez",
        "organization": "acme",
        "emails": ["pedro@acme.com.co"],
        "phones": [],
        "whatsapp_id": None,
        "whatsapp_user_id": None,
        "created_at": body["items"][0]["created_at"],
    }


def test_a_whatsapp_user_who_hides_the_number_shows_their_user_id(api):
    from atiende.customers import services

    contact = services.find_or_create_whatsapp_contact(user_id="CO.1234567890", name="Anónima")
    body = api.get(f"/contacts/{contact.pk}", as_="agent").json()
    assert (body["whatsapp_id"], body["whatsapp_user_id"]) == (None, "CO.1234567890")
    assert body["phones"] == []


def test_customer_sees_only_contacts_of_their_organization(api, acme_contact, globex_contact):
    body = api.get("/contacts", as_="customer").json()
    assert sorted(c["name"] for c in body["items"]) == ["Carla Cliente", "Pedro Pérez"]
    body = api.get("/contacts", as_="customer", params={"organization": "globex"}).json()
    assert body == {"items": [], "count": 0}


def test_customer_cannot_see_another_organizations_contact(api, globex_contact, acme_contact):
    response = api.get(f"/contacts/{globex_contact.pk}", as_="customer")
    assert response.status_code == 404
    assert response.json()["detail"] == f"No existe el contacto {globex_contact.pk}."
    assert (
        api.patch(f"/contacts/{globex_contact.pk}", {"name": "X"}, as_="customer").status_code
        == 404
    )
    assert api.get(f"/contacts/{acme_contact.pk}", as_="customer").status_code == 200


def test_an_agent_creates_a_contact_with_phone_in_e164(api, acme):
    response = api.post(
        "/contacts",
        {
            "name": "Lucía Ruiz",
            "organization": "acme",
            "emails": ["Lucia@ACME.com.co", "lucia@acme.com.co"],
            "phones": ["318 487 2656"],
        },
        as_="agent",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["emails"] == ["lucia@acme.com.co"]
    assert body["phones"] == ["+573184872656"]
    assert body["organization"] == "acme"


def test_creating_a_contact_with_an_unknown_organization_names_the_field(api):
    response = api.post("/contacts", {"name": "X", "organization": "nadie"}, as_="agent")
    assert response.status_code == 422
    assert response.json()["errors"] == {"organization": "No existe la organización «nadie»."}


def test_an_invalid_phone_is_a_field_error(api):
    response = api.post("/contacts", {"name": "X", "phones": ["123"]}, as_="agent")
    assert response.status_code == 422
    assert response.json()["errors"] == {"phones": "Número de teléfono inválido: '123'."}


def test_a_customer_cannot_create_or_change_contacts(api, acme_contact):
    assert api.post("/contacts", {"name": "X"}, as_="customer").status_code == 403
    assert (
        api.patch(f"/contacts/{acme_contact.pk}", {"name": "X"}, as_="customer").status_code == 403
    )


def test_staff_patch_replaces_emails_and_moves_the_contact(api, acme_contact, globex):
    response = api.patch(
        f"/contacts/{acme_contact.pk}",
        {
            "organization": "globex",
            "emails": ["pedro@globex.co"],
            "phones": ["+57 601 7442727"],
        },
        as_="agent",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["organization"] == "globex"
    assert body["emails"] == ["pedro@globex.co"]
    assert body["phones"] == ["+576017442727"]
    assert body["name"] == "Pedro Pérez"
    response = api.patch(f"/contacts/{acme_contact.pk}", {"organization": None}, as_="agent")
    assert response.json()["organization"] is None
    assert Contact.objects.get(pk=acme_contact.pk).organization is None


def test_an_email_of_another_contact_is_refused_on_patch(api, acme_contact, globex_contact):
    response = api.patch(
        f"/contacts/{acme_contact.pk}", {"emails": ["greta@globex.co"]}, as_="agent"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "emails": "El correo greta@globex.co ya pertenece a otro contacto."
    }


def test_a_contact_or_organization_name_with_a_line_break_is_a_422(api, acme, acme_contact):
    r = api.post(
        "/contacts", {"name": "Pedro\r\nBcc: x@y.z", "emails": ["p2@acme.com.co"]}, as_="agent"
    )
    assert r.status_code == 422 and "name" in r.json()["errors"]
    r = api.patch(f"/contacts/{acme_contact.pk}", {"name": "Luz\nX: 1"}, as_="agent")
    assert r.status_code == 422 and "name" in r.json()["errors"]
    r = api.patch("/organizations/acme", {"name": "ACME\r\nX: 1"}, as_="agent")
    assert r.status_code == 422 and "name" in r.json()["errors"]


def test_an_intake_name_with_a_line_break_is_made_one_line(db):
    from atiende.customers import services as customers

    contact = customers.find_or_create_contact(email="raro@desconocido.test", name="Ra\r\nro")
    assert contact.name == "Ra  ro"
