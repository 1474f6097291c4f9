"""Cases, notes and attachments: the only code that changes them. Every change is audited."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, models

from atiende.accounts.models import SupportGroup, User
from atiende.cases import numbers, statuses, storage, transitions, versions
from atiende.cases.acknowledgements import acknowledgement
from atiende.cases.models import (
    Attachment,
    Case,
    CaseCounter,
    CaseType,
    Classification,
    Delivery,
    Direction,
    Note,
    Priority,
    Visibility,
)
from atiende.cases.statuses import Status
from atiende.core import audit, clock, deferred, events, rows, site, text
from atiende.core.errors import InvalidInput, PermissionDenied, TransitionRefused
from atiende.core.transactions import batching, service, service_scope
from atiende.customers.models import Contact, Organization
from atiende.directory import selectors as channel_selectors
from atiende.directory.models import Channel
from atiende.sla import services as sla
from atiende.worker import queue, senders

NUMBER_SEQUENCE = "cases_case_number_seq"  # PostgreSQL; created by migration 0004


def _locked_case(pk: int) -> Case:
    """The case, its row locked until the transaction ends: every note, status change and
    update starts here, so one statement built once (core/rows.py), not by the ORM."""
    case = rows.one(Case, lock=True, id=pk)
    if case is None:
        raise Case.DoesNotExist(f"case {pk}")
    return case


def _next_number() -> str:
    """The next case number: unique and increasing under any concurrency.

    PostgreSQL: a sequence, which takes no lock that lives until commit, so concurrent
    creators never queue behind each other (a rolled-back creation leaves a gap).
    SQLite: a counter row incremented in the creating transaction; SQLite serialises write
    transactions anyway (IMMEDIATE), so numbers are also gapless there.
    """
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT nextval(%s)", [NUMBER_SEQUENCE])
            return numbers.format_number(cur.fetchone()[0])
        table = CaseCounter._meta.db_table
        cur.execute(
            f"UPDATE {table} SET value = value + 1 WHERE name = %s RETURNING value", ["case"]
        )
        row = cur.fetchone()
    if row is None:  # the row comes with the migrations; put it back if it was removed
        CaseCounter.objects.get_or_create(name="case", defaults={"value": 0})
        return _next_number()
    return numbers.format_number(row[0])


def _check_choice(
    errors: dict[str, str], field: str, value: Any, choices: type[models.Choices]
) -> None:
    values = _values(choices)
    if value not in values:
        errors[field] = f"Valor inválido {value!r}; use uno de: {', '.join(values)}."


@functools.cache
def _values(choices: type[models.Choices]) -> tuple[str, ...]:
    """A choices class's values: Django builds the list anew at each `.values`."""
    return tuple(choices.values)


