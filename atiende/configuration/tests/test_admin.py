"""The configuration in the Django admin: listed, validated like a file, edits audited."""

from __future__ import annotations

import json

import pytest

from atiende.core.models import AuditEntry
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user, loaded):
    client.force_login(admin_user)
    return client


def _channel_form(channel: Channel, **changes) -> dict:
    data = {
        "slug": channel.slug,
        "kind": channel.kind,
        "name": channel.name,
        "address": channel.address,
        "display_address": channel.display_address,
        "link": channel.link,
        "description": channel.description,
        "attends": json.dumps(channel.attends),
        "attends_label": channel.attends_label,
        "hours": json.dumps(channel.hours),
        "settings": json.dumps(channel.settings),
        "position": channel.position,
    }
    if channel.public:
        data["public"] = "on"
    if channel.active:
        data["active"] = "on"
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "model",
    [
        "sla/schedule",
        "sla/slatarget",
        "directory/channel",
        "escalations/escalationlevel",
        "configuration/setting",
    ],
)
def test_configuration_entities_are_listed_in_the_admin(admin_client, model):
    response = admin_client.get(f"/admin/{model}/")
    assert response.status_code == 200


def test_editing_a_channel_in_the_admin_is_audited_with_the_admin_as_actor(
    admin_client, admin_user
):
    channel = Channel.objects.get(slug="linea-bogota")
    form = _channel_form(channel, address="601 7442700", display_address="601 7442700")
    response = admin_client.post(f"/admin/directory/channel/{channel.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.address == "+576017442700"  # normalised like the loader does
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.actor) == ("channel.updated", admin_user)
    assert entry.changes == {
        "address": ["+576017442727", "+576017442700"],
        "display_address": ["601 7442727", "601 7442700"],
    }


def test_a_site_path_is_a_valid_channel_link_in_the_admin(admin_client):
    portal = Channel.objects.get(slug="portal")
    response = admin_client.post(
        f"/admin/directory/channel/{portal.pk}/change/", _channel_form(portal, name="Portal")
    )
    assert response.status_code == 302
    portal.refresh_from_db()
    assert (portal.name, portal.link) == ("Portal", "/portal/")


def test_admin_refuses_a_channel_edit_the_loader_would_refuse(admin_client):
    channel = Channel.objects.get(slug="correo")
    audits = AuditEntry.objects.count()
    hours = json.dumps([{"schedule": "horario-habl"}])
    settings = json.dumps({"imap_password": "Clave123"})
    response = admin_client.post(
        f"/admin/directory/channel/{channel.pk}/change/",
        _channel_form(channel, hours=hours, settings=settings),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "unknown schedule &#x27;horario-habl&#x27; (did you mean &#x27;horario-habil&#x27;?)"
        in page
    )
    assert "secrets never go in the file" in page
    channel.refresh_from_db()
    assert channel.hours == [{"schedule": "horario-habil"}]
    assert AuditEntry.objects.count() == audits


def test_admin_refuses_an_invalid_escalation_contact(admin_client):
    level = EscalationLevel.objects.get(number=4)
    contacts = json.dumps([{"kind": "phone", "value": "32221", "label": "Teléfono móvil"}])
    data = {
        "number": 4,
        "name": level.name,
        "title": level.title,
        "responsible_name": level.responsible_name,
        "contacts": contacts,
        "group": "",
    }
    response = admin_client.post(f"/admin/escalations/escalationlevel/{level.pk}/change/", data)
    assert response.status_code == 200
    assert "&#x27;32221&#x27; is not a valid phone number" in response.content.decode()


def test_deleting_a_setting_in_the_admin_is_audited(admin_client, admin_user):
    from atiende.configuration.models import Setting

    setting = Setting.objects.get(key="texts.canales.title")
    response = admin_client.post(
        f"/admin/configuration/setting/{setting.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.actor, entry.object_id) == (
        "setting.deleted",
        admin_user,
        str(setting.pk),
    )
    assert entry.changes["value"] == ["Canales de atención", None]
