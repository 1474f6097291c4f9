"""The phone channel's writes: PBX events become the call log, missed calls become
callbacks, and agents turn calls into cases.

A call is rebuilt from the events received so far, whatever their order: `started_at` is
the earliest event, `answered_at` the `answer`, `ended_at` the `hangup`; the state follows
from which of them arrived (ended > answered > ringing), and an `answer` that comes after
its `hangup` still marks the call answered. Each (line, call id, event) is applied once:
the unique `CallEvent` row decides, and the call row is locked while an event is applied,
so two events of one call applied at once by two workers serialise.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction

from atiende.cases import services as cases
from atiende.cases import statuses
from atiende.channels import services as channel_services
from atiende.channels.messages import InboundMessage
from atiende.channels.phone import conf, selectors
from atiende.channels.phone.inbound import CAUSES, MISSED_CAUSES, CtiEvent
from atiende.channels.phone.models import Call, CallEvent, CallState
from atiende.core import audit, clock, once, rows
from atiende.core.errors import DomainError, NotFound
from atiende.core.transactions import service
from atiende.customers.phones import normalize

if TYPE_CHECKING:
    from atiende.accounts.models import User
    from atiende.cases.models import Case
    from atiende.directory.models import Channel

log = logging.getLogger(__name__)


class CallAlreadyOnCase(DomainError):
    status = 409
    code = "call_on_case"


def out_of_hours(line: Channel, at: dt.datetime) -> bool:
    """Whether `at` is outside the hours the line attends requests (its callback's SLA then
    starts at the next opening: the SLA clocks count business time only)."""
    from atiende.core import site
    from atiende.directory import hours

    try:
        return not hours.open_for(line, "request", site.get("cases.default_priority"), at)
    except NotFound:
        return False


def _new_call(line: Channel, event: CtiEvent, at: dt.datetime) -> Call | None:
    """The call's row, written by its first event; None if another worker wrote it a
    moment ago (its unique (line, call id): one statement, no savepoint)."""
    zone = conf.zone(line)
    frm, to = normalize(event.from_, zone=zone), normalize(event.to, zone=zone)
    caller = frm if event.direction == "in" else to
    contacts = selectors.contacts_with_number(caller.e164 or "")
    orgs = {c.organization_id for c in contacts}
    call = Call(
        channel=line,
        call_id=event.call_id,
        direction=event.direction,
        from_raw=event.from_,
        to_raw=event.to,
        from_e164=frm.e164 or "",
        to_e164=to.e164 or "",
        caller_e164=caller.e164 or "",
        anonymous=caller.anonymous,
        started_at=at,
        out_of_hours=event.direction == "in" and out_of_hours(line, at),
        contact=contacts[0] if len(contacts) == 1 else None,
        organization=contacts[0].organization if len(orgs) == 1 and contacts else None,
        ambiguous=len(contacts) > 1,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    if not rows.add_once(call, key=["channel", "call_id"]):
        return None
    if contacts:
        call.contacts.set(contacts)
    return call


def _locked_call(line: Channel, event: CtiEvent, at: dt.datetime) -> Call:
    # Every event of every call passes here: one statement without the ORM's query building
    # (core/rows.py), the call's row locked until the job's transaction ends.
    call = rows.one(Call, lock=True, channel_id=line.pk, call_id=event.call_id)
    if call is None:
        call = _new_call(line, event, at)
    if call is None:  # another worker created it a moment ago (and committed: ours waited)
        call = rows.one(Call, lock=True, channel_id=line.pk, call_id=event.call_id)
    if call is None:
        raise Call.DoesNotExist(f"call {event.call_id!r} on {line.slug}")
    return call


@service
def apply_event(*, line: Channel, event: CtiEvent, received_at: dt.datetime) -> Call | None:
    """Apply one PBX event to its call (creating the call if this is its first event);
    None when the event was applied before."""
    call = _locked_call(line, event, received_at)
    # The unique (line, call id, event) row decides; one statement, no savepoint.
    if (
        once.insert_once(
            CallEvent,
            {
                "channel_id": line.pk,
                "pbx_call_id": event.call_id,
                "event": event.event,
                "call_id": call.pk,
                "payload": event.as_payload(),
                "received_at": received_at,
            },
            key=["channel", "pbx_call_id", "event"],
        )
        is None
    ):
        return None  # delivered twice: the first one counted
    before = (call.state, call.missed)
    if received_at < call.started_at:
        call.started_at = received_at
    queue_named = bool(event.queue and not call.queue)
    if queue_named:
        call.queue = event.queue
    if call.group_id is None and (queue_named or event.event == "newCall"):
        call.group = selectors.group_for(line, call.queue)
    known = {n.casefold() for n in call.agent_names}
    new_names = [n for n in event.users if n.casefold() not in known]
    if new_names:
        call.agent_names = [*call.agent_names, *new_names]
        resolved = selectors.agents_by_names(new_names)
        if resolved:
            call.agents.add(*resolved)
    if event.answering_number:
        call.answering_number = event.answering_number
    if event.event == "answer":
        call.answered_at = received_at
    elif event.event == "hangup":
        call.ended_at = received_at
        call.cause = event.cause or call.cause
        if event.recording_url:
            call.recording_url = event.recording_url
        call.voicemail = call.voicemail or event.cause == "voicemail"
    if call.agent_id is None:
        call.agent = _agent(line, call, event)
    _settle(call, before)
    return call


def _agent(line: Channel, call: Call, event: CtiEvent) -> User | None:
    """Who took the call: the `answeringNumber` against agents' extensions and phones,
    else the agent the `answer` event names, else the caller of an outbound call, else the
    only agent the PBX named for an answered call."""
    if call.answering_number:
        agent = selectors.agent_by_number(call.answering_number, zone=conf.zone(line))
        if agent is not None:
            return agent
    names: list[str] = []
    if event.event == "answer" and event.users:
        names = event.users[:1]
    elif call.direction == "out" or (call.answered_at and len(call.agent_names) == 1):
        names = call.agent_names[:1]
    found = selectors.agents_by_names(names) if names else []
    return found[0] if found else None


def _settle(call: Call, before: tuple[str, bool]) -> None:
    """Derive state, missed and duration from the events so far, save, and do what a new
    state asks: a callback for a newly missed call, a timeline entry for a call on a case
    that just ended."""
    if call.answered_at and call.ended_at and call.answered_at > call.ended_at:
        call.answered_at = call.ended_at  # the `answer` arrived after its `hangup`
    if call.ended_at:
        call.state = CallState.ENDED
    elif call.answered_at:
        call.state = CallState.ANSWERED
    else:
        call.state = CallState.RINGING
    call.missed = (
        call.state == CallState.ENDED
        and call.direction == "in"
        and call.answered_at is None
        and call.cause in MISSED_CAUSES
    )
    if call.ended_at and call.answered_at and call.cause == "timeout":
        call.duration_seconds = None  # closed by the sweep: nobody knows when it ended
    elif call.ended_at:
        start = call.answered_at or call.ended_at
        call.duration_seconds = max(0, int((call.ended_at - start).total_seconds()))
    call.updated_at = clock.now()
    rows.update(call)
    was_state, was_missed = before
    if call.missed and not was_missed and call.case_id is None:
        _open_callback(call)
    elif call.state == CallState.ENDED and was_state != CallState.ENDED and call.case_id:
        audit.record(
            actor=None,
            action="call.ended",
            obj=call,
            case=call.case,
            changes=_call_summary(call),
        )


def _open_callback(call: Call) -> None:
    """A missed inbound call asks for a call back: a note on the callback the same number
    got within the line's join window, else on the caller's open case on this line, else a
    new request case on the line (its SLA, counted from the next opening if out of hours).
    Anonymous and unreadable numbers are only logged."""
    line = call.channel
    assert call.ended_at is not None  # a missed call has ended
    if not call.caller_e164:
        log.info("cti %s: missed call %s from a withheld number", line.slug, call.call_id)
        return
    recent = (
        Call.objects.filter(
            channel=line,
            caller_e164=call.caller_e164,
            callback=True,
            ended_at__gte=call.ended_at - conf.callback_join(line),
        )
        .exclude(pk=call.pk)
        .exclude(case__status__in=statuses.FINISHED)
        .select_related("case")
        .order_by("-ended_at")
        .first()
    )
    who = call.contact.name if call.contact_id and call.contact.name else call.caller_e164
    cause = CAUSES.get(call.cause, call.cause)
    when = call.started_at.astimezone(dt.timezone(dt.timedelta(hours=-5))).strftime(
        "%Y-%m-%d %H:%M"
    )
    body = (
        f"Llamada perdida de {call.caller_e164} a la línea {line.name} el {when} (hora de Bogotá): "
        f"{cause}."
        + (" Llamó fuera del horario de atención." if call.out_of_hours else "")
        + " Devolver la llamada."
    )
    msg = InboundMessage(
        channel=line.slug,
        external_id=f"cti:{call.call_id}",
        body_text=body,
        sender_phone=call.caller_e164,
        sender_name=call.contact.name if call.contact_id else "",
        subject=f"Devolver llamada a {who}",
        case_number=recent.case.number if recent and recent.case_id else None,
        join_open_case=True,
        type="request",
        acknowledge=False,
        received_at=call.ended_at,
    )
    try:
        with transaction.atomic():
            received = channel_services.receive_message(msg)
    except DomainError as exc:
        log.warning("cti %s: no callback for call %s: %s", line.slug, call.call_id, exc)
        return
    call.case = received.case
    call.callback = True
    fields = ["case", "callback"]
    requester = received.case.requester
    if call.contact_id is None and not call.ambiguous and requester is not None:
        # an unknown number became a contact with its callback: the log names it from now on
        call.contact, call.organization = requester, requester.organization
        call.contacts.add(requester)
        fields += ["contact", "organization"]
    call.save(update_fields=fields)
    _record_attached(call, received.case, None)


def _call_summary(call: Call) -> dict[str, Any]:
    return {
        "call": call.pk,
        "line": call.channel.slug,
        "direction": call.direction,
        "number": call.caller_e164 or call.from_raw,
        "state": call.state,
        "missed": call.missed,
        "cause": call.cause,
        "started_at": call.started_at,
        "duration_seconds": call.duration_seconds,
        "agent": call.agent.name if call.agent_id else None,
        "recording_url": call.recording_url or None,
    }


def _record_attached(call: Call, case: Case, actor: User | None) -> None:
    audit.record(
        actor=actor, action="call.attached", obj=call, case=case, changes=_call_summary(call)
    )


@service
def attach_call(*, call: Call, case: Case, actor: User | None) -> Call:
    """Put the call on `case`: it shows on the case's timeline (for agents) with its
    duration and agent. A call already on another case stays there (409)."""
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("channel", "agent", "case")
        .get(pk=call.pk)
    )
    if call.case_id == case.pk:
        return call
    if call.case_id is not None:
        raise CallAlreadyOnCase(
            f"La llamada ya está en el caso {call.case.number}.", case=call.case.number
        )
    call.case = case
    call.updated_at = clock.now()
    call.save(update_fields=["case", "updated_at"])
    _record_attached(call, case, actor)
    return call


@service
def open_case_from_call(
    *,
    call: Call,
    actor: User,
    subject: str = "",
    type: str | None = None,
    priority: str | None = None,
) -> Case:
    """A new case for the caller (the recognised contact, unless several share the number)
    on the call's line, with the call on its timeline."""
    if call.case_id is not None:
        raise CallAlreadyOnCase(
            f"La llamada ya está en el caso {call.case.number}.", case=call.case.number
        )
    who = (
        call.contact.name
        if call.contact_id and call.contact.name
        else (call.caller_e164 or "número oculto")
    )
    case = cases.open_case(
        actor=actor,
        channel=call.channel,
        subject=subject or f"Llamada de {who}",
        type=type or "request",
        priority=priority,
        requester=call.contact if not call.ambiguous else None,
        organization=call.organization,
        acknowledge=False,
    )
    attach_call(call=call, case=case, actor=actor)
    return case


