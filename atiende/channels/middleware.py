"""Webhooks skip the browser's middleware.

A PBX, Meta's servers and a mail gateway post to `/webhooks/…`; no person's browser does.
Sessions, the chosen language, CSRF, authentication, messages, htmx and static files exist
for browsers, and on a webhook they are only cost: about a third of the CPU a CTI post took
in Django (the acknowledgement a PBX waits for while the phone rings,
docs/benchmarks.md, session 12). `WebhookMiddleware` stands in settings.MIDDLEWARE after
what every request needs — the request id, the trusted proxy, the ops endpoints and the
webhook timings, the HTTPS redirect and the security headers — and calls a webhook's view
itself, so nothing after it runs for `/webhooks/`. What it still does for them:

- the host check (Django's `ALLOWED_HOSTS`, which CommonMiddleware would make): 400;
- the language: the site's default (es-CO) for every webhook, whatever the thread served
  before;
- an unreachable database: the same 503 as elsewhere (core/dbfaults.py);
- `X-Frame-Options: DENY` and `Content-Language`, as on every other response, and
  `Content-Length` (CommonMiddleware's), so a keep-alive answer is not sent chunked.

The views themselves are unchanged and exempt from CSRF as before, so the test client
(which runs the whole stack) and this path give the same answers.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import resolve
from django.utils import translation

from atiende.core import dbfaults

PREFIX = "/webhooks/"


@functools.lru_cache(maxsize=64)
def _resolve(path: str):
    """A webhook path's view, found once per path: a line or a phone number posts to the
    same few paths all day, and walking the project's URL patterns was a tenth of a CTI
    post's processor time in Django (docs/benchmarks.md, session 19). Only paths that
    resolve are kept (a Resolver404 is raised, not cached); the patterns never change
    while a process runs."""
    return resolve(path)


class WebhookMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        request.get_host()  # DisallowedHost -> 400, as for every other request
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        match = _resolve(request.path_info)  # Resolver404 -> the project's 404
        request.resolver_match = match
        try:
            response = match.func(request, *match.args, **match.kwargs)
        except dbfaults.UNAVAILABLE as exc:
            response = dbfaults.response_for(request, exc)
        headers = response.headers
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Language", settings.LANGUAGE_CODE)
        if not response.streaming and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(response.content))  # keep-alive, not chunked
        return response
