"""The block list and agents' phones are data an admin edits; calls are read-only there."""

import pytest

from atiende.channels.phone.models import AgentPhone, BlockedNumber, Call
from atiende.channels.phone.tests.conftest import event, run

pytestmark = pytest.mark.usefixtures("_frozen")


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_a_blocked_number_typed_the_local_way_is_stored_as_the_webhook_compares_it(
    admin, pbx, lines
):
    resp = admin.post(
        "/admin/phone/blockednumber/add/",
        {"number": "300 123 4567", "channel": lines["linea-bogota"].pk, "reason": "abuso"},
    )
    assert resp.status_code == 302, resp.content
    assert BlockedNumber.objects.get().number == "+573001234567"
    assert pbx.send(event("newCall")) == {"action": "reject", "reason": "busy"}
    assert (
        pbx.send(event("newCall", "c-2"), line="linea-nacional", token="token-nacional-de-prueba")
        == {}
    )


def test_withheld_numbers_are_blocked_as_anonymous(admin, lines):
    admin.post("/admin/phone/blockednumber/add/", {"number": "Private", "reason": "spam"})
    assert BlockedNumber.objects.get().number == "anonymous"


def test_an_agents_phone_is_stored_in_e164(admin, agent):
    resp = admin.post(
        "/admin/phone/agentphone/add/",
        {"user": agent.pk, "extension": "201", "phone": "300 999 0001"},
    )
    assert resp.status_code == 302, resp.content
    assert AgentPhone.objects.get().phone == "+573009990001"


def test_calls_are_shown_but_not_edited(admin, pbx):
    pbx.send(event("newCall"))
    run()
    call = Call.objects.get()
    assert admin.get("/admin/phone/call/").status_code == 200
    page = admin.get(f"/admin/phone/call/{call.pk}/change/")
    assert page.status_code == 200 and b"newCall" in page.content
    assert admin.get("/admin/phone/call/add/").status_code == 403
