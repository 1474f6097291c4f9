"""Who may open the console: signed-in staff (agents, supervisors, admins).

Anonymous visitors go to the one sign-in page with `?next=`; a customer gets 404, exactly
like a page that does not exist (the console is not theirs, and saying "forbidden" would
say it exists)."""

from __future__ import annotations

from functools import wraps
from typing import cast

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest

from atiende.accounts.models import User


def agent_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(user, "is_agent", False):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def staff(request: HttpRequest) -> User:
    """The signed-in staff user of a view that `agent_required` guards."""
    return cast(User, request.user)
