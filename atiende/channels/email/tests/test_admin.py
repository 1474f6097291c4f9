"""The quarantine and the mailboxes in the admin."""

from __future__ import annotations

import pytest

from atiende.channels.email import intake
from atiende.channels.email.models import QuarantinedEmail
from atiende.channels.email.tests.conftest import fixture

pytestmark = pytest.mark.usefixtures("frozen", "sla_targets")


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_admin_sees_a_channel_without_urls_as_not_connected(staff, correo):
    page = staff.get("/admin/channels_email/emailchannel/").content.decode()
    assert "no conectado (ATIENDE_CORREO_IMAP_URL sin valor)" in page


def test_a_connected_channel_shows_where_it_reads_without_the_password(staff, correo, monkeypatch):
    monkeypatch.setenv("ATIENDE_CORREO_IMAP_URL", "imaps://mesa:secreto@imap.example.co/Soporte")
    page = staff.get("/admin/channels_email/emailchannel/").content.decode()
    assert "imaps://mesa@imap.example.co:993/Soporte" in page and "secreto" not in page


def test_a_mailbox_shows_where_its_oauth2_token_and_ca_come_from(staff, correo, monkeypatch):
    monkeypatch.setenv(
        "ATIENDE_CORREO_IMAP_URL",
        "imaps://mesa%40acme.co@outlook.office365.com/INBOX?auth=xoauth2&token_env=MS365_TOKEN",
    )
    monkeypatch.setenv(
        "ATIENDE_CORREO_SMTP_URL",
        "smtp+starttls://relay.acme.co?ca=/etc/atiende/ca.pem",
    )
    page = staff.get("/admin/channels_email/emailchannel/").content.decode()
    assert "(OAuth2, token de $MS365_TOKEN)" in page
    assert "smtp+starttls://relay.acme.co:587 (CA /etc/atiende/ca.pem)" in page


def test_an_admin_downloads_and_retries_a_quarantined_message(staff, correo, acme):
    correo.active = False
    correo.save()
    intake.ingest(fixture("plain.eml"), channel="correo")
    row = QuarantinedEmail.objects.get()
    page = staff.get(f"/admin/channels_email/quarantinedemail/{row.pk}/change/").content.decode()
    assert "descargar .eml" in page
    eml = staff.get(f"/admin/channels_email/quarantinedemail/{row.pk}/eml/")
    assert eml["Content-Type"] == "message/rfc822" and eml.content == fixture("plain.eml")
    correo.active = True
    correo.save()
    staff.post(
        "/admin/channels_email/quarantinedemail/", {"action": "retry", "_selected_action": [row.pk]}
    )
    row.refresh_from_db()
    assert row.resolved_at is not None and row.note.case.number == "CS0000001"


def test_a_customer_cannot_download_quarantined_mail(client, customer, correo):
    intake.ingest(fixture("malformed.eml"), channel="correo")
    client.force_login(customer)
    row = QuarantinedEmail.objects.get()
    assert client.get(f"/admin/channels_email/quarantinedemail/{row.pk}/eml/").status_code == 302
