import pytest
from django.test import Client

from atiende.accounts import services as accounts
from atiende.accounts.models import ApiToken
from atiende.core import clock


def test_a_request_without_a_token_is_401_in_the_api_error_format(api):
    response = api.get("/cases")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {
        "code": "unauthenticated",
        "detail": "Se requiere autenticación: envíe el encabezado «Authorization: Bearer <token>».",
    }


@pytest.mark.parametrize("token", ["atd_no-existe", "otra-cosa", ""])
def test_a_bad_token_is_401(api, token):
    response = api.get("/cases", token=token)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_is_401(api, tokens):
    ApiToken.objects.update(revoked_at=clock.now())
    assert api.get("/cases", as_="agent").status_code == 401


def test_an_inactive_users_token_is_401(api, agent):
    agent.is_active = False
    agent.save()
    assert api.get("/cases", as_="agent").status_code == 401


def test_every_private_endpoint_needs_authentication(api, acme_case):
    number = acme_case.number
    calls = [
        ("GET", "/organizations"),
        ("POST", "/organizations"),
        ("GET", "/organizations/acme"),
        ("PATCH", "/organizations/acme"),
        ("GET", "/contacts"),
        ("POST", "/contacts"),
        ("GET", "/contacts/1"),
        ("PATCH", "/contacts/1"),
        ("GET", "/cases"),
        ("POST", "/cases"),
        ("GET", f"/cases/{number}"),
        ("PATCH", f"/cases/{number}"),
        ("GET", f"/cases/{number}/notes"),
        ("POST", f"/cases/{number}/notes"),
        ("GET", f"/cases/{number}/attachments"),
        ("POST", f"/cases/{number}/attachments"),
        ("GET", f"/cases/{number}/attachments/1/download"),
        ("GET", f"/cases/{number}/timeline"),
        ("GET", "/tokens"),
        ("POST", "/tokens/1/revoke"),
    ]
    for method, path in calls:
        response = api.call(method, path, json_body={})
        assert response.status_code == 401, (method, path)


def test_a_token_issued_for_a_user_authenticates_as_that_user(api, agent):
    token = accounts.issue_token(user=agent, name="integración")
    response = api.patch("/cases/CS0000001", {"subject": "x"}, token=token)
    assert response.status_code == 404  # authenticated: the case simply does not exist


def test_a_signed_in_session_can_read_without_a_token(api, agent, acme_case):
    client = Client()
    client.force_login(agent)
    response = client.get(f"/api/v1/cases/{acme_case.number}")
    assert response.status_code == 200
    assert response.json()["number"] == acme_case.number


def test_a_session_write_without_csrf_token_is_refused(agent, acme_case, api_channel):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.patch(
        f"/api/v1/cases/{acme_case.number}",
        '{"subject": "Nuevo asunto"}',
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_a_session_write_with_the_csrf_token_goes_through(agent, acme_case, api_channel):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    secret = "k" * 32  # any well-formed secret: the cookie and the header must agree
    client.cookies["csrftoken"] = secret
    response = client.patch(
        f"/api/v1/cases/{acme_case.number}",
        '{"subject": "Nuevo asunto"}',
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert response.status_code == 200
    assert response.json()["subject"] == "Nuevo asunto"


def test_malformed_json_is_400_in_the_api_error_format(api):
    response = api.post("/cases", raw='{"subject": ', as_="agent")
    assert response.status_code == 400
    assert response.json() == {
        "code": "bad_request",
        "detail": "No se pudo interpretar el cuerpo de la petición; envíe JSON válido.",
        "errors": {"body": "JSON inválido."},
    }


def test_a_body_that_is_not_an_object_is_422(api):
    response = api.post("/cases", raw="[1, 2]", as_="agent")
    assert response.status_code == 422
    assert response.json()["errors"] == {"body": "Debe ser un objeto JSON."}


def test_validation_errors_are_422_keyed_by_field_in_spanish(api):
    response = api.post(
        "/cases", {"subject": 5, "type": "bug", "priority": None, "color": "rojo"}, as_="agent"
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid",
        "detail": "Datos inválidos.",
        "errors": {
            "subject": "Debe ser un texto.",
            "type": "Valor inválido; use uno de: 'request', 'change' o 'incident'.",
            "color": "Campo desconocido.",
        },
    }


def test_a_missing_required_field_is_named(api):
    response = api.post("/cases", {"description": "sin asunto"}, as_="agent")
    assert response.status_code == 422
    assert response.json()["errors"] == {"subject": "Este campo es obligatorio."}


def test_nested_list_items_are_named_by_position(api):
    response = api.post(
        "/organizations", {"slug": "x", "name": "X", "email_domains": ["ok.co", 3]}, as_="agent"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"email_domains.1": "Debe ser un texto."}


def test_service_validation_errors_keep_their_field_messages(api):
    response = api.post("/organizations", {"slug": "No Vale", "name": " "}, as_="agent")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "No se pudo crear la organización."
    assert body["errors"] == {
        "slug": "Use minúsculas, números y guiones (p. ej. 'acme-sas').",
        "name": "El nombre es obligatorio.",
    }


def test_nul_characters_are_a_422_not_a_database_error(api, acme_case):
    response = api.post("/cases", {"subject": "hola\x00", "organization": "acme"}, as_="agent")
    assert response.status_code == 422
    assert response.json()["errors"] == {"subject": "No se admiten caracteres nulos."}
    assert api.get("/cases", as_="agent", params={"q": "a\x00b"}).status_code == 422


def test_lone_surrogates_are_a_422_not_an_encoding_error(api, acme):
    response = api.post(
        "/cases", raw='{"subject": "hola \\ud800", "organization": "acme"}', as_="agent"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"subject": "El texto contiene caracteres inválidos."}


@pytest.mark.parametrize("contact_id", ["abc", "0", "-3", "99999999999999999999999"])
def test_bad_ids_in_the_path_are_422(api, contact_id):
    response = api.get(f"/contacts/{contact_id}", as_="agent")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["contact_id"]


def test_an_unknown_case_number_is_404_in_the_api_error_format(api):
    response = api.get("/cases/CS9999999", as_="agent")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No existe el caso CS9999999."}


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("/casos", as_="agent")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No existe ese recurso de la API."}
    assert api.get("/cases/CS0000001/comentarios").json()["code"] == "not_found"


def test_an_unsupported_method_on_a_known_path_is_405(api, acme_case):
    assert api.call("DELETE", f"/cases/{acme_case.number}", as_="agent").status_code == 405
    assert api.call("PUT", "/cases", as_="agent", json_body={}).status_code == 405
