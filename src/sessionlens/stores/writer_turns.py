"""Writers of one SQLite store take turns through a lock file beside it.

SQLite's busy handler retries a locked write after sleeps of up to 100 ms. When several
processes write back to back, a waiter wakes, finds the lock taken again, sleeps again, and can
starve past the busy timeout (seen: eight writers on a loaded machine, one gave up after 30 s,
losing its session). A blocking ``flock`` on a lock file queues the waiters in the kernel, which
wakes them the moment the lock is free. SQLite's own locks still guard the database against
writers that do not know this file (kedro-viz, another tool): those contend as before.

A turn is waited for at most the writer's busy timeout: a writer frozen in its turn (ctrl-z,
a debugger, SIGSTOP) must make the others give up with SQLite's "locked" message, as SQLite's
own locks would, not wait for ever. ``flock`` has no timeout, so a contended turn is waited for
on a helper thread with a descriptor of its own; a wait given up leaves that descriptor to the
helper, which closes it (handing the turn straight on) when its wait ends.

The lock files live in a folder of the machine's temporary directory, one per database (named
by its device and inode), not beside the store: a file there would make a project's git tree
dirty for the next run's record, and browsing folders would see it. They are never removed
(removing one that others hold open would let two writers in at once), and opened read-only
(``flock`` needs no write access), so writers of several users share them. Where no lock file
can be had, or writers do not share a temporary directory (containers, other machines), writers
rely on SQLite's locks alone, which are always there. Readers never take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

#: The folder of the lock files, shared by every user of the machine (sticky, like /tmp).
FOLDER_NAME = "sessionlens-locks"


class WriterTurns:
    """The turn-taking lock of one database, for one store object (one descriptor)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self._fd: int | None = None
        self._usable = True

    @contextlib.contextmanager
    def turn(self, timeout: float | None = None) -> Iterator[None]:
        """Wait for this writer's turn (at most ``timeout`` seconds, then SQLite's own
        "database is locked" error), then hold it for the block."""
        fd = self._open()
        if fd is None:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if timeout is not None else 0))
        except BlockingIOError:
            assert timeout is not None
            if not _Waiter(fd).wait(timeout):
                self._fd = None  # the helper keeps it, and closes it when its wait ends
                raise sqlite3.OperationalError(
                    "database is locked (another writer held its turn too long)"
                ) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int | None:
        if self._fd is None and self._usable:
            try:
                path = lock_path(self.database)
                flags = os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
                self._fd = os.open(path, flags, 0o644)
            except OSError:
                self._usable = False
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _Waiter:
    """A blocking ``flock`` on a thread of its own, so the kernel still queues the waiter but
    the caller can give up; one given up closes the descriptor once its wait ends."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._got = False
        self._given_up = False
        self._done = threading.Event()
        threading.Thread(target=self._run, name="sessionlens-writer-turn", daemon=True).start()

    def _run(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            got = True
        except OSError:  # cannot happen with a descriptor of our own; then rely on SQLite
            got = False
        with self._lock:
            if self._given_up:
                os.close(self._fd)  # the turn goes straight to the next waiter
                return
            self._got = got
        self._done.set()

    def wait(self, timeout: float) -> bool:
        """True once the turn is ours (or cannot be had: SQLite's locks still guard the
        write); False when ``timeout`` passed first (the descriptor then belongs to this)."""
        if self._done.wait(timeout):
            return True
        with self._lock:
            if self._done.is_set():
                return True
            self._given_up = True
            return False


def lock_path(database: Path) -> Path:
    """The lock file of ``database`` (which must exist), its folder made when missing."""
    st = os.stat(database)
    folder = Path(tempfile.gettempdir()) / FOLDER_NAME
    if not folder.is_dir():
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
            folder.chmod(0o1777)
    return folder / f"{st.st_dev}-{st.st_ino}.lock"
