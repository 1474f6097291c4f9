"""Attachment bytes, addressed by content hash, with type sniffing and refusals.

They live under the data directory (`ATTACHMENTS_DIR`) by default, or in an S3-compatible
bucket when `ATIENDE_S3_BUCKET` is set (settings: `STORAGES["attachments"]`), which every
machine of a multi-machine deployment shares. Either way an upload is first written and
hashed in a local temporary file; only complete, accepted files reach the store. On local
disk a file and its directory entry are synced before the transaction whose row names it
commits (`core/durable.py`). Readers go through `open_file`/`read_bytes`, never a path, so
both stores serve every door alike."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from atiende.cases import blobs
from atiende.cases.blobs import DANGEROUS_EXTENSIONS, EXECUTABLE_MAGIC, clean_filename
from atiende.core import durable
from atiende.core.errors import DomainError, InvalidInput, TooLarge

log = logging.getLogger(__name__)


class StorageFull(DomainError):
    """The attachments' disk is full (or over quota): nothing was stored; try later."""

    status = 507
    code = "storage_full"


class StorageUnavailable(DomainError):
    """The object store (ATIENDE_S3_BUCKET) did not answer or refused: nothing was stored."""

    status = 503
    code = "storage_unavailable"


UNAVAILABLE_MESSAGE = (
    "El almacenamiento de adjuntos no está disponible en este momento; no se guardó nada. "
    "Intente de nuevo en unos minutos."
)
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


