"""Load a configuration file (YAML) into the database.

The whole file is validated first; every problem is collected and reported with the file
name and the field path (`reference.yaml: channels[3].hours[0].schedule: unknown schedule
'x'`), and nothing is written when there is any. A valid file is applied in one
transaction: rows are upserted by their stable id (slug, number, type and priority, key),
only changed fields are written, and each change is audited (old -> new). Loading the
same file twice changes nothing. Channels missing from the file are deactivated; other
rows missing from the file are kept and listed in the report. Nothing is ever deleted.

The format is described in docs/configuration.md.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction

from atiende.accounts import services as accounts
from atiende.accounts.models import SupportGroup
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.whatsapp import options as whatsapp_options
from atiende.configuration import settings as site
from atiende.configuration.models import Setting
from atiende.core import audit
from atiende.core.errors import InvalidInput
from atiende.escalations.models import EscalationLevel
from atiende.sla.models import WEEKDAYS, Schedule, SlaTarget

CASE_TYPES = ("incident", "request", "change")
PRIORITIES = ("critical", "high", "moderate", "low")
CLASSIFICATIONS = tuple(site.CLASSIFICATION_LABELS)
CONTACT_KINDS = ("email", "phone", "whatsapp", "url")
MAX_LEVELS = 20  # a sanity bound; the reference ladder has 4 and the ladder sets the top

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
ENV_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
DURATION_RE = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$")
# Setting names that announce a secret value rather than the name of where it lives.
SECRET_NAME_RE = re.compile(r"(pass(word|wd)?|secret|token|api_?key|private_?key|credential)", re.I)
WA_LINK_RE = re.compile(r"^https://wa\.me/(\d+)/?$")

TOP_KEYS = (
    "organization",
    "classification",
    "cases",
    "schedules",
    "sla_targets",
    "groups",
    "channels",
    "escalation_levels",
    "texts",
    "customer_organizations",
)
REQUIRED_TOP_KEYS = ("schedules", "channels", "escalation_levels")
CASES_KEYS = {
    "auto_close_after_days": "cases.auto_close_after_days",
    "reopen_within_days": "cases.reopen_within_days",
    "default_type": "cases.default_type",
    "default_priority": "cases.default_priority",
}


# --------------------------------------------------------------------------- results


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


# ------------------------------------------------------------------------ validation


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


# ---- values


def parse_duration(text: Any) -> int:
    """'15m' -> 900, '4h' -> 14400, '1h30m' -> 5400. ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration like '15m', '4h' or '1h30m', got {_describe(text)}")
    m = DURATION_RE.match(text.strip())
    if not text.strip() or not m:
        hint = " (business days are ambiguous: write hours, e.g. '40h')" if "d" in text else ""
        raise ValueError(f"invalid duration {text!r}: write e.g. '15m', '4h' or '1h30m'{hint}")
    h, mi, s = (int(g or 0) for g in m.groups())
    seconds = h * 3600 + mi * 60 + s
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    return seconds


