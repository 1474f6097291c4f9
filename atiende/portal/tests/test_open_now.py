import datetime as dt
from zoneinfo import ZoneInfo

from atiende.core import clock

BOG = ZoneInfo("America/Bogota")


def _card(html: str, slug: str) -> str:
    start = html.index(f'id="canal-{slug}"')
    return html[start : html.index("</article>", start)]


def test_the_page_says_which_channels_are_open_now_and_when_the_others_open(client, reference):
    with clock.frozen(dt.datetime(2026, 11, 29, 12, 0, tzinfo=BOG)):  # Sunday noon
        html = client.get("/canales").content.decode()
    assert "Cerrado · abre el lunes 30 de noviembre a las 7:00 a. m." in _card(html, "linea-bogota")
    assert "Abierto ahora" in _card(html, "whatsapp-monitoreo")
    corporate = _card(html, "whatsapp-corporativo")
    incidents, requests = corporate.split('<li class="')[1:3]
    assert (
        incidents.startswith("open") and "Incidentes:" in incidents and "Abierto ahora" in incidents
    )
    assert requests.startswith("closed") and "Solicitudes:" in requests
    assert "abre el lunes 30 de noviembre a las 7:00 a. m." in requests


def test_in_business_hours_the_phone_lines_are_open(client, reference):
    with clock.frozen(dt.datetime(2026, 12, 1, 10, 0, tzinfo=BOG)):  # Tuesday morning
        html = client.get("/canales").content.decode()
    assert "Abierto ahora" in _card(html, "linea-nacional")
    assert "Cerrado" not in _card(html, "linea-nacional")


def test_the_page_chrome_is_available_in_english(client, reference):
    with clock.frozen(dt.datetime(2026, 11, 29, 12, 0, tzinfo=BOG)):
        client.cookies["django_language"] = "en"  # what the language switcher sets
        html = client.get("/canales").content.decode()
    assert '<html lang="en">' in html
    assert "Closed · opens Monday 30 November at 7:00 a.m." in html
    assert "Types of request" in html and "Open now" in html
    client.cookies.pop("django_language")
    spanish = client.get(
        "/canales", headers={"accept-language": "en-US"}
    ).content.decode()  # Spanish first
    assert '<html lang="es-CO">' in spanish and "Tipos de solicitudes" in spanish
