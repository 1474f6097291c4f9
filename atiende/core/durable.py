"""Files on local disk that a transaction's rows will name, made durable before it commits.

A row committed must never point to a file a power cut can take back: the file's bytes and
its name in its directory have to be on disk first. `written(path)` says "this file is
complete": inside a transaction the file waits, with the transaction's other files, and
the commit (`deferred.ConnectionHooks.commit`) first fsyncs every file, then every distinct
directory they were renamed into (and directories just made, in their parents), and only
then commits. Outside a transaction it is synced at once.

The fsyncs of one commit run on a few threads at the same time (`core/disk.py`). Files
made durable before the transaction began (the email parse workers write and sync a
group's attachments while the poller stores the group before: `cases/blobs.py`) are not
handed over here at all.

A file that cannot be synced fails the commit with `NotDurable`, a `DatabaseError`, so
that the transaction is rolled back as for any failed commit and the caller does what it
does when the database fails (the IMAP poller leaves the mail on the server, the MTA pipe
answers "try later"). Files of a rolled-back savepoint are synced all the same (harmless);
a rollback forgets them (they are orphans for `storage.sweep_orphans`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connections

from atiende.core import disk

_ATTR = "_atiende_unsynced_files"


class NotDurable(DatabaseError):
    """A file the transaction names could not be synced to disk: nothing was committed."""


def written(path: Path, *, directories: Iterable[Path] = (), conn: Any = None) -> None:
    """`path` is complete on local disk. `directories`: besides the file's own directory,
    any whose entries changed for it (a directory made for it, in its parent)."""
    conn = conn if conn is not None else connections["default"]
    dirs = {path.parent, *directories}
    if not conn.in_atomic_block:
        _sync({path}, dirs)
        return
    files, pending_dirs = conn.__dict__.setdefault(_ATTR, (set(), set()))
    files.add(path)
    pending_dirs.update(dirs)


def sync(conn: Any) -> None:
    """fsync the files `written` in this connection's transaction, then their directories."""
    pending = conn.__dict__.pop(_ATTR, None)
    if pending:
        _sync(*pending)


def discard(conn: Any) -> None:
    conn.__dict__.pop(_ATTR, None)


def _sync(files: set[Path], directories: set[Path]) -> None:
    try:
        disk.sync(files, directories)
    except OSError as exc:
        raise NotDurable(f"no se pudo asegurar en disco un adjunto: {exc}") from exc
