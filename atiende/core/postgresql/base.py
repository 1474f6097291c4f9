"""PostgreSQL (psycopg 3) with atiende's deferred rows (see `atiende.core.deferred`), and
prepared statements in the processes that ask for them (`prepare_statements`).

A job worker and the email poller run the same few dozen statements for every message
they store; PostgreSQL parsed and planned each of them again on every run, which was a
third of its processor time while a worker stored WhatsApp messages. A process that calls
`prepared.prepare_statements()` before its first query gets connections whose parameters travel
apart from the statement (psycopg's server-side binding) and on which a statement run five
times (psycopg's default threshold) is prepared: parsed and planned once per connection.
Web processes keep the driver's defaults: the console's searches and queues have plans that
depend on the values (a rare word reads the text index, a common one walks the cases in
order), which a plan made once for every value could get wrong
(docs/decisions/0014-prepared-statements.md). Switch: `ATIENDE_PREPARED_STATEMENTS=0`, and
settings that name `server_side_binding` or `prepare_threshold` themselves are left alone
(PgBouncer in transaction mode before 1.21 cannot keep prepared statements).
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db.backends.postgresql import base

from atiende.core import deferred, threads_first
from atiende.core.postgresql.prepared import preparing

DEFAULT_THRESHOLD = 5  # psycopg's own default, once prepared statements are on


class DatabaseWrapper(threads_first.OwnThreadFirst, deferred.ConnectionHooks, base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        options = self.settings_dict["OPTIONS"]
        if preparing() and not {"server_side_binding", "prepare_threshold"} & set(options):
            params["cursor_factory"] = base.ServerBindingCursor
            params["prepare_threshold"] = DEFAULT_THRESHOLD
        return params

    def numbered_cursor(self) -> Any:
        """A cursor for statements whose parameters are already numbered (`$1`, `$2`, …),
        sent as written, where this connection binds parameters on the server anyway (the
        processes that prepare statements); None where it binds them itself (`%s`).

        psycopg turns each `%s` of a statement into `$n` before sending it, and keeps the
        result only for statements under 4,096 characters and 50 parameters: the
        multi-row INSERTs of `rows.insert` (a transaction group's timers, audit entries,
        attachments) were rewritten at every run, 8 % of the email writer's time on
        PostgreSQL (docs/benchmarks.md, issue 17, session 21)."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        if issubclass(self.connection.cursor_factory, psycopg.ClientCursor):
            return None
        with self.wrap_database_errors:
            return self._prepare_cursor(psycopg.RawCursor(self.connection))  # type: ignore[attr-defined]
