"""The notes that come with a case's opening leave its `updated_at` at the opening; a note
added later, even through the same case object, moves it (docs/decisions/0005)."""

from __future__ import annotations

import datetime as dt

from atiende.cases import services
from atiende.cases.models import Case
from atiende.core import clock

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


def test_the_acknowledgement_leaves_the_case_updated_at_its_opening(portal, customer):
    with clock.frozen(T0) as c:
        case = services.open_case(actor=customer, channel=portal, subject="No puedo firmar")
        c.advance(minutes=5)
        assert case.notes.filter(automatic=True).count() == 1
        assert Case.objects.get(pk=case.pk).updated_at == T0


def test_a_later_note_on_the_same_case_object_moves_updated_at(portal, customer):
    with clock.frozen(T0) as c:
        case = services.open_case(actor=customer, channel=portal, subject="No puedo firmar")
        c.advance(minutes=5)
        services.add_note(case=case, actor=customer, body_text="Sigue fallando.")
        assert Case.objects.get(pk=case.pk).updated_at == T0 + dt.timedelta(minutes=5)
