from atiende.cases import services as cases
from atiende.cases.models import Note


def test_an_agent_adds_an_internal_note(api, acme_case, agent):
    response = api.post(
        f"/cases/{acme_case.number}/notes",
        {"body": "Revisar el certificado", "visibility": "internal"},
        as_="agent",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "visibility",
        "direction",
        "channel",
        "author",
        "body",
        "created_at",
        "delivery_status",
        "delivery_error",
        "unverified",
    }
    assert (body["visibility"], body["direction"], body["channel"]) == (
        "internal",
        "internal",
        None,
    )
    assert (body["author"], body["body"]) == ("Ana Agente", "Revisar el certificado")


def test_an_agents_public_note_goes_out_through_the_cases_channel_and_opens_the_case(
    api, make_case, agent, acme, email_channel
):
    case = make_case(actor=agent, organization=acme, channel=email_channel)
    response = api.post(f"/cases/{case.number}/notes", {"body": "Ya lo revisamos."}, as_="agent")
    assert response.status_code == 201
    body = response.json()
    assert (body["visibility"], body["direction"], body["channel"]) == (
        "public",
        "outbound",
        "correo",
    )
    assert body["delivery_status"] == "pending"
    assert api.get(f"/cases/{case.number}", as_="agent").json()["status"] == "open"


def test_an_agent_may_pick_the_channel_of_the_answer(api, acme_case, email_channel):
    response = api.post(
        f"/cases/{acme_case.number}/notes",
        {"body": "Le escribimos", "channel": "correo"},
        as_="agent",
    )
    assert response.json()["channel"] == "correo"
    response = api.post(
        f"/cases/{acme_case.number}/notes", {"body": "x", "channel": "fax"}, as_="agent"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"channel": "No existe el canal «fax»."}


def test_a_customer_comments_through_the_api_channel(api, acme_case):
    response = api.post(
        f"/cases/{acme_case.number}/notes", {"body": "Adjunto la captura"}, as_="customer"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["visibility"], body["direction"], body["channel"]) == ("public", "inbound", "api")
    assert body["author"] == "Carla Cliente"


def test_a_customer_cannot_write_internal_notes(api, acme_case):
    response = api.post(
        f"/cases/{acme_case.number}/notes", {"body": "x", "visibility": "internal"}, as_="customer"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "visibility": "Un cliente solo puede agregar comentarios públicos."
    }


def test_customers_never_see_internal_notes(api, acme_case, agent):
    cases.add_note(
        case=acme_case, body_text="Nota de trabajo secreta", visibility="internal", actor=agent
    )
    cases.add_note(case=acme_case, body_text="Respuesta pública", visibility="public", actor=agent)
    customer_view = api.get(f"/cases/{acme_case.number}/notes", as_="customer").json()
    assert "Nota de trabajo secreta" not in [n["body"] for n in customer_view["items"]]
    assert "Respuesta pública" in [n["body"] for n in customer_view["items"]]
    assert all(n["visibility"] == "public" for n in customer_view["items"])
    agent_view = api.get(f"/cases/{acme_case.number}/notes", as_="agent").json()
    assert agent_view["count"] == customer_view["count"] + 1
    timeline = api.get(f"/cases/{acme_case.number}/timeline", as_="customer").content.decode()
    assert "Nota de trabajo secreta" not in timeline


def test_customers_do_not_see_delivery_errors(api, acme_case, agent):
    note = cases.add_note(case=acme_case, body_text="Hola", actor=agent)
    Note.objects.filter(pk=note.pk).update(
        delivery_status="failed", delivery_error="550 smtp.interno rechazó"
    )
    by_id = {
        n["id"]: n
        for n in api.get(f"/cases/{acme_case.number}/notes", as_="customer").json()["items"]
    }
    assert by_id[note.pk]["delivery_status"] == "failed"
    assert by_id[note.pk]["delivery_error"] == ""
    by_id = {
        n["id"]: n for n in api.get(f"/cases/{acme_case.number}/notes", as_="agent").json()["items"]
    }
    assert by_id[note.pk]["delivery_error"] == "550 smtp.interno rechazó"


def test_notes_of_another_organizations_case_are_404(api, acme_case):
    response = api.post(f"/cases/{acme_case.number}/notes", {"body": "Hola"}, as_="other_customer")
    assert response.status_code == 404
    assert not Note.objects.filter(body_text="Hola").exists()


def test_a_closed_case_takes_no_notes_409(api, acme_case, agent):
    cases.change_status(case=acme_case, actor=agent, status="cancelled")
    response = api.post(f"/cases/{acme_case.number}/notes", {"body": "Hola"}, as_="agent")
    assert response.status_code == 409
    assert (
        response.json()["detail"] == f"El caso {acme_case.number} está cancelado; no admite notas."
    )


def test_an_empty_note_is_refused(api, acme_case):
    response = api.post(f"/cases/{acme_case.number}/notes", {"body": "  "}, as_="agent")
    assert response.status_code == 422
    assert response.json()["errors"] == {"body": "La nota no puede estar vacía."}


def test_staff_see_which_notes_await_confirmation(api, acme_case):
    from atiende.core import clock

    Note.objects.create(
        case=acme_case,
        body_text="soy nuevo@acme.com.co",
        direction="inbound",
        visibility="internal",
        unverified=True,
        created_at=clock.now(),
    )
    items = api.get(f"/cases/{acme_case.number}/notes", as_="agent").json()["items"]
    assert [n["unverified"] for n in items if n["body"] == "soy nuevo@acme.com.co"] == [True]
