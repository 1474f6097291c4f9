"""Field checks: typed access to the file's mappings, collecting every problem with its path."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


class Problems:
    """Collects problems as (field path, message); `items` are the `file: path: problem` lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.found.append((path, message))

    @property
    def items(self) -> list[str]:
        return [
            f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}"
            for path, message in self.found
        ]

    def __bool__(self) -> bool:
        return bool(self.found)


_MISSING = object()


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Fields:
    """Typed access to one mapping of the file, recording problems under its path."""

    def __init__(
        self,
        raw: Any,
        path: str,
        problems: Problems,
        allowed: tuple[str, ...],
        hints: dict[str, str] | None = None,
    ):
        self.path = path
        self.problems = problems
        self.ok = isinstance(raw, dict)
        self.raw: dict = raw if self.ok else {}
        if not self.ok:
            problems.add(path, f"expected a mapping (key: value), got {_describe(raw)}")
            return
        hints = hints or {}
        for key in self.raw:
            if key not in allowed:
                if str(key) in hints:  # a key people expect, with the reason it is not one
                    problems.add(_join(path, str(key)), f"unknown key {key!r}: {hints[str(key)]}")
                else:
                    problems.add(
                        _join(path, str(key)), _unknown_key(key, allowed, hints.get("*", ""))
                    )

    def at(self, key: str) -> str:
        return _join(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.raw

    def text(
        self, key: str, *, required: bool = False, default: str = "", max_length: int | None = None
    ) -> str:
        value = self.raw.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problems.add(self.at(key), "required")
            return default
        if not isinstance(value, str):
            self.problems.add(
                self.at(key),
                f'expected text, got {_describe(value)} (quote numbers: "601 7442727")',
            )
            return default
        value = value.strip()
        if required and not value:
            self.problems.add(self.at(key), "must not be empty")
        if max_length is not None and len(value) > max_length:
            self.problems.add(
                self.at(key), f"too long ({len(value)} characters, at most {max_length})"
            )
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.problems.add(self.at(key), f"expected true or false, got {_describe(value)}")
            return default
        return value

    def number(
        self, key: str, *, required: bool = False, default: int = 0, minimum: int = 0
    ) -> int:
        value = self.raw.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.problems.add(self.at(key), "required")
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            self.problems.add(self.at(key), f"expected a whole number, got {_describe(value)}")
            return default
        if value < minimum:
            self.problems.add(self.at(key), f"must be at least {minimum}, got {value}")
        return value

    def choice(
        self, key: str, choices: tuple[str, ...] | list[str], *, required: bool = True
    ) -> str:
        value = self.text(key, required=required)
        if value and value not in choices:
            self.problems.add(self.at(key), _unknown_value(value, choices))
        return value

    def slug(self, key: str) -> str:
        value = self.text(key, required=True, max_length=50)
        if value and not SLUG_RE.match(value):
            self.problems.add(
                self.at(key), f"invalid id {value!r}: use lowercase letters, digits and '-'"
            )
        return value


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return repr(value)


def _unknown_key(key: Any, allowed: tuple[str, ...], hint: str = "") -> str:
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(str(key), allowed, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    else:
        message += f" (expected one of: {', '.join(allowed)})"
    return message + (f"; {hint}" if hint else "")


def _unknown_value(value: str, choices: tuple[str, ...] | list[str]) -> str:
    return f"unknown value {value!r} (expected one of: {', '.join(choices)})"


def _list(raw: Any, path: str, problems: Problems) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(path, f"expected a list, got {_describe(raw)}")
        return []
    return raw


def _unknown_ref(what: str, value: str, known: set[str]) -> str:
    message = f"unknown {what} {value!r}"
    close = difflib.get_close_matches(value, sorted(known), n=1)
    if close:
        return message + f" (did you mean {close[0]!r}?)"
    return message + (
        f" (defined: {', '.join(sorted(known))})" if known else f" (no {what}s are defined)"
    )


def _duplicates(
    items: list[dict], key: Callable[[dict], Any], path: str, label: str, problems: Problems
) -> None:
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in (None, "", 0) or (isinstance(k, tuple) and "" in k):
            continue
        if k in seen:
            shown = "/".join(k) if isinstance(k, tuple) else k
            problems.add(_join(path, i), f"duplicate {label} {shown!r} (also at {path}[{seen[k]}])")
        else:
            seen[k] = i
