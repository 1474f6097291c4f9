"""Reads for the customers' portal, on top of `cases.selectors` (which holds the tenant
rule: another organization's case does not exist). Every read here takes a fixed number of
SQL statements whatever the number of rows (see tests/test_queries.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import translation

from atiende.accounts.invitations import is_manager
from atiende.accounts.models import User
from atiende.cases import selectors as case_selectors
from atiende.cases.customer import can_reopen, reopen_window
from atiende.cases.models import Attachment, Case, Follower
from atiende.cases.statuses import ACTIVE
from atiende.core import clock
from atiende.core.models import AuditEntry
from atiende.sla.models import SlaTimer
from atiende.sla.texts import when_en, when_es

PAGE_SIZE = 25


def when(instant: dt.datetime) -> str:
    """An instant in plain words, in Bogotá time, in the page's language."""
    return when_en(instant) if translation.get_language() == "en" else when_es(instant)


def portal_cases(
    user: User, *, scope: str = "mine", q: str = "", status: str = "", page: int = 1
) -> tuple[list[Case], bool]:
    """The cases of the "My cases" page: the user's own and those they follow or, for a
    manager who asks (`scope="organization"`), all of their organization's. Newest first,
    one page; returns (cases, has_next_page)."""
    base = case_selectors.visible_cases(user)
    contact = user.contact
    if status == "active":
        base = base.filter(status__in=sorted(ACTIVE))
    elif status == "finished":
        base = base.exclude(status__in=sorted(ACTIVE))
    text = (q or "").strip()
    if text:
        if text.upper().startswith("CS") and text[2:].isdigit():
            base = base.filter(number=text.upper())
        elif text.isdigit() and len(text) <= 7:
            base = base.filter(number=f"CS{int(text):07d}")
        else:
            base = base.filter(Q(subject__icontains=text) | Q(description__icontains=text))
    if scope == "organization" and is_manager(user):
        qs = base
    else:
        # Two index-friendly halves (by requester; by the follower rows) rather than one
        # OR, which no index serves: the person's cases stay fast in a large organization.
        followed = Follower.objects.filter(contact=contact).values("case_id")
        mine = base.filter(requester=contact).order_by()
        qs = mine.union(base.filter(pk__in=followed).order_by())
    page = max(1, page)
    start = (page - 1) * PAGE_SIZE
    rows = list(qs.order_by("-created_at", "-id")[start : start + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


@dataclass
class NextStep:
    text: str
    tone: str  # "working", "you", "done"


def next_steps(cases: list[Case], *, now: dt.datetime | None = None) -> dict[int, NextStep]:
    """What happens next for each case, in plain words, from its SLA clocks (one query)."""
    now = now or clock.now()
    timers: dict[int, dict[str, SlaTimer]] = {}
    ids = [c.pk for c in cases if c.status in ("new", "open")]
    if ids:
        for t in SlaTimer.objects.filter(case_id__in=ids):
            timers.setdefault(t.case_id, {})[t.kind] = t
    return {c.pk: next_step(c, timers.get(c.pk, {}), now=now) for c in cases}


def next_step(case: Case, timers: dict[str, SlaTimer], *, now: dt.datetime) -> NextStep:
    _ = translation.gettext
    if case.status == "awaiting_info":
        return NextStep(
            _("Esperamos su respuesta: responda en este caso para que sigamos trabajando."), "you"
        )
    if case.status == "resolved":
        if can_reopen(case, now=now):
            assert case.resolved_at is not None  # a resolved case has its instant
            until = when(case.resolved_at + reopen_window())
            return NextStep(
                _(
                    "Resuelto. Si la solución no le sirvió, puede reabrirlo hasta el %(until)s; "
                    "si quedó bien, califique la atención."
                )
                % {"until": until},
                "done",
            )
        return NextStep(
            _("Resuelto. Si necesita algo más, escriba y abriremos un caso nuevo."), "done"
        )
    if case.status in ("closed", "cancelled"):
        return NextStep(_("Caso cerrado."), "done")
    response = timers.get("first_response")
    resolution = timers.get("resolution")
    if response and response.met_at is None and not response.paused:
        if response.due_at > now:
            return NextStep(
                _("Estamos trabajando en su caso; le responderemos antes del %(when)s.")
                % {"when": when(response.due_at)},
                "working",
            )
        return NextStep(
            _(
                "Estamos trabajando en su caso; el plazo de primera respuesta venció el %(when)s. "
                "Puede solicitar escalamiento desde el caso."
            )
            % {"when": when(response.due_at)},
            "working",
        )
    if resolution and resolution.met_at is None and not resolution.paused:
        if resolution.due_at > now:
            return NextStep(
                _("Estamos trabajando en su caso; esperamos resolverlo antes del %(when)s.")
                % {"when": when(resolution.due_at)},
                "working",
            )
        return NextStep(
            _(
                "Estamos trabajando en su caso; el plazo de solución venció el %(when)s. "
                "Puede solicitar escalamiento desde el caso."
            )
            % {"when": when(resolution.due_at)},
            "working",
        )
    return NextStep(_("Estamos trabajando en su caso."), "working")


def _public_timeline(user: User, case: Case) -> list[dict[str, Any]]:
    """The customer's events of `cases.selectors.case_timeline` (its notes are
    `visible_notes`: public and verified only), in two queries whatever their number."""
    rows: list[tuple[Any, int, int, dict[str, Any]]] = []
    notes = case_selectors.visible_notes(user, case).values_list(
        "id",
        "created_at",
        "direction",
        "body_text",
        "author_user__name",
        "author_contact_id",
        "author_contact__name",
        "channel__name",
    )
    for pk, at, direction, body, user_name, contact_id, contact_name, channel in notes:
        if user_name:
            author = user_name
        elif contact_id:
            author = contact_name or translation.gettext("Contacto %(id)s") % {"id": contact_id}
        else:
            author = translation.gettext("sistema")
        rows.append(
            (
                at,
                0,
                pk,
                {
                    "at": at,
                    "kind": "note",
                    "id": pk,
                    "direction": direction,
                    "channel": channel,
                    "author": author,
                    "body": body,
                },
            )
        )
    entries = AuditEntry.objects.filter(
        case=case, action__in=sorted(case_selectors.CUSTOMER_EVENTS - {"attachment.added"})
    ).only("id", "at", "action", "changes")
    for e in entries:
        order = -1 if e.action == "case.created" else 1  # the opening comes first
        rows.append((e.at, order, e.pk, {"at": e.at, "kind": e.action, "changes": e.changes}))
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows]


STATUS_WORDS = {
    "new": "Nuevo",
    "open": "En atención",
    "awaiting_info": "Esperamos su respuesta",
    "resolved": "Resuelto",
    "closed": "Cerrado",
    "cancelled": "Cancelado",
}


def timeline(
    user: User, case: Case
) -> tuple[list[dict[str, Any]], list[Attachment], list[Attachment]]:
    """The public timeline (`cases.selectors.case_timeline`, which keeps internal and
    unverified notes out for customers) in plain words, with each note's attachments."""
    _ = translation.gettext
    attachments = list(case_selectors.visible_attachments(user, case))
    by_note: dict[int | None, list[Attachment]] = {}
    for a in attachments:
        by_note.setdefault(a.note_id, []).append(a)
    items = []
    for item in _public_timeline(user, case):
        kind = item["kind"]
        changes = item.get("changes") or {}
        entry = {"at": item["at"], "kind": kind, "when": when(item["at"]), "files": []}
        if kind == "note":
            entry.update(
                author=item["author"],
                body=item["body"],
                mine=item["direction"] == "inbound",
                channel=item["channel"],
                files=by_note.get(item["id"], []),
            )
        elif kind == "case.created":
            entry["text"] = _("Caso creado.")
        elif kind in ("case.status_changed", "case.reopened"):
            new = (changes.get("status") or [None, None])[1]
            if kind == "case.reopened":
                entry["text"] = _("El caso se reabrió.")
            else:
                entry["text"] = _("Estado: %(status)s.") % {
                    "status": _(STATUS_WORDS.get(new, new or ""))
                }
        elif kind == "escalation.requested":
            entry["text"] = _("Se solicitó escalar al nivel %(level)s.") % {
                "level": changes.get("to_level")
            }
        elif kind == "escalation.accepted":
            entry["text"] = _("Escalamiento al nivel %(level)s aceptado.") % {
                "level": changes.get("to_level")
            }
        elif kind == "escalation.rejected":
            entry["text"] = _("Escalamiento al nivel %(level)s rechazado: %(reason)s") % {
                "level": changes.get("to_level"),
                "reason": changes.get("reason") or "",
            }
        elif kind == "attachment.added":
            continue  # shown with the note, or in the list of files
        else:
            continue
        items.append(entry)
    loose = by_note.get(None, [])
    return items, attachments, loose
