"""Public pages: the home page and "Canales de atención", rendered from the configuration."""

from __future__ import annotations

from dataclasses import replace

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from atiende.configuration import selectors
from atiende.core import site


def _common() -> dict:
    return {
        "organization": site.get("organization.name"),
        "classification": selectors.classification_label(),
    }


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/home.html", {**_common(), "title": selectors.text("canales.title")}
    )


def canales(request: HttpRequest) -> HttpResponse:
    sections = selectors.public_sections()
    for section in sections:
        for entry in section.channels:
            # A link on this site ("/portal/") is shown as the full address people can type.
            entry.addresses[:] = [
                replace(a, text=request.build_absolute_uri(a.text)) if a.text.startswith("/") else a
                for a in entry.addresses
            ]
    context = {
        **_common(),
        "title": selectors.text("canales.title"),
        "intro": selectors.text("canales.intro"),
        "sections": sections,
        "escalation_title": selectors.text("escalation.title"),
        "escalation_intro": selectors.text("escalation.intro"),
        "escalation_rule": selectors.text("escalation.rule"),
        "levels": selectors.escalation_matrix(),
    }
    return render(request, "portal/canales.html", context)
