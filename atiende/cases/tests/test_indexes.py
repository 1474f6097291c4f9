"""The indexes a new case, note, audit entry and received mail write (issue 17): a foreign
key that a composite index already starts with has no index of its own, and is still
the first column of one (deleting a contact or a channel looks its rows up by it)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

COVERED = {
    "cases_case": ["channel_id", "organization_id", "requester_id", "assignee_id", "group_id"],
    "cases_note": ["case_id"],
    "core_auditentry": ["case_id"],
    "channels_email_receivedemail": ["channel_id"],
}


@pytest.mark.parametrize("table", sorted(COVERED))
def test_covered_foreign_keys_have_no_index_of_their_own(table):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    indexes = [c["columns"] for c in found.values() if c["index"] or c["unique"]]
    for column in COVERED[table]:
        assert [column] not in indexes, f"{table}.{column} has an index of its own"
        assert any(cols[0] == column and len(cols) > 1 for cols in indexes), (table, column)
