from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from atiende.console.access import agent_required


@agent_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", {"title": "Consola"})
