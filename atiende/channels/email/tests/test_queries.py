"""What intake costs the database: a fixed number of SQL statements per stored mail,
whatever the size of the group and of what is already stored (issue #12)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.cases.models import Attachment, Note
from atiende.channels.email import intake

pytestmark = pytest.mark.usefixtures("frozen", "sla_targets", "smtp_sender")

BOUNDARY = "=-limite-="


def mail(i: int) -> bytes:
    """A new customer's request with a small PDF, as a mail client writes it."""
    return (
        f"From: Cliente {i} <cliente{i}@acme.com.co>\nTo: mesadeayuda@certicamara.com\n"
        f"Subject: =?utf-8?q?Factura_n=C3=BAmero_{i}?=\nDate: Tue, 3 Mar 2026 10:05:00 -0500\n"
        f"Message-ID: <consulta-{i}@acme.com.co>\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"\n\n'
        f"--{BOUNDARY}\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: 8bit\n\nLa factura {i} llegó dos veces. ¿Pueden revisar?\n"
        f"--{BOUNDARY}\nContent-Type: application/pdf\n"
        f'Content-Disposition: attachment; filename="factura-{i}.pdf"\n'
        f"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKJcOkw7zDtsOf{i:06d}Cg==\n"
        f"--{BOUNDARY}--\n"
    ).encode()


def store(channel, first: int, n: int) -> int:
    """Store mails first..first+n-1 as one fetch group; the statements it ran."""
    group = [(mail(i), f"prueba:{i}") for i in range(first, first + n)]
    own = intake.own_addresses()
    with CaptureQueriesContext(connection) as ctx:
        outcomes = intake.ingest_many(channel, group, own=own)
    assert [o.status for o in outcomes] == ["stored"] * n
    return len(ctx.captured_queries)


def test_each_stored_mail_costs_the_same_statements_whatever_the_group_and_mailbox_size(
    correo, acme
):
    # Every mail here is a new sender's first request, acknowledged: lift the channel's
    # hourly ceiling of automatic answers so that all of them are.
    correo.settings = {**correo.settings, "auto_reply_max_per_hour": 10_000}
    correo.save()
    store(correo, 0, 1)  # reads the configuration snapshot again after that save
    five = store(correo, 10, 5)
    ten = store(correo, 100, 10)
    per_mail = (ten - five) / 5
    fixed = five - 5 * per_mail
    # A fuller mailbox (more notes, cases, contacts and records) costs nothing more.
    for start in range(200, 300, 25):
        store(correo, start, 25)
    assert store(correo, 1000, 10) == ten
    # A big group's rows of one table may take two INSERTs (the databases' limits on
    # parameters per statement), never one per mail.
    assert store(correo, 2000, 25) <= fixed + 25 * per_mail + 3
    # What a new sender's request with one attachment costs: its case (its number and
    # row) and two notes (the acknowledgement and the mail). The group's look-ups, its new
    # senders' contacts and addresses (`customers.create_email_contacts`, in a savepoint),
    # intake records, attachments, SLA timers, audit entries and jobs are one statement
    # per table. (Issue #17: the contact's look-up, check and two INSERTs per mail went.)
    assert per_mail <= 4, per_mail
    assert fixed <= 18, fixed
    assert Note.objects.filter(channel=correo, direction="inbound").count() == 1 + 5 + 10 + 100 + 35
    assert Attachment.objects.filter(filename__startswith="factura-").count() == 151
