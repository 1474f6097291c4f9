"""The authentication backend every password sign-in goes through (settings.
AUTHENTICATION_BACKENDS): the sign-in page, the admin's login, `Client.login` in tests.
It refuses tries while the throttle holds a lock, before looking at the password."""

from __future__ import annotations

import ipaddress

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from atiende.accounts.signin import throttle


class ThrottledBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("email")
        if username is None or password is None:
            return None
        address = request.META.get("REMOTE_ADDR") if request is not None else None
        attempt = throttle.begin(email=username, address=_valid(address))
        if throttle.locked(attempt):
            throttle.refuse(attempt)
            # Stops authenticate() here: no other backend is tried, and the caller shows
            # the same message as for a wrong password.
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.fail(attempt)
        else:
            throttle.succeed(attempt)
        return user


def _valid(address: str | None) -> str | None:
    """The client's address, or None when there is none to count (a Unix socket)."""
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return None