@service
def open_case(
    *,
    actor: User | None,
    channel: Channel,
    subject: str,
    description: str = "",
    type: str | None = None,
    priority: str | None = None,
    organization: Organization | None = None,
    requester: Contact | None = None,
    assignee: User | None = None,
    group: SupportGroup | None = None,
    classification: str | None = None,
    acknowledge: bool | None = None,
) -> Case:
    """Open a case, start its SLA clocks and (for customers and channel intake, unless
    `acknowledge=False`) answer with the case number — and, out of hours, when it will be
    attended. A customer opens cases for themselves, in their own organization."""
    type = type or site.get("cases.default_type")
    priority = priority or site.get("cases.default_priority")
    errors: dict[str, str] = {}
    _check_choice(errors, "type", type, CaseType)
    _check_choice(errors, "priority", priority, Priority)
    classification = classification or Classification.INTERNAL
    _check_choice(errors, "classification", classification, Classification)
    # Channels bring subjects from other systems: line breaks become spaces rather than
    # losing the message (the API refuses them with a 422 before this).
    subject = text.one_line(subject or "").strip()
    if not subject:
        errors["subject"] = "El asunto es obligatorio."
    elif len(subject) > 300:
        errors["subject"] = "El asunto admite máximo 300 caracteres."
    if actor is not None and actor.is_customer:
        requester = actor.contact
        organization = requester.organization if requester else None
        assignee = group = None
    if requester is not None and organization is None:
        organization = requester.organization
    if requester is not None and requester.organization_id not in (
        None,
        getattr(organization, "pk", None),
    ):
        errors["requester"] = "El solicitante no pertenece a esa organización."
    if assignee is not None and not assignee.is_agent:
        errors["assignee"] = "Solo se puede asignar a agentes."
    if not channel.active:
        errors["channel"] = f"El canal {channel.slug} no está activo."
    elif not errors and not channel.attends_request(type, priority):
        errors["channel"] = (
            f"El canal «{channel.name}» no atiende este tipo de solicitud ({channel.attends_label or 'restringido'})."
        )
    if errors:
        raise InvalidInput("No se pudo crear el caso.", errors=errors)

    now = clock.now()
    case = Case(
        number=_next_number(),
        type=type,
        priority=priority,
        channel=channel,
        organization=organization,
        requester=requester,
        assignee=assignee,
        group=group,
        classification=classification,
        subject=subject,
        description=description or "",
        created_at=now,
        updated_at=now,
    )
    rows.add(case)
    case.__dict__["_opened_in"] = _transaction_block()  # see _opened_here
    timers = sla.start_timers(case)
    audit.record(
        actor=actor,
        action="case.created",
        obj=case,
        case=case,
        at=now,
        changes={
            "number": [None, case.number],
            "type": [None, type],
            "priority": [None, priority],
            "channel": [None, channel.slug],
            "organization": [None, organization.slug if organization else None],
            "requester": [None, requester.pk if requester else None],
            "status": [None, case.status],
            "level": [None, case.level],
            **sla.describe_start(timers),
        },
    )
    if acknowledge if acknowledge is not None else (actor is None or actor.is_customer):
        add_note(case=case, body_text=acknowledgement(case), automatic=True)
    if assignee is not None:
        events.publish("case.assigned", case=case, assignee=assignee, actor=actor)
    return case


def _transaction_block() -> object | None:
    """The innermost atomic block open now (a service scope joined by the services it
    calls), or None outside a transaction."""
    blocks = connection.atomic_blocks
    return blocks[-1] if connection.in_atomic_block and blocks else None


def _opened_here(case: Case) -> bool:
    """Whether `case` is the object `open_case` returned in the transaction block still
    open: no other transaction can see it yet and this object is current, so `add_note`
    need not lock and read it again (docs/decisions/0005-intake-context.md)."""
    block = _transaction_block()
    return block is not None and case.__dict__.get("_opened_in") is block


def locked_here(case: Case) -> Case:
    """Mark `case`, just read with its row locked (`FOR UPDATE`) in the transaction block
    open now, as current for that block: `add_note` on it there need not lock and read it
    again (docs/decisions/0005-intake-context.md). A lock taken in a block that is rolled
    back is released with it, so the mark holds in that same block only."""
    case.__dict__["_locked_in"] = _transaction_block()
    return case


def _locked_already(case: Case) -> bool:
    block = _transaction_block()
    return block is not None and case.__dict__.get("_locked_in") is block


EDITABLE = ["subject", "description", "type", "priority", "classification", "assignee", "group"]


