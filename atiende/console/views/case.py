"""The case page (`/console/cases/<number>`) and its forms: answer or note, confirm an
unverified note, assign, change type/priority/status, request an escalation and decide
one, and attachments (inline image previews, downloads).

Thin: parse, authorise (`agent_required`; the case through `cases.selectors.case_for`,
so the tenant rules are the API's), call a service, redirect back (303) with a message —
or, when the service refuses, render the page again with the refusal and the draft, with
the error's status (422, 409, 413…)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from atiende.accounts.models import STAFF_ROLES, SupportGroup, User
from atiende.cases import downloads, selectors, services
from atiende.cases.models import CaseType, Priority
from atiende.channels.whatsapp import services as whatsapp
from atiende.console import case_page, composer
from atiende.console.access import agent_required, staff
from atiende.core.errors import DomainError, InvalidInput, NotFound, TooLarge
from atiende.escalations import selectors as ladder
from atiende.escalations import services as escalations
from atiende.escalations.models import Via

log = logging.getLogger(__name__)


def _case(request: HttpRequest, number: str):
    try:
        return selectors.case_for(staff(request), number)
    except NotFound:
        raise Http404 from None


def _page(request: HttpRequest, case, *, status: int = 200, **extra: Any) -> HttpResponse:
    page = case_page.case_page(staff(request), case)
    context = {
        "title": f"{case.number} · {case.subject}",
        "case": case,
        "page": page,
        "type_choices": CaseType.choices,
        "priority_choices": Priority.choices,
        "draft": {},
        **extra,
    }
    return render(request, "console/case/page.html", context, status=status)


def _back(case) -> HttpResponse:
    return redirect(reverse("console:case", args=[case.number]), permanent=False)


def _refused(request: HttpRequest, number: str, exc: DomainError, **extra: Any) -> HttpResponse:
    """The page again (the case as it is now) with the service's own words."""
    case = _case(request, number)
    fields = getattr(exc, "errors", {}) or {}
    return _page(request, case, status=exc.status, error=exc.message, field_errors=fields, **extra)


@agent_required
@require_safe
def case(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    # Messages the corporate menu holds land when an agent looks at the conversation.
    if case.channel.kind == "whatsapp" and case.requester_id:
        try:
            landed = whatsapp.flush_pending_for(case.requester)
        except DomainError:  # e.g. the line was deactivated: it keeps them; show the page
            log.warning("whatsapp: held messages of %s not landed", case.number, exc_info=True)
            landed = 0
        if landed:
            case = _case(request, number)
    return _page(request, case)


@agent_required
@require_POST
def reply(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    internal = request.POST.get("mode") == "note"
    draft = {
        "body": request.POST.get("body", ""),
        "mode": "note" if internal else "reply",
        "channel": request.POST.get("channel", ""),
    }
    files = request.FILES.getlist("files")
    limit = settings.ATIENDE_MAX_ATTACHMENT_BYTES
    try:
        for f in files:
            if (f.size or 0) > limit:
                raise TooLarge(
                    _("El archivo «%(name)s» supera el tamaño máximo permitido (%(mb)s MB).")
                    % {"name": f.name, "mb": limit // (1024 * 1024)},
                    limit=limit,
                )
        composer.reply_from_console(
            case=case,
            actor=staff(request),
            body=request.POST.get("body", ""),
            internal=internal,
            channel_slug=request.POST.get("channel", ""),
            template=request.POST.get("template", ""),
            uploads=[composer.as_upload(f) for f in files],
            status=request.POST.get("status", ""),
        )
    except DomainError as exc:
        return _refused(request, number, exc, draft=draft)
    messages.success(request, _("Nota interna guardada.") if internal else _("Respuesta enviada."))
    return _back(case)


@agent_required
@require_POST
def confirm_note(request: HttpRequest, number: str, note_id: int) -> HttpResponse:
    case = _case(request, number)
    note = selectors.visible_notes(staff(request), case).filter(pk=note_id).first()
    if note is None:
        raise Http404
    try:
        services.confirm_note(note=note, actor=staff(request))
    except DomainError as exc:
        return _refused(request, number, exc)
    messages.success(request, _("Nota confirmada: ahora es un comentario visible al cliente."))
    return _back(case)


def _assignee(value: str, user: User) -> User | None:
    if value in ("", "none"):
        return None
    if value == "me":
        return user
    row = (
        User.objects.filter(pk=int(value), role__in=STAFF_ROLES, is_active=True).first()
        if value.isdigit()
        else None
    )
    if row is None:
        raise InvalidInput(
            _("No se pudo asignar."),
            errors={"assignee": _("Ese agente no existe o no está activo.")},
        )
    return row


def _group(value: str) -> SupportGroup | None:
    if not value:
        return None
    row = SupportGroup.objects.filter(slug=value).first()
    if row is None:
        raise InvalidInput(_("No se pudo asignar."), errors={"group": _("Ese grupo no existe.")})
    return row


@agent_required
@require_POST
def assign(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    changes: dict[str, Any] = {}
    try:
        if "assignee" in request.POST:
            changes["assignee"] = _assignee(request.POST["assignee"].strip(), staff(request))
        if "group" in request.POST:
            changes["group"] = _group(request.POST["group"].strip())
        services.update_case(case=case, actor=staff(request), **changes)
    except DomainError as exc:
        return _refused(request, number, exc)
    messages.success(request, _("Asignación guardada."))
    return _back(case)


@agent_required
@require_POST
def change_fields(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    changes = {
        f: request.POST[f].strip()
        for f in ("type", "priority", "status")
        if request.POST.get(f, "").strip()
    }
    try:
        services.update_case(case=case, actor=staff(request), **changes)
    except DomainError as exc:
        return _refused(request, number, exc)
    messages.success(request, _("Cambios guardados."))
    return _back(case)


@agent_required
@require_POST
def request_escalation(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    try:
        escalations.request_escalation(
            case=case,
            actor=staff(request),
            to_level=case.level + 1,
            reason=request.POST.get("reason", ""),
            via=Via.AGENT,
        )
    except DomainError as exc:
        return _refused(request, number, exc, escalation_error=exc.message)
    messages.success(request, _("Escalamiento solicitado al nivel %(n)s.") % {"n": case.level + 1})
    return _back(case)


@agent_required
@require_POST
def decide_escalation(request: HttpRequest, number: str, request_id: int) -> HttpResponse:
    case = _case(request, number)
    try:
        row = ladder.request_for(staff(request), request_id)
    except NotFound:
        raise Http404 from None
    if row.case_id != case.pk:
        raise Http404
    decision = request.POST.get("decision", "")
    try:
        escalations.decide_escalation(
            request=row,
            actor=staff(request),
            decision=decision,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        return _refused(request, number, exc, decision_error=exc.message)
    if decision == "accept":
        messages.success(
            request, _("Escalamiento aceptado: el caso sube al nivel %(n)s.") % {"n": row.to_level}
        )
    else:
        messages.success(request, _("Escalamiento rechazado."))
    return _back(case)


@agent_required
@require_safe
def attachment(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    try:
        row = selectors.attachment_for(staff(request), number, attachment_id)
        return downloads.attachment_response(row)
    except NotFound:
        raise Http404 from None
