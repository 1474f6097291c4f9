"""Switches for the performance mechanisms, for chasing a bug without them.

Each mechanism makes atiende faster without changing what it stores or answers, and each
has a decision record in `docs/decisions/` with its measurements and limits. When a bug
might come from one of them, run with it off (the variable set to `0`) and see whether the
bug stays. They are read once, when the process starts. How each behaves when atiende runs
on several machines is in docs/deploy.md ("The one-machine mechanisms, on several machines").

| variable                       | mechanism                                   | record |
|--------------------------------|---------------------------------------------|--------|
| `ATIENDE_DEFERRED_ROWS`        | rows written together at the end of a scope  | 0001   |
| `ATIENDE_SQLITE_WRITER_QUEUE`  | SQLite writers take turns through a flock    | 0002   |
| `ATIENDE_REQUESTS_FIRST`       | a local worker yields to requests            | 0003   |
| `ATIENDE_GC_FREEZE`            | long-lived processes freeze the loaded heap  | 0004   |
| `ATIENDE_EMAIL_PARSE_POOL`     | the IMAP poller parses in a process pool     | 0007   |
| `ATIENDE_GROUP_INSERTS`        | concurrent requests' rows in one statement   | 0009   |
| `ATIENDE_EMAIL_WRITERS`        | the IMAP poller stores on writer threads     | 0010   |
| `ATIENDE_GRAPH_KEEPALIVE`      | WhatsApp sends and receipts via http.client  | 0011   |
| `ATIENDE_GROUPED_JOBS`         | a worker runs several jobs in a transaction  | 0012   |
| `ATIENDE_BALANCED_ACCEPT`      | web processes share connections evenly       | 0013   |
| `ATIENDE_PREPARED_STATEMENTS`  | workers' repeated statements planned once    | 0014   |
| `ATIENDE_EMAIL_STORE_POOL`     | the poller's pool workers store (PostgreSQL) | 0015   |
"""

from __future__ import annotations

import os


def enabled(name: str) -> bool:
    """Is the mechanism `ATIENDE_<name>` on? On unless the variable is `0`."""
    return os.environ.get(f"ATIENDE_{name}", "1").strip() != "0"


DEFERRED_ROWS = enabled("DEFERRED_ROWS")
SQLITE_WRITER_QUEUE = enabled("SQLITE_WRITER_QUEUE")
REQUESTS_FIRST = enabled("REQUESTS_FIRST")
GC_FREEZE = enabled("GC_FREEZE")
EMAIL_PARSE_POOL = enabled("EMAIL_PARSE_POOL")
GROUP_INSERTS = enabled("GROUP_INSERTS")
EMAIL_WRITERS = enabled("EMAIL_WRITERS")
GRAPH_KEEPALIVE = enabled("GRAPH_KEEPALIVE")
GROUPED_JOBS = enabled("GROUPED_JOBS")
BALANCED_ACCEPT = enabled("BALANCED_ACCEPT")
PREPARED_STATEMENTS = enabled("PREPARED_STATEMENTS")
EMAIL_STORE_POOL = enabled("EMAIL_STORE_POOL")