def format_duration(seconds: int) -> str:
    """900 -> '15m', 14400 -> '4h', 5400 -> '1h30m' (the inverse of parse_duration)."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((h, "h"), (m, "m"), (s, "s")) if n) or "0s"


def _intervals(raw: Any, path: str, problems: Problems) -> list[str]:
    from atiende.sla.calendar import parse_intervals

    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        problems.add(
            path, f'expected a list of intervals like ["07:00-19:00"], got {_describe(raw)}'
        )
        return []
    texts = [x.strip() for x in raw]
    try:
        parse_intervals(texts)
    except ValueError as exc:
        problems.add(path, str(exc).replace("parse_intervals: ", ""))
    return texts


def _iso_date(raw: Any, path: str, problems: Problems) -> str:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw.isoformat()
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    problems.add(path, f"expected a date like 2026-12-24, got {_describe(raw)}")
    return ""


def _phone(value: str, path: str, problems: Problems) -> str:
    from atiende.customers.phones import to_e164

    try:
        return to_e164(value)
    except InvalidInput:
        problems.add(path, f"{value!r} is not a valid phone number")
        return ""


def _email(value: str, path: str, problems: Problems) -> str:
    try:
        validate_email(value)
    except ValidationError:
        problems.add(path, f"{value!r} is not a valid email address")
    return value.lower()


def _link(value: str, path: str, problems: Problems) -> str:
    """An absolute http(s) URL, or a path on this site ('/portal/')."""
    if value.startswith("/"):
        # "//host" and "/\\host" would leave the site; a path has no spaces either.
        if value.startswith("//") or "\\" in value or re.search(r"\s", value):
            problems.add(path, f"{value!r} is not a path on this site")
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(
            path, f"{value!r} is not a link: use https://… or a path on this site like /portal/"
        )
    elif parts.password:
        problems.add(path, "a link must not carry a password")
    return value


def _when(raw: Any, path: str, problems: Problems) -> dict[str, str]:
    f = Fields(raw, path, problems, ("type", "priority"))
    out = {}
    if f.has("type"):
        out["type"] = f.choice("type", CASE_TYPES)
    if f.has("priority"):
        out["priority"] = f.choice("priority", PRIORITIES)
    if f.ok and not f.raw:
        problems.add(path, "must name a type and/or a priority")
    return out


# ---- entities (also used by the admin forms to validate edits)


def parse_schedule(raw: Any, path: str, problems: Problems) -> dict[str, Any]:
    f = Fields(
        raw,
        path,
        problems,
        (
            "slug",
            "name",
            "timezone",
            "always_open",
            "weekly",
            "holiday_country",
            "closed_dates",
            "special_openings",
        ),
    )
    out: dict[str, Any] = {
        "slug": f.slug("slug"),
        "name": f.text("name", required=True, max_length=200),
        "timezone": f.text("timezone", default="America/Bogota", max_length=64),
        "always_open": f.flag("always_open", False),
        "holiday_country": f.text("holiday_country", max_length=8).upper(),
    }
    if out["timezone"]:
        try:
            zoneinfo.ZoneInfo(out["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.add(
                f.at("timezone"),
                f"unknown timezone {out['timezone']!r} (use an IANA name like America/Bogota)",
            )
    if out["holiday_country"]:
        import holidays

        if out["holiday_country"] not in holidays.list_supported_countries():
            problems.add(
                f.at("holiday_country"),
                f"unknown holiday country {out['holiday_country']!r} (use an ISO 3166 code the holidays library knows, like CO)",
            )
    weekly: dict[str, list[str]] = {}
    raw_weekly = f.raw.get("weekly") or {}
    wf = Fields(
        raw_weekly,
        f.at("weekly"),
        problems,
        tuple(WEEKDAYS),
        {"*": "weekdays are mon, tue, …, sun"},
    )
    for day in WEEKDAYS:
        if day in wf.raw:
            intervals = _intervals(wf.raw[day], wf.at(day), problems)
            if intervals:
                weekly[day] = intervals
    out["weekly"] = weekly
    out["closed_dates"] = [
        _iso_date(d, _join(f.at("closed_dates"), i), problems)
        for i, d in enumerate(_list(f.raw.get("closed_dates"), f.at("closed_dates"), problems))
    ]
    special: dict[str, list[str]] = {}
    raw_special = f.raw.get("special_openings") or {}
    if not isinstance(raw_special, dict):
        problems.add(
            f.at("special_openings"),
            f"expected a mapping of dates to intervals, got {_describe(raw_special)}",
        )
        raw_special = {}
    for key, value in raw_special.items():
        where = _join(f.at("special_openings"), str(key))
        day = _iso_date(key, where, problems)
        special[day] = _intervals(value, where, problems)
    out["special_openings"] = special
    if f.ok:
        if out["always_open"] and (weekly or special or out["closed_dates"]):
            problems.add(
                path,
                "an always_open schedule takes no weekly hours, closed dates or special openings",
            )
        if not out["always_open"] and not weekly and not special:
            problems.add(
                f.at("weekly"), "the schedule is never open: give weekly hours or always_open: true"
            )
    return out


def parse_sla_target(
    raw: Any, path: str, problems: Problems, schedules: set[str]
) -> dict[str, Any]:
    f = Fields(
        raw, path, problems, ("type", "priority", "first_response", "resolution", "schedule")
    )
    out: dict[str, Any] = {
        "type": f.choice("type", CASE_TYPES),
        "priority": f.choice("priority", PRIORITIES),
    }
    for key, column in (
        ("first_response", "first_response_seconds"),
        ("resolution", "resolution_seconds"),
    ):
        if f.ok and key not in f.raw:
            problems.add(f.at(key), "required")
            out[column] = 0
            continue
        try:
            out[column] = parse_duration(f.raw.get(key))
        except ValueError as exc:
            problems.add(f.at(key), str(exc))
            out[column] = 0
    if 0 < out["resolution_seconds"] < out["first_response_seconds"]:
        problems.add(f.at("resolution"), "is shorter than first_response")
    out["schedule"] = f.text("schedule") or None
    if out["schedule"] and out["schedule"] not in schedules:
        problems.add(f.at("schedule"), _unknown_ref("schedule", out["schedule"], schedules))
    return out


def parse_organization(raw: Any, path: str, problems: Problems) -> dict[str, Any]:
    """A customer organization. Its email domains go through the same validation as the
    API and the admin (customers.services.clean_domains): no free-mail domain, none that
    another organization already has."""
    from atiende.core.errors import DomainError
    from atiende.customers import services as customers
    from atiende.customers.models import Organization

    f = Fields(raw, path, problems, ("slug", "name", "email_domains"))
    out: dict[str, Any] = {
        "slug": f.slug("slug"),
        "name": f.text("name", required=True, max_length=200),
        "email_domains": [],
    }
    if out["slug"] and not customers.SLUG_RE.match(out["slug"]):
        problems.add(
            f.at("slug"), f"invalid id {out['slug']!r}: use lowercase letters, digits and '-'"
        )
    domains = _list(f.raw.get("email_domains"), f.at("email_domains"), problems)
    if not all(isinstance(d, str) for d in domains):
        problems.add(f.at("email_domains"), "expected a list of domains (text)")
        return out
    existing = Organization.objects.filter(slug=out["slug"]).first() if out["slug"] else None
    try:
        out["email_domains"] = customers.clean_domains(domains, organization=existing)
    except DomainError as exc:
        detail = exc.errors.get("email_domains") if hasattr(exc, "errors") else None
        problems.add(f.at("email_domains"), detail or exc.message)
    return out


def parse_group(raw: Any, path: str, problems: Problems) -> dict[str, Any]:
    f = Fields(raw, path, problems, ("slug", "name", "email"))
    out = {
        "slug": f.slug("slug"),
        "name": f.text("name", required=True, max_length=200),
        "email": f.text("email"),
    }
    if out["email"]:
        out["email"] = _email(out["email"], f.at("email"), problems)
    return out


CHANNEL_KEYS = (
    "slug",
    "kind",
    "name",
    "address",
    "display_address",
    "link",
    "description",
    "attends",
    "attends_label",
    "hours",
    "settings",
    "public",
    "active",
)


def parse_channel(raw: Any, path: str, problems: Problems, schedules: set[str]) -> dict[str, Any]:
    f = Fields(
        raw, path, problems, CHANNEL_KEYS, {"position": "the order of the list gives the position"}
    )
    kind = f.choice("kind", ChannelKind.values)
    out: dict[str, Any] = {
        "slug": f.slug("slug"),
        "kind": kind,
        "name": f.text("name", required=True, max_length=200),
        "description": f.text("description"),
        "attends_label": f.text("attends_label", max_length=200),
        "public": f.flag("public", True),
        "active": f.flag("active", True),
    }
    written = f.text("address", required=kind in ("phone", "whatsapp", "email"), max_length=200)
    address = written
    if written and kind in ("phone", "whatsapp"):
        address = _phone(written, f.at("address"), problems)
    elif written and kind == "email":
        address = _email(written, f.at("address"), problems)
    out["address"] = address
    out["display_address"] = f.text("display_address", default=written, max_length=200)
    link = f.text("link", max_length=200)
    if link:
        link = _link(link, f.at("link"), problems)
        m = WA_LINK_RE.match(link)
        if kind == "whatsapp" and m and address and m.group(1) != address.lstrip("+"):
            problems.add(
                f.at("link"), f"{link} points to another number than the address {address}"
            )
    out["link"] = link

    attends = f.raw.get("attends", "all")
    if attends == "all":
        out["attends"] = "all"
    elif isinstance(attends, list) and attends:
        out["attends"] = [
            _when(rule, _join(f.at("attends"), i), problems) for i, rule in enumerate(attends)
        ]
    else:
        problems.add(
            f.at("attends"),
            f"expected 'all' or a list of {{type, priority}}, got {_describe(attends)}",
        )
        out["attends"] = "all"

    hours = []
    raw_hours = _list(f.raw.get("hours"), f.at("hours"), problems)
    if f.ok and not raw_hours:
        problems.add(f.at("hours"), "required: at least one rule with a schedule")
    for i, rule in enumerate(raw_hours):
        where = _join(f.at("hours"), i)
        rf = Fields(rule, where, problems, ("when", "schedule", "label"))
        item: dict[str, Any] = {}
        if rf.has("when"):
            item["when"] = _when(rf.raw["when"], rf.at("when"), problems)
        item["schedule"] = rf.text("schedule", required=True)
        if item["schedule"] and item["schedule"] not in schedules:
            problems.add(rf.at("schedule"), _unknown_ref("schedule", item["schedule"], schedules))
        label = rf.text("label")
        if label:
            item["label"] = label
        if i == len(raw_hours) - 1 and "when" in item:
            problems.add(
                rf.at("when"), "the last rule must have no 'when', so every request has hours"
            )
        hours.append(item)
    out["hours"] = hours
    out["settings"] = parse_channel_settings(f.raw.get("settings"), f.at("settings"), problems)
    if kind == "whatsapp":
        for key, message in whatsapp_options.check(out["settings"]):
            problems.add(_join(f.at("settings"), key), message)
    return out


def parse_channel_settings(raw: Any, path: str, problems: Problems) -> dict[str, Any]:
    """Channel options. Secrets appear only as names of environment variables (`*_env`)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(path, f"expected a mapping, got {_describe(raw)}")
        return {}
    out = {}
    for key, value in raw.items():
        where = _join(path, str(key))
        if not isinstance(key, str) or not re.match(r"^[a-z][a-z0-9_]*$", key):
            problems.add(where, "setting names use lowercase letters, digits and '_'")
            continue
        if key.endswith("_env"):
            if not isinstance(value, str) or not ENV_NAME_RE.match(value):
                problems.add(
                    where,
                    "must be the NAME of an environment variable (like ATIENDE_CORREO_IMAP_URL); "
                    "this value looks like a secret, and secrets never go in the file",
                )
                continue
        elif SECRET_NAME_RE.search(key):
            problems.add(
                where,
                f"secrets never go in the file: put the value in an environment variable and "
                f"write its name under '{key}_env'",
            )
            continue
        elif isinstance(value, str) and urlsplit(value).password:
            problems.add(
                where,
                "this URL carries a password: put the URL in an environment variable and "
                f"write its name under '{key}_env'",
            )
            continue
        elif not isinstance(value, str | int | float | bool):
            problems.add(where, f"expected text, a number or true/false, got {_describe(value)}")
            continue
        out[key] = value
    return out


