"""The bundled reference configuration holds every fact of the customer's channel sheet."""

from __future__ import annotations

import pytest

from atiende.accounts.models import SupportGroup
from atiende.configuration import selectors
from atiende.configuration.tests import seed_facts as seed
from atiende.core import site
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel
from atiende.sla.models import Schedule, SlaTarget

pytestmark = pytest.mark.django_db


def _hours_as_on_the_sheet(channel: Channel) -> list[str]:
    """The channel's hours the way the sheet writes them: '*label' then the schedule's days."""
    out = []
    for rule in channel.hours:
        if rule.get("label"):
            out.append("*" + rule["label"])
        lines = selectors.calendar_for(Schedule.objects.get(slug=rule["schedule"])).describe_es()
        out += [line for line in lines if line not in rule.get("label", "")]
    return out


def test_reference_file_loads_without_problems(loaded):
    assert loaded.created
    assert not loaded.updated and not loaded.deactivated


def test_business_hours_are_weekdays_7_to_19_and_saturday_8_to_13_with_colombian_holidays(loaded):
    habil = Schedule.objects.get(slug="horario-habil")
    assert habil.timezone == "America/Bogota"
    assert habil.holiday_country == "CO"
    assert habil.weekly == {
        "mon": ["07:00-19:00"],
        "tue": ["07:00-19:00"],
        "wed": ["07:00-19:00"],
        "thu": ["07:00-19:00"],
        "fri": ["07:00-19:00"],
        "sat": ["08:00-13:00"],
    }
    assert selectors.calendar_for(habil).describe_es() == [seed.WEEKDAYS, seed.SATURDAY]
    always = Schedule.objects.get(slug="24x7")
    assert always.always_open
    assert selectors.calendar_for(always).describe_es() == ["24/7"]


@pytest.mark.parametrize(
    ("slug", "kind", "address", "link", "attends", "hours", "description"),
    seed.CHANNELS,
    ids=[c[0] for c in seed.CHANNELS],
)
def test_every_channel_of_the_sheet_is_in_the_database(
    loaded, slug, kind, address, link, attends, hours, description
):
    channel = Channel.objects.get(slug=slug)
    assert channel.kind == kind
    assert channel.public and channel.active
    assert (channel.display_address or channel.address) == address
    assert channel.link == link
    assert channel.attends_label == attends
    assert channel.description == description
    assert _hours_as_on_the_sheet(channel) == hours


def test_channels_keep_the_order_of_the_sheet(loaded):
    public = Channel.objects.filter(public=True).order_by("position")
    assert [c.slug for c in public] == [c[0] for c in seed.CHANNELS]


def test_phone_and_whatsapp_addresses_are_stored_in_e164(loaded):
    addresses = dict(Channel.objects.values_list("slug", "address"))
    assert addresses["linea-bogota"] == "+576017442727"
    assert addresses["linea-nacional"] == "+5718000181531"
    assert addresses["whatsapp-monitoreo"] == "+573184872656"
    assert addresses["whatsapp-corporativo"] == "+573168731648"


def test_monitoring_whatsapp_attends_only_critical_incidents_round_the_clock(loaded):
    channel = Channel.objects.get(slug="whatsapp-monitoreo")
    assert channel.attends_request("incident", "critical")
    assert not channel.attends_request("incident", "high")
    assert not channel.attends_request("request", "critical")
    assert channel.schedule_slug_for("incident", "critical") == "24x7"


@pytest.mark.parametrize("slug", ["whatsapp-corporativo", "portal", "api"])
def test_incidents_are_attended_24x7_and_other_requests_in_business_hours(loaded, slug):
    channel = Channel.objects.get(slug=slug)
    assert channel.schedule_slug_for("incident", "low") == "24x7"
    assert channel.schedule_slug_for("request", "moderate") == "horario-habil"
    assert channel.schedule_slug_for("change", "critical") == "horario-habil"


@pytest.mark.parametrize("slug", ["linea-bogota", "linea-nacional", "correo"])
def test_phone_lines_and_email_attend_everything_in_business_hours(loaded, slug):
    channel = Channel.objects.get(slug=slug)
    assert channel.attends == "all"
    assert channel.schedule_slug_for("incident", "critical") == "horario-habil"


def test_portal_points_at_our_portal_and_remembers_the_sheets_url(loaded):
    portal = Channel.objects.get(slug="portal")
    assert portal.link == "/portal/"
    assert portal.settings["original_url"] == seed.ORIGINAL_PORTAL_URL


def test_api_channel_exists_but_is_not_public(loaded):
    api = Channel.objects.get(slug="api")
    assert api.kind == "api"
    assert not api.public and api.active


def test_channel_secrets_are_only_names_of_environment_variables(loaded):
    settings = dict(Channel.objects.values_list("slug", "settings"))
    assert settings["correo"] == {
        "imap_url_env": "ATIENDE_CORREO_IMAP_URL",
        "smtp_url_env": "ATIENDE_CORREO_SMTP_URL",
    }
    assert settings["whatsapp-monitoreo"] == {
        "phone_number_id_env": "ATIENDE_WA_MONITOREO_PHONE_NUMBER_ID",
        "oncall_whatsapp": "",
        "oncall_email": "",
    }
    assert settings["whatsapp-corporativo"] == {
        "phone_number_id_env": "ATIENDE_WA_CORPORATIVO_PHONE_NUMBER_ID"
    }


@pytest.mark.parametrize(("number", "name", "title", "responsible", "contacts"), seed.LEVELS)
def test_every_escalation_level_of_the_sheet_is_in_the_database(
    loaded, number, name, title, responsible, contacts
):
    level = EscalationLevel.objects.get(number=number)
    assert (level.name, level.title, level.responsible_name) == (name, title, responsible)
    shown = [
        c["label"]
        if c["kind"] == "url"
        else (f"{c['label']}: {c['value']}" if c["label"] else c["value"])
        for c in level.contacts
    ]
    assert shown == contacts


def test_first_level_is_the_technical_support_group(loaded):
    level = EscalationLevel.objects.get(number=1)
    assert level.group == SupportGroup.objects.get(slug="soporte-tecnico")
    assert level.group.email == "mesadeayuda@certicamara.com"
    assert {"kind": "url", "value": "/portal/", "label": "ServiceNow Cliente"} in level.contacts


def test_sla_targets_match_the_product_defaults(loaded):
    rows = {
        (t.type, t.priority): (
            t.first_response_seconds,
            t.resolution_seconds,
            t.schedule.slug if t.schedule else None,
        )
        for t in SlaTarget.objects.select_related("schedule")
    }
    assert rows == {(t, p): (f, r, s) for t, p, f, r, s in seed.SLA_TARGETS}


def test_site_settings_hold_the_provider_the_label_and_the_sheets_texts(loaded):
    assert site.get("organization.name") == "Certicámara"
    assert site.get("classification") == "public"
    assert (
        "Etiquetado: " + site.CLASSIFICATION_LABELS[site.get("classification")]
        == seed.CLASSIFICATION
    )
    assert site.get("texts.canales.intro") == seed.INTRO
    assert (
        site.get("texts.escalation.intro") + " " + site.get("texts.escalation.rule")
        == seed.ESCALATION_TEXT
    )
    assert site.get("texts.escalation.rule").startswith(
        "El responsable de cada nivel de escalamiento verificará"
    )
    for kind, title in seed.SECTIONS:
        assert site.get(f"texts.canales.section.{kind}") == title
