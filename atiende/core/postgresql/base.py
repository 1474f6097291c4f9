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
