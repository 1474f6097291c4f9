"""The full example in docs/configuration.md is a valid configuration."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from atiende.configuration import exporter, loader
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel
from atiende.sla.models import Schedule, SlaTarget

DOC = settings.BASE_DIR.parent / "docs" / "configuration.md"

pytestmark = pytest.mark.django_db


@pytest.fixture
def example() -> str:
    if not DOC.exists():
        pytest.skip("docs/ is not part of this installation")
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## A full example") :]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def test_documented_example_loads_and_round_trips(example, client):
    report = loader.load(example, name="configuration.md")
    assert report.created and not report.updated
    assert Schedule.objects.get(slug="oficina").special_openings == {"2026-12-20": ["09:00-13:00"]}
    assert SlaTarget.objects.get(type="request", priority="moderate").first_response_seconds == 5400
    urgent = Channel.objects.get(slug="whatsapp-urgencias")
    assert urgent.attends_request("incident", "high") and not urgent.attends_request(
        "request", "high"
    )
    assert urgent.schedule_slug_for("incident", "critical") == "siempre"
    assert urgent.schedule_slug_for("incident", "high") == "oficina"
    assert EscalationLevel.objects.get(number=1).auto_escalate_on_breach
    assert not loader.load(exporter.export(), name="export.yaml").changed

    page = client.get("/canales").content.decode()
    assert "Lunes a Jueves de 8:00 am a 12:00 pm y de 2:00 pm a 6:00 pm" in page
    assert "*Incidentes críticos 24/7" in page
    assert "Servicios Ejemplo S.A.S." in page
