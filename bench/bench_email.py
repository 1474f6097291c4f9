"""Email intake end to end: 1,000 messages from a real Dovecot into cases.

    .venv/bin/python bench/bench_email.py --db sqlite
    .venv/bin/python bench/bench_email.py --db postgres
    .venv/bin/python bench/bench_email.py --db sqlite --corpus realistic [--process] [--profile FILE]

`--corpus fixtures` (the default) cycles 8 small test fixtures over 97 senders.
`--corpus realistic` is what customers send: `../shared/bench/gen_emails.py -n N --seed 42
--raw-latin1-8bit 3` (Spanish, UTF-8 and ISO-8859-1, multipart/alternative, 1-8 KiB
PDF/PNG/CSV attachments, RFC 2047 names) plus 3 raw 8-bit Latin-1 messages; after the pass
it checks every message was stored exactly once, with its verification code, and every
attachment byte-identical. `--process` times a whole `atiende poll-email --once` process
(interpreter start included) instead of one `poll_once` call in this process.

CPU seconds are this process's during the `poll_once` call plus its parse workers' (forked
children, `atiende.channels.email.parallel`), or the `poll-email` child's with its workers,
whole; not Dovecot's or PostgreSQL's: on a shared machine they compare better than the
wall clock. `--profile` profiles this process only (the writer), not the parse workers.

Starts a throwaway Dovecot, appends N messages (a mix of the test corpus: plain, HTML-only,
raw 8-bit Latin-1, with attachments, replies), then times one `poll-email` pass in this
process: fetch, parse, store (with the raw .eml), thread, open cases and queue their
acknowledgements, move each chunk to the processed folder. Prints a Markdown table row.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

FIXTURES = common.ROOT / "atiende" / "channels" / "email" / "tests" / "fixtures"
MIX = [
    "plain.eml",
    "html_only.eml",
    "raw_8bit_latin1.eml",
    "attachments_encoded_names.eml",
    "latin1_mislabeled.eml",
    "inline_image.eml",
    "encoded_words.eml",
    "reply_outlook.eml",
]


def corpus(n: int) -> list[bytes]:
    bases = [(FIXTURES / name).read_bytes() for name in MIX]
    out = []
    for i in range(n):
        raw = bases[i % len(bases)]
        raw = re.sub(
            rb"Message-ID: <[^>]+>", f"Message-ID: <bench-{i}@acme.com.co>".encode(), raw, count=1
        )
        # a new sender every 7 messages: known contacts and new ones, several organizations' domains
        raw = re.sub(
            rb"<(\w+)@acme\.com\.co>",
            f"<cliente{i % 97}@acme{i % 5}.com.co>".encode(),
            raw,
            count=1,
        )
        out.append(raw)
    return out


GENERATOR = common.ROOT.parent / "shared" / "bench" / "gen_emails.py"
RAW_LATIN1 = 3


def realistic(n: int, seed: int) -> tuple[list[bytes], list[dict]]:
    """The shared generator's corpus (n messages and 3 raw 8-bit Latin-1 ones) and its manifest."""
    import json
    import subprocess
    import tempfile

    generator = Path(os.environ.get("ATIENDE_BENCH_GEN_EMAILS", GENERATOR))
    out = Path(tempfile.mkdtemp(prefix="atiende-bench-mail-"))
    subprocess.run(
        [
            sys.executable,
            str(generator),
            str(out / "mail"),
            "-n",
            str(n),
            "--seed",
            str(seed),
            "--raw-latin1-8bit",
            str(RAW_LATIN1),
        ],
        check=True,
        capture_output=True,
    )
    manifest = json.loads((out / "mail.manifest.json").read_text(encoding="utf-8"))
    return [(out / "mail" / m["file"]).read_bytes() for m in manifest], manifest


