"""Periodic work of the accounts app."""

from __future__ import annotations

from atiende.accounts.signin import throttle
from atiende.worker.registry import periodic


@periodic("signin_attempts.purge", every=3600)
def purge_signin_attempts() -> None:
    throttle.purge()
