"""The customers' self-service portal: My cases, New case, a case page and its actions,
invitations and self-registration. Views parse, authorise, call a service or selector and
render; a case of another organization is a 404 exactly like a missing one (the lookup
is `cases.selectors.case_for`, the API's)."""

from __future__ import annotations

import functools
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from atiende.accounts import invitations
from atiende.accounts.models import User
from atiende.cases import customer as case_customer
from atiende.cases import downloads
from atiende.cases import selectors as case_selectors
from atiende.cases.models import Follower
from atiende.configuration import selectors as config_selectors
from atiende.core import clock, site
from atiende.core.errors import DomainError, NotFound, TooLarge
from atiende.customers.models import Contact
from atiende.directory import selectors as channel_selectors
from atiende.directory.hours import channels_24x7_for_incidents, describe_channel
from atiende.escalations import selectors as escalation_selectors
from atiende.escalations import services as escalation_services
from atiende.portal import forms
from atiende.portal import selectors as portal_selectors
from atiende.sla.schedules import calendar

MULTIPART_SLACK = 64 * 1024


def _common() -> dict:
    return {
        "organization": site.get("organization.name"),
        "classification": config_selectors.classification_label(),
        "max_upload_mb": settings.ATIENDE_MAX_ATTACHMENT_BYTES // (1024 * 1024),
        "max_upload_bytes": settings.ATIENDE_MAX_ATTACHMENT_BYTES,
        "max_files": case_customer.MAX_FILES,
    }


def customer_required(view):
    """Customers only. Anonymous people go to the sign-in page (and come back); staff,
    who work in the console, are sent there."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_customer:
            return redirect("/console/")
        return view(request, *args, **kwargs)

    return wrapper


def _customer(request: HttpRequest) -> User:
    """The signed-in customer of a view that `customer_required` guards."""
    return cast(User, request.user)


def _case_or_404(request: HttpRequest, number: str):
    try:
        return case_selectors.case_for(_customer(request), number)
    except NotFound:
        raise Http404(_("No existe el caso %(number)s.") % {"number": number}) from None


def _too_large(request: HttpRequest) -> str:
    """The API's rule, checked before anything reads the body (Django would spool the
    files to disk first): a request that cannot fit MAX_FILES files of the maximum size is
    refused. Each file's exact size and type are checked by the attachment service."""
    limit = settings.ATIENDE_MAX_ATTACHMENT_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit * case_customer.MAX_FILES + MULTIPART_SLACK:
        return _("Los archivos superan el tamaño máximo permitido (%(mb)s MB por archivo).") % {
            "mb": limit // (1024 * 1024)
        }
    return ""


def accepts_files(view):
    """For the views that take uploads: refuse a request too large to fit before anything
    reads its body. The CSRF check reads the body (and Django spools the files to disk), so
    it runs after the size check, inside: Django's documented pattern for views that must
    act before the upload is parsed (csrf_exempt outside, csrf_protect inside)."""
    protected = csrf_protect(view)

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method == "POST" and (message := _too_large(request)):
            if "number" in kwargs:
                _case_or_404(request, kwargs["number"])  # another organization's: 404 first
            context = {**_common(), "title": _("Archivos demasiado grandes"), "message": message}
            return render(request, "portal/too_large.html", context, status=TooLarge.status)
        return protected(request, *args, **kwargs)

    return wrapper


def _files(request: HttpRequest) -> list:
    return [(f.name or "", f.chunks()) for f in request.FILES.getlist("files")]


def _error_text(exc: DomainError) -> str:
    errors = getattr(exc, "errors", None) or {}
    details = " ".join(str(v) for v in errors.values())
    return f"{exc.message} {details}".strip()


# --- My cases -------------------------------------------------------------------------------


@customer_required
def my_cases(request: HttpRequest) -> HttpResponse:
    manager = invitations.is_manager(_customer(request))
    scope = request.GET.get("ver", "mine")
    if scope != "organization" or not manager:
        scope = "mine"
    status = request.GET.get("estado", "")
    if status not in ("", "active", "finished"):
        status = ""
    q = (request.GET.get("q") or "").strip()[:200]
    try:
        page = max(1, min(int(request.GET.get("pagina") or 1), 10_000))
    except ValueError:
        page = 1
    rows, has_next = portal_selectors.portal_cases(
        _customer(request), scope=scope, q=q, status=status, page=page
    )
    steps = portal_selectors.next_steps(rows)
    base = {"ver": scope, "estado": status, "q": q}
    context = {
        **_common(),
        "title": _("Mis casos"),
        "cases": [(c, steps[c.pk]) for c in rows],
        "manager": manager,
        "scope": scope,
        "status": status,
        "q": q,
        "page": page,
        "next_url": "?" + urlencode({**base, "pagina": page + 1}) if has_next else None,
        "prev_url": "?" + urlencode({**base, "pagina": page - 1}) if page > 1 else None,
    }
    return render(request, "portal/cases.html", context)


