"""PostgreSQL (psycopg 3) with atiende's deferred rows (see `atiende.core.deferred`)."""

from django.db.backends.postgresql import base

from atiende.core import deferred, threads_first


class DatabaseWrapper(threads_first.OwnThreadFirst, deferred.ConnectionHooks, base.DatabaseWrapper):
    pass