def parse_contact(raw: Any, path: str, problems: Problems) -> dict[str, str]:
    f = Fields(raw, path, problems, ("kind", "value", "label"))
    kind = f.choice("kind", CONTACT_KINDS)
    value = f.text("value", required=True)
    if value and kind == "email":
        value = _email(value, f.at("value"), problems)
    elif value and kind in ("phone", "whatsapp"):
        _phone(value, f.at("value"), problems)
    elif value and kind == "url":
        _link(value, f.at("value"), problems)
    return {"kind": kind, "value": value, "label": f.text("label")}


def parse_level(raw: Any, path: str, problems: Problems, groups: set[str]) -> dict[str, Any]:
    f = Fields(
        raw,
        path,
        problems,
        ("number", "name", "title", "responsible", "group", "auto_escalate_on_breach", "contacts"),
    )
    out: dict[str, Any] = {
        "number": f.number("number", required=True, minimum=1),
        "name": f.text("name", required=True, max_length=200),
        "title": f.text("title", required=True, max_length=200),
        "responsible_name": f.text("responsible", max_length=200),
        "auto_escalate_on_breach": f.flag("auto_escalate_on_breach", False),
        "group": f.text("group") or None,
    }
    if out["group"] and out["group"] not in groups:
        problems.add(f.at("group"), _unknown_ref("group", out["group"], groups))
    out["contacts"] = [
        parse_contact(c, _join(f.at("contacts"), i), problems)
        for i, c in enumerate(_list(f.raw.get("contacts"), f.at("contacts"), problems))
    ]
    return out


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


