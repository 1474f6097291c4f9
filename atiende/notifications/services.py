"""Notifications and presence: the only code that writes them."""

from __future__ import annotations

import datetime as dt

from atiende.accounts.models import User
from atiende.cases.models import Case
from atiende.core import audit, clock
from atiende.core.errors import InvalidInput, NotFound
from atiende.core.transactions import service
from atiende.notifications.models import Kind, Notification, Preference, Presence, PresenceState
from atiende.worker import queue


def case_link(case: Case) -> str:
    """The console's page of a case (console/urls.py: cases/<number>)."""
    return f"/console/cases/{case.number}"


@service
def notify(
    *, user: User | None, kind: str, text: str, case: Case | None = None, link: str = ""
) -> Notification | None:
    """Tell an active staff user about something. Also by email when their preference asks
    for this kind: queued through the outbox ("notify" job, channels' email sender) in the
    same transaction. Customers and inactive users get nothing (None)."""
    if user is None or not user.is_active or not user.is_agent:
        return None
    if kind not in Kind.values:
        raise InvalidInput("Tipo de notificación desconocido.", errors={"kind": kind})
    text = " ".join((text or "").split())[:500]
    row = Notification.objects.create(
        user=user,
        kind=kind,
        case=case,
        text=text,
        link=link or (case_link(case) if case is not None else ""),
        created_at=clock.now(),
    )
    pref = Preference.objects.filter(user=user).first()
    if pref is not None and kind in pref.email_kinds and user.email:
        subject = f"[{case.number}] {Kind(kind).label}" if case else Kind(kind).label
        queue.enqueue(
            "notify",
            {
                "case_id": case.pk if case else None,
                "event": f"agent.{kind}",
                "subject": subject,
                "body": f"{text}\n\n{row.link}" if row.link else text,
                "recipients": [{"kind": "email", "address": user.email, "name": user.name}],
            },
        )
    return row


def mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (another user's is not found)."""
    row = Notification.objects.filter(pk=notification_id, user=user).first()
    if row is None:
        raise NotFound("No existe esa notificación.")
    if row.read_at is None:
        row.read_at = clock.now()
        Notification.objects.filter(pk=row.pk, read_at__isnull=True).update(read_at=row.read_at)
    return row


def mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=clock.now())


@service
def set_preference(*, user: User, email_kinds: list[str]) -> Preference:
    unknown = sorted(set(email_kinds) - set(Kind.values))
    if unknown:
        raise InvalidInput(
            "No se guardaron las preferencias.",
            errors={"email_kinds": f"Tipos desconocidos: {', '.join(unknown)}."},
        )
    kinds = [k for k in Kind.values if k in email_kinds]
    pref, _ = Preference.objects.get_or_create(user=user)
    if pref.email_kinds != kinds:
        before, pref.email_kinds = pref.email_kinds, kinds
        pref.save(update_fields=["email_kinds"])
        audit.record(
            actor=user,
            action="notifications.preference_changed",
            obj=pref,
            changes={"email_kinds": [before, kinds]},
        )
    return pref


# -- presence --------------------------------------------------------------------------------


def heartbeat(*, case: Case, user: User, state: str = PresenceState.VIEWING) -> None:
    """The user is on the case's page (viewing, or writing in one of its forms). One
    statement: an insert that updates the row already there (SQLite and PostgreSQL)."""
    if state not in PresenceState.values:
        state = PresenceState.VIEWING
    Presence.objects.bulk_create(
        [Presence(case=case, user=user, state=state, seen_at=clock.now())],
        update_conflicts=True,
        unique_fields=["case", "user"],
        update_fields=["state", "seen_at"],
    )


def leave(*, case: Case, user: User) -> None:
    Presence.objects.filter(case=case, user=user).delete()


def forget_stale_presence(*, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Drop presence rows nobody refreshed for a long time (periodic job)."""
    deleted, _ = Presence.objects.filter(seen_at__lt=clock.now() - older_than).delete()
    return deleted
