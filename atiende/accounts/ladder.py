"""The numbers of the configured escalation ladder, which a responsible's level must be on.

The escalations app, which imports accounts, registers its reader when Django starts
(imports run one way); this module is that hook alone, so registering it does not import
the account services and what they import (issue 17, process start)."""

from __future__ import annotations

from collections.abc import Callable

_numbers: Callable[[], list[int]] = list


def register(numbers: Callable[[], list[int]]) -> None:
    global _numbers
    _numbers = numbers


def numbers() -> list[int]:
    return _numbers()
