"""Attachment files are on disk before the rows naming them commit (issue #17).

What a power cut would take back cannot be observed from a test; what can be is the
order: every file of a group is complete, and synced with its directory, before the
database commits — watched at the connection's own commit call, not through `on_commit`
— and a file that cannot be synced leaves no row at all."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from atiende.cases import blobs, storage
from atiende.cases.models import Attachment, Case, Note
from atiende.channels.email import intake, parallel
from atiende.channels.email.models import ReceivedEmail
from atiende.core import disk as core_disk
from atiende.core import durable
from atiende.core.errors import InvalidInput

pytestmark = [
    pytest.mark.usefixtures("frozen", "sla_targets", "smtp_sender"),
    pytest.mark.django_db(transaction=True),
]

BOUNDARY = "=-limite-="


def mail(i: int) -> bytes:
    return (
        f"From: Cliente {i} <cliente{i}@acme.com.co>\nTo: mesadeayuda@certicamara.com\n"
        f"Subject: Factura {i}\nDate: Tue, 3 Mar 2026 10:05:00 -0500\n"
        f"Message-ID: <durable-{i}@acme.com.co>\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"\n\n'
        f"--{BOUNDARY}\nContent-Type: text/plain; charset=utf-8\n\nAdjunto la factura {i}.\n"
        f"--{BOUNDARY}\nContent-Type: text/csv\n"
        f'Content-Disposition: attachment; filename="factura-{i}.csv"\n\n'
        f"numero;valor\n{i};{1000 + i}\n"
        f"--{BOUNDARY}--\n"
    ).encode()


@pytest.fixture
def disk(settings, tmp_path):
    settings.ATTACHMENTS_DIR = tmp_path / "adjuntos"
    return settings.ATTACHMENTS_DIR


@pytest.fixture
def events(monkeypatch):
    """What reached the disk and the database, in order: ("fsync", path) and ("commit",
    the files on disk at that moment, each checked against its content hash)."""
    seen: list[tuple] = []
    fsync = core_disk.fsync

    def watched_fsync(path: Path) -> None:
        fsync(path)
        seen.append(("fsync", Path(path)))

    commit = type(connections["default"])._commit

    def watched_commit(self):
        if self.alias == "default":
            root = storage.root()
            complete = {
                p
                for p in root.glob("??/??/*")
                if hashlib.sha256(p.read_bytes()).hexdigest() == p.name
            }
            seen.append(("commit", complete))
        return commit(self)

    monkeypatch.setattr(core_disk, "fsync", watched_fsync)
    monkeypatch.setattr(type(connections["default"]), "_commit", watched_commit)
    return seen


def test_a_groups_files_and_their_directories_are_synced_once_before_it_commits(
    correo, acme, disk, events
):
    group = [(mail(i), f"prueba:{i}") for i in range(6)]
    outcomes = intake.ingest_many(correo, group, own=intake.own_addresses())
    assert [o.status for o in outcomes] == ["stored"] * 6
    files = {storage.path_for(a.sha256) for a in Attachment.objects.all()}
    assert len(files) == 12  # each mail's CSV and its original

    # the commit that stored the rows: the last one before the rows could be read
    commits = [i for i, e in enumerate(events) if e[0] == "commit" and files <= e[1]]
    first = commits[0]
    synced = [e[1] for e in events[:first] if e[0] == "fsync"]
    assert files <= set(synced), "a file was not synced before the commit"
    # each file once, then each directory it was renamed into (or one made for it) once
    assert sorted(synced[: len(files)]) == sorted(files)
    directories = synced[len(files) :]
    assert len(directories) == len(set(directories))
    assert {f.parent for f in files} <= set(directories)
    # the directories made for these files, in their parents (a fresh data directory)
    assert {f.parent.parent for f in files} <= set(directories)


def test_a_file_already_stored_is_synced_again_when_a_new_row_names_it(correo, acme, disk, events):
    intake.ingest_many(correo, [(mail(1), "a")], own=intake.own_addresses())
    events.clear()
    again = mail(1).replace(b"durable-1@", b"otra-vez-1@")  # other mail, same CSV
    intake.ingest_many(correo, [(again, "b")], own=intake.own_addresses())
    csv = Attachment.objects.filter(filename="factura-1.csv")
    assert csv.count() == 2 and len({a.sha256 for a in csv}) == 1
    path = storage.path_for(csv.first().sha256)
    first_commit = next(i for i, e in enumerate(events) if e[0] == "commit")
    assert ("fsync", path) in events[:first_commit]


def test_a_file_that_cannot_be_synced_leaves_no_row_and_the_mail_for_later(
    correo, acme, disk, monkeypatch
):
    def failing(path: Path) -> None:
        raise OSError(errno.EIO, "Input/output error", str(path))

    monkeypatch.setattr(core_disk, "fsync", failing)
    group = [(mail(i), f"prueba:{i}") for i in range(3)]
    with pytest.raises(durable.NotDurable):
        intake.ingest_many(correo, group, own=intake.own_addresses())
    assert Attachment.objects.count() == 0
    assert Note.objects.count() == 0 and Case.objects.count() == 0
    assert ReceivedEmail.objects.count() == 0
    # the disk is back: the same mails are stored, once
    monkeypatch.undo()
    outcomes = intake.ingest_many(correo, group, own=intake.own_addresses())
    assert [o.status for o in outcomes] == ["stored"] * 3
    assert Attachment.objects.count() == 6


def test_a_file_stored_outside_a_transaction_is_synced_at_once(disk, events):
    assert not connection.in_atomic_block
    stored = storage.store([b"numero;valor\n1;1000\n"], "factura.csv")
    path = storage.path_for(stored.sha256)
    assert ("fsync", path) in events and ("fsync", path.parent) in events


def test_a_rolled_back_transaction_forgets_its_files(disk, events):
    with pytest.raises(RuntimeError), transaction.atomic():
        storage.store([b"numero;valor\n2;2000\n"], "factura.csv")
        raise RuntimeError("algo falló")
    assert not [e for e in events if e[0] == "fsync"]
    assert durable._ATTR not in connection.__dict__


def test_files_a_parse_worker_made_durable_are_not_written_again(correo, acme, disk, events):
    group = [(mail(i), f"prueba:{i}") for i in range(3)]
    parsed = parallel.parse_group(
        [raw for raw, _ in group],
        [None] * 3,
        channel=correo.slug,
        own=frozenset(intake.own_addresses()),
        trusted=intake.trusted_mtas(correo),
        keep=intake.keep(),
    )
    written_by_the_worker = [e[1] for e in events if e[0] == "fsync"]
    assert all(p is not None and p.raw_synced for p in parsed)
    events.clear()
    outcomes = intake.ingest_many(correo, group, own=intake.own_addresses(), parsed=parsed)
    assert [o.status for o in outcomes] == ["stored"] * 3
    files = {storage.path_for(a.sha256) for a in Attachment.objects.all()}
    assert len(files) == 6 and files <= set(written_by_the_worker)
    assert not [e for e in events if e[0] == "fsync"]  # the commit waited for no file


@pytest.mark.parametrize(
    "claimed", ["wrong-hash", "missing-file"], ids=["another hash", "no such file"]
)
def test_a_synced_claim_that_does_not_hold_stores_the_file_as_usual(claimed, disk, events):
    content = b"numero;valor\n3;3000\n"
    sha = hashlib.sha256(content).hexdigest() if claimed == "missing-file" else "0" * 64
    stored = storage.store([content], "factura.csv", synced=sha)
    path = storage.path_for(stored.sha256)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert path.read_bytes() == content and ("fsync", path) in events


def test_a_synced_claim_does_not_pass_an_executable(disk):
    content = b"MZ\x90\x00 un programa"
    sha = blobs.place(storage.root(), content)[0]
    with pytest.raises(InvalidInput, match="ejecutables"):
        storage.store([content], "factura.pdf", synced=sha)


def test_a_files_location_as_text_is_its_path():
    sha = hashlib.sha256(b"factura").hexdigest()
    root = Path("/datos/adjuntos")
    assert blobs.location(root, sha) == str(blobs.path_for(root, sha))
    assert blobs.location(str(root), sha) == str(blobs.path_for(root, sha))
