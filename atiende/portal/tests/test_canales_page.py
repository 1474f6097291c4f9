"""The public page "Canales de atención" shows every fact of the customer's channel sheet."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from atiende.configuration import loader
from atiende.configuration.tests import seed_facts as seed
from atiende.directory.models import Channel

REFERENCE = Path(django_settings.DEFAULT_CONFIG)

pytestmark = pytest.mark.django_db


def _text(fragment: str) -> str:
    """What a reader sees: tags removed, entities decoded, whitespace collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", fragment.replace("<wbr>", ""))
    return re.sub(r"\s+", " ", html.unescape(without_tags)).strip()


def _element(page: str, element_id: str, tag: str) -> str:
    match = re.search(rf'<{tag}[^>]*id="{element_id}".*?</{tag}>', page, re.S)
    assert match, f"no <{tag} id={element_id!r}> on the page"
    return match.group(0)


@pytest.fixture
def page(client):
    loader.load(REFERENCE)
    response = client.get("/canales")
    assert response.status_code == 200
    return response.content.decode()


def test_page_is_public_spanish_and_titled(page):
    assert '<html lang="es-CO">' in page
    assert "<h1>Canales de atención</h1>" in page
    assert seed.INTRO in _text(page)


def test_page_shows_the_classification_label(page):
    assert seed.CLASSIFICATION in _text(page)


def test_sections_follow_the_sheets_order(page):
    text = _text(page)
    positions = [text.index(title) for _, title in seed.SECTIONS]
    assert positions == sorted(positions)
    assert text.index(seed.SECTIONS[-1][1]) < text.index(seed.ESCALATION_TITLE)


def test_column_headings_of_the_sheet_are_shown(page):
    text = _text(page)
    for heading in [*seed.COLUMN_HEADINGS, *seed.ESCALATION_HEADINGS]:
        assert heading in text


@pytest.mark.parametrize(
    ("slug", "kind", "address", "link", "attends", "hours", "description"),
    seed.CHANNELS,
    ids=[c[0] for c in seed.CHANNELS],
)
def test_every_channel_shows_its_address_requests_hours_and_description(
    page, slug, kind, address, link, attends, hours, description
):
    card = _element(page, f"canal-{slug}", "article")
    text = _text(card)
    expected = [fact for fact in (link, address, attends, *hours, description) if fact]
    for fact in expected:
        assert fact in text, f"{fact!r} missing from {slug}"
    # in the order of the sheet's columns (a WhatsApp line leads with its link)
    positions = [text.index(fact) for fact in expected]
    assert positions == sorted(positions)


def test_numbers_addresses_and_links_are_clickable(page):
    page = page.replace("<wbr>", "")
    assert '<a href="tel:+576017442727">601 7442727</a>' in page
    assert '<a href="tel:+5718000181531">01 8000 181531</a>' in page
    assert '<a href="mailto:mesadeayuda@certicamara.com">mesadeayuda@certicamara.com</a>' in page
    assert '<a href="https://wa.me/573184872656">https://wa.me/573184872656</a>' in page
    assert '<a href="https://wa.me/573168731648">https://wa.me/573168731648</a>' in page
    assert '<a href="/portal/">http://testserver/portal/</a>' in page


def test_long_email_addresses_may_wrap_after_the_at_sign(page):
    assert "supervisor.mesadeayuda@<wbr>certicamara.com" in page


def test_the_api_channel_is_not_shown(page):
    assert 'id="canal-api"' not in page


def test_escalation_rule_and_matrix_are_shown(page):
    section = _text(_element(page, "escalamiento", "section"))
    assert seed.ESCALATION_TEXT in section
    for number, name, title, responsible, contacts in seed.LEVELS:
        row = _text(_element(page, f"nivel-{number}", "tr"))
        for fact in (name, title, responsible, *contacts):
            assert fact in row, f"{fact!r} missing from level {number}"


def test_escalation_contacts_link_to_their_channel(page):
    page = page.replace("<wbr>", "")
    row = _element(page, "nivel-1", "tr")
    assert '<a href="mailto:mesadeayuda@certicamara.com">mesadeayuda@certicamara.com</a>' in row
    assert '<a href="tel:+576017442727">Teléfono fijo: 6017442727</a>' in row
    assert '<a href="https://wa.me/573168731648">WhatsApp: 3168731648</a>' in row
    assert '<a href="/portal/">ServiceNow Cliente</a>' in row
    assert '<a href="https://wa.me/573187174937">Celular/WhatsApp: 3187174937</a>' in page
    assert '<a href="tel:+573222197967">Teléfono móvil: 3222197967</a>' in page


def test_page_follows_the_database_not_the_file(page, client):
    Channel.objects.filter(slug="linea-bogota").update(display_address="601 0000000")
    Channel.objects.filter(slug="correo").update(active=False)
    text = _text(client.get("/canales").content.decode())
    assert "601 0000000" in text
    assert "601 7442727" not in text
    assert seed.SECTIONS[1][1] not in text  # no active email channel left: no email section


def test_page_without_configuration_still_renders(client):
    response = client.get("/canales")
    assert response.status_code == 200
    assert "Canales de atención" in response.content.decode()


def test_trailing_slash_redirects_to_the_page(client):
    response = client.get("/canales/")
    assert response.status_code == 301
    assert response["Location"] == "/canales"


def test_home_links_to_the_channels_page_the_portal_and_the_admin(client):
    page = client.get("/").content.decode()
    for href in ('href="/canales"', 'href="/portal/"', 'href="/admin/"'):
        assert href in page


def test_stylesheet_is_served(page, client):
    match = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert match
    response = client.get(match.group(1))
    assert response.status_code == 200