@service
def update_case(
    *, case: Case, actor: User | None, expected_version: str | None = None, **changes: Any
) -> Case:
    """Change a case's fields. Status goes through `change_status`; level through escalation.
    `expected_version` (from a page's form, see `versions`) refuses a change made on a stale
    page."""
    status = changes.pop("status", None)
    if "level" in changes:
        raise InvalidInput(
            "El nivel cambia solo por escalamiento.",
            errors={"level": "Use /escalations para solicitar un escalamiento."},
        )
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput("Campos desconocidos.", errors={f: "campo no editable" for f in unknown})
    if actor is not None and actor.is_customer and changes:
        raise PermissionDenied("Un cliente no puede modificar los datos del caso.")
    case = _locked_case(case.pk)
    versions.check(case, expected_version)
    errors: dict[str, str] = {}
    if "type" in changes:
        _check_choice(errors, "type", changes["type"], CaseType)
    if "priority" in changes:
        _check_choice(errors, "priority", changes["priority"], Priority)
    if "classification" in changes:
        _check_choice(errors, "classification", changes["classification"], Classification)
    if "subject" in changes and not (changes["subject"] or "").strip():
        errors["subject"] = "El asunto es obligatorio."
    elif "subject" in changes and (problem := text.one_line_problem(changes["subject"])):
        # The subject goes into every email's Subject header: a line break there would
        # make every send fail (or inject headers). Refused for every door.
        errors["subject"] = problem
    if changes.get("assignee") is not None and not changes["assignee"].is_agent:
        errors["assignee"] = "Solo se puede asignar a agentes."
    if errors:
        raise InvalidInput("No se pudo actualizar el caso.", errors=errors)
    if case.status in statuses.FINISHED and changes:
        raise TransitionRefused(
            f"El caso {case.number} está {statuses.label(case.status).lower()} y no admite cambios."
        )

    before = audit.snapshot(case, EDITABLE)
    for field, value in changes.items():
        setattr(case, field, value.strip() if field == "subject" else value)
    diff = audit.diff(case, before, EDITABLE)
    if diff:
        case.updated_at = clock.now()
        case.save()
        if "assignee" in diff and case.assignee is not None:
            events.publish("case.assigned", case=case, assignee=case.assignee, actor=actor)
        for field in ("assignee", "group"):
            if field in diff:
                audit.record(
                    actor=actor,
                    action=f"case.{field}_changed",
                    obj=case,
                    case=case,
                    changes={field: diff.pop(field)},
                )
        if diff:
            audit.record(actor=actor, action="case.updated", obj=case, case=case, changes=diff)
        if (before["type"], before["priority"]) != (case.type, case.priority):
            sla.retarget(case, actor=actor)
    if status is not None and status != case.status:
        case = change_status(case=case, actor=actor, status=status)
    return case


@service
def change_status(
    *,
    case: Case,
    actor: User | None,
    status: str,
    reason: str = "",
    expected_version: str | None = None,
) -> Case:
    """Move a case along the transition table. Customers may only reopen or close a
    resolved case, and reopen only within the configured window."""
    case = _locked_case(case.pk)
    versions.check(case, expected_version)
    if status not in transitions.ALLOWED:
        raise InvalidInput("Estado desconocido.", errors={"status": f"{status!r} no es un estado."})
    if status == case.status:
        return case
    if not transitions.can_move(case.status, status):
        raise TransitionRefused(
            transitions.refusal(case.status, status), current=case.status, requested=status
        )
    if actor is not None and actor.is_customer:
        if case.status != Status.RESOLVED:
            raise PermissionDenied("Un cliente solo puede reabrir o cerrar un caso resuelto.")
        window = dt.timedelta(days=site.get("cases.reopen_within_days"))
        if status == Status.OPEN and case.resolved_at and clock.now() - case.resolved_at > window:
            raise TransitionRefused(
                f"El caso se resolvió hace más de {window.days} días y ya no puede reabrirse; cree un caso nuevo.",
                code="reopen_window_passed",
            )
    return _move(case, actor, status, reason)


def _move(case: Case, actor: User | None, status: str, reason: str = "") -> Case:
    """Apply an allowed transition to a locked case and audit it."""
    now = clock.now()
    old = case.status
    case.status = status
    case.updated_at = now
    if status == Status.RESOLVED:
        case.resolved_at = now
    elif statuses.is_reopening(old, status):
        case.resolved_at = None
    if status == Status.CLOSED:
        case.closed_at = now
    case.save()
    action = "case.reopened" if statuses.is_reopening(old, status) else "case.status_changed"
    changes: dict[str, Any] = {"status": [old, status]}
    if reason:
        changes["reason"] = reason
    audit.record(actor=actor, action=action, obj=case, case=case, at=now, changes=changes)
    sla.on_status_change(case, statuses.sla_phase(old), statuses.sla_phase(status), actor=actor)
    if status in ("awaiting_info", "resolved"):
        from atiende.cases.customer import tell_status  # the customer is told (#14)

        tell_status(case, status, actor)
    return case


