"""One Kedro shelve session's files: which dbm backend wrote them, reading them without running
code, and writing a new one.

A shelve named ``store`` is one dbm database whose values are pickles (protocol 4). Which files
make it up depends on the dbm backend of the *writer's* Python: ``dbm.dumb`` ->
``store.dat``/``.dir``/``.bak``; ``dbm.gnu`` -> one ``store``; ``dbm.ndbm`` -> ``store.db`` (or
``.pag``+``.dir``); ``dbm.sqlite3`` (Python 3.13+) -> one ``store`` that is an SQLite file.
:func:`which_backend` detects the backend with ``dbm.whichdb`` (plus checks it cannot make, e.g.
``store.db`` when this Python has no ``_dbm``); ``dbm.sqlite3`` files are read with plain
``sqlite3`` on any Python. A backend this Python lacks is a one-line ``BackendMissingError``.

Safety: values are loaded with :mod:`sessionlens.stores.safe_pickle` (plain data and paths only;
nothing named by the pickle is ever called); files are opened read-only (flag ``r``), and a store
file that is not a regular file (a FIFO, a device) is never opened. :func:`read_shelve` opens
every file through one descriptor of the session folder, so it sees one version whole while a
writer swaps in another (:mod:`~.dir_swap`). The folder layout, the cache and writing sessions
atomically are :mod:`~.shelve_store`'s.
"""

from __future__ import annotations

import contextlib
import dbm
import dbm.dumb
import importlib
import os
import shelve
import sqlite3
import stat
import struct
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sessionlens.errors import StoreError, one_line
from sessionlens.record import Record
from sessionlens.stores import sqlite_files
from sessionlens.stores.readable import MAX_RECORD_BYTES, RecordProblem, load_record
from sessionlens.stores.record_json import record_json
from sessionlens.stores.safe_pickle import safe_loads
from sessionlens.stores.sqlite_snapshot import SIDECARS, Snapshot

#: Files a shelve named ``store`` may consist of, whatever the backend.
STORE_FILE_NAMES = ("store", "store.db", "store.dat", "store.dir", "store.bak", "store.pag")
_GDBM_MAGICS = {0x13579ACE, 0x13579ACD, 0x13579ACF}
#: Held while a dbm module is imported, and around ``dbm.open``, whose first call imports the
#: candidates for this Python's default: CPython lets a thread see a module another thread is
#: failing to import (``dbm.gnu`` without ``_gdbm``), which then has no ``open``.
_DBM_IMPORT = threading.Lock()


class BackendMissingError(StoreError):
    """The session was written with a dbm backend this Python was built without."""


def special_file(session_dir: Path) -> Path | None:
    """The first store file of the folder that is not a regular file (a FIFO, a device, a
    socket, a folder; symlinks followed), or None. Such a file is never opened: opening a FIFO
    for reading waits for a writer, reading ``/dev/tty`` waits for the keyboard."""
    for name in STORE_FILE_NAMES:
        try:
            mode = os.stat(session_dir / name).st_mode
        except OSError:
            continue
        if not stat.S_ISREG(mode):
            return session_dir / name
    return None


def which_backend(session_dir: Path) -> str | None:
    """The dbm backend that wrote ``<session_dir>/store``: ``dbm.dumb``, ``dbm.gnu``,
    ``dbm.ndbm``, ``dbm.sqlite3``, ``""`` for unrecognised files (and for a folder holding a
    store file that is not a regular file), None when there are none."""
    if special_file(session_dir) is not None:
        return ""
    base = session_dir / "store"
    if sqlite_files.is_sqlite_file(base):
        return "dbm.sqlite3"  # whichdb knows it only on Python 3.13+
    try:
        kind = dbm.whichdb(str(base))
    except OSError:
        kind = None
    if kind:
        return kind
    # whichdb only names ndbm when this Python can open it; tell the user what wrote it anyway
    if (session_dir / "store.db").is_file() or (
        (session_dir / "store.pag").is_file() and (session_dir / "store.dir").is_file()
    ):
        return "dbm.ndbm"
    if base.is_file():
        try:
            with open(base, "rb") as fh:
                head = fh.read(4)
        except OSError:
            head = b""
        if len(head) == 4 and {struct.unpack("<I", head)[0], struct.unpack(">I", head)[0]} & (
            _GDBM_MAGICS
        ):
            return "dbm.gnu"
        return ""
    return kind


