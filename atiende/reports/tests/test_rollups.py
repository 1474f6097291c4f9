"""The roll-ups against a brute-force count from the raw rows, on small varied data that
hypothesis makes up: cases with and without clocks (met, late, breached, paused, sub-second
instants) over two months, portal cases and calls as contacts, missed calls called back or
not. For every filter tried, the reports read from the roll-ups must equal what a plain
loop over the cases, clocks and calls gives; and an incremental refresh must leave the
same rows as a full rebuild."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from atiende.cases.models import Case
from atiende.cases.statuses import ACTIVE
from atiende.channels.phone.models import Call
from atiende.reports import filters, histogram, selectors, services
from atiende.reports.hours import LOCAL, attention_calendar
from atiende.reports.models import (
    CaseFigures,
    ContactHour,
    MissedCallDay,
    OrganizationDay,
    SlaDay,
    TimeMonth,
)
from atiende.sla.models import SlaTimer
from atiende.sla.schedules import calendar

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 10, 20, tzinfo=LOCAL)
FIRST_REFRESH = dt.datetime(2026, 12, 1, 12, tzinfo=LOCAL)
SECOND_REFRESH = dt.datetime(2026, 12, 8, 12, tzinfo=LOCAL)
NUMBERS = ["+573001000001", "+573001000002", "+573001000003"]

clock_spec = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "delay": st.integers(0, 3 * 86400),  # to the first response or resolution
            "met": st.booleans(),
            "breached": st.booleans(),
            "target": st.sampled_from([900, 3600, 28800]),
            "pause": st.one_of(st.none(), st.tuples(st.integers(0, 7200), st.integers(0, 7200))),
        }
    ),
)
case_spec = st.fixed_dictionaries(
    {
        "at": st.integers(0, 41 * 86400 - 1),  # seconds after START
        "micro": st.integers(0, 999_999),
        "channel": st.sampled_from(["correo", "portal"]),
        "type": st.sampled_from(["request", "incident", "change"]),
        "priority": st.sampled_from(["critical", "high", "low"]),
        "level": st.integers(1, 3),
        "org": st.sampled_from([None, "acme", "globex"]),
        "open": st.booleans(),
        "schedule": st.sampled_from(["horario-habil", "24x7"]),
        "fr": clock_spec,
        "res": clock_spec,
    }
)
call_spec = st.fixed_dictionaries(
    {
        "at": st.integers(0, 41 * 86400 - 1),
        "number": st.sampled_from(NUMBERS),
        "direction": st.sampled_from(["in", "in", "out"]),
        "missed": st.booleans(),
    }
)


class World:
    """The rows made for one example, and the brute-force figures over them."""

    def __init__(self, channels: dict[str, Any], orgs: dict[str, Any]) -> None:
        self.channels, self.orgs = channels, orgs
        self.n = 0

    def add_case(self, spec: dict[str, Any], base: dt.datetime, now: dt.datetime) -> Case:
        self.n += 1
        created = base + dt.timedelta(seconds=spec["at"], microseconds=spec["micro"])
        case = Case.objects.create(
            number=f"T{self.n:07d}",
            type=spec["type"],
            priority=spec["priority"],
            status="open" if spec["open"] else "closed",
            level=spec["level"],
            channel=self.channels[spec["channel"]],
            organization=self.orgs.get(spec["org"]),
            subject="caso",
            created_at=created,
            updated_at=now,
        )
        for kind, key in (("first_response", "fr"), ("resolution", "res")):
            c = spec[key]
            if c is None:
                continue
            met = created + dt.timedelta(seconds=c["delay"], microseconds=7) if c["met"] else None
            pauses = []
            if c["pause"]:
                a = created + dt.timedelta(seconds=c["pause"][0])
                pauses = [[a.isoformat(), (a + dt.timedelta(seconds=c["pause"][1])).isoformat()]]
            due = created + dt.timedelta(seconds=c["target"])
            SlaTimer.objects.create(
                case=case,
                kind=kind,
                schedule=spec["schedule"],
                target_seconds=c["target"],
                started_at=created,
                due_at=due,
                at_risk_at=due,
                pauses=pauses,
                met_at=met,
                breached_at=due if c["breached"] else None,
            )
        return case

    def add_call(self, spec: dict[str, Any], base: dt.datetime) -> None:
        self.n += 1
        at = base + dt.timedelta(seconds=spec["at"])
        Call.objects.create(
            channel=self.channels["linea"],
            call_id=f"c{self.n}",
            direction=spec["direction"],
            caller_e164=spec["number"],
            state="ended",
            missed=spec["missed"] and spec["direction"] == "in",
            started_at=at,
            created_at=at,
            updated_at=at,
        )


def _business(timer: SlaTimer) -> int | None:
    """A stopped clock's business seconds, straight from its row (docs/reports.md)."""
    if timer.met_at is None:
        return None
    cal = calendar(timer.schedule)
    if timer.met_at <= timer.started_at:
        return 0
    total = cal.elapsed(timer.started_at, timer.met_at)
    for a, b in timer.pauses:
        a = max(dt.datetime.fromisoformat(a), timer.started_at)
        b = min(dt.datetime.fromisoformat(b), timer.met_at)
        if b > a:
            total -= cal.elapsed(a, b)
    return max(total, 0)


