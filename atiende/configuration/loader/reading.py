"""Reading the whole file: strict YAML, the top-level keys, references between entities."""

from __future__ import annotations

from pathlib import Path

import yaml

from atiende.configuration.loader.fields import (
    Fields,
    Problems,
    _describe,
    _duplicates,
    _join,
    _list,
    _unknown_key,
)
from atiende.configuration.loader.parsers import (
    CASE_TYPES,
    PRIORITIES,
    parse_channel,
    parse_group,
    parse_level,
    parse_organization,
    parse_schedule,
    parse_sla_target,
)
from atiende.configuration.loader.report import ConfigurationError, Spec
from atiende.core import site

CLASSIFICATIONS = tuple(site.CLASSIFICATION_LABELS)
MAX_LEVELS = 20  # a sanity bound; the reference ladder has 4 and the ladder sets the top
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
    for i, org_spec in enumerate(spec.organizations):
        for domain in org_spec["email_domains"]:
            if domain in owners and owners[domain] != org_spec["slug"]:
                problems.add(
                    _join(_join("customer_organizations", i), "email_domains"),
                    f"email domain {domain!r} is also listed for organization "
                    f"{owners[domain]!r}: a domain belongs to one organization",
                )
            owners.setdefault(domain, org_spec["slug"])

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