# ---- the whole file


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (a silent overwrite otherwise)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, list | dict):
            continue  # SafeLoader reports unhashable keys itself
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read(path_or_text: str | Path, name: str | None) -> tuple[str, str]:
    """(source name, text). A Path or a one-line string is a file; anything else is YAML text."""
    if isinstance(path_or_text, Path) or "\n" not in path_or_text:
        path = Path(path_or_text)
        try:
            return name or path.name, path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                name or str(path), [f"{path}: cannot read: {exc.strerror or exc}"]
            ) from None
        except UnicodeDecodeError:
            raise ConfigurationError(name or path.name, [f"{path.name}: not UTF-8 text"]) from None
    return name or "<configuration>", path_or_text


def parse(path_or_text: str | Path, *, name: str | None = None) -> Spec:
    """Read and validate a configuration; raise ConfigurationError listing every problem."""
    source, text = _read(path_or_text, name)
    problems = Problems(source)
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.add(where, f"not valid YAML: {exc.problem}")
        raise ConfigurationError(source, problems.items) from None
    except yaml.YAMLError as exc:
        problems.add("", f"not valid YAML: {exc}")
        raise ConfigurationError(source, problems.items) from None

    spec = Spec(source=source)
    top = Fields(data, "", problems, TOP_KEYS)
    if not top.ok:
        raise ConfigurationError(source, problems.items)
    for key in REQUIRED_TOP_KEYS:
        if key not in top.raw:
            problems.add(key, "required")

    if top.has("organization"):
        org = Fields(top.raw["organization"], "organization", problems, ("name",))
        spec.settings["organization.name"] = org.text("name", required=True)
    if top.has("classification"):
        spec.settings["classification"] = top.choice("classification", CLASSIFICATIONS)
    if top.has("cases"):
        cases = Fields(top.raw["cases"], "cases", problems, tuple(CASES_KEYS))
        for key, setting in CASES_KEYS.items():
            if not cases.has(key):
                continue
            if key.endswith("_days"):
                spec.settings[setting] = cases.number(
                    key, minimum=1 if key == "auto_close_after_days" else 0
                )
            else:
                spec.settings[setting] = cases.choice(
                    key, CASE_TYPES if key == "default_type" else PRIORITIES
                )

    spec.schedules = [
        parse_schedule(s, _join("schedules", i), problems)
        for i, s in enumerate(_list(top.raw.get("schedules"), "schedules", problems))
    ]
    _duplicates(spec.schedules, lambda s: s["slug"], "schedules", "schedule", problems)
    schedule_slugs = {s["slug"] for s in spec.schedules if s["slug"]}

    spec.sla_targets = [
        parse_sla_target(t, _join("sla_targets", i), problems, schedule_slugs)
        for i, t in enumerate(_list(top.raw.get("sla_targets"), "sla_targets", problems))
    ]
    _duplicates(
        spec.sla_targets, lambda t: (t["type"], t["priority"]), "sla_targets", "target", problems
    )

    spec.groups = [
        parse_group(g, _join("groups", i), problems)
        for i, g in enumerate(_list(top.raw.get("groups"), "groups", problems))
    ]
    _duplicates(spec.groups, lambda g: g["slug"], "groups", "group", problems)
    group_slugs = {g["slug"] for g in spec.groups if g["slug"]}

    spec.channels = [
        parse_channel(c, _join("channels", i), problems, schedule_slugs)
        for i, c in enumerate(_list(top.raw.get("channels"), "channels", problems))
    ]
    for position, channel in enumerate(spec.channels, start=1):
        channel["position"] = position
    _duplicates(spec.channels, lambda c: c["slug"], "channels", "channel", problems)

    spec.levels = [
        parse_level(lv, _join("escalation_levels", i), problems, group_slugs)
        for i, lv in enumerate(
            _list(top.raw.get("escalation_levels"), "escalation_levels", problems)
        )
    ]
    _duplicates(spec.levels, lambda lv: lv["number"], "escalation_levels", "level", problems)
    numbers = sorted({lv["number"] for lv in spec.levels if lv["number"]})
    if top.has("escalation_levels") and numbers != list(range(1, len(numbers) + 1)):
        problems.add(
            "escalation_levels", f"levels must be numbered 1, 2, 3… without gaps, got {numbers}"
        )
    if numbers and numbers[-1] > MAX_LEVELS:
        problems.add(
            "escalation_levels", f"at most {MAX_LEVELS} levels (cases climb from 1 to {MAX_LEVELS})"
        )
    if top.has("escalation_levels") and not spec.levels:
        problems.add("escalation_levels", "at least level 1 is required")

    spec.organizations = [
        parse_organization(o, _join("customer_organizations", i), problems)
        for i, o in enumerate(
            _list(top.raw.get("customer_organizations"), "customer_organizations", problems)
        )
    ]
    _duplicates(
        spec.organizations, lambda o: o["slug"], "customer_organizations", "organization", problems
    )
    owners: dict[str, str] = {}
    for i, org in enumerate(spec.organizations):
        for domain in org["email_domains"]:
            if domain in owners and owners[domain] != org["slug"]:
                problems.add(
                    _join(_join("customer_organizations", i), "email_domains"),
                    f"email domain {domain!r} is also listed for organization "
                    f"{owners[domain]!r}: a domain belongs to one organization",
                )
            owners.setdefault(domain, org["slug"])

    if top.has("texts"):
        texts = top.raw["texts"]
        if not isinstance(texts, dict):
            problems.add(
                "texts", f"expected a mapping of text keys to text, got {_describe(texts)}"
            )
        else:
            known = sorted(
                k.removeprefix("texts.") for k in site.DEFAULTS if k.startswith("texts.")
            )
            for key, value in texts.items():
                where = _join("texts", str(key))
                if f"texts.{key}" not in site.DEFAULTS:
                    problems.add(where, _unknown_key(key, tuple(known)))
                elif not isinstance(value, str):
                    problems.add(where, f"expected text, got {_describe(value)}")
                else:
                    spec.settings[f"texts.{key}"] = value.strip()

    if problems:
        raise ConfigurationError(source, problems.items)
    _check_calendars(spec, problems)
    if problems:
        raise ConfigurationError(source, problems.items)
    return spec


