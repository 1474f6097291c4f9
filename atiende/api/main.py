"""The REST API, /api/v1/: django-ninja routers per resource, one auth, one error format.

Every operation needs a bearer token (or a signed-in session) except the public channel
sheet and escalation ladder. See docs/api.md.
"""

from __future__ import annotations

from ninja import NinjaAPI

from . import attachments, cases, contacts, errors, notes, organizations, public
from .auth import AUTH

api = NinjaAPI(
    title="atiende",
    version="1",
    description="Mesa de ayuda omnicanal. Errores: {code, detail, errors?}; listas: {items, count}.",
    urls_namespace="api-v1",
    openapi_url="/schema",
    auth=AUTH,
)
errors.install(api)

for module in (public, organizations, contacts, cases, notes, attachments):
    api.add_router("", module.router)
