"""`atiende backup PATH` and `atiende restore PATH`: one archive, taken while atiende runs.

The archive is a tar file:

    manifest.json            what is inside, with the sha256 and size of every member
    database.sqlite3         SQLite: a copy made with SQLite's online backup API
    database.pgdump          PostgreSQL: `pg_dump --format=custom`
    attachments/<sha256>     every attachment the database copy names, once
    spool/email/<channel>/<sha256>.eml
                             mail the MTA pipe accepted and no worker had stored yet

Consistency: the database is copied first, as one snapshot (SQLite's backup reads one
consistent state while writers go on; pg_dump reads the snapshot exported by a REPEATABLE
READ transaction), and the attachments copied are exactly those named by that snapshot.
Attachment files are addressed by their content and never rewritten, so a file copied
later is the file the snapshot meant. (They are only removed once no row names them, an
hour after, by `storage.sweep_orphans`.) The mail spool is copied under the same lock as
the snapshot (`spool.frozen`: no worker stores spooled mail meanwhile), so a message the
MTA was told is accepted is in the database copy or in the spool copy; one in both (a
worker that died between its commit and the file's deletion) is stored once after the
restore, by Message-ID.

Restore refuses a database or store that is not empty, checks every member against the
manifest before writing anything, then loads the database (SQLite: the file; PostgreSQL:
`pg_restore`) and puts every attachment into the configured store (the data directory or
the bucket) and checks each byte for byte.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

from atiende.channels.email import spool

FORMAT = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """Something the operator must fix; the message says what (Spanish)."""


@dataclass
class Result:
    path: Path
    vendor: str
    attachments: int
    bytes: int
    members: dict[str, dict] = field(default_factory=dict)


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _pg_env(db: dict) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"No se encontró {name}: instale el cliente de PostgreSQL (paquete postgresql-client) "
            "de la misma versión mayor que el servidor o una más nueva."
        )
    return path


# -- Backup ---------------------------------------------------------------------------------


def backup(path: str | os.PathLike) -> Result:
    target = Path(path)
    if target.exists() and target.is_dir():
        raise BackupError(f"{target} es un directorio; indique el nombre del archivo (.tar).")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="atiende-backup-", dir=target.parent) as work:
        work_dir = Path(work)
        vendor = connection.vendor
        with spool.frozen():
            if vendor == "sqlite":
                db_name = "database.sqlite3"
                shas = _sqlite_snapshot(work_dir / db_name)
            elif vendor == "postgresql":
                db_name = "database.pgdump"
                shas = _postgres_snapshot(work_dir / db_name)
            else:  # pragma: no cover - settings refuse other databases
                raise BackupError(f"Base de datos no soportada: {vendor}")
            spooled = _copy_spool(work_dir / "spool")
        partial = work_dir / "archive.tar"
        members: dict[str, dict] = {}
        total = 0
        with tarfile.open(partial, "w") as tar:
            digest, size = _sha256_file(work_dir / db_name)
            tar.add(work_dir / db_name, arcname=db_name)
            members[db_name] = {"sha256": digest, "size": size}
            total += size
            for sha in sorted(shas):
                name = f"attachments/{sha}"
                size, actual = _add_attachment(tar, name, sha)
                if actual != sha:
                    raise BackupError(
                        f"El adjunto {sha} no coincide con su suma sha256 en el almacenamiento "
                        f"({actual}); la copia se detuvo."
                    )
                members[name] = {"sha256": sha, "size": size}
                total += size
            for name, copy in spooled:
                digest, size = _sha256_file(copy)
                tar.add(copy, arcname=name)
                members[name] = {"sha256": digest, "size": size}
                total += size
            manifest = {
                "format": FORMAT,
                "created_at": dt.datetime.now(dt.UTC).isoformat(),
                "database": {"vendor": vendor, "member": db_name},
                "attachments": len(shas),
                "spooled_mail": len(spooled),
                "members": members,
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
        os.replace(partial, target)  # a backup is either whole or absent
    return Result(path=target, vendor=vendor, attachments=len(shas), bytes=total, members=members)


def _copy_spool(dest: Path) -> list[tuple[str, Path]]:
    """Copy every spooled mail file (waiting or claimed) into `dest`; (member name, copy).
    Called while the spool is frozen; a file another machine's worker removes meanwhile is
    one it stored (and the database copy may hold it or not: see the module's docstring)."""
    out = []
    for n, (channel, path) in enumerate(spool.every_file()):
        copy = dest / f"{n}.eml"
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, copy)
        except FileNotFoundError:
            continue
        out.append((f"spool/email/{channel}/{path.name}", copy))
    return out


