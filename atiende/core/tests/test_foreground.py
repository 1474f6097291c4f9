"""A worker on the same machine yields between jobs while requests are served."""

import contextlib
import threading
import time

from django.test import RequestFactory

from atiende.core import foreground


def test_the_worker_waits_while_a_request_is_in_flight_and_goes_on_after_it():
    inside, leave = threading.Event(), threading.Event()

    def view(request):
        inside.set()
        leave.wait(5)
        return "ok"

    middleware = foreground.Middleware(view)
    t = threading.Thread(target=lambda: middleware(RequestFactory().get("/")), daemon=True)
    t.start()
    assert inside.wait(5)
    started = time.monotonic()
    threading.Timer(0.3, leave.set).start()
    foreground.yield_to_requests(patience=5)
    waited = time.monotonic() - started
    t.join(5)
    assert 0.25 <= waited < 3


@contextlib.contextmanager
def _a_request_in_flight():
    """A request held inside the middleware until the block ends."""
    inside, leave = threading.Event(), threading.Event()

    def view(request):
        inside.set()
        leave.wait(10)
        return "ok"

    t = threading.Thread(
        target=lambda: foreground.Middleware(view)(RequestFactory().get("/")), daemon=True
    )
    t.start()
    assert inside.wait(5)
    try:
        yield
    finally:
        leave.set()
        t.join(5)


def test_the_worker_waits_at_most_its_patience():
    with _a_request_in_flight():
        started = time.monotonic()
        foreground.yield_to_requests(patience=0.2)
        assert time.monotonic() - started < 1.5


def test_without_requests_the_worker_does_not_wait():
    started = time.monotonic()
    foreground.yield_to_requests(patience=5)
    assert time.monotonic() - started < 0.5


def test_with_requests_first_switched_off_the_worker_never_waits(monkeypatch):
    monkeypatch.setattr(foreground.mechanisms, "REQUESTS_FIRST", False)
    with _a_request_in_flight():
        started = time.monotonic()
        foreground.yield_to_requests(patience=5)
        assert time.monotonic() - started < 0.5
