"""Child processes started by tests (a whole `atiende serve`, say)."""

from __future__ import annotations

import os
import subprocess


def stop_group(proc: subprocess.Popen, grace: float = 30) -> None:
    """Stop a child started with `start_new_session=True` and everything it started:
    SIGTERM to its process group, SIGKILL if it is still there after `grace` seconds."""
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