def check_realistic(raws: list[bytes], manifest: list[dict]) -> str:
    """Every message stored exactly once with its verification code, every attachment
    byte-identical. Returns a one-line verdict; raises on the first wrong message."""
    import email
    import email.policy

    from atiende.cases import storage
    from atiende.cases.models import Attachment, Note

    notes = {
        n.external_id: n for n in Note.objects.filter(direction="inbound").exclude(external_id=None)
    }
    by_note: dict[int, dict[str, str]] = {}
    for att in Attachment.objects.filter(note__in=list(notes.values())):
        by_note.setdefault(att.note_id, {})[att.filename] = att.sha256
    attachments = 0
    for raw, meta in zip(raws, manifest, strict=True):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        mid = str(parsed["Message-ID"]).strip()
        note = notes.get(mid) or notes.get(mid.strip("<>"))
        assert note is not None, f"{meta['file']}: not stored"
        assert meta["marker"] in note.body_text, f"{meta['file']}: verification code missing"
        stored = by_note.get(note.pk, {})
        # The original as the IMAP server hands it out (CRLF line ends), and every
        # attachment byte-identical to what that original carries.
        original = storage.path_for(stored["mensaje-original.eml"]).read_bytes()
        assert original.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n"), meta["file"]
        served = email.message_from_bytes(original, policy=email.policy.default)
        for part in served.iter_attachments():
            content = part.get_payload(decode=True)
            sha = hashlib.sha256(content).hexdigest()
            assert sha in stored.values(), f"{meta['file']}: attachment {part.get_filename()}"
            assert storage.path_for(sha).read_bytes() == content
            attachments += 1
    duplicates = Note.objects.filter(direction="inbound").count() - len(notes)
    assert duplicates == 0 and len(notes) == len(raws), (len(notes), len(raws))
    return (
        f"correct: {len(raws)} / {len(raws)} stored once, {attachments} attachments byte-identical"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--corpus", choices=["fixtures", "realistic"], default="fixtures")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--process", action="store_true", help="time a whole `atiende poll-email --once`"
    )
    parser.add_argument("--profile", help="write a cProfile of the pass to this file")
    parser.add_argument(
        "--profile-cpu", action="store_true", help="profile in this process's CPU time, not wall"
    )
    args = parser.parse_args()
    env = common.prepare_environment(args.db)
    from atiende.channels.email.tests import dovecot as dovecot_server

    server = dovecot_server.start()
    try:
        os.environ["ATIENDE_CORREO_IMAP_URL"] = server.url
        common.setup_django()
        from atiende.cases.models import Case, Note
        from atiende.channels.email import imap
        from atiende.directory.models import Channel
        from atiende.worker.models import Job

        manifest: list[dict] = []
        if args.corpus == "realistic":
            raws, manifest = realistic(args.n, args.seed)
        else:
            raws = corpus(args.n)
        total = len(raws)
        t = time.perf_counter()
        server.deliver(raws)
        print(
            f"appended {total} messages to Dovecot in {time.perf_counter() - t:.1f} s (not timed)"
        )
        channel = Channel.objects.get(slug="correo")
        if args.process:
            import subprocess

            from django.db import connections

            connections.close_all()
            import resource

            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            done = subprocess.run(
                [str(common.BIN / "atiende"), "poll-email", "--once", "--channel", "correo"],
                check=True,
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            print(done.stdout.strip())
            stored = Note.objects.filter(direction="inbound", channel=channel).count()
        else:
            profile = None
            if args.profile:
                import cProfile

                # CPU time: on a shared machine the wall clock of a stage is mostly waiting
                # for a core; waits (fsync, IMAP) then show as what they cost this process.
                profile = (
                    cProfile.Profile(time.process_time) if args.profile_cpu else cProfile.Profile()
                )
                profile.enable()
            import resource

            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            c = time.process_time()
            result = imap.poll_once(channel)
            elapsed = time.perf_counter() - t
            cpu = time.process_time() - c
            done_children = resource.getrusage(resource.RUSAGE_CHILDREN)
            # the parse workers (forked, reaped at the end of the pass)
            pool_cpu = (done_children.ru_utime + done_children.ru_stime) - (
                children.ru_utime + children.ru_stime
            )
            print(f"CPU s: this process {cpu:.2f}, parse workers {pool_cpu:.2f}")
            cpu += pool_cpu
            if profile is not None:
                profile.disable()
                profile.dump_stats(args.profile)
            assert result.fetched == total, result
            stored = result.stored
            print(
                f"stored {result.stored}, duplicates {result.duplicate}, "
                f"quarantined {result.quarantined}"
            )
        inbound = Note.objects.filter(direction="inbound", channel=channel).count()
        acks = Job.objects.filter(kind="deliver_note").count()
        assert inbound == stored == total, (stored, inbound, total)
        assert server.count("INBOX") == 0
        rate = total / elapsed
        print(f"{Case.objects.count()} cases, {acks} acknowledgements queued")
        print(f"{total} messages in {elapsed:.2f} s: {rate:.0f} messages/s, {cpu:.2f} CPU s")
        if manifest:
            print(check_realistic(raws, manifest))
        print()
        how = "`poll-email --once` process" if args.process else "`poll_once` in process"
        print("| benchmark | corpus | database | messages | seconds | messages/s | CPU s |")
        print("|---|---|---|---|---|---|---|")
        print(
            f"| email intake (Dovecot → cases), {how} | {args.corpus} | {args.db} | {total} "
            f"| {elapsed:.2f} | {rate:.0f} | {cpu:.2f} |"
        )
        print()
        extra = " --process" if args.process else ""
        print(
            f"command: .venv/bin/python bench/bench_email.py --db {args.db} --n {args.n} "
            f"--corpus {args.corpus}{extra}"
        )
        return 0
    finally:
        server.stop()
        common.drop_environment(env)


if __name__ == "__main__":
    sys.exit(main())
