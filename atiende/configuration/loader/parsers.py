"""Parsers of the file's values and entities (also used by the admin forms to validate edits)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any
from urllib.parse import urlsplit

from atiende.channels import kinds
from atiende.configuration.loader.fields import (
    Fields,
    Problems,
    _describe,
    _join,
    _list,
    _unknown_ref,
)
from atiende.directory.models import ChannelKind
from atiende.sla.models import WEEKDAYS

CASE_TYPES = ("incident", "request", "change")
PRIORITIES = ("critical", "high", "moderate", "low")
CONTACT_KINDS = ("email", "phone", "whatsapp", "url")
ENV_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
DURATION_RE = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$")
# Setting names that announce a secret value rather than the name of where it lives.
SECRET_NAME_RE = re.compile(r"(pass(word|wd)?|secret|token|api_?key|private_?key|credential)", re.I)


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
    try:
        return kinds.phone_number(value)
    except ValueError as exc:
        problems.add(path, str(exc))
        return ""


def _email(value: str, path: str, problems: Problems) -> str:
    try:
        return kinds.email_address(value)
    except ValueError as exc:
        problems.add(path, str(exc))
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
    # What is particular to a kind (its address, link and options) its adapter says.
    rules = kinds.rules_for(kind)
    written = f.text("address", required=rules.clean_address is not None, max_length=200)
    address = written
    if written and rules.clean_address is not None:
        try:
            address = rules.clean_address(written)
        except ValueError as exc:
            problems.add(f.at("address"), str(exc))
            address = ""
    out["address"] = address
    out["display_address"] = f.text("display_address", default=written, max_length=200)
    link = f.text("link", max_length=200)
    if link:
        link = _link(link, f.at("link"), problems)
        for message in rules.check_link(link, address):
            problems.add(f.at("link"), message)
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
    for key, message in rules.check_options(out["settings"]):
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
