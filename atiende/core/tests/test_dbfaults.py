"""An unreachable database is a 503 wherever in the request it fails, not only in a view."""

import pytest
from django.db import OperationalError
from django.test import Client


class _DatabaseGoneInMiddleware:
    """Stands for a middleware whose database read fails (a session, say)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/canales":
            raise OperationalError("server closed the connection unexpectedly")
        return self.get_response(request)


@pytest.fixture
def broken(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}._DatabaseGoneInMiddleware"]
    settings.DEBUG = False


def test_a_database_error_in_a_middleware_is_a_503_page(broken, db):
    resp = Client(raise_request_exception=False).get("/canales")
    assert resp.status_code == 503 and resp["Retry-After"]
    assert "no está disponible" in resp.content.decode()


def test_any_other_error_outside_a_view_is_still_a_500(settings, db):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}._Boom"]
    resp = Client(raise_request_exception=False).get("/canales")
    assert resp.status_code == 500


class _Boom:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise RuntimeError("a bug")
