"""The public holidays the `holidays` package computed, kept in a file for the next process.

Importing `holidays` loads every country it knows (about 200 modules), and computing a
year of Colombian holidays takes a few tens of milliseconds more: together 0.15 to 0.2 s of
every process that opens a case or starts an SLA clock (`poll-email --once`, the MTA pipe,
a worker, any command; docs/benchmarks.md, issue 17, session 16). The calendar
(`calendar.py`, which stays free of I/O) asks a store first when one is installed
(`calendar.keep_holidays_in`, done by the sla app with `<ATIENDE_DATA_DIR>/cache`), and tells
it what it computed.

One JSON file per release of the package: its name carries a hash of the package's
`version.py`, read without importing the package, so an upgrade starts a new file and never
reads the old one. The file holds, per country, the years computed so far (each a list of
`[ISO date, Spanish name]`). It is rewritten whole, atomically (a temporary file renamed
over it), merged with what another process may have written since it was read; two
processes adding years at the same moment can lose one's addition, which is only computed
again later. A file that cannot be read or parsed, or a directory that cannot be written,
is the same as no file: the package computes, as without a store.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import tempfile
import threading
from datetime import date
from pathlib import Path

Days = tuple[tuple[date, str], ...]


def package_fingerprint() -> str:
    """A short hash of the installed `holidays` package's version file ("" if not found)."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or not spec.submodule_search_locations:
        return ""
    for location in spec.submodule_search_locations:
        with contextlib.suppress(OSError):
            return hashlib.sha256(Path(location, "version.py").read_bytes()).hexdigest()[:16]
    return ""


class HolidayFiles:
    """A `calendar.HolidayStore` in `directory`; years are `holidays.country_holidays(country,
    years=[year], language="es")` as the calendar computes them."""

    def __init__(self, directory: Path | str, *, fingerprint: str | None = None) -> None:
        self.directory = Path(directory)
        self._fingerprint = fingerprint
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, list[list[str]]]] | None = None

    @functools.cached_property
    def path(self) -> Path | None:
        """The file, named when first needed: a process that never asks for a holiday
        (most commands) does not look for the package at its start."""
        fingerprint = self._fingerprint
        if fingerprint is None:
            fingerprint = package_fingerprint()
        return self.directory / f"holidays-es-{fingerprint}.json" if fingerprint else None

    def knows(self, country: str) -> bool:
        """Whether the package computed a year of `country` before: a country it supports."""
        with self._lock:
            return bool(self._loaded().get(country))

    def get(self, country: str, year: int) -> Days | None:
        with self._lock:
            days = self._loaded().get(country, {}).get(str(year))
        if days is None:
            return None
        return tuple((date.fromisoformat(d), name) for d, name in days)

    def put(self, country: str, year: int, days: Days) -> None:
        path = self.path
        if path is None:
            return
        entry = [[d.isoformat(), name] for d, name in days]
        with self._lock:
            mine = self._loaded()
            mine.setdefault(country, {})[str(year)] = entry
            data = _read(path)  # what other processes added since
            for known_country, years in mine.items():
                data.setdefault(known_country, {}).update(years)
            self._data = data
            with contextlib.suppress(OSError):
                _write(path, data)

    def _loaded(self) -> dict[str, dict[str, list[list[str]]]]:
        if self._data is None:
            path = self.path
            self._data = _read(path) if path is not None else {}
        return self._data


def _read(path: Path) -> dict[str, dict[str, list[list[str]]]]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    good: dict[str, dict[str, list[list[str]]]] = {}
    for country, years in data.items():
        if not isinstance(years, dict):
            continue
        for year, days in years.items():
            if _well_formed(days):
                good.setdefault(country, {})[year] = days
    return good


def _well_formed(days: object) -> bool:
    if not isinstance(days, list):
        return False
    for day in days:
        if not (isinstance(day, list) and len(day) == 2 and all(isinstance(x, str) for x in day)):
            return False
        try:
            date.fromisoformat(day[0])
        except ValueError:
            return False
    return True


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".holidays-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
