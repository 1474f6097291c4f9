import datetime as dt

import pytest

from atiende.accounts import services as accounts
from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.core import clock

CASE_KEYS = {
    "number",
    "type",
    "priority",
    "status",
    "level",
    "channel",
    "organization",
    "requester",
    "assignee",
    "group",
    "classification",
    "subject",
    "description",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
}


@pytest.fixture
def soporte(db):
    return accounts.ensure_group(slug="soporte", name="Soporte técnico")


# --- creating ---------------------------------------------------------------------------


def test_a_customer_opens_a_case_for_themselves_through_the_api_channel(api, customer):
    response = api.post(
        "/cases",
        {
            "subject": "No puedo firmar",
            "description": "Sale un error al firmar.",
            "type": "incident",
            "priority": "high",
        },
        as_="customer",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == CASE_KEYS
    assert body["number"] == "CS0000001"
    assert body["channel"] == "api"
    assert body["organization"] == "acme"
    assert body["requester"] == {"id": customer.contact_id, "name": "Carla Cliente"}
    assert body["assignee"] is None
    assert (body["status"], body["level"], body["type"], body["priority"]) == (
        "new",
        1,
        "incident",
        "high",
    )
    created = dt.datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() == dt.timedelta(0)
    assert Case.objects.get(number="CS0000001").requester == customer.contact


def test_a_customers_case_comes_in_through_the_portal_when_there_is_no_api_channel(
    api, api_channel
):
    api_channel.active = False
    api_channel.save()
    response = api.post("/cases", {"subject": "Hola"}, as_="customer")
    assert response.status_code == 201
    assert response.json()["channel"] == "portal"


def test_a_customer_cannot_choose_organization_requester_channel_assignee_or_group(api, globex):
    response = api.post(
        "/cases",
        {
            "subject": "Hola",
            "organization": "globex",
            "channel": "portal",
            "assignee": 1,
        },
        as_="customer",
    )
    assert response.status_code == 422
    message = "Solo el personal de la mesa de ayuda puede indicar este campo."
    assert response.json()["errors"] == {
        "organization": message,
        "channel": message,
        "assignee": message,
    }


def test_an_agent_opens_a_case_for_an_organization_with_all_the_details(
    api, agent, acme_contact, email_channel, soporte
):
    response = api.post(
        "/cases",
        {
            "subject": "Certificado vencido",
            "organization": "acme",
            "requester": acme_contact.pk,
            "channel": "correo",
            "assignee": "ANA.agente@mesa.test",
            "group": "soporte",
            "type": "request",
            "priority": "low",
            "classification": "public",
        },
        as_="agent",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["channel"] == "correo"
    assert body["requester"] == {"id": acme_contact.pk, "name": "Pedro Pérez"}
    assert body["assignee"] == {"id": agent.pk, "name": "Ana Agente"}
    assert body["group"] == "soporte"
    assert body["classification"] == "public"


def test_an_agents_case_defaults_to_the_api_channel(api):
    response = api.post("/cases", {"subject": "Llamada", "organization": "acme"}, as_="agent")
    assert response.json()["channel"] == "api"


def test_an_agent_can_name_only_the_requester_and_the_organization_follows(api, acme_contact):
    response = api.post("/cases", {"subject": "Hola", "requester": acme_contact.pk}, as_="agent")
    assert response.status_code == 201
    assert response.json()["organization"] == "acme"


def test_an_agent_must_say_whose_case_it_is(api):
    response = api.post("/cases", {"subject": "Hola"}, as_="agent")
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "organization": "Indique la organización (slug) o el solicitante (id de contacto)."
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organization", "nadie", "No existe la organización «nadie»."),
        ("channel", "fax", "No existe el canal «fax»."),
        ("assignee", "nadie@mesa.test", "No existe el usuario «nadie@mesa.test»."),
        ("assignee", 987654, "No existe el usuario «987654»."),
        ("group", "nadie", "No existe el grupo de soporte «nadie»."),
        ("requester", 987654, "No existe el contacto 987654."),
    ],
)
def test_unknown_references_are_field_errors(api, field, value, message):
    payload = {"subject": "Hola", "organization": "acme", field: value}
    response = api.post("/cases", payload, as_="agent")
    assert response.status_code == 422
    assert response.json()["errors"] == {field: message}