def _rank(values: list[int], fraction: float) -> int | None:
    values = sorted(values)
    return values[max(math.ceil(fraction * len(values)) - 1, 0)] if values else None


def _expected_times(f: filters.Filters) -> dict[str, dict[str, int | None]]:
    start, end = f.instants
    cases = Case.objects.filter(created_at__gte=start, created_at__lt=end)
    if f.channel:
        cases = cases.filter(channel=f.channel)
    if f.type:
        cases = cases.filter(type=f.type)
    if f.organization:
        cases = cases.filter(organization=f.organization)
    values: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    exact: dict[str, dict[str, int | None]] = {}
    for case in cases.select_related("channel"):
        for timer in SlaTimer.objects.filter(case=case):
            seconds = _business(timer)
            prefix = "fr" if timer.kind == "first_response" else "res"
            values[case.channel.slug][prefix]  # the channel has a row even without times
            if seconds is not None:
                values[case.channel.slug][prefix].append(seconds)
    out = {}
    for slug, per in values.items():
        exact[slug] = {}
        out[slug] = {}
        for prefix in ("fr", "res"):
            for name, fraction in (("median", 0.5), ("p90", 0.9)):
                value = _rank(per[prefix], fraction)
                exact[slug][f"{prefix}_{name}"] = value
                out[slug][f"{prefix}_{name}"] = (
                    None if value is None else histogram.upper(histogram.bucket(value))
                )
    return out


def _expected_missed(f: filters.Filters) -> dict[str, dict[str, Any]]:
    start, end = f.instants
    calls = list(Call.objects.order_by("started_at"))
    out: dict[str, dict[str, Any]] = {}
    per_line: dict[str, list[int | None]] = defaultdict(list)
    for call in calls:
        if not (call.direction == "in" and call.missed and start <= call.started_at < end):
            continue
        back = next(
            (
                c.started_at
                for c in calls
                if c.direction == "out"
                and c.caller_e164 == call.caller_e164
                and call.started_at < c.started_at <= call.started_at + dt.timedelta(days=7)
            ),
            None,
        )
        cal = attention_calendar(call.channel)
        per_line[call.channel.slug].append(
            None if back is None else cal.elapsed(call.started_at, back)
        )
    for slug, times in per_line.items():
        back = [t for t in times if t is not None]
        median, p90 = _rank(back, 0.5), _rank(back, 0.9)
        out[slug] = {
            "missed": len(times),
            "called_back": len(back),
            "callback_median": None
            if median is None
            else histogram.upper(histogram.bucket(median)),
            "callback_p90": None if p90 is None else histogram.upper(histogram.bucket(p90)),
        }
    return out


