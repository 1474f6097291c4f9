"""Full-text search over cases for the console (see schema.py for what is indexed)."""

from __future__ import annotations

import re

from django.db import connection

WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 8
MAX_CHARS = 200


def words(query: str) -> list[str]:
    """The words of a query, without operators or punctuation (nothing the user types is
    passed to the database's query syntax)."""
    return WORD.findall(query or "")[:MAX_WORDS]


def matching_case_ids(query: str, *, limit: int = 50) -> list[int]:
    """Ids of the cases whose documents contain every word of `query`, the newest first (a
    help desk looks for the recent case more often than the old one). At most `limit`
    cases; one statement.

    PostgreSQL orders by case, walking the index `search_document_case` from the newest
    case (search/0004): the GIN index finds matches in no order, and sorting them all took
    400 ms for a surname shared by a hundred thousand documents at a million cases.
    SQLite orders by document (FTS5 reads its matches in that order): a case's notes come
    after it, so a recent note on an older case can bring that case forward."""
    found = words(query)
    if not found:
        return []
    # Several documents (a case and its notes) may match for one case: read a few more.
    window = limit * 4
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT case_id FROM search_document"
                " WHERE document @@ (plainto_tsquery('spanish', %s) || plainto_tsquery('atiende_es', %s))"
                " ORDER BY case_id DESC, id DESC LIMIT %s",
                # The text as typed: PostgreSQL's parser knows addresses, hosts and
                # numbers ("pedro@acme.com.co" is one token in documents and queries).
                [(query or "")[:MAX_CHARS], (query or "")[:MAX_CHARS], window],
            )
        else:
            # Each word quoted (no FTS5 syntax from the user) and matched as a prefix.
            match = " ".join('"' + w.replace('"', "") + '"*' for w in found)
            cur.execute(
                "SELECT case_id FROM search_document WHERE search_document MATCH %s"
                " ORDER BY rowid DESC LIMIT %s",
                [match, window],
            )
        rows = cur.fetchall()
    out: list[int] = []
    for (case_id,) in rows:
        if case_id not in out:
            out.append(case_id)
            if len(out) == limit:
                break
    return out
