"""Business calendars: when is a schedule open, and business-time arithmetic.

Pure module: every input is explicit (no clock, no database, no Django). See
``docs/sla.md`` ("Business calendar") for the rules and worked examples.

Design, in one paragraph: for each local calendar year that a query touches, the
calendar lazily computes the sorted list of open intervals as integer epoch seconds
(UTC instants), concatenates the loaded years into one contiguous array with a prefix
sum of business seconds, and answers ``is_open``/``next_opening``/``elapsed``/``add``
with one or two ``bisect`` calls on those integers.

Semantics worth knowing:

* Open intervals are half-open ``[start, end)``: a calendar open 07:00-19:00 is open at
  07:00:00 and closed at 19:00:00.
* Whole seconds. Sub-second parts of input datetimes are dropped (floored toward the
  past) before any computation. Interval bounds are whole seconds, so ``is_open`` is
  exact; ``elapsed`` counts the business seconds between the floored instants; ``add``
  returns whole-second instants except ``add(t, 0)`` and ``next_opening(t)`` of an open
  ``t``, which return ``t`` itself (converted to the calendar's timezone).
* Returned datetimes are aware and in the calendar's timezone.
* Wall-clock rule (daylight saving time): the hours of a local date ``d`` cover exactly
  the instants whose local clock reading falls on ``d`` inside the listed hours. On a
  spring-forward day the skipped wall times do not exist (a 00:00-24:00 day has 23 h and
  an interval that starts inside the gap opens at the transition instant); on a
  fall-back day the repeated wall times are open both times they occur (25 h). Offset
  changes are located by sampling the zone once per day, so a zone that changes its
  offset twice within 24 hours (none does today) would not be modelled.
* Closed-for-good guard: ``add``/``next_opening`` raise ``ValueError`` when ten
  consecutive years bring no open time, instead of looping forever; ``next_closing``
  returns ``None`` when the calendar does not close within ten years.
"""

from __future__ import annotations

import math
import re
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

__all__ = ["DAY", "BusinessCalendar", "OutOfRange", "parse_intervals"]

DAY = 86400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_UTC = UTC
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=_UTC)
_fromtimestamp = datetime.fromtimestamp
# Years we are willing to compute (datetime supports 1..9999; keep a margin for offsets).
_MIN_YEAR = 2
_MAX_YEAR = 9998
# How many consecutive years without open time end a search.
_SEARCH_YEARS = 10
_MAX_EPOCH = (date(_MAX_YEAR, 12, 31).toordinal() - _EPOCH_ORDINAL) * DAY
# A point query this many years away from the covered years restarts the coverage there.
_JUMP_YEARS = 20


class OutOfRange(ValueError):
    """An instant, span or result outside what the calendar is willing to compute."""


_WEEKDAY_KEYS = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_DAY_NAMES_ES = ("Lunes", "Martes", "Miércoles", "Jueves", "Viernes", "Sábado", "Domingo")

_CLOCK_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")

Interval = tuple[int, int]


# --------------------------------------------------------------------------- parsing


def _parse_clock(text: str, *, allow_24: bool) -> int:
    m = _CLOCK_RE.match(text)
    if not m:
        raise ValueError(f"invalid time of day {text!r}: expected HH:MM or HH:MM:SS")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if mi > 59 or s > 59:
        raise ValueError(f"invalid time of day {text!r}")
    if h == 24 and mi == 0 and s == 0:
        if not allow_24:
            raise ValueError(f"24:00 is only allowed as the end of an interval, got {text!r}")
        return DAY
    if h > 23:
        raise ValueError(f"invalid time of day {text!r}")
    return h * 3600 + mi * 60 + s


def _parse_interval_text(text: str) -> Interval:
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"invalid interval {text!r}: expected 'HH:MM-HH:MM'")
    return (_parse_clock(parts[0], allow_24=False), _parse_clock(parts[1], allow_24=True))


