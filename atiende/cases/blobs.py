"""Attachment files on local disk by content hash, without Django.

The layout (`<root>/ab/cd/<sha256>`), the refusals that look only at a file's name and
first bytes, and writing a file into place. `storage` is the store the services use; this
part of it is also what the email parse workers use (they import no Django,
`channels/email/parallel.py`): they write a group's attachments and its original mails and
make them durable while the poller stores the group before, and the poller's rows then
name files that are already on disk (`storage.store(..., synced=...)`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from pathlib import Path

# Executables and scripts are refused outright: a help desk has no reason to store them.
DANGEROUS_EXTENSIONS = frozenset(
    [
        ".exe",
        ".dll",
        ".com",
        ".scr",
        ".bat",
        ".cmd",
        ".msi",
        ".ps1",
        ".vbs",
        ".vbe",
        ".js",
        ".jse",
        ".wsf",
        ".wsh",
        ".hta",
        ".cpl",
        ".jar",
        ".lnk",
        ".sh",
        ".app",
        ".apk",
        ".elf",
        ".so",
        ".reg",
        ".pif",
    ]
)

EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce", b"#!")


MAX_FILENAME = 200


def clean_filename(name: str) -> str:
    """A name safe to store and to show: no path, no control, format (bidi, zero-width) or
    separator characters but the plain space, no leading or trailing dots and spaces (which
    Windows drops, so «x.exe .» is «x.exe»), at most MAX_FILENAME characters keeping the
    extension — the name the executable check looks at is the name that is kept."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/")).rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"/\\|?*')
    base = base.strip(" .")
    if len(base) > MAX_FILENAME:
        stem, ext = os.path.splitext(base)
        if not 1 < len(ext) <= 16:
            stem, ext = base, ""
        base = stem[: MAX_FILENAME - len(ext)].rstrip(" .") + ext
    return base or "adjunto"


def refused(name: str, head: bytes) -> bool:
    """Whether a file with this (clean) name and these first bytes is refused as an
    executable or a script, whatever its size."""
    return os.path.splitext(name)[1].lower() in DANGEROUS_EXTENSIONS or head.startswith(
        EXECUTABLE_MAGIC
    )


def path_for(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:4] / sha256


def location(root: str | os.PathLike[str], sha256: str) -> str:
    """`path_for` as a string, several times quicker where it is asked by the thousand."""
    return os.path.join(root, sha256[:2], sha256[2:4], sha256)


def make_directories(directory: Path) -> list[Path]:
    """Make `directory` and its missing parents; the directories that got a new entry."""
    missing = []
    at = directory
    while not at.exists():
        missing.append(at)
        at = at.parent
    directory.mkdir(parents=True, exist_ok=True)
    return [made.parent for made in missing]


def place(root: Path, content: bytes) -> tuple[str, Path, list[Path]]:
    """Write `content` under `root` by its hash, unless a file of that hash is there (then
    it is touched: in use again, not an orphan for `storage.sweep_orphans`). Returns the
    hash, the file, and the directories that got a new entry for it; the caller syncs the
    file and those directories and the file's own (`core.disk.sync`) before a row names it."""
    sha = hashlib.sha256(content).hexdigest()
    final = path_for(root, sha)
    if final.exists():
        os.utime(final)
        return sha, final, []
    try:
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-")
    except FileNotFoundError:  # a new data directory
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        made: list[Path] = []
        try:
            os.replace(tmp, final)
        except FileNotFoundError:  # the first file under this prefix
            made = make_directories(final.parent)
            os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return sha, final, made
