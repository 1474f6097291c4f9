"""The numbering table of the CTI spec (§7) and the legacy Colombian forms PBXs send."""

import pytest

from atiende.customers.phones import normalize, to_e164


@pytest.mark.parametrize(
    ("raw", "e164", "kind"),
    [
        # today's plan, as libphonenumber reads it (spec §7, checked with phonenumbers 9.0.43)
        ("6012281260", "+576012281260", "fixed"),
        ("601 228 1260", "+576012281260", "fixed"),
        ("(601) 2281260", "+576012281260", "fixed"),
        ("57 601 2281260", "+576012281260", "fixed"),
        ("6045551234", "+576045551234", "fixed"),
        ("3123456789", "+573123456789", "mobile"),
        ("+57 312 345 6789", "+573123456789", "mobile"),
        ("01 8000 123456", "+5718000123456", "toll_free"),
        ("018000123456", "+5718000123456", "toll_free"),
        # the legacy forms libphonenumber gets wrong or calls invalid, with our rules
        ("2281260", "+576012281260", "fixed"),  # 7-digit Bogotá number
        ("228 1260", "+576012281260", "fixed"),
        ("031 2281260", "+576012281260", "fixed"),  # 03 + zone + number (from a mobile)
        ("0313123456789", "+573123456789", "mobile"),  # 03(1) + mobile
        ("033123456789", "+573123456789", "mobile"),  # 03 + mobile (fixed to mobile)
        ("00573123456789", "+573123456789", "mobile"),  # 00 is not read as international in CO
        ("+57 1 228 1260", "+576012281260", "fixed"),  # old 8-digit national after +57
        ("571 2281260", "+576012281260", "fixed"),
        ("0712281260", "+576012281260", "fixed"),  # long distance through carrier 7
        ("0912281260", "+576012281260", "fixed"),  # carrier 9
        ("0456 4 5551234", "+576045551234", "fixed"),  # carrier 456 to Antioquia
        ("93123456789", "+573123456789", "mobile"),  # trunk-access digit 9
        ("96017442727", "+576017442727", "fixed"),
        ("573184872656", "+573184872656", "mobile"),  # country code without '+'
        ("493055571600", "+493055571600", "fixed"),  # a foreign number without '+'
        ("+1 202 555 0143", "+12025550143", "fixed"),
        ("01 8000 181531", "+5718000181531", "toll_free"),
    ],
)
def test_the_numbering_table(raw, e164, kind):
    number = normalize(raw)
    assert (number.e164, number.kind, number.raw) == (e164, kind, raw)


def test_a_line_in_another_zone_reads_7_digit_numbers_there():
    assert normalize("5551234", zone="4").e164 == "+576045551234"


@pytest.mark.parametrize("raw", ["anonymous", "Anonymous", "private", "", "  ", "unknown"])
def test_withheld_numbers_are_anonymous_and_keep_the_raw_string(raw):
    number = normalize(raw)
    assert number.e164 is None and number.anonymous and number.raw == raw


@pytest.mark.parametrize("raw", ["12", "abc", "+", "999999999999999999", "0000000"])
def test_what_is_no_number_is_invalid(raw):
    number = normalize(raw)
    assert (number.e164, number.kind) == (None, "invalid")


def test_contacts_get_the_same_rules():
    # the contacts API and channel intake store numbers through to_e164
    assert to_e164("228 1260") == "+576012281260"
    assert to_e164("033123456789") == "+573123456789"
