"""The REST API, /api/v1/: django-ninja routers per resource, one auth, one error format.

Every operation needs a bearer token (or a signed-in session) except the public channel
sheet and escalation ladder. See docs/api.md.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Router

from atiende.channels.phone import api as phone_api
from atiende.core.errors import NotFound

from . import (
    attachments,
    cases,
    contacts,
    errors,
    escalations,
    notes,
    organizations,
    public,
    reports,
    sla,
    tokens,
)
from .auth import AUTH

api = NinjaAPI(
    title="atiende",
    version="1",
    description=(
        "Mesa de ayuda omnicanal. Autenticación: `Authorization: Bearer <token>`. "
        'Errores: `{"code", "detail", "errors"?}`. Listas: `{"items", "count"}`. '
        "Guía: docs/api.md."
    ),
    urls_namespace="api-v1",
    openapi_url="/schema",
    auth=AUTH,
)
errors.install(api)

for module in (
    public,
    sla,
    organizations,
    contacts,
    cases,
    notes,
    attachments,
    escalations,
    tokens,
):
    api.add_router("", module.router)
api.add_router("", phone_api.router)  # the phone channel's call log (channels/phone/api.py)
api.add_router("", reports.router)  # the service manager's reports (api/reports.py)

# Last, so it only sees what no operation matched: an unknown path is a 404 in the API's
# format rather than Django's HTML page.
fallback = Router()


@fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def unknown_path(request: HttpRequest, rest: str) -> None:
    raise NotFound("No existe ese recurso de la API.")


api.add_router("", fallback)
