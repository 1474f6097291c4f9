"""The mail spool: messages the MTA pipe accepted and the worker has not stored yet.

`$ATIENDE_DATA_DIR/spool/email/<channel>/<sha256>.eml`, one file per message, named by
the SHA-256 of the message, so a message piped twice is one file. This module is the
on-disk format and nothing else; it uses only the standard library, because the pipe
(`atiende ingest-email`, one process per message) imports it without Django
(docs/decisions/0006-mta-pipe-spool.md). Storing what the spool holds is `spooled.py`.

A file is written to a temporary name in its directory, flushed to disk, renamed to its
final name and the directory flushed too: once `write` returns, the message survives a
power cut, and a file under its final name is always whole.

A file's first line is ours, `X-Atiende-Envelope-Sender: <...>` (the SMTP envelope
sender, or `-` when the MTA gave none), a header line so the file stays a readable
message; the worker strips exactly that line, so what it stores is the bytes as piped.

Workers claim a file by renaming it into their own `claimed/<worker>/` directory (one
rename: of several workers, on several machines sharing the directory, one wins) and
delete it only after its transaction committed. A worker that dies leaves its claims
behind; after `LEASE_SECONDS` without the file being touched another worker takes them
over. A message taken twice that way is stored once: intake knows it by Message-ID.

`atiende backup` copies the spool with the database: it holds `spool/email/.lock`
exclusively (`frozen`) while it snapshots the database and copies the files, and a
worker's round holds it shared (`round_lock`) from its claims to their deletion, so no
message is in neither copy (stored after the snapshot and deleted before the file copy).
A round that finds the spool frozen skips; the pipe never takes the lock and keeps
accepting mail. (`flock`: the workers and the backup must share the machine, or a file
system whose locks reach across machines.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

ENVELOPE_HEADER = b"X-Atiende-Envelope-Sender: "
NO_SENDER = b"-"
CLAIMED = "claimed"
TEMP_PREFIX = ".tmp-"
# A claimed file untouched for this long belongs to a worker that died.
LEASE_SECONDS = 300
# Temporary files of a pipe killed before its rename are removed after this long.
STALE_TEMP_SECONDS = 3600
# The default largest message the pipe accepts (ATIENDE_MAX_EMAIL_BYTES overrides it):
# above Postfix's default message_size_limit (10 MB) and the 50 MB the hostile tests feed
# the poller, so the MTA's own limit is the one that normally applies.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# Channel identifiers are Django slugs (directory.Channel.slug): checking the form here is
# what keeps a channel name from naming a path outside the spool. (Plain string checks
# rather than `re`, `dataclasses` or `socket`: each import is paid by every message.)
_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_HEX = frozenset("0123456789abcdef")


class SpoolError(Exception):
    """The message cannot be accepted as it is (the MTA should bounce it)."""


def data_dir() -> Path:
    """The data directory, read the way `atiende.settings` reads it (without Django)."""
    return Path(os.environ.get("ATIENDE_DATA_DIR", "var")).resolve()


def root(base: Path | None = None) -> Path:
    return (base or data_dir()) / "spool" / "email"


def max_bytes() -> int:
    value = os.environ.get("ATIENDE_MAX_EMAIL_BYTES", "")
    return int(value) if value.strip().isdigit() else DEFAULT_MAX_BYTES


def valid_channel(channel: str) -> bool:
    return 1 <= len(channel) <= 50 and _SLUG_CHARS.issuperset(channel)


def valid_file_name(name: str) -> bool:
    """`<sha256>.eml`: a finished spool file (not a temporary one, not a directory)."""
    return len(name) == 68 and name.endswith(".eml") and _HEX.issuperset(name[:64])


def looks_like_mail(raw: bytes) -> bool:
    """The first line is a header field (`Name: value`) or an mbox `From ` line.

    Every MTA puts at least a Return-Path or Received header first, so this refuses only
    what is not mail at all (a file piped by mistake); a message with headers that intake
    cannot make sense of is still accepted, and ends in quarantine."""
    first = raw.lstrip(b"\r\n")[:1000].split(b"\n", 1)[0]
    if first.startswith(b"From "):
        return True
    name, colon, _ = first.partition(b":")
    return bool(colon) and bool(name) and all(33 <= c <= 126 for c in name)


def check(raw: bytes, *, limit: int | None = None) -> None:
    """Refuse what no retry would fix: empty, too large, not mail (SpoolError)."""
    if not raw.strip():
        raise SpoolError("mensaje vacío")
    limit = max_bytes() if limit is None else limit
    if len(raw) > limit:
        raise SpoolError(f"mensaje demasiado grande: {len(raw)} bytes, el límite es {limit}")
    if not looks_like_mail(raw):
        raise SpoolError("la entrada no es un mensaje de correo (no empieza con cabeceras)")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_dir(path: Path) -> None:
    """Create `path` and its parents; a directory entry created here is flushed to disk."""
    if path.is_dir():
        return
    _ensure_dir(path.parent)
    try:
        path.mkdir()
    except FileExistsError:  # another pipe made it first
        return
    _fsync_dir(path.parent)


def write(raw: bytes, *, channel: str, sender: str | None, base: Path | None = None) -> Path:
    """Put one message in the spool durably; the same message twice is one file.

    Raises SpoolError for a bad channel name and OSError when the disk refuses."""
    if not valid_channel(channel):
        raise SpoolError(f"nombre de canal no válido: {channel!r}")
    directory = root(base) / channel
    target = directory / f"{hashlib.sha256(raw).hexdigest()}.eml"
    if target.exists():  # piped before and not stored yet: it is already durable
        return target
    _ensure_dir(directory)
    envelope = NO_SENDER if sender is None else _one_line(sender).encode("utf-8", "replace")
    temp = directory / f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        try:
            with os.fdopen(fd, "wb", closefd=False) as out:
                out.write(ENVELOPE_HEADER + b"<" + envelope + b">\r\n")
                out.write(raw)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)
    return target


LOCK_NAME = ".lock"


@contextlib.contextmanager
def round_lock(base: Path | None = None) -> Iterator[bool]:
    """Held by a worker for a whole round (claims, storing, deletions); yields False,
    without waiting, while a backup holds the spool (`frozen`): skip the round."""
    import fcntl

    fd = _lock_file(base)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def frozen(base: Path | None = None) -> Iterator[None]:
    """No worker's round runs while this is held (waits for a round in progress)."""
    import fcntl

    fd = _lock_file(base)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _lock_file(base: Path | None) -> int:
    directory = root(base)
    _ensure_dir(directory)
    return os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o640)