def _validate_intervals(items: Iterable[object], where: str) -> tuple[Interval, ...]:
    """Normalise a day's intervals: tuples of ints or 'HH:MM-HH:MM' strings.

    They must lie within the day, be non-empty, sorted and non-overlapping; touching
    intervals are merged.
    """
    if isinstance(items, str | bytes):
        raise ValueError(f"{where}: expected a list of intervals, got a string {items!r}")
    out: list[list[int]] = []
    for item in items:
        if isinstance(item, str):
            s, e = _parse_interval_text(item)
        else:
            try:
                s, e = item  # type: ignore[misc]
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}: interval {item!r} is not a (start_second, end_second) pair"
                ) from None
            if (
                not isinstance(s, int)
                or not isinstance(e, int)
                or isinstance(s, bool)
                or isinstance(e, bool)
            ):
                raise ValueError(f"{where}: interval {item!r} must hold integer seconds")
        if not 0 <= s < e <= DAY:
            raise ValueError(
                f"{where}: interval {item!r} must satisfy 0 <= start < end <= 86400 "
                "(seconds within the local day)"
            )
        if out and s < out[-1][1]:
            raise ValueError(
                f"{where}: intervals must be sorted and non-overlapping; "
                f"{item!r} starts before the previous one ends"
            )
        if out and s == out[-1][1]:
            out[-1][1] = e
        else:
            out.append([s, e])
    return tuple((s, e) for s, e in out)


def parse_intervals(texts: Iterable[str] | str) -> list[Interval]:
    """Parse ``["07:00-19:00", "20:00-24:00"]`` into ``[(25200, 68400), (72000, 86400)]``.

    A single string with comma-separated intervals is accepted too. ``24:00`` is allowed
    as an end; seconds (``07:00:30``) are optional. Intervals must be sorted and must not
    overlap (ValueError otherwise); touching intervals are merged.
    """
    if isinstance(texts, str):
        texts = [t for t in texts.split(",") if t.strip()]
    items = []
    for t in texts:
        if not isinstance(t, str):
            raise ValueError(f"expected 'HH:MM-HH:MM' strings, got {t!r}")
        items.append(_parse_interval_text(t))
    return list(_validate_intervals(items, "parse_intervals"))


def _as_date(value: object, where: str) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"{where}: expected a date, got a datetime {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{where}: invalid ISO date {value!r}") from None
    raise ValueError(f"{where}: expected a date, got {value!r}")


