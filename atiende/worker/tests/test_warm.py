"""A worker imports what its handlers import lazily before its first job (`registry.warm`)."""

from __future__ import annotations

import sys
import threading

import pytest

from atiende.worker import loop, registry

PROBE = "atiende.worker.tests.warm_probe"


def test_warm_imports_the_modules_handlers_named(monkeypatch):
    monkeypatch.setattr(registry, "WARM", [])
    monkeypatch.delitem(sys.modules, PROBE, raising=False)
    registry.warm_up(PROBE, PROBE)
    assert registry.WARM == [PROBE]  # named once
    assert PROBE not in sys.modules  # naming imports nothing
    registry.warm()
    assert PROBE in sys.modules


def test_the_whatsapp_jobs_name_the_graph_client():
    registry.load()
    assert "atiende.channels.whatsapp.graph" in registry.WARM


@pytest.fixture
def _no_other_work(monkeypatch):
    """The loop's periodic and local tasks (a mail poll, the sweep) are not this test's."""
    monkeypatch.setattr(loop.queue, "ensure_periodic", lambda: None)
    monkeypatch.setattr(loop.queue, "run_periodic", lambda **kwargs: [])
    monkeypatch.setattr(loop.LocalTasks, "run_due", lambda self: [])


@pytest.mark.django_db
@pytest.mark.usefixtures("_no_other_work")
def test_the_loop_warms_up_before_its_first_claim(monkeypatch):
    order: list[str] = []
    monkeypatch.setattr(registry, "warm", lambda: order.append("warm"))

    def pending(**kwargs):
        order.append("claim")
        stop.set()
        return 0

    monkeypatch.setattr(loop.queue, "run_pending", pending)
    stop = threading.Event()
    loop._loop(stop, idle_sleep=0, owner="test")
    assert order == ["warm", "claim"]


@pytest.mark.django_db
@pytest.mark.usefixtures("_no_other_work")
def test_a_module_that_does_not_import_leaves_the_loop_running(monkeypatch, caplog):
    monkeypatch.setattr(registry, "WARM", ["atiende.no_such_module"])
    stop = threading.Event()
    monkeypatch.setattr(loop.queue, "run_pending", lambda **kwargs: stop.set() or 0)
    loop._loop(stop, idle_sleep=0, owner="test")
    assert "could not import what its jobs need" in caplog.text
