"""The queues page (`/console/`), its counts (polled by htmx) and the bulk actions.

Query parameters, not path segments, choose the queue, filters, sort and page, so every
view of a queue is a plain link an agent can bookmark: `/console/?queue=at-risk&page=2`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atiende.accounts.models import SupportGroup, User
from atiende.cases import services as case_services
from atiende.cases.models import CaseType, Priority, Status
from atiende.cases.selectors import case_for
from atiende.console import selectors
from atiende.console.access import agent_required, staff
from atiende.core.errors import DomainError
from atiende.directory import selectors as channel_selectors

FILTER_KEYS = ("status", "type", "priority", "level", "channel", "organization")
MAX_BULK = 200


def _filters(params) -> selectors.Filters:
    level = params.get("level", "")
    return selectors.Filters(
        status=params.get("status", "") if params.get("status", "") in Status.values else "",
        type=params.get("type", "") if params.get("type", "") in CaseType.values else "",
        priority=(
            params.get("priority", "") if params.get("priority", "") in Priority.values else ""
        ),
        level=int(level) if level.isdigit() and 0 < int(level) < 100 else None,
        channel=params.get("channel", "")[:50],
        organization=params.get("organization", "")[:200],
    )


def _page(params) -> int:
    raw = params.get("page", "1")
    return min(int(raw), 10_000) if raw.isdigit() and int(raw) > 0 else 1


def _query(params, **changes) -> str:
    """The current page's query string with some parameters changed (links to sort and
    paginate keep the queue and its filters)."""
    values = {k: params.get(k, "") for k in ("queue", "sort", *FILTER_KEYS)}
    values.update({k: v for k, v in changes.items()})
    return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})


@agent_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    params = request.GET
    slug = params.get("queue", "mine")
    if slug not in selectors.BY_SLUG:
        slug = "mine"
    who = selectors.Who.of(staff(request))
    filters = _filters(params)
    page = selectors.queue_page(
        who, slug, filters=filters, sort=params.get("sort", ""), page=_page(params)
    )
    counts = selectors.counts(who)
    sort = page["sort"]
    columns = [
        ("number", _("Número")),
        ("created", _("Creado")),
        ("priority", _("Prioridad")),
        ("deadline", _("Próximo vencimiento")),
        ("updated", _("Última actividad")),
    ]
    sort_links = []
    for key, label in columns:
        current = sort.lstrip("-") == key
        # Priority and deadline have one useful direction (most urgent first); the others
        # start newest / highest first and turn the other way on a second click.
        one_way = key in ("priority", "deadline") or sort == f"-{key}"
        target = key if one_way else f"-{key}"
        sort_links.append(
            {
                "key": key,
                "label": label,
                "url": _query(params, queue=slug, sort=target),
                "current": current,
                "direction": "desc" if sort.startswith("-") else "asc",
            }
        )
    context = {
        "title": _("Colas"),
        "queue": selectors.BY_SLUG[slug],
        "queues": _tabs(counts),
        "rows": page["rows"],
        "page": page["page"],
        "has_next": page["has_next"],
        "total": counts[slug],
        "total_approximate": slug in counts.approximate,
        "filtered": filters.active(),
        "filters": filters,
        "sort_links": sort_links,
        "sort": sort,
        "prev_url": _query(params, queue=slug, sort=sort, page=page["page"] - 1)
        if page["page"] > 1
        else "",
        "next_url": _query(params, queue=slug, sort=sort, page=page["page"] + 1)
        if page["has_next"]
        else "",
        "statuses": Status.choices,
        "types": CaseType.choices,
        "priorities": Priority.choices,
        "channels": channel_selectors.channels(),
        "agents": selectors.assignable_agents(),
        "groups": selectors.groups(),
        "here": request.get_full_path(),
    }
    return render(request, "console/home.html", context)


@agent_required
@require_GET
def counts(request: HttpRequest) -> HttpResponse:
    """The queue tabs with their counts: the page polls this every 10 s (htmx)."""
    slug = request.GET.get("queue", "mine")
    who = selectors.Who.of(staff(request))
    numbers = selectors.counts(who)
    return render(
        request,
        "console/queues/_tabs.html",
        {
            "queue": selectors.BY_SLUG.get(slug, selectors.BY_SLUG["mine"]),
            "queues": _tabs(numbers),
        },
    )


def _tabs(counts: selectors.Counts) -> list[dict]:
    """Each queue with its count; an approximate one (the "all" count of a large help desk,
    see selectors._all_count) is shown as "≈ N"."""
    return [
        {"q": q, "count": counts[q.slug], "approximate": q.slug in counts.approximate}
        for q in selectors.QUEUES
    ]


@agent_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Assign or change the status of several cases at once. Each case goes through the
    case services on its own (one refused case does not undo the others); refusals are
    shown per case with the service's explanation."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) or (
        not back.startswith("/console/")
    ):
        back = "/console/"
    numbers = list(dict.fromkeys(n.strip().upper() for n in request.POST.getlist("cases")))
    numbers = [n for n in numbers if n][:MAX_BULK]
    action = request.POST.get("action", "")
    if not numbers:
        messages.error(request, _("Elija al menos un caso."))
        return redirect(back)
    try:
        change = _bulk_change(request, action)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    done, refused = [], []
    for number in numbers:
        try:
            case = case_for(staff(request), number)
            if "status" in change:
                case_services.change_status(
                    case=case, actor=staff(request), status=change["status"]
                )
            else:
                case_services.update_case(case=case, actor=staff(request), **change)
            done.append(case.number)
        except DomainError as exc:
            refused.append((number, explain(exc)))
    if done:
        selectors.forget_counts()
        messages.success(
            request,
            _("Cambio aplicado a %(n)d caso(s): %(cases)s.")
            % {"n": len(done), "cases": ", ".join(done)},
        )
    for number, reason in refused:
        messages.error(
            request, _("%(case)s no cambió: %(reason)s") % {"case": number, "reason": reason}
        )
    return redirect(back)


def _bulk_change(request: HttpRequest, action: str) -> dict:
    post = request.POST
    if action == "assign-me":
        return {"assignee": staff(request)}
    if action == "assign-agent":
        agent = User.objects.filter(pk=_int(post.get("agent")), is_active=True).first()
        if agent is None or not agent.is_agent:
            raise ValueError(_("Elija el agente al que asignar los casos."))
        return {"assignee": agent}
    if action == "assign-group":
        group = SupportGroup.objects.filter(pk=_int(post.get("group"))).first()
        if group is None:
            raise ValueError(_("Elija el grupo al que asignar los casos."))
        return {"group": group, "assignee": None}
    if action == "status":
        status = post.get("status", "")
        if status not in Status.values:
            raise ValueError(_("Elija el estado al que pasar los casos."))
        return {"status": status}
    raise ValueError(_("Elija una acción."))


def explain(exc: DomainError) -> str:
    """The service's Spanish message, with the field errors of invalid input."""
    errors = getattr(exc, "errors", None) or {}
    details = " ".join(str(v) for v in errors.values())
    return f"{exc.message} {details}".strip()


def _int(value) -> int:
    return int(value) if value and str(value).isdigit() else 0