@service
def add_note(
    *,
    case: Case,
    body_text: str,
    visibility: str = Visibility.PUBLIC,
    actor: User | None = None,
    author_contact: Contact | None = None,
    body_html: str = "",
    channel: Channel | None = None,
    external_id: str | None = None,
    automatic: bool = False,
    unverified: bool = False,
    expected_version: str | None = None,
) -> Note:
    """Add a note. An agent's public note on an email/WhatsApp case is queued for delivery
    through the case's channel (or `channel`) in this same transaction.

    With `external_id`, the note is idempotent per channel: the same message delivered twice
    returns the existing note, with `note.created == False`.

    On a case `open_case` opened in this same transaction (see `_opened_here`), the notes
    that come with the opening (its acknowledgement, the message that opened it) leave its
    `updated_at` at the opening instant.
    """
    _check: dict[str, str] = {}
    _check_choice(_check, "visibility", visibility, Visibility)
    if not (body_text or "").strip() and not body_html.strip():
        _check["body"] = "La nota no puede estar vacía."
    is_customer = actor is not None and actor.is_customer
    if is_customer:
        if visibility != Visibility.PUBLIC:
            _check["visibility"] = "Un cliente solo puede agregar comentarios públicos."
        author_contact = actor.contact
    if _check:
        raise InvalidInput("No se pudo agregar la nota.", errors=_check)
    opened_here = _opened_here(case)
    if not opened_here:
        if not _locked_already(case):
            case = _locked_case(case.pk)
        versions.check(case, expected_version)
    if case.merged_into_id is not None:
        from atiende.cases import merging

        # The customer's side (a channel message, the portal) lands on the case that
        # survived; staff are told where to write instead.
        if author_contact is not None or is_customer:
            case = merging.survivor_of(case, lock=True)
        else:
            raise merging.refusal(case)
    if case.status in statuses.FINISHED:
        raise TransitionRefused(
            f"El caso {case.number} está {statuses.label(case.status).lower()}; no admite notas."
        )

    from_staff = actor is not None and actor.is_agent and author_contact is None
    if visibility == Visibility.INTERNAL:
        direction = Direction.INTERNAL
    elif from_staff or automatic:
        direction = Direction.OUTBOUND
    else:
        direction = Direction.INBOUND
    if unverified:  # kept from the customer's view until an agent accepts it
        visibility, direction = Visibility.INTERNAL, Direction.INBOUND
    if channel is None and direction != Direction.INTERNAL:
        channel = channel_selectors.channel_by_id(case.channel_id) or case.channel
    now = clock.now()
    delivers = (
        direction == Direction.OUTBOUND and channel is not None and senders.delivers(channel.kind)
    )
    note = Note(
        case=case,
        visibility=visibility,
        direction=direction,
        author_user=audit.signed_in(actor),
        author_contact=author_contact,
        channel=channel,
        body_text=body_text or "",
        body_html=body_html,
        external_id=external_id,
        automatic=automatic,
        unverified=unverified,
        created_at=now,
        delivery_status=Delivery.PENDING if delivers else None,
    )
    if external_id is not None:
        # One statement, no savepoint: the unique (channel, external id) decides.
        if not rows.add_once(note, key=["channel", "external_id"]):
            if batching():
                with service_scope():  # in a batch(), a clash redoes the batch item by item
                    raise IntegrityError(f"note {external_id!r} is stored already")
            existing = Note.objects.get(channel=channel, external_id=external_id)
            existing.created = False
            return existing
    else:
        rows.add(note)
    note.created = True
    if delivers:
        queue.enqueue(
            "deliver_note",
            {"note_id": note.pk},
            ordering_key=f"case:{case.pk}",  # a case's messages arrive in the order written
            retry_for=queue.DELIVERY_RETRY,
        )
    if direction == Direction.OUTBOUND and visibility == Visibility.PUBLIC:
        # Followers, and the requester of a portal case, hear of it by email (#14).
        from atiende.cases.customer import notify_customers

        notify_customers(
            case,
            note.body_text or "Hay una respuesta nueva en su caso.",
            # A case opened in this transaction has no followers yet: they are added from
            # its portal page, later (follow_case forgets `_opened_in` if not).
            followers=not opened_here,
        )

    case_fields = ["updated_at"]
    case.updated_at = now
    audit.record(
        actor=actor,
        action="note.added",
        obj=note,
        case=case,
        at=now,
        changes={
            "visibility": [None, visibility],
            "direction": [None, direction],
            "channel": [None, channel.slug if channel else None],
        },
    )
    if from_staff and visibility == Visibility.PUBLIC and not automatic:
        if case.first_response_at is None:  # the case's first answer, kept for good
            case.first_response_at = now
            case_fields.append("first_response_at")
        # Meets the running first-response clock, if any: the case's first, or the one a
        # new escalation level started.
        sla.record_first_response(case, now)
    if opened_here and case_fields == ["updated_at"]:
        case.updated_at = case.created_at  # part of the opening (see the docstring)
    else:
        rows.write_columns(case, case_fields)  # every note: no query building (core/rows.py)
    # The conversation moves the case: an agent's answer opens a new case; the customer's
    # answer to a request for information resumes it.
    if from_staff and visibility == Visibility.PUBLIC and case.status == Status.NEW:
        _move(case, actor, Status.OPEN)
    elif direction == Direction.INBOUND and case.status == Status.AWAITING_INFO and not unverified:
        # An unverified sender's note moves nothing (status, SLA) until an agent confirms it.
        _move(case, actor, Status.OPEN, reason="respuesta del cliente")
    events.publish("note.added", case=case, note=note, actor=actor)
    return note


