"""Sign-in throttling: repeated failures for an account or from an address refuse further
tries for a while, even with the right password.

Every try is a `SignInAttempt` row, written (and committed) *before* the password is
checked, as "pending": tries that run at the same time count each other, so a burst of
parallel guesses cannot slip past the limit. An account is locked while, within the
window, `ATIENDE_SIGNIN_MAX_FAILURES` tries failed (or are still pending) since its last
successful sign-in; an address while `ATIENDE_SIGNIN_MAX_FAILURES_PER_ADDRESS` did. Tries
refused by the lock do not count, so a lock ends at most one window after the failure that
set it. Attempts are counted by the address typed, whether or not such an account exists,
so a lock-out says nothing about which accounts exist.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from atiende.accounts.models import SignInAttempt, SignInOutcome
from atiende.core import audit, clock

COUNTED = (SignInOutcome.FAILED, SignInOutcome.PENDING)
KEEP = dt.timedelta(days=30)  # older tries count for nothing; lock-outs stay in the audit trail


def normalise(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def _since() -> dt.datetime:
    return clock.now() - dt.timedelta(seconds=settings.ATIENDE_SIGNIN_WINDOW_SECONDS)


def begin(*, email: str, address: str | None) -> SignInAttempt:
    """Record a try before its password is checked (committed at once when no transaction
    is open, so that concurrent tries see it)."""
    with transaction.atomic():
        return SignInAttempt.objects.create(
            at=clock.now(), email=normalise(email), address=address or None
        )


def account_failures(email: str, *, exclude: int | None = None, before: int | None = None) -> int:
    """Failed (or pending) tries for this account within the window, since its last
    successful sign-in."""
    email = normalise(email)
    rows = SignInAttempt.objects.filter(email=email, at__gte=_since(), outcome__in=COUNTED)
    last_success = (
        SignInAttempt.objects.filter(email=email, outcome=SignInOutcome.SUCCEEDED)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if last_success is not None:
        rows = rows.filter(id__gt=last_success)
    return _count(rows, exclude=exclude, before=before)


def address_failures(
    address: str | None, *, exclude: int | None = None, before: int | None = None
) -> int:
    if not address:
        return 0
    rows = SignInAttempt.objects.filter(address=address, at__gte=_since(), outcome__in=COUNTED)
    return _count(rows, exclude=exclude, before=before)


def _count(rows, *, exclude: int | None, before: int | None) -> int:
    if exclude is not None:
        rows = rows.exclude(id=exclude)
    if before is not None:
        rows = rows.filter(id__lt=before)
    return rows.count()


def locked(attempt: SignInAttempt) -> bool:
    """Whether this try must be refused without looking at its password."""
    return (
        account_failures(attempt.email, exclude=attempt.pk) >= settings.ATIENDE_SIGNIN_MAX_FAILURES
        or address_failures(attempt.address, exclude=attempt.pk)
        >= settings.ATIENDE_SIGNIN_MAX_FAILURES_PER_ADDRESS
    )


def refuse(attempt: SignInAttempt) -> None:
    _set(attempt, SignInOutcome.REFUSED)


def succeed(attempt: SignInAttempt) -> None:
    _set(attempt, SignInOutcome.SUCCEEDED)


def fail(attempt: SignInAttempt) -> None:
    """A wrong password (or an unknown account). The failure that reaches a limit locks the
    account or the address, and that lock-out is written to the audit trail."""
    with transaction.atomic(), audit.batched():
        _set(attempt, SignInOutcome.FAILED)
        # The failure that crosses a limit sets the lock: the tries before it (in the order
        # they were written, so one of several concurrent tries is that failure) were below.
        limits = (
            ("account", account_failures, attempt.email, settings.ATIENDE_SIGNIN_MAX_FAILURES),
            (
                "address",
                address_failures,
                attempt.address,
                settings.ATIENDE_SIGNIN_MAX_FAILURES_PER_ADDRESS,
            ),
        )
        for reason, count, key, limit in limits:
            if not key or count(key, before=attempt.pk) != limit - 1:
                continue
            audit.record(
                actor=None,
                action="signin.locked",
                obj=attempt,
                changes={
                    "reason": reason,
                    "email": attempt.email,
                    "address": attempt.address,
                    "failures": limit,
                    "window_seconds": settings.ATIENDE_SIGNIN_WINDOW_SECONDS,
                },
            )


def _set(attempt: SignInAttempt, outcome: str) -> None:
    SignInAttempt.objects.filter(pk=attempt.pk).update(outcome=outcome)
    attempt.outcome = outcome


def purge() -> int:
    """Delete tries older than KEEP (and than the window), hourly from the worker."""
    before = min(clock.now() - KEEP, _since())
    deleted, _ = SignInAttempt.objects.filter(at__lt=before).delete()
    return deleted
