"""`disk.sync`: every file's bytes before any directory entry, errors raised, on threads
the process keeps (`core/disk.py`)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from atiende.core import disk


def _tree(root: Path, n: int) -> tuple[set[Path], set[Path]]:
    files, directories = set(), set()
    for i in range(n):
        directory = root / f"{i % 7:02d}"
        directory.mkdir(exist_ok=True)
        path = directory / f"archivo-{i}"
        path.write_bytes(os.urandom(100))
        files.add(path)
        directories.add(directory)
    return files, directories | {root}


def test_every_file_is_synced_before_any_directory(tmp_path, monkeypatch):
    synced: list[Path] = []
    lock = threading.Lock()
    real = disk.fsync

    def watched(path: Path) -> None:
        real(path)
        with lock:
            synced.append(path)

    monkeypatch.setattr(disk, "fsync", watched)
    files, directories = _tree(tmp_path, 40)
    disk.sync(files, directories)
    assert set(synced[: len(files)]) == files
    assert set(synced[len(files) :]) == directories and len(synced) == 48


def test_a_file_that_cannot_be_synced_raises(tmp_path):
    files, directories = _tree(tmp_path, 10)
    gone = sorted(files)[3]
    gone.unlink()
    with pytest.raises(FileNotFoundError):
        disk.sync(files, directories)


def test_the_threads_are_started_once_and_kept(tmp_path):
    (tmp_path / "a").mkdir()
    disk.sync(*_tree(tmp_path / "a", 30))
    before = {t for t in threading.enumerate() if t.name.startswith("fsync")}
    assert 0 < len(before) <= disk.THREADS
    (tmp_path / "b").mkdir()
    disk.sync(*_tree(tmp_path / "b", 30))
    after = {t for t in threading.enumerate() if t.name.startswith("fsync")}
    assert after == before
