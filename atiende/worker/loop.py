"""The worker loop: run due jobs, periodic and local tasks until told to stop."""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections

from atiende.core.sqlite import base as sqlite
from atiende.worker import queue, registry
from atiende.worker.local import LocalTasks

log = logging.getLogger(__name__)


def run_forever(
    stop: threading.Event, *, idle_sleep: float = 1.0, owner: str | None = None
) -> None:
    owner = owner or queue.worker_id()
    with sqlite.background():  # requests' writes go before the worker's (SQLite)
        _loop(stop, idle_sleep=idle_sleep, owner=owner)


def _loop(stop: threading.Event, *, idle_sleep: float, owner: str) -> None:
    try:
        registry.warm()  # what the handlers import when they run, before the first job
    except Exception:  # a job that needs it fails (and is retried) as it would have
        log.exception("worker %s could not import what its jobs need", owner)
    queue.ensure_periodic()
    local = LocalTasks()
    log.info("worker %s started", owner)
    while not stop.is_set():
        try:
            close_old_connections()
            local.run_due()
            queue.run_periodic(owner=owner)
            ran = queue.run_pending(limit=50, owner=owner, yield_between_jobs=True)
        except Exception:  # the database may be briefly unreachable; keep the loop alive
            log.exception("worker iteration failed")
            ran = 0
        if not ran:  # idle: wait, but not past the next local task (the spool's round)
            stop.wait(min(idle_sleep, local.seconds_to_next()))
    log.info("worker %s stopped", owner)


def start_in_thread(*, idle_sleep: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(stop,),
        kwargs={"idle_sleep": idle_sleep},
        name="atiende-worker",
        daemon=True,
    )
    thread.start()
    time.sleep(0)  # let the thread start before the web server takes over
    return thread, stop