# --- New case -------------------------------------------------------------------------------


def _guidance() -> dict:
    """What the New case page says about attention hours, per kind, right now."""
    portal = channel_selectors.channel("portal")
    now = clock.now()
    out: dict = {"monitoring": [], "closed": {}}
    for ch in channels_24x7_for_incidents():
        if ch.kind == "whatsapp":
            out["monitoring"].append(
                {
                    "text": describe_channel(ch),
                    "href": config_selectors.whatsapp_href(ch.address) if ch.address else "",
                }
            )
    if portal is not None:
        for kind, (type_, priority) in {
            "request": ("request", "moderate"),
            "change": ("change", "moderate"),
            "incident": ("incident", "moderate"),
        }.items():
            slug = portal.schedule_slug_for(type_, priority)
            cal = calendar(slug) if slug else None
            if cal is not None and kind == "request":
                out["hours"] = "; ".join(cal.describe_es())
            if cal is not None and not cal.is_open(now):
                out["closed"][kind] = portal_selectors.when(cal.next_opening(now))
    return out


@customer_required
@accepts_files
@require_http_methods(["GET", "POST"])
def new_case(request: HttpRequest) -> HttpResponse:
    form, status, error = forms.NewCaseForm(request.POST or None), 200, ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        type_, priority = forms.type_and_priority(data["kind"], data["impact"], data["urgency"])
        channel = channel_selectors.channel("portal")
        try:
            if channel is None:
                raise NotFound(_("El portal no está configurado como canal."))
            case = case_customer.open_case_with_files(
                actor=_customer(request),
                channel=channel,
                files=_files(request),
                subject=data["subject"],
                description=data["description"],
                type=type_,
                priority=priority,
            )
        except DomainError as exc:
            status, error = exc.status, _error_text(exc)
        else:
            messages.success(request, "created")
            return redirect("portal:case", number=case.number)
    elif request.method == "POST":
        status = 422
    context = {
        **_common(),
        "title": _("Nuevo caso"),
        "form": form,
        "error": error,
        "guidance": _guidance(),
    }
    return render(request, "portal/new_case.html", context, status=status)


# --- A case ---------------------------------------------------------------------------------


def _case_context(request: HttpRequest, case, **extra) -> dict:
    user = _customer(request)
    items, attachments, loose = portal_selectors.timeline(user, case)
    step = portal_selectors.next_steps([case])[case.pk]
    eligibility = None
    if case.status not in ("closed", "cancelled"):
        eligibility = escalation_selectors.eligibility(case, actor=user)
    followers = list(
        Follower.objects.filter(case=case).select_related("contact").order_by("created_at", "id")
    )
    created = any(m.message == "created" for m in messages.get_messages(request))
    return {
        **_common(),
        "title": f"{case.number} · {case.subject}",
        "case": case,
        "status_words": _(portal_selectors.STATUS_WORDS.get(case.status, case.status)),
        "step": step,
        "timeline": items,
        "attachments": attachments,
        "loose_files": loose,
        "eligibility": eligibility,
        "eligible_from": portal_selectors.when(eligibility.eligible_from)
        if eligibility and eligibility.eligible_from
        else "",
        "can_reopen": case_customer.can_reopen(case),
        "rating_due": case_customer.rating_due(case),
        "followers": followers,
        "created": created,
        "comment_form": extra.pop("comment_form", None) or forms.CommentForm(),
        "escalation_form": extra.pop("escalation_form", None) or forms.EscalationForm(),
        "reopen_form": extra.pop("reopen_form", None) or forms.ReopenForm(),
        "rating_form": extra.pop("rating_form", None) or forms.RatingForm(),
        "follower_form": extra.pop("follower_form", None) or forms.FollowerForm(),
        **extra,
    }


@customer_required
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    return render(request, "portal/case.html", _case_context(request, case))


def _done(request: HttpRequest, case, text: str) -> HttpResponse:
    messages.info(request, text)
    return redirect("portal:case", number=case.number)


def _failed(request: HttpRequest, case, exc: DomainError, **forms_) -> HttpResponse:
    case = _case_or_404(request, case.number)  # read again: the service rolled back
    context = _case_context(request, case, error=_error_text(exc), **forms_)
    return render(request, "portal/case.html", context, status=exc.status)


