"""Fixtures of the portal's tests: the reference configuration (the portal channel, its
hours, the escalation ladder's texts), two organizations' customers and the ladder."""

from __future__ import annotations

import pytest

from atiende.accounts import services as accounts
from atiende.escalations.tests.fixtures import *  # noqa: F403


@pytest.fixture
def colleague(acme):
    return accounts.create_user(
        email="pedro@acme.com.co",
        name="Pedro Pérez",
        role="customer",
        organization="acme",
        password="clave-segura-1",
    )


@pytest.fixture
def globex_user(globex):
    return accounts.create_user(
        email="gina@globex.co",
        name="Gina Globex",
        role="customer",
        organization="globex",
        password="clave-segura-1",
    )


from atiende.api.tests.conftest import acme_contact, api  # noqa: E402, F401 (fixtures)
