"""`atiende ingest-email --direct` as an MTA runs it: a child process, bytes on stdin, an exit
status. The pipe through the spool (the default) is `test_spool.py`."""

from __future__ import annotations

import subprocess

import pytest

from atiende.cases.models import Case, Note
from atiende.channels.email.tests.conftest import ATIENDE, fixture, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


def ingest(raw: bytes, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ATIENDE, "ingest-email", "--direct", *args],
        input=raw,
        capture_output=True,
        timeout=60,
        env=subprocess_env(**env),
    )


def test_ingest_email_stores_a_message_and_exits_0_also_the_second_time(correo, acme, sla_targets):
    first = ingest(fixture("plain.eml"), "--channel", "correo")
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().startswith("stored CS0000001")
    again = ingest(fixture("plain.eml"), "--channel", "correo")
    assert again.returncode == 0 and again.stdout.decode().startswith("duplicate CS0000001")
    assert Case.objects.count() == 1 and Note.objects.filter(direction="inbound").count() == 1


def test_ingest_email_passes_the_envelope_sender(correo, acme, sla_targets):
    done = ingest(fixture("plain.eml"), "--channel", "correo", "--sender", "")
    assert done.returncode == 0, done.stderr
    assert not Note.objects.filter(automatic=True).exists()


def test_ingest_email_keeps_a_malformed_message_in_quarantine_and_exits_0(correo):
    done = ingest(fixture("malformed.eml"), "--channel", "correo")
    assert done.returncode == 0 and done.stdout.decode().startswith("quarantined")


def test_ingest_email_exits_75_when_the_database_is_unreachable(correo, tmp_path):
    done = ingest(
        fixture("plain.eml"),
        "--channel",
        "correo",
        DATABASE_URL=f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3",
    )
    assert done.returncode == 75, (done.stdout, done.stderr)
    assert b"temporal" in done.stderr


def test_ingest_email_rejects_an_unknown_channel_permanently(correo):
    done = ingest(fixture("plain.eml"), "--channel", "no-existe")
    assert done.returncode == 67 and "no-existe" in done.stderr.decode()


def test_ingest_email_exits_65_with_a_message_on_empty_input(correo):
    done = ingest(b"\r\n", "--channel", "correo")
    assert done.returncode == 65 and "vacío" in done.stderr.decode()
    assert Note.objects.count() == 0


def test_ingest_email_exits_75_when_postgresql_refuses_the_connection(correo):
    from atiende.channels.email.tests.dovecot import free_port

    done = ingest(
        fixture("plain.eml"),
        "--channel",
        "correo",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/atiende",
    )
    assert done.returncode == 75, (done.stdout, done.stderr)
    assert b"temporal" in done.stderr


def test_ingest_email_exits_75_when_attachments_cannot_be_written(correo, acme, tmp_path):
    data = tmp_path / "datos"
    data.mkdir()
    (data / "attachments").write_text("un archivo donde debería estar el directorio de adjuntos")
    done = ingest(fixture("plain.eml"), "--channel", "correo", ATIENDE_DATA_DIR=str(data))
    assert done.returncode == 75, (done.stdout, done.stderr)
    assert b"temporal" in done.stderr and Case.objects.count() == 0


def test_ingest_email_takes_a_bounce_and_opens_no_case(correo, acme):
    done = ingest(fixture("bounce_qmail.eml"), "--channel", "correo", "--sender", "")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith("bounce")
    assert Case.objects.count() == 0


def test_ingest_email_exits_75_not_1_on_an_unexpected_error(correo, acme):
    correo.settings |= {"auto_reply_max": "tres"}  # a bad setting makes intake raise
    correo.save()
    done = ingest(fixture("plain.eml"), "--channel", "correo")
    assert done.returncode == 75, (done.stdout, done.stderr)
    assert b"inesperado" in done.stderr and Case.objects.count() == 0
