"""Parsing the realistic corpus, cold, for an instruction count (issue 17).

    ATIENDE_BENCH_GEN_EMAILS=../shared/bench/gen_emails.py .venv/bin/python bench/bench_parse.py --save /tmp/corpus.pkl
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg0 .venv/bin/python bench/bench_parse.py --load /tmp/corpus.pkl --passes 0
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg1 .venv/bin/python bench/bench_parse.py --load /tmp/corpus.pkl --passes 1

The instructions of a cold parse of every message are the second count minus the first
(`callgrind_annotate /tmp/cgN | head` prints each total): the same on a busy machine as on
a quiet one, where seconds are not (docs/benchmarks.md, session 18). Without valgrind it
prints the CPU time a message.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--save", help="generate the realistic corpus and keep it in this file")
    parser.add_argument("--load", help="the corpus kept by --save")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=1, help="0: load everything, parse nothing")
    args = parser.parse_args()
    if args.save:
        from bench.bench_email import realistic

        with open(args.save, "wb") as out:
            pickle.dump(realistic(args.n, 42)[0], out)
        return 0
    if not args.load:
        parser.error("--load or --save")
    with open(args.load, "rb") as handle:
        raws: list[bytes] = pickle.load(handle)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atiende.settings")
    import django

    django.setup()
    from atiende.channels.email import inbound

    own = frozenset({"soporte@acme.com.co"})
    start = time.process_time()
    for _ in range(args.passes):
        for raw in raws:
            inbound.parse(raw, channel="correo", own_addresses=own)
    if args.passes:
        spent = (time.process_time() - start) / (args.passes * len(raws))
        print(f"{len(raws)} messages, {args.passes} pass(es): {spent * 1000:.3f} ms CPU each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