@contextlib.contextmanager
def _object_store_errors():
    """botocore's errors (unreachable, refused, misconfigured) as a clear 503."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise FileNotFoundError(str(exc)) from exc
        log.warning("object store refused: %s", exc)
        raise StorageUnavailable(UNAVAILABLE_MESSAGE, retry_after=60) from exc
    except BotoCoreError as exc:
        log.warning("object store unavailable: %s", exc)
        raise StorageUnavailable(UNAVAILABLE_MESSAGE, retry_after=60) from exc


_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"\x1f\x8b", "application/gzip"),
]
_OFFICE = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    content_type: str
    filename: str


def sniff(head: bytes, filename: str) -> str:
    ext = os.path.splitext(filename)[1].lower()
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "application/zip" and ext in _OFFICE:
                return _OFFICE[ext]
            return kind
    sample = head[:1024].lstrip().lower()
    if sample.startswith((b"<svg", b"<?xml")) and b"<svg" in head.lower():
        return "image/svg+xml"
    if sample.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        return "text/html"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte character cut at the end
            return "application/octet-stream"
    if ext in (".csv",):
        return "text/csv"
    if ext == ".eml":
        return "message/rfc822"
    return "text/plain"


def root() -> Path:
    return Path(settings.ATTACHMENTS_DIR)


def path_for(sha256: str) -> Path:
    """Where the file is on local disk (the default store; uploads' temporary files)."""
    return blobs.path_for(root(), sha256)


def key_for(sha256: str) -> str:
    """The object's name in the bucket (below the `ATIENDE_S3_PREFIX`)."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def object_store():
    """The S3-compatible store when `ATIENDE_S3_BUCKET` is set, else None (local disk)."""
    if "attachments" not in settings.STORAGES:
        return None
    from django.core.files.storage import storages

    return storages["attachments"]


def open_file(sha256: str):
    """The stored bytes as a binary file object; FileNotFoundError when they are missing."""
    store = object_store()
    if store is None:
        return path_for(sha256).open("rb")
    with _object_store_errors():
        if not store.exists(key_for(sha256)):
            raise FileNotFoundError(key_for(sha256))
        return store.open(key_for(sha256), "rb")


def read_bytes(sha256: str) -> bytes:
    with _object_store_errors(), open_file(sha256) as handle:
        return handle.read()


def exists(sha256: str) -> bool:
    store = object_store()
    if store is None:
        return path_for(sha256).is_file()
    with _object_store_errors():
        return store.exists(key_for(sha256))


def put_file(sha256: str, source: Path) -> None:
    """Store the complete local file `source` (whose hash is `sha256`) and remove it.

    On local disk the file and its name are synced before the transaction that stores it
    commits (`core/durable.py`: all of a transaction's files together). An object store
    answers a PUT once the object is durable: nothing to sync there."""
    store = object_store()
    if store is None:
        final = path_for(sha256)
        if final.exists():
            os.unlink(source)
            os.utime(final)  # in use again: not an orphan for sweep_orphans
            # its writer's transaction may have been rolled back before syncing it
            durable.written(final)
            return
        made: list[Path] = []
        try:
            os.replace(source, final)
        except FileNotFoundError:  # the first file under this prefix
            made = blobs.make_directories(final.parent)
            os.replace(source, final)
        durable.written(final, directories=made)
        return
    from django.core.files import File

    try:
        with _object_store_errors():
            if not store.exists(key_for(sha256)):
                with open(source, "rb") as handle:
                    store.save(key_for(sha256), File(handle))
    finally:
        os.unlink(source)


def store(
    chunks: Iterable[bytes], filename: str, *, max_bytes: int | None = None, synced: str = ""
) -> Stored:
    """Stream `chunks` to disk by content hash. Refuses oversized and executable files.

    `synced`: the hash under which these bytes were already written on local disk and made
    durable (`blobs.place` and `core.disk.sync`, by an email parse worker); when the file
    is there and the bytes have that hash, nothing is written again."""
    limit = settings.ATIENDE_MAX_ATTACHMENT_BYTES if max_bytes is None else max_bytes
    name = clean_filename(filename)
    if os.path.splitext(name)[1].lower() in DANGEROUS_EXTENSIONS:
        raise InvalidInput(
            f"No se aceptan archivos ejecutables ni scripts ({name}).",
            errors={"file": "tipo de archivo no permitido"},
        )
    if synced:
        chunks = list(chunks)
        if (done := _already_synced(chunks, name, limit, synced)) is not None:
            return done
    try:
        return _store(chunks, name, limit)
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        raise StorageFull(
            "No hay espacio para guardar adjuntos en este momento; no se guardó nada. "
            "Intente de nuevo más tarde.",
            retry_after=300,
        ) from exc


def _already_synced(chunks: list[bytes], name: str, limit: int, sha256: str) -> Stored | None:
    """The file that `store(..., synced=sha256)` says is durable, if it is: on local disk,
    of these bytes, within the limits. None: store them as usual (which refuses them
    with the usual errors, or writes them)."""
    content = b"".join(chunks)
    if (
        object_store() is not None
        or len(content) > limit
        or content.startswith(EXECUTABLE_MAGIC)
        or hashlib.sha256(content).hexdigest() != sha256
        # a string, not a Path: a pass asks this for every file, and pathlib's joins were
        # a twelfth of the email writer's time (docs/benchmarks.md, issue 17, session 21)
        or not os.path.isfile(blobs.location(settings.ATTACHMENTS_DIR, sha256))
    ):
        return None
    return Stored(
        sha256=sha256, size=len(content), content_type=sniff(content[:4096], name), filename=name
    )


def _write(out, chunk: bytes) -> None:
    """The file boundary: where a full disk shows up (tests make it fail here too)."""
    out.write(chunk)


def _store(chunks: Iterable[bytes], name: str, limit: int) -> Stored:
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        fd, tmp = tempfile.mkstemp(dir=root(), prefix=".upload-")
    except FileNotFoundError:  # a new data directory
        root().mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=root(), prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        f"El archivo supera el tamaño máximo permitido ({limit // (1024 * 1024)} MB).",
                        limit=limit,
                    )
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                digest.update(chunk)
                _write(out, chunk)
        if head.startswith(EXECUTABLE_MAGIC):
            raise InvalidInput(
                f"No se aceptan archivos ejecutables ni scripts ({name}).",
                errors={"file": "tipo de archivo no permitido"},
            )
        sha = digest.hexdigest()
        put_file(sha, Path(tmp))
        return Stored(sha256=sha, size=size, content_type=sniff(head, name), filename=name)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


ORPHAN_AGE_SECONDS = 3600


def sweep_orphans(*, older_than: int = ORPHAN_AGE_SECONDS) -> list[str]:
    """Remove files no attachment row names: what a rolled-back transaction left (an email
    whose second attachment did not fit, a worker killed before its commit). Only files
    untouched for `older_than` seconds, so a transaction still running keeps its files
    (`store` touches a file it reuses). Returns the removed hashes."""
    from atiende.cases.models import Attachment
    from atiende.core import clock

    base = root()
    if not base.exists():
        return []
    # In a bucket, orphans are left to the bucket's own lifecycle rules (docs/deploy.md);
    # only interrupted uploads' temporary files are local there.
    limit = clock.now().timestamp() - older_than
    candidates = {
        p.name: p
        for p in base.glob("??/??/*")
        if p.is_file() and len(p.name) == 64 and p.stat().st_mtime < limit
    }
    candidates.update(
        {p.name: p for p in base.glob(".upload-*") if p.is_file() and p.stat().st_mtime < limit}
    )
    known = set(
        Attachment.objects.filter(sha256__in=list(candidates)).values_list("sha256", flat=True)
    )
    removed = []
    for sha, path in candidates.items():
        if sha in known:
            continue
        try:
            if path.stat().st_mtime < limit:  # not reused since it was listed
                path.unlink()
                removed.append(sha)
        except FileNotFoundError:
            pass
    return removed
