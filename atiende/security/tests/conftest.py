"""Fixtures of the hostile-input and fault suite: the API's personas and cases, and the
escalation ladder, the email and WhatsApp channels with their real peers, reused from the apps' own test fixtures."""

from atiende.api.tests.conftest import (  # noqa: F401 (fixtures)
    ApiClient,
    acme_case,
    acme_contact,
    api,
    globex_case,
    globex_contact,
    make_case,
)
from atiende.channels.email.tests.conftest import correo, smtp_sender  # noqa: F401 (fixtures)
from atiende.channels.whatsapp.tests.conftest import (  # noqa: F401 (fixtures)
    _frozen,
    graph,
    meta,
    monitoreo,
)
from atiende.escalations.tests.fixtures import *  # noqa: F403
