"""Fixtures of the case page's tests: the ladder, an email channel with a real SMTP peer,
the WhatsApp channels with the local Graph API peer, and cases on them."""

from __future__ import annotations

import pytest

from atiende.api.tests.conftest import (  # noqa: F401 (fixtures)
    acme_contact,
    api,
    globex_contact,
    make_case,
)
from atiende.cases import services as cases
from atiende.channels.email.tests.conftest import (  # noqa: F401 (fixtures)
    correo,
    smtp_sender,
    smtp_server,
)
from atiende.channels.whatsapp.tests.conftest import corporativo, graph  # noqa: F401 (fixtures)
from atiende.escalations.tests.fixtures import *  # noqa: F403


@pytest.fixture
def acme_incident(incident):
    """ACME's high incident opened on the portal (first response in 1 h, 24x7)."""
    return incident


@pytest.fixture
def email_case(correo, acme_contact, sla_targets, clock_at):  # noqa: F811
    """A request that came by email from ACME's Pedro."""
    return cases.open_case(
        actor=None,
        channel=correo,
        subject="No puedo descargar el certificado",
        description="Me sale un error al descargar.",
        type="request",
        priority="high",
        requester=acme_contact,
        acknowledge=False,
    )
