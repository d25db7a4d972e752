"""Writers of one SQLite store take turns through a lock file beside it.

SQLite's busy handler retries a locked write after sleeps of up to 100 ms. When several
processes write back to back, a waiter wakes, finds the lock taken again, sleeps again, and can
starve past the busy timeout (seen: eight writers on a loaded machine, one gave up after 30 s,
losing its session). A blocking ``flock`` on a lock file queues the waiters in the kernel, which
wakes them the moment the lock is free. SQLite's own locks still guard the database against
writers that do not know this file (kedro-viz, another tool): those contend as before.

The lock file (``<database>.lock``) is made by the first writer and never removed (removing a
lock file others may hold open would let two writers in at once). Readers never touch it. Where
it cannot be made (a read-only folder), writers rely on SQLite's locks alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class WriterTurns:
    """The turn-taking lock of one database, for one store object (one descriptor)."""

    def __init__(self, database: Path) -> None:
        self.path = Path(f"{database}.lock")
        self._fd: int | None = None
        self._usable = True

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn, then hold it for the block."""
        fd = self._open()
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int | None:
        if self._fd is None and self._usable:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:
                self._usable = False
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
