"""The request id: one per request, in every log line the request writes (logs.py), sent
back as `X-Request-ID`. A trusted proxy's id is kept (so the proxy's access log and
atiende's agree); anyone else's is replaced, so a client cannot forge log lines' ids."""

from __future__ import annotations

import contextvars
import random
import re

current: contextvars.ContextVar[str] = contextvars.ContextVar("atiende_request_id", default="")
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


def new() -> str:
    # An id, not a secret: nothing is authorised by it. The module's generator (reseeded in
    # each forked process by the random module) needs no system call, which in a busy web
    # process costs a thread its turn at the interpreter (os.urandom releases the GIL).
    return f"{random.getrandbits(64):016x}"


def accept(value: str) -> str:
    """`value` if it is a plain id (no spaces, no control characters), else a new one."""
    return value if _SAFE.match(value or "") else new()


def get() -> str:
    return current.get()
