"""The `atiende` console script: a thin front over Django's management commands.

`atiende load-config PATH` runs the `load_config` command, and so on; any other Django
command (migrate, shell, createsuperuser, ...) passes through unchanged.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

USAGE = """usage: atiende COMMAND [options]

commands:
  serve              migrate, load the reference configuration into an empty database,
                     and run the web server with one background worker
  worker             run a background worker (run several, on several machines, on PostgreSQL)
  load-config PATH   validate and load a configuration file
  export-config      print the loaded configuration as YAML
  create-user        create an agent, supervisor, admin or customer user
  ingest-email       one message from an MTA pipe (stdin) into the spool; --direct stores it now
  cti-simulate       post a whole phone call's PBX events to a running atiende
  backup PATH        write one archive: database, attachments, sha256 manifest (docs/deploy.md)
  restore PATH       restore such an archive into an empty database and data directory
  help COMMAND       options of a command (also: atiende COMMAND --help)

Any Django management command also works (e.g. atiende migrate, atiende shell).
"""


# Commands that a mail server or a timer starts again and again, each a whole process:
# they end without the interpreter's teardown (below).
QUICK_EXIT = frozenset({"poll_email", "ingest_email"})


def main(argv: list[str] | None = None) -> int:
    """Run a command; its exit status. Started as the console script (no `argv`), the
    commands of `QUICK_EXIT` end the process at once when done (`exit_now`)."""
    as_script = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atiende.settings")
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if argv[0] in ("ingest-email", "ingest_email"):
        # One process per message from the MTA: spool it without importing Django
        # (docs/decisions/0006-mta-pipe-spool.md). --direct and --help are Django's.
        from atiende.channels.email import pipe

        if not pipe.wants_django(argv[1:]):
            return pipe.main(argv[1:])
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    command = argv[0].replace("-", "_")
    if command == "help" and len(argv) > 1:
        argv = [argv[1].replace("-", "_"), "--help"]
    else:
        argv[0] = command
    try:
        execute_from_command_line(["atiende", *argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ImproperlyConfigured as exc:  # a bad environment variable: say which, no traceback
        print(f"atiende: {exc}", file=sys.stderr)
        return 2
    else:
        code = 0
    if as_script and command in QUICK_EXIT:
        exit_now(code)
    return code


def exit_now(code: int) -> NoReturn:
    """End the process with `code` once everything it started has ended as at a normal
    exit (database connections closed, the `atexit` functions run: logging's flush, the
    process pools' clean-up, the standard streams flushed), but without the interpreter's
    teardown: freeing every module and object of a Django process one by one, and the
    collections that go with it, took about 60-85 ms of a `poll-email --once` process
    (docs/benchmarks.md, issue 17, session 21) and does nothing another process sees."""
    import atexit

    from django.db import connections

    try:
        connections.close_all()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # anything unusual: the ordinary exit, which reports it
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