@customer_required
@accepts_files
@require_POST
def comment(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    form = forms.CommentForm(request.POST)
    if not form.is_valid():
        context = _case_context(request, case, comment_form=form)
        return render(request, "portal/case.html", context, status=422)
    try:
        target = case_customer.comment_with_files(
            case=case,
            actor=_customer(request),
            body=form.cleaned_data["body"],
            files=_files(request),
        )
    except DomainError as exc:
        return _failed(request, case, exc, comment_form=form)
    if target.pk != case.pk:
        return _done(
            request,
            target,
            _(
                "El caso %(old)s ya no puede reabrirse: abrimos el caso %(new)s con su mensaje, "
                "relacionado con el anterior."
            )
            % {"old": case.number, "new": target.number},
        )
    return _done(request, case, _("Su comentario quedó en el caso."))


@customer_required
@require_POST
def escalate(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    form = forms.EscalationForm(request.POST)
    if not form.is_valid():
        context = _case_context(request, case, escalation_form=form)
        return render(request, "portal/case.html", context, status=422)
    try:
        escalation_services.request_escalation(
            case=case, actor=_customer(request), reason=form.cleaned_data["reason"], via="portal"
        )
    except DomainError as exc:
        return _failed(request, case, exc, escalation_form=form)
    return _done(
        request,
        case,
        _("Solicitamos el escalamiento; el responsable del siguiente nivel lo verificará."),
    )


@customer_required
@require_POST
def reopen(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    form = forms.ReopenForm(request.POST)
    form.is_valid()
    try:
        case_customer.reopen_case(
            case=case, actor=_customer(request), reason=form.cleaned_data.get("reason", "")
        )
    except DomainError as exc:
        return _failed(request, case, exc, reopen_form=form)
    return _done(request, case, _("Reabrimos el caso; seguiremos trabajando en él."))


@customer_required
@require_POST
def close(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    try:
        case_customer.close_case(case=case, actor=_customer(request))
    except DomainError as exc:
        return _failed(request, case, exc)
    return _done(request, case, _("Cerramos el caso. Gracias por confirmarlo."))


@customer_required
@require_POST
def rate(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    form = forms.RatingForm(request.POST)
    if not form.is_valid():
        context = _case_context(request, case, rating_form=form)
        return render(request, "portal/case.html", context, status=422)
    try:
        case_customer.rate_case(
            case=case,
            actor=_customer(request),
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        return _failed(request, case, exc, rating_form=form)
    return _done(request, case, _("Gracias por calificar la atención."))


@customer_required
@require_POST
def add_follower(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    form = forms.FollowerForm(request.POST)
    if not form.is_valid():
        context = _case_context(request, case, follower_form=form)
        return render(request, "portal/case.html", context, status=422)
    email = form.cleaned_data["email"].lower()
    contact = Contact.objects.filter(
        emails__address=email, organization_id=case.organization_id
    ).first()
    if contact is None or case.organization_id is None:
        form.add_error("email", _("No hay una persona de su organización con ese correo."))
        context = _case_context(request, case, follower_form=form)
        return render(request, "portal/case.html", context, status=422)
    try:
        case_customer.follow_case(case=case, contact=contact, actor=_customer(request))
    except DomainError as exc:
        return _failed(request, case, exc, follower_form=form)
    return _done(request, case, _("%(name)s recibirá las novedades del caso.") % {"name": contact})


@customer_required
@require_POST
def remove_follower(request: HttpRequest, number: str, contact_id: int) -> HttpResponse:
    case = _case_or_404(request, number)
    row = (
        Follower.objects.filter(case=case, contact_id=contact_id).select_related("contact").first()
    )
    if row is None:
        raise Http404(_("Esa persona no sigue el caso."))
    try:
        case_customer.unfollow_case(case=case, contact=row.contact, actor=_customer(request))
    except DomainError as exc:
        return _failed(request, case, exc)
    return _done(request, case, _("%(name)s ya no sigue el caso.") % {"name": row.contact})


@customer_required
def download(request: HttpRequest, number: str, attachment_id: int) -> HttpResponseBase:
    try:
        row = case_selectors.attachment_for(_customer(request), number, attachment_id)
        return downloads.attachment_response(row)
    except NotFound:
        raise Http404(_("No existe ese adjunto.")) from None


# --- Accounts: invitation link and self-registration -----------------------------------------


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    context = {**_common(), "title": _("Elegir su contraseña")}
    try:
        row = invitations.invitation_for(token)
    except NotFound:
        return render(request, "portal/invitation.html", {**context, "invalid": True}, status=404)
    form = forms.InvitationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                invitations.accept_invitation(token=token, password=form.cleaned_data["password1"])
            except DomainError as exc:
                for field, text in (getattr(exc, "errors", None) or {}).items():
                    form.add_error("password1" if field == "password" else None, text)
                if not getattr(exc, "errors", None):
                    form.add_error(None, exc.message)
            else:
                messages.info(request, _("Su contraseña quedó guardada. Inicie sesión."))
                return redirect(reverse("accounts:login") + "?" + urlencode({"next": "/portal/"}))
    return render(
        request,
        "portal/invitation.html",
        {**context, "form": form, "email": row.user.email},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def registration(request: HttpRequest) -> HttpResponse:
    form = forms.RegistrationForm(request.POST or None)
    sent = False
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                invitations.register(
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    base_url=request.build_absolute_uri("/").rstrip("/"),
                )
            except DomainError as exc:
                form.add_error(None, _error_text(exc))
            else:
                sent, status = True, 200
    context = {**_common(), "title": _("Crear una cuenta"), "form": form, "sent": sent}
    return render(request, "portal/registration.html", context, status=status)