def _check_calendars(spec: Spec, problems: Problems) -> None:
    """Build each schedule's calendar once: the calendar module has the last word."""
    from atiende.sla.calendar import BusinessCalendar

    for i, s in enumerate(spec.schedules):
        try:
            BusinessCalendar(
                timezone=s["timezone"],
                weekly=s["weekly"],
                holiday_country=s["holiday_country"] or None,
                closed_dates=s["closed_dates"],
                special_openings=s["special_openings"],
                always_open=s["always_open"],
            )
        except ValueError as exc:
            problems.add(_join("schedules", i), str(exc))


# --------------------------------------------------------------------------- writing


def _upsert(
    model: type[models.Model],
    entity: str,
    key: str,
    lookup: dict[str, Any],
    values: dict[str, Any],
    report: Report,
    actor: Any,
) -> models.Model:
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        changes = {name: [None, value] for name, value in {**lookup, **values}.items()}
        audit.record(actor=actor, action=f"{entity}.created", obj=obj, changes=changes)
        report.add(entity, key, "created")
        return obj
    changes = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = [old, value]
            setattr(obj, name, value)
    if changes:
        obj.save(update_fields=list(changes))
        audit.record(actor=actor, action=f"{entity}.updated", obj=obj, changes=changes)
        report.add(entity, key, "updated", changes)
    else:
        report.add(entity, key, "unchanged")
    return obj


