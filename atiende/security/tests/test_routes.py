"""Route coverage: every URL that names an object has a cross-tenant test.

`API` and `PAGES` are the registry: for every API operation and every Django URL pattern
that takes an identifier (case number, note, attachment, contact, organization,
escalation, media link…), either a probe — a request for one of ACME's objects, which
Globex's customer must get as a 404 carrying none of ACME's data, while ACME's own
customer gets past the lookup — or an entry in `PUBLIC_*` saying why the route holds no
tenant's data. `test_every_route_with_an_identifier_is_in_the_registry` fails when a new
route is added without one, so a route without a cross-tenant test breaks the build.

The admin (`admin/…`) is for staff only: every one of its patterns is probed by
`test_the_admin_shows_no_object_to_a_customer`, generated from the URL resolver itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.regex_helper import normalize

from atiende.accounts.models import ApiToken
from atiende.cases import services as cases
from atiende.channels.phone.models import Call
from atiende.channels.whatsapp import media_links
from atiende.core import clock
from atiende.escalations import services as escalations
from atiende.sla import services as sla

pytestmark = pytest.mark.django_db

SECRET_SUBJECT = "Contrato ACME-SECRETO sin firmar"
SECRET_NOTE = "La clave del token es ACME-NOTA-SECRETA"
SECRET_BYTES = b"ACME-BYTES-SECRETOS del adjunto"


@dataclass
class World:
    """ACME's objects, which Globex's customer must never reach."""

    number: str
    note_id: int
    attachment_id: int
    internal_attachment_id: int
    contact_id: int
    escalation_id: int
    media_token: str
    internal_media_token: str
    globex_number: str
    customer_token_id: int
    call_id: int
    leaks: list[str] = field(default_factory=list)


@dataclass
class Probe:
    method: str
    url: str
    body: Any = None
    owner: str = "customer"  # who may reach the object (gets anything but 404)
    session: bool = False  # a page for people: signed in with a session, form posts


@pytest.fixture
def world(api, incident, ladder, clock_at, agent, customer, other_customer, acme_contact):
    case = incident
    case.subject = SECRET_SUBJECT
    case.save(update_fields=["subject"])
    att = cases.add_attachment(
        case=case, filename="contrato.txt", chunks=[SECRET_BYTES], actor=customer
    )
    internal = cases.add_attachment(
        case=case, filename="interno.txt", chunks=[b"solo personal"], actor=agent, public=False
    )
    clock_at.advance(minutes=61)
    sla.sweep()
    request = escalations.request_escalation(
        case=case, actor=customer, to_level=2, reason="Nadie me ha respondido", via="api"
    )
    note = cases.add_note(case=case, body_text=SECRET_NOTE, actor=agent)
    globex_case = cases.open_case(
        actor=other_customer, channel=case.channel, subject="Factura duplicada"
    )
    return World(
        number=case.number,
        note_id=note.pk,
        attachment_id=att.pk,
        internal_attachment_id=internal.pk,
        contact_id=acme_contact.pk,
        escalation_id=request.pk,
        media_token=media_links.link_for(att).split("/")[-2],
        internal_media_token=media_links.link_for(internal).split("/")[-2],
        globex_number=globex_case.number,
        customer_token_id=ApiToken.objects.get(user=customer).pk,
        call_id=Call.objects.create(
            channel=case.channel,
            call_id="acme-call",
            direction="in",
            from_raw="3001234567",
            caller_e164="+573001234567",
            organization=acme_contact.organization,
            contact=acme_contact,
            started_at=clock.now(),
            created_at=clock.now(),
            updated_at=clock.now(),
        ).pk,
        leaks=[
            SECRET_SUBJECT,
            SECRET_NOTE,
            SECRET_BYTES.decode(),
            "ACME S.A.S.",
            "acme.com.co",
            "Pedro Pérez",
            "Nadie me ha respondido",
        ],
    )


# -- The registry ---------------------------------------------------------------------------

ProbeFor = Callable[[World], Probe]

API: dict[tuple[str, str], ProbeFor] = {
    ("get", "/api/v1/cases/{number}"): lambda w: Probe("GET", f"/api/v1/cases/{w.number}"),
    ("patch", "/api/v1/cases/{number}"): lambda w: Probe(
        "PATCH", f"/api/v1/cases/{w.number}", {"status": "closed"}
    ),
    ("get", "/api/v1/cases/{number}/timeline"): lambda w: Probe(
        "GET", f"/api/v1/cases/{w.number}/timeline"
    ),
    ("get", "/api/v1/cases/{number}/sla"): lambda w: Probe("GET", f"/api/v1/cases/{w.number}/sla"),
    ("get", "/api/v1/cases/{number}/notes"): lambda w: Probe(
        "GET", f"/api/v1/cases/{w.number}/notes"
    ),
    ("post", "/api/v1/cases/{number}/notes"): lambda w: Probe(
        "POST", f"/api/v1/cases/{w.number}/notes", {"body": "intruso"}
    ),
    ("get", "/api/v1/cases/{number}/attachments"): lambda w: Probe(
        "GET", f"/api/v1/cases/{w.number}/attachments"
    ),
    ("post", "/api/v1/cases/{number}/attachments"): lambda w: Probe(
        "UPLOAD", f"/api/v1/cases/{w.number}/attachments"
    ),
    ("get", "/api/v1/cases/{number}/attachments/{attachment_id}/download"): lambda w: Probe(
        "GET", f"/api/v1/cases/{w.number}/attachments/{w.attachment_id}/download"
    ),
    ("get", "/api/v1/cases/{number}/escalations"): lambda w: Probe(
        "GET", f"/api/v1/cases/{w.number}/escalations"
    ),
    ("post", "/api/v1/cases/{number}/escalations"): lambda w: Probe(
        "POST", f"/api/v1/cases/{w.number}/escalations", {"to_level": 2, "reason": "intruso"}
    ),
    ("get", "/api/v1/cases/{number}/escalation-eligibility"): lambda w: Probe(
        "GET", f"/api/v1/cases/{w.number}/escalation-eligibility"
    ),
    ("get", "/api/v1/escalations/{request_id}"): lambda w: Probe(
        "GET", f"/api/v1/escalations/{w.escalation_id}"
    ),
    ("post", "/api/v1/escalations/{request_id}/decision"): lambda w: Probe(
        "POST",
        f"/api/v1/escalations/{w.escalation_id}/decision",
        {"decision": "reject", "reason": "intruso"},
    ),
    ("get", "/api/v1/contacts/{contact_id}"): lambda w: Probe(
        "GET", f"/api/v1/contacts/{w.contact_id}"
    ),
    ("patch", "/api/v1/contacts/{contact_id}"): lambda w: Probe(
        "PATCH", f"/api/v1/contacts/{w.contact_id}", {"name": "intruso"}
    ),
    ("post", "/api/v1/cases/{number}/notes/{note_id}/confirm"): lambda w: Probe(
        "POST", f"/api/v1/cases/{w.number}/notes/{w.note_id}/confirm", {}, owner="agent"
    ),
    ("post", "/api/v1/tokens/{token_id}/revoke"): lambda w: Probe(
        "POST", f"/api/v1/tokens/{w.customer_token_id}/revoke", {}
    ),
    ("get", "/api/v1/calls/{call_id}"): lambda w: Probe("GET", f"/api/v1/calls/{w.call_id}"),
    ("get", "/api/v1/calls/{call_id}/pop"): lambda w: Probe(
        "GET", f"/api/v1/calls/{w.call_id}/pop", owner="agent"
    ),
    ("post", "/api/v1/calls/{call_id}/case"): lambda w: Probe(
        "POST", f"/api/v1/calls/{w.call_id}/case", {"case": w.number}, owner="agent"
    ),
    ("post", "/api/v1/contacts/{contact_id}/invite"): lambda w: Probe(
        "POST", f"/api/v1/contacts/{w.contact_id}/invite", {}, owner="agent"
    ),
    ("get", "/api/v1/organizations/{slug}"): lambda w: Probe("GET", "/api/v1/organizations/acme"),
    ("patch", "/api/v1/organizations/{slug}"): lambda w: Probe(
        "PATCH", "/api/v1/organizations/acme", {"name": "intruso"}
    ),
}

# More probes for the same operations: an object of ACME's under a path of Globex's own.
API_MIXED: dict[str, ProbeFor] = {
    "acme attachment under globex case": lambda w: Probe(
        "GET",
        f"/api/v1/cases/{w.globex_number}/attachments/{w.attachment_id}/download",
        owner="nobody",
    ),
}

PUBLIC_API: dict[tuple[str, str], str] = {
    ("get", "/api/v1/schedules/{schedule_id}"): (
        "horarios de atención: configuración pública de la mesa, sin datos de ninguna organización"
    ),
    ("get", "/api/v1/schedules/{schedule_id}/due"): "cálculo sobre un horario público",
    ("get", "/api/v1/schedules/{schedule_id}/elapsed"): "cálculo sobre un horario público",
    ("get", "/api/v1/schedules/{schedule_id}/open"): "cálculo sobre un horario público",
}

PAGES: dict[str, ProbeFor] = {
    # The signed token is the credential (Meta fetches without signing in): a token
    # altered to name another attachment, or one for an internal attachment, is a 404.
    "whatsapp-media-link": lambda w: Probe(
        "GET",
        f"/webhooks/whatsapp/media/{_retarget(w.media_token, w.internal_attachment_id)}/x",
        owner="nobody",  # the valid token: test_the_media_link_serves_the_public_attachment…
    ),
}
# The customers' portal (#14): every case page and action, signed in as Globex's customer.
PAGES.update(
    {
        "portal:case": lambda w: Probe("GET", f"/portal/cases/{w.number}", session=True),
        "portal:comment": lambda w: Probe(
            "POST", f"/portal/cases/{w.number}/comment", {"body": "intruso"}, session=True
        ),
        "portal:escalate": lambda w: Probe(
            "POST", f"/portal/cases/{w.number}/escalate", {"reason": "intruso"}, session=True
        ),
        "portal:reopen": lambda w: Probe(
            "POST", f"/portal/cases/{w.number}/reopen", {}, session=True
        ),
        "portal:close": lambda w: Probe(
            "POST", f"/portal/cases/{w.number}/close", {}, session=True
        ),
        "portal:rate": lambda w: Probe(
            "POST", f"/portal/cases/{w.number}/rate", {"score": "1"}, session=True
        ),
        "portal:add_follower": lambda w: Probe(
            "POST", f"/portal/cases/{w.number}/followers", {"email": "gus@globex.co"}, session=True
        ),
        # Nobody follows the world's case: the owner's own 404 is for the missing follower
        # (portal/tests/test_portal.py probes it with a follower in place).
        "portal:remove_follower": lambda w: Probe(
            "POST",
            f"/portal/cases/{w.number}/followers/{w.contact_id}/remove",
            {},
            owner="nobody",
            session=True,
        ),
        "portal:download": lambda w: Probe(
            "GET", f"/portal/cases/{w.number}/attachments/{w.attachment_id}", session=True
        ),
    }
)
PAGES_MIXED: dict[str, ProbeFor] = {
    "media link of an internal attachment": lambda w: Probe(
        "GET", f"/webhooks/whatsapp/media/{w.internal_media_token}/interno.txt", owner="nobody"
    ),
}

CONSOLE_STAFF_ONLY = (
    "la consola es solo para el personal: un cliente recibe 404 (console/access.py); "
    "console/tests/test_collab.py, test_merge.py, test_incidents.py, test_notifications.py"
)

PUBLIC_PAGES: dict[str, str] = {
    # Console pages: staff only (a customer's session gets 404 before any lookup; the
    # probes here use API tokens, which the console does not accept).
    "console:case_presence": CONSOLE_STAFF_ONLY,
    "console:case_merge": CONSOLE_STAFF_ONLY,
    "console:case_link_incident": CONSOLE_STAFF_ONLY,
    "console:case_unlink_incident": CONSOLE_STAFF_ONLY,
    "console:incident": CONSOLE_STAFF_ONLY,
    "console:notification_read": CONSOLE_STAFF_ONLY,
    "api-v1:unknown_path": "respuesta 404 de la API para rutas que no existen; no busca objetos",
    "cti-webhook": (
        "entrada de la central telefónica: el token de la línea es la credencial (401 sin él) "
        "y no devuelve datos de nadie (channels/phone/tests/test_webhook.py)"
    ),
    # The console's case page (#13) is for staff only, who see every organization's cases
    # (as in the API); a customer of any organization gets 404 on every route, with none
    # of the case's data (console/tests/test_case_page.py::test_a_customer_gets_404_…), and
    # an object of another case under this case's number is 404 (…_is_404_under_this_case).
    "console:case": "solo personal; un cliente recibe 404 (console/tests/test_case_page.py)",
    "console:case_reply": "solo personal; un cliente recibe 404 (console/tests/test_case_page.py)",
    "console:case_confirm_note": "solo personal; nota de otro caso: 404 (test_case_page.py)",
    "console:case_assign": "solo personal; un cliente recibe 404 (console/tests/test_case_page.py)",
    "console:case_fields": "solo personal; un cliente recibe 404 (console/tests/test_case_page.py)",
    "console:case_escalate": "solo personal; un cliente recibe 404 (console/tests/test_case_page.py)",
    "console:case_decide_escalation": "solo personal; solicitud de otro caso: 404 (test_case_page.py)",
    "console:case_attachment": "solo personal; adjunto de otro caso: 404 (test_case_page.py)",
    "portal:invitation": (
        "el enlace de invitación de un solo uso es la credencial; uno desconocido, usado, "
        "reemplazado o vencido es un 404 sin decir de quién era (portal/tests/test_portal.py)"
    ),
    "console:call_case": (
        "consola, solo personal: un cliente recibe 404 (access.agent_required) y ninguna "
        "llamada; probado en console/tests/test_calls.py"
    ),
    "console:call_done": (
        "consola, solo personal: un cliente recibe 404 (access.agent_required); probado en "
        "console/tests/test_calls.py"
    ),
    "ops-healthz": "sondeo de vida del proceso para balanceadores; no lee datos (ops/views.py)",
    "ops-readyz": (
        "sondeo de disponibilidad: solo estados de base de datos, migraciones, trabajador y "
        "cola, sin datos de ninguna organización (ops/health.py)"
    ),
    "ops-metrics": (
        "cifras agregadas sin datos de organizaciones; solo desde esta máquina o con el token "
        "ATIENDE_METRICS_TOKEN (ops/tests/test_metrics.py)"
    ),
    "accounts:password_reset_confirm": (
        "el enlace firmado de un solo uso es la credencial; uno alterado, usado o vencido se "
        "rechaza sin decir si la cuenta existe (accounts/tests/test_signin.py)"
    ),
}


def _retarget(token: str, attachment_id: int) -> str:
    """The media token with its attachment id swapped, keeping the old signature."""
    payload, _, signature = token.partition(":")
    data = signing.b64_decode(payload.encode())
    forged = re.sub(rb'"a":\d+', b'"a":%d' % attachment_id, data)
    return signing.b64_encode(forged).decode() + ":" + signature


# -- Enumerating the routes -----------------------------------------------------------------


def _patterns(patterns=None, prefix="", namespace=""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = namespace + (f"{p.namespace}:" if p.namespace else "")
            yield from _patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), namespace + (p.name or ""), p


def _with_parameters():
    return [(route, name) for route, name, _ in _patterns() if "<" in route or "(?P" in route]


def _api_operations(client: Client) -> set[tuple[str, str]]:
    schema = client.get("/api/v1/schema").json()
    return {
        (method, path) for path, item in schema["paths"].items() for method in item if "{" in path
    }


def test_every_route_with_an_identifier_is_in_the_registry(db):
    client = Client()
    operations = _api_operations(client)
    missing = sorted(op for op in operations if op not in API and op not in PUBLIC_API)
    assert missing == [], f"API operations without a cross-tenant test: {missing}"
    assert not set(API) & set(PUBLIC_API)
    assert set(API) | set(PUBLIC_API) <= operations, "registry names operations that are gone"

    api_paths = {path for _, path in operations}
    unregistered = []
    for route, name in _with_parameters():
        if name.startswith("admin:"):
            continue  # probed pattern by pattern below
        if name.startswith("api-v1:") and name not in PUBLIC_PAGES:
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            if path not in api_paths:
                unregistered.append(route)
            continue
        if name not in PAGES and name not in PUBLIC_PAGES:
            unregistered.append(f"{route} ({name or 'sin nombre'})")
    assert unregistered == [], f"URL patterns without a cross-tenant test: {unregistered}"


def _call(client: Client, probe: Probe, token: str | None):
    if probe.session:
        from atiende.accounts.services import user_for_token

        client.force_login(user_for_token(token))
        if probe.method == "GET":
            return client.get(probe.url)
        return client.post(probe.url, probe.body or {})
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if probe.method == "UPLOAD":
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(
            probe.url, {"file": SimpleUploadedFile("x.txt", b"intruso")}, headers=headers
        )
    if probe.method == "GET":
        return client.get(probe.url, headers=headers)
    import json

    return client.generic(
        probe.method,
        probe.url,
        json.dumps(probe.body),
        content_type="application/json",
        headers=headers,
    )


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


ALL_PROBES = (
    [pytest.param(f, id=f"{m.upper()} {p}") for (m, p), f in API.items()]
    + [pytest.param(f, id=name) for name, f in API_MIXED.items()]
    + [pytest.param(f, id=name) for name, f in PAGES.items()]
    + [pytest.param(f, id=name) for name, f in PAGES_MIXED.items()]
)


@pytest.mark.parametrize("probe_for", ALL_PROBES)
def test_another_organizations_customer_gets_404_and_no_data(probe_for, world, tokens):
    probe = probe_for(world)
    response = _call(Client(), probe, tokens["other_customer"])
    body = _body(response)
    assert response.status_code == 404, (probe, response.status_code, body[:300])
    for secret in world.leaks:
        assert secret not in body
    if probe.owner != "nobody":
        # The object exists and its owner gets past the lookup: the 404 is about tenancy.
        owner = _call(Client(), probe, tokens[probe.owner])
        assert owner.status_code != 404, (probe, owner.status_code, _body(owner)[:300])


def test_the_media_link_serves_the_public_attachment_with_its_own_token(world):
    response = Client().get(f"/webhooks/whatsapp/media/{world.media_token}/contrato.txt")
    assert response.status_code == 200
    assert _body(response).encode() == SECRET_BYTES


def _admin_urls() -> list[str]:
    urls = []
    for route, name, pattern in _patterns():
        if not name.startswith("admin:") or ("<" not in route and "(?P" not in route):
            continue
        regex = pattern.pattern.regex.pattern if "(?P" in route else None
        if regex is None:
            urls.append("/" + re.sub(r"<(?:\w+:)?\w+>", "1", route))
        else:
            prefix = route[: route.index(str(pattern.pattern))]
            form, params = normalize(regex)[0]
            filled = form % {p: ("cases" if p == "app_label" else "1") for p in params}
            urls.append("/" + prefix + filled)
    return urls


def test_the_admin_shows_no_object_to_a_customer(world, customer, other_customer):
    urls = _admin_urls()
    assert len(urls) > 20  # every model's change, delete and history pages, at least
    client = Client()
    for user in (customer, other_customer):
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            body = _body(response)
            assert response.status_code in (302, 404), (url, response.status_code)
            if response.status_code == 302:
                assert "/admin/login/" in response["Location"], url
            for secret in world.leaks:
                assert secret not in body, url
