"""Web processes share kept-alive connections evenly.

`atiende serve` runs several gunicorn processes, each with a few threads, all listening on
one socket. A connection stays with the process that accepted it for as long as the client
keeps it alive — a PBX, a reverse proxy or Meta's servers post request after request on
the same few connections. Which process accepts is a race the kernel decides: every process
waiting on the socket is woken and the first to call `accept` wins. Twenty connections
opened at once ended 12/7/1, 10/5/5 or 14/4/2 over three processes. Each process gets
about the same share of the cores whatever it holds, so a connection's wait grows with the
number of connections its process holds: in the CTI bench the process holding 12 answered
at p99 84 ms while the one holding 1 answered at 31 ms (docs/decisions/0013).

Here each process publishes how many connections it holds in a small table shared by the
server's processes (an anonymous shared memory map made before they are forked). A
process woken for a new connection while another live process holds fewer waits `GRACE`
before accepting, so the one holding fewer takes it; if none did by then (it was busy, or
has died), the waiting process takes the connection itself. Nothing is ever refused or
left waiting longer than `GRACE`: the table only decides who goes first.

The table's rows: a process's pid, its connections and a heartbeat (the monotonic clock,
shared by every process of the machine), written each pass of the process's event loop
(at least once a second). A row whose heartbeat is older than `STALE` seconds belongs to a
process that is gone and is ignored.
"""

from __future__ import annotations

import mmap
import os
import struct
import time

from gunicorn.workers.gthread import ThreadWorker

ROW = struct.Struct("<iid")  # pid, connections, heartbeat (time.monotonic)
GRACE = 0.003  # seconds a crowded process leaves a new connection to a less crowded one
STALE = 3.0  # seconds without a heartbeat after which a row's process counts as gone


class Table:
    """Connections held by each of the server's processes, in shared memory."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self._map = mmap.mmap(-1, rows * ROW.size)  # anonymous and shared with forked children

    def publish(self, row: int, pid: int, connections: int) -> None:
        ROW.pack_into(self._map, row * ROW.size, pid, connections, time.monotonic())

    def release(self, row: int) -> None:
        ROW.pack_into(self._map, row * ROW.size, 0, 0, 0.0)

    def fewest_elsewhere(self, row: int, now: float | None = None) -> int | None:
        """The fewest connections held by another live process; None if there is none."""
        now = time.monotonic() if now is None else now
        fewest = None
        for i, (pid, connections, beat) in enumerate(ROW.iter_unpack(self._map)):
            if i == row or not pid or now - beat > STALE:
                continue
            if fewest is None or connections < fewest:
                fewest = connections
        return fewest


class BalancedThreadWorker(ThreadWorker):
    """gunicorn's threaded worker, accepting first where fewer connections are held."""

    table: Table | None = None  # made by the server before it forks its processes
    _row: int | None = None  # this process's row in the table, once it runs
    _me = 0  # this process's pid
    _held = 0

    @property
    def nr_conns(self) -> int:
        return self._held

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:
        self._held = value
        if self._row is not None and self.table is not None:
            self.table.publish(self._row, self._me, value)

    def init_process(self) -> None:
        try:
            super().init_process()  # loads the application, then runs the event loop
        finally:
            if self._row is not None and self.table is not None:
                self.table.release(self._row)

    def run(self) -> None:
        # In the table once it serves: while it starts (serve's post_worker_init) it holds
        # nothing, and the others would leave their new connections to it in vain.
        if self.table is not None:
            self._me = os.getpid()
            self._row = self.age % self.table.rows
            self.table.publish(self._row, self._me, self._held)
        super().run()

    def notify(self) -> None:
        super().notify()
        if self._row is not None and self.table is not None:
            self.table.publish(self._row, self._me, self._held)

    def crowded(self) -> bool:
        """Does another live process hold fewer connections than this one?"""
        if self._row is None or self.table is None:
            return False
        fewest = self.table.fewest_elsewhere(self._row)
        return fewest is not None and self._held > fewest

    def accept(self, listener) -> None:
        if self.crowded():
            time.sleep(GRACE)  # the socket is non-blocking: accept finds nothing if taken
        super().accept(listener)
