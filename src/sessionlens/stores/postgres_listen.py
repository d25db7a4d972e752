"""Hearing other machines' writes: a ``LISTEN sessionlens`` connection in a background thread.

Writers ``NOTIFY sessionlens`` in the transaction that inserts or updates a session, so a
notification arrives once the change is visible. The listener counts notifications (its own
store's are left out: that store counts its writes itself); ``count`` is what
``change_token`` returns, so the token moves without asking the server anything. When the
connection drops, notifications sent meanwhile are lost: after reconnecting the listener counts
one more change, so a browser re-reads once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from sessionlens.stores.postgres_schema import CHANNEL


class Listener:
    """Counts ``NOTIFY sessionlens`` from other connections; ``stop()`` ends its thread."""

    def __init__(self, connect: Callable[[], Any], own_pids: Callable[[], set[int]]) -> None:
        self._connect = connect
        self._own_pids = own_pids
        self.count = 0
        self.reconnects = 0
        self._stopped = threading.Event()
        self._conn: Any = None
        self._conn = self._listen()  # the first LISTEN before the first token is handed out
        self._thread = threading.Thread(target=self._run, name="sessionlens-listen", daemon=True)
        self._thread.start()

    @property
    def backend_pid(self) -> int | None:
        """The server process of the listening connection (tests terminate it)."""
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    def _listen(self) -> Any:
        conn = self._connect()
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def _run(self) -> None:
        delay = 0.1
        while not self._stopped.is_set():
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._listen()
                    self.reconnects += 1
                    self.count += 1  # notifications were lost meanwhile: re-read once
                    delay = 0.1
                for note in self._conn.notifies(timeout=0.25):
                    if note.pid not in self._own_pids():
                        self.count += 1
            except Exception:  # the server went away or restarted: try again, slower
                self._close()
                self._stopped.wait(delay)
                delay = min(delay * 2, 5.0)
        self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                conn.close()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
