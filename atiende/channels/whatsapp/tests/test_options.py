"""WhatsApp channel settings: the loader checks them, and the docs list every flow text."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings

from atiende.channels.whatsapp import options
from atiende.configuration import loader
from atiende.directory.models import Channel

REFERENCE = yaml.safe_load(Path(django_settings.DEFAULT_CONFIG).read_text(encoding="utf-8"))
DOC = Path(__file__).resolve().parents[4] / "docs" / "whatsapp.md"


def _load(tmp_path: Path, **settings) -> None:
    """Load the reference configuration with `settings` added to whatsapp-monitoreo."""
    data = copy.deepcopy(REFERENCE)
    channel = next(c for c in data["channels"] if c["slug"] == "whatsapp-monitoreo")
    channel["settings"].update(settings)
    path = tmp_path / "conf.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loader.load(path)


def _problems(tmp_path: Path, **settings) -> list[str]:
    with pytest.raises(loader.ConfigurationError) as caught:
        _load(tmp_path, **settings)
    return [p.split(": ", 1)[1] for p in caught.value.problems]


def _where(slug: str = "whatsapp-monitoreo") -> str:
    index = [c["slug"] for c in REFERENCE["channels"]].index(slug)
    return f"channels[{index}].settings"


# -- the loader ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_on_call_numbers_and_addresses_are_loaded_when_valid(tmp_path):
    _load(
        tmp_path,
        oncall_whatsapp="+57 300 123 4567, 3007654321",
        oncall_email="guardia@mesa.test, noc@mesa.test",
        text_menu="Bienvenido a {channel}",
        media_by_link=True,
        flow="monitoring",
    )
    settings = Channel.objects.get(slug="whatsapp-monitoreo").settings
    assert settings["oncall_whatsapp"] == "+57 300 123 4567, 3007654321"
    assert settings["text_menu"] == "Bienvenido a {channel}"


@pytest.mark.django_db
def test_an_on_call_number_that_is_not_a_phone_is_refused(tmp_path):
    assert _problems(tmp_path, oncall_whatsapp="3001234567, 12345") == [
        f"{_where()}.oncall_whatsapp: '12345' is not a phone number (write it like +57 300 123 4567)"
    ]


@pytest.mark.django_db
def test_an_on_call_address_that_is_not_an_email_is_refused(tmp_path):
    assert _problems(tmp_path, oncall_email="guardia@mesa.test, guardia@") == [
        f"{_where()}.oncall_email: 'guardia@' is not an e-mail address"
    ]


@pytest.mark.django_db
def test_a_text_setting_must_name_a_known_text(tmp_path):
    assert _problems(tmp_path, text_menux="Hola") == [
        f"{_where()}.text_menux: unknown flow text 'menux' (did you mean 'text_menu'?)"
    ]


@pytest.mark.django_db
def test_a_text_may_use_only_the_placeholders_of_its_default(tmp_path):
    assert _problems(tmp_path, text_not_found="No existe {numero}") == [
        f"{_where()}.text_not_found: unknown placeholder {{numero}} (this text knows: {{number}})"
    ]


@pytest.mark.django_db
def test_a_misspelt_whatsapp_setting_is_refused_with_a_suggestion(tmp_path):
    assert _problems(tmp_path, oncal_whatsapp="3001234567", flow="monitoreo") == [
        f"{_where()}.oncal_whatsapp: unknown WhatsApp setting 'oncal_whatsapp' "
        "(did you mean 'oncall_whatsapp'?)",
        f"{_where()}.flow: unknown value 'monitoreo' (expected one of: monitoring, corporate)",
    ]


@pytest.mark.django_db
def test_media_by_link_is_true_or_false(tmp_path):
    assert _problems(tmp_path, media_by_link="sí") == [
        f"{_where()}.media_by_link: expected true or false"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, -5, "30", 30.5, True, 7 * 24 * 60 + 1])
def test_the_menu_wait_is_a_whole_number_of_minutes(tmp_path, value):
    assert _problems(tmp_path, menu_wait_minutes=value) == [
        f"{_where()}.menu_wait_minutes: expected a whole number of minutes from 1 to 10080"
    ]


@pytest.mark.django_db
def test_a_menu_wait_in_range_is_loaded(tmp_path):
    _load(tmp_path, menu_wait_minutes=45)
    assert Channel.objects.get(slug="whatsapp-monitoreo").settings["menu_wait_minutes"] == 45


def test_the_reference_on_call_lists_are_empty():
    """No invented people: the sheet names no on-call numbers or addresses."""
    channel = next(c for c in REFERENCE["channels"] if c["slug"] == "whatsapp-monitoreo")
    assert channel["settings"]["oncall_whatsapp"] == ""
    assert channel["settings"]["oncall_email"] == ""
    assert options.check(channel["settings"]) == []


# -- the texts -----------------------------------------------------------------------------


def test_the_docs_list_every_flow_text_with_its_default():
    doc = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- texts:start -->\n(.*?)\n<!-- texts:end -->", doc, re.S)
    assert found, "docs/whatsapp.md lost its texts table markers"
    assert found.group(1) == options.texts_markdown(), (
        "docs/whatsapp.md and options.TEXTS disagree; regenerate the table with "
        "`python -m atiende.channels.whatsapp.options`"
    )


def test_every_text_has_a_documented_use():
    assert list(options.TEXT_USES) == list(options.TEXTS)


@pytest.mark.django_db
def test_a_channel_text_setting_replaces_the_default(corporativo):
    from atiende.channels.whatsapp import flows

    corporativo.settings = {"text_ask_number": "Número de caso, por favor ({x})"}
    assert flows.text(corporativo, "ask_number") == "Número de caso, por favor ({x})"
    assert flows.text(corporativo, "not_found", number="CS0000009") == options.TEXTS[
        "not_found"
    ].replace("{number}", "CS0000009")
