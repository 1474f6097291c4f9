"""The phone lines in the console: the call log page, the live region every console page
polls (ringing calls of my queues, the screen pop of the call I answered) and the one-step
actions on a call — a new case from it, onto an existing case, "Marcar como atendida".

Thin: parse, authorise (`agent_required`), call the phone channel's selectors and
services, render. A call the agent may not see is 404 (`selectors.call_for`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from atiende.cases.selectors import case_for
from atiende.channels.phone import conf, selectors, services
from atiende.channels.phone.models import CallState
from atiende.console.access import agent_required
from atiende.core import clock
from atiende.core.errors import DomainError, InvalidInput

if TYPE_CHECKING:
    from atiende.accounts.models import User

CASE_PAGE = "/console/cases/{number}"  # the case page (docs/console.md)
CASE_NUMBER = re.compile(r"CS\d{7}")
STATES = [(s.value, s.label) for s in CallState]


def _agent(request: HttpRequest) -> User:
    # agent_required (or the check in calls_live) let only a signed-in staff member through
    return cast("User", request.user)


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(
        request,
        "console/calls/refused.html",
        {"title": "No se pudo", "message": exc.message, "back": _back(request)},
        status=exc.status,
    )


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/console/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/console/llamadas/"


def _text(request: HttpRequest, name: str, max_length: int) -> str:
    # control characters (a NUL is an error on PostgreSQL) match nothing anyway
    value = request.GET.get(name, "")[:max_length]
    return "".join(ch for ch in value if ord(ch) >= 32 and not 0xD800 <= ord(ch) <= 0xDFFF)


def _filters(request: HttpRequest) -> selectors.LogFilters:
    q = request.GET
    missed = {"si": True, "no": False}.get(q.get("perdida", ""))
    state = q.get("estado", "")
    return selectors.LogFilters(
        line=_text(request, "linea", 50),
        queue=_text(request, "cola", 200),
        missed=missed,
        state=state if state in dict(STATES) else "",
        pending=q.get("pendientes") == "1",
    )


@agent_required
@require_GET
def call_log(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    qs = selectors.call_log(_agent(request), filters)
    page = Paginator(qs, selectors.LOG_PAGE_SIZE).get_page(request.GET.get("pagina"))
    query = request.GET.copy()
    query.pop("pagina", None)
    return render(
        request,
        "console/calls/log.html",
        {
            "title": "Llamadas",
            "page": page,
            "calls": list(page.object_list),
            "ringing": list(
                selectors.call_log(_agent(request), selectors.LogFilters(state=CallState.RINGING))[
                    :10
                ]
            ),
            "filters": filters,
            "lines": conf.lines(),
            "queues": selectors.known_queues(),
            "states": STATES,
            "query": query.urlencode(),
            "here": request.get_full_path(),
        },
    )


@require_GET
def calls_live(request: HttpRequest) -> HttpResponse:
    """The live region's content, polled by htmx. 204 while nothing changed (htmx then
    swaps nothing, so focus and scroll stay where the agent left them); 286 — htmx's "stop
    polling" — once the session is gone, rather than swapping the sign-in page in."""
    if not request.user.is_authenticated:
        return HttpResponse(status=286)
    if not request.user.is_agent:
        raise Http404
    now = clock.now()
    calls = selectors.live_calls(_agent(request), now=now)
    version = selectors.live_version(calls, now=now)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    return render(request, "console/calls/_live.html", _live_context(request, calls, version))


def _live_context(request: HttpRequest, calls: list, version: str) -> dict:
    mine = [c for c in calls if c.agent_id == request.user.pk and c.answered_at]
    ringing = [c for c in calls if c.state == CallState.RINGING and c not in mine]
    pop = mine[0] if mine else None
    return {
        "live_version": version,
        "live_ringing": ringing,
        "live_pop": pop,
        "live_others": mine[1:],
        "live_cases": selectors.open_cases_for(pop) if pop else [],
        "live_contacts": list(pop.contacts.all()) if pop and pop.ambiguous else [],
        "live_polled": True,
    }


@agent_required
@require_POST
def call_case(request: HttpRequest, call_id: int) -> HttpResponse:
    """ "Crear caso desde la llamada" (no `case`) or "Agregar la llamada al caso" (`case`),
    then the case page."""
    try:
        call = selectors.call_for(_agent(request), call_id)
        number = (request.POST.get("case") or "").strip().upper()
        if number and not CASE_NUMBER.fullmatch(number):
            raise InvalidInput(f"{number[:20]!r} no es un número de caso (CS y 7 dígitos).")
        if number:
            case = case_for(_agent(request), number)
            services.attach_call(call=call, case=case, actor=_agent(request))
        else:
            case = services.open_case_from_call(call=call, actor=_agent(request))
    except DomainError as exc:
        return _refused(request, exc)
    return redirect(CASE_PAGE.format(number=case.number))


@agent_required
@require_POST
def call_done(request: HttpRequest, call_id: int) -> HttpResponse:
    """ "Marcar como atendida"."""
    try:
        call = selectors.call_for(_agent(request), call_id)
        services.mark_call_done(call=call, actor=_agent(request))
    except DomainError as exc:
        return _refused(request, exc)
    return redirect(_back(request))
