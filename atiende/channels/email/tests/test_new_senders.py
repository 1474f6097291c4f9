"""First-time senders in one fetch group: their contacts are made together
(`customers.create_email_contacts`) and handed to each mail's path (issue #17)."""

from __future__ import annotations

import pytest

from atiende.cases.models import Case, Note
from atiende.channels.email import intake
from atiende.core.models import AuditEntry
from atiende.core.tests.threads import at_once, raised
from atiende.customers import services as customers
from atiende.customers.models import Contact, ContactEmail

pytestmark = pytest.mark.usefixtures("frozen", "sla_targets", "smtp_sender")


def mail(sender: str, message_id: str, subject: str = "Consulta") -> bytes:
    return (
        f"From: {sender}\nTo: mesadeayuda@certicamara.com\nSubject: {subject}\n"
        f"Date: Tue, 3 Mar 2026 10:05:00 -0500\nMessage-ID: {message_id}\n"
        f"Content-Type: text/plain; charset=utf-8\n\nLa factura llegó dos veces.\n"
    ).encode()


def store(channel, *raws: bytes) -> list[intake.Outcome]:
    group = [(raw, f"prueba:{i}") for i, raw in enumerate(raws)]
    return intake.ingest_many(channel, group, own=intake.own_addresses())


def authors(outcomes: list[intake.Outcome]) -> list[Contact]:
    return [Note.objects.get(pk=o.note_id).author_contact for o in outcomes]


def test_two_mails_from_one_new_sender_in_a_group_make_one_contact(correo, acme):
    got = store(
        correo,
        mail("Pedro Pérez <Pedro@ACME.com.co>", "<a1@acme.com.co>"),
        mail("Otro nombre <pedro@acme.com.co>", "<a2@acme.com.co>", "Otra consulta"),
        mail("Luz <luz@acme.com.co>", "<b1@acme.com.co>"),
    )
    assert [o.status for o in got] == ["stored"] * 3
    pedro, pedro_again, luz = authors(got)
    assert pedro == pedro_again != luz
    assert Contact.objects.count() == 2
    assert list(pedro.emails.values_list("address", flat=True)) == ["pedro@acme.com.co"]
    # the first mail names the contact, and the domain decides the organization, as when
    # each mail made its sender's contact itself
    assert pedro.name == "Pedro Pérez" and pedro.organization == acme
    assert luz.name == "Luz" and luz.organization == acme
    assert Case.objects.filter(requester=pedro).count() == 2


def test_a_sender_outside_any_organizations_domain_has_no_organization(correo, acme):
    (got,) = authors(store(correo, mail("ana@gmail.com", "<g1@gmail.com>")))
    assert got.organization is None and got.name == "ana@gmail.com"


def test_a_known_sender_keeps_their_contact_unchanged(correo, acme, globex):
    known = customers.create_contact(
        name="Marta", organization=globex, emails=["marta@acme.com.co"]
    )
    before = AuditEntry.objects.filter(action="contact.created").count()
    got = store(
        correo,
        mail("Marta Gómez <marta@acme.com.co>", "<m1@acme.com.co>"),
        mail("Nuevo <nuevo@acme.com.co>", "<n1@acme.com.co>"),
    )
    marta, nuevo = authors(got)
    assert marta == known and nuevo != known
    known.refresh_from_db()
    assert known.name == "Marta" and known.organization == globex
    assert list(known.emails.values_list("address", flat=True)) == ["marta@acme.com.co"]
    assert AuditEntry.objects.filter(action="contact.created").count() == before + 1


