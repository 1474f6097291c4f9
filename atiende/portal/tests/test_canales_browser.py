"""/canales in a real browser at a phone's size: everything shows, nothing overflows."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from atiende.configuration import loader
from atiende.configuration.tests import seed_facts as seed
from atiende.core.tests.browser import chromium, new_page

REFERENCE = Path(django_settings.DEFAULT_CONFIG)

SCREENSHOT = "/tmp/canales-phone.png"


@pytest.fixture
def chromium_page():
    with chromium() as browser:
        yield new_page(
            browser, width=390, height=844, device_scale_factor=2, is_mobile=True, has_touch=True
        )


@pytest.mark.django_db(transaction=True)
def test_channels_page_reads_on_a_phone_without_horizontal_scrolling(live_server, chromium_page):
    loader.load(REFERENCE)
    page = chromium_page
    page.goto(f"{live_server.url}/canales")

    assert page.locator("h1").inner_text() == "Canales de atención"
    for slug, *_ in seed.CHANNELS:
        assert page.locator(f"#canal-{slug}").is_visible()
    body = page.locator("body").inner_text()
    for fact in (
        "601 7442727",
        "01 8000 181531",
        "mesadeayuda@certicamara.com",
        "INCIDENTES CRÍTICOS",
        "https://wa.me/573168731648",
        "Orlando Méndez",
        seed.CLASSIFICATION,
    ):
        assert fact in body
    # The stylesheet is served and applied (cards have a border radius).
    radius = page.locator("#canal-correo").evaluate("e => getComputedStyle(e).borderTopLeftRadius")
    assert radius == "10px"

    overflow = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert overflow["scroll"] <= overflow["inner"], overflow
    page.screenshot(path=SCREENSHOT, full_page=True)
