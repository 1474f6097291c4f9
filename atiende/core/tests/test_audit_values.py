"""What an audit entry's `changes` keep: JSON values, whatever the services hand over."""

import datetime as dt
import decimal
import uuid

from atiende.cases.models import Priority, Status
from atiende.core.audit import _plain


def test_changes_become_plain_json_values():
    when = dt.datetime(2026, 12, 7, 13, 0, tzinfo=dt.UTC)
    code = uuid.UUID("12345678-1234-5678-1234-567812345678")
    changes = {
        "status": [Status.OPEN, Status.RESOLVED],
        "priority": (None, Priority.HIGH),
        "due": [None, when],
        "day": [dt.date(2026, 12, 8), None],
        "amount": [decimal.Decimal("1.50"), 2.5],
        "id": [code, True],
        Status.CLOSED: {"tags": {"a"}, 7: frozenset()},
        "plain": [None, "texto ñ"],
    }
    assert _plain(changes) == {
        "status": ["open", "resolved"],
        "priority": [None, "high"],
        "due": [None, "2026-12-07T13:00:00+00:00"],
        "day": ["2026-12-08", None],
        "amount": ["1.50", 2.5],
        "id": ["12345678-1234-5678-1234-567812345678", True],
        "closed": {"tags": ["a"], "7": []},
        "plain": [None, "texto ñ"],
    }
