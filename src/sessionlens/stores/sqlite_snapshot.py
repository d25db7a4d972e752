"""A private copy of an SQLite store, for browsing files that cannot be read in place untouched.

Browsing must change no file. Two kinds of database cannot be read where they are without
writing beside them:

- a file in WAL mode (written by sessionlens before 0.2, or by any tool that chose WAL): every
  reader, even ``mode=ro``, creates or updates the ``-shm`` index (and ``-wal``) next to it, and
  where it cannot (a read-only folder or filesystem) SQLite falls back to reading without the WAL,
  silently missing its committed transactions;
- a file with a hot rollback journal (a writer was killed mid-transaction): the first reader
  must roll it back, which a read-only connection refuses (``SQLITE_READONLY_ROLLBACK``).

For those, the database and its ``-wal``/``-journal`` are copied into a private temporary folder
and the copy is opened there, where SQLite may recover them: everything committed is shown,
nothing in the store's folder changes. The copy is taken again when the originals change. A copy
whose originals kept changing while it was taken is retried; the caller is told when it could
not get a steady one. Files are copied through :func:`sqlite_files.copy_unheld`: never while a
connection of this process holds the database (the caller then reads it in place instead).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sessionlens.stores import sqlite_files

#: Files beside a database that hold part of its state.
SIDECARS = ("-wal", "-journal")
_ATTEMPTS = 5


def _signature(path: Path) -> tuple[tuple[str, int, int] | None, ...]:
    parts: list[tuple[str, int, int] | None] = []
    for suffix in ("", *SIDECARS):
        try:
            st = os.stat(f"{path}{suffix}")
        except FileNotFoundError:
            parts.append(None)
            continue
        parts.append((suffix, st.st_size, st.st_mtime_ns))
    return tuple(parts)


class Snapshot:
    """The copy of one database: :attr:`path` is the copy to connect to."""

    def __init__(self, original: Path, reason: str) -> None:
        self.original = original
        #: why the store is read from a copy, in words for a person
        self.reason = reason
        self._folder = Path(tempfile.mkdtemp(prefix="sessionlens-snapshot-"))
        self.path = self._folder / original.name
        #: False when writers kept changing the originals during every attempt
        self.steady = True
        self._signature: tuple = ()

    def take(self) -> bool:
        """Copy the database and its sidecars, again while a writer changes them meanwhile;
        False when this process holds the database (nothing was copied)."""
        after: tuple = ()
        for _ in range(_ATTEMPTS):
            before = _signature(self.original)
            for stale in self._folder.iterdir():
                stale.unlink()
            if not sqlite_files.copy_unheld(self.original, self.path, SIDECARS):
                return False
            after = _signature(self.original)
            if before == after:
                break
        self._signature, self.steady = after, before == after
        return True

    def changed(self) -> bool:
        """Whether the originals changed since the copy was taken."""
        return _signature(self.original) != self._signature

    def remove(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)