def test_a_requester_of_another_organization_is_refused(api, globex_contact):
    response = api.post(
        "/cases",
        {"subject": "Hola", "organization": "acme", "requester": globex_contact.pk},
        as_="agent",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "requester": "El solicitante no pertenece a esa organización."
    }


def test_a_case_cannot_be_assigned_to_a_customer(api, customer):
    response = api.post(
        "/cases", {"subject": "Hola", "organization": "acme", "assignee": customer.pk}, as_="agent"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"assignee": "Solo se puede asignar a agentes."}


def test_an_empty_subject_is_refused_in_spanish(api):
    response = api.post("/cases", {"subject": "   ", "organization": "acme"}, as_="agent")
    assert response.status_code == 422
    assert response.json()["errors"] == {"subject": "El asunto es obligatorio."}


def test_a_subject_over_300_characters_is_refused(api):
    response = api.post("/cases", {"subject": "x" * 301, "organization": "acme"}, as_="agent")
    assert response.json()["errors"] == {"subject": "Admite máximo 300 caracteres."}


# --- reading ----------------------------------------------------------------------------


def test_get_one_case_by_number_in_any_letter_case(api, acme_case):
    response = api.get(f"/cases/{acme_case.number.lower()}", as_="customer")
    assert response.status_code == 200
    assert response.json()["number"] == acme_case.number


def test_customer_cannot_see_another_organizations_case(api, acme_case):
    for path in ("", "/notes", "/attachments", "/timeline"):
        response = api.get(f"/cases/{acme_case.number}{path}", as_="other_customer")
        assert response.status_code == 404, path
        assert response.json() == {
            "code": "not_found",
            "detail": f"No existe el caso {acme_case.number}.",
        }
    assert (
        api.patch(
            f"/cases/{acme_case.number}", {"status": "closed"}, as_="other_customer"
        ).status_code
        == 404
    )


# --- listing ----------------------------------------------------------------------------


@pytest.fixture
def five_cases(make_case, other_customer, agent, soporte, email_channel, acme):
    """Created one hour apart: CS1 (oldest) .. CS5 (newest)."""
    start = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)
    specs = [
        {"subject": "Firma rechazada", "type": "incident", "priority": "critical"},
        {"subject": "Factura", "type": "request", "priority": "low", "actor": other_customer},
        {
            "subject": "Cambio de correo",
            "type": "change",
            "priority": "moderate",
            "actor": agent,
            "organization": acme,
            "assignee": agent,
            "group": soporte,
            "channel": email_channel,
        },
        {"subject": "Token bloqueado", "type": "incident", "priority": "high"},
        {
            "subject": "Renovación",
            "type": "request",
            "priority": "moderate",
            "actor": other_customer,
        },
    ]
    made = []
    with clock.frozen(start) as frozen:
        for spec in specs:
            made.append(make_case(**spec))
            frozen.advance(hours=1)
        cases.change_status(case=made[3], actor=agent, status="open")
    return made


def numbers(response):
    assert response.status_code == 200, response.content
    return [c["number"][-1] for c in response.json()["items"]]


def test_the_list_is_newest_first_with_the_total_count(api, five_cases):
    response = api.get("/cases", as_="agent")
    assert numbers(response) == ["5", "4", "3", "2", "1"]
    assert response.json()["count"] == 5


def test_the_list_paginates_with_limit_and_offset_and_counts_everything(api, five_cases):
    response = api.get("/cases", as_="agent", params={"limit": 2, "offset": 1})
    assert numbers(response) == ["4", "3"]
    assert response.json()["count"] == 5
    response = api.get("/cases", as_="agent", params={"limit": 2, "offset": 10})
    assert response.json() == {"items": [], "count": 5}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created_at", ["1", "2", "3", "4", "5"]),
        ("-created_at", ["5", "4", "3", "2", "1"]),
        ("number", ["1", "2", "3", "4", "5"]),
        ("-number", ["5", "4", "3", "2", "1"]),
        ("-updated_at", ["4", "5", "3", "2", "1"]),  # CS4 changed status last
        ("updated_at", ["1", "2", "3", "5", "4"]),
    ],
)
def test_the_list_sorts(api, five_cases, sort, expected):
    assert numbers(api.get("/cases", as_="agent", params={"sort": sort})) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "open"}, ["4"]),
        ({"status": "new,open"}, ["5", "4", "3", "2", "1"]),
        ({"status": ["open", "resolved"]}, ["4"]),
        ({"type": "incident"}, ["4", "1"]),
        ({"priority": "moderate"}, ["5", "3"]),
        ({"type": "incident", "priority": "critical"}, ["1"]),
        ({"level": 1}, ["5", "4", "3", "2", "1"]),
        ({"level": 2}, []),
        ({"organization": "globex"}, ["5", "2"]),
        ({"channel": "correo"}, ["3"]),
        ({"assignee": "me"}, ["3"]),
        ({"assignee": "ana.agente@mesa.test"}, ["3"]),
        ({"assignee": "none"}, ["5", "4", "2", "1"]),
        ({"group": "soporte"}, ["3"]),
        ({"q": "firma"}, ["1"]),
        ({"q": "CS0000002"}, ["2"]),
        ({"q": "cs0000002"}, ["2"]),
    ],
)
def test_the_list_filters(api, five_cases, params, expected):
    response = api.get("/cases", as_="agent", params=params)
    assert numbers(response) == expected
    assert response.json()["count"] == len(expected)