def _expected_contacts(f: filters.Filters) -> dict[str, tuple[int, int]]:
    start, end = f.instants
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    instants = [
        (c.channel, c.started_at)
        for c in Call.objects.filter(direction="in", started_at__gte=start, started_at__lt=end)
    ] + [
        (c.channel, c.created_at)
        for c in Case.objects.filter(
            channel__kind="portal", created_at__gte=start, created_at__lt=end
        )
    ]
    for channel, at in instants:
        counts[channel.slug][0] += 1
        cal = attention_calendar(channel)
        if cal is not None and not cal.is_open(at):
            counts[channel.slug][1] += 1
    return {slug: (c, o) for slug, (c, o) in counts.items()}


SCOPES = [
    {"from": "2026-10-20", "to": "2026-12-10"},  # October's end, all November, December's start
    {"from": "2026-11-01", "to": "2026-11-30"},  # one whole month
    {"from": "2026-10-25", "to": "2026-11-03"},  # no whole month
    {"from": "2026-10-20", "to": "2026-12-10", "organization": "acme"},
    {"from": "2026-10-20", "to": "2026-12-10", "channel": "correo"},
    {"from": "2026-10-20", "to": "2026-12-10", "type": "request"},
]


def _check_reports() -> None:
    for scope in SCOPES:
        f = filters.parse(scope)
        report = selectors.sla_report(f)
        rows = {r["channel"]: r for r in report["tables"]["by_channel"]["rows"]}
        direct = selectors.direct_sla_counts(f)
        for slug, counts in direct.items():
            assert {k: rows[slug][k] for k in counts} == counts, (scope, slug)
        assert set(rows) == set(direct), scope
        times = {s: {k: r[k] for k in selectors.TIME_KEYS} for s, r in rows.items()}
        expected = _expected_times(f)
        assert times == {s: expected.get(s, dict.fromkeys(selectors.TIME_KEYS)) for s in rows}, (
            scope
        )
        if "type" not in scope:
            missed = {
                r["channel"]: {
                    k: r[k] for k in ("missed", "called_back", "callback_median", "callback_p90")
                }
                for r in selectors.missed_calls_report(f)["tables"]["by_line"]["rows"]
            }
            expected_missed = _expected_missed(f) if not f.channel and not f.organization else None
            if expected_missed is not None:
                assert missed == expected_missed, scope
        if "organization" not in scope and "type" not in scope:
            contacts = {
                r["channel"]: (r["contacts"], r["out_of_hours"])
                for r in selectors.contacts_report(f)["tables"]["by_channel"]["rows"]
            }
            expected_contacts = _expected_contacts(f)
            if f.channel:
                expected_contacts = {
                    k: v for k, v in expected_contacts.items() if k == f.channel.slug
                }
            assert contacts == expected_contacts, scope


def _snapshot() -> dict[str, Any]:
    def rows(model: Any, *fields: str) -> list[tuple[Any, ...]]:
        return sorted(model.objects.values_list(*fields), key=lambda r: tuple(str(v) for v in r))

    return {
        "figures": rows(CaseFigures, "case_id", *services.FIGURE_FIELDS[:-1]),
        "sla": rows(SlaDay, "day", "channel_id", "type", "priority", "level", "cases",
                    *selectors.SLA_FIELDS),
        "orgs": rows(OrganizationDay, "day", "organization_id", "cases", "open"),
        "times": rows(TimeMonth, "month", "channel_id", "type", "kind", "bucket", "cases"),
        "contacts": rows(ContactHour, "day", "channel_id", "hour", "contacts", "out_of_hours"),
        "missed": rows(MissedCallDay, "day", "channel_id", "organization_id", "bucket", "calls"),
    }  # fmt: skip


