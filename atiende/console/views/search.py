"""The console's search box: a case number jumps to the case; words search subjects,
descriptions, messages and notes (internal ones too: this is the agents' console),
contacts and organizations (atiende/search)."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from atiende.cases.models import Case
from atiende.cases.selectors import visible_cases
from atiende.console import selectors
from atiende.console.access import agent_required, staff

NUMBER = re.compile(r"^\s*(?:cs)?\s*0*(\d{1,7})\s*$", re.IGNORECASE)
MAX_QUERY = 200


def case_url(number: str) -> str:
    return f"/console/cases/{number}"


def number_in(query: str) -> str | None:
    """'CS0000123', 'cs123' or '123' as a case number, else None."""
    m = NUMBER.match(query)
    if not m or not int(m.group(1)):
        return None
    return f"CS{int(m.group(1)):07d}"


@agent_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:MAX_QUERY]
    number = number_in(query)
    if number and visible_cases(staff(request)).filter(number=number).exists():
        return redirect(case_url(number))
    rows = selectors.search(staff(request), query) if query else []
    return render(
        request,
        "console/queues/search.html",
        {
            "title": _("Buscar"),
            "query": query,
            "rows": rows,
            "missing_number": number if number and query.upper().startswith("CS") else None,
            "here": request.get_full_path(),
            "agents": selectors.assignable_agents(),
            "groups": selectors.groups(),
            "statuses": Case._meta.get_field("status").choices,
        },
    )
