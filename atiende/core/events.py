"""In-process domain events: an app publishes, other apps subscribe, inside the same
transaction. Used where the importing direction forbids a direct call (e.g. the SLA sweep
telling the escalation ladder that a level's target was breached)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

_subscribers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def subscribe(event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if func not in _subscribers[event]:
            _subscribers[event].append(func)
        return func

    return register


def publish(event: str, **data: Any) -> None:
    for func in list(_subscribers.get(event, ())):
        func(**data)
