"""Local tasks: every worker process runs them on its own clock (`worker/local.py`)."""

from __future__ import annotations

import threading

import pytest

from atiende.worker import loop, registry
from atiende.worker.local import LocalTasks

runs: list[str] = []


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def tasks():
    """Two local tasks of this test's own, instead of the apps' ones."""
    registry.load()
    saved = dict(registry.LOCAL)
    registry.LOCAL.clear()

    @registry.local("test.often", every=1.0)
    def often() -> None:
        runs.append("often")

    @registry.local("test.broken", every=5.0)
    def broken() -> None:
        runs.append("broken")
        raise RuntimeError("un error en una tarea")

    runs.clear()
    yield
    registry.LOCAL.clear()
    registry.LOCAL.update(saved)


def test_a_local_task_runs_at_once_and_then_once_per_interval(tasks):
    clock = Clock()
    local = LocalTasks(monotonic=clock)
    assert local.run_due() == ["test.often", "test.broken"]
    assert local.run_due() == []
    clock.t += 1.0
    assert local.run_due() == ["test.often"]
    assert local.seconds_to_next() == 1.0
    clock.t += 4.0
    assert local.run_due() == ["test.often", "test.broken"]
    assert runs == ["often", "broken", "often", "often", "broken"]


def test_a_failing_local_task_does_not_stop_the_others(tasks, caplog):
    local = LocalTasks(monotonic=Clock())
    assert local.run_due() == ["test.often", "test.broken"]
    assert "local task test.broken failed" in caplog.text


def test_the_apps_register_the_mail_spool_as_a_local_task():
    registry.load()
    assert registry.LOCAL["email.spool"].interval_seconds <= 1.0


@pytest.mark.django_db(transaction=True)
def test_the_worker_loop_runs_local_tasks_while_idle(tasks):
    stop = threading.Event()
    worker = threading.Thread(target=loop.run_forever, args=(stop,), kwargs={"idle_sleep": 5.0})
    worker.start()
    try:
        for _ in range(100):  # "often" runs every second even though idle waits are 5 s
            if runs.count("often") >= 2:
                break
            stop.wait(0.1)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert runs.count("often") >= 2