def test_the_assignee_filter_takes_a_user_id(api, five_cases, agent):
    assert numbers(api.get("/cases", as_="agent", params={"assignee": str(agent.pk)})) == ["3"]


def test_a_customer_lists_only_their_organizations_cases(api, five_cases):
    assert numbers(api.get("/cases", as_="customer")) == ["4", "3", "1"]
    assert numbers(api.get("/cases", as_="other_customer")) == ["5", "2"]
    assert numbers(api.get("/cases", as_="customer", params={"organization": "globex"})) == []


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": 0}, "limit", "Debe ser mayor o igual a 1."),
        ({"limit": 101}, "limit", "Debe ser menor o igual a 100."),
        ({"limit": "diez"}, "limit", "Debe ser un número entero."),
        ({"offset": -1}, "offset", "Debe ser mayor o igual a 0."),
        ({"offset": 100_001}, "offset", "Debe ser menor o igual a 100000."),
        ({"offset": "9" * 40}, "offset", "Debe ser menor o igual a 100000."),
        (
            {"status": "new,abierto"},
            "status",
            "Valor inválido 'abierto'; use uno de: new, open, awaiting_info, resolved, closed, cancelled.",
        ),
        ({"type": "bug"}, "type", "Valor inválido; use uno de: 'request', 'change' o 'incident'."),
        ({"level": 40000}, "level", "Debe ser menor o igual a 32767."),
        ({"sort": "subject"}, "sort", None),
        ({"assignee": "9" * 30}, "assignee", "Id de usuario inválido."),
        ({"assignee": "²"}, "assignee", "Id de usuario inválido."),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(api, params, field, message):
    response = api.get("/cases", as_="agent", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]
    if message:
        assert body["errors"][field] == message


def test_a_page_of_cases_costs_the_same_queries_whatever_its_size(
    api, make_case, agent, soporte, acme_contact, acme, django_assert_max_num_queries
):
    for i in range(30):
        make_case(
            actor=agent,
            organization=acme,
            requester=acme_contact,
            assignee=agent,
            group=soporte,
            subject=f"Caso {i}",
        )
    # A token's first use in a minute also records its last use (one UPDATE); after that:
    for persona in ("agent", "customer"):
        api.get("/organizations", as_=persona)
    # The token, the page's ids, their rows, the count; nothing per row.
    with django_assert_max_num_queries(4):
        assert len(api.get("/cases", as_="agent", params={"limit": 2}).json()["items"]) == 2
    with django_assert_max_num_queries(4):
        assert len(api.get("/cases", as_="agent", params={"limit": 25}).json()["items"]) == 25
    with django_assert_max_num_queries(4):
        assert len(api.get("/cases", as_="customer", params={"limit": 100}).json()["items"]) == 30


# --- updating ---------------------------------------------------------------------------


