"""The one text-template helper: a configured wording, else the default, filled."""

import pytest

from atiende.core.text import fill, text

DEFAULTS = {"ack": "Su caso es el {number}."}


def test_the_configured_wording_wins_over_the_default():
    assert text("ack", custom="Caso {number} recibido.", defaults=DEFAULTS, number="CS1") == (
        "Caso CS1 recibido."
    )


def test_without_a_configured_wording_the_default_is_used():
    assert text("ack", custom="", defaults=DEFAULTS, number="CS1") == "Su caso es el CS1."
    assert text("ack", custom=None) == ""


def test_an_unknown_default_is_a_programming_error():
    with pytest.raises(KeyError):
        text("nope", defaults=DEFAULTS)


def test_unknown_placeholders_and_stray_braces_are_left_as_written():
    assert fill("{number} {who} {", number="CS1") == "CS1 {who} {"
