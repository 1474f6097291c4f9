"""Every notification is made in one place, with phone numbers in E.164."""

import pytest

from atiende.channels import services
from atiende.channels.models import Notification
from atiende.customers.phones import notification_address


@pytest.mark.parametrize(
    "written", ["318 717 4937", "3187174937", "573187174937", "+57 318 717 4937"]
)
def test_a_notified_phone_number_is_stored_in_e164(written):
    assert notification_address(written) == "+573187174937"


def test_an_email_address_is_kept_and_an_unparseable_number_too():
    assert notification_address("Nelson@Mesa.test") == "Nelson@Mesa.test"
    assert notification_address("ext. 12") == "ext. 12"


def test_a_person_listed_twice_is_notified_once(db):
    services.queue_notifications(
        case_id=None,
        event="incident.page",
        subject="Incidente",
        body="Caído",
        recipients=[
            {"kind": "whatsapp", "address": "3187174937"},
            {"kind": "whatsapp", "address": "+57 318 717 4937", "name": "Nelson"},
            {"kind": "email", "address": "nelson@mesa.test"},
            {"kind": "email", "address": "Nelson@mesa.test"},
        ],
    )
    assert sorted(Notification.objects.values_list("kind", "address")) == [
        ("email", "nelson@mesa.test"),
        ("whatsapp", "+573187174937"),
    ]
