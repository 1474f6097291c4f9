"""`atiende backup` under write load, `atiende restore` into a fresh place: every case, note
and attachment comes back byte for byte. Runs on the database the suite runs on (SQLite,
or PostgreSQL with DATABASE_URL), each side in its own processes and its own database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ATIENDE = [sys.executable, "-m", "atiende"]


def _psql(*sql: str) -> None:
    args = [a for s in sql for a in ("-c", s)]
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", *args], check=True, capture_output=True
    )


@pytest.fixture
def place(tmp_path):
    """Make fresh places (a data directory and a database) on the suite's database kind."""
    created: list[str] = []
    base_url = os.environ.get("DATABASE_URL", "")

    def make(name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ATIENDE_", "DATABASE_"))}
        env |= {
            "ATIENDE_DATA_DIR": str(tmp_path / name),
            "DJANGO_SETTINGS_MODULE": "atiende.settings",
            "ATIENDE_LOG_LEVEL": "WARNING",
        }
        if base_url.startswith("postgres"):
            db = f"atiende_bk_{name}_{uuid.uuid4().hex[:8]}"
            _psql(f"CREATE DATABASE {db}")
            created.append(db)
            env["DATABASE_URL"] = base_url.rsplit("/", 1)[0] + "/" + db
        return env

    yield make
    for db in created:
        _psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def _run(env, *args, check=True):
    return subprocess.run(
        [*ATIENDE, *args], env=env, capture_output=True, text=True, check=check, timeout=300
    )


def _dump(env) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE / "backup_load.py"), "dump"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout)


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres") and not shutil.which("pg_dump"),
    reason="pg_dump is not installed",
)
def test_a_backup_taken_under_write_load_restores_byte_for_byte(place, tmp_path):
    source = place("origen")
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, str(HERE / "backup_load.py"), "write", str(stop)],
        env=source,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 120
        while not Path(str(stop) + ".ready").exists():
            assert writer.poll() is None, writer.stderr.read()
            assert time.time() < deadline, "the writer did not start"
            time.sleep(0.2)
        time.sleep(2)  # some cases before the backup starts
        before = _dump(source)
        assert len(before) >= 3
        archive = tmp_path / "copia" / "atiende.tar"
        done = _run(source, "backup", str(archive))
        assert "adjuntos" in done.stdout
        assert writer.poll() is None, "the writer kept writing during the backup"
        time.sleep(1)
    finally:
        stop.write_text("")
        writer.wait(60)
    assert writer.returncode == 0, writer.stderr.read()
    after = _dump(source)
    assert len(after) > len(before)

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["attachments"] == len([n for n in names if n.startswith("attachments/")])
    assert set(manifest["members"]) == set(names) - {"manifest.json"}

    fresh = place("destino")
    restored = _run(fresh, "restore", str(archive))
    assert "restaurada" in restored.stdout
    got = _dump(fresh)
    # Every case that existed when the backup started is there...
    assert set(before) <= set(got)
    # ...and every restored case is the source's, with its notes and attachments' bytes.
    for number, case in got.items():
        assert case == after[number], number
    assert all(case["attachments"] for case in got.values())
    for case in got.values():
        for _, sha, read_back in case["attachments"]:
            assert sha == read_back

    # The restored place runs: migrations are all applied.
    check = _run(fresh, "migrate", "--check", check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_restore_refuses_a_place_that_is_not_empty_and_a_damaged_archive(place, tmp_path):
    source = place("origen")
    _run(source, "migrate")
    archive = tmp_path / "a.tar"
    _run(source, "backup", str(archive))
    refused = _run(source, "restore", str(archive), check=False)
    assert refused.returncode != 0
    assert "no está vacía" in refused.stderr

    # A member altered after the backup: caught before anything is written.
    damaged = tmp_path / "b.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.startswith("database."):
                data = data[:-1] + bytes([data[-1] ^ 1])
            import io

            dst.addfile(member, io.BytesIO(data))
    fresh = place("destino")
    bad = _run(fresh, "restore", str(damaged), check=False)
    assert bad.returncode != 0
    assert "sha256" in bad.stderr
    ok = _run(fresh, "restore", "--verify-only", str(archive))
    assert "íntegra" in ok.stdout


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres") and not shutil.which("pg_dump"),
    reason="pg_dump is not installed",
)
def test_mail_waiting_in_the_spool_is_in_the_backup_and_comes_back(place, tmp_path):
    from atiende.channels.email import spool

    source = place("origen")
    _run(source, "migrate")
    raw = b"From: Pedro <pedro@acme.com.co>\r\nSubject: en la cola\r\n\r\nHola.\r\n"
    waiting = spool.write(
        raw, channel="correo", sender="pedro@acme.com.co", base=Path(source["ATIENDE_DATA_DIR"])
    )
    archive = tmp_path / "a.tar"
    _run(source, "backup", str(archive))
    member = f"spool/email/correo/{waiting.name}"
    with tarfile.open(archive) as tar:
        assert member in tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["spooled_mail"] == 1

    target = place("destino")
    _run(target, "restore", str(archive))
    restored = Path(target["ATIENDE_DATA_DIR"]) / member
    assert restored.read_bytes() == waiting.read_bytes()  # envelope line included
    assert spool.read(restored).raw == raw

    # An archive whose spool member would land outside the spool: refused before the
    # database is written (its manifest is consistent, so only the name gives it away).
    import hashlib
    import io

    evil = tmp_path / "evil.tar"
    bad_name = "spool/email/correo/..%2f..%2fx.eml"
    with tarfile.open(archive) as src, tarfile.open(evil, "w") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            if m.name == "manifest.json":
                doc = json.loads(data)
                doc["members"][bad_name] = doc["members"].pop(member)
                data = json.dumps(doc).encode()
            if m.name == member:
                m = tarfile.TarInfo(bad_name)
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    assert hashlib.sha256(raw).hexdigest() in member
    fresh = place("otro")
    refused = _run(fresh, "restore", str(evil), check=False)
    assert refused.returncode != 0 and "Miembro inesperado" in refused.stderr
    assert not (Path(fresh["ATIENDE_DATA_DIR"]) / "spool").exists()
    _run(fresh, "restore", str(archive))  # nothing was written: the place is still empty