def test_every_new_contact_is_audited_as_one_made_by_hand(correo, acme):
    got = store(
        correo,
        mail("Pedro <pedro@acme.com.co>", "<a1@acme.com.co>"),
        mail("Pedro <pedro@acme.com.co>", "<a2@acme.com.co>"),
        mail("ana@gmail.com", "<g1@gmail.com>"),
    )
    pedro, _, ana = authors(got)
    entries = {
        e.object_id: e
        for e in AuditEntry.objects.filter(
            action="contact.created", object_type="customers.contact"
        )
    }
    assert set(entries) == {str(pedro.pk), str(ana.pk)}
    assert entries[str(pedro.pk)].actor_label == "sistema"
    assert entries[str(pedro.pk)].changes == {
        "name": [None, "Pedro"],
        "organization": [None, "acme"],
        "emails": [None, ["pedro@acme.com.co"]],
        "phones": [None, []],
        "whatsapp_id": [None, None],
    }
    assert entries[str(ana.pk)].changes["organization"] == [None, None]


def test_a_mail_stored_already_and_a_bounce_make_no_contact(correo, acme):
    store(correo, mail("Pedro <pedro@acme.com.co>", "<a1@acme.com.co>"))
    assert Contact.objects.count() == 1
    got = store(
        correo,
        mail("Pedro <pedro@acme.com.co>", "<a1@acme.com.co>"),  # the same mail again
        mail("Luz <luz@acme.com.co>", "<b1@acme.com.co>"),
    )
    assert [o.status for o in got] == ["duplicate", "stored"]
    assert Contact.objects.count() == 2


def test_a_contact_made_by_someone_else_after_the_groups_look_up_is_taken_not_doubled(
    correo, acme, monkeypatch
):
    # The group looked the senders up, found none, and then another intake (a second
    # poller, the MTA pipe) made Pedro's contact before this group's INSERT: the unique
    # address refuses the second one, and the group takes the contact that exists.
    look_up = intake.customers.contacts_by_email
    theirs: list[Contact] = []

    def stale(addresses):
        found = look_up(addresses)
        theirs.append(customers.find_or_create_contact(email="pedro@acme.com.co", name="Pedro"))
        return found

    monkeypatch.setattr(intake.customers, "contacts_by_email", stale)
    got = store(
        correo,
        mail("Pedro P. <pedro@acme.com.co>", "<a1@acme.com.co>"),
        mail("Luz <luz@acme.com.co>", "<b1@acme.com.co>"),
    )
    assert [o.status for o in got] == ["stored", "stored"]
    pedro, luz = authors(got)
    assert pedro == theirs[0] and pedro.name == "Pedro"
    assert luz.name == "Luz" and luz.organization == acme
    assert Contact.objects.count() == 2
    assert ContactEmail.objects.count() == 2


def test_create_email_contacts_takes_an_existing_address_and_makes_the_rest(acme):
    marta = customers.create_contact(name="Marta", emails=["marta@acme.com.co"])
    got = customers.create_email_contacts(
        senders={"MARTA@acme.com.co": "Marta G.", "luz@acme.com.co": "", "no es correo": "x"}
    )
    assert set(got) == {"marta@acme.com.co", "luz@acme.com.co"}  # refused: left out
    assert got["marta@acme.com.co"] == marta
    assert got["luz@acme.com.co"].name == "luz@acme.com.co"
    assert got["luz@acme.com.co"].organization == acme
    assert Contact.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_pollers_storing_mail_from_the_same_new_senders_at_once_make_each_contact_once(
    correo, acme
):
    # On PostgreSQL the groups really race (both look up, neither finds, one INSERT waits
    # on the other's unique address); SQLite runs the writers one after the other.
    pollers = 4

    def poll(i: int):
        return lambda: store(
            correo,
            *[
                mail(f"Cliente {n} <cliente{n}@acme.com.co>", f"<p{i}-{n}@acme.com.co>")
                for n in range(5)
            ],
        )

    outcomes = at_once([poll(i) for i in range(pollers)])
    assert raised(outcomes) == []
    assert all(o.status == "stored" for got in outcomes for o in got)
    assert Contact.objects.count() == 5
    assert ContactEmail.objects.count() == 5
    assert Note.objects.filter(direction="inbound").count() == pollers * 5
