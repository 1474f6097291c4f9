"""Business calendar: named examples (the same as docs/sla.md) and property tests
against a brute-force oracle.

Database-free and Django-free. Hypothesis settings: the ``calendar-ci`` profile by
default (a few thousand examples, well under a minute); ``HYPOTHESIS_PROFILE=thorough``
selects ``calendar-thorough`` (about 50,000 examples). The profiles are applied per test
here, so loading them does not change the settings of other test modules.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atiende.sla.calendar import BusinessCalendar, parse_intervals

H = 3600
BOGOTA = ZoneInfo("America/Bogota")
NEW_YORK = ZoneInfo("America/New_York")

# ---------------------------------------------------------------- hypothesis profiles

_COMMON = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("calendar-ci", max_examples=300, **_COMMON)
settings.register_profile("calendar-thorough", max_examples=6000, **_COMMON)
_PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE", "ci")
PROFILE = settings(
    settings.get_profile("calendar-thorough" if _PROFILE_NAME == "thorough" else "calendar-ci")
)

# ------------------------------------------------------------------------- fixtures

WEEKDAY_HOURS = parse_intervals(["07:00-19:00"])
SATURDAY_HOURS = parse_intervals(["08:00-13:00"])
HORARIO_HABIL_WEEKLY = {0: WEEKDAY_HOURS, 1: WEEKDAY_HOURS, 2: WEEKDAY_HOURS}
HORARIO_HABIL_WEEKLY |= {3: WEEKDAY_HOURS, 4: WEEKDAY_HOURS, 5: SATURDAY_HOURS}


def horario_habil() -> BusinessCalendar:
    """The reference `horario-habil` schedule: Mon-Fri 07-19, Sat 08-13, CO holidays."""
    return BusinessCalendar(
        timezone="America/Bogota", weekly=HORARIO_HABIL_WEEKLY, holiday_country="CO"
    )


HH = horario_habil()


def bog(*args: int) -> datetime:
    return datetime(*args, tzinfo=BOGOTA)


# --------------------------------------------------------------------------- oracle


class Oracle:
    """Brute force, independent of the module: walks UTC time in blocks of ``grid``
    seconds and asks, per block, what the local wall clock reads and whether that local
    date's hours (special opening, else closed date/holiday, else weekly) contain it.

    Exact as long as every hour boundary and every UTC offset change is a multiple of
    ``grid`` (then openness is constant inside each block)."""

    MAX_STEPS = 400_000

    def __init__(self, tz, weekly, country=None, closed=(), special=None, grid=900):
        self.tz = tz
        self.weekly = {wd: list(v) for wd, v in weekly.items()}
        self.hols = holidays.country_holidays(country, language="es") if country else {}
        self.closed = set(closed)
        self.special = dict(special or {})
        self.grid = grid

    def hours(self, d: date):
        if d in self.special:
            return self.special[d]
        if d in self.closed or d in self.hols:
            return []
        return self.weekly.get(d.weekday(), [])

    def is_open(self, u: int) -> bool:
        lt = datetime.fromtimestamp(u, self.tz)
        sec = lt.hour * 3600 + lt.minute * 60 + lt.second
        return any(s <= sec < e for s, e in self.hours(lt.date()))

    def _block_end(self, u: int) -> int:
        return (u // self.grid + 1) * self.grid

    def next_opening(self, u: int, limit: int | None = None) -> int | None:
        t = u
        for _ in range(limit or self.MAX_STEPS):
            if self.is_open(t):
                return t
            t = self._block_end(t)
        return None

    def next_closing(self, u: int, limit: int | None = None) -> int | None:
        t = self.next_opening(u, limit)
        if t is None:
            return None
        for _ in range(limit or self.MAX_STEPS):
            t = self._block_end(t)
            if not self.is_open(t):
                return t
        return None

    def elapsed(self, a: int, b: int) -> int:
        total, t = 0, a
        while t < b:
            end = min(self._block_end(t), b)
            if self.is_open(t):
                total += end - t
            t = end
        return total

    def add(self, a: int, n: int) -> int:
        if n == 0:
            return a
        t, left = a, n
        for _ in range(self.MAX_STEPS):
            end = self._block_end(t)
            if self.is_open(t):
                if end - t >= left:
                    return t + left
                left -= end - t
            t = end
        raise AssertionError("oracle: no open time found")


HH_ORACLE = Oracle(BOGOTA, HORARIO_HABIL_WEEKLY, country="CO")

# ----------------------------------------------------------------------- strategies

_2026 = (date(2026, 1, 1) - date(1970, 1, 1)).days
_DAYS_2026_2027 = (date(2028, 1, 1) - date(2026, 1, 1)).days


def wall_to_epoch(tz, wall: int) -> int:
    """Local wall-clock seconds (as if UTC) -> epoch, first occurrence (fold=0)."""
    naive = datetime(1970, 1, 1) + timedelta(seconds=wall)
    return int(naive.replace(tzinfo=tz).timestamp())


@st.composite
def instants(draw, tz=BOGOTA, boundaries=(0, 7 * H, 8 * H, 13 * H, 19 * H, 24 * H), extra=()):
    """Epoch seconds over 2026-2027, biased towards hour boundaries (± a few seconds)."""
    kind = draw(st.sampled_from(["uniform", "boundary", "boundary", "extra"]))
    if kind == "extra" and extra:
        u = draw(st.sampled_from(extra))
    else:
        day = _2026 + draw(st.integers(0, _DAYS_2026_2027 - 1))
        if kind == "uniform":
            sec = draw(st.integers(0, 86399))
        else:
            sec = draw(st.sampled_from(boundaries))
        u = wall_to_epoch(tz, day * 86400 + sec)
    if kind != "uniform":
        u += draw(st.sampled_from([0, 0, 0, -1, 1, -60, 60]) | st.integers(-900, 900))
    return u


durations = st.one_of(
    st.just(0),
    st.integers(1, 120),
    st.integers(1, 8 * H),
    st.sampled_from([15 * 60, H, 4 * H, 8 * H, 24 * H, 40 * H, 48 * H]),
    st.integers(1, 400 * H),
)

# A random instant is shown to the calendar as a datetime in one of several zones.
VIEW_ZONES = [BOGOTA, UTC, NEW_YORK, ZoneInfo("Asia/Tokyo")]


def as_datetime(u: int, zone) -> datetime:
    return datetime.fromtimestamp(u, zone)


def epoch(t: datetime) -> int:
    return int(t.timestamp())


# ================================================================= named examples

DUE_EXAMPLES = [
    # (description, start, business seconds, due)
    (
        "email on Friday 18:30 with 1 business hour is due Saturday 08:30",
        bog(2026, 1, 9, 18, 30),
        H,
        bog(2026, 1, 10, 8, 30),
    ),
    (
        "Friday 18:00 + 1 h is due at the closing instant, Friday 19:00",
        bog(2026, 1, 9, 18, 0),
        H,
        bog(2026, 1, 9, 19, 0),
    ),
    (
        "Saturday 12:45 + 1 h is due Monday 07:45",
        bog(2026, 1, 17, 12, 45),
        H,
        bog(2026, 1, 19, 7, 45),
    ),
    (
        "Saturday 12:45 + 1 h before the Reyes Magos Monday is due Tuesday 07:45",
        bog(2026, 1, 10, 12, 45),
        H,
        bog(2026, 1, 13, 7, 45),
    ),
    (
        "Saturday 13:00 (closing) + 1 h is due Monday 08:00",
        bog(2026, 1, 17, 13, 0),
        H,
        bog(2026, 1, 19, 8, 0),
    ),
    (
        "Sunday request + 15 min is due Monday 07:15",
        bog(2026, 1, 18, 10, 0),
        15 * 60,
        bog(2026, 1, 19, 7, 15),
    ),
    (
        "Monday 07:00 (opening) + 8 h is due Monday 15:00",
        bog(2026, 1, 19, 7, 0),
        8 * H,
        bog(2026, 1, 19, 15, 0),
    ),
    (
        "Wednesday before Holy Week + 8 h skips Jueves and Viernes Santo",
        bog(2026, 4, 1, 15, 0),
        8 * H,
        bog(2026, 4, 4, 12, 0),
    ),
    (
        "the new Chiquinquirá holiday (Ley 2578) is skipped: Saturday 12:00 + 2 h",
        bog(2026, 7, 11, 12, 0),
        2 * H,
        bog(2026, 7, 14, 8, 0),
    ),
    (
        "400 business hours from Monday 14 Dec 2026 cross the year end",
        bog(2026, 12, 14, 7, 0),
        400 * H,
        bog(2027, 1, 28, 17, 0),
    ),
    (
        "New Year's Eve 18:00 + 2 h skips Año Nuevo and lands on Saturday 2 Jan",
        bog(2026, 12, 31, 18, 0),
        2 * H,
        bog(2027, 1, 2, 9, 0),
    ),
]


@pytest.mark.parametrize(
    ("start", "seconds", "due"),
    [pytest.param(s, n, d, id=desc) for desc, s, n, d in DUE_EXAMPLES],
)
def test_due_dates_on_horario_habil(start, seconds, due):
    got = HH.add(start, seconds)
    assert got == due
    assert got.tzinfo is BOGOTA
    assert HH.elapsed(start, got) == seconds
    assert HH_ORACLE.add(epoch(start), seconds) == epoch(due)


def test_friday_evening_email_with_one_business_hour_is_due_saturday_morning():
    assert HH.add(bog(2026, 1, 9, 18, 30), H) == bog(2026, 1, 10, 8, 30)


def test_saturday_after_midday_is_due_monday_morning():
    assert HH.add(bog(2026, 1, 17, 12, 45), H) == bog(2026, 1, 19, 7, 45)


def test_saturday_before_a_monday_holiday_is_due_tuesday():
    assert HH.is_holiday(date(2026, 1, 12)) == "Día de los Reyes Magos (observado)"
    assert HH.add(bog(2026, 1, 10, 12, 45), H) == bog(2026, 1, 13, 7, 45)


def test_one_hour_before_closing_is_due_at_the_closing_instant():
    assert HH.add(bog(2026, 1, 9, 18, 0), H) == bog(2026, 1, 9, 19, 0)


def test_adding_zero_returns_the_start_even_when_closed():
    sunday = bog(2026, 1, 11, 10, 0)
    assert not HH.is_open(sunday)
    assert HH.add(sunday, 0) == sunday
    closing = bog(2026, 1, 9, 19, 0)
    assert HH.add(closing, 0) == closing
    with_micros = bog(2026, 1, 11, 10, 0, 0, 123456)
    assert HH.add(with_micros, 0) == with_micros


def test_400_business_hours_across_the_year_end():
    start = bog(2026, 12, 14, 7, 0)
    due = HH.add(start, 400 * H)
    # 65 h a normal week; Navidad, Año Nuevo and Reyes Magos (11 Jan 2027) are skipped.
    assert due == bog(2027, 1, 28, 17, 0)
    assert HH.elapsed(start, due) == 400 * H
    assert HH.elapsed(bog(2026, 12, 14), bog(2026, 12, 21)) == 65 * H
    assert HH.elapsed(bog(2026, 12, 21), bog(2026, 12, 28)) == 53 * H


HOLIDAYS_2026 = [
    date(2026, 1, 1),
    date(2026, 1, 12),
    date(2026, 3, 23),
    date(2026, 4, 2),
    date(2026, 4, 3),
    date(2026, 5, 1),
    date(2026, 5, 18),
    date(2026, 6, 8),
    date(2026, 6, 15),
    date(2026, 6, 29),
    date(2026, 7, 13),
    date(2026, 7, 20),
    date(2026, 8, 7),
    date(2026, 8, 17),
    date(2026, 10, 12),
    date(2026, 11, 2),
    date(2026, 11, 16),
    date(2026, 12, 8),
    date(2026, 12, 25),
]
HOLIDAYS_2027 = [
    date(2027, 1, 1),
    date(2027, 1, 11),
    date(2027, 3, 22),
    date(2027, 3, 25),
    date(2027, 3, 26),
    date(2027, 5, 1),
    date(2027, 5, 10),
    date(2027, 5, 31),
    date(2027, 6, 7),
    date(2027, 7, 5),
    date(2027, 7, 12),
    date(2027, 7, 20),
    date(2027, 8, 7),
    date(2027, 8, 16),
    date(2027, 10, 18),
    date(2027, 11, 1),
    date(2027, 11, 15),
    date(2027, 12, 8),
    date(2027, 12, 25),
]


def test_the_2026_and_2027_holiday_lists_match_the_spec_table():
    assert [d for d, _ in HH.holidays_between(date(2026, 1, 1), date(2026, 12, 31))] == (
        HOLIDAYS_2026
    )
    assert [d for d, _ in HH.holidays_between(date(2027, 1, 1), date(2027, 12, 31))] == (
        HOLIDAYS_2027
    )


@pytest.mark.parametrize("day", HOLIDAYS_2026 + HOLIDAYS_2027, ids=str)
def test_every_2026_and_2027_holiday_is_closed_all_day(day):
    assert HH.is_holiday(day)
    midnight = bog(day.year, day.month, day.day)
    next_midnight = midnight + timedelta(days=1)
    assert HH.elapsed(midnight, next_midnight) == 0
    assert not HH.is_open(midnight.replace(hour=10))
    assert HH.next_opening(midnight) >= next_midnight


def test_the_holidays_package_knows_ley_2578_chiquinquira():
    assert "Chiquinquirá" in (HH.is_holiday(date(2026, 7, 13)) or "")
    assert "Chiquinquirá" in (HH.is_holiday(date(2027, 7, 12)) or "")
    assert HH.is_holiday(date(2026, 7, 9)) is None  # moved to Monday by Ley 51


def test_holidays_for_a_far_year_are_computed_when_first_needed():
    cal = horario_habil()
    # 2040: Easter is 1 April, so Viernes Santo is 30 March 2040.
    assert cal.is_holiday(date(2040, 3, 30)) == "Viernes Santo"
    assert cal.add(bog(2040, 3, 28, 18, 0), 2 * H) == bog(2040, 3, 31, 9, 0)
    assert cal.is_holiday(date(2031, 5, 1)) == "Día del Trabajo"  # a Thursday
    assert not cal.is_open(bog(2031, 5, 1, 10))
    assert cal.is_open(bog(2031, 5, 2, 10))


def test_24x7_arithmetic_is_plain():
    cal = BusinessCalendar.always("America/Bogota")
    start = bog(2026, 12, 31, 23, 30)
    assert cal.is_open(start)
    assert cal.add(start, H) == bog(2027, 1, 1, 0, 30)
    assert cal.add(start, 400 * H) == start + timedelta(hours=400)
    assert cal.elapsed(start, start + timedelta(days=3)) == 3 * 86400
    assert cal.next_opening(start) == start
    assert cal.next_closing(start) is None
    assert cal.describe_es() == ["24/7"]
    assert cal.is_holiday(date(2026, 1, 1)) is None  # no holiday country


def test_always_open_ignores_holidays_but_still_reports_them():
    cal = BusinessCalendar("America/Bogota", holiday_country="CO", always_open=True)
    new_year = bog(2026, 1, 1, 10)
    assert cal.is_open(new_year)
    assert cal.add(new_year, H) == bog(2026, 1, 1, 11)
    assert cal.is_holiday(date(2026, 1, 1)) == "Año Nuevo"


def test_special_openings_and_extra_closed_dates():
    cal = BusinessCalendar(
        "America/Bogota",
        weekly=HORARIO_HABIL_WEEKLY,
        holiday_country="CO",
        closed_dates=frozenset({date(2026, 12, 24)}),
        special_openings={
            date(2026, 12, 20): parse_intervals(["08:00-12:00"]),  # a Sunday
            date(2026, 12, 25): parse_intervals(["09:00-11:00"]),  # Navidad
            date(2026, 12, 28): [],  # a Monday, closed
        },
    )
    # Saturday 12:30 + 1 h: 30 min on Saturday, 30 min on the special Sunday.
    assert cal.add(bog(2026, 12, 19, 12, 30), H) == bog(2026, 12, 20, 8, 30)
    # Wednesday 18:30 + 1 h: Thursday 24 Dec is closed, Navidad opens 09:00-11:00.
    assert cal.add(bog(2026, 12, 23, 18, 30), H) == bog(2026, 12, 25, 9, 30)
    assert cal.hours_on(date(2026, 12, 25)) == [(9 * H, 11 * H)]
    assert not cal.is_open(bog(2026, 12, 24, 10))
    assert not cal.is_open(bog(2026, 12, 28, 10))
    assert cal.next_opening(bog(2026, 12, 26, 13)) == bog(2026, 12, 29, 7)
    # The same dates without the extras behave as horario-habil.
    assert HH.add(bog(2026, 12, 19, 12, 30), H) == bog(2026, 12, 21, 7, 30)


def test_describe_es_groups_consecutive_days_like_the_source_sheet():
    assert HH.describe_es() == [
        "Lunes a Viernes de 7:00 am a 7:00 pm",
        "Sábado de 8:00 am a 1:00 pm",
    ]


def test_describe_es_with_split_hours_and_a_weekend_pair():
    cal = BusinessCalendar(
        "America/Bogota",
        weekly={
            0: parse_intervals(["08:00-12:00", "14:00-18:30"]),
            1: parse_intervals(["08:00-12:00", "14:00-18:30"]),
            3: parse_intervals(["00:00-24:00"]),
            5: parse_intervals(["09:00-12:00"]),
            6: parse_intervals(["09:00-12:00"]),
        },
    )
    assert cal.describe_es() == [
        "Lunes y Martes de 8:00 am a 12:00 pm y de 2:00 pm a 6:30 pm",
        "Jueves las 24 horas",
        "Sábado y Domingo de 9:00 am a 12:00 pm",
    ]


def test_is_open_is_half_open_at_the_boundaries():
    assert not HH.is_open(bog(2026, 1, 19, 6, 59, 59))
    assert HH.is_open(bog(2026, 1, 19, 7, 0, 0))
    assert HH.is_open(bog(2026, 1, 19, 18, 59, 59, 999999))
    assert not HH.is_open(bog(2026, 1, 19, 19, 0, 0))


def test_next_opening_and_closing():
    assert HH.next_opening(bog(2026, 1, 19, 10)) == bog(2026, 1, 19, 10)
    assert HH.next_opening(bog(2026, 1, 19, 19)) == bog(2026, 1, 20, 7)
    assert HH.next_opening(bog(2026, 1, 17, 13)) == bog(2026, 1, 19, 7)
    assert HH.next_closing(bog(2026, 1, 19, 10)) == bog(2026, 1, 19, 19)
    assert HH.next_closing(bog(2026, 1, 17, 13)) == bog(2026, 1, 19, 19)
    assert HH.next_closing(bog(2026, 1, 17, 12, 59, 59)) == bog(2026, 1, 17, 13)


def test_inputs_in_any_zone_give_the_same_instants():
    start_utc = datetime(2026, 1, 9, 23, 30, tzinfo=UTC)  # Friday 18:30 in Bogotá
    due = HH.add(start_utc, H)
    assert due == bog(2026, 1, 10, 8, 30)
    assert due.tzinfo is BOGOTA
    tokyo = start_utc.astimezone(ZoneInfo("Asia/Tokyo"))
    assert HH.add(tokyo, H) == due
    assert HH.elapsed(tokyo, due.astimezone(UTC)) == H


def test_sub_second_parts_are_dropped():
    start = bog(2026, 1, 19, 10, 0, 0, 999999)
    assert HH.add(start, 1) == bog(2026, 1, 19, 10, 0, 1)
    assert HH.elapsed(bog(2026, 1, 19, 10, 0, 0, 999999), bog(2026, 1, 19, 10, 0, 1)) == 1
    assert HH.elapsed(bog(2026, 1, 19, 10, 0, 0, 1), bog(2026, 1, 19, 10, 0, 0, 999999)) == 0
    before = datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)
    assert BusinessCalendar.always("UTC").add(before, 1) == datetime(1970, 1, 1, tzinfo=UTC)


def test_elapsed_is_zero_when_end_is_not_after_start():
    t = bog(2026, 1, 19, 10)
    assert HH.elapsed(t, t) == 0
    assert HH.elapsed(t, t - timedelta(hours=5)) == 0


def test_epoch_functions_agree_with_datetime_functions():
    start = bog(2026, 1, 9, 18, 30)
    x = epoch(start)
    assert HH.add_epoch(x, H) == epoch(HH.add(start, H))
    assert HH.elapsed_epoch(x, x + 86400 * 3) == HH.elapsed(start, start + timedelta(days=3))
    assert HH.is_open_epoch(x) is True
    assert HH.next_opening_epoch(x + H) == epoch(bog(2026, 1, 10, 8))
    assert HH.next_closing_epoch(x) == epoch(bog(2026, 1, 9, 19))


# -------------------------------------------------------------- validation / errors


@pytest.mark.parametrize(
    "weekly",
    [
        {0: [(8 * H, 12 * H), (11 * H, 14 * H)]},  # overlapping
        {0: [(14 * H, 16 * H), (8 * H, 12 * H)]},  # unsorted
        {0: [(8 * H, 8 * H)]},  # empty
        {0: [(20 * H, 25 * H)]},  # past the end of the day
        {0: [(-1, 8 * H)]},  # negative
        {7: [(8 * H, 12 * H)]},  # no such weekday
        {0: [(8.5, 12 * H)]},  # not integer seconds
        {0: "08:00-12:00"},  # a string, not a list
    ],
)
def test_invalid_weekly_tables_are_rejected(weekly):
    with pytest.raises(ValueError):
        BusinessCalendar("America/Bogota", weekly=weekly)


def test_parse_intervals():
    assert parse_intervals(["07:00-19:00", "20:00-24:00"]) == [(25200, 68400), (72000, 86400)]
    assert parse_intervals("08:00-12:30, 14:00-18:00") == [(28800, 45000), (50400, 64800)]
    assert parse_intervals(["07:00:30-07:01"]) == [(25230, 25260)]
    assert parse_intervals(["08:00-12:00", "12:00-13:00"]) == [(28800, 46800)]  # merged
    for bad in (["24:00-24:00"], ["7-19"], ["19:00-07:00"], ["08:00-12:00", "11:00-13:00"]):
        with pytest.raises(ValueError):
            parse_intervals(bad)


def test_weekly_accepts_the_schedule_model_json_shape():
    cal = BusinessCalendar(
        "America/Bogota",
        weekly={"mon": ["07:00-19:00"], "sat": ["08:00-13:00"]},
        holiday_country="",
        closed_dates=["2026-01-19"],
        special_openings={"2026-01-18": ["09:00-10:00"]},
    )
    assert cal.weekly == {0: [(7 * H, 19 * H)], 5: [(8 * H, 13 * H)]}
    assert cal.holiday_country is None
    assert not cal.is_open(bog(2026, 1, 19, 10))
    assert cal.is_open(bog(2026, 1, 18, 9, 30))


def test_naive_datetimes_and_negative_durations_are_rejected():
    with pytest.raises(ValueError):
        HH.is_open(datetime(2026, 1, 19, 10))
    with pytest.raises(ValueError):
        HH.add(datetime(2026, 1, 19, 10), H)
    with pytest.raises(ValueError):
        HH.add(datetime(2026, 1, 19, 10), 0)
    with pytest.raises(ValueError):
        HH.elapsed(bog(2026, 1, 19), datetime(2026, 1, 20))
    with pytest.raises(ValueError):
        HH.add(bog(2026, 1, 19, 10), -1)
    with pytest.raises(ValueError):
        BusinessCalendar("Mars/Olympus_Mons")
    with pytest.raises(ValueError):
        BusinessCalendar("America/Bogota", holiday_country="XX")


def test_a_calendar_with_no_open_time_raises_instead_of_looping():
    never = BusinessCalendar("America/Bogota", weekly={})
    t = bog(2026, 1, 19, 10)
    assert not never.is_open(t)
    assert never.elapsed(t, t + timedelta(days=400)) == 0
    assert never.add(t, 0) == t
    with pytest.raises(ValueError):
        never.add(t, 1)
    with pytest.raises(ValueError):
        never.next_opening(t)
    with pytest.raises(ValueError):
        never.next_closing(t)
    assert never.describe_es() == []
    # Open once, on a special date only: time before it can be added, time after cannot.
    once = BusinessCalendar("America/Bogota", special_openings={date(2026, 3, 1): [(0, H)]})
    assert once.add(t, 30 * 60) == bog(2026, 3, 1, 0, 30)
    with pytest.raises(ValueError):
        once.add(t, 2 * H)


def test_a_calendar_open_around_the_clock_has_no_closing_within_ten_years():
    cal = BusinessCalendar("America/Bogota", weekly={d: [(0, 86400)] for d in range(7)})
    assert cal.next_closing(bog(2026, 1, 1)) is None
    with_holidays = BusinessCalendar(
        "America/Bogota", weekly={d: [(0, 86400)] for d in range(7)}, holiday_country="CO"
    )
    assert with_holidays.next_closing(bog(2026, 1, 2)) == bog(2026, 1, 12)
    assert with_holidays.describe_es() == ["Lunes a Domingo las 24 horas"]


def test_long_spans_years_ahead():
    start = bog(2026, 3, 2, 7)
    ten_years = HH.add(start, 10 * 3000 * H)
    assert HH.elapsed(start, ten_years) == 10 * 3000 * H
    assert ten_years.year in (2035, 2036)
    # Far jumps do not need the years in between to be loaded first.
    cal = horario_habil()
    assert cal.add(bog(2099, 12, 31, 18), 2 * H) == bog(2100, 1, 2, 9)  # 1 Jan: Año Nuevo
    assert cal.add(bog(2026, 1, 9, 18, 30), H) == bog(2026, 1, 10, 8, 30)


# ------------------------------------------------------------ daylight saving time

NY_ALL_DAY = {d: [(0, 86400)] for d in range(7)}


def ny(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK, fold=fold)


def test_dst_days_have_23_and_25_business_hours_in_new_york():
    cal = BusinessCalendar("America/New_York", weekly=NY_ALL_DAY)
    assert cal.elapsed(ny(2026, 3, 8), ny(2026, 3, 9)) == 23 * H
    assert cal.elapsed(ny(2026, 11, 1), ny(2026, 11, 2)) == 25 * H
    assert cal.elapsed(ny(2026, 11, 2), ny(2026, 11, 3)) == 24 * H


def test_an_interval_starting_in_the_spring_forward_gap_opens_at_the_transition():
    cal = BusinessCalendar("America/New_York", weekly={6: parse_intervals(["02:30-04:00"])})
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 never shows on the clock.
    assert cal.next_opening(ny(2026, 3, 8, 0, 0)) == ny(2026, 3, 8, 3, 0)
    assert cal.next_opening(ny(2026, 3, 8, 0, 0)) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert cal.elapsed(ny(2026, 3, 8), ny(2026, 3, 9)) == H
    assert cal.add(ny(2026, 3, 8, 1, 0), 30 * 60) == ny(2026, 3, 8, 3, 30)


def test_repeated_wall_times_on_the_fall_back_day_are_open_twice():
    cal = BusinessCalendar("America/New_York", weekly={6: parse_intervals(["01:30-02:30"])})
    # 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:00-02:00 happens twice.
    assert cal.elapsed(ny(2026, 11, 1), ny(2026, 11, 2)) == 90 * 60
    assert cal.is_open(ny(2026, 11, 1, 1, 45, fold=0))  # EDT
    assert cal.is_open(ny(2026, 11, 1, 1, 45, fold=1))  # EST
    assert not cal.is_open(ny(2026, 11, 1, 1, 15, fold=1))
    assert cal.next_opening(ny(2026, 11, 1, 1, 0, fold=1)) == ny(2026, 11, 1, 1, 30, fold=1)
    assert cal.add(ny(2026, 11, 1, 1, 30), 60 * 60) == ny(2026, 11, 1, 2, 0, fold=0)


def test_business_hours_on_a_dst_day_are_ordinary_wall_clock_hours():
    cal = BusinessCalendar(
        "America/New_York", weekly={d: parse_intervals(["09:00-17:00"]) for d in range(7)}
    )
    assert cal.add(ny(2026, 3, 7, 16, 0), 2 * H) == ny(2026, 3, 8, 10, 0)
    assert cal.elapsed(ny(2026, 3, 8), ny(2026, 3, 9)) == 8 * H
    assert cal.elapsed(ny(2026, 11, 1), ny(2026, 11, 2)) == 8 * H


# ================================================================ property tests


@PROFILE
@given(u=instants(), zone=st.sampled_from(VIEW_ZONES))
def test_is_open_matches_the_oracle(u, zone):
    assert HH.is_open(as_datetime(u, zone)) == HH_ORACLE.is_open(u)
    assert HH.is_open_epoch(u) == HH_ORACLE.is_open(u)


@PROFILE
@given(u=instants(), zone=st.sampled_from(VIEW_ZONES))
def test_next_opening_and_closing_match_the_oracle(u, zone):
    t = as_datetime(u, zone)
    opening = HH.next_opening(t)
    assert epoch(opening) == HH_ORACLE.next_opening(u)
    assert opening.tzinfo is BOGOTA
    assert epoch(HH.next_closing(t)) == HH_ORACLE.next_closing(u)


@PROFILE
@given(a=instants(), span=durations, zone=st.sampled_from(VIEW_ZONES))
def test_elapsed_matches_the_oracle(a, span, zone):
    b = a + span // 4  # wall spans up to ~100 h
    assert HH.elapsed(as_datetime(a, zone), as_datetime(b, zone)) == HH_ORACLE.elapsed(a, b)
    assert HH.elapsed_epoch(b, a) == 0


@PROFILE
@given(u=instants(), n=durations, zone=st.sampled_from(VIEW_ZONES))
def test_add_matches_the_oracle(u, n, zone):
    got = HH.add(as_datetime(u, zone), n)
    assert epoch(got) == HH_ORACLE.add(u, n)
    assert HH.add_epoch(u, n) == epoch(got)


@PROFILE
@given(u=instants(), n=durations)
def test_elapsed_of_add_is_the_duration_and_lands_in_open_time(u, n):
    t = as_datetime(u, BOGOTA)
    due = HH.add(t, n)
    assert due >= t
    assert HH.elapsed(t, due) == n
    if n == 0:
        assert due == t
    else:
        # The last second counted is open: the due instant is inside or at the end of
        # an open interval.
        assert HH.is_open(due - timedelta(seconds=1))
        assert HH.elapsed(t, due - timedelta(seconds=1)) == n - 1


@PROFILE
@given(u=instants(), n1=durations, n2=durations)
def test_add_is_monotonic_in_the_duration(u, n1, n2):
    t = as_datetime(u, BOGOTA)
    lo, hi = sorted((n1, n2))
    assert HH.add(t, lo) <= HH.add(t, hi)
    # Adding in two steps is the same as adding once.
    assert HH.add(HH.add(t, lo), hi - lo) == HH.add(t, hi)


@PROFILE
@given(u=instants(), micros=st.integers(1, 999999), n=st.integers(1, 48 * H))
def test_sub_second_starts_behave_like_the_whole_second(u, micros, n):
    t = as_datetime(u, BOGOTA)
    tm = t + timedelta(microseconds=micros)
    assert HH.is_open(tm) == HH.is_open(t)
    assert HH.add(tm, n) == HH.add(t, n)


# ------------------------------------------------- random calendars (incl. DST zone)

_QUARTERS = st.lists(st.integers(0, 96), unique=True, max_size=6).map(sorted)


def _pairs(points):
    return [(points[i] * 900, points[i + 1] * 900) for i in range(0, len(points) - 1, 2)]


day_hours = _QUARTERS.map(_pairs)
weekly_tables = st.dictionaries(st.integers(0, 6), day_hours, min_size=1, max_size=7).filter(
    lambda w: any(w.values())
)
dates_2026_2027 = st.integers(0, _DAYS_2026_2027 - 1).map(
    lambda k: date(2026, 1, 1) + timedelta(days=k)
)

# Offset changes in New York, 2026-2027 (UTC instants).
NY_TRANSITIONS = tuple(
    epoch(datetime(*args, tzinfo=UTC))
    for args in [(2026, 3, 8, 7), (2026, 11, 1, 6), (2027, 3, 14, 7), (2027, 11, 7, 6)]
)


@st.composite
def calendars(draw):
    tz = draw(st.sampled_from([BOGOTA, NEW_YORK]))
    weekly = draw(weekly_tables)
    country = draw(st.sampled_from([None, "CO"]))
    closed = draw(st.frozensets(dates_2026_2027, max_size=4))
    special = draw(st.dictionaries(dates_2026_2027, day_hours, max_size=3))
    return tz, weekly, country, closed, special


@PROFILE
@given(data=st.data(), spec=calendars(), n=st.integers(0, 10 * H) | st.sampled_from([1, 900]))
def test_random_calendars_match_the_oracle(data, spec, n):
    tz, weekly, country, closed, special = spec
    cal = BusinessCalendar(
        tz.key,
        weekly=weekly,
        holiday_country=country,
        closed_dates=closed,
        special_openings=special,
    )
    oracle = Oracle(tz, weekly, country=country, closed=closed, special=special)
    bounds = sorted(
        {b for ivs in list(weekly.values()) + list(special.values()) for iv in ivs for b in iv}
    )
    extra = NY_TRANSITIONS if tz is NEW_YORK else ()
    u = data.draw(instants(tz=tz, boundaries=tuple(bounds) or (0,), extra=extra))
    span = data.draw(st.integers(0, 4 * 86400))
    t = as_datetime(u, data.draw(st.sampled_from(VIEW_ZONES)))

    assert cal.is_open(t) == oracle.is_open(u)
    assert cal.elapsed_epoch(u, u + span) == oracle.elapsed(u, u + span)
    assert epoch(cal.next_opening(t)) == oracle.next_opening(u)
    expected_closing = oracle.next_closing(u, limit=120 * 96)  # look 120 days ahead
    closing = cal.next_closing(t)
    if expected_closing is not None:
        assert epoch(closing) == expected_closing
    else:
        assert closing is None or epoch(closing) > u + 120 * 86400
    due = cal.add(t, n)
    assert epoch(due) == oracle.add(u, n)
    assert cal.elapsed(t, due) == n


def test_a_shared_calendar_answers_the_same_from_several_threads():
    import random
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(7)
    lo, hi = epoch(bog(1995, 1, 1)), epoch(bog(2090, 1, 1))
    jobs = [(rng.randrange(lo, hi), rng.choice([H, 8 * H, 400 * H])) for _ in range(300)]
    shared = horario_habil()

    def work(job):
        x, n = job
        t = datetime.fromtimestamp(x, BOGOTA)
        return shared.add(t, n), shared.elapsed(t, t + timedelta(days=30))

    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(work, jobs))
    for (x, n), (due, spent) in zip(jobs, got, strict=True):
        t = datetime.fromtimestamp(x, BOGOTA)
        alone = horario_habil()
        assert due == alone.add(t, n)
        assert spent == alone.elapsed(t, t + timedelta(days=30))
