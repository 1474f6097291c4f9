"""Site-wide values (case policy, editable texts, the organization's name) as the domain
apps read them.

The configuration app stores them (it loads the YAML file) and registers its reader here
when Django starts, so that cases and escalations read them without importing the
configuration app, which imports theirs (imports run one way, docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_reader: Callable[[str], Any] | None = None


def register(reader: Callable[[str], Any]) -> None:
    """Set the function that answers `get` (configuration.settings.get)."""
    global _reader
    _reader = reader


def get(key: str) -> Any:
    """The stored value of `key`, or its default."""
    if _reader is None:
        raise RuntimeError("No site settings reader: is atiende.configuration installed?")
    return _reader(key)
