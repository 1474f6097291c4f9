"""Fixed time buckets, so medians and p90s can be read from counts kept ahead instead of
sorting every case: a percentile cannot be summed over days or months, a histogram can.

Bucket i holds the durations in (BOUNDS[i - 1], BOUNDS[i]] (bucket 0 holds exactly 0 s);
the last bucket, index len(BOUNDS), holds everything over a year. A percentile read from
the buckets is the upper bound of the bucket that holds the exact (nearest-rank) value, so
it is never below the exact figure and at most one bucket width above it: a minute under an
hour, five minutes under 8 h, half an hour under 48 h, six hours under 30 days, a day under a
year. Over a year it reports 365 days ("at least"). docs/reports.md says the same.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping

# (step, up to) in seconds: the resolution of each range of durations.
_STEPS = (
    (60, 3600),
    (300, 8 * 3600),
    (1800, 48 * 3600),
    (6 * 3600, 30 * 86400),
    (86400, 365 * 86400),
)


def _bounds() -> tuple[int, ...]:
    out = [0]
    for step, upto in _STEPS:
        while out[-1] < upto:
            out.append(out[-1] + step)
    return tuple(out)


BOUNDS = _bounds()
OVERFLOW = len(BOUNDS)


def bucket(seconds: int | None) -> int | None:
    """The bucket of a duration (None for none)."""
    if seconds is None:
        return None
    return bisect_left(BOUNDS, max(seconds, 0))


def upper(index: int) -> int:
    """What a percentile falling in bucket `index` reports: its upper bound (the last
    bucket, over a year, reports a year)."""
    return BOUNDS[min(index, OVERFLOW - 1)]


def percentile(
    counts: Mapping[int, int] | Iterable[tuple[int, int]], fraction: float
) -> int | None:
    """The nearest-rank percentile (the smallest value with at least `fraction` of the
    values at or below it) of the durations counted per bucket, as its bucket's upper
    bound; None without any."""
    items = sorted(counts.items() if isinstance(counts, Mapping) else counts)
    total = sum(n for _, n in items)
    if not total:
        return None
    rank = max(math.ceil(fraction * total), 1)
    seen = 0
    for index, n in items:
        seen += n
        if seen >= rank:
            return upper(index)
    return upper(items[-1][0])  # pragma: no cover - seen reaches total
