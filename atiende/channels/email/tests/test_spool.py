"""The MTA pipe through the spool: `atiende ingest-email` as a real child process, without
Django, and the worker's round (`spooled.drain`) that stores what it spooled."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atiende.cases.models import Case, Note
from atiende.channels.email import spool, spooled
from atiende.channels.email.models import QuarantinedEmail, ReceivedEmail
from atiende.channels.email.tests.conftest import ATIENDE, fixture, subprocess_env
from atiende.channels.email.tests.dovecot import free_port

pytestmark = pytest.mark.django_db(transaction=True)

# Headers but no sender anywhere: the pipe accepts it (it is mail), intake cannot store it.
NO_SENDER = b"Subject: sin remitente\r\nMessage-ID: <nadie-1@x>\r\n\r\nNadie firma esto.\r\n"


@pytest.fixture
def data(tmp_path):
    """A data directory of this test's own for the spool (the pipe's children get it too)."""
    return tmp_path / "datos"


def pipe(raw: bytes, *args: str, data: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ATIENDE, "ingest-email", *args],
        input=raw,
        capture_output=True,
        timeout=60,
        env=subprocess_env(ATIENDE_DATA_DIR=str(data), **env),
    )


def spooled_files(data: Path, channel: str = "correo") -> list[Path]:
    return sorted((data / "spool" / "email" / channel).glob("*.eml"))


def mail(n: int, sender: str = "pedro@acme.com.co") -> bytes:
    return (
        f"From: Pedro <{sender}>\r\nTo: mesadeayuda@certicamara.com\r\n"
        f"Subject: Consulta {n}\r\nMessage-ID: <spool-{n}@acme.com.co>\r\n"
        f"Date: Tue, 3 Mar 2026 09:58:00 -0500\r\n\r\nMensaje número {n}.\r\n"
    ).encode()


def test_the_pipe_spools_a_message_and_exits_0_without_importing_django(data):
    done = pipe(
        fixture("plain.eml"),
        "--channel",
        "correo",
        "--sender",
        "",
        data=data,
        PYTHONPROFILEIMPORTTIME="1",
    )
    assert done.returncode == 0, done.stderr
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.decode().splitlines()
        if line.startswith("import time:")
    ]
    assert "atiende.channels.email.spool" in imported  # the check sees the pipe's imports
    assert not [m for m in imported if m.split(".")[0] == "django"], "the pipe imported Django"
    [path] = spooled_files(data)
    stored = spool.read(path)
    assert stored.raw == fixture("plain.eml") and stored.sender == ""
    assert path.name == __import__("hashlib").sha256(stored.raw).hexdigest() + ".eml"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(spool.TEMP_PREFIX)]


def test_the_pipe_refuses_what_no_retry_would_fix_with_65(data):
    empty = pipe(b"\r\n", data=data)
    assert empty.returncode == 65 and "vacío" in empty.stderr.decode()
    not_mail = pipe(fixture("malformed.eml"), data=data)
    assert not_mail.returncode == 65 and "no es un mensaje" in not_mail.stderr.decode()
    too_big = pipe(fixture("plain.eml"), data=data, ATIENDE_MAX_EMAIL_BYTES="100")
    assert too_big.returncode == 65 and "demasiado grande" in too_big.stderr.decode()
    assert not (data / "spool").exists() or spooled_files(data) == []


def test_the_pipe_exits_67_for_a_channel_name_that_cannot_be_one(data):
    done = pipe(fixture("plain.eml"), "--channel", "../../etc", data=data)
    assert done.returncode == 67 and "../../etc" in done.stderr.decode()
    assert not (data / "spool").exists()


def test_the_pipe_exits_75_when_the_spool_cannot_be_written(data):
    data.mkdir(parents=True)
    (data / "spool").write_text("un archivo donde debería estar el directorio de la cola")
    done = pipe(fixture("plain.eml"), data=data)
    assert done.returncode == 75, done.stderr
    assert "temporal" in done.stderr.decode()


def test_the_same_message_piped_twice_is_one_file_and_one_note(correo, acme, sla_targets, data):
    for _ in range(2):
        assert pipe(fixture("plain.eml"), data=data).returncode == 0
    assert len(spooled_files(data)) == 1
    assert spooled.drain(base=data).outcomes == {"stored": 1}
    assert pipe(fixture("plain.eml"), data=data).returncode == 0  # again, after it was stored
    assert spooled.drain(base=data).outcomes == {"duplicate": 1}
    assert Note.objects.filter(direction="inbound").count() == 1 and Case.objects.count() == 1
    assert spooled_files(data) == []


def test_draining_stores_one_note_per_message_and_deletes_the_files(
    correo, acme, sla_targets, data
):
    for n in range(5):
        assert pipe(mail(n, f"persona{n}@acme.com.co"), data=data).returncode == 0
    assert pipe(mail(5), "--sender=", data=data).returncode == 0  # a null envelope sender
    assert len(spooled_files(data)) == 6
    drained = spooled.drain(base=data)
    assert drained.outcomes == {"stored": 6} and drained.left == 0
    assert sorted(
        Note.objects.filter(direction="inbound").values_list("external_id", flat=True)
    ) == [f"<spool-{n}@acme.com.co>" for n in range(6)]
    assert spooled_files(data) == []
    assert not list((data / "spool" / "email" / "correo" / "claimed").rglob("*.eml"))
    # the message is stored as it was piped, without the spool's envelope line
    original = ReceivedEmail.objects.get(message_id="<spool-0@acme.com.co>")
    assert original.source == spooled.SOURCE
    # acknowledgements go to the five with an envelope sender, not to the null sender's
    assert Note.objects.filter(automatic=True).count() == 5


def test_a_message_intake_cannot_store_is_quarantined_and_leaves_the_spool(correo, data):
    assert pipe(NO_SENDER, data=data).returncode == 0
    assert spooled.drain(base=data).outcomes == {"quarantined": 1}
    row = QuarantinedEmail.objects.get()
    assert bytes(row.raw) == NO_SENDER and row.source == spooled.SOURCE
    assert spooled_files(data) == [] and Note.objects.count() == 0


def test_mail_for_a_channel_not_configured_waits_in_the_spool(correo, data):
    assert pipe(mail(1), "--channel", "ventas", data=data).returncode == 0
    assert spooled.drain(base=data).stored == 0
    assert len(spooled_files(data, "ventas")) == 1


CLAIM_AND_DIE = """
import os, signal, sys
from pathlib import Path
from atiende.channels.email import spool
held = spool.claim("correo", base=Path(sys.argv[1]), owner="muerto-1")
print(len(held), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_workers_claims_are_taken_again_after_the_lease(correo, acme, sla_targets, data):
    for n in range(3):
        assert pipe(mail(n), data=data).returncode == 0
    died = subprocess.run(
        [sys.executable, "-c", CLAIM_AND_DIE, str(data)],
        capture_output=True,
        timeout=60,
        env=subprocess_env(),
    )
    assert died.returncode == -9 and died.stdout.strip() == b"3", died.stderr
    dead = data / "spool" / "email" / "correo" / "claimed" / "muerto-1"
    assert len(list(dead.glob("*.eml"))) == 3 and spooled_files(data) == []

    assert spooled.drain(base=data).stored == 0  # the lease has not ended: not ours yet
    assert Note.objects.count() == 0
    past = time.time() - spool.LEASE_SECONDS - 1
    for path in dead.glob("*.eml"):
        os.utime(path, (past, past))
    assert spooled.drain(base=data).outcomes == {"stored": 3}
    assert Note.objects.filter(direction="inbound").count() == 3
    assert not list((data / "spool").rglob("*.eml"))


def test_a_file_stored_but_not_deleted_before_a_crash_is_not_stored_twice(
    correo, acme, sla_targets, data, tmp_path
):
    assert pipe(mail(1), data=data).returncode == 0
    [path] = spooled_files(data)
    kept = shutil.copy(path, tmp_path / "copia.eml")
    assert spooled.drain(base=data).outcomes == {"stored": 1}
    shutil.copy(kept, path)  # as if the worker died after the commit, before the unlink
    assert spooled.drain(base=data).outcomes == {"duplicate": 1}
    assert Note.objects.filter(direction="inbound").count() == 1 and spooled_files(data) == []


def test_two_workers_claim_disjoint_files(data):
    for n in range(20):
        spool.write(mail(n), channel="correo", sender=None, base=data)
    first = spool.claim("correo", base=data, owner="a", limit=8)
    second = spool.claim("correo", base=data, owner="b")
    assert len(first) == 8 and len(second) == 12
    assert not {p.name for p in first} & {p.name for p in second}


def test_the_worker_process_drains_the_spool(correo, acme, sla_targets, data):
    assert pipe(fixture("plain.eml"), data=data).returncode == 0
    done = subprocess.run(
        [ATIENDE, "worker", "--once"],
        capture_output=True,
        timeout=120,
        env=subprocess_env(ATIENDE_DATA_DIR=str(data)),
    )
    assert done.returncode == 0, done.stderr
    assert "email.spool" in done.stdout.decode()
    assert Note.objects.filter(direction="inbound").count() == 1 and spooled_files(data) == []


def test_mail_piped_while_the_database_is_down_is_stored_when_it_is_back(
    correo, acme, sla_targets, data, tmp_path
):
    down = f"postgres://postgres@127.0.0.1:{free_port()}/atiende"
    assert pipe(fixture("plain.eml"), data=data, DATABASE_URL=down).returncode == 0
    failed = subprocess.run(
        [ATIENDE, "worker", "--once"],
        capture_output=True,
        timeout=120,
        env=subprocess_env(ATIENDE_DATA_DIR=str(data), DATABASE_URL=down),
    )
    assert failed.returncode != 0 and Note.objects.count() == 0
    assert len(spooled_files(data)) == 1  # still waiting, not lost
    assert spooled.drain(base=data).outcomes == {"stored": 1}
    assert Note.objects.filter(direction="inbound").count() == 1


def test_a_bad_message_among_good_ones_is_quarantined_alone(correo, acme, sla_targets, data):
    for n in range(3):
        spool.write(mail(n, f"persona{n}@acme.com.co"), channel="correo", sender=None, base=data)
    spool.write(NO_SENDER, channel="correo", sender="", base=data)
    assert spooled.drain(base=data).outcomes == {"stored": 3, "quarantined": 1}
    assert Note.objects.filter(direction="inbound").count() == 3
    assert QuarantinedEmail.objects.count() == 1 and spooled_files(data) == []


def test_a_temporary_file_left_by_a_killed_pipe_is_never_stored_and_goes_after_an_hour(data):
    spool.write(mail(1), channel="correo", sender=None, base=data)
    directory = data / "spool" / "email" / "correo"
    half_written = directory / f"{spool.TEMP_PREFIX}999-abc"
    half_written.write_bytes(mail(2)[:20])
    assert [p.name for p in spool.claim("correo", base=data, owner="a")] == [
        spooled_files(data, "correo/claimed/a")[0].name
    ]
    assert half_written.exists()
    spool.claim("correo", base=data, owner="a", now=time.time() + spool.STALE_TEMP_SECONDS + 1)
    assert not half_written.exists()


def test_no_round_runs_while_a_backup_holds_the_spool(correo, acme, sla_targets, data):
    for n in range(2):
        spool.write(mail(n), channel="correo", sender=None, base=data)
    with spool.frozen(base=data):
        # A round in this process or another opens the lock file anew: it is refused.
        assert spooled.drain(base=data).stored == 0
        assert len(spooled_files(data)) == 2 and Note.objects.count() == 0
        # The pipe takes no lock: mail is still accepted while the spool is frozen.
        assert pipe(mail(2), data=data).returncode == 0
        assert [c for c, _ in spool.every_file(base=data)] == ["correo"] * 3
    assert spooled.drain(base=data).stored == 3
    assert spooled_files(data) == [] and spool.every_file(base=data) == []


def test_every_file_lists_waiting_and_claimed_mail_once(data):
    for n in range(3):
        spool.write(mail(n), channel="correo", sender=None, base=data)
    spool.claim("correo", limit=1, owner="muerto", base=data)
    names = [path.name for _, path in spool.every_file(base=data)]
    assert len(names) == 3 == len(set(names))
    spool.write(mail(0), channel="correo", sender=None, base=data)  # piped again
    assert len(spool.every_file(base=data)) == 3


def test_restoring_a_spool_file_refuses_names_outside_the_spool(data):
    name = "a" * 64 + ".eml"
    with pytest.raises(spool.SpoolError):
        spool.restore_file("../x", name, b"From: a@b.co\r\n\r\nx", base=data)
    with pytest.raises(spool.SpoolError):
        spool.restore_file("correo", "../../evil.eml", b"x", base=data)
    restored = spool.restore_file("correo", name, b"From: a@b.co\r\n\r\nx", base=data)
    assert restored == data / "spool" / "email" / "correo" / name
    assert spooled_files(data) == [restored]


def test_a_retried_quarantine_keeps_the_envelope_sender_and_its_loop_rules(
    correo, acme, sla_targets, data
):
    # A bounce (null envelope sender) and an ordinary mail arrive while the channel is
    # switched off: both wait in quarantine. Retried after it is on again, the bounce
    # still gets no automatic answer and the ordinary mail gets one.
    assert pipe(mail(1, "rebote@acme.com.co"), "--sender=", data=data).returncode == 0
    assert pipe(mail(2, "ana@acme.com.co"), "--sender=ana@acme.com.co", data=data).returncode == 0
    correo.active = False
    correo.save()
    assert spooled.drain(base=data).outcomes == {"quarantined": 2}
    held = QuarantinedEmail.objects.values_list("envelope_sender", flat=True)
    assert sorted(held) == ["", "ana@acme.com.co"]
    correo.active = True
    correo.save()
    from atiende.channels.email import intake

    for row in QuarantinedEmail.objects.order_by("id"):
        assert intake.retry_quarantined(row).status == "stored"
    answered = Note.objects.filter(automatic=True)
    assert [n.case.subject for n in answered] == ["Consulta 2"]
