"""API test helpers: `api.get("/cases", as_="customer")` calls /api/v1 as a persona."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from atiende.cases import services as cases
from atiende.customers import services as customers


class ApiClient:
    def __init__(self, client: Client, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = None,
        token: str | None = None,
        json_body: Any = None,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        params: dict[str, Any] | None = None,
        **extra: Any,
    ):
        headers = {}
        token = token if token is not None else (self.tokens[as_] if as_ else None)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = "/api/v1" + path
        if method == "GET":
            return self.client.get(url, params or {}, headers=headers, **extra)
        data = raw if raw is not None else ("" if json_body is None else json.dumps(json_body))
        return self.client.generic(
            method, url, data, content_type=content_type, headers=headers, **extra
        )

    def get(self, path: str, **kw: Any):
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any):
        return self.call("POST", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any):
        return self.call("PATCH", path, json_body=body, **kw)

    def upload(self, path: str, filename: str, content: bytes, *, as_: str, **fields: Any):
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {"file": SimpleUploadedFile(filename, content), **fields}
        return self.client.post(
            "/api/v1" + path, data, headers={"Authorization": f"Bearer {self.tokens[as_]}"}
        )


@pytest.fixture
def api(tokens, api_channel, portal) -> ApiClient:
    return ApiClient(Client(), tokens)


@pytest.fixture
def make_case(portal, customer, acme):
    """A case opened by ACME's customer through the portal (override anything by keyword)."""

    def make(**fields: Any):
        fields.setdefault("actor", customer)
        fields.setdefault("channel", portal)
        fields.setdefault("subject", "No puedo firmar el documento")
        fields.setdefault("type", "incident")
        fields.setdefault("priority", "high")
        return cases.open_case(**fields)

    return make


@pytest.fixture
def acme_case(make_case):
    return make_case()


@pytest.fixture
def globex_case(make_case, other_customer):
    return make_case(
        actor=other_customer, subject="Factura duplicada", type="request", priority="low"
    )


@pytest.fixture
def acme_contact(acme):
    return customers.create_contact(
        name="Pedro Pérez", organization=acme, emails=["pedro@acme.com.co"]
    )


@pytest.fixture
def globex_contact(globex):
    return customers.create_contact(
        name="Greta Globex", organization=globex, emails=["greta@globex.co"]
    )
