"""Faults: the attachments' disk is full.

The attachments directory is a real 1 MB tmpfs, almost filled, when this process may mount
one (root); elsewhere the storage's file boundary (`storage._write`) fails with ENOSPC as
the disk would. Either way: a clear 507 in Spanish, nothing half-stored (no attachment
row, no note, no case, no stray file), and an email that could not be stored stays in the
quarantine, from where it is stored once there is room again.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from atiende.cases import storage
from atiende.cases.models import Attachment, Case, Note
from atiende.channels.email import intake
from atiende.channels.email.models import QuarantinedEmail
from atiende.core.models import AuditEntry

pytestmark = pytest.mark.django_db

BIG = b"%PDF-1.4\n" + os.urandom(300 * 1024)  # random: a tmpfs does not compress


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "relleno")


@pytest.fixture
def full_disk(settings, tmp_path, monkeypatch):
    """The attachments directory with about 100 KB left; yields a function that frees it."""
    root = tmp_path / "adjuntos"
    root.mkdir()
    settings.ATTACHMENTS_DIR = root
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(root)], capture_output=True
        ).returncode
        == 0
    )
    filler = root / "relleno"
    if mounted:
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, os.urandom(64 * 1024))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        os.truncate(filler, filler.stat().st_size - 100 * 1024)  # about 100 KB left
    else:
        written = {"n": 0}
        real = storage._write

        def _write(out, chunk):
            written["n"] += len(chunk)
            if written["n"] > 100 * 1024:
                raise OSError(errno.ENOSPC, "No space left on device")
            real(out, chunk)

        monkeypatch.setattr(storage, "_write", _write)

    def free():
        if mounted:
            filler.unlink()
        else:
            monkeypatch.setattr(storage, "_write", real)

    free.mounted = mounted
    yield free
    if mounted:
        subprocess.run(["umount", str(root)], check=True)


@pytest.mark.parametrize("persona", ["customer", "agent"])
def test_an_upload_to_a_full_disk_is_507_with_nothing_stored(
    api, acme_case, tokens, full_disk, persona
):
    root = Path(django_settings.ATTACHMENTS_DIR)
    audit_before = AuditEntry.objects.count()
    response = Client().post(
        f"/api/v1/cases/{acme_case.number}/attachments",
        {"file": SimpleUploadedFile("informe.pdf", BIG)},
        headers={"Authorization": f"Bearer {tokens[persona]}"},
    )
    assert response.status_code == 507, response.content
    body = response.json()
    assert body["code"] == "storage_full"
    assert body["detail"].startswith("No hay espacio para guardar adjuntos")
    assert not Attachment.objects.exists()
    assert AuditEntry.objects.count() == audit_before
    assert files_under(root) == []  # not even the half-written temporary file

    full_disk()  # room again: the same upload is stored
    again = Client().post(
        f"/api/v1/cases/{acme_case.number}/attachments",
        {"file": SimpleUploadedFile("informe.pdf", BIG)},
        headers={"Authorization": f"Bearer {tokens[persona]}"},
    )
    assert again.status_code == 201
    assert storage.path_for(again.json()["sha256"]).read_bytes() == BIG


def mail_with_attachment() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Pedro Pérez <pedro@acme.com.co>"
    msg["To"] = "mesadeayuda@certicamara.com"
    msg["Subject"] = "Adjunto el contrato firmado"
    msg["Message-ID"] = "<disco-lleno-1@acme.com.co>"
    msg["Date"] = "Tue, 01 Dec 2026 10:00:00 -0500"
    msg.set_content("Buenos días, adjunto el contrato.")
    msg.add_attachment(BIG, maintype="application", subtype="pdf", filename="contrato.pdf")
    return msg.as_bytes()


def test_an_email_whose_attachment_does_not_fit_is_quarantined_whole_then_stored(
    correo, acme, full_disk
):
    root = Path(django_settings.ATTACHMENTS_DIR)
    raw = mail_with_attachment()
    # The poller's path: a group of one, each message stored or quarantined on its own.
    [outcome] = intake.ingest_many(correo, [(raw, "INBOX:1")], own=intake.own_addresses())
    assert outcome.status == "quarantined"
    assert "No hay espacio para guardar adjuntos" in outcome.detail
    assert not Case.objects.exists() and not Note.objects.exists()
    assert not Attachment.objects.exists()
    assert files_under(root) == []
    [kept] = QuarantinedEmail.objects.all()
    assert bytes(kept.raw) == raw

    full_disk()
    retried = intake.retry_quarantined(kept)
    assert retried.status == "stored"
    case = Case.objects.get()
    [att] = Attachment.objects.filter(case=case, filename="contrato.pdf")
    assert storage.path_for(att.sha256).read_bytes() == BIG


def test_a_file_left_by_an_email_whose_second_attachment_did_not_fit_is_swept(
    correo, acme, full_disk
):
    from atiende.core import clock
    from atiende.worker import queue

    root = Path(django_settings.ATTACHMENTS_DIR)
    msg = EmailMessage()
    msg["From"] = "pedro@acme.com.co"
    msg["To"] = "mesadeayuda@certicamara.com"
    msg["Subject"] = "Dos adjuntos"
    msg["Message-ID"] = "<disco-lleno-2@acme.com.co>"
    msg.set_content("Van dos archivos.")
    small = b"%PDF-1.4\n" + os.urandom(20 * 1024)
    msg.add_attachment(small, maintype="application", subtype="pdf", filename="uno.pdf")
    msg.add_attachment(BIG, maintype="application", subtype="pdf", filename="dos.pdf")
    [outcome] = intake.ingest_many(correo, [(msg.as_bytes(), "INBOX:2")], own=set())
    assert outcome.status == "quarantined"
    assert not Case.objects.exists() and not Attachment.objects.exists()
    # The first attachment's file was written before the second failed; nothing names it.
    left = files_under(root)
    assert [p.name for p in left] == [hashlib.sha256(small).hexdigest()]
    assert storage.sweep_orphans() == []  # too recent: it could be a transaction in flight
    with clock.frozen(clock.now() + dt.timedelta(hours=2)):
        queue.ensure_periodic()
        queue.run_periodic()
    assert files_under(root) == []
