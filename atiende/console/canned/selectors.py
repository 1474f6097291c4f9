"""Reads of the canned answers, and their text for one case (placeholders filled)."""

from __future__ import annotations

from typing import Any

from atiende.console.canned.models import CannedAnswer
from atiende.sla.texts import render

PLACEHOLDERS = ("numero", "contacto", "asunto", "agente", "organizacion")


def active_answers() -> list[CannedAnswer]:
    return list(CannedAnswer.objects.filter(active=True))


def values_for(case: Any, agent: Any) -> dict[str, str]:
    requester = case.requester
    return {
        "numero": case.number,
        "contacto": (requester.name if requester and requester.name else "") or "cliente",
        "asunto": case.subject,
        "agente": getattr(agent, "name", "") or "",
        "organizacion": case.organization.name if case.organization_id else "",
    }


def text_for(answer: CannedAnswer, case: Any, agent: Any) -> str:
    """The answer's body for `case`; an unknown placeholder is left as written."""
    return render(answer.body, **values_for(case, agent))


def answer_by_slug(slug: str, *, whatsapp_approved: bool | None = None) -> CannedAnswer | None:
    qs = CannedAnswer.objects.filter(active=True, slug=slug)
    if whatsapp_approved is not None:
        qs = qs.filter(whatsapp_approved=whatsapp_approved)
    return qs.first()