def backend_file(session_dir: Path, backend: str) -> Path:
    """The file to name in messages for a backend."""
    if backend == "dbm.dumb":
        return session_dir / "store.dat"
    if backend == "dbm.ndbm" and (session_dir / "store.db").exists():
        return session_dir / "store.db"
    return session_dir / "store"


def read_shelve(session_dir: Path) -> Record:
    """Read one Kedro shelve session read-only, whatever backend wrote it, without running code.

    Every file is opened through one descriptor of the session folder (``/proc/self/fd/N``), so
    all of them come from the same version even while a writer swaps in a new folder
    (:mod:`sessionlens.stores.dir_swap`); a version deleted half-way is read again.
    """
    for _ in range(_READ_ATTEMPTS):
        with _pinned(session_dir) as base:
            try:
                return _read_shelve_at(base, session_dir)
            except _Vanished:
                continue
    raise StoreError(f"{session_dir}: replaced by writers again and again while being read")


class _Vanished(Exception):
    """The folder's version was deleted while being read (a writer replaced it)."""


_READ_ATTEMPTS = 8
_PROC_FD = os.path.isdir("/proc/self/fd")


@contextlib.contextmanager
def _pinned(session_dir: Path) -> Iterator[Path]:
    """A path to the folder that keeps naming the same folder if it is renamed meanwhile."""
    if not _PROC_FD:  # other systems: plain paths (a reader racing a writer may retry)
        yield session_dir
        return
    try:
        fd = os.open(session_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # gone or not a folder: the plain path gives the right message
        yield session_dir
        return
    try:
        yield Path(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def _replaced(pinned: Path, session_dir: Path) -> bool:
    """Whether the folder read through ``pinned`` is no longer the one at ``session_dir`` (a
    writer swapped in a new version, or removed it), so reading again may succeed."""
    try:
        a, b = os.stat(pinned), os.stat(session_dir)
    except OSError:
        return True
    return (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino)


def _read_shelve_at(base: Path, session_dir: Path) -> Record:
    """``read_shelve`` with files opened under ``base``; messages name ``session_dir``."""
    special = special_file(base)
    if special is not None:
        raise StoreError(
            f"{session_dir / special.name}: not a regular file (a FIFO, a device or a folder); "
            "not read"
        )
    backend = which_backend(base)
    if backend is None:
        if base != session_dir and _replaced(base, session_dir):
            raise _Vanished
        raise StoreError(
            f"{session_dir}: no shelve store files this reader recognises "
            "(store, store.dat with store.dir, store.db)"
        )
    source = backend_file(session_dir, backend)
    if backend == "":
        raise StoreError(f"{source}: not a dbm file this reader recognises")
    raw: dict[bytes, bytes] = {}
    try:
        if backend == "dbm.sqlite3":
            raw = _read_dbm_sqlite(base / "store")
        else:
            with _open_dbm(backend, base / "store", source) as db:
                _check_size(_declared_bytes(db), source)
                size = 0
                for key in db.keys():  # noqa: SIM118 - gdbm/ndbm objects are not iterable
                    raw[key] = value = db[key]
                    size += len(value)
                    _check_size(size, source)
    except StoreError:
        raise
    except FileNotFoundError:
        if base != session_dir:
            raise _Vanished from None
        raise StoreError(f"{source}: files of the session disappeared while read") from None
    except (OSError, ValueError, SyntaxError, KeyError, sqlite3.Error) as exc:
        raise StoreError(one_line(f"{source}: unreadable {backend} file ({exc})")) from None
    except Exception as exc:  # dbm modules raise their own ``error`` classes
        raise StoreError(one_line(f"{source}: unreadable {backend} file ({exc})")) from None
    _check_size(sum(len(value) for value in raw.values()), source)
    record: Record = {}
    for key, value in raw.items():
        name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        record[name] = safe_loads(bytes(value), f"{source} (key {name!r})")
    try:
        return load_record(record_json(record))
    except RecordProblem as exc:
        raise StoreError(one_line(f"{source}: {exc}")) from None


def _check_size(size: int, source: Path) -> None:
    if size > MAX_RECORD_BYTES:
        raise StoreError(
            f"{source}: {size:,} bytes of values (at most {MAX_RECORD_BYTES:,} are read)"
        )


def _declared_bytes(db: Any) -> int:
    """What a ``dbm.dumb`` index (its ``.dir``, read when opened) says the values take, known
    before any is read: a few bytes of index can name the same large region of ``.dat`` (a
    sparse file costs no disk) thousands of times, or give a negative size (read to the end).
    0 for the other backends, whose values are counted as they are read."""
    index = getattr(db, "_index", None)
    if not isinstance(index, dict):
        return 0
    total = 0
    for entry in index.values():
        size = entry[1] if isinstance(entry, tuple) and len(entry) == 2 else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"an index entry is not (position, size): {entry!r:.60}")
        total += size
    return total


@contextlib.contextmanager
def _open_dbm(backend: str, base: Path, source: Path) -> Iterator[Any]:
    if backend == "dbm.dumb":
        module: Any = dbm.dumb
    else:
        try:
            module = _import_dbm(backend)
        except ImportError:
            raise BackendMissingError(missing_backend(backend, source)) from None
    db = module.open(str(base), "r")
    try:
        yield db
    finally:
        db.close()


def missing_backend(backend: str, source: Path) -> str:
    lib = {"dbm.gnu": "_gdbm", "dbm.ndbm": "_dbm"}.get(backend, backend)
    return (
        f"{source}: written with {backend}, which this Python lacks (no {lib} module); "
        f"read it with a Python that has {backend}"
    )


def _import_dbm(name: str) -> Any:
    """The ``dbm.gnu``/``dbm.ndbm`` module (``ImportError`` when this Python lacks it)."""
    with _DBM_IMPORT:
        return importlib.import_module(name)


def require_backend(session_dir: Path) -> bool:
    """Whether ``session_dir`` holds store files (False: a session still being written); raises
    ``BackendMissingError`` (one line) when they were written with a dbm this Python lacks. Files
    of no backend known here are True: that session is listed unreadable, the others are read."""
    backend = which_backend(session_dir)
    if backend is None:
        return False
    if backend in ("dbm.gnu", "dbm.ndbm"):
        try:
            _import_dbm(backend)
        except ImportError:
            source = backend_file(session_dir, backend)
            raise BackendMissingError(missing_backend(backend, source)) from None
    return True


def _read_dbm_sqlite(path: Path) -> dict[bytes, bytes]:
    """Python 3.13's ``dbm.sqlite3`` layout (table ``Dict(key, value)``).

    ``dbm.sqlite3`` writes in WAL mode, whose readers write beside the file (``store-shm``,
    ``store-wal``) even with ``mode=ro``; a killed writer may also leave committed rows only in
    ``store-wal``, or a hot journal. Such a file is read from a private copy (as the SQLite
    store does, :mod:`~.sqlite_snapshot`), so browsing changes nothing in the session folder
    and still sees every committed row. Any other is read in place with ``mode=ro``."""
    header = sqlite_files.read_header(path)
    sidecars = any(os.path.exists(f"{path}{suffix}") for suffix in SIDECARS)
    if header is None or (not sqlite_files.is_wal_header(header) and not sidecars):
        return _read_dict(path, "ro")  # None: this process holds it, its sidecars exist
    snapshot = Snapshot(path, "a dbm.sqlite3 file in WAL mode")
    try:
        if not snapshot.take():
            return _read_dict(path, "ro")
        return _read_dict(snapshot.path, "rw")
    finally:
        snapshot.remove()


def _read_dict(path: Path, mode: str) -> dict[bytes, bytes]:
    conn = sqlite_files.connect(path, mode=mode)
    try:
        rows = conn.execute("SELECT key, value FROM Dict").fetchall()
    finally:
        sqlite_files.close(conn)
    return {_as_bytes(k): _as_bytes(v) for k, v in rows}


def _as_bytes(value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def write_shelve(path: Path, record: Mapping[str, Any]) -> None:
    """A new shelve at ``path`` with this Python's default dbm (as ``shelve.open``). Closed
    here even when a write fails (a full disk): ``Shelf.close`` drops a dbm whose last sync
    failed without closing it, and ``dbm.dumb``'s ``__del__`` would then try to commit into a
    folder removed meanwhile, printing an 'Exception ignored' traceback."""
    with _DBM_IMPORT:
        db = dbm.open(str(path), "n")  # noqa: SIM115 - closed below even when closing fails
    try:
        with shelve.Shelf(db, protocol=4) as shelf:
            for key, value in record.items():
                shelf[key] = value
    finally:
        with contextlib.suppress(Exception):  # closed already, or failing as the write did
            db.close()
