"""What reading a case's notes and timeline costs the database: the same statements for
three notes as for thirty (issue #12), like the case list."""

from __future__ import annotations

import pytest

from atiende.cases import selectors, services


@pytest.fixture
def case(portal, customer, agent):
    case = services.open_case(
        actor=customer, channel=portal, subject="No puedo firmar", type="incident", priority="high"
    )
    services.add_note(case=case, actor=agent, body_text="Revisamos.", visibility="internal")
    return case


def grow(case, customer, agent, n: int) -> None:
    """n more notes, from both sides, public and internal, with attachments."""
    for i in range(n):
        note = services.add_note(case=case, actor=customer, body_text=f"Comentario {i}")
        services.add_attachment(
            case=case, note=note, actor=customer, filename=f"f{i}.txt", chunks=[b"x%d" % i]
        )
        services.add_note(case=case, actor=agent, body_text=f"Nota {i}", visibility="internal")


def cost(reader) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert reader()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["agent", "customer"])
def test_notes_and_timeline_cost_the_same_statements_for_three_notes_as_for_thirty(
    case, customer, agent, who
):
    user = {"agent": agent, "customer": customer}[who]
    grow(case, customer, agent, 1)
    few = (
        cost(lambda: list(selectors.visible_notes(user, case))),
        cost(lambda: selectors.case_timeline(user, case)),
    )
    grow(case, customer, agent, 15)
    many = (
        cost(lambda: list(selectors.visible_notes(user, case))),
        cost(lambda: selectors.case_timeline(user, case)),
    )
    assert many == few
    assert few[0] == 1  # the notes with their authors and channels
    assert few[1] <= 4  # the notes, the audit entries (customers: and their hidden uploads)
