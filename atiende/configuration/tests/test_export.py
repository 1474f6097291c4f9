"""export() writes back what is loaded: loading it changes nothing, and it rebuilds the
same database from scratch."""

from __future__ import annotations

import pytest
import yaml

from atiende.configuration import exporter, loader
from atiende.configuration.tests.state import config_state, empty_configuration
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel
from atiende.sla.models import Schedule

pytestmark = pytest.mark.django_db


def test_exported_file_loads_back_without_changes(loaded):
    report = loader.load(exporter.export(), name="export.yaml")
    assert not report.changed


def test_exported_file_rebuilds_the_same_database(loaded):
    state = config_state()
    text = exporter.export()
    empty_configuration()
    loader.load(text, name="export.yaml")
    assert config_state() == state


def test_export_after_admin_edits_round_trips_too(loaded):
    Schedule.objects.filter(slug="horario-habil").update(
        closed_dates=["2026-12-24", "2026-12-31"], special_openings={"2026-12-20": ["08:00-12:00"]}
    )
    Channel.objects.filter(slug="correo").update(
        active=False, description="Varias líneas.\nSegunda línea."
    )
    EscalationLevel.objects.filter(number=2).update(auto_escalate_on_breach=True)
    state = config_state()
    text = exporter.export()
    empty_configuration()
    loader.load(text, name="export.yaml")
    assert config_state() == state
    assert exporter.export() == text


def test_export_is_readable_yaml_in_the_documented_shape(loaded):
    text = exporter.export()
    data = yaml.safe_load(text)
    assert list(data) == [
        "organization",
        "classification",
        "cases",
        "schedules",
        "sla_targets",
        "groups",
        "channels",
        "escalation_levels",
        "texts",
    ]
    assert [(t["type"], t["priority"]) for t in data["sla_targets"]][:5] == [
        ("incident", "critical"),
        ("incident", "high"),
        ("incident", "moderate"),
        ("incident", "low"),
        ("request", "critical"),
    ]
    assert (
        "{type: incident, priority: critical, first_response: 15m, resolution: 4h, schedule: 24x7}"
        in text
    )
    assert "mon: ['07:00-19:00']" in text
    assert "Certicámara" in text  # written as text, not escaped
    assert [c["slug"] for c in data["channels"]][:2] == ["linea-bogota", "linea-nacional"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(900, "15m"), (14400, "4h"), (5400, "1h30m"), (144000, "40h"), (61, "1m1s")],
)
def test_durations_are_written_the_way_they_are_read(seconds, text):
    assert loader.format_duration(seconds) == text
    assert loader.parse_duration(text) == seconds
