"""`atiende ingest-email`: one message from an MTA pipe into the spool, without Django.

An MTA starts one process per message, so what it costs to start is the cost of every
message: this module and `spool` import only the standard library, and the console script
(`atiende/cli.py`) calls `main` before anything imports Django. The worker stores the
spooled message about a second later (`spooled.py`); `--direct` stores it through the
database in this process instead, as the command did before the spool
(docs/decisions/0006-mta-pipe-spool.md).

Exit status (sysexits.h, what MTAs understand): 0 spooled; 65 empty, too large or not
mail; 67 a channel name that cannot be one; 64 bad arguments; 75 anything else (the disk
is full or unwritable, a bug): the MTA keeps the message and retries, so nothing is
bounced because of a fault of ours.
"""

from __future__ import annotations

import sys

from atiende.channels.email import spool

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs every message
if TYPE_CHECKING:
    from typing import BinaryIO, TextIO

EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 0, 64, 65, 67, 75

USAGE = "uso: atiende ingest-email [--channel CANAL] [--sender REMITENTE] [--direct] < mensaje.eml"


def wants_django(args: list[str]) -> bool:
    """`--direct` and `--help` are the Django command's."""
    return any(a in ("--direct", "-h", "--help") for a in args)


def parse_args(args: list[str]) -> tuple[str, str | None]:
    """(channel, envelope sender) from `--channel X`, `--channel=X`, `--sender X`,
    `--sender=X` (an empty sender is the null sender `<>` of bounces)."""
    options: dict[str, str | None] = {"--channel": "correo", "--sender": None}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name not in options:
            raise ValueError(f"opción desconocida: {arg}")
        if not eq:
            if not rest:
                raise ValueError(f"falta el valor de {name}")
            value = rest.pop(0)
        options[name] = value
    channel = options["--channel"]
    assert channel is not None
    return channel, options["--sender"]


def main(args: list[str], *, stdin: BinaryIO | None = None, stderr: TextIO | None = None) -> int:
    err = stderr or sys.stderr
    try:
        channel, sender = parse_args(args)
    except ValueError as exc:
        print(f"ingest-email: {exc}\n{USAGE}", file=err)
        return EX_USAGE
    return run(stdin or sys.stdin.buffer, channel=channel, sender=sender, stderr=err)


def run(source: BinaryIO, *, channel: str, sender: str | None, stderr: TextIO) -> int:
    if not spool.valid_channel(channel):
        print(f"ingest-email: no existe un canal de correo {channel!r}", file=stderr)
        return EX_NOUSER
    try:
        limit = spool.max_bytes()
        raw = source.read(limit + 1)  # one byte more than allowed tells "too large"
        spool.check(raw, limit=limit)
        spool.write(raw, channel=channel, sender=sender)
    except spool.SpoolError as exc:
        print(f"ingest-email: {exc}", file=stderr)
        return EX_DATAERR
    except OSError as exc:  # disk full, permissions, a directory in the way
        print(f"ingest-email: error temporal de almacenamiento, reintente: {exc}", file=stderr)
        return EX_TEMPFAIL
    except Exception as exc:  # a bug: exit 1 would make the MTA bounce the message
        import traceback

        traceback.print_exc(file=stderr)
        print(f"ingest-email: error inesperado, el MTA reintentará: {exc!r}", file=stderr)
        return EX_TEMPFAIL
    return EX_OK