@pytest.fixture
def world(sla_targets, make_channel, portal, acme, globex):
    correo = make_channel("correo", "email", name="Correo", hours=[{"schedule": "horario-habil"}])
    linea = make_channel("linea", "phone", name="Línea", hours=[{"schedule": "horario-habil"}])
    return World(
        {"correo": correo, "portal": portal, "linea": linea}, {"acme": acme, "globex": globex}
    )


@settings(
    max_examples=12,
    # No shrinking: a failing example has a few dozen rows, and shrinking database
    # examples takes minutes; the row diff in the assertion says what is wrong.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cases=st.lists(case_spec, max_size=25),
    calls=st.lists(call_spec, max_size=12),
    later_cases=st.lists(case_spec, max_size=6),
    later_calls=st.lists(call_spec, max_size=6),
    close=st.booleans(),
)
def test_roll_ups_equal_a_brute_force_count_and_incremental_equals_full(
    world, cases, calls, later_cases, later_calls, close
):
    with transaction.atomic():
        for spec in cases:
            world.add_case(spec, START, START)
        for spec in calls:
            world.add_call(spec, START)
        services.refresh(full=True, now=FIRST_REFRESH)
        # Later: new cases and calls after the refresh, open cases answered and closed.
        week = dt.timedelta(days=7).total_seconds() - 1
        for spec in later_cases:
            spec = {**spec, "at": spec["at"] % week}
            world.add_case(spec, FIRST_REFRESH, SECOND_REFRESH)
        for spec in later_calls:
            world.add_call({**spec, "at": spec["at"] % week}, FIRST_REFRESH)
        if close:
            open_ = Case.objects.filter(status__in=ACTIVE, created_at__lt=FIRST_REFRESH)
            SlaTimer.objects.filter(case__in=open_, met_at__isnull=True).update(
                met_at=SECOND_REFRESH - dt.timedelta(hours=1)
            )
            open_.update(status="closed", updated_at=SECOND_REFRESH)
        services.refresh(now=SECOND_REFRESH)
        _check_reports()
        incremental = _snapshot()
        services.refresh(full=True, now=SECOND_REFRESH)
        full = _snapshot()
        for key in full:  # say which rows differ, not just that the dicts do
            assert sorted(set(full[key]) ^ set(incremental[key])) == [], key
        assert full == incremental
        transaction.set_rollback(True)


def test_a_percentile_from_the_buckets_is_the_upper_bound_of_the_exact_ones_bucket():
    values = [0, 59, 60, 61, 3599, 3600, 3601, 9000, 200_000, 40 * 86400, 400 * 86400]
    for fraction in (0.1, 0.5, 0.9, 1.0):
        exact = _rank(values, fraction)
        counts: dict[int, int] = defaultdict(int)
        for v in values:
            counts[histogram.bucket(v)] += 1
        got = histogram.percentile(counts, fraction)
        assert exact is not None and got is not None
        assert got == histogram.upper(histogram.bucket(exact))
        assert exact <= got or exact > histogram.BOUNDS[-1]
    assert histogram.percentile({}, 0.5) is None
    assert [histogram.upper(histogram.bucket(v)) for v in (0, 1, 60, 61, 3601)] == [
        0,
        60,
        60,
        120,
        3900,
    ]


def test_epoch_seconds_are_floored_even_a_microsecond_before_the_next_second(world):
    """SQLite rounds fractions to milliseconds; the roll-ups must floor like the calendar."""
    at = dt.datetime(2026, 11, 2, 9, 0, 0, 999_999, tzinfo=LOCAL)
    world.add_case({"at": 0, "micro": 0, "channel": "correo", "type": "request",
                    "priority": "high", "level": 1, "org": None, "open": True,
                    "schedule": "24x7", "fr": None, "res": None}, at, at)  # fmt: skip
    got = Case.objects.annotate(e=services.Epoch("created_at")).values_list("e", flat=True).get()
    assert got == math.floor(at.timestamp())
