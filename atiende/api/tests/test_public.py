import datetime as dt
from zoneinfo import ZoneInfo

from atiende.core import clock
from atiende.escalations.models import EscalationLevel

BOG = ZoneInfo("America/Bogota")
SUNDAY_NOON = dt.datetime(2026, 11, 29, 12, 0, tzinfo=BOG)


def test_channels_are_public_and_list_only_public_active_channels(api, make_channel):
    make_channel(
        "whatsapp-monitoreo",
        "whatsapp",
        name="Centro de Monitoreo",
        address="+573184872656",
        display_address="+57 318 487 2656",
        link="https://wa.me/573184872656",
        description="Notificación de incidentes críticos",
        attends=[{"type": "incident", "priority": "critical"}],
        attends_label="Incidentes críticos",
        hours=[{"schedule": "24x7"}],
        position=1,
        settings={"token_env": "WA_TOKEN"},
    )
    make_channel("apagado", "phone", active=False)
    with clock.frozen(SUNDAY_NOON):
        response = api.get("/channels")
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["items"]] == ["portal", "whatsapp-monitoreo"]  # api is not public
    assert body["count"] == 2
    assert body["items"][1] == {
        "id": "whatsapp-monitoreo",
        "kind": "whatsapp",
        "name": "Centro de Monitoreo",
        "address": "+573184872656",
        "display_address": "+57 318 487 2656",
        "link": "https://wa.me/573184872656",
        "description": "Notificación de incidentes críticos",
        "attends": [{"type": "incident", "priority": "critical"}],
        "attends_label": "Incidentes críticos",
        "hours": [
            {
                "schedule": "24x7",
                "open_now": True,
                "next_opening": "2026-11-29T12:00:00-05:00",
                "hours_es": ["24/7"],
            }
        ],
        "open_now": True,
        "next_opening": "2026-11-29T12:00:00-05:00",
    }


def test_channels_say_per_kind_of_request_whether_they_are_open_and_when_they_open(api, portal):
    with clock.frozen(SUNDAY_NOON):
        [listed] = api.get("/channels").json()["items"]
    incidents, requests = listed["hours"]
    assert incidents["when"] == {"type": "incident"} and incidents["open_now"] is True
    assert requests["open_now"] is False
    assert requests["next_opening"] == "2026-11-30T07:00:00-05:00"  # Monday opening
    assert listed["open_now"] is True


def test_channels_never_reveal_their_settings(api, make_channel):
    make_channel("correo-x", "email", settings={"password_env": "IMAP_PASSWORD"})
    assert "IMAP_PASSWORD" not in api.get("/channels").content.decode()


def test_escalation_levels_are_public_and_in_order(api, db):
    EscalationLevel.objects.create(
        number=2,
        name="Segundo escalamiento",
        title="Supervisor de servicio de soporte técnico",
        responsible_name="Orlando Méndez",
        contacts=[{"kind": "email", "value": "orlando.mendez@certicamara.com"}],
    )
    EscalationLevel.objects.create(
        number=1, name="Primer escalamiento", title="Grupo de soporte técnico"
    )
    response = api.get("/escalation-levels")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [level["number"] for level in body["items"]] == [1, 2]
    assert body["items"][1] == {
        "number": 2,
        "name": "Segundo escalamiento",
        "title": "Supervisor de servicio de soporte técnico",
        "responsible_name": "Orlando Méndez",
        "contacts": [{"kind": "email", "value": "orlando.mendez@certicamara.com"}],
    }
