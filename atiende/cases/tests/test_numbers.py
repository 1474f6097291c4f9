"""Case numbers: formatted and found in one module."""

import pytest

from atiende.cases import numbers


def test_a_number_is_cs_and_seven_digits():
    assert numbers.format_number(1) == "CS0000001"
    assert numbers.format_number(1234567) == "CS1234567"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("¿cómo va el cs0000123?", "CS0000123"),
        ("Re: [CS0000123] Factura", "CS0000123"),
        ("CS00001234 tiene ocho cifras", None),
        ("CS 0000123", None),  # in free text only the one-word form counts
        ("", None),
        (None, None),
    ],
)
def test_a_number_is_found_in_text_as_one_word(text, found):
    assert numbers.find_in_text(text) == found


@pytest.mark.parametrize(
    ("subject", "found"),
    [
        ("Re: [CS0000123] Factura", "CS0000123"),
        ("RE: caso CS 0000123", "CS0000123"),
        ("cs#0000042 sigue igual", "CS0000042"),
        ("CS-0000042", "CS0000042"),
        ("Sin caso", None),
    ],
)
def test_a_subject_tag_may_be_written_loosely(subject, found):
    assert numbers.find_tag(subject) == found


def test_numbers_are_looked_up_as_stored():
    assert numbers.normalise(" cs0000007 ") == "CS0000007"
    assert numbers.looks_like("cs00") and not numbers.looks_like("factura")
