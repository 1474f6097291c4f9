"""`{{ number|tel }}`: a phone number as a `tel:` link the agent's softphone dials.

The link is E.164 (`tel:+576017442727`); the text is the number the way people in Colombia
write it (`(601) 7442727`, `300 1234567`), and the international form for other countries.
A number that cannot be read (a withheld caller, a typo) is shown as written, without a
link. Load with `{% load phone_links %}`; `{{ number|tel_display }}` gives the text only.
"""

from __future__ import annotations

import phonenumbers
from django import template
from django.utils.html import format_html

from atiende.customers.phones import COUNTRY_CODE, normalize

register = template.Library()


def _parsed(value) -> phonenumbers.PhoneNumber | None:
    text = str(value or "").strip()
    if not text:
        return None
    e164 = text if text.startswith("+") else normalize(text).e164
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _display(number: phonenumbers.PhoneNumber) -> str:
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if str(number.country_code) == COUNTRY_CODE
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


@register.filter
def tel_display(value) -> str:
    number = _parsed(value)
    return _display(number) if number else str(value or "")


@register.filter(is_safe=True)
def tel(value):
    """`<a class="tel" href="tel:+57…">(601) 7442727</a>`, or the escaped text as written."""
    number = _parsed(value)
    if number is None:
        return format_html("{}", str(value or ""))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return format_html('<a class="tel" href="tel:{}">{}</a>', e164, _display(number))