def every_file(base: Path | None = None) -> list[tuple[str, Path]]:
    """(channel, path) of every spooled message, waiting or claimed by any worker; one
    per file name (a message piped again while claimed is the same message)."""
    out: dict[tuple[str, str], Path] = {}
    for channel in channels(base):
        directory = root(base) / channel
        found = _files(directory)
        try:
            owners = [Path(e.path) for e in os.scandir(directory / CLAIMED) if e.is_dir()]
        except FileNotFoundError:
            owners = []
        for owner in owners:
            found += _files(owner)
        for path in found:
            out.setdefault((channel, path.name), path)
    return [(channel, out[(channel, name)]) for channel, name in sorted(out)]


def restore_file(channel: str, name: str, data: bytes, *, base: Path | None = None) -> Path:
    """Put a file copied by a backup back among the waiting ones (durably), refusing a
    name that is not a spool file's (an archive must not write outside the spool)."""
    if not valid_channel(channel) or not valid_file_name(name):
        raise SpoolError(f"nombre de archivo de la cola de correo no válido: {channel}/{name}")
    directory = root(base) / channel
    _ensure_dir(directory)
    temp = directory / f"{TEMP_PREFIX}restore-{os.urandom(6).hex()}"
    with open(temp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, directory / name)
    _fsync_dir(directory)
    return directory / name


def _one_line(text: str) -> str:
    return "".join(" " if c in "\r\n<>" or ord(c) < 32 else c for c in text).strip()