def close_stale_calls(*, now: dt.datetime | None = None) -> int:
    """Close the calls the PBX never hung up: still ringing past their line's
    `ring_timeout_minutes` (closed as missed; an inbound one gets its callback), or still
    answered past `answered_timeout_minutes` (closed, talk time unknown). `cause: timeout`."""
    now = now or clock.now()
    closed = 0
    for line in conf.lines():
        ringing = Call.objects.filter(
            channel=line, state=CallState.RINGING, started_at__lt=now - conf.ring_timeout(line)
        ).values_list("pk", flat=True)[:500]
        answered = Call.objects.filter(
            channel=line,
            state=CallState.ANSWERED,
            answered_at__lt=now - conf.answered_timeout(line),
        ).values_list("pk", flat=True)[:500]
        for state, pks in (
            (CallState.RINGING, list(ringing)),
            (CallState.ANSWERED, list(answered)),
        ):
            for pk in pks:
                try:
                    with transaction.atomic():
                        closed += _close_stale(pk, state, now)
                except Exception:  # one bad row must not stop the sweep every minute
                    log.exception("cti: %s call %s not closed", state, pk)
    return closed


def _close_stale(pk: int, state: str, now: dt.datetime) -> int:
    call = Call.objects.select_for_update().get(pk=pk)
    if call.state != state:
        return 0  # its event came in the meantime
    before = (call.state, call.missed)
    call.ended_at = now
    call.cause = "timeout"
    _settle(call, before)
    return 1


class NotMissed(DomainError):
    status = 409
    code = "call_not_missed"


@service
def mark_call_done(*, call: Call, actor: User) -> Call:
    """ "Marcar como atendida": somebody dealt with a missed call or a callback (called back,
    or nothing to do). Only ended missed calls and callbacks; marking twice changes nothing."""
    call = Call.objects.select_for_update(of=("self",)).select_related("case").get(pk=call.pk)
    if call.done_at is not None:
        return call
    if call.state != CallState.ENDED or not (call.missed or call.callback):
        raise NotMissed("Solo se marcan como atendidas las llamadas perdidas y las devoluciones.")
    call.done_at = clock.now()
    call.done_by = actor
    call.updated_at = call.done_at
    call.save(update_fields=["done_at", "done_by", "updated_at"])
    audit.record(
        actor=actor,
        action="call.done",
        obj=call,
        case=call.case,
        changes={"call": call.pk, "number": call.caller_e164 or call.from_raw, "done": True},
    )
    return call
