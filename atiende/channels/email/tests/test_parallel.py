"""Parsing in a process pool (`parallel`) stores what parsing in the poller stores, and a
worker that dies loses no message."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connections

from atiende.cases import storage
from atiende.cases.models import Attachment, Case, Note
from atiende.channels.email import imap, intake, parallel
from atiende.channels.email.models import ReceivedEmail
from atiende.channels.email.tests.conftest import FIXTURES, fixture
from atiende.channels.email.tests.test_imap import numbered
from atiende.core import disk as core_disk

OWN = frozenset({"mesadeayuda@certicamara.com"})


@pytest.fixture(autouse=True)
def _parse_only(monkeypatch):
    """These pools parse, the poller stores: the pools whose workers also store (PostgreSQL,
    decision 0015) have their own tests (`tests/test_store_pool.py`)."""
    monkeypatch.setattr(parallel, "STORE", False)


ROOT = Path(__file__).resolve().parents[4]  # the checkout: `atiende` importable from here


def renamed(raw: bytes, tag: str) -> bytes:
    """The same mail under another Message-ID (a message without one keeps none)."""
    return re.sub(rb"(?im)^(Message-ID:\s*<)", rb"\g<1>" + tag.encode() + b"-", raw, count=1)


@pytest.mark.parametrize("start", ["fork", "forkserver"])
def test_the_pool_parses_every_fixture_exactly_as_the_poller_does(start, monkeypatch):
    monkeypatch.setattr(parallel, "START_METHOD", start)
    raws = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
    envelopes: list[str | None] = [None] * len(raws)
    here = parallel.parse_group(raws, envelopes, channel="correo", own=OWN, trusted=frozenset())
    with parallel.Parser(channel="correo", own=OWN, trusted=frozenset(), size=2) as parser:
        futures = [
            parser.submit(raws[i : i + 5], envelopes[i : i + 5]) for i in range(0, len(raws), 5)
        ]
        assert all(f is not None for f in futures)
        pooled = [
            p
            for i, f in zip(range(0, len(raws), 5), futures, strict=True)
            for p in parser.result(f, raws[i : i + 5], envelopes[i : i + 5])
        ]
    assert not parser.broken
    assert pooled == here
    assert any(p is None for p in here)  # malformed.eml: quarantined later, either way


@pytest.mark.usefixtures("frozen", "sla_targets")
def test_a_pass_parsed_in_a_pool_stores_what_a_serial_pass_stores(
    dovecot, correo, acme, monkeypatch
):
    # Each once under each tag (a mail without a Message-ID would be the same mail twice).
    skip = {"malformed.eml", "plain_other_folder.eml", "no_message_id.eml"}
    names = [p.name for p in sorted(FIXTURES.glob("*.eml")) if p.name not in skip]

    def stored(tag: str) -> list[tuple]:
        notes = Note.objects.filter(direction="inbound", external_id__contains=f"{tag}-")
        return sorted(
            (
                n.body_text,
                re.sub(r"/cases/CS\d+/[^\"]*", "", n.body_html),
                sorted(
                    Attachment.objects.filter(note=n)
                    .exclude(filename=intake.ORIGINAL_EML)
                    .values_list("filename", "sha256")
                ),
            )
            for n in notes
        )

    monkeypatch.setattr(parallel, "MIN_MESSAGES", 10**6)  # serial
    dovecot.deliver([renamed(fixture(n), "serial") for n in names])
    serial = imap.poll_once(correo)
    monkeypatch.setattr(parallel, "MIN_MESSAGES", 1)  # pooled
    dovecot.deliver([renamed(fixture(n), "pool") for n in names])
    pooled = imap.poll_once(correo)
    assert pooled.fetched == serial.fetched == len(names)
    assert (pooled.stored, pooled.bounce) == (serial.stored, serial.bounce)
    assert (pooled.quarantined, serial.quarantined) == (0, 0)
    assert len(stored("pool")) == pooled.stored > 10
    assert stored("pool") == stored("serial")
    assert dovecot.count("INBOX") == 0


@pytest.mark.usefixtures("frozen", "sla_targets")
@pytest.mark.parametrize("start", ["fork", "forkserver"])
def test_a_parse_worker_that_dies_mid_pass_loses_no_message(
    start, dovecot, correo, acme, monkeypatch, caplog
):
    monkeypatch.setattr(parallel, "START_METHOD", start)
    monkeypatch.setattr(parallel, "MIN_MESSAGES", 1)
    parsers: list[parallel.Parser] = []
    enter = parallel.Parser.__enter__

    def remembered(self):
        parsers.append(self)
        return enter(self)

    monkeypatch.setattr(parallel.Parser, "__enter__", remembered)
    real = intake.ingest_many
    killed: list[int] = []

    def kill_the_workers_first(*args, **kwargs):
        if not killed:  # the first group is parsed; the pool holds the next ones
            pool = parsers[0]._pool
            assert pool is not None
            for process in list(pool._processes.values()):
                os.kill(process.pid, signal.SIGKILL)
                killed.append(process.pid)
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "ingest_many", kill_the_workers_first)
    dovecot.deliver([numbered(i) for i in range(160)])
    result = imap.poll_once(correo)
    assert killed
    assert (result.fetched, result.stored, result.quarantined) == (160, 160, 0)
    assert parsers[0].broken and "parse worker died" in caplog.text
    inbound_notes = Note.objects.filter(direction="inbound", channel=correo)
    assert (
        inbound_notes.count()
        == 160
        == len(set(inbound_notes.values_list("external_id", flat=True)))
    )
    assert Case.objects.count() == 160 and ReceivedEmail.objects.count() == 160
    assert dovecot.count("INBOX") == 0


def test_a_pass_of_a_few_messages_starts_no_pool():
    with parallel.Parser(channel="correo", own=OWN, trusted=frozenset(), size=0) as parser:
        assert parser.submit([fixture("plain.eml")], [None]) is None
        [parsed] = parser.result(None, [fixture("plain.eml")], [None])
    assert parsed is not None and parsed.message.sender_email


def test_the_pool_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert parallel.workers() == 3
    monkeypatch.setattr(parallel.mechanisms, "EMAIL_PARSE_POOL", False)
    assert parallel.workers() == 0  # every pass parses in the poller


def test_parsed_mails_that_do_not_match_the_raw_ones_are_refused(correo):
    with pytest.raises(ValueError, match="1 parsed mails for 2"):
        intake.ingest_many(correo, [(b"a", "x"), (b"b", "y")], own=set(), parsed=[None])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_workers_end_when_the_poller_is_killed(tmp_path):
    pids_file = tmp_path / "pids"
    script = (
        "import os, signal, sys\n"
        "from atiende.channels.email import parallel\n"
        "parser = parallel.Parser(channel='correo', own=set(), trusted=frozenset(), size=2)\n"
        "parser.result(parser.submit([b'From: a@b.co\\r\\n\\r\\nx'], [None]), [], [])\n"
        "open(sys.argv[1], 'w').write(' '.join(str(p) for p in parser._pool._processes))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    # No pipes: a worker left behind must not hold the test up, only fail it.
    done = subprocess.run(
        [sys.executable, "-c", script, str(pids_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == -signal.SIGKILL
    pids = [int(p) for p in pids_file.read_text().split()]
    assert pids
    try:
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in pids)
    finally:
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.usefixtures("frozen", "sla_targets")
@pytest.mark.django_db(transaction=True)
def test_in_a_pooled_pass_every_committed_row_names_a_file_a_worker_synced(
    dovecot, correo, acme, monkeypatch, settings, tmp_path
):
    """The workers write and sync the attachments and original mails (`keep_files`); at
    each of the poller's commits, every attachment row it can see names a file already
    synced, by a worker and not by the poller. Watched through a log file, since the
    workers are other processes (forked: they inherit the watched fsync)."""
    monkeypatch.setattr(parallel, "START_METHOD", "fork")
    monkeypatch.setattr(parallel, "MIN_MESSAGES", 1)
    settings.ATTACHMENTS_DIR = tmp_path / "adjuntos"
    log = tmp_path / "fsyncs"
    fsync = core_disk.fsync

    def watched(path: Path) -> None:
        fsync(path)
        with open(log, "a") as out:
            out.write(f"{os.getpid()} {path}\n")

    monkeypatch.setattr(core_disk, "fsync", watched)
    poller, late, commits = os.getpid(), [], []
    commit = type(connections["default"])._commit

    def watched_commit(self):
        if self.alias == "default":
            with self.cursor() as cursor:
                cursor.execute("SELECT sha256 FROM cases_attachment")
                rows = cursor.fetchall()
            named = {str(storage.path_for(sha)) for (sha,) in rows}
            lines = (
                [line.split(" ", 1) for line in log.read_text().splitlines()]
                if log.exists()
                else []
            )
            by_workers = {path for pid, path in lines if int(pid) != poller}
            late.extend(named - by_workers)
            commits.append(len(rows))
        return commit(self)

    monkeypatch.setattr(type(connections["default"]), "_commit", watched_commit)
    names = ["attachments_encoded_names.eml", "inline_image.eml", "plain.eml"]
    dovecot.deliver([renamed(fixture(n), f"w{i}") for i in range(10) for n in names])
    result = imap.poll_once(correo)
    assert (result.fetched, result.stored) == (30, 30)  # two transaction groups
    assert Attachment.objects.filter(filename=intake.ORIGINAL_EML).count() == 30
    assert Attachment.objects.exclude(filename=intake.ORIGINAL_EML).count() > 8
    assert len([n for n in commits if n]) == 2 and commits[-1] == Attachment.objects.count()
    assert not late, f"rows named files no worker had synced: {sorted(late)[:3]}"


def test_a_worker_that_cannot_write_the_files_leaves_them_to_the_poller(tmp_path):
    not_a_directory = tmp_path / "adjuntos"
    not_a_directory.write_text("")
    keep = parallel.Keep(root=str(not_a_directory), max_bytes=10**7, per_message=100)
    raws = [fixture("attachments_encoded_names.eml"), fixture("plain.eml")]
    parsed = parallel.parse_group(
        raws, [None, None], channel="correo", own=OWN, trusted=frozenset(), keep=keep
    )
    assert all(p is not None for p in parsed)
    assert not any(p.raw_synced for p in parsed if p is not None)
    assert not any(a.synced for p in parsed if p is not None for a in p.message.attachments)


def test_the_fsync_threads_kept_between_syncs_do_not_stop_a_fork(tmp_path, monkeypatch):
    """A process that synced files keeps idle fsync threads (`core.disk`): its pool is still
    forked; another thread of its own makes it use the fork server."""
    import threading

    monkeypatch.setattr(parallel, "START_METHOD", None)
    here = threading.current_thread()
    if any(t is not here and not t.name.startswith("fsync") for t in threading.enumerate()):
        pytest.skip("this test runner runs threads of its own")
    files = set()
    for i in range(4):
        (tmp_path / f"f{i}").write_bytes(b"x")
        files.add(tmp_path / f"f{i}")
    core_disk.sync(files, {tmp_path})
    assert any(t.name.startswith(core_disk.THREAD_PREFIX) for t in threading.enumerate())
    assert parallel._start_method() == "fork"
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert parallel._start_method() == "forkserver"
    finally:
        stop.set()
        other.join()
