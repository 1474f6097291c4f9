import pytest

from atiende.core.errors import InvalidInput
from atiende.customers import services
from atiende.customers.phones import to_e164


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("318 487 2656", "+573184872656"),
        ("+57 318 487 2656", "+573184872656"),
        ("573184872656", "+573184872656"),  # a WhatsApp id
        ("601 7442727", "+576017442727"),
        ("01 8000 181531", "+5718000181531"),
        ("+1 202 555 0143", "+12025550143"),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw, e164):
    assert to_e164(raw) == e164


def test_an_invalid_phone_number_is_a_clear_error():
    with pytest.raises(InvalidInput) as err:
        to_e164("12")
    assert "inválido" in err.value.message


def test_a_new_sender_joins_the_organization_of_their_email_domain(acme):
    contact = services.find_or_create_contact(email="Pedro@ACME.com.co", name="Pedro")
    assert contact.organization == acme
    assert services.find_or_create_contact(email="pedro@acme.com.co") == contact


def test_contacts_are_found_by_normalised_phone(acme):
    contact = services.create_contact(name="Luz", organization=acme, phones=["318 487 2656"])
    assert services.find_contact(phone="+573184872656") == contact


def test_an_address_belongs_to_one_contact(acme):
    services.create_contact(name="Uno", organization=acme, emails=["uno@acme.com.co"])
    with pytest.raises(InvalidInput) as err:
        services.create_contact(name="Dos", organization=acme, emails=["UNO@acme.com.co"])
    assert "emails" in err.value.errors


def test_organization_slugs_and_domains_are_validated(db):
    with pytest.raises(InvalidInput) as err:
        services.create_organization(slug="Mal Slug", name="", email_domains=["no es dominio"])
    assert {"slug", "name"} <= set(err.value.errors)


BSUID = "US.13491208655302741918"


def test_a_whatsapp_user_who_hides_the_number_is_a_contact_without_phone(db):
    contact = services.find_or_create_whatsapp_contact(user_id=BSUID, name="ana.gomez")
    assert (contact.whatsapp_user_id, contact.whatsapp_id) == (BSUID, None)
    assert not contact.phones.exists()
    assert services.find_or_create_whatsapp_contact(user_id=BSUID).pk == contact.pk


def test_a_whatsapp_contact_known_by_phone_gets_the_user_id(acme):
    known = services.create_contact(name="Ana", organization=acme, phones=["+573001234567"])
    contact = services.find_or_create_whatsapp_contact(wa_id="573001234567", user_id=BSUID)
    assert contact.pk == known.pk
    assert (contact.whatsapp_id, contact.whatsapp_user_id) == ("573001234567", BSUID)
    assert services.find_or_create_whatsapp_contact(user_id=BSUID).pk == known.pk


def test_the_user_id_decides_over_the_number(db):
    by_user = services.find_or_create_whatsapp_contact(user_id=BSUID)
    other = services.create_contact(name="Otro", whatsapp_id="573001234567")
    found = services.find_or_create_whatsapp_contact(wa_id="573001234567", user_id=BSUID)
    assert found.pk == by_user.pk
    # The number belongs to another contact: it is not moved silently.
    found.refresh_from_db()
    assert found.whatsapp_id is None and other.pk != found.pk


def test_a_whatsapp_user_id_belongs_to_one_contact(db):
    services.create_contact(name="Ana", whatsapp_user_id=BSUID)
    with pytest.raises(InvalidInput) as err:
        services.create_contact(name="Otra", whatsapp_user_id=BSUID)
    assert "whatsapp_user_id" in err.value.errors


def test_the_free_mail_list_is_data_shipped_with_the_package():
    from atiende.customers import domains

    listed = domains.free_mail_domains()
    assert {"gmail.com", "hotmail.com", "yahoo.es", "protonmail.com", "yandex.ru"} <= listed
    assert all(d == d.strip().lower() and "." in d for d in listed)


def test_free_mail_and_taken_domains_are_refused_by_the_service(acme):
    from atiende.customers.services import DomainTaken

    with pytest.raises(InvalidInput) as err:
        services.create_organization(slug="x", name="X", email_domains=["@GMail.com"])
    assert "gmail.com" in err.value.errors["email_domains"]
    with pytest.raises(DomainTaken) as taken:
        services.create_organization(slug="y", name="Y", email_domains=["acme.com.co"])
    assert taken.value.status == 409 and "ACME" in taken.value.message


def test_a_free_mail_domain_stored_before_the_rule_places_nobody(acme):
    from atiende.customers.models import Organization

    Organization.objects.filter(pk=acme.pk).update(email_domains=["acme.com.co", "gmail.com"])
    services._domains.invalidate()
    stranger = services.find_or_create_contact(email="extrano@gmail.com", name="Extraño")
    assert stranger.organization is None
    assert services.find_or_create_contact(email="ok@acme.com.co").organization == acme
