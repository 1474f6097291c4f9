"""The connection's own thread checked before the shared count.

Django checks, before it makes each cursor, that a connection is used by the thread that
opened it unless it was shared (`validate_thread_sharing`), and asks the shared count
first, under a lock: ~3 % of an email intake pass's writer went to that lock
(docs/benchmarks.md, issue 17, session 16). The owner's thread, nearly always the one
asking, is answered without it; any other thread gets Django's check unchanged.
"""

from __future__ import annotations

import _thread


class OwnThreadFirst:
    """Mixed into a backend's DatabaseWrapper."""

    _thread_ident: int

    def validate_thread_sharing(self) -> None:
        if self._thread_ident == _thread.get_ident():
            return
        super().validate_thread_sharing()  # type: ignore[misc]
