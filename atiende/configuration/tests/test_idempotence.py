"""Loading is idempotent; changes are written field by field and audited old -> new."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from atiende.cases.models import Case
from atiende.configuration import loader
from atiende.configuration.tests.state import config_ids, config_state
from atiende.core.models import AuditEntry
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel

REFERENCE = Path(django_settings.DEFAULT_CONFIG)

pytestmark = pytest.mark.django_db

TEXT = REFERENCE.read_text(encoding="utf-8")


def test_first_load_creates_everything_and_audits_each_row_as_the_system(loaded):
    assert {e.action for e in loaded.entries} == {"created"}
    created = AuditEntry.objects.filter(action__endswith=".created")
    assert created.count() == len(loaded.created)
    assert set(created.values_list("actor_label", flat=True)) == {"sistema"}
    entry = created.get(
        action="channel.created", object_id=str(Channel.objects.get(slug="linea-bogota").pk)
    )
    assert entry.changes["address"] == [None, "+576017442727"]


def test_loading_the_same_file_twice_changes_nothing(loaded):
    state, ids, audits = config_state(), config_ids(), AuditEntry.objects.count()
    again = loader.load(REFERENCE)
    assert not again.changed
    assert {e.action for e in again.entries} == {"unchanged"}
    assert len(again.unchanged) == len(loaded.created)
    assert again.summary() == f"reference.yaml: {len(loaded.created)} unchanged"
    assert AuditEntry.objects.count() == audits
    assert config_state() == state
    assert config_ids() == ids


def test_changing_a_phone_number_updates_one_row_and_audits_old_and_new(loaded):
    ids, audits = config_ids(), AuditEntry.objects.count()
    report = loader.load(
        TEXT.replace('address: "601 7442727"', 'address: "601 7442700"'), name="edited.yaml"
    )
    assert [(e.entity, e.key) for e in report.updated] == [("channel", "linea-bogota")]
    assert len(report.unchanged) == len(loaded.created) - 1
    channel = Channel.objects.get(slug="linea-bogota")
    assert (channel.address, channel.display_address) == ("+576017442700", "601 7442700")
    assert config_ids() == ids
    assert AuditEntry.objects.count() == audits + 1
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.object_id, entry.actor_label) == (
        "channel.updated",
        str(channel.pk),
        "sistema",
    )
    assert entry.changes == {
        "address": ["+576017442727", "+576017442700"],
        "display_address": ["601 7442727", "601 7442700"],
    }


def test_changing_a_text_updates_its_setting(loaded):
    report = loader.load(
        TEXT.replace("canales.title: Canales de atención", "canales.title: Nuestros canales")
    )
    assert [(e.entity, e.key, e.changes) for e in report.updated] == [
        ("setting", "texts.canales.title", {"value": ["Canales de atención", "Nuestros canales"]})
    ]


def test_the_actor_is_recorded_when_a_person_loads_the_file(loaded, admin_user):
    loader.load(
        TEXT.replace("responsible: Orlando Méndez", "responsible: Olga Martínez"), actor=admin_user
    )
    entry = AuditEntry.objects.latest("id")
    assert entry.actor == admin_user
    assert entry.changes == {"responsible_name": ["Orlando Méndez", "Olga Martínez"]}


def _without_channel(slug: str) -> str:
    start = TEXT.index(f"  - slug: {slug}\n")
    end = TEXT.index("\n  - slug: ", start + 1) if "\n  - slug: " in TEXT[start + 1 :] else None
    block = TEXT[start : end + 1 if end else None]
    return TEXT.replace(block, "")


def test_channel_missing_from_the_file_is_deactivated_not_deleted(loaded):
    channel = Channel.objects.get(slug="linea-nacional")
    now = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    case = Case.objects.create(
        number="CS0000001",
        type="request",
        priority="low",
        channel=channel,
        subject="Prueba",
        created_at=now,
        updated_at=now,
    )
    text = _without_channel("linea-nacional")
    report = loader.load(text, name="smaller.yaml")
    assert [(e.key, e.changes) for e in report.deactivated] == [
        ("linea-nacional", {"active": [True, False], "position": [2, 7]})
    ]
    channel.refresh_from_db()
    assert not channel.active
    assert Case.objects.get(pk=case.pk).channel == channel
    assert (
        AuditEntry.objects.filter(action="channel.deactivated", object_id=str(channel.pk)).count()
        == 1
    )
    # positions follow the new file; the deactivated channel goes last
    assert list(Channel.objects.order_by("position").values_list("slug", flat=True)) == [
        "linea-bogota",
        "correo",
        "whatsapp-monitoreo",
        "whatsapp-corporativo",
        "portal",
        "api",
        "linea-nacional",
    ]
    again = loader.load(text, name="smaller.yaml")
    assert not again.changed
    assert [(e.entity, e.key) for e in again.kept] == [("channel", "linea-nacional")]


def test_channel_back_in_the_file_is_active_again(loaded):
    loader.load(_without_channel("correo"), name="smaller.yaml")
    report = loader.load(REFERENCE)
    assert [(e.key, sorted(e.changes)) for e in report.updated] == [
        ("correo", ["active", "position"]),
        ("whatsapp-monitoreo", ["position"]),
        ("whatsapp-corporativo", ["position"]),
        ("portal", ["position"]),
        ("api", ["position"]),
    ]
    assert Channel.objects.get(slug="correo").active


def test_other_rows_missing_from_the_file_are_kept_and_reported(loaded):
    start = TEXT.index("  - number: 4\n")
    end = TEXT.index("\ntexts:")
    report = loader.load(TEXT[:start] + TEXT[end:], name="three-levels.yaml")
    assert [(e.entity, e.key) for e in report.kept] == [("escalation_level", "4")]
    assert EscalationLevel.objects.filter(number=4).exists()
    assert "kept        escalation_level 4 (in the database, not in the file)" in str(report)


def test_load_if_empty_loads_only_into_an_empty_database(db):
    first = loader.load_if_empty(REFERENCE)
    assert first is not None and first.created
    assert loader.load_if_empty(REFERENCE) is None
