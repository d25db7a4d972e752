"""SQLite database files as this process holds them, so none is ever opened by hand while held.

On POSIX, closing *any* descriptor of a file drops every lock the process holds on that file. So
reading an SQLite file's header with ``open()``/``close()`` while a connection of this process
has it open silently drops that connection's locks: another process may then write under a read,
or (in WAL mode) delete the WAL under a live connection. SQLite lists this as a way to corrupt a
database ("How To Corrupt An SQLite Database File", section 2.2).

Every connection sessionlens makes to a database file goes through :func:`connect` and
:func:`close`, which keep a count per file (device and inode). :func:`read_header` reads the
header by hand only while that count is zero, and under the same lock as :func:`connect`, so no
connection can appear half-way through the read.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"
#: Bytes 18 and 19 of the header: the file format's write and read versions; 2 means WAL.
_WAL_VERSION = 2

_lock = threading.Lock()
_held: dict[tuple[int, int], int] = {}  # (st_dev, st_ino) -> open connections of this process
_keys: dict[int, tuple[int, int]] = {}  # id(connection) -> its file's key


def _key(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def held(path: str | os.PathLike[str]) -> bool:
    """Whether a connection of this process has the file open."""
    with _lock:
        key = _key(Path(path))
        return key is not None and _held.get(key, 0) > 0


def read_header(path: str | os.PathLike[str], size: int = 100) -> bytes | None:
    """The file's first ``size`` bytes; None while a connection of this process holds the file
    (it is then an SQLite database, and reading it by hand would drop that connection's locks).
    Raises ``OSError`` when the file cannot be read."""
    with _lock:
        key = _key(Path(path))
        if key is not None and _held.get(key, 0) > 0:
            return None
        with open(path, "rb") as fh:
            return fh.read(size)


def copy_unheld(path: Path, target: Path, suffixes: Iterable[str]) -> bool:
    """Copy the database ``path`` and its existing ``path + suffix`` files to ``target`` (and
    ``target + suffix``), by hand; False, copying nothing, while this process holds it."""
    with _lock:
        key = _key(path)
        if key is not None and _held.get(key, 0) > 0:
            return False
        for suffix in ("", *suffixes):
            with contextlib.suppress(FileNotFoundError):
                shutil.copyfile(f"{path}{suffix}", f"{target}{suffix}")
        return True


def is_sqlite_file(path: str | os.PathLike[str], *, or_empty: bool = False) -> bool:
    """Whether the file is an SQLite database (its 16-byte magic), without endangering locks;
    ``or_empty``: an empty file counts too (SQLite makes a database of it), decided on the
    same read, so a file another process is creating is not seen empty, then not empty."""
    try:
        header = read_header(path, 16)
    except OSError:
        return False
    return header is None or header == SQLITE_MAGIC or (or_empty and header == b"")


def is_wal_header(header: bytes) -> bool:
    """Whether a database header says the file is in WAL mode."""
    return len(header) >= 20 and _WAL_VERSION in (header[18], header[19])


def connect(
    path: Path, *, mode: str, timeout: float = 30.0, immutable: bool = False
) -> sqlite3.Connection:
    """Open ``path`` by URI (``mode`` is ``ro``, ``rw`` or ``rwc``) in autocommit mode (callers
    issue ``BEGIN``) and count it as held until :func:`close`."""
    uri = f"{path.absolute().as_uri()}?mode={mode}"
    if immutable:
        uri += "&immutable=1"
    with _lock:
        conn = sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        key = _key(path)
        if key is not None:
            _held[key] = _held.get(key, 0) + 1
            _keys[id(conn)] = key
    return conn


def close(conn: sqlite3.Connection) -> None:
    """Close a connection made by :func:`connect` and stop counting it."""
    with _lock:
        key = _keys.pop(id(conn), None)
        try:
            conn.close()
        finally:
            if key is not None:
                left = _held.get(key, 0) - 1
                if left > 0:
                    _held[key] = left
                else:
                    _held.pop(key, None)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """One transaction on an autocommit connection: all of it is committed, or it is rolled
    back and the error goes on."""
    conn.execute(begin)
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
