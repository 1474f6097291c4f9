"""Benchmark atiende's business calendar (and compare with `businesstimedelta`).

Usage:
    .venv/bin/python bench/bench_calendar.py [--n 100000] [--seed 1] [--repeat 7]

Calendar: `horario-habil` (Mon-Fri 07:00-19:00, Sat 08:00-13:00, Colombian holidays,
America/Bogota). Inputs: N random aware starts over 2026-2027 (whole seconds, in
America/Bogota), `add(start, 8 h)` and `elapsed(start, start + random span up to 7 days)`.
Reports the best of --repeat runs (single thread, so one core), checks a sample against a
brute-force oracle, and prints a Markdown block for docs/benchmarks.md.

`businesstimedelta` is not a project dependency. To include it without touching the
project's venv:
    .venv/bin/pip install --no-deps --target /tmp/btd businesstimedelta pytz
    PYTHONPATH=/tmp/btd .venv/bin/python bench/bench_calendar.py
(`--no-deps` keeps the venv's own `holidays` in charge.) It is slow, so it runs on the
first --btd-n starts of the same input list (ops/s is a rate, so the ratio stays fair).
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import holidays

from atiende.sla.calendar import BusinessCalendar, parse_intervals

H = 3600
TZ_NAME = "America/Bogota"
TZ = ZoneInfo(TZ_NAME)
WEEKLY = {d: parse_intervals(["07:00-19:00"]) for d in range(5)}
WEEKLY[5] = parse_intervals(["08:00-13:00"])
DURATION = 8 * H
ADD_LABEL = "`add(start, 8 h)`, start in America/Bogota"


def horario_habil() -> BusinessCalendar:
    return BusinessCalendar(TZ_NAME, weekly=WEEKLY, holiday_country="CO")


# ------------------------------------------------------------------------ inputs


def make_inputs(n: int, seed: int):
    rng = random.Random(seed)
    lo = int(datetime(2026, 1, 1, tzinfo=TZ).timestamp())
    hi = int(datetime(2028, 1, 1, tzinfo=TZ).timestamp())
    starts_epoch = [rng.randrange(lo, hi) for _ in range(n)]
    starts = [datetime.fromtimestamp(x, TZ) for x in starts_epoch]
    spans = [rng.randrange(0, 7 * 86400) for _ in range(n)]
    ends = [s + timedelta(seconds=d) for s, d in zip(starts, spans, strict=True)]
    return starts_epoch, starts, ends


# ------------------------------------------------------------------------ oracle


class Oracle:
    """Brute force in 15-minute UTC blocks (all boundaries and the -05:00 offset are
    multiples of 15 minutes): read the local wall clock, look up the date's hours."""

    GRID = 900

    def __init__(self):
        self.hols = holidays.country_holidays("CO", language="es")

    def is_open(self, u: int) -> bool:
        lt = datetime.fromtimestamp(u, TZ)
        if lt.date() in self.hols:
            return False
        sec = lt.hour * 3600 + lt.minute * 60 + lt.second
        return any(s <= sec < e for s, e in WEEKLY.get(lt.weekday(), []))

    def add(self, u: int, n: int) -> int:
        t, left = u, n
        while True:
            end = (t // self.GRID + 1) * self.GRID
            if self.is_open(t):
                if end - t >= left:
                    return t + left
                left -= end - t
            t = end

    def elapsed(self, a: int, b: int) -> int:
        total, t = 0, a
        while t < b:
            end = min((t // self.GRID + 1) * self.GRID, b)
            if self.is_open(t):
                total += end - t
            t = end
        return total


# ------------------------------------------------------------------ measurement


def best_rate(fn, n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def build_btd():
    try:
        import businesstimedelta as btd
        import pytz
    except ImportError:
        return None
    tz = pytz.timezone(TZ_NAME)
    days = set(holidays.country_holidays("CO", years=range(2025, 2031)))
    rules = btd.Rules(
        [
            btd.WorkDayRule(
                start_time=dtime(7), end_time=dtime(19), working_days=[0, 1, 2, 3, 4], tz=tz
            ),
            btd.WorkDayRule(start_time=dtime(8), end_time=dtime(13), working_days=[5], tz=tz),
            btd.HolidayRule(days, tz=tz),
        ]
    )
    return btd.BusinessTimeDelta(rules, seconds=DURATION)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="number of random starts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=7, help="runs per measurement (best kept)")
    ap.add_argument("--check", type=int, default=2000, help="sample checked against the oracle")
    ap.add_argument("--btd-n", type=int, default=5000, help="starts timed with businesstimedelta")
    args = ap.parse_args(argv)

    n = args.n
    starts_epoch, starts, ends = make_inputs(n, args.seed)
    starts_utc = [s.astimezone(UTC) for s in starts]

    t0 = time.perf_counter()
    cal = horario_habil()
    cal.add(starts[0], DURATION)
    cold = time.perf_counter() - t0
    for s in starts[:1000]:  # load every year the run will touch
        cal.add(s, DURATION)
    cal.add(datetime(2027, 12, 31, 23, tzinfo=TZ), DURATION)

    add = cal.add
    elapsed = cal.elapsed
    add_epoch = cal.add_epoch
    elapsed_epoch = cal.elapsed_epoch
    ends_epoch = [int(e.timestamp()) for e in ends]

    def run_add():
        for s in starts:
            add(s, DURATION)

    def run_add_utc():
        for s in starts_utc:
            add(s, DURATION)

    def run_elapsed():
        for s, e in zip(starts, ends, strict=True):
            elapsed(s, e)

    def run_add_epoch():
        for x in starts_epoch:
            add_epoch(x, DURATION)

    def run_elapsed_epoch():
        for a, b in zip(starts_epoch, ends_epoch, strict=True):
            elapsed_epoch(a, b)

    rates = {
        ADD_LABEL: best_rate(run_add, n, args.repeat),
        "`add(start, 8 h)`, start in UTC": best_rate(run_add_utc, n, args.repeat),
        "`elapsed(start, end)`, datetimes in America/Bogota": best_rate(
            run_elapsed, n, args.repeat
        ),
        "`add_epoch(x, 8 h)`, epoch ints": best_rate(run_add_epoch, n, args.repeat),
        "`elapsed_epoch(a, b)`, epoch ints": best_rate(run_elapsed_epoch, n, args.repeat),
    }

    # Correctness sample: random starts plus starts on the hour boundaries (opening,
    # closing, midnight, one second before), ours vs oracle (must be 0), and
    # businesstimedelta vs oracle and vs ours.
    oracle = Oracle()
    rng = random.Random(args.seed + 1)
    sample = [starts[i] for i in rng.sample(range(n), min(args.check, n))]
    edge_times = [(0, 0, 0), (6, 59, 59), (7, 0, 0), (8, 0, 0), (12, 59, 59), (13, 0, 0)]
    edge_times += [(18, 59, 59), (19, 0, 0), (23, 59, 59)]
    day0 = datetime(2026, 1, 1, tzinfo=TZ)
    for _ in range(args.check // 2):
        hh, mm, ss = rng.choice(edge_times)
        day = day0 + timedelta(days=rng.randrange(730))
        sample.append(day.replace(hour=hh, minute=mm, second=ss))
    ours_bad = []
    wants = []
    for s in sample:
        u = int(s.timestamp())
        want = oracle.add(u, DURATION)
        wants.append(want)
        got = int(add(s, DURATION).timestamp())
        if got != want:
            ours_bad.append((s, "add", got, want))
        e = s + timedelta(seconds=rng.randrange(0, 7 * 86400))
        want_e = oracle.elapsed(u, int(e.timestamp()))
        got_e = elapsed(s, e)
        if got_e != want_e:
            ours_bad.append((s, "elapsed", got_e, want_e))

    delta = build_btd()
    btd_rate = None
    btd_bad = []
    btd_vs_ours = 0
    if delta is not None:
        m = min(args.btd_n, n)
        sub = starts[:m]

        def run_btd():
            for s in sub:
                s + delta

        btd_rate = best_rate(run_btd, m, max(1, min(args.repeat, 3)))
        for s, want in zip(sample, wants, strict=True):
            got = int((s + delta).timestamp())
            if got != want:
                btd_bad.append((s, got, want))
            if got != int(add(s, DURATION).timestamp()):
                btd_vs_ours += 1

    # ------------------------------------------------------------------ report
    checked = (
        f"{len(sample):,} starts ({args.check:,} random, {len(sample) - args.check:,} on hour "
        "boundaries)"
    )
    ours = rates[ADD_LABEL]
    print(f"Python {platform.python_version()} on {platform.machine()}, single thread")
    print(f"inputs: {n:,} random starts in 2026–2027 (seed {args.seed}); best of {args.repeat}")
    print(f"first call (loads the holidays data, builds one year): {cold * 1000:.1f} ms")
    for name, r in rates.items():
        print(f"  {name:48s} {r:>12,.0f} ops/s")
    print(f"atiende vs oracle on {checked}, add and elapsed: {len(ours_bad)} disagreements")
    for s, what, got, want in ours_bad[:3]:
        print(f"  ours {what} from {s.isoformat()}: got {got}, oracle {want}")
    if delta is None:
        print(
            "businesstimedelta: not installed, comparison skipped "
            "(.venv/bin/pip install --no-deps --target /tmp/btd businesstimedelta pytz; "
            "then run with PYTHONPATH=/tmp/btd)"
        )
    else:
        print(f"businesstimedelta add (first {min(args.btd_n, n):,} starts): {btd_rate:,.0f} ops/s")
        print(f"ratio atiende / businesstimedelta (add, same inputs): {ours / btd_rate:,.0f}x")
        print(f"businesstimedelta vs oracle on {checked}: {len(btd_bad)} disagreements")
        print(f"businesstimedelta vs atiende on {checked}: {btd_vs_ours} disagreements")
        if btd_bad:
            s, got, want = btd_bad[0]
            g, w = datetime.fromtimestamp(got, TZ), datetime.fromtimestamp(want, TZ)
            print(f"  e.g. {s.isoformat()} + 8 h: businesstimedelta {g}, oracle {w}")

    print()
    print("```markdown")
    print(
        f"Business calendar (`atiende.sla.calendar`) on `horario-habil`: {n:,} random "
        f"starts over 2026–2027, 8-hour durations, best of {args.repeat} runs, one core, "
        f"Python {platform.python_version()}."
    )
    print()
    print("| operation | ops/s |")
    print("|---|---:|")
    for name, r in rates.items():
        print(f"| atiende {name} | {r:,.0f} |")
    if btd_rate is not None:
        print(
            f"| businesstimedelta 1.0.1 `start + BusinessTimeDelta(8 h)` "
            f"(first {min(args.btd_n, n):,} starts) | {btd_rate:,.0f} |"
        )
    print()
    if btd_rate is not None:
        print(
            f"atiende `add` is {ours / btd_rate:,.0f}x businesstimedelta on the same inputs. "
            f"Against a brute-force oracle on {checked}: atiende {len(ours_bad)} "
            f"disagreements, businesstimedelta {len(btd_bad)}."
        )
    else:
        print(
            f"Against a brute-force oracle on {checked}: {len(ours_bad)} disagreements "
            "(businesstimedelta not installed, no comparison)."
        )
    print()
    print(
        f"Command: `PYTHONPATH=/tmp/btd .venv/bin/python bench/bench_calendar.py --n {n} "
        f"--seed {args.seed}` (businesstimedelta installed with "
        "`.venv/bin/pip install --no-deps --target /tmp/btd businesstimedelta pytz`)."
    )
    print("```")
    return 1 if ours_bad else 0


if __name__ == "__main__":
    sys.exit(main())
