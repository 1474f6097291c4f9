"""Email intake end to end: 1,000 messages from a real Dovecot into cases.

    .venv/bin/python bench/bench_email.py --db sqlite
    .venv/bin/python bench/bench_email.py --db postgres

Starts a throwaway Dovecot, appends N messages (a mix of the test corpus: plain, HTML-only,
raw 8-bit Latin-1, with attachments, replies), then times one `poll-email` pass in this
process: fetch, parse, store (with the raw .eml), thread, open cases and queue their
acknowledgements, move each chunk to the processed folder. Prints a Markdown table row.
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=1000)
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

        t = time.perf_counter()
        server.deliver(corpus(args.n))
        print(
            f"appended {args.n} messages to Dovecot in {time.perf_counter() - t:.1f} s (not timed)"
        )
        channel = Channel.objects.get(slug="correo")
        t = time.perf_counter()
        result = imap.poll_once(channel)
        elapsed = time.perf_counter() - t
        inbound = Note.objects.filter(direction="inbound", channel=channel).count()
        acks = Job.objects.filter(kind="deliver_note").count()
        assert result.fetched == args.n and inbound == result.stored + 0, (result, inbound)
        assert server.count("INBOX") == 0
        rate = args.n / elapsed
        print(
            f"stored {result.stored}, duplicates {result.duplicate}, quarantined {result.quarantined}; "
            f"{Case.objects.count()} cases, {acks} acknowledgements queued"
        )
        print()
        print("| benchmark | database | messages | seconds | messages/s |")
        print("|---|---|---|---|---|")
        print(
            f"| email intake (Dovecot → cases) | {args.db} | {args.n} | {elapsed:.2f} | {rate:.0f} |"
        )
        print()
        print(f"command: .venv/bin/python bench/bench_email.py --db {args.db} --n {args.n}")
        return 0
    finally:
        server.stop()
        common.drop_environment(env)


if __name__ == "__main__":
    sys.exit(main())
