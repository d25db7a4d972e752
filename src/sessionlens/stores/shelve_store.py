"""``ShelveSessionStore``: Kedro's ShelveStore layout, ``<dir>/<session_id>/store``.

One shelve database per session (kedro 0.17.0-0.19.8); keys are the record's top-level keys,
values are pickles (protocol 4). Which files make up ``store`` depends on the dbm backend of the
*writer's* Python: ``dbm.dumb`` -> ``store.dat``/``.dir``/``.bak``; ``dbm.gnu`` -> one ``store``;
``dbm.ndbm`` -> ``store.db`` (or ``.pag``+``.dir``); ``dbm.sqlite3`` (Python 3.13+) -> one
``store`` that is an SQLite file. Reading detects the backend with ``dbm.whichdb`` (plus checks it
cannot make, e.g. ``store.db`` when this Python has no ``_dbm``); ``dbm.sqlite3`` files are read
with plain ``sqlite3`` on any Python. A backend this Python lacks is a one-line ``StoreError``.

Safety: values are loaded with :mod:`sessionlens.stores.safe_pickle` (plain data and paths only;
nothing named by the pickle is ever called). Read-only opens use flag ``r`` and never write.

Writing (sessionlens as the writer): a new session claims its id by creating its folder
(``mkdir`` fails when the id is taken: atomic between processes); the record is written as a
new shelve, with this Python's default dbm, into a temporary folder beside the others, then
renamed onto the claimed folder. An update swaps the new folder and the old one in one step
(``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere the old folder is renamed aside first,
``.old-<id>-*``, which a read-write open puts back if a crash left it there). Readers open every
file through one descriptor of the folder, so they see the old record or the new one, whole.
Logs: ``<dir>/.sessionlens/logs/<session_id>.jsonl``, one JSON object per appended chunk
(``{"stream": ..., "text": ...}``), appended with ``O_APPEND`` so concurrent appends never mix.
Heartbeat: that file's mtime (appends move it, ``heartbeat`` touches it), so a live run's
heartbeat costs no write of its own and a reader a ``stat``.

A session that cannot be read (a pickle refused or truncated, a bad dbm file, a backend this
Python lacks, a record ``readable`` refuses) is listed as ``unreadable`` with the reason; ``get``
raises ``UnreadableSessionError``.

Listing at scale: session ids are folder names. Summaries are cached in memory per session,
keyed by the folder's and its files' mtimes; a listing only stats the top folder (plus sessions
written in the last seconds) when nothing was added. Limit: the first listing reads every
session's database (about 0.3-0.8 ms each with the pickle check, so ~0.5 s per 1,000 sessions)
and filtering/sorting runs in Python; for tens of thousands of sessions use the SQLite store.
"""

from __future__ import annotations

import contextlib
import dbm
import dbm.dumb
import glob
import json
import os
import shelve
import shutil
import sqlite3
import stat
import struct
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sessionlens.errors import (
    SessionExistsError,
    StoreError,
    UnknownSessionError,
    UnreadableSessionError,
    one_line,
)
from sessionlens.query import Query
from sessionlens.record import Record, SessionSummary, is_running
from sessionlens.stores import dir_swap, listing, sqlite_files
from sessionlens.stores.base import LogChunk, SessionStore, StoreCapabilities
from sessionlens.stores.listing import IndexEntry
from sessionlens.stores.readable import MAX_RECORD_BYTES, RecordProblem, load_record
from sessionlens.stores.record_json import json_to_save, record_json
from sessionlens.stores.safe_pickle import safe_loads
from sessionlens.stores.sqlite_snapshot import SIDECARS, Snapshot

#: Files a shelve named ``store`` may consist of, whatever the backend.
STORE_FILE_NAMES = ("store", "store.db", "store.dat", "store.dir", "store.bak", "store.pag")
#: Sessions whose files changed this recently are re-checked on every listing.
_SETTLE_NS = 2_000_000_000
_GDBM_MAGICS = {0x13579ACE, 0x13579ACD, 0x13579ACF}


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


def _backend_file(session_dir: Path, backend: str) -> Path:
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
    source = _backend_file(session_dir, backend)
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
            module = __import__(backend, fromlist=["open"])
        except ImportError:
            raise BackendMissingError(_missing_backend(backend, source)) from None
    db = module.open(str(base), "r")
    try:
        yield db
    finally:
        db.close()


def _missing_backend(backend: str, source: Path) -> str:
    lib = {"dbm.gnu": "_gdbm", "dbm.ndbm": "_dbm"}.get(backend, backend)
    return (
        f"{source}: written with {backend}, which this Python lacks (no {lib} module); "
        f"read it with a Python that has {backend}"
    )


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


