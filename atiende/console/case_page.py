"""What the console's case page shows, read in a fixed number of queries whatever the
number of notes, attachments, calls or audit entries (the page's query-count test holds
it to that): the header, the SLA clocks in words, the escalation ladder, one timeline of
every channel, and what the composer may offer (channels, the WhatsApp window, canned
answers). Reads only; tenant scoping is the caller's `cases.selectors.case_for`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, Q
from django.utils.dates import MONTHS_3
from django.utils.translation import gettext as _

from atiende.accounts.models import STAFF_ROLES, SupportGroup, User
from atiende.cases import statuses, transitions
from atiende.cases.models import Attachment, Case, Direction, Note, Visibility
from atiende.channels.phone.models import Call
from atiende.channels.whatsapp.models import Conversation
from atiende.console.canned import selectors as canned
from atiende.console.templatetags import console_case as labels
from atiende.core import clock
from atiende.core.models import AuditEntry
from atiende.directory import selectors as channel_selectors
from atiende.escalations import selectors as ladder
from atiende.escalations.models import EscalationLevel, EscalationRequest, RequestStatus
from atiende.sla.models import SlaTimer
from atiende.sla.schedules import calendar

WHATSAPP_WINDOW = dt.timedelta(hours=24)
# The composer warns that the WhatsApp window is about to close this long before it does.
WINDOW_REMINDER = dt.timedelta(hours=1)
REPLY_KINDS = ("email", "whatsapp", "portal")


# -- Words for durations ------------------------------------------------------------------


def duration_words(seconds: int) -> str:
    """'2 h 10 min', '26 h', '45 min', 'menos de 1 min'. No days: SLA time is business
    time, where a day of 24 hours would mislead (a business day has 12)."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return _("menos de 1 min")
    hours, minutes = divmod(seconds // 60, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


# -- SLA ------------------------------------------------------------------------------------


@dataclass
class Clock:
    kind: str
    label: str
    state: str  # running, at_risk, paused, met, breached
    due: dt.datetime
    target_seconds: int
    words: str
    state_label: str
    used_percent: int
    paused_seconds: int
    paused_words: str
    met_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    level: int = 1


KIND_LABELS = {"first_response": "Primera respuesta", "resolution": "Resolución"}


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def sla_clocks(
    timers: list[SlaTimer], now: dt.datetime, *, stopped_at: dt.datetime | None = None
) -> list[Clock]:
    """The case's clocks in words. `stopped_at`: when the case was closed or cancelled (its
    clocks stand still from then on: nothing is "overdue" on a finished case)."""
    out = []
    for t in sorted(timers, key=lambda t: 0 if t.kind == "first_response" else 1):
        cal = calendar(t.schedule)
        paused = t.paused_seconds
        running_pause_from = _parse(t.pauses[-1][0]) if t.paused else None
        if running_pause_from is not None:
            paused += cal.elapsed(running_pause_from, now)
        # Where the clock stands: met, paused, stopped with the case, or now.
        until = t.met_at or running_pause_from or stopped_at or now
        overdue = t.due_at < until if t.met_at is not None else t.due_at <= until
        if t.breached_at is not None or overdue:
            state = "breached"
            late = duration_words(cal.elapsed(t.due_at, until) if t.due_at < until else 0)
            if t.met_at is not None:
                words = _("cumplido con %(d)s de retraso") % {"d": late}
            else:
                words = _("vencido hace %(d)s") % {"d": late}
            used = 100
        elif t.met_at is not None:
            state = "met"
            words = _("cumplido")
            used = _used(cal, t, t.met_at)
        elif stopped_at is not None:
            state = "stopped"
            words = _("detenido: el caso terminó")
            used = _used(cal, t, stopped_at)
        else:
            state = "paused" if t.paused else ("at_risk" if t.at_risk_at <= now else "running")
            left = cal.elapsed(running_pause_from or now, t.due_at)
            words = _("vence en %(d)s") % {"d": duration_words(left)}
            if t.paused:
                words = _("en pausa; quedan %(d)s") % {"d": duration_words(left)}
            used = 100 - round(100 * left / t.target_seconds) if t.target_seconds else 100
        out.append(
            Clock(
                kind=t.kind,
                label=_(KIND_LABELS.get(t.kind, t.kind)),
                state=state,
                due=t.due_at,
                target_seconds=t.target_seconds,
                words=words,
                state_label=_(STATE_LABELS[state]),
                used_percent=max(0, min(100, used)),
                paused_seconds=paused,
                paused_words=duration_words(paused) if paused else "",
                met_at=t.met_at,
                breached_at=t.breached_at,
                level=t.level,
            )
        )
    return out


STATE_LABELS = {
    "running": "en curso",
    "at_risk": "en riesgo",
    "paused": "en pausa",
    "met": "cumplido",
    "breached": "incumplido",
    "stopped": "detenido",
}


def _used(cal: Any, t: SlaTimer, until: dt.datetime) -> int:
    if not t.target_seconds:
        return 100
    spent = max(0, cal.elapsed(t.started_at, until) - t.paused_seconds)
    return round(100 * spent / t.target_seconds)


# -- The escalation ladder ---------------------------------------------------------------


@dataclass
class Rung:
    number: int
    title: str
    responsible: str
    people: list[str]
    current: bool
    passed: bool


def ladder_rungs(case: Case) -> list[Rung]:
    """Levels 1..N with who answers for each: one query for the levels, one for the people."""
    levels = list(EscalationLevel.objects.select_related("group").order_by("number"))
    groups = [lv.group_id for lv in levels if lv.group_id]
    people = list(
        User.objects.filter(
            Q(level__in=[lv.number for lv in levels]) | Q(support_groups__in=groups),
            is_active=True,
            role__in=STAFF_ROLES,
        )
        .prefetch_related(None)
        .values_list("name", "level", "support_groups")
        .distinct()
    )
    out = []
    for lv in levels:
        names = sorted(
            {
                n
                for n, level, group in people
                if level == lv.number or (group and group == lv.group_id)
            }
        )
        out.append(
            Rung(
                number=lv.number,
                title=lv.title,
                responsible=lv.responsible_name or (lv.group.name if lv.group_id else ""),
                people=names,
                current=lv.number == case.level,
                passed=lv.number < case.level,
            )
        )
    return out


# -- The timeline -------------------------------------------------------------------------

# Audit actions the page shows (notes are shown from their own rows; deliveries as the
# note's state).
HIDDEN_ACTIONS = ("note.added", "note.delivery", "attachment.added")


@dataclass
class Item:
    """One entry of the timeline, with its words already made (the template only places
    them: rendering ~50 entries through template logic cost more than all the queries)."""

    at: dt.datetime
    kind: str  # note, call, event, attachment
    order: int
    pk: int
    note: Note | None = None
    call: Call | None = None
    entry: AuditEntry | None = None
    attachments: list[Attachment] = field(default_factory=list)
    channel_label: str = ""
    at_text: str = ""
    css: str = ""
    tag: str = ""
    author: str = ""
    lines: list[str] = field(default_factory=list)
    delivery: str = ""

    @property
    def sort_key(self) -> tuple:
        return (self.at, self.order, self.pk)


BOGOTA = ZoneInfo("America/Bogota")


def _when(at: dt.datetime, months: list[str]) -> str:
    """'1 Dic 2026, 10:00' in Bogotá (what the `date:"j M Y, H:i"` filter writes, at a
    fraction of its cost: the timeline formats every entry's instant)."""
    local = at.astimezone(BOGOTA)
    return (
        f"{local.day} {months[local.month - 1]} {local.year}, {local.hour:02d}:{local.minute:02d}"
    )


def _note_words(item: Item) -> None:
    n = item.note
    assert n is not None
    css = ["entry", "note", f"note-{n.direction}"]
    if n.unverified:
        item.tag = _("Remitente no verificado")
        css += ["note-internal", "note-unverified"]
    elif n.visibility == Visibility.INTERNAL:
        item.tag = _("Nota interna")
        css.append("note-internal")
    elif n.direction == Direction.INBOUND:
        item.tag = _("Del cliente")
    else:
        item.tag = _("Respuesta al cliente")
    item.css = " ".join(css)
    if n.author_user_id:
        item.author = n.author_user.name
    elif n.author_contact_id:
        item.author = str(n.author_contact)
    else:
        item.author = _("sistema")
    if n.delivery_status:
        item.delivery = labels.label(n.delivery_status, "delivery")
        if n.delivery_status == "failed" and n.delivery_error:
            item.delivery += f" — {n.delivery_error}"


def _event_words(item: Item) -> None:
    e = item.entry
    assert e is not None
    item.tag = labels.event_title(e.action)
    item.css = f"entry event event-{e.action.replace('.', '-').replace('_', '-')}"
    item.author = e.actor_label or _("sistema")
    item.lines = labels.event_changes(e.changes)


def timeline(case: Case) -> list[Item]:
    """Notes (every channel, internal ones included), phone calls linked to the case,
    attachments, and the audit trail's events, in order: four queries."""
    channels = {c.pk: c for c in channel_selectors.channels()}
    notes = list(
        Note.objects.filter(case=case)
        .select_related("author_user", "author_contact")
        .order_by("created_at", "id")
    )
    attachments = list(Attachment.objects.filter(case=case).order_by("created_at", "id"))
    by_note: dict[int, list[Attachment]] = {}
    items: list[Item] = []
    for a in attachments:
        if a.note_id:
            by_note.setdefault(a.note_id, []).append(a)
        else:
            items.append(
                Item(at=a.created_at, kind="attachment", order=2, pk=a.pk, attachments=[a])
            )
    for n in notes:
        ch = channels.get(n.channel_id) if n.channel_id is not None else None
        items.append(
            Item(
                at=n.created_at,
                kind="note",
                order=0,
                pk=n.pk,
                note=n,
                attachments=by_note.get(n.pk, []),
                channel_label=ch.name if ch else "",
            )
        )
    for call in Call.objects.filter(case=case).select_related("agent").order_by("started_at", "id"):
        ch = channels.get(call.channel_id)
        items.append(
            Item(
                at=call.started_at,
                kind="call",
                order=1,
                pk=call.pk,
                call=call,
                channel_label=ch.name if ch else "",
            )
        )
    entries = AuditEntry.objects.filter(case=case).exclude(action__in=HIDDEN_ACTIONS)
    for e in entries.select_related(None).order_by("at", "id"):
        # The opening comes first among what happened at its instant.
        order = -1 if e.action == "case.created" else 3
        items.append(Item(at=e.at, kind="event", order=order, pk=e.pk, entry=e))
    items.sort(key=lambda i: i.sort_key)
    months = [str(MONTHS_3[m]).title() for m in range(1, 13)]  # in the request's language
    for item in items:
        item.at_text = _when(item.at, months)
        if item.kind == "note":
            _note_words(item)
        elif item.kind == "event":
            _event_words(item)
    return items


# -- The composer -------------------------------------------------------------------------


@dataclass
class Window:
    """WhatsApp's customer service window on one channel."""

    open: bool
    closes_at: dt.datetime | None
    left_words: str
    closing_soon: bool


def whatsapp_window(channel: Any, contact: Any, now: dt.datetime) -> Window:
    keys = Q(pk__in=[])
    if contact is not None and contact.whatsapp_id:
        keys |= Q(wa_id=contact.whatsapp_id)
    if contact is not None and contact.whatsapp_user_id:
        keys |= Q(user_id=contact.whatsapp_user_id)
    last = Conversation.objects.filter(keys, channel=channel).aggregate(m=Max("last_inbound_at"))[
        "m"
    ]
    if last is None or now >= last + WHATSAPP_WINDOW:
        return Window(False, last + WHATSAPP_WINDOW if last else None, "", False)
    closes = last + WHATSAPP_WINDOW
    left = int((closes - now).total_seconds())
    return Window(True, closes, duration_words(left), closes - now <= WINDOW_REMINDER)


def reply_channels(case: Case, contact: Any, emails: list[str]) -> list[Any]:
    """Where an answer may go: the intake channel first, then the other channels the
    contact can be reached on (email with an address, WhatsApp with a number) and the
    portal (a public comment the customer reads there)."""
    active = [c for c in channel_selectors.channels() if c.active]
    has_whatsapp = contact is not None and bool(contact.whatsapp_id)
    reach = {"email": bool(emails), "whatsapp": has_whatsapp, "portal": True}
    reachable = [c for c in active if reach.get(c.kind, False)]
    intake = channel_selectors.channel_by_id(case.channel_id)
    out = [intake] if intake is not None and intake.kind in (*REPLY_KINDS, "api") else []
    return out + [c for c in reachable if c not in out]


# -- The whole page -----------------------------------------------------------------------


@dataclass
class CasePage:
    case: Case
    emails: list[str]
    phones: list[str]
    clocks: list[Clock]
    rungs: list[Rung]
    pending: EscalationRequest | None
    evidence: dict[str, Any] | None
    may_decide: bool
    eligibility: Any
    items: list[Item]
    channels: list[Any]
    default_channel: Any
    windows: dict[int, Window]
    answers: list[Any]
    answer_texts: dict[str, str]
    agents: list[User]
    groups: list[SupportGroup]
    next_statuses: list[tuple[str, str]]
    finished: bool
    max_bytes: int
    max_words: str
    history: list[EscalationRequest]
    now: dt.datetime
    description: str


def case_page(user: User, case: Case, *, now: dt.datetime | None = None) -> CasePage:
    now = now or clock.now()
    contact = case.requester
    emails = list(contact.emails.values_list("address", flat=True)) if contact else []
    phones = list(contact.phones.values_list("number", flat=True)) if contact else []
    requests = list(
        EscalationRequest.objects.filter(case=case)
        .select_related("requested_by", "requested_by_contact", "decided_by")
        .order_by("created_at", "id")
    )
    pending = next((r for r in requests if r.status == RequestStatus.PENDING), None)
    channels = reply_channels(case, contact, emails)
    windows = {c.pk: whatsapp_window(c, contact, now) for c in channels if c.kind == "whatsapp"}
    answers = canned.active_answers()
    items = timeline(case)
    finished = case.status in statuses.FINISHED
    return CasePage(
        case=case,
        emails=emails,
        phones=phones,
        clocks=sla_clocks(
            list(SlaTimer.objects.filter(case=case)),
            now,
            stopped_at=(case.closed_at or case.updated_at) if finished else None,
        ),
        rungs=ladder_rungs(case),
        pending=pending,
        evidence=ladder.evidence(case, now=now) if pending is not None else None,
        may_decide=pending is not None and ladder.can_verify(user, pending.to_level),
        eligibility=None if pending is not None else ladder.eligibility(case, actor=user, now=now),
        items=items,
        channels=channels,
        default_channel=channels[0] if channels else None,
        windows=windows,
        answers=answers,
        answer_texts={a.slug: canned.text_for(a, case, user) for a in answers},
        agents=list(
            User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("name", "id")
        ),
        groups=list(SupportGroup.objects.order_by("name")),
        next_statuses=[
            (s, statuses.label(s)) for s in sorted(transitions.ALLOWED.get(case.status, ()))
        ],
        finished=finished,
        max_bytes=settings.ATIENDE_MAX_ATTACHMENT_BYTES,
        max_words=f"{settings.ATIENDE_MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB",
        history=[r for r in requests if r.status != RequestStatus.PENDING],
        now=now,
        description=_description(case, items),
    )


def _description(case: Case, items: list[Item]) -> str:
    """The case's description, unless the first message already says it (a channel opens
    the case with the message as its description)."""
    text = (case.description or "").strip()
    first = next((i.note for i in items if i.kind == "note" and not i.note.automatic), None)
    if first is not None and (first.body_text or "").strip() == text:
        return ""
    return text


def is_public(note: Note) -> bool:
    return note.visibility == Visibility.PUBLIC and note.direction != Direction.INTERNAL
