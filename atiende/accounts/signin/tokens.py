"""Password-reset links: Django's one-time token (it stops working once the password
changes or the user signs in), with its age read from `core.clock` like every other time
in atiende, so tests can move the clock past the expiry."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.tokens import PasswordResetTokenGenerator

from atiende.core import clock


class ResetTokens(PasswordResetTokenGenerator):
    def _now(self) -> dt.datetime:
        # Naive, as Django's generator expects; only differences between two readings count.
        return clock.now().replace(tzinfo=None)


reset_tokens = ResetTokens()
