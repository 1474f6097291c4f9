"""`core.disk.sync` over groups of files like an email pass's: processor and wall time.

    .venv/bin/python bench/bench_disk_sync.py [--groups 40] [--files 31]

Writes `--groups` groups of `--files` files of 6 KB (the attachments and raw mails of a
transaction group) into as many directories as a content-addressed store spreads them
over, under `var/bench-disk-sync/` (on the disk the data directory uses), then syncs each
group with `disk.sync` as a parse worker does, and prints the process's user and system
time and the wall time for all the groups. Run it with `PYTHONPATH` set to another tree to
time that tree's `disk.sync`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH's tree
from atiende.core import disk

ROOT = Path(__file__).resolve().parent.parent / "var" / "bench-disk-sync"


def group(g: int, files: int) -> tuple[set[Path], set[Path]]:
    made, directories = set(), set()
    for i in range(files):
        directory = ROOT / f"{g:03d}" / f"{i % 16:02d}"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"f{i}"
        path.write_bytes(os.urandom(6000))
        made.add(path)
        directories.update([directory, directory.parent])
    return made, directories


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--files", type=int, default=31)
    args = parser.parse_args()
    shutil.rmtree(ROOT, ignore_errors=True)
    try:
        groups = [group(g, args.files) for g in range(args.groups)]
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        for files, directories in groups:
            disk.sync(files, directories)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        shutil.rmtree(ROOT, ignore_errors=True)
    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    print(
        f"disk.sync of {args.groups} groups of {args.files} files: wall {wall * 1000:.0f} ms,"
        f" user {user * 1000:.0f} ms, system {system * 1000:.0f} ms ({disk.__file__})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