@service
def confirm_note(*, note: Note, actor: User) -> Note:
    """An agent confirms a note from an unverified sender (see `selectors.known_on_case`):
    it becomes a public comment — its attachments follow its visibility, except those kept
    from customers (`public=False`, e.g. the original .eml) — counts as the customer's answer (a
    case waiting for information is resumed), and its author is known on the case from
    then on."""
    if actor is None or not actor.is_agent:
        raise PermissionDenied("Solo un agente puede confirmar notas de remitentes no verificados.")
    case = _locked_case(note.case_id)
    note = Note.objects.select_for_update().get(pk=note.pk)
    if not note.unverified:
        return note
    note.unverified = False
    note.visibility = Visibility.PUBLIC
    note.save(update_fields=["unverified", "visibility"])
    audit.record(
        actor=actor,
        action="note.confirmed",
        obj=note,
        case=case,
        changes={
            "visibility": [Visibility.INTERNAL, Visibility.PUBLIC],
            "unverified": [True, False],
        },
    )
    if note.direction == Direction.INBOUND and case.status == Status.AWAITING_INFO:
        _move(case, actor, Status.OPEN, reason="respuesta del cliente (confirmada)")
    return note


@service
def add_attachment(
    *,
    case: Case,
    filename: str,
    chunks: Iterable[bytes],
    actor: User | None = None,
    note: Note | None = None,
    public: bool = True,
    synced: str = "",
) -> Attachment:
    """Store a file on a case (`synced`: see `storage.store`)."""
    if case.status in statuses.FINISHED:
        raise TransitionRefused(
            f"El caso {case.number} está {statuses.label(case.status).lower()}; no admite adjuntos."
        )
    if actor is not None and actor.is_customer:
        public = True
    stored = storage.store(chunks, filename, synced=synced)
    row = Attachment(
        case=case,
        note=note,
        filename=stored.filename,
        size=stored.size,
        content_type=stored.content_type,
        sha256=stored.sha256,
        public=public,
        uploaded_by=audit.signed_in(actor),
        created_at=clock.now(),
    )
    deferred.insert(row)  # its id is set when the service's transaction writes it
    audit.record(
        actor=actor,
        action="attachment.added",
        obj=row,
        case=case,
        changes={
            "filename": [None, row.filename],
            "size": [None, row.size],
            "sha256": [None, row.sha256],
        },
    )
    return row