def test_an_agent_updates_fields_assignee_group_and_status(api, acme_case, agent, soporte):
    response = api.patch(
        f"/cases/{acme_case.number}",
        {
            "subject": "Firma rechazada por certificado",
            "priority": "critical",
            "classification": "public",
            "assignee": agent.pk,
            "group": "soporte",
            "status": "open",
        },
        as_="agent",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == "Firma rechazada por certificado"
    assert body["priority"] == "critical"
    assert body["assignee"] == {"id": agent.pk, "name": "Ana Agente"}
    assert body["group"] == "soporte"
    assert body["status"] == "open"


def test_null_unassigns_and_removes_the_group(api, make_case, agent, soporte, acme):
    case = make_case(actor=agent, organization=acme, assignee=agent, group=soporte)
    response = api.patch(f"/cases/{case.number}", {"assignee": None, "group": None}, as_="agent")
    assert response.status_code == 200
    assert (response.json()["assignee"], response.json()["group"]) == (None, None)


def test_assignee_me_assigns_to_the_caller(api, acme_case, supervisor):
    response = api.patch(f"/cases/{acme_case.number}", {"assignee": "me"}, as_="supervisor")
    assert response.json()["assignee"] == {"id": supervisor.pk, "name": "Sergio Supervisor"}


def test_a_refused_transition_is_409_with_the_reason_in_spanish(api, acme_case, agent):
    cases.change_status(case=acme_case, actor=agent, status="resolved")
    cases.change_status(case=acme_case, actor=agent, status="closed")
    response = api.patch(f"/cases/{acme_case.number}", {"status": "open"}, as_="agent")
    assert response.status_code == 409
    assert response.json() == {
        "code": "transition_refused",
        "detail": "Un caso cerrado no puede cambiar de estado (se pidió «Abierto»).",
        "current": "closed",
        "requested": "open",
    }


def test_skipping_states_lists_what_is_allowed(api, acme_case):
    response = api.patch(f"/cases/{acme_case.number}", {"status": "closed"}, as_="agent")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "No se puede pasar de «Nuevo» a «Cerrado»; desde «Nuevo» se permite: "
        "«En espera de información», «Cancelado», «Abierto», «Resuelto»."
    )


def test_a_customer_cannot_edit_their_case_fields(api, acme_case):
    response = api.patch(f"/cases/{acme_case.number}", {"priority": "critical"}, as_="customer")
    assert response.status_code == 403
    assert response.json()["detail"] == "Un cliente no puede modificar los datos del caso."


def test_a_customer_reopens_their_resolved_case(api, acme_case, agent):
    cases.change_status(case=acme_case, actor=agent, status="resolved")
    response = api.patch(f"/cases/{acme_case.number}", {"status": "open"}, as_="customer")
    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert response.json()["resolved_at"] is None


def test_the_level_is_not_editable_and_null_is_not_a_subject(api, acme_case):
    response = api.patch(
        f"/cases/{acme_case.number}",
        {"level": 2, "subject": None, "status": "abierto"},
        as_="agent",
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["level"] == "Campo desconocido."
    assert errors["subject"] == "Debe ser un texto."
    assert errors["status"].startswith("Valor inválido; use uno de: 'new'")


def test_an_assignee_reference_too_long_to_be_an_email_is_refused(api):
    response = api.post(
        "/cases", {"subject": "Hola", "organization": "acme", "assignee": "a" * 300}, as_="agent"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"assignee": "Admite máximo 254 caracteres."}


# --- What a customer's PATCH may reveal, and header-bound fields ---------------------------


def test_a_customers_assignee_patch_gets_the_same_answer_for_any_email(api, acme_case, agent):
    answers = []
    for email in (agent.email, "nadie-asi@mesa.test", "carla@acme.com.co", "gus@globex.co"):
        r = api.patch(f"/cases/{acme_case.number}", {"assignee": email}, as_="customer")
        answers.append((r.status_code, r.json()))
    assert answers[0][0] == 403
    assert all(answer == answers[0] for answer in answers), answers
    r = api.patch(f"/cases/{acme_case.number}", {"assignee": None}, as_="customer")
    assert (r.status_code, r.json()) == answers[0]


@pytest.mark.parametrize(
    "subject", ["Hola\r\nBcc: victima@example.com", "Hola\nX-Otro: 1", "Hola\rmundo", "a\u2028b"]
)
def test_a_subject_with_line_breaks_is_a_422(api, acme_case, subject):
    r = api.patch(f"/cases/{acme_case.number}", {"subject": subject}, as_="agent")
    assert r.status_code == 422, r.json()
    assert "subject" in r.json()["errors"]
    assert api.get(f"/cases/{acme_case.number}", as_="agent").json()["subject"] != subject


def test_the_service_refuses_a_subject_with_line_breaks_for_every_door(acme_case, agent):
    from atiende.cases import services as case_services
    from atiende.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        case_services.update_case(case=acme_case, actor=agent, subject="Hola\r\nBcc: x@y.z")
    assert "subject" in err.value.errors
