"""A phone line's settings as the configuration loader checks them."""

import pytest

from atiende.channels.phone import options


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"allowed_addresses": "10.0.0.5, 192.168.1.0/24, ::1"}, None),
        ({"allowed_addresses": "10.0.0.300"}, "allowed_addresses"),
        ({"allowed_addresses": "pbx.example.co"}, "allowed_addresses"),
        ({"ring_timeout_minutes": 10, "callback_join_minutes": 60}, None),
        ({"ring_timeout_minutes": 0}, "ring_timeout_minutes"),
        ({"ring_timeout_minutes": True}, "ring_timeout_minutes"),
        ({"callback_join_minutes": "60"}, "callback_join_minutes"),
        ({"local_zone": 4}, None),
        ({"local_zone": "9"}, "local_zone"),
        ({"tokne_env": "X"}, None),  # *_env names are the loader's to check
        ({"alowed_addresses": "10.0.0.1"}, "alowed_addresses"),
    ],
)
def test_phone_settings_are_checked(given, problem):
    found = options.check(given)
    assert [key for key, _ in found] == ([problem] if problem else [])


def test_a_misspelt_setting_gets_a_suggestion():
    [(_, message)] = options.check({"ring_timeout": 5})
    assert "ring_timeout_minutes" in message


def test_the_loader_refuses_a_line_with_bad_settings(db, tmp_path):
    from pathlib import Path

    from django.conf import settings

    from atiende.configuration import loader

    text = Path(settings.DEFAULT_CONFIG).read_text(encoding="utf-8")
    assert "token_env: ATIENDE_CTI_LINEA_BOGOTA_TOKEN" in text
    assert "token_env: ATIENDE_CTI_LINEA_NACIONAL_TOKEN" in text
    bad = text.replace(
        "token_env: ATIENDE_CTI_LINEA_BOGOTA_TOKEN",
        "token_env: ATIENDE_CTI_LINEA_BOGOTA_TOKEN\n      ring_timeout_minutes: nunca",
    )
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(loader.ConfigurationError) as err:
        loader.load(path)
    assert err.value.problems == [
        "bad.yaml: channels[0].settings.ring_timeout_minutes: "
        "expected a whole number of minutes from 1 to 1440"
    ]
    secret = text.replace("token_env: ATIENDE_CTI_LINEA_BOGOTA_TOKEN", "token_env: s3cr3t-t0k3n")
    path.write_text(secret, encoding="utf-8")
    with pytest.raises(loader.ConfigurationError) as err:
        loader.load(path)
    assert any("token_env" in p for p in err.value.problems)


def test_the_reference_lines_name_their_token_variables(reference):
    from atiende.directory.models import Channel

    assert Channel.objects.get(slug="linea-bogota").settings == {
        "token_env": "ATIENDE_CTI_LINEA_BOGOTA_TOKEN"
    }
    assert Channel.objects.get(slug="linea-nacional").settings == {
        "token_env": "ATIENDE_CTI_LINEA_NACIONAL_TOKEN"
    }