def _read_chunks(fh: Iterable[bytes], start: int, path: Path) -> Iterator[LogChunk]:
    for number, line in enumerate(fh):
        if not line.endswith(b"\n"):
            return  # a chunk being appended right now
        if number < start:
            continue
        try:
            chunk = json.loads(line)
            yield LogChunk(str(chunk["text"]), str(chunk.get("stream", "stdout")))
        except (ValueError, KeyError, TypeError):
            raise StoreError(f"{path}: line {number + 1} is not a log chunk") from None


def _check_session_id(session_id: str, location: str) -> None:
    """Session ids become folder names: refuse anything that could escape the store."""
    bad = (
        not session_id
        or session_id.startswith(".")
        or "/" in session_id
        or "\\" in session_id
        or "\x00" in session_id
    )
    if bad:
        raise StoreError(f"{location}: {session_id!r} cannot be a session folder name")


@dataclass
class _Cached:
    dir_sig: tuple[int, int]
    files_sig: tuple[tuple[str, int, int], ...]
    entry: IndexEntry | None
    error: str | None
    settling: bool


class ShelveSessionStore(SessionStore):
    """Kedro ShelveStore folders: read any dbm backend, write atomically with the default one."""

    kind: ClassVar[str] = "shelve"
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        persistent=True, logs=True, user_details=False, concurrent_writers=True
    )

    def __init__(
        self, location: str | os.PathLike[str], *, read_only: bool = False, create: bool = False
    ) -> None:
        self.root = Path(location).absolute()
        super().__init__(str(self.root), read_only=read_only)
        if not self.root.exists():
            if not create or read_only:
                raise StoreError(f"{self.root}: no such folder")
            try:
                self.root.mkdir(parents=True)
            except OSError as exc:
                raise StoreError(f"{self.root}: cannot create ({exc.strerror})") from None
        if not self.root.is_dir():
            raise StoreError(f"{self.root}: not a folder of shelve sessions")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise StoreError(f"{self.root}: cannot read (permission denied)")
        self._lock = threading.RLock()
        self._cache: dict[str, _Cached] = {}
        self._pending: set[str] = set()  # folders without store files yet
        self._top_mtime: int | None = None
        self._top_settling = True
        self._writes = 0  # own saves, for change_token
        #: sessions that could not be read: id -> one-line reason (listed as ``unreadable``)
        self.problems: dict[str, str] = {}
        if not read_only:
            self._recover()
        self._check_backend()

    # -- opening ----------------------------------------------------------------------
    def _session_names(self) -> set[str]:
        try:
            with os.scandir(self.root) as it:
                return {e.name for e in it if not e.name.startswith(".") and e.is_dir()}
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot list ({exc.strerror})") from None

    def _check_backend(self) -> None:
        """Fail at open, in one line, when the newest session needs a dbm this Python lacks."""
        for name in sorted(self._session_names(), reverse=True)[:5]:
            backend = which_backend(self.root / name)
            if backend is None:
                continue  # a folder still being written
            if backend in ("dbm.gnu", "dbm.ndbm"):
                try:
                    __import__(backend)
                except ImportError:
                    source = _backend_file(self.root / name, backend)
                    raise BackendMissingError(_missing_backend(backend, source)) from None
            return

    def _recover(self) -> None:
        """Put back a session folder a crash left renamed aside; drop stale temporaries. (The
        empty folder of an id claimed by a writer that died before writing stays: it is never
        listed, and a millisecond's id is never claimed again.)"""
        now = time.time()
        for entry in os.scandir(self.root):
            if not entry.is_dir() or not entry.name.startswith((".old-", ".tmp-")):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime < 60:
                    continue  # may belong to a writer at work right now
                if entry.name.startswith(".old-"):
                    session_id = entry.name[len(".old-") :].rsplit("-", 1)[0]
                    final = self.root / session_id
                    if not final.exists():
                        os.rename(entry.path, final)
                        continue
                shutil.rmtree(entry.path, ignore_errors=True)

    # -- the cache --------------------------------------------------------------------
    def _files_sig(self, session_dir: Path) -> tuple[tuple[str, int, int], ...]:
        sig = []
        for name in STORE_FILE_NAMES:
            with contextlib.suppress(OSError):
                st = os.stat(session_dir / name)
                sig.append((name, st.st_size, st.st_mtime_ns))
        return tuple(sig)

    def _refresh(self) -> list[IndexEntry]:
        with self._lock:
            try:
                top = os.stat(self.root).st_mtime_ns
            except OSError as exc:
                raise StoreError(f"{self.root}: cannot read ({exc.strerror})") from None
            now = time.time_ns()
            if top != self._top_mtime or self._top_settling:
                names = self._session_names()
                for gone in set(self._cache) - names:
                    del self._cache[gone]
                self._pending &= names
                check: Iterable[str] = names
                self._top_mtime = top
                self._top_settling = now - top < _SETTLE_NS
            else:
                check = {n for n, c in self._cache.items() if c.settling} | self._pending
            for name in check:
                self._revalidate(name, now)
            self.problems = {n: c.error for n, c in self._cache.items() if c.error}
            return [c.entry for c in self._cache.values() if c.entry is not None]

    def _revalidate(self, name: str, now: int) -> None:
        session_dir = self.root / name
        try:
            st = os.stat(session_dir)
        except OSError:
            self._cache.pop(name, None)
            self._pending.discard(name)
            return
        dir_sig = (st.st_ino, st.st_mtime_ns)
        cached = self._cache.get(name)
        if cached and cached.dir_sig == dir_sig and not cached.settling:
            return
        files_sig = self._files_sig(session_dir)
        if not files_sig:
            self._cache.pop(name, None)
            self._pending.add(name)
            return
        self._pending.discard(name)
        settling = any(now - m < _SETTLE_NS for _, _, m in files_sig) or (
            now - st.st_mtime_ns < _SETTLE_NS
        )
        if cached and cached.dir_sig == dir_sig and cached.files_sig == files_sig:
            cached.settling = settling
            return
        try:
            record = self._read(session_dir, name)  # checked by readable.load_record
            entry = IndexEntry.from_record(record, session_id=name, checked=True)
        except UnreadableSessionError as exc:  # listed as such, never hiding the others
            entry = IndexEntry.unreadable(name, exc.problem)
        self._cache[name] = _Cached(dir_sig, files_sig, entry, entry.summary.problem, settling)

    def _read(self, session_dir: Path, session_id: str) -> Record:
        """One session's record; ``UnreadableSessionError`` with the reason (files named from
        the session folder) when it cannot be read."""
        try:
            record = read_shelve(session_dir)
        except StoreError as exc:
            problem = str(exc).replace(f"{session_dir}{os.sep}", "")
            raise UnreadableSessionError(session_id, problem, self.location) from None
        record.setdefault("session_id", session_id)
        return record

    # -- reading ----------------------------------------------------------------------
    def count(self, query: Query | None = None) -> int:
        return listing.count(self._refresh(), query, self.last_heartbeat)

    def list_summaries(
        self, query: Query | None = None, *, offset: int = 0, limit: int | None = 50
    ) -> list[SessionSummary]:
        return listing.select(self._refresh(), query, offset, limit, self.last_heartbeat)

    def _session_dir(self, session_id: str) -> Path:
        try:
            _check_session_id(session_id, self.location)
        except StoreError:
            raise UnknownSessionError(session_id, self.location) from None
        final = self.root / session_id
        if final.is_dir():
            return final
        # a writer is swapping this session right now (or crashed doing it): read the old copy
        for aside in sorted(self.root.glob(f".old-{glob.escape(session_id)}-*")):
            if aside.is_dir():
                return aside
        raise UnknownSessionError(session_id, self.location)

    def get(self, session_id: str) -> Record:
        session_dir = self._session_dir(session_id)
        if not self._files_sig(session_dir):  # a claimed folder not yet written: not listed
            raise UnknownSessionError(session_id, self.location)
        return self._read(session_dir, session_id)

    def _log_path(self, session_id: str) -> Path:
        return self.root / ".sessionlens" / "logs" / f"{session_id}.jsonl"

    def last_heartbeat(self, session_id: str) -> float | None:
        """The log file's mtime: every append moves it, :meth:`heartbeat` touches it."""
        try:
            _check_session_id(session_id, self.location)
            return os.stat(self._log_path(session_id)).st_mtime
        except (OSError, StoreError):
            return None

    def iter_log(self, session_id: str, start: int = 0) -> Iterator[LogChunk]:
        try:
            _check_session_id(session_id, self.location)
        except StoreError:
            return
        path = self._log_path(session_id)
        try:
            # never wait on a FIFO (or a device) put where the log should be
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"{path}: cannot read ({exc.strerror})") from None
        with open(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StoreError(f"{path}: not a regular file; not read")
            try:
                yield from _read_chunks(fh, start, path)
            except OSError as exc:
                raise StoreError(f"{path}: cannot read ({exc.strerror})") from None

    def change_token(self) -> Any:
        """Top folder mtime, own writes, and - while the folder changed in the last seconds,
        where mtime ticks are too coarse to tell two writes apart - each session folder's inode
        (a replaced session gets a new folder) and the files of sessions still being written."""
        with self._lock:
            try:
                top = os.stat(self.root).st_mtime_ns
            except OSError:
                return None
            parts: list[Any] = [top, self._writes]
            if time.time_ns() - top < _SETTLE_NS:
                with contextlib.suppress(OSError), os.scandir(self.root) as it:
                    parts.append(
                        hash(frozenset((e.name, e.inode()) for e in it if e.name[0] != "."))
                    )
            watch = sorted({n for n, c in self._cache.items() if c.settling} | self._pending)
            parts.extend((name, self._files_sig(self.root / name)) for name in watch)
            return tuple(parts)

    def first_write_changes(self) -> str | None:
        if (self.root / ".sessionlens").exists() or not self._session_names():
            return None
        return "adds a .sessionlens folder (the logs) beside Kedro's session folders"

    # -- writing ----------------------------------------------------------------------
    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        """One session after the other: each is its own folder, no transaction spans them."""
        for record in records:
            self._write(record, new=True)

    def update(self, record: Mapping[str, Any]) -> None:
        self._write(record, new=False)

    def _write(self, record: Mapping[str, Any], *, new: bool) -> None:
        """Write the shelve into a temporary folder beside the others, then put it in place in
        one step: a new session renames it onto the empty folder that claimed its id (``mkdir``
        fails when another process claimed it first); an update swaps the two folders."""
        self._check_writable()
        session_id, text = json_to_save(record, self.location)
        _check_session_id(session_id, self.location)
        plain = json.loads(text)
        final = self.root / session_id
        try:
            # the log folder is made with the first session, so that appending to a log never
            # changes the store folder (change_token: a growing log is not a new session)
            self._log_path(session_id).parent.mkdir(parents=True, exist_ok=True)
            if new:
                os.mkdir(final)
        except FileExistsError:
            raise SessionExistsError(session_id, self.location) from None
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot write ({exc.strerror})") from None
        if not new and which_backend(final) is None:
            raise UnknownSessionError(session_id, self.location)
        tmp: Path | None = None
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{session_id}-", dir=self.root))
            _write_shelve(tmp / "store", plain)
            for path in tmp.iterdir():
                with open(path, "rb+") as fh:
                    os.fsync(fh.fileno())
            if new:
                os.rename(tmp, final)  # onto the empty claimed folder: atomic
            else:
                self._replace(tmp, final)
            _fsync_folder(self.root)
            with self._lock:
                self._writes += 1
            if new and is_running(plain):
                self.heartbeat(session_id)
        except OSError as exc:
            if new:  # give the id back
                with contextlib.suppress(OSError):
                    os.rmdir(final)
            raise StoreError(
                one_line(f"{self.root}: cannot save session {session_id} ({exc})")
            ) from None
        finally:
            if tmp is not None and tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _replace(self, tmp: Path, final: Path) -> None:
        """Put ``tmp`` in place of ``final``: swapped in one step where the system can (the
        old version ends in ``tmp``, removed by the caller), else renamed aside first; a
        read-write open puts back an aside folder a crash left (``_recover``)."""
        if dir_swap.exchange(tmp, final):
            return
        aside = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.rename(final, aside)
        try:
            os.rename(tmp, final)
        except OSError:
            os.rename(aside, final)  # put the old record back: nothing lost
            raise
        shutil.rmtree(aside, ignore_errors=True)

    def append_log(self, session_id: str, text: str, stream: str = "stdout") -> None:
        self._check_writable()
        _check_session_id(session_id, self.location)
        path = self._log_path(session_id)
        line = (json.dumps({"stream": stream, "text": text}) + "\n").encode("utf-8")
        try:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except FileNotFoundError:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                start = os.lseek(fd, 0, os.SEEK_END)
                try:
                    while line:  # one write in practice; a short write is finished, never lost
                        line = line[os.write(fd, line) :]
                except OSError:
                    # a full disk: take back the torn chunk, or the next append would be glued
                    # to it (one writer per session log, so the end is still ours)
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, start)
                    raise
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(f"{path}: cannot append ({exc.strerror})") from None

    def heartbeat(self, session_id: str) -> None:
        """Touch the session's log file (made empty when the run printed nothing yet): no data
        written, one inode update, and a reader needs only a ``stat``."""
        self._check_writable()
        _check_session_id(session_id, self.location)
        path = self._log_path(session_id)
        try:
            try:
                os.utime(path)
            except FileNotFoundError:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        except OSError as exc:
            raise StoreError(f"{path}: cannot record a heartbeat ({exc.strerror})") from None


def _write_shelve(path: Path, record: Mapping[str, Any]) -> None:
    """A new shelve at ``path`` with this Python's default dbm (as ``shelve.open``). Closed
    here even when a write fails (a full disk): ``Shelf.close`` drops a dbm whose last sync
    failed without closing it, and ``dbm.dumb``'s ``__del__`` would then try to commit into a
    folder removed meanwhile, printing an 'Exception ignored' traceback."""
    db = dbm.open(str(path), "n")  # noqa: SIM115 - closed below even when closing fails
    try:
        with shelve.Shelf(db, protocol=4) as shelf:
            for key, value in record.items():
                shelf[key] = value
    finally:
        with contextlib.suppress(Exception):  # closed already, or failing as the write did
            db.close()


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a crash right after keeps it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
