"""The SQLite writer queue: lone writes queue like transactions; background work gives way."""

import fcntl
import os
import threading
import time

import pytest
from django.db import connection, connections, transaction

from atiende.configuration.models import Setting
from atiende.core import foreground
from atiende.core.sqlite import base as sqlite

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the writer queue is SQLite's"),
]


def _front_file() -> int:
    return os.open(f"{connection.settings_dict['NAME']}.foreground", os.O_CREAT | os.O_RDWR)


def _in_thread(fn) -> threading.Thread:
    def run():
        try:
            fn()
        finally:
            connections.close_all()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_a_write_outside_a_transaction_queues_for_its_turn():
    holding, release = threading.Event(), threading.Event()
    done = threading.Event()

    def holder():
        with transaction.atomic():
            Setting.objects.create(key="held", value=1)
            holding.set()
            release.wait(5)

    def lone_write():
        Setting.objects.create(key="lone", value=1)  # autocommit: no atomic block
        done.set()

    a = _in_thread(holder)
    assert holding.wait(5)
    b = _in_thread(lone_write)
    front = _front_file()
    try:
        time.sleep(0.2)
        assert not done.is_set()
        # It waits in the writers' queue (holding its place in the foreground file), not
        # in SQLite's sleep-and-retry.
        assert foreground.held(front)
        release.set()
        assert done.wait(5)
        a.join(5)
        b.join(5)
        assert not foreground.held(front)
    finally:
        release.set()
        os.close(front)
    assert set(Setting.objects.values_list("key", flat=True)) >= {"held", "lone"}


def test_background_writes_give_way_to_a_queued_request(monkeypatch):
    monkeypatch.setattr(sqlite, "BACKGROUND_PATIENCE", 5.0)
    front = _front_file()
    fcntl.flock(front, fcntl.LOCK_SH)  # a request is queued or writing
    finished = []

    def background_write():
        with sqlite.background(), transaction.atomic():
            Setting.objects.create(key="background", value=1)
        finished.append(time.monotonic())

    started = time.monotonic()
    t = _in_thread(background_write)
    time.sleep(0.3)
    assert not finished  # still waiting for the request
    fcntl.flock(front, fcntl.LOCK_UN)
    t.join(5)
    os.close(front)
    assert finished and finished[0] - started >= 0.3
    assert Setting.objects.filter(key="background").exists()


def test_background_work_is_never_starved(monkeypatch):
    monkeypatch.setattr(sqlite, "BACKGROUND_PATIENCE", 0.2)
    front = _front_file()
    fcntl.flock(front, fcntl.LOCK_SH)  # requests keep coming and never stop
    finished = threading.Event()

    def background_write():
        with sqlite.background(), transaction.atomic():
            Setting.objects.create(key="patient", value=1)
        finished.set()

    try:
        t = _in_thread(background_write)
        assert finished.wait(3)  # gave way for its patience, then wrote anyway
        t.join(5)
    finally:
        fcntl.flock(front, fcntl.LOCK_UN)
        os.close(front)


def test_with_the_queue_switched_off_a_writer_takes_no_turn(monkeypatch):
    monkeypatch.setattr(sqlite.mechanisms, "SQLITE_WRITER_QUEUE", False)
    connections.close_all()  # a new connection decides afresh whether it queues
    holding, release = threading.Event(), threading.Event()

    def holder():
        with transaction.atomic():
            Setting.objects.create(key="unqueued", value=1)
            holding.set()
            release.wait(5)

    t = _in_thread(holder)
    lock = os.open(f"{connection.settings_dict['NAME']}.writelock", os.O_CREAT | os.O_RDWR)
    try:
        assert holding.wait(5)
        assert not foreground.held(lock)  # SQLite's own lock alone guards the write
    finally:
        release.set()
        t.join(5)
        os.close(lock)
        connections.close_all()