def apply(spec: Spec, *, actor: Any = None) -> Report:
    """Write a validated configuration. Call inside a transaction (load() does)."""
    report = Report(spec.source)

    groups = {}
    for g in spec.groups:
        existing = SupportGroup.objects.filter(slug=g["slug"]).first()
        groups[g["slug"]] = accounts.ensure_group(
            slug=g["slug"], name=g["name"], email=g["email"], actor=actor
        )
        if existing is None:
            report.add("group", g["slug"], "created")
        elif (existing.name, existing.email) != (g["name"], g["email"]):
            changes = {"name": [existing.name, g["name"]], "email": [existing.email, g["email"]]}
            report.add(
                "group", g["slug"], "updated", {k: v for k, v in changes.items() if v[0] != v[1]}
            )
        else:
            report.add("group", g["slug"], "unchanged")
    _report_kept(
        report,
        "group",
        SupportGroup.objects.exclude(slug__in=groups).values_list("slug", flat=True),
    )

    schedules = {}
    for s in spec.schedules:
        values = {k: v for k, v in s.items() if k != "slug"}
        schedules[s["slug"]] = _upsert(
            Schedule, "schedule", s["slug"], {"slug": s["slug"]}, values, report, actor
        )
    _report_kept(
        report,
        "schedule",
        Schedule.objects.exclude(slug__in=schedules).values_list("slug", flat=True),
    )

    seen_targets = set()
    for t in spec.sla_targets:
        key = f"{t['type']}/{t['priority']}"
        seen_targets.add(key)
        values = {
            "first_response_seconds": t["first_response_seconds"],
            "resolution_seconds": t["resolution_seconds"],
            "schedule": schedules[t["schedule"]] if t["schedule"] else None,
        }
        lookup = {"type": t["type"], "priority": t["priority"]}
        _upsert(SlaTarget, "sla_target", key, lookup, values, report, actor)
    _report_kept(
        report,
        "sla_target",
        [
            f"{t}/{p}"
            for t, p in SlaTarget.objects.values_list("type", "priority")
            if f"{t}/{p}" not in seen_targets
        ],
    )

    slugs = []
    for c in spec.channels:
        slugs.append(c["slug"])
        values = {k: v for k, v in c.items() if k != "slug"}
        _upsert(Channel, "channel", c["slug"], {"slug": c["slug"]}, values, report, actor)
    # Channels missing from the file are switched off and moved after the file's channels,
    # in their previous order, so an export loads back to the same positions.
    missing = Channel.objects.exclude(slug__in=slugs).order_by("position", "slug")
    for position, channel in enumerate(missing, start=len(slugs) + 1):
        changes = {}
        if channel.active:
            changes["active"] = [True, False]
        if channel.position != position:
            changes["position"] = [channel.position, position]
        if changes:
            channel.active, channel.position = False, position
            channel.save(update_fields=list(changes))
            action = "deactivated" if "active" in changes else "updated"
            audit.record(actor=actor, action=f"channel.{action}", obj=channel, changes=changes)
            report.add("channel", channel.slug, action, changes)
        else:
            report.add("channel", channel.slug, "kept")

    numbers = []
    for lv in spec.levels:
        numbers.append(lv["number"])
        values = {k: v for k, v in lv.items() if k != "number"}
        values["group"] = groups[lv["group"]] if lv["group"] else None
        _upsert(
            EscalationLevel,
            "escalation_level",
            str(lv["number"]),
            {"number": lv["number"]},
            values,
            report,
            actor,
        )
    _report_kept(
        report,
        "escalation_level",
        [
            str(n)
            for n in EscalationLevel.objects.exclude(number__in=numbers).values_list(
                "number", flat=True
            )
        ],
    )

    _apply_organizations(spec, report, actor)

    for key, value in spec.settings.items():
        _upsert(Setting, "setting", key, {"key": key}, {"value": value}, report, actor)
    _report_kept(
        report,
        "setting",
        Setting.objects.exclude(key__in=spec.settings).values_list("key", flat=True),
    )
    return report


def _apply_organizations(spec: Spec, report: Report, actor: Any) -> None:
    """Customer organizations, through the customers services (validated and audited
    there). Organizations missing from the file are kept: they hold contacts and cases."""
    from atiende.customers import services as customers
    from atiende.customers.models import Organization

    for org in spec.organizations:
        existing = Organization.objects.filter(slug=org["slug"]).first()
        if existing is None:
            customers.create_organization(
                slug=org["slug"], name=org["name"], email_domains=org["email_domains"], actor=actor
            )
            report.add("organization", org["slug"], "created")
            continue
        before = {"name": existing.name, "email_domains": list(existing.email_domains or [])}
        customers.update_organization(
            organization=existing, name=org["name"], email_domains=org["email_domains"], actor=actor
        )
        after = {"name": existing.name, "email_domains": list(existing.email_domains or [])}
        changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
        report.add("organization", org["slug"], "updated" if changes else "unchanged", changes)


def _report_kept(report: Report, entity: str, keys: Any) -> None:
    for key in keys:
        report.add(entity, key, "kept")


# ------------------------------------------------------------------------ entry points


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