def _add_attachment(tar: tarfile.TarFile, name: str, sha: str) -> tuple[int, str]:
    """Stream one stored attachment into the tar; returns its size and real sha256."""
    from atiende.cases import storage

    try:
        handle = storage.open_file(sha)
    except FileNotFoundError:
        raise BackupError(
            f"Falta el archivo del adjunto {sha} en el almacenamiento: la base de datos lo "
            "nombra pero no está. Revise el almacenamiento antes de copiar."
        ) from None
    with handle, tempfile.TemporaryFile() as spool:
        digest = hashlib.sha256()
        size = 0
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
        tar.addfile(info, spool)
    return size, digest.hexdigest()


def _sqlite_snapshot(dest: Path) -> set[str]:
    source = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]), timeout=30)
    try:
        copy = sqlite3.connect(str(dest))
        try:
            source.backup(copy)  # one step: a consistent read while writers go on (WAL)
            rows = copy.execute("SELECT DISTINCT sha256 FROM cases_attachment").fetchall()
        finally:
            copy.close()
    finally:
        source.close()
    return {sha for (sha,) in rows}


def _postgres_snapshot(dest: Path) -> set[str]:
    import psycopg

    pg_dump = _tool("pg_dump")
    db = settings.DATABASES["default"]
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "connect_timeout": 10,
    }
    # Its own connection (not Django's) holds the snapshot open while pg_dump reads it.
    conninfo = {k: v for k, v in params.items() if v is not None}
    # autocommit: no implicit BEGIN, so this BEGIN's isolation level is the one in force.
    with psycopg.connect(**conninfo, autocommit=True) as holder:
        holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        exported = holder.execute("SELECT pg_export_snapshot()").fetchone()
        assert exported is not None  # the function always returns one row
        (snapshot,) = exported
        rows = holder.execute("SELECT DISTINCT sha256 FROM cases_attachment").fetchall()
        done = subprocess.run(
            [pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", "-f", str(dest)],
            env=_pg_env(db),
            capture_output=True,
            text=True,
        )
        holder.execute("ROLLBACK")
    if done.returncode != 0:
        raise BackupError(f"pg_dump falló: {done.stderr.strip()[-2000:]}")
    return {sha for (sha,) in rows}


# -- Restore --------------------------------------------------------------------------------


def read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError(
            "El archivo no es una copia de atiende: no tiene manifest.json."
        ) from None
    manifest = json.loads(tar.extractfile(member).read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Formato de copia desconocido: {manifest.get('format')!r}.")
    return manifest


def verify(path: str | os.PathLike) -> dict:
    """Check every member against the manifest (sha256 and size); returns the manifest."""
    with tarfile.open(path, "r") as tar:
        manifest = read_manifest(tar)
        expected = dict(manifest["members"])
        for member in tar.getmembers():
            if member.name == MANIFEST:
                continue
            if member.name not in expected or not member.isfile():
                raise BackupError(f"Miembro inesperado en la copia: {member.name!r}.")
            digest = hashlib.sha256()
            handle = tar.extractfile(member)
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
            want = expected.pop(member.name)
            if digest.hexdigest() != want["sha256"] or member.size != want["size"]:
                raise BackupError(f"{member.name} no coincide con su suma sha256: copia dañada.")
        if expected:
            raise BackupError(f"Faltan en la copia: {', '.join(sorted(expected)[:5])}.")
    return manifest


def _database_is_empty() -> bool:
    return not connection.introspection.table_names()


def _store_is_empty() -> bool:
    from atiende.cases import storage

    store = storage.object_store()
    if store is None:
        base = storage.root()
        return not base.exists() or not any(p.is_file() for p in base.glob("??/??/*"))
    dirs, files = store.listdir("")
    return not dirs and not files


def restore(path: str | os.PathLike) -> dict:
    manifest = verify(path)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"La copia es de {vendor} y la base de datos configurada es {connection.vendor}: "
            "restaure en el mismo motor."
        )
    if not _database_is_empty():
        raise BackupError(
            "La base de datos de destino no está vacía: restaure en una base nueva "
            "(DATABASE_URL) y un directorio de datos nuevo (ATIENDE_DATA_DIR)."
        )
    if not _store_is_empty():
        raise BackupError("El almacenamiento de adjuntos de destino no está vacío.")
    for name in manifest["members"]:
        if name.startswith("spool/"):
            _spool_member(name)  # refused before anything is written
    with tarfile.open(path, "r") as tar:
        member = manifest["database"]["member"]
        with tempfile.TemporaryDirectory(prefix="atiende-restore-") as work:
            dump = Path(work) / member
            with tar.extractfile(member) as src, open(dump, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            if vendor == "sqlite":
                _restore_sqlite(dump)
            else:
                _restore_postgres(dump)
        for name, meta in manifest["members"].items():
            if name.startswith("attachments/"):
                _restore_attachment(tar, name, meta["sha256"])
            elif name.startswith("spool/email/"):
                _restore_spooled(tar, name)
    return manifest


def _restore_sqlite(dump: Path) -> None:
    connections.close_all()
    target = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
    try:
        source = sqlite3.connect(str(dump))
        try:
            source.backup(target)
        finally:
            source.close()
    finally:
        target.close()


def _restore_postgres(dump: Path) -> None:
    pg_restore = _tool("pg_restore")
    db = settings.DATABASES["default"]
    connections.close_all()
    done = subprocess.run(
        [
            pg_restore,
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "-d",
            db["NAME"],
            str(dump),
        ],
        env=_pg_env(db),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore falló: {done.stderr.strip()[-2000:]}")


def _restore_attachment(tar: tarfile.TarFile, name: str, sha: str) -> None:
    from atiende.cases import storage

    storage.root().mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=storage.root(), prefix=".restore-")
    with os.fdopen(fd, "wb") as out, tar.extractfile(name) as src:
        shutil.copyfileobj(src, out, CHUNK)
    storage.put_file(sha, Path(tmp))
    with contextlib.closing(storage.open_file(sha)) as handle:
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != sha:
        raise BackupError(f"El adjunto {sha} no quedó igual en el almacenamiento.")


def _spool_member(name: str) -> tuple[str, str]:
    """(channel, file name) of a `spool/email/<channel>/<sha256>.eml` member; anything else
    under spool/ is refused (an archive must not write outside the spool)."""
    parts = name.split("/")
    if len(parts) != 4 or not spool.valid_channel(parts[2]) or not spool.valid_file_name(parts[3]):
        raise BackupError(f"Miembro inesperado en la copia: {name!r}.")
    return parts[2], parts[3]


def _restore_spooled(tar: tarfile.TarFile, name: str) -> None:
    """A spooled mail back among the waiting ones: a worker stores it on its next round."""
    channel, file_name = _spool_member(name)
    handle = tar.extractfile(name)
    assert handle is not None  # verify() checked that every member is a file
    spool.restore_file(channel, file_name, handle.read())


def iter_members(path: str | os.PathLike) -> Iterator[str]:
    with tarfile.open(path, "r") as tar:
        yield from tar.getnames()
