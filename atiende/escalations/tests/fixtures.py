"""The escalation ladder for tests: the reference levels 1-4 and one person per level.

Level 1 is the `soporte-tecnico` group (persona `agent` is a member), level 2 is persona
`supervisor` (mapped with `level=2`), level 3 `coordinator`, level 4 `director`.
Import with `from atiende.escalations.tests.fixtures import *`.
"""

from __future__ import annotations

import datetime as dt

import pytest

from atiende.accounts import services as accounts
from atiende.core import clock
from atiende.escalations.models import EscalationLevel

# Tuesday 1 December 2026, 10:00 in Bogotá: a working day, inside business hours.
TUESDAY_10AM = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)

__all__ = ["clock_at", "coordinator", "director", "incident", "ladder", "level_of"]


@pytest.fixture
def clock_at():
    with clock.frozen(TUESDAY_10AM) as frozen:
        yield frozen


@pytest.fixture
def ladder(db, agent, supervisor):
    group = accounts.ensure_group(
        slug="soporte-tecnico", name="Grupo de soporte técnico", email="mesadeayuda@certicamara.com"
    )
    group.members.add(agent)
    rows = [
        EscalationLevel.objects.create(
            number=1,
            name="Primer escalamiento",
            title="Grupo de soporte técnico",
            group=group,
            contacts=[
                {"kind": "email", "value": "mesadeayuda@certicamara.com"},
                {"kind": "whatsapp", "value": "+573168731648"},
            ],
        ),
        EscalationLevel.objects.create(
            number=2,
            name="Segundo escalamiento",
            title="Supervisor de servicio de soporte técnico",
            responsible_name="Orlando Méndez",
            contacts=[
                {"kind": "email", "value": "supervisor.mesadeayuda@certicamara.com"},
                {"kind": "email", "value": "orlando.mendez@certicamara.com"},
            ],
        ),
        EscalationLevel.objects.create(
            number=3,
            name="Tercer escalamiento",
            title="Coordinación de servicio de soporte a clientes",
            responsible_name="Nelson Calderón",
            contacts=[
                {"kind": "email", "value": "nelson.calderon@certicamara.com"},
                {"kind": "whatsapp", "value": "3187174937"},
            ],
        ),
        EscalationLevel.objects.create(
            number=4,
            name="Cuarto escalamiento",
            title="Director de Infraestructura y Soporte",
            responsible_name="Iván Rodríguez",
            contacts=[
                {"kind": "email", "value": "ivan.rodriguez@certicamara.com"},
                {"kind": "phone", "value": "+573222197967"},
            ],
        ),
    ]
    return {row.number: row for row in rows}


@pytest.fixture
def coordinator(db):
    return accounts.create_user(
        email="nelson@mesa.test", name="Nelson Calderón", role="supervisor", level=3
    )


@pytest.fixture
def director(db):
    return accounts.create_user(
        email="ivan@mesa.test", name="Iván Rodríguez", role="supervisor", level=4
    )


@pytest.fixture
def level_of(ladder, agent, supervisor, coordinator, director):
    """The responsible person of each level."""
    return {1: agent, 2: supervisor, 3: coordinator, 4: director}


@pytest.fixture
def incident(portal, customer, sla_targets, clock_at):
    """A high-priority incident ACME's customer opened on the portal at TUESDAY_10AM:
    first response due in 1 h, resolution in 8 h, on 24x7 (incidents on the portal)."""
    from atiende.cases import services as cases

    return cases.open_case(
        actor=customer,
        channel=portal,
        subject="No puedo firmar el documento",
        description="El firmador muestra un error 500.",
        type="incident",
        priority="high",
    )
