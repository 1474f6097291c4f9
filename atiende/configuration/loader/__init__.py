"""Load a configuration file (YAML) into the database.

The whole file is validated first; every problem is collected and reported with the file
name and the field path (`reference.yaml: channels[3].hours[0].schedule: unknown schedule
'x'`), and nothing is written when there is any. A valid file is applied in one
transaction: rows are upserted by their stable id (slug, number, type and priority, key),
only changed fields are written, and each change is audited (old -> new). Loading the
same file twice changes nothing. Channels missing from the file are deactivated; other
rows missing from the file are kept and listed in the report. Nothing is ever deleted.

The format is described in docs/configuration.md.

The package, in the order a load runs: `reading` (the whole file: strict YAML, top-level
keys, references), `parsers` (each value and entity), `fields` (typed access to a mapping,
problems with their paths), `report` (the validated Spec, the Report, ConfigurationError),
`applying` (the upserts). The entry points are here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from atiende.configuration.loader.applying import apply
from atiende.configuration.loader.fields import Problems
from atiende.configuration.loader.parsers import (
    CASE_TYPES,
    CHANNEL_KEYS,
    PRIORITIES,
    format_duration,
    parse_channel,
    parse_contact,
    parse_duration,
    parse_schedule,
)
from atiende.configuration.loader.reading import CASES_KEYS, MAX_LEVELS, parse
from atiende.configuration.loader.report import ConfigurationError, Report, Spec
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel
from atiende.sla.models import Schedule

__all__ = [
    "CASES_KEYS",
    "CASE_TYPES",
    "CHANNEL_KEYS",
    "MAX_LEVELS",
    "PRIORITIES",
    "ConfigurationError",
    "Problems",
    "Report",
    "Spec",
    "apply",
    "format_duration",
    "is_empty",
    "load",
    "load_if_empty",
    "parse",
    "parse_channel",
    "parse_contact",
    "parse_duration",
    "parse_schedule",
]


def load(path_or_text: str | Path, *, actor: Any = None, name: str | None = None) -> Report:
    """Validate and load a configuration (a path, or YAML text). Atomic and idempotent.

    `actor` is the user responsible for the change, None for the system (the command).
    Raises ConfigurationError, with every problem, when the file is invalid.
    """
    spec = parse(path_or_text, name=name)
    with transaction.atomic():
        return apply(spec, actor=actor)


def is_empty() -> bool:
    """No configuration has been loaded yet."""
    return not (
        Channel.objects.exists() or Schedule.objects.exists() or EscalationLevel.objects.exists()
    )


def load_if_empty(path: str | Path, *, actor: Any = None) -> Report | None:
    """Load `path` when the database holds no configuration yet (first start); else None."""
    with transaction.atomic():
        if not is_empty():
            return None
        spec = parse(path)
        return apply(spec, actor=actor)
