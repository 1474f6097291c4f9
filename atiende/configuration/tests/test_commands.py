"""The load_config and export_config management commands (atiende load-config / export-config)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from atiende.directory.models import Channel

REFERENCE = Path(django_settings.DEFAULT_CONFIG)

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_load_config_loads_and_reports_what_it_created():
    output = _run("load_config", str(REFERENCE))
    assert output.startswith("reference.yaml: 49 created")
    assert "created     channel whatsapp-monitoreo" in output
    assert Channel.objects.count() == 7


def test_load_config_twice_reports_everything_unchanged():
    _run("load_config", str(REFERENCE))
    assert _run("load_config", str(REFERENCE)).strip() == "reference.yaml: 49 unchanged"


def test_load_config_refuses_an_invalid_file_with_its_messages(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        REFERENCE.read_text(encoding="utf-8").replace("kind: phone", "kind: fax", 1),
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as caught:
        call_command("load_config", str(path))
    assert str(caught.value).splitlines() == [
        "broken.yaml: 1 problem; nothing was loaded.",
        "broken.yaml: channels[0].kind: unknown value 'fax' (expected one of: phone, email, whatsapp, portal, api, internal)",
    ]
    assert not Channel.objects.exists()


def test_load_config_check_validates_without_writing():
    assert _run("load_config", "--check", str(REFERENCE)).strip() == f"{REFERENCE}: valid"
    assert not Channel.objects.exists()


def test_export_config_writes_to_stdout_or_a_file(tmp_path):
    _run("load_config", str(REFERENCE))
    printed = _run("export_config")
    assert "slug: whatsapp-corporativo" in printed
    target = tmp_path / "out.yaml"
    _run("export_config", "--output", str(target))
    assert target.read_text(encoding="utf-8") == printed
    assert _run("load_config", str(target)).strip() == "out.yaml: 49 unchanged"
