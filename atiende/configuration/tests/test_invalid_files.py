"""Invalid files: each problem is named with the file, the field and what is wrong, every
problem is reported at once, and nothing is written."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings

from atiende.configuration import loader
from atiende.configuration.tests.state import config_state
from atiende.core.models import AuditEntry

REFERENCE = Path(django_settings.DEFAULT_CONFIG)

pytestmark = pytest.mark.django_db

REFERENCE_DATA = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))


def _channel(data: dict, slug: str) -> dict:
    return next(c for c in data["channels"] if c["slug"] == slug)


def _problems(tmp_path: Path, change=None, *, text: str | None = None) -> list[str]:
    """Load the reference file altered by `change` (or `text`) as broken.yaml; it must fail
    and leave the database as it was."""
    if text is None:
        data = copy.deepcopy(REFERENCE_DATA)
        change(data)
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    before, audits = config_state(), AuditEntry.objects.count()
    with pytest.raises(loader.ConfigurationError) as caught:
        loader.load(path)
    assert config_state() == before, "an invalid file must not write anything"
    assert AuditEntry.objects.count() == audits
    assert str(caught.value).startswith("broken.yaml: ")
    return caught.value.problems


def test_unknown_schedule_in_a_channels_hours_is_named_with_its_path(tmp_path):
    problems = _problems(tmp_path, lambda d: d["channels"][3]["hours"][0].update(schedule="x"))
    assert problems == [
        "broken.yaml: channels[3].hours[0].schedule: unknown schedule 'x' (defined: 24x7, horario-habil)"
    ]


def test_misspelt_key_is_refused_with_a_suggestion(tmp_path):
    def change(d):
        d["channels"][0]["descripton"] = d["channels"][0].pop("description")

    problems = _problems(tmp_path, change)
    assert problems == [
        "broken.yaml: channels[0].descripton: unknown key 'descripton' (did you mean 'description'?)"
    ]


def test_unknown_top_level_section_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d.update(chanels=[]))
    assert problems == ["broken.yaml: chanels: unknown key 'chanels' (did you mean 'channels'?)"]


def test_unknown_channel_kind_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["channels"][0].update(kind="fax"))
    assert problems == [
        "broken.yaml: channels[0].kind: unknown value 'fax' (expected one of: phone, email, whatsapp, portal, api, internal)"
    ]


def test_unknown_timezone_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["schedules"][0].update(timezone="America/Bogata"))
    assert problems == [
        "broken.yaml: schedules[0].timezone: unknown timezone 'America/Bogata' (use an IANA name like America/Bogota)"
    ]


def test_malformed_interval_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["schedules"][0]["weekly"].update(mon=["7-19"]))
    assert len(problems) == 1
    assert problems[0].startswith("broken.yaml: schedules[0].weekly.mon: invalid time of day '7'")


def test_intervals_out_of_order_are_refused(tmp_path):
    problems = _problems(
        tmp_path, lambda d: d["schedules"][0]["weekly"].update(sat=["12:00-13:00", "08:00-10:00"])
    )
    assert len(problems) == 1
    assert problems[0].startswith(
        "broken.yaml: schedules[0].weekly.sat: intervals must be sorted and non-overlapping"
    )


def test_interval_ending_before_it_starts_is_refused(tmp_path):
    problems = _problems(
        tmp_path, lambda d: d["schedules"][0]["weekly"].update(fri=["19:00-07:00"])
    )
    assert len(problems) == 1
    assert problems[0].startswith("broken.yaml: schedules[0].weekly.fri: ")
    assert "start < end" in problems[0]


def test_unknown_weekday_is_refused(tmp_path):
    problems = _problems(
        tmp_path, lambda d: d["schedules"][0]["weekly"].update(sab=["08:00-13:00"])
    )
    assert problems == [
        "broken.yaml: schedules[0].weekly.sab: unknown key 'sab' (did you mean 'sat'?); weekdays are mon, tue, …, sun"
    ]


def test_unknown_holiday_country_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["schedules"][0].update(holiday_country="XX"))
    assert problems == [
        "broken.yaml: schedules[0].holiday_country: unknown holiday country 'XX' "
        "(use an ISO 3166 code the holidays library knows, like CO)"
    ]


def test_malformed_duration_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["sla_targets"][1].update(first_response="1 hour"))
    assert problems == [
        "broken.yaml: sla_targets[1].first_response: invalid duration '1 hour': write e.g. '15m', '4h' or '1h30m'"
    ]


def test_durations_in_days_are_refused_as_ambiguous(tmp_path):
    problems = _problems(tmp_path, lambda d: d["sla_targets"][3].update(resolution="5d"))
    assert problems == [
        "broken.yaml: sla_targets[3].resolution: invalid duration '5d': write e.g. '15m', '4h' or '1h30m' "
        "(business days are ambiguous: write hours, e.g. '40h')"
    ]


def test_secret_in_place_of_an_environment_variable_name_is_refused(tmp_path):
    problems = _problems(
        tmp_path,
        lambda d: _channel(d, "correo")["settings"].update(
            imap_url_env="imaps://mesa:Clave123@imap.example.com"
        ),
    )
    assert problems == [
        "broken.yaml: channels[2].settings.imap_url_env: must be the NAME of an environment variable "
        "(like ATIENDE_CORREO_IMAP_URL); this value looks like a secret, and secrets never go in the file"
    ]


def test_secret_setting_written_in_the_file_is_refused(tmp_path):
    problems = _problems(
        tmp_path,
        lambda d: _channel(d, "whatsapp-corporativo")["settings"].update(access_token="EAAG123"),
    )
    assert problems == [
        "broken.yaml: channels[4].settings.access_token: secrets never go in the file: put the value in "
        "an environment variable and write its name under 'access_token_env'"
    ]


def test_url_with_a_password_in_the_settings_is_refused(tmp_path):
    problems = _problems(
        tmp_path,
        lambda d: _channel(d, "correo")["settings"].update(
            imap_url="imaps://mesa:Clave123@imap.example.com"
        ),
    )
    assert problems == [
        "broken.yaml: channels[2].settings.imap_url: this URL carries a password: put the URL in an "
        "environment variable and write its name under 'imap_url_env'"
    ]


def test_escalation_levels_with_a_gap_are_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["escalation_levels"][3].update(number=5))
    assert problems == [
        "broken.yaml: escalation_levels: levels must be numbered 1, 2, 3… without gaps, got [1, 2, 3, 5]",
    ]


def test_repeated_escalation_level_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["escalation_levels"][1].update(number=1))
    assert (
        problems[0]
        == "broken.yaml: escalation_levels[1]: duplicate level 1 (also at escalation_levels[0])"
    )


def test_invalid_phone_number_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["channels"][0].update(address="601 74427"))
    assert problems == ["broken.yaml: channels[0].address: '601 74427' is not a valid phone number"]


def test_invalid_contact_phone_of_an_escalation_level_is_refused(tmp_path):
    problems = _problems(
        tmp_path, lambda d: d["escalation_levels"][3]["contacts"][1].update(value="32221")
    )
    assert problems == [
        "broken.yaml: escalation_levels[3].contacts[1].value: '32221' is not a valid phone number"
    ]


def test_invalid_email_address_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["channels"][2].update(address="mesadeayuda@"))
    assert problems == [
        "broken.yaml: channels[2].address: 'mesadeayuda@' is not a valid email address"
    ]


def test_whatsapp_link_to_another_number_is_refused(tmp_path):
    problems = _problems(
        tmp_path, lambda d: d["channels"][3].update(link="https://wa.me/573168731648")
    )
    assert problems == [
        "broken.yaml: channels[3].link: https://wa.me/573168731648 points to another number than the address +573184872656"
    ]


def test_number_written_without_quotes_is_refused_with_a_hint(tmp_path):
    problems = _problems(tmp_path, lambda d: d["channels"][0].update(address=6017442727))
    assert problems == [
        'broken.yaml: channels[0].address: expected text, got a number (6017442727) (quote numbers: "601 7442727")'
    ]


def test_position_is_refused_because_the_list_order_gives_it(tmp_path):
    problems = _problems(tmp_path, lambda d: d["channels"][0].update(position=3))
    assert problems == [
        "broken.yaml: channels[0].position: unknown key 'position': the order of the list gives the position"
    ]


def test_duplicate_channel_id_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["channels"][1].update(slug="linea-bogota"))
    assert problems == [
        "broken.yaml: channels[1]: duplicate channel 'linea-bogota' (also at channels[0])"
    ]


def test_last_hours_rule_must_apply_to_every_request(tmp_path):
    problems = _problems(
        tmp_path, lambda d: d["channels"][0]["hours"][0].update(when={"type": "incident"})
    )
    assert problems == [
        "broken.yaml: channels[0].hours[0].when: the last rule must have no 'when', so every request has hours"
    ]


def test_unknown_text_key_is_refused(tmp_path):
    problems = _problems(tmp_path, lambda d: d["texts"].update({"canales.intor": "Hola"}))
    assert problems == [
        "broken.yaml: texts.canales.intor: unknown key 'canales.intor' (did you mean 'canales.intro'?)"
    ]


def test_required_sections_and_fields_are_named(tmp_path):
    def change(d):
        del d["escalation_levels"]
        del d["channels"][0]["name"]

    problems = _problems(tmp_path, change)
    assert problems == [
        "broken.yaml: escalation_levels: required",
        "broken.yaml: channels[0].name: required",
    ]


def test_every_problem_is_reported_at_once(tmp_path):
    def change(d):
        d["channels"][0]["kind"] = "fax"
        d["schedules"][0]["timezone"] = "Mars/Olympus"
        d["sla_targets"][0]["resolution"] = "soon"
        d["escalation_levels"][2]["contacts"][0]["value"] = "no-es-un-correo"

    problems = _problems(tmp_path, change)
    assert [p.split(": ")[1] for p in problems] == [
        "schedules[0].timezone",
        "sla_targets[0].resolution",
        "channels[0].kind",
        "escalation_levels[2].contacts[0].value",
    ]


def test_yaml_syntax_error_names_the_line(tmp_path):
    problems = _problems(tmp_path, text="schedules:\n  - slug: a\n   name: b\n")
    assert len(problems) == 1
    assert problems[0].startswith("broken.yaml: line 3, column 4: not valid YAML: ")


def test_key_given_twice_is_refused(tmp_path):
    text = REFERENCE.read_text(encoding="utf-8").replace(
        "organization:\n  name: Certicámara\n", "organization:\n  name: Certicámara\n  name: Otra\n"
    )
    problems = _problems(tmp_path, text=text)
    assert problems == ["broken.yaml: line 9, column 3: not valid YAML: duplicate key 'name'"]


def test_invalid_file_over_a_loaded_configuration_changes_nothing(tmp_path):
    loader.load(REFERENCE)

    def change(d):
        d["channels"][0]["kind"] = "fax"
        d["schedules"][0]["timezone"] = "Bogota"

    assert len(_problems(tmp_path, change)) == 2


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(loader.ConfigurationError) as caught:
        loader.load(tmp_path / "nowhere.yaml")
    assert "nowhere.yaml: cannot read" in str(caught.value)


@pytest.mark.parametrize("link", ["javascript:alert(1)", "//otro.example/portal", "portal/"])
def test_link_that_is_neither_a_web_address_nor_a_path_on_this_site_is_refused(tmp_path, link):
    problems = _problems(tmp_path, lambda d: _channel(d, "portal").update(link=link))
    assert len(problems) == 1
    assert problems[0].startswith(f"broken.yaml: channels[5].link: {link!r} is not ")


def test_a_five_level_ladder_loads_and_sets_the_top(tmp_path):
    from atiende.escalations import selectors
    from atiende.escalations.models import EscalationLevel

    data = copy.deepcopy(REFERENCE_DATA)
    data["escalation_levels"].append(
        {"number": 5, "name": "Quinto escalamiento", "title": "Gerencia", "contacts": []}
    )
    path = tmp_path / "five.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loader.load(path)
    assert list(EscalationLevel.objects.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert selectors.top_level() == 5


# --- Customer organizations: the email-domain rules of the API and the admin ------------


def _with_organizations(*organizations):
    def change(data):
        data["customer_organizations"] = list(organizations)

    return change


def test_a_free_mail_domain_for_an_organization_is_refused(tmp_path):
    problems = _problems(
        tmp_path,
        _with_organizations({"slug": "initech", "name": "Initech", "email_domains": ["gmail.com"]}),
    )
    assert len(problems) == 1
    assert problems[0].startswith("broken.yaml: customer_organizations[0].email_domains: ")
    assert "gmail.com es un dominio de correo gratuito" in problems[0]


def test_another_organizations_domain_is_refused(tmp_path, acme):
    problems = _problems(
        tmp_path,
        _with_organizations(
            {"slug": "initech", "name": "Initech", "email_domains": ["acme.com.co"]},
            {"slug": "hooli", "name": "Hooli", "email_domains": ["hooli.com"]},
            {"slug": "pied", "name": "Pied Piper", "email_domains": ["hooli.com"]},
        ),
    )
    assert len(problems) == 2, problems
    assert problems[0].startswith("broken.yaml: customer_organizations[0].email_domains: ")
    assert "ya es de la organización ACME" in problems[0]
    assert problems[1] == (
        "broken.yaml: customer_organizations[2].email_domains: email domain 'hooli.com' is "
        "also listed for organization 'hooli': a domain belongs to one organization"
    )


def test_customer_organizations_load_through_the_service_and_export_back(tmp_path, acme):
    from atiende.configuration import exporter
    from atiende.customers.models import Organization

    data = copy.deepcopy(REFERENCE_DATA)
    data["customer_organizations"] = [
        {"slug": "acme", "name": "ACME S.A.S.", "email_domains": ["acme.com.co", "acme.co"]},
        {"slug": "initech", "name": "Initech", "email_domains": ["Initech.com"]},
    ]
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    report = loader.load(path)
    assert Organization.objects.get(slug="initech").email_domains == ["initech.com"]
    assert Organization.objects.get(slug="acme").email_domains == ["acme.com.co", "acme.co"]
    assert AuditEntry.objects.filter(action="organization.created").count() == 2  # acme too
    assert {(c.key, c.action) for c in report.entries if c.entity == "organization"} == {
        ("acme", "updated"),
        ("initech", "created"),
    }
    again = loader.load(exporter.export(), name="export.yaml")
    assert {c.action for c in again.entries if c.entity == "organization"} == {"unchanged"}
