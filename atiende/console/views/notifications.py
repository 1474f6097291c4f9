"""The bell (unread count, polled) and the notifications page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atiende.console.access import agent_required, staff
from atiende.core.errors import DomainError, NotFound
from atiende.notifications import selectors, services
from atiende.notifications.models import Kind


@agent_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/notifications/_bell_count.html",
        {"unread": selectors.unread_count(staff(request)), "cap": selectors.COUNT_CAP},
    )


@agent_required
@require_GET
def page(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    return render(
        request,
        "console/notifications/page.html",
        {
            "title": _("Notificaciones"),
            "items": selectors.notifications_for(user),
            "unread": selectors.unread_count(user),
            "kinds": Kind.choices,
            "email_kinds": selectors.email_kinds(user),
        },
    )


@agent_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        row = services.mark_read(user=staff(request), notification_id=pk)
    except NotFound:
        raise Http404 from None  # another user's, or none
    if request.POST.get("open") and row.link.startswith("/console/"):
        return redirect(row.link)
    return redirect("console:notifications")


@agent_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(user=staff(request))
    messages.success(
        request, _("%(count)s notificaciones marcadas como leídas.") % {"count": count}
    )
    return redirect("console:notifications")


@agent_required
@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    try:
        services.set_preference(user=staff(request), email_kinds=request.POST.getlist("email"))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Preferencias de correo guardadas."))
    return redirect("console:notifications")
