"""Opening an SQLite session store's file: the checks before SQLite touches it, a writer's
connection settings, cleaning up a store that could not be born, and SQLite errors as one line.

What is not an SQLite file (a folder, an empty file opened for browsing, another format) is
refused before SQLite opens it, by reading its header the safe way (:mod:`~.sqlite_files`).
The layout inside the file is :mod:`~.sqlite_schema`'s; the connection and its lock are the
store's (:mod:`~.sqlite_store`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import NamedTuple

from sessionlens.errors import StoreError, one_line
from sessionlens.stores import sqlite_files

#: why a store is read from a copy when a killed writer left a hot journal
HOT_JOURNAL = "a writer stopped mid-write; its unfinished change is rolled back in the copy"
#: why a store in WAL mode is read from a copy
WAL_MODE = "it is in WAL mode, whose readers write beside the file (-shm, -wal)"


class FileCheck(NamedTuple):
    """What :func:`check_file` found out about the file (a NamedTuple: no ``dataclasses`` on
    the ``run`` path)."""

    #: no session store there yet: the open creates one (a missing or empty file)
    new: bool
    #: the file's header says WAL mode
    wal: bool = False
    #: folders made for a new file (deepest first), removed again if the store is not born
    made_folders: tuple[Path, ...] = ()


def check_file(path: Path, *, create: bool, read_only: bool) -> FileCheck:
    """Refuse what is not an SQLite session store before SQLite touches it; make the folders
    of a new one (``create`` and not ``read_only``)."""
    if not path.exists():
        if create and not read_only:
            folders = (path.parent, *path.parent.parents)
            made = tuple(p for p in folders if not p.exists())
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}: cannot create ({exc.strerror})") from None
            return FileCheck(new=True, made_folders=made)
        raise StoreError(f"{path}: no such file")
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not an SQLite file")
    try:
        head = sqlite_files.read_header(path)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read ({exc.strerror})") from None
    if head is None:  # this process has it open already: an SQLite file, in use
        return FileCheck(new=False)
    if not head:
        if read_only:
            raise StoreError(f"{path}: empty file, not a session store")
        return FileCheck(new=True)
    if head[:16] != sqlite_files.SQLITE_MAGIC:
        raise StoreError(f"{path}: not an SQLite database (unknown file format)")
    return FileCheck(new=False, wal=sqlite_files.is_wal_header(head))


def remove_unborn(path: Path, made_folders: tuple[Path, ...], error: BaseException) -> None:
    """A new store an open could not set up (a full disk, a file size limit) leaves nothing
    behind: not the 0-byte file SQLite created, nor its journal, nor the folders made for it,
    so the next attempt starts clean and nobody mistakes it for a store.

    Only while the file is still empty (nothing was ever committed to it) and not after a
    lock timeout: then another process is creating the same store right now, and its file
    and journal are its own. Called with no connection of this process open on the file.
    """
    if "locked by another process" in str(error):
        return
    try:
        if path.stat().st_size:
            return
    except OSError:
        pass
    sidecars = ("-journal", "-wal", "-shm")
    for name in (path.name, *(f"{path.name}{s}" for s in sidecars)):
        with contextlib.suppress(OSError):
            (path.parent / name).unlink()
    for folder in made_folders:  # deepest first; only while empty
        with contextlib.suppress(OSError):
            folder.rmdir()


def prepare_writer(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """A read-write connection's settings: a rollback journal, ``synchronous=NORMAL``."""
    leave_wal(conn, busy_timeout)
    # a killed process never damages the file at any setting; NORMAL leaves out the fsyncs that
    # guard a power cut on old filesystems, and halves each write's cost
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")


def leave_wal(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """A WAL file (an older sessionlens wrote WAL) goes back to a rollback journal, whose
    readers never write beside it; when other connections use it now, that waits for a
    later writer (asking for it takes the whole file, so only a moment is spent trying)."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        return
    conn.execute("PRAGMA busy_timeout=100")
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.OperationalError:
        pass
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")


def is_hot_journal(exc: sqlite3.Error) -> bool:
    """SQLITE_READONLY_ROLLBACK: a read-only reader met a journal it would have to roll back."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code == 776
    return "readonly database" in str(exc)


def store_error(exc: sqlite3.Error, path: Path, action: str, busy_timeout: float) -> StoreError:
    """An SQLite error as the one line a person reads: what went wrong with which file."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        problem = (
            f"locked by another process for more than {busy_timeout:g} s "
            f"({action} gave up); try again"
        )
    elif "not a database" in low or "malformed" in low or "corrupt" in low:
        problem = f"corrupt SQLite file ({text})"
    elif "disk is full" in low:
        problem = f"the disk is full ({action} failed)"
    elif "readonly" in low or "read-only" in low:
        problem = f"cannot write, the file or its folder is read-only ({action})"
    else:
        problem = f"{action} failed: {text}"
    return StoreError(one_line(f"{path}: {problem}"))
