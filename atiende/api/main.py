"""The REST API, /api/v1/: django-ninja routers per resource, one auth, one error format.

Every operation needs a bearer token (or a signed-in session) except the public channel
sheet and escalation ladder. See docs/api.md.
"""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest
from ninja import NinjaAPI, Router
from ninja.openapi.docs import Swagger

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


class LocalSwagger(Swagger):
    """The docs page with the Swagger UI from our static files. django-ninja renders that
    page only when it is an installed app, and otherwise one that loads the UI from a CDN,
    which the CSP refuses; it is not installed so that django.setup() does not import it
    (settings.NINJA_DIR). Its "CDN" page is therefore the local one."""

    template_cdn = str(Path(Swagger.template_cdn).with_name("swagger.html"))


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
    docs=LocalSwagger(),
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
