"""Reads of agents' notifications and of who is on a case."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from atiende.accounts.models import User
from atiende.core import clock
from atiende.notifications.models import Notification, Preference, Presence, PresenceState

# A page sends its heartbeat every 5 s; a viewer missing for this long has left.
PRESENCE_FRESH = dt.timedelta(seconds=20)
# The bell counts up to this many: beyond it shows "99+" without counting every row.
COUNT_CAP = 100


def unread_count(user: User) -> int:
    """Unread notifications, counted up to `COUNT_CAP` on the partial index."""
    ids = Notification.objects.filter(user=user, read_at__isnull=True).values("id")[:COUNT_CAP]
    return len(ids)


def notifications_for(user: User, *, limit: int = 50) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(user=user)
        .select_related("case")
        .order_by("-created_at", "-id")[:limit]
    )


def email_kinds(user: User) -> list[str]:
    pref = Preference.objects.filter(user=user).first()
    return list(pref.email_kinds) if pref else []


def present_on(case_id: int, *, exclude: User | None = None) -> list[dict[str, Any]]:
    """Who else is on the case now: [{"name", "state", "user_id"}], writers first."""
    rows = (
        Presence.objects.filter(case_id=case_id, seen_at__gte=clock.now() - PRESENCE_FRESH)
        .select_related("user")
        .order_by("-state", "user__name")  # "writing" > "viewing": writers first
    )
    if exclude is not None:
        rows = rows.exclude(user=exclude)
    return [{"user_id": p.user_id, "name": p.user.name, "state": p.state} for p in rows]


def viewers_of(
    case_ids: Iterable[int], *, exclude: User | None = None
) -> dict[int, list[dict[str, Any]]]:
    """For a queue list: who is on each of these cases now, in one query.

    Returns {case_id: [{"user_id", "name", "state"}]} with only the cases someone is on;
    `state` is "viewing" or "writing" (models.PresenceState)."""
    ids = list(case_ids)
    if not ids:
        return {}
    rows = (
        Presence.objects.filter(case_id__in=ids, seen_at__gte=clock.now() - PRESENCE_FRESH)
        .values_list("case_id", "user_id", "user__name", "state")
        .order_by("case_id", "user__name")
    )
    if exclude is not None:
        rows = rows.exclude(user=exclude)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for case_id, user_id, name, state in rows:
        out[case_id].append({"user_id": user_id, "name": name, "state": state})
    return dict(out)


def is_writing(entry: dict[str, Any]) -> bool:
    return bool(entry["state"] == PresenceState.WRITING)
