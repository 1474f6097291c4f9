"""A small week of help-desk life whose figures are computed by hand in docs/reports.md
("The test week") and asserted in test_reports.py.

Local times (America/Bogota); `horario-habil` is Mon-Fri 07-19, Sat 08-13; targets for
request/high: first response 1 h, resolution 8 h (business); incident/critical: 15 min and
4 h on 24x7. Week of Monday 2026-11-23 (no holidays).

- A (correo, request/high, ACME): opened Mon 09:00 by an inbound email; public reply 09:30
  (first response met, 1800 s); resolved 11:00 (resolution met, 7200 s).
- B (correo, request/high, ACME): email Mon 21:00 (closed); clock starts Tue 07:00; reply
  Tue 09:00 (7200 s: breached); resolution due Tue 15:00, breached by the sweep.
- C (portal, request/high, ACME): opened by the customer Tue 10:00; never answered: both
  clocks breached by the sweep.
- D (correo, incident/critical, Globex): email Sat 14:00 (correo closed); 24x7 clocks; reply
  14:10 (600 s, met); resolution still running at the end (Sat 15:00).
- Phone line `linea`: missed call Tue 20:00 (closed) from +573001112233, called back Wed
  08:00 (1 business hour); answered call Wed 10:00; missed call Thu 11:00 from
  +573009998877, never called back.
- Escalations: A 1→2 requested Mon 10:00, accepted 11:00; B 1→2 automatic Tue 16:00,
  rejected 17:00 "Sin fundamento"; A 2→3 requested Mon 12:00, pending.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from atiende.cases import services as cases
from atiende.channels.phone.models import Call
from atiende.core import clock
from atiende.customers import services as customers
from atiende.escalations.models import EscalationRequest
from atiende.sla import services as sla

BOGOTA = ZoneInfo("America/Bogota")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=BOGOTA)


END = at(28, 15)
WEEK = {"from": "2026-11-23", "to": "2026-11-29"}


def _call(line, number, started, *, direction="in", missed=False, case=None):
    return Call.objects.create(
        channel=line,
        call_id=f"{number}-{started.isoformat()}",
        direction=direction,
        caller_e164=number,
        from_e164=number if direction == "in" else "",
        to_e164=number if direction == "out" else "",
        state="ended",
        missed=missed,
        started_at=started,
        ended_at=started + dt.timedelta(minutes=2),
        case=case,
        created_at=started,
        updated_at=started,
    )


def _escalation(case, from_level, status, created, decided=None, via="agent", reason=""):
    return EscalationRequest.objects.create(
        case=case,
        from_level=from_level,
        to_level=from_level + 1,
        via=via,
        status=status,
        created_at=created,
        decided_at=decided,
        decision_reason=reason,
    )


@pytest.fixture
def week(sla_targets, make_channel, portal, acme, globex, agent, customer):
    correo = make_channel("correo", "email", name="Correo", hours=[{"schedule": "horario-habil"}])
    linea = make_channel(
        "linea", "phone", name="Línea Bogotá", hours=[{"schedule": "horario-habil"}]
    )
    pedro = customers.create_contact(
        name="Pedro Pérez", organization=acme, emails=["pedro@acme.com.co"]
    )
    greta = customers.create_contact(
        name="Greta Globex", organization=globex, emails=["greta@globex.co"]
    )

    def by_email(contact, subject):
        case = cases.open_case(
            actor=None,
            channel=correo,
            subject=subject,
            type="request",
            priority="high",
            requester=contact,
            acknowledge=False,
        )
        cases.add_note(case=case, body_text=subject, author_contact=contact, channel=correo)
        return case

    with clock.frozen(at(23, 9)) as now:
        a = by_email(pedro, "No puedo firmar")
        now.set(at(23, 9, 30))
        cases.add_note(case=a, body_text="Ya lo revisamos", actor=agent)
        now.set(at(23, 11))
        cases.change_status(case=a, actor=agent, status="resolved")
        now.set(at(23, 21))
        b = by_email(pedro, "Certificado vencido")
        now.set(at(24, 9))
        cases.add_note(case=b, body_text="Lo renovamos", actor=agent)
        now.set(at(24, 10))
        c = cases.open_case(
            actor=customer,
            channel=portal,
            subject="Token bloqueado",
            type="request",
            priority="high",
        )
        now.set(at(28, 14))
        d = cases.open_case(
            actor=None,
            channel=correo,
            subject="Caída total",
            type="incident",
            priority="critical",
            requester=greta,
            acknowledge=False,
        )
        cases.add_note(case=d, body_text="Caída total", author_contact=greta, channel=correo)
        now.set(at(28, 14, 10))
        cases.add_note(case=d, body_text="Estamos en ello", actor=agent)
        now.set(END)
        sla.sweep(now=END)
    _call(linea, "+573001112233", at(24, 20), missed=True, case=c)
    _call(linea, "+573001112233", at(25, 8), direction="out")
    _call(linea, "+573005554433", at(25, 10))
    _call(linea, "+573009998877", at(26, 11), missed=True)
    _escalation(a, 1, "accepted", at(23, 10), at(23, 11))
    _escalation(b, 1, "rejected", at(24, 16), at(24, 17), via="auto", reason="Sin fundamento")
    _escalation(a, 2, "pending", at(23, 12))
    return SimpleNamespace(
        a=a, b=b, c=c, d=d, correo=correo, linea=linea, portal=portal, acme=acme, globex=globex
    )


@pytest.fixture
def frozen_end():
    with clock.frozen(END) as now:
        yield now
