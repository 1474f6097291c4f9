"""What a load produces: the validated file (Spec), the report of changes, the error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atiende.core.errors import InvalidInput


class ConfigurationError(InvalidInput):
    """An invalid configuration file. `problems` holds one line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        count = len(problems)
        super().__init__(
            f"{source}: {count} problem{'s' if count != 1 else ''}; nothing was loaded.",
            errors={str(i): p for i, p in enumerate(problems)},
        )
        self.source = source
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join([self.message, *self.problems])


@dataclass
class Change:
    entity: str  # "channel", "schedule", ...
    key: str  # its stable id in the file
    action: str  # created | updated | unchanged | deactivated | kept
    changes: dict[str, list[Any]] = field(default_factory=dict)

    def __str__(self) -> str:
        line = f"{self.action:<11} {self.entity} {self.key}"
        if self.changes:
            line += ": " + ", ".join(sorted(self.changes))
        if self.action == "kept":
            line += " (in the database, not in the file)"
        return line


@dataclass
class Report:
    source: str
    entries: list[Change] = field(default_factory=list)

    def add(self, entity: str, key: str, action: str, changes: dict | None = None) -> None:
        self.entries.append(Change(entity, str(key), action, changes or {}))

    def of(self, action: str) -> list[Change]:
        return [e for e in self.entries if e.action == action]

    @property
    def created(self) -> list[Change]:
        return self.of("created")

    @property
    def updated(self) -> list[Change]:
        return self.of("updated")

    @property
    def unchanged(self) -> list[Change]:
        return self.of("unchanged")

    @property
    def deactivated(self) -> list[Change]:
        return self.of("deactivated")

    @property
    def kept(self) -> list[Change]:
        return self.of("kept")

    @property
    def changed(self) -> bool:
        return any(e.action in ("created", "updated", "deactivated") for e in self.entries)

    def summary(self) -> str:
        counts = ", ".join(
            f"{len(self.of(a))} {a}"
            for a in ("created", "updated", "deactivated", "unchanged", "kept")
            if self.of(a)
        )
        return f"{self.source}: {counts or 'empty'}"

    def __str__(self) -> str:
        lines = [self.summary()]
        lines += [f"  {e}" for e in self.entries if e.action != "unchanged"]
        return "\n".join(lines)


@dataclass
class Spec:
    """A validated file, in the shape of the database rows."""

    source: str
    settings: dict[str, Any] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    sla_targets: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    levels: list[dict[str, Any]] = field(default_factory=list)
    organizations: list[dict[str, Any]] = field(default_factory=list)
