"""A small help desk for the queue and search tests: two agents in a support group, a
supervisor responsible for level 2, ACME's and Globex's cases in every queue, a clock frozen
on a Wednesday morning in Bogotá."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from atiende.accounts import services as accounts
from atiende.accounts.models import SupportGroup, User
from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.core import clock
from atiende.customers import services as customers
from atiende.escalations.models import EscalationLevel

BOGOTA = ZoneInfo("America/Bogota")
T0 = dt.datetime(2026, 3, 4, 9, 0, tzinfo=BOGOTA)  # a Wednesday, inside business hours


@dataclass
class World:
    clock: clock.FrozenClock
    ana: User
    beto: User
    supervisor: User
    group: SupportGroup
    mine: Case
    unassigned: Case
    critical: Case
    awaiting: Case
    cancelled: Case
    globex: Case


@pytest.fixture(name="world")
def world_fixture(sla_targets, portal, email_channel, acme, globex, supervisor):
    with clock.frozen(T0) as frozen:
        group = SupportGroup.objects.create(slug="soporte", name="Soporte técnico")
        ana = accounts.create_user(
            email="ana.agente@mesa.test", name="Ana Agente", role="agent", password="clave-segura-1"
        )
        beto = accounts.create_user(email="beto@mesa.test", name="Beto Bernal", role="agent")
        group.members.add(ana, beto)
        EscalationLevel.objects.create(number=1, name="Primer nivel", title="Soporte", group=group)
        EscalationLevel.objects.create(number=2, name="Segundo nivel", title="Supervisor")
        pedro = customers.create_contact(
            name="Pedro Pérez", organization=acme, emails=["pedro@acme.com.co"]
        )
        gus = customers.create_contact(name="Gustavo Gómez", organization=globex)

        def open_(subject, **kw):
            kw.setdefault("type", "request")
            kw.setdefault("priority", "moderate")
            kw.setdefault("requester", pedro)
            kw.setdefault("channel", email_channel)
            return cases.open_case(actor=ana, subject=subject, acknowledge=False, **kw)

        mine = open_("Error de facturación en el portal", assignee=ana)
        unassigned = open_("Renovación del certificado de firma", group=group)
        critical = open_(
            "Caída total del servicio de firma",
            type="incident",
            priority="critical",
            channel=portal,
        )
        awaiting = open_("Cambio de correo del representante", assignee=beto)
        cases.change_status(case=awaiting, actor=beto, status="awaiting_info")
        cancelled = open_("Solicitud duplicada", assignee=ana)
        cases.change_status(case=cancelled, actor=ana, status="cancelled")
        other = open_("Token bloqueado", requester=gus)
        yield World(
            frozen,
            ana,
            beto,
            supervisor,
            group,
            mine,
            unassigned,
            critical,
            awaiting,
            cancelled,
            other,
        )