def _weekday_key(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    if isinstance(key, str):
        k = key.strip().lower()
        if k in _WEEKDAY_KEYS:
            return _WEEKDAY_KEYS[k]
        if k.isdigit() and 0 <= int(k) <= 6:
            return int(k)
    raise ValueError(f"weekly: invalid weekday {key!r} (use 0=Monday .. 6=Sunday or 'mon'..'sun')")


# --------------------------------------------------------------- cached zone/holidays


def _offset_at(tz: tzinfo, u: int) -> int:
    off = _fromtimestamp(u, tz).utcoffset()
    if off is None:  # pragma: no cover - only for broken tzinfo implementations
        raise ValueError(f"timezone {tz!r} returned no UTC offset")
    return off.days * DAY + off.seconds


@lru_cache(maxsize=1024)
def _offset_pieces(tz: tzinfo, year: int) -> tuple[tuple[int, int, int], ...]:
    """UTC ranges of constant offset ``(start, end, offset)`` covering ``year`` +- 2 days."""
    u0 = (date(year, 1, 1).toordinal() - _EPOCH_ORDINAL - 2) * DAY
    u1 = (date(year + 1, 1, 1).toordinal() - _EPOCH_ORDINAL + 2) * DAY
    pieces = []
    start = u0
    cur = _offset_at(tz, u0)
    u = u0
    while u < u1:
        nxt = min(u + DAY, u1)
        off = _offset_at(tz, nxt) if nxt < u1 else cur
        if off != cur:
            # Exactly one transition assumed in (u, nxt]: find its first second.
            lo, hi = u, nxt  # offset(lo) == cur, offset(hi) == off
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_at(tz, mid) == cur:
                    lo = mid
                else:
                    hi = mid
            pieces.append((start, hi, cur))
            start, cur = hi, off
        u = nxt
    pieces.append((start, u1, cur))
    return tuple(pieces)


class HolidayStore(Protocol):
    """Where a process finds the holidays an earlier one computed (`holiday_files.py`)."""

    def knows(self, country: str) -> bool: ...
    def get(self, country: str, year: int) -> tuple[tuple[date, str], ...] | None: ...
    def put(self, country: str, year: int, days: tuple[tuple[date, str], ...]) -> None: ...


_store: HolidayStore | None = None


def keep_holidays_in(store: HolidayStore | None) -> None:
    """Ask `store` for a country's holidays before the `holidays` package, and give it what
    the package computes (None: the package only, as by default)."""
    global _store
    _store = store
    _raw_country_holidays.cache_clear()
    _country_holidays.cache_clear()


@lru_cache(maxsize=1024)
def _raw_country_holidays(country: str, year: int) -> tuple[tuple[date, str], ...]:
    store = _store
    if store is not None:
        kept = store.get(country, year)
        if kept is not None:
            return kept
    import holidays  # local import: only calendars with a holiday country need it

    data = holidays.country_holidays(country, years=[year], language="es")
    days = tuple(sorted((d, str(n)) for d, n in dict(data).items()))
    if store is not None:
        store.put(country, year, days)
    return days


@lru_cache(maxsize=1024)
def _country_holidays(country: str, year: int) -> Mapping[date, str]:
    """Holidays dated in ``year``; neighbouring years are asked too because some
    countries observe a holiday in the previous or next calendar year."""
    out: dict[date, str] = {}
    for y in (year - 1, year, year + 1):
        for d, name in _raw_country_holidays(country, y):
            if d.year == year:
                out[d] = name if d not in out or out[d] == name else f"{out[d]}; {name}"
    return out


def _check_country(country: str) -> None:
    if _store is not None and _store.knows(country):
        return
    import holidays

    try:
        holidays.country_holidays(country, years=[])
    except NotImplementedError:
        raise ValueError(f"holiday_country {country!r} is not supported by `holidays`") from None


def _coerce_seconds(seconds: object) -> int:
    if isinstance(seconds, bool):
        raise TypeError("seconds must be an int, not a bool")
    if isinstance(seconds, int):
        return seconds
    if isinstance(seconds, timedelta):
        return seconds.days * DAY + seconds.seconds
    if isinstance(seconds, float):
        if not math.isfinite(seconds):
            raise ValueError(f"seconds must be finite, got {seconds!r}")
        return math.floor(seconds)
    raise TypeError(f"seconds must be an int (or timedelta/float), got {seconds!r}")


# --------------------------------------------------------------------- the calendar


# The hot paths' snapshot: (covered_lo, covered_hi, starts, ends, cumulative, total,
# lo_year, hi_year, base); see BusinessCalendar.__init__. The years are None until the
# first load (Any: the loaders test for that before doing arithmetic).
_Snapshot = tuple[int, int, list[int], list[int], list[int], int, Any, Any, list[int]]


class BusinessCalendar:
    """Open hours per weekday in a timezone, minus holidays and closed dates.

    ``weekly`` maps weekday (0=Monday .. 6=Sunday, or 'mon'..'sun') to a list of
    ``(start_second, end_second)`` pairs (or 'HH:MM-HH:MM' strings) within the local day.
    ``special_openings`` replaces a local date's hours entirely (even on a holiday);
    ``closed_dates`` and the ``holiday_country`` holidays close a date. ``always_open``
    makes the calendar 24x7 and ignores weekly hours, holidays, closed dates and special
    openings (``is_holiday`` still reports holidays).
    """

    # Built years kept per calendar, least recently used dropped first; the covered run of
    # years is restarted rather than grown beyond this, so arbitrary queries (years 2 to
    # 9998) keep memory bounded.
    MAX_CACHED_YEARS = 40

    __slots__ = (
        "_closed",
        "_country",
        "_lock",
        "_special",
        "_st",
        "_tz",
        "_weekly",
        "_wfix",
        "_years",
        "always_open",
        "timezone",
    )

    def __init__(
        self,
        timezone: str | tzinfo = "America/Bogota",
        weekly: Mapping[object, Iterable[object]] | None = None,
        holiday_country: str | None = None,
        closed_dates: Iterable[object] = frozenset(),
        special_openings: Mapping[object, Iterable[object]] | None = None,
        always_open: bool = False,
    ) -> None:
        if isinstance(timezone, str):
            try:
                tz: tzinfo = ZoneInfo(timezone)
            except Exception:
                raise ValueError(f"unknown timezone {timezone!r}") from None
            name = timezone
        elif isinstance(timezone, tzinfo):
            tz = timezone
            name = getattr(timezone, "key", None) or str(timezone)
        else:
            raise ValueError(f"timezone must be an IANA name or a tzinfo, got {timezone!r}")
        self._tz = tz
        self.timezone = name
        self.always_open = bool(always_open)

        table: list[tuple[Interval, ...]] = [()] * 7
        for key, items in (weekly or {}).items():
            wd = _weekday_key(key)
            if table[wd]:
                raise ValueError(f"weekly: weekday {wd} given twice")
            table[wd] = _validate_intervals(items, f"weekly[{key!r}]")
        self._weekly = tuple(table)

        self._country = (holiday_country or "").strip().upper() or None
        if self._country is not None:
            _check_country(self._country)

        self._closed = frozenset(_as_date(d, "closed_dates") for d in closed_dates)
        special: dict[date, tuple[Interval, ...]] = {}
        for key, items in (special_openings or {}).items():
            d = _as_date(key, "special_openings")
            special[d] = _validate_intervals(items, f"special_openings[{d.isoformat()}]")
        self._special = special

        self._lock = threading.Lock()
        self._years: OrderedDict[int, tuple[list[int], list[int], int, int]] = OrderedDict()
        # Snapshot read by the hot paths, replaced atomically (never mutated):
        # (covered_lo, covered_hi, starts, ends, cumulative, total, lo_year, hi_year, base)
        # cumulative[i] = business seconds in intervals before i; len(cumulative) = n + 1;
        # base[i] = cumulative[i] - starts[i], so business seconds up to x inside interval i
        # are base[i] + x.
        self._st: _Snapshot = (0, 0, [], [], [0], 0, None, None, [])
        # Fast datetime->epoch for datetimes in our own zone while the offset is fixed:
        # (wall_lo, wall_hi, offset, wall_epoch)
        self._wfix: tuple[int, int, int, Any] = (0, 0, 0, None)  # wall_epoch: datetime | None

    @classmethod
    def always(cls, timezone: str | tzinfo = "America/Bogota") -> BusinessCalendar:
        """A 24x7 calendar."""
        return cls(timezone=timezone, always_open=True)

    def __repr__(self) -> str:
        if self.always_open:
            return f"BusinessCalendar.always({self.timezone!r})"
        return (
            f"BusinessCalendar(timezone={self.timezone!r}, weekly={dict(enumerate(self._weekly))!r}, "
            f"holiday_country={self._country!r}, closed_dates={len(self._closed)} dates, "
            f"special_openings={len(self._special)} dates)"
        )

    # ------------------------------------------------------------- day rules

    @property
    def weekly(self) -> dict[int, list[Interval]]:
        """The normalised weekly table (weekday -> intervals); closed days omitted."""
        return {wd: list(iv) for wd, iv in enumerate(self._weekly) if iv}

    @property
    def holiday_country(self) -> str | None:
        return self._country

    def hours_on(self, d: date) -> list[Interval]:
        """The open intervals (local seconds) that apply on local date ``d``."""
        if self.always_open:
            return [(0, DAY)]
        return list(self._day_intervals(d, self._holidays_of(d.year)))

    def _holidays_of(self, year: int) -> Mapping[date, str]:
        if self._country is None:
            return {}
        return _country_holidays(self._country, year)

    def _day_intervals(self, d: date, hols: Mapping[date, str]) -> tuple[Interval, ...]:
        sp = self._special.get(d)
        if sp is not None:
            return sp
        if d in self._closed or d in hols:
            return ()
        return self._weekly[d.weekday()]

    def is_holiday(self, d: date) -> str | None:
        """The (Spanish) name of the public holiday on ``d``, or None."""
        if isinstance(d, datetime):
            raise ValueError("is_holiday expects a date, not a datetime")
        if self._country is None:
            return None
        return _country_holidays(self._country, d.year).get(d)

    def holidays_between(self, d1: date, d2: date) -> list[tuple[date, str]]:
        """Public holidays with ``d1 <= date <= d2`` (both inclusive), sorted."""
        if self._country is None or d2 < d1:
            return []
        out: list[tuple[date, str]] = []
        for y in range(d1.year, d2.year + 1):
            out.extend(
                (d, n) for d, n in _country_holidays(self._country, y).items() if d1 <= d <= d2
            )
        out.sort()
        return out

    # --------------------------------------------------- year building (slow)

    def _year_boundary(self, year: int) -> int:
        """First instant whose local wall clock reads >= year-01-01 00:00."""
        if year > _MAX_YEAR + 1 or year < _MIN_YEAR:
            raise OutOfRange(f"year {year} is outside the supported range")
        w = (date(year, 1, 1).toordinal() - _EPOCH_ORDINAL) * DAY
        best = None
        for a, b, o in _offset_pieces(self._tz, min(year, _MAX_YEAR)):
            u = max(a, w - o)
            if u < b and (best is None or u < best):
                best = u
        assert best is not None
        return best

    def _build_year(self, year: int) -> tuple[list[int], list[int], int, int]:
        if not _MIN_YEAR <= year <= _MAX_YEAR:
            raise OutOfRange(f"year {year} is outside the supported range {_MIN_YEAR}..{_MAX_YEAR}")
        pieces = _offset_pieces(self._tz, year)
        hols = self._holidays_of(year)
        first = date(year, 1, 1).toordinal()
        ndays = date(year + 1, 1, 1).toordinal() - first
        base = (first - _EPOCH_ORDINAL) * DAY
        raw: list[tuple[int, int]] = []
        single = len(pieces) == 1
        off = pieces[0][2]
        weekly = self._weekly
        special = self._special
        closed = self._closed
        for k in range(ndays):
            d = date.fromordinal(first + k)
            ivs = self._day_intervals(d, hols) if special or closed or hols else weekly[d.weekday()]
            if not ivs:
                continue
            day0 = base + k * DAY
            for s, e in ivs:
                w0 = day0 + s
                w1 = day0 + e
                if single:
                    raw.append((w0 - off, w1 - off))
                else:
                    for a, b, o in pieces:
                        lo = w0 - o if w0 - o > a else a
                        hi = w1 - o if w1 - o < b else b
                        if lo < hi:
                            raw.append((lo, hi))
        raw.sort()
        starts: list[int] = []
        ends: list[int] = []
        for s, e in raw:
            if ends and s <= ends[-1]:
                if e > ends[-1]:
                    ends[-1] = e
            else:
                starts.append(s)
                ends.append(e)
        return starts, ends, self._year_boundary(year), self._year_boundary(year + 1)

    def _load_years(self, lo_year: int, hi_year: int, replace: bool = False) -> None:
        """Cover the contiguous years [lo_year, hi_year] (joined with the years already
        covered unless ``replace``) and publish a new snapshot."""
        with self._lock:
            st = self._st
            if st[6] is not None and not replace:
                joined = min(lo_year, st[6]), max(hi_year, st[7])
                if joined[1] - joined[0] < self.MAX_CACHED_YEARS:
                    lo_year, hi_year = joined
            if (lo_year, hi_year) == (st[6], st[7]):
                return
            built = {y: self._year(y) for y in range(lo_year, hi_year + 1)}
            starts: list[int] = []
            ends: list[int] = []
            for y in range(lo_year, hi_year + 1):
                ys, ye, _, _ = built[y]
                for s, e in zip(ys, ye, strict=True):
                    if ends and s <= ends[-1]:
                        if e > ends[-1]:
                            ends[-1] = e
                    else:
                        starts.append(s)
                        ends.append(e)
            cum = [0] * (len(starts) + 1)
            base = [0] * len(starts)
            acc = 0
            for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
                base[i] = acc - s
                acc += e - s
                cum[i + 1] = acc
            lo = built[lo_year][2]
            hi = built[hi_year][3]
            offsets = {
                p[2] for y in range(lo_year, hi_year + 1) for p in _offset_pieces(self._tz, y)
            }
            if len(offsets) == 1 and self._tz is not _UTC:
                off = offsets.pop()
                self._wfix = (lo + off, hi + off, off, datetime(1970, 1, 1, tzinfo=self._tz))
            else:
                self._wfix = (0, 0, 0, None)
            self._st = (lo, hi, starts, ends, cum, acc, lo_year, hi_year, base)

    def _year(self, year: int) -> tuple[list[int], list[int], int, int]:
        """A built year, from the LRU of built years (called with the lock held)."""
        got = self._years.get(year)
        if got is None:
            got = self._years[year] = self._build_year(year)
            while len(self._years) > self.MAX_CACHED_YEARS:
                self._years.popitem(last=False)
        else:
            self._years.move_to_end(year)
        return got

    def cached_years(self) -> int:
        """How many built years this calendar keeps (bounded by MAX_CACHED_YEARS)."""
        return len(self._years)

    def _local_year(self, x: int) -> int:
        try:
            return _fromtimestamp(x, self._tz).year
        except (OverflowError, OSError, ValueError):
            raise OutOfRange(f"instant {x} is outside the supported range") from None

    def _ensure(self, x: int) -> _Snapshot:
        """Load years until instant ``x`` is covered; return the snapshot.

        Far from the covered years (more than ``_JUMP_YEARS`` away) the coverage jumps
        to the new year instead of growing, so one query about year 2100 does not build
        every year in between (per-year results stay cached)."""
        for _ in range(8):
            st = self._st
            if st[0] <= x < st[1]:
                return st
            y = self._local_year(x)
            if (
                st[6] is None
                or y < st[6] - _JUMP_YEARS
                or y > st[7] + _JUMP_YEARS
                or max(y, st[7]) - min(y, st[6]) >= self.MAX_CACHED_YEARS
            ):
                self._load_years(y, y, replace=True)
            elif x < st[0]:
                self._load_years(min(y, st[6] - 1), st[7])
            else:
                self._load_years(st[6], max(y, st[7] + 1))
        raise OutOfRange(f"instant {x} is outside the supported range")  # pragma: no cover

    def _ensure_span(self, a: int, b: int) -> _Snapshot:
        """Cover both ``a <= b`` with one contiguous run of years."""
        st = self._st
        if st[0] <= a and b < st[1]:
            return st
        ya, yb = self._local_year(a), self._local_year(b)
        if st[6] is None or yb < st[6] - _JUMP_YEARS or ya > st[7] + _JUMP_YEARS:
            self._load_years(ya, yb, replace=True)
        else:
            self._load_years(ya, yb)
        for _ in range(4):
            st = self._st
            if st[0] <= a and b < st[1]:
                return st
            self._load_years(st[6] - (a < st[0]), st[7] + (b >= st[1]))
        raise OutOfRange(f"instants {a}..{b} are outside the supported range")  # pragma: no cover

    def _extend_forward(self, years: int = 1) -> _Snapshot:
        st = self._st
        self._load_years(st[6], min(st[7] + years, _MAX_YEAR))
        if self._st[7] == st[7]:
            raise OutOfRange(f"business time runs past the supported year {_MAX_YEAR}")
        return self._st

    # ------------------------------------------------------------- conversions

    def _epoch(self, t: datetime) -> int:
        """Whole epoch seconds of aware ``t`` (floored)."""
        tzi = t.tzinfo
        if tzi is None:
            raise ValueError(f"naive datetime {t!r}: pass a timezone-aware datetime")
        if tzi is _UTC:
            td = t - _EPOCH_UTC
            return td.days * DAY + td.seconds
        if tzi is self._tz:
            wlo, whi, off, wepoch = self._wfix
            if wepoch is not None:
                td = t - wepoch  # same tzinfo: wall-clock difference
                w: int = td.days * DAY + td.seconds
                if wlo <= w < whi:
                    return w - off
        if t.utcoffset() is None:
            raise ValueError(f"naive datetime {t!r}: pass a timezone-aware datetime")
        ts = t.timestamp()
        x = int(ts)
        return x - 1 if x > ts else x

    def _dt(self, x: int) -> datetime:
        return _fromtimestamp(x, self._tz)

    # ------------------------------------------------------------- epoch API

    def is_open_epoch(self, x: int) -> bool:
        if self.always_open:
            return True
        st = self._st
        if not st[0] <= x < st[1]:
            st = self._ensure(x)
        i = bisect_right(st[2], x) - 1
        return i >= 0 and x < st[3][i]

    def next_opening_epoch(self, x: int) -> int:
        if self.always_open:
            return x
        st = self._ensure(x)
        barren = 0
        while True:
            starts, ends = st[2], st[3]
            i = bisect_right(starts, x) - 1
            if i >= 0 and x < ends[i]:
                return x
            if i + 1 < len(starts):
                return starts[i + 1]
            barren += 1
            if barren > _SEARCH_YEARS:
                raise ValueError("the calendar has no open time within 10 years")
            self._extend_forward()
            st = self._ensure(x)

    def next_closing_epoch(self, x: int) -> int | None:
        if self.always_open:
            return None
        st = self._ensure(x)
        barren = 0
        while True:
            starts, ends, hi = st[2], st[3], st[1]
            i = bisect_right(starts, x) - 1
            if not (i >= 0 and x < ends[i]):
                i += 1
            if i < len(starts) and ends[i] < hi:
                return ends[i]
            barren += 1
            if barren > _SEARCH_YEARS:
                if i < len(starts):
                    return None  # open without a break for 10 years
                raise ValueError("the calendar has no open time within 10 years")
            self._extend_forward()
            st = self._ensure(x)

    def elapsed_epoch(self, a: int, b: int) -> int:
        """Business seconds in ``[a, b)``; 0 when ``b <= a``."""
        if b <= a:
            return 0
        if self.always_open:
            return b - a
        lo, hi, starts, ends, _, _, _, _, base = self._st
        if not (lo <= a and b < hi):
            _, _, starts, ends, _, _, _, _, base = self._ensure_span(a, b)
        i = bisect_right(starts, a) - 1
        if i < 0:
            ca = 0
        else:
            e = ends[i]
            ca = base[i] + (a if a < e else e)
        i = bisect_right(starts, b) - 1
        if i < 0:
            return -ca
        e = ends[i]
        return base[i] + (b if b < e else e) - ca

    def add_epoch(self, x: int, seconds: int) -> int:
        """Earliest ``t >= x`` with ``elapsed_epoch(x, t) == seconds``."""
        if seconds.__class__ is not int:
            seconds = _coerce_seconds(seconds)
        if seconds <= 0:
            if seconds == 0:
                return x
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        if self.always_open:
            return x + seconds
        lo, hi, starts, ends, cum, total, _, _, base = self._st
        if not lo <= x < hi:
            _, _, starts, ends, cum, total, _, _, base = self._ensure(x)
        i = bisect_right(starts, x) - 1
        if i < 0:
            target = seconds
        else:
            e = ends[i]
            target = base[i] + (x if x < e else e) + seconds
        if target > total:
            return self._add_slow(x, seconds)
        j = bisect_left(cum, target) - 1
        return target - base[j]

    def _add_slow(self, x: int, seconds: int, horizon: int | None = None) -> int:
        """``add_epoch`` when the answer lies beyond the loaded years: load more years
        (several at a time, estimated from the average so far) and retry. The target is
        recomputed from each new snapshot, so a concurrent reload cannot skew it. With a
        ``horizon`` (seconds of wall time after ``x``), no year past it is built: an answer
        beyond it is an OutOfRange error."""
        if x + seconds >= _MAX_EPOCH:  # business time never runs faster than wall time
            raise OutOfRange(f"business time runs past the supported year {_MAX_YEAR}")
        last_year = _MAX_YEAR
        if horizon is not None:
            last_year = self._local_year(min(x + horizon, _MAX_EPOCH))
        barren = 0
        while True:
            st = self._ensure(x)
            _, _, starts, ends, cum, total, lo_year, hi_year, base = st
            i = bisect_right(starts, x) - 1
            if i < 0:
                target = seconds
            else:
                e = ends[i]
                target = base[i] + (x if x < e else e) + seconds
            if target <= total:
                j = bisect_left(cum, target) - 1
                return target - base[j]
            if hi_year >= last_year and horizon is not None:
                raise OutOfRange(f"the result lies more than {horizon} seconds after the start")
            per_year = total // (hi_year - lo_year + 1)
            step = 1 if per_year <= 0 else max(1, min(50, -(-(target - total) // per_year)))
            step = min(step, max(1, last_year - hi_year))
            if self._extend_forward(step)[5] == total:
                barren += step
                if barren >= _SEARCH_YEARS:
                    raise ValueError(
                        "the calendar has no open time within 10 years; cannot add business time"
                    )
            else:
                barren = 0

    # ---------------------------------------------------------- datetime API

    def is_open(self, t: datetime) -> bool:
        """Whether the calendar is open at instant ``t`` (aware datetime, any zone)."""
        return self.is_open_epoch(self._epoch(t))

    def next_opening(self, t: datetime) -> datetime:
        """``t`` itself when open, else the start of the next open interval."""
        x = self._epoch(t)
        r = self.next_opening_epoch(x)
        if r == x:
            return t.astimezone(self._tz)
        return self._dt(r)

    def next_closing(self, t: datetime) -> datetime | None:
        """End of the open interval containing ``t`` (or of the next one if closed).

        None for an always-open calendar (or one that does not close within 10 years).
        """
        r = self.next_closing_epoch(self._epoch(t))
        return None if r is None else self._dt(r)

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Business seconds in ``[start, end)`` (whole seconds, floored); 0 if end <= start."""
        return self.elapsed_epoch(self._epoch(start), self._epoch(end))

    def add(self, start: datetime, seconds: int, *, horizon: int | None = None) -> datetime:
        """Earliest instant ``t >= start`` with ``elapsed(start, t) == seconds``.

        ``add(t, 0) == t`` even when closed; a duration that ends exactly at a closing
        time returns the closing instant (Friday 18:00 + 1 h = Friday 19:00). With a
        ``horizon`` (seconds), a ``t`` later than ``start + horizon`` is an OutOfRange error,
        found without building the years beyond the horizon.
        """
        if seconds.__class__ is not int:
            seconds = _coerce_seconds(seconds)
        if seconds <= 0:
            if start.tzinfo is None:
                self._epoch(start)  # raises the naive-datetime error
            if seconds == 0:
                return start.astimezone(self._tz)
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        # Inlined _epoch + add_epoch: this is the SLA engine's hot path.
        tzi = start.tzinfo
        if tzi is _UTC:
            td = start - _EPOCH_UTC
            x = td.days * DAY + td.seconds
        else:
            wx: int | None = None
            if tzi is self._tz:
                wlo, whi, off, wepoch = self._wfix
                if wepoch is not None:
                    td = start - wepoch
                    w = td.days * DAY + td.seconds
                    if wlo <= w < whi:
                        wx = w - off
            x = self._epoch(start) if wx is None else wx
        if horizon is not None and seconds > horizon:  # never faster than wall time
            raise OutOfRange(f"the result lies more than {horizon} seconds after the start")
        if self.always_open:
            if x + seconds >= _MAX_EPOCH:
                raise OutOfRange(f"business time runs past the supported year {_MAX_YEAR}")
            return _fromtimestamp(x + seconds, self._tz)
        lo, hi, starts, ends, cum, total, _, _, base = self._st
        if not lo <= x < hi:
            _, _, starts, ends, cum, total, _, _, base = self._ensure(x)
        i = bisect_right(starts, x) - 1
        if i < 0:
            target = seconds
        else:
            e = ends[i]
            target = base[i] + (x if x < e else e) + seconds
        if target > total:
            r = self._add_slow(x, seconds, horizon)
        else:
            r = target - base[bisect_left(cum, target) - 1]
        if horizon is not None and r - x > horizon:
            raise OutOfRange(f"the result lies more than {horizon} seconds after the start")
        return _fromtimestamp(r, self._tz)

    # ------------------------------------------------------------ description

    def describe_es(self) -> list[str]:
        """Spanish lines for people, e.g. ``["Lunes a Viernes de 7:00 am a 7:00 pm",
        "Sábado de 8:00 am a 1:00 pm"]``; ``["24/7"]`` when always open; ``[]`` when the
        weekly table has no open hours. Holidays and special dates are not described."""
        if self.always_open:
            return ["24/7"]
        lines = []
        wd = 0
        while wd < 7:
            ivs = self._weekly[wd]
            if not ivs:
                wd += 1
                continue
            last = wd
            while last + 1 < 7 and self._weekly[last + 1] == ivs:
                last += 1
            if last == wd:
                days = _DAY_NAMES_ES[wd]
            elif last == wd + 1:
                days = f"{_DAY_NAMES_ES[wd]} y {_DAY_NAMES_ES[last]}"
            else:
                days = f"{_DAY_NAMES_ES[wd]} a {_DAY_NAMES_ES[last]}"
            if ivs == ((0, DAY),):
                lines.append(f"{days} las 24 horas")
            else:
                hours = " y ".join(f"de {_clock_es(s)} a {_clock_es(e)}" for s, e in ivs)
                lines.append(f"{days} {hours}")
            wd = last + 1
        return lines


def _clock_es(sec: int) -> str:
    h, rest = divmod(sec, 3600)
    m, s = divmod(rest, 60)
    suffix = "am" if h < 12 or h == 24 else "pm"
    h12 = h % 12 or 12
    text = f"{h12}:{m:02d}" if not s else f"{h12}:{m:02d}:{s:02d}"
    return f"{text} {suffix}"