class Spooled:
    """A claimed file, read back: the envelope sender (None: not given) and the message."""

    __slots__ = ("path", "raw", "sender")

    def __init__(self, path: Path, raw: bytes, sender: str | None) -> None:
        self.path, self.raw, self.sender = path, raw, sender


def read(path: Path) -> Spooled:
    data = path.read_bytes()
    first, newline, rest = data.partition(b"\n")
    if not first.startswith(ENVELOPE_HEADER) or not newline:
        return Spooled(path, data, None)  # put there by hand: the message as it is
    value = first[len(ENVELOPE_HEADER) :].strip().removeprefix(b"<").removesuffix(b">")
    sender = None if value == NO_SENDER else value.decode("utf-8", "replace")
    return Spooled(path, rest, sender)


def worker_name() -> str:
    """This process's claimed/ directory: host and pid, as the job queue names workers."""
    name = f"{os.uname().nodename}-{os.getpid()}"
    return "".join(c if c in _SLUG_CHARS or c == "." else "_" for c in name)


def channels(base: Path | None = None) -> list[str]:
    """The channels that have a spool directory."""
    try:
        return sorted(
            e.name for e in os.scandir(root(base)) if e.is_dir() and valid_channel(e.name)
        )
    except FileNotFoundError:
        return []


def claim(
    channel: str,
    *,
    limit: int = 500,
    owner: str | None = None,
    base: Path | None = None,
    lease_seconds: float = LEASE_SECONDS,
    now: float | None = None,
) -> list[Path]:
    """Move up to `limit` waiting files (oldest first) into this worker's claimed/
    directory, after the claims other workers left for longer than the lease; return
    every file this worker holds (claims of an earlier run under the same name too)."""
    directory = root(base) / channel
    mine = directory / CLAIMED / (owner or worker_name())
    mine.mkdir(parents=True, exist_ok=True)
    now = time.time() if now is None else now
    held = _files(mine)
    room = max(0, limit - len(held))
    for path in _expired_claims(directory / CLAIMED, mine, now - lease_seconds)[:room]:
        held += _take(path, mine, now)
    room = max(0, limit - len(held))
    waiting = sorted(_files(directory), key=_mtime)
    for path in waiting[:room]:
        held += _take(path, mine, now)
    _remove_stale_temps(directory, now)
    return sorted(set(held), key=_mtime)


def _take(path: Path, mine: Path, now: float) -> list[Path]:
    """One rename; the worker whose rename wins holds the file. The file is touched first,
    so the lease runs from the claim, not from when the MTA wrote it."""
    target = mine / path.name
    try:
        os.utime(path, (now, now))
        os.rename(path, target)
    except FileNotFoundError:  # another worker took it (or stored it) first
        return []
    return [target]


def _files(directory: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(directory) if valid_file_name(e.name)]
    except FileNotFoundError:
        return []


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _expired_claims(claimed: Path, mine: Path, before: float) -> list[Path]:
    expired = []
    try:
        owners = [Path(e.path) for e in os.scandir(claimed) if e.is_dir()]
    except FileNotFoundError:
        return []
    for owner in owners:
        if owner == mine:
            continue
        files = _files(owner)
        expired += [p for p in files if 0 < _mtime(p) < before]
        if not files and 0 < _mtime(owner) < before:
            with contextlib.suppress(OSError):  # a dead worker's; a live one makes it again
                owner.rmdir()
    return sorted(expired, key=_mtime)


def _remove_stale_temps(directory: Path, now: float) -> None:
    for entry in os.scandir(directory):
        if entry.name.startswith(TEMP_PREFIX):
            try:
                if entry.stat().st_mtime < now - STALE_TEMP_SECONDS:
                    os.unlink(entry.path)
            except FileNotFoundError:
                pass


def done(paths: list[Path]) -> None:
    """Remove files whose messages are stored (call after the commit), then flush their
    directories once."""
    for path in paths:
        path.unlink(missing_ok=True)
    for directory in {path.parent for path in paths}:
        _fsync_dir(directory)


def waiting(channel: str, *, base: Path | None = None) -> int:
    """Files not yet claimed (for health and tests)."""
    return len(_files(root(base) / channel))
