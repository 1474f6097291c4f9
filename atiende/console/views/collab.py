"""Working together on cases: presence on a case page, merging a duplicate, major
incidents, and opening a case for a contact. Thin: parse, authorise, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from atiende.accounts.models import User
from atiende.cases import incidents, merging
from atiende.cases import selectors as case_selectors
from atiende.cases import services as case_services
from atiende.cases.models import Case, CaseType, Priority
from atiende.console.access import agent_required, staff
from atiende.core.errors import DomainError, InvalidInput, NotFound
from atiende.customers import phones
from atiende.customers import selectors as customer_selectors
from atiende.customers import services as customer_services
from atiende.directory import selectors as directory
from atiende.notifications import selectors as presence_selectors
from atiende.notifications import services as presence_services


def _case(request: HttpRequest, number: str):
    """The case as the user may see it; another organization's or none: 404."""
    try:
        return case_selectors.case_for(staff(request), number)
    except NotFound:
        raise Http404 from None


def case_url(number: str) -> str:
    return f"/console/cases/{number}"


def _back(request: HttpRequest, number: str) -> HttpResponse:
    """Back where the form was (its `next`, a console page), else the case page."""
    target = request.POST.get("next", "")
    if target.startswith("/console/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(case_url(number))


def _error(request: HttpRequest, exc: DomainError) -> None:
    details = " ".join(getattr(exc, "errors", {}).values())
    messages.error(request, f"{exc.message} {details}".strip())


# -- presence ------------------------------------------------------------------------------


@agent_required
@require_http_methods(["GET", "POST"])
def presence(request: HttpRequest, number: str) -> HttpResponse:
    """The page's heartbeat (POST, every few seconds, `state` = viewing|writing) answers
    with who else is on the case; GET only reads."""
    case = _case(request, number)
    if request.method == "POST":
        presence_services.heartbeat(
            case=case, user=staff(request), state=request.POST.get("state", "viewing")
        )
    others = presence_selectors.present_on(case.pk, exclude=staff(request))
    return render(request, "console/case/_presence_list.html", {"others": others, "case": case})


# -- merging -------------------------------------------------------------------------------


@agent_required
@require_POST
def merge(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    target = (request.POST.get("into") or "").strip().upper()
    try:
        if not target:
            raise InvalidInput(
                _("No se pudo fusionar."),
                errors={"into": _("Escriba el número del caso que sobrevive.")},
            )
        into = case_selectors.case_for(staff(request), target)
        survivor = merging.merge_case(
            case=case,
            into=into,
            actor=staff(request),
            reason=request.POST.get("reason", ""),
            expected_version=request.POST.get("version") or None,
        )
    except DomainError as exc:
        _error(request, exc)
        return _back(request, case.number)
    messages.success(
        request,
        _("El caso %(dup)s se fusionó en %(survivor)s.")
        % {"dup": case.number, "survivor": survivor.number},
    )
    return redirect(case_url(survivor.number))


# -- major incidents -----------------------------------------------------------------------


@agent_required
@require_POST
def link_incident(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    parent_number = (request.POST.get("parent") or "").strip().upper()
    try:
        if not parent_number:
            raise InvalidInput(
                _("No se pudo vincular al incidente."),
                errors={"parent": _("Escriba el número del incidente mayor.")},
            )
        parent = case_selectors.case_for(staff(request), parent_number)
        incidents.link_to_incident(
            case=case,
            parent=parent,
            actor=staff(request),
            expected_version=request.POST.get("version") or None,
        )
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(
            request,
            _("El caso %(case)s quedó vinculado al incidente mayor %(parent)s.")
            % {"case": case.number, "parent": parent.number},
        )
    return _back(request, case.number)


@agent_required
@require_POST
def unlink_incident(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    try:
        incidents.unlink_from_incident(
            case=case, actor=staff(request), expected_version=request.POST.get("version") or None
        )
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(
            request, _("El caso %(case)s ya no está vinculado.") % {"case": case.number}
        )
    return _back(request, case.number)


@agent_required
@require_http_methods(["GET", "POST"])
def incident(request: HttpRequest, number: str) -> HttpResponse:
    """A major incident: its linked cases, and one answer for all of them."""
    case = _case(request, number)
    result = None
    body = ""
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            result = incidents.reply_to_incident(parent=case, body=body, actor=staff(request))
        except DomainError as exc:
            _error(request, exc)
        else:
            body = ""
    return render(
        request,
        "console/incidents/page.html",
        {
            "title": _("Incidente mayor %(number)s") % {"number": case.number},
            "case": case,
            "children": list(incidents.incident_cases(case)),
            "placeholders": incidents.PLACEHOLDERS,
            "result": result,
            "body": body,
        },
    )


# -- a case for a contact --------------------------------------------------------------------


def _lookup(user: User, q: str):
    """Contacts by phone (any way it is written), email or name."""
    q = (q or "").strip()
    if not q:
        return []
    number = phones.normalize(q)
    text = number.e164 if number.e164 else q
    return list(
        customer_selectors.contact_list(user, q=text)
        .select_related("organization")
        .prefetch_related("emails", "phones")[:20]
    )


@agent_required
@require_http_methods(["GET", "POST"])
def new_case(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    q = request.GET.get("q", "")
    form = request.POST if request.method == "POST" else {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            case = _open_for_contact(user, request.POST)
        except DomainError as exc:
            errors = dict(getattr(exc, "errors", {}) or {})
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Se abrió el caso %(number)s.") % {"number": case.number})
            return redirect(case_url(case.number))
    return render(
        request,
        "console/new_case.html",
        {
            "title": _("Crear un caso"),
            "q": q,
            "found": _lookup(user, q),
            "searched": bool(q.strip()),
            "organizations": customer_selectors.organization_list(user),
            "channels": [c for c in directory.channels() if c.active],
            "types": CaseType.choices,
            "priorities": Priority.choices,
            "form": form,
            "errors": errors,
        },
    )


def _open_for_contact(user: User, data) -> Case:
    """The chosen contact, or a new one; then `open_case`. One transaction: a refused case
    leaves no new contact behind."""
    channel = directory.channel(data.get("channel", ""))
    if channel is None:
        raise InvalidInput(_("No se pudo crear el caso."), errors={"channel": _("Elija un canal.")})
    with transaction.atomic():
        if data.get("contact"):
            try:
                contact = customer_selectors.contact_for(user, int(data["contact"]))
            except ValueError:
                raise NotFound(_("No existe ese contacto.")) from None
        else:
            name = (data.get("name") or "").strip()
            email = (data.get("email") or "").strip()
            phone = (data.get("phone") or "").strip()
            if not name or not (email or phone):
                raise InvalidInput(
                    _("No se pudo crear el caso."),
                    errors={
                        "name": _(
                            "Elija un contacto encontrado o escriba el nombre y un correo o "
                            "teléfono del contacto nuevo."
                        )
                    },
                )
            org = None
            if data.get("organization"):
                org = customer_selectors.organization_for(user, data["organization"])
            contact = customer_services.create_contact(
                name=name,
                organization=org,
                emails=[email] if email else [],
                phones=[phone] if phone else [],
                actor=user,
            )
        return case_services.open_case(
            actor=user,
            channel=channel,
            subject=data.get("subject", ""),
            description=data.get("description", ""),
            type=data.get("type") or None,
            priority=data.get("priority") or None,
            requester=contact,
            organization=contact.organization,
        )
