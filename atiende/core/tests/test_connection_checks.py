"""The backends' shortcuts keep Django's behaviour: a connection used by another thread is
still refused, and SQLite gets the same statement text Django's conversion gives."""

import threading

import pytest
from django.db import DatabaseError, connection, connections
from django.db.backends.sqlite3.base import SQLiteCursorWrapper

from atiende.configuration.models import Setting


@pytest.mark.django_db(transaction=True)
def test_a_connection_is_still_refused_to_another_thread():
    Setting.objects.count()  # opened by this thread
    mine = connections["default"]  # each thread has its own: this is this thread's
    errors = []

    def other():
        try:
            mine.validate_thread_sharing()
        except DatabaseError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert errors and "can only be used in that same thread" in str(errors[0])

    mine.validate_thread_sharing()  # its own thread: fine
    mine.inc_thread_sharing()
    try:
        errors.clear()
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert errors == []  # shared on purpose: allowed, as in Django
    finally:
        mine.dec_thread_sharing()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1",
        "INSERT INTO t (a, b) VALUES (%s, %s), (%s, %s) RETURNING t.id",
        "SELECT * FROM t WHERE a LIKE '100%%' AND b = %s",
        "SELECT '%%s' || %s",
    ],
)
def test_sqlite_statements_are_converted_as_django_converts_them(query):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's placeholders")
    with connection.cursor() as wrapper:
        ours = wrapper.cursor
        django_s = SQLiteCursorWrapper.convert_query(ours, query)
        assert ours.convert_query(query) == django_s
        assert ours.convert_query(query) == django_s  # remembered: the same again
        named = "SELECT %(a)s, %(b)s"
        assert ours.convert_query(named, param_names=["a", "b"]) == "SELECT :a, :b"
