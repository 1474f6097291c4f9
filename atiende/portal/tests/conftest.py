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


def mails():
    """The notifications queued so far: runs the pending "notify" jobs (which write one
    Notification row per recipient, as the worker would) and returns the rows."""
    from atiende.channels.jobs import notify
    from atiende.channels.models import Notification
    from atiende.worker.models import Job

    for job in Job.objects.filter(kind="notify").order_by("id"):
        notify(job.payload)
        job.delete()
    return Notification.objects
