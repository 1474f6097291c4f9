"""The console script's quick exit (`cli.exit_now`): the intake commands end without the
interpreter's teardown, but as a normal exit would in everything another process sees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import atiende

ROOT = Path(atiende.__file__).resolve().parent.parent

SCRIPT = """
import atexit, sys
from pathlib import Path
from django.core import management
from atiende import cli

out = Path(sys.argv[1])
how = sys.argv[2]


def command(argv):
    print("ran", argv[1])  # left in the buffer of a pipe: the exit must flush it
    if how == "fails":
        raise SystemExit(3)


management.execute_from_command_line = command
atexit.register(lambda: (out / "atexit").write_text("ran"))


class Teardown:
    def __del__(self):
        (out / "teardown").write_text("ran")


kept = Teardown()  # freed only by the interpreter's teardown
sys.argv = ["atiende", *sys.argv[3:]]
sys.exit(cli.main([*sys.argv[1:]] if how == "called" else None))
"""


def _run(tmp_path: Path, how: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATIENDE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env["DJANGO_SETTINGS_MODULE"] = "atiende.settings"
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), how, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["poll-email", "ingest-email"])
def test_an_intake_command_started_as_the_script_skips_the_teardown_only(tmp_path, command):
    argv = [command, "--direct"] if command == "ingest-email" else [command, "--once"]
    done = _run(tmp_path, "script", *argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ran", command.replace("-", "_")]
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not (tmp_path / "teardown").exists()


def test_the_quick_exit_keeps_the_commands_exit_status(tmp_path):
    done = _run(tmp_path, "fails", "poll-email", "--once")
    assert done.returncode == 3, done.stderr
    assert done.stdout.split() == ["ran", "poll_email"]
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not (tmp_path / "teardown").exists()


@pytest.mark.parametrize(
    ("how", "argv"),
    [
        ("script", ["migrate"]),  # not an intake command
        ("called", ["poll-email", "--once"]),  # main(argv) from Python code: returns
    ],
)
def test_other_commands_and_calls_from_python_exit_as_usual(tmp_path, how, argv):
    done = _run(tmp_path, how, *argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ran", argv[0].replace("-", "_")]
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "teardown").read_text() == "ran"
