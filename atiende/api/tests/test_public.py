from atiende.escalations.models import EscalationLevel


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
        "hours": [{"schedule": "24x7"}],
    }


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
