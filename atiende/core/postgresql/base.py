"""PostgreSQL (psycopg 3) with atiende's deferred rows (see `atiende.core.deferred`)."""

from django.db.backends.postgresql import base

from atiende.core import deferred


class DatabaseWrapper(deferred.ConnectionHooks, base.DatabaseWrapper):
    pass
