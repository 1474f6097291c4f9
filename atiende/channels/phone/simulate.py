"""A PBX in a few lines: the generic-CTI events of one whole call, posted the way a PBX
posts them. Used by `atiende cti-simulate`, the tests and the benchmark."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import httpx


def call_events(
    *,
    from_: str,
    to: str,
    direction: str = "in",
    agent: str = "",
    answering_number: str = "",
    missed: bool = False,
    cause: str = "",
    queue: str = "",
    call_id: str = "",
) -> list[dict]:
    """newCall, answer (unless missed), hangup of one call, as generic-CTI fields."""
    call_id = call_id or secrets.token_hex(8)
    base = {"from": from_, "to": to, "direction": direction, "callId": call_id}
    users = {"user": [agent]} if agent else {}
    events = [{"event": "newCall", **base, **users, **({"queue": queue} if queue else {})}]
    if not missed:
        events.append(
            {
                "event": "answer",
                **base,
                **users,
                **({"answeringNumber": answering_number} if answering_number else {}),
            }
        )
    events.append(
        {
            "event": "hangup",
            **base,
            **users,
            "cause": cause or ("noAnswer" if missed else "normalClearing"),
            **({"answeringNumber": answering_number} if answering_number and not missed else {}),
        }
    )
    return events


def form_body(event: dict) -> bytes:
    """Form encoding as a dialplan's CURL() sends it (`user[]` repeated)."""
    pairs = []
    for key, value in event.items():
        if isinstance(value, list):
            pairs += [(f"{key}[]", v) for v in value]
        else:
            pairs.append((key, value))
    return urlencode(pairs).encode()


def post(
    client: httpx.Client, url: str, token: str, event: dict, *, form: bool = False
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return client.post(url, content=form_body(event), headers=headers)
    return client.post(url, json=event, headers=headers)
