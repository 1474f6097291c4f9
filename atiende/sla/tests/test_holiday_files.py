"""The holidays file: a later process reads what the first one computed, and a file that
is wrong, stale or unwritable is only a cost, never a wrong calendar."""

import json
import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays
import pytest

from atiende.sla import calendar
from atiende.sla.calendar import BusinessCalendar
from atiende.sla.holiday_files import HolidayFiles, package_fingerprint

WEEKLY = {"mon": ["07:00-19:00"], "tue": ["07:00-19:00"], "sat": ["08:00-13:00"]}


@pytest.fixture
def store_in(tmp_path):
    """Install a store in a fresh directory (a new process: nothing cached in memory); the
    process's own store comes back afterwards."""
    previous = calendar._store

    def install(directory=tmp_path, **kwargs):
        store = HolidayFiles(directory, **kwargs)
        calendar.keep_holidays_in(store)
        return store

    yield install
    calendar.keep_holidays_in(previous)


def colombian_2026():
    return BusinessCalendar(timezone="America/Bogota", weekly=WEEKLY, holiday_country="CO")


def test_a_later_process_reads_the_holidays_without_the_package(store_in, monkeypatch):
    first = store_in()
    assert "Chiquinquirá" in (colombian_2026().is_holiday(date(2026, 7, 13)) or "")
    assert first.path is not None and first.path.exists()
    computed = colombian_2026().holidays_between(date(2026, 1, 1), date(2026, 12, 31))
    assert len(computed) == 19

    store_in()  # a new process, the same directory
    monkeypatch.setattr(holidays, "country_holidays", _refuse)
    cal = colombian_2026()  # the country check needs no package either
    assert cal.holidays_between(date(2026, 1, 1), date(2026, 12, 31)) == computed
    assert cal.is_holiday(date(2026, 12, 8)) == "La Inmaculada Concepción"
    assert cal.is_open(at(2026, 12, 15, 8))  # a Tuesday
    assert not cal.is_open(at(2026, 12, 8, 8))  # a Tuesday, and a holiday


def _refuse(*args, **kwargs):
    raise AssertionError("the holidays package was asked")


def at(y, m, d, h):
    return datetime(y, m, d, h, tzinfo=ZoneInfo("America/Bogota"))


def test_a_year_not_in_the_file_is_computed_and_added(store_in):
    store = store_in()
    colombian_2026().is_holiday(date(2026, 1, 1))
    store_in()
    colombian_2026().is_holiday(date(2040, 3, 30))
    years = json.loads(store.path.read_text())["CO"]
    assert {"2025", "2026", "2027", "2039", "2040", "2041"} <= set(years)


def test_an_unsupported_country_is_still_refused(store_in):
    store_in()
    with pytest.raises(ValueError, match="not supported"):
        BusinessCalendar(weekly=WEEKLY, holiday_country="ZZ")


def test_a_damaged_file_is_ignored_and_written_again(store_in, tmp_path):
    store = store_in()
    assert store.path is not None
    store.path.write_text('{"CO": {"2026": [["2026-13-01", "x"]]}, "broken": ')
    store_in()
    assert colombian_2026().is_holiday(date(2026, 1, 1)) == "Año Nuevo"
    data = json.loads(store.path.read_text())
    assert ["2026-01-01", "Año Nuevo"] in data["CO"]["2026"]

    store.path.write_text('{"CO": {"2026": [["2026-13-01", "x"]], "2027": "no"}}')
    store_in()
    assert colombian_2026().is_holiday(date(2026, 1, 1)) == "Año Nuevo"


def test_another_release_of_the_package_does_not_read_the_old_file(store_in, tmp_path):
    old = store_in(fingerprint="0ld")
    assert old.path is not None
    old.path.write_text(json.dumps({"CO": {str(y): [] for y in range(2025, 2028)}}))
    store_in(fingerprint="0ld")
    assert colombian_2026().is_holiday(date(2026, 1, 1)) is None  # what that file said
    new = store_in()
    assert new.path != old.path and package_fingerprint()
    assert colombian_2026().is_holiday(date(2026, 1, 1)) == "Año Nuevo"


def test_an_unwritable_directory_costs_only_the_computation(store_in, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the directory would be")
    store_in(blocked / "cache")
    assert colombian_2026().is_holiday(date(2026, 1, 1)) == "Año Nuevo"
    assert not (blocked / "cache").exists()


def test_two_processes_adding_years_keep_both(store_in, tmp_path):
    one, two = HolidayFiles(tmp_path), HolidayFiles(tmp_path)
    assert not one.knows("CO") and not two.knows("CO")  # both read the (missing) file first
    one.put("CO", 2026, ((date(2026, 1, 1), "Año Nuevo"),))
    two.put("CO", 2030, ((date(2030, 1, 1), "Año Nuevo"),))
    again = HolidayFiles(tmp_path)
    assert again.get("CO", 2026) == ((date(2026, 1, 1), "Año Nuevo"),)
    assert again.get("CO", 2030) == ((date(2030, 1, 1), "Año Nuevo"),)
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".holidays-")]