def close_resolved_cases(*, now: dt.datetime | None = None) -> int:
    """Close cases resolved more than the configured number of days ago."""
    now = now or clock.now()
    cutoff = now - dt.timedelta(days=site.get("cases.auto_close_after_days"))
    closed = 0
    for case in Case.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff).only("pk")[
        :500
    ]:
        change_status(case=case, actor=None, status=Status.CLOSED, reason="cierre automático")
        closed += 1
    return closed


@service
def record_delivery(
    *, note: Note, status: str, error: str = "", external_id: str | None = None
) -> None:
    """Update an outbound note's delivery state (worker and provider status callbacks);
    `external_id` is the provider's id for what was sent, when sending gave one."""
    order: list[str] = [Delivery.PENDING, Delivery.SENT, Delivery.DELIVERED, Delivery.READ]
    current = note.delivery_status
    # Status callbacks can arrive out of order: never move backwards (except to failed).
    if (
        status != Delivery.FAILED
        and current in order
        and status in order
        and order.index(status) < order.index(current)
    ):
        return
    fields = {"delivery_status": status, "delivery_error": error[:4000]}
    if external_id:
        fields["external_id"] = note.external_id = external_id
    Note.objects.filter(pk=note.pk).update(**fields, delivery_updated_at=clock.now())
    audit.record(
        actor=None,
        action="note.delivery",
        obj=note,
        case=note.case,
        changes={"delivery_status": [current, status], **({"error": error} if error else {})},
    )


@service
def change_level(
    *,
    case: Case,
    actor: User | None,
    level: int,
    group: SupportGroup | None,
    assignee: User | None,
    reason: str = "",
) -> Case:
    """Move a case one escalation level up. Called only by `escalations.services` when the
    responsible of the next level accepts a request (`update_case` refuses `level`).

    The case goes to the level's group or person; the new level's first-response clock is
    started by the caller (`sla.services.restart_response_target`) and met by that level's
    first public answer (see `add_note`)."""
    case = _locked_case(case.pk)
    if level != case.level + 1:
        raise TransitionRefused(
            f"El caso {case.number} está en el nivel {case.level}; solo puede subir al nivel {case.level + 1}.",
            code="skip_level",
        )
    if case.status in statuses.FINISHED:
        raise TransitionRefused(
            f"El caso {case.number} está {statuses.label(case.status).lower()} y no admite escalamiento.",
            code="closed",
        )
    if assignee is not None and not assignee.is_agent:
        raise InvalidInput(
            "Solo se puede asignar a agentes.",
            errors={"assignee": "Solo se puede asignar a agentes."},
        )
    now = clock.now()
    changes: dict[str, Any] = {"level": [case.level, level]}
    if case.group_id != getattr(group, "pk", None):
        changes["group"] = [audit._plain(case.group), audit._plain(group)]
    if case.assignee_id != getattr(assignee, "pk", None):
        changes["assignee"] = [audit._plain(case.assignee), audit._plain(assignee)]
    if reason:
        changes["reason"] = reason
    case.level, case.group, case.assignee = level, group, assignee
    case.updated_at = now
    case.save(update_fields=["level", "group", "assignee", "updated_at"])
    audit.record(
        actor=actor, action="case.level_changed", obj=case, case=case, at=now, changes=changes
    )
    sla.restart_response_target(case, phase=statuses.sla_phase(case.status), actor=actor)
    if "assignee" in changes and assignee is not None:
        events.publish("case.assigned", case=case, assignee=assignee, actor=actor)
    return case
