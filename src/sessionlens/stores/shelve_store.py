"""``ShelveSessionStore``: Kedro's ShelveStore layout, ``<dir>/<session_id>/store``.

One shelve database per session (kedro 0.17.0-0.19.8); keys are the record's top-level keys,
values are pickles. Whatever dbm backend wrote a session, it is read by :mod:`~.shelve_dbm`
(safely: nothing named by a pickle is called); read-only opens never write.

Writing (sessionlens as the writer): a new session claims its id by creating its folder
(``mkdir`` fails when the id is taken: atomic between processes); the record is written as a
new shelve, with this Python's default dbm, into a temporary folder beside the others, then
renamed onto the claimed folder. An update swaps the new folder and the old one in one step
(``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere the old folder is renamed aside first,
``.old-<id>-*``, which a read-write open puts back if a crash left it there). Readers open every
file through one descriptor of the folder, so they see the old record or the new one, whole.
Logs: ``<dir>/.sessionlens/logs/<session_id>.jsonl``, one JSON object per appended chunk
(``{"stream": ..., "text": ...}``), appended with ``O_APPEND`` so concurrent appends never mix.
Title, notes, bookmark (kedro-viz's ``user_run_details``): JSON in
``<dir>/<session_id>/sessionlens-details.json`` beside Kedro's shelve files, never inside its
db (Kedro opens only ``store*``); written to a temporary file in the store folder and renamed
into place (atomic; the store folder's mtime moves, so listings and ``change_token`` see it).
An update of the record carries the file into the new session folder, and takes the old
folder's copy when an annotation landed there while the folders were being swapped.
Archived: an empty ``<dir>/<session_id>/sessionlens-archived`` file beside the record (carried by
updates like the details file). Delete renames the session folder aside (``.del-<id>-*``, one
atomic step: from then on the session is gone for every reader), then removes it and the log; a
read-write open removes what a crash left aside.
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
import errno
import glob
import json
import os
import shutil
import stat
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
from sessionlens.stores import dir_swap, listing
from sessionlens.stores.base import LogChunk, SessionStore, StoreCapabilities, merged_details
from sessionlens.stores.listing import IndexEntry
from sessionlens.stores.record_json import json_to_save
from sessionlens.stores.shelve_dbm import (
    STORE_FILE_NAMES,
    read_shelve,
    require_backend,
    which_backend,
    write_shelve,
)

#: title/notes/bookmark of a session, in its folder beside Kedro's shelve files
DETAILS_FILE = "sessionlens-details.json"
#: present (empty) when the session is archived
ARCHIVED_FILE = "sessionlens-archived"

#: Sessions whose files changed this recently are re-checked on every listing.
_SETTLE_NS = 2_000_000_000


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
        persistent=True, logs=True, user_details=True
    )

    @classmethod
    def open(
        cls,
        location: str,
        *,
        read_only: bool = True,
        create: bool = False,
        busy_timeout: float | None = None,
    ) -> ShelveSessionStore:
        """The folder at ``location`` (made when missing with ``create``); writers never wait
        for each other here, so ``busy_timeout`` means nothing."""
        return cls(location, read_only=read_only, create=create)

    def __init__(
        self, location: str | os.PathLike[str], *, read_only: bool = False, create: bool = False
    ) -> None:
        self.root = Path(location).absolute()
        super().__init__(str(self.root), read_only=read_only)
        if not self.root.exists():
            if not create or read_only:
                raise StoreError(f"{self.root}: no such folder")
            try:  # another process may make it at the same moment: that is the same store
                self.root.mkdir(parents=True, exist_ok=True)
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
            if require_backend(self.root / name):
                return

    def _recover(self) -> None:
        """Put back a session folder a crash left renamed aside; drop stale temporaries. (The
        empty folder of an id claimed by a writer that died before writing stays: it is never
        listed, and a millisecond's id is never claimed again.)"""
        now = time.time()
        for entry in os.scandir(self.root):
            if entry.name.startswith(".details-") and entry.is_file():
                with contextlib.suppress(OSError):  # an annotation a crash left half-done
                    if now - entry.stat().st_mtime >= 60:
                        os.unlink(entry.path)
                continue
            if not entry.is_dir() or not entry.name.startswith((".old-", ".tmp-", ".del-")):
                continue
            if entry.name.startswith(".del-"):  # a delete a crash interrupted: finish it
                shutil.rmtree(entry.path, ignore_errors=True)
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
        for extra in (DETAILS_FILE, ARCHIVED_FILE):
            with contextlib.suppress(OSError):
                st_extra = os.stat(session_dir / extra)
                files_sig += ((extra, st_extra.st_size, st_extra.st_mtime_ns),)
        settling = any(now - m < _SETTLE_NS for _, _, m in files_sig) or (
            now - st.st_mtime_ns < _SETTLE_NS
        )
        if cached and cached.dir_sig == dir_sig and cached.files_sig == files_sig:
            cached.settling = settling
            return
        details = _read_details(session_dir)
        try:
            record = self._read(session_dir, name)  # checked by readable.load_record
            entry = IndexEntry.from_record(
                record, details, session_id=name, checked=True, tracking=self.tracking
            )
        except UnreadableSessionError as exc:  # listed as such, never hiding the others
            entry = IndexEntry.unreadable(name, exc.problem, details)
        if any(name == ARCHIVED_FILE for name, _, _ in files_sig):
            entry = entry._replace(summary=entry.summary._replace(archived=True))
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

    def get_summary(self, session_id: str) -> SessionSummary:
        summary = super().get_summary(session_id)
        if (self._session_dir(session_id) / ARCHIVED_FILE).exists():
            summary = summary._replace(archived=True)
        return summary

    def user_details(self, session_id: str) -> Mapping[str, Any]:
        try:
            return _read_details(self._session_dir(session_id))
        except UnknownSessionError:
            return {}

    def existing_ids(self, session_ids: Iterable[str]) -> set[str]:
        found = set()
        for session_id in session_ids:
            try:
                _check_session_id(session_id, self.location)
            except StoreError:
                continue
            if self._files_sig(self.root / session_id):
                found.add(session_id)
        return found

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

    def _insert_copied(self, record: Record) -> None:
        """A copied session may find the empty folder a killed copy claimed for it: taken
        over (the rename onto an empty folder is atomic, and fails once a writer filled it)."""
        self._write(record, new=True, reclaim=True)

    def _write(self, record: Mapping[str, Any], *, new: bool, reclaim: bool = False) -> None:
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
            if not (reclaim and _is_empty_folder(final)):
                raise SessionExistsError(session_id, self.location) from None
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot write ({exc.strerror})") from None
        if not new and which_backend(final) is None:
            raise UnknownSessionError(session_id, self.location)
        tmp: Path | None = None
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{session_id}-", dir=self.root))
            write_shelve(tmp / "store", plain)
            for path in tmp.iterdir():
                with open(path, "rb+") as fh:
                    os.fsync(fh.fileno())
            if new:
                try:
                    os.rename(tmp, final)  # onto the empty claimed folder: atomic
                except OSError as exc:
                    if reclaim and exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                        raise SessionExistsError(session_id, self.location) from None
                    raise
            else:
                carried = _carry_details(final, tmp)
                self._replace(tmp, final)
                _keep_late_details(tmp, final, carried)
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

    def set_user_details(
        self,
        session_id: str,
        *,
        title: str | None = None,
        notes: str | None = None,
        bookmark: bool | None = None,
    ) -> None:
        """Write the merged details to a temporary file in the store folder, then rename it
        into the session's folder: readers see the old file or the new one."""
        self._check_writable()
        try:
            _check_session_id(session_id, self.location)
        except StoreError:
            raise UnknownSessionError(session_id, self.location) from None
        final = self.root / session_id
        if not self._files_sig(final):
            raise UnknownSessionError(session_id, self.location)
        details = merged_details(_read_details(final), title, notes, bookmark)
        data = json.dumps(details, ensure_ascii=False).encode("utf-8")
        tmp = self.root / f".details-{session_id}-{uuid.uuid4().hex[:8]}"
        try:
            with open(tmp, "xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final / DETAILS_FILE)
            _fsync_folder(final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise StoreError(
                one_line(f"{self.root}: cannot save the details of {session_id} ({exc})")
            ) from None
        with self._lock:
            self._writes += 1

    def archive(self, session_ids: Iterable[str], archived: bool = True) -> None:
        """Create (or remove) each session's archive mark, moved in (or out) through the store
        folder so its mtime moves: listings and ``change_token`` of other readers see it."""
        self._check_writable()
        folders = self._folders(session_ids)
        try:
            for folder in folders:
                # through the store folder, as details are: its mtime is what readers watch
                tmp = self.root / f".details-{folder.name}-{uuid.uuid4().hex[:8]}"
                mark = folder / ARCHIVED_FILE
                if archived:
                    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                    os.replace(tmp, mark)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.replace(mark, tmp)
                        os.unlink(tmp)
                _fsync_folder(folder)
            _fsync_folder(self.root)
        except OSError as exc:
            raise StoreError(one_line(f"{self.root}: cannot archive ({exc})")) from None
        with self._lock:
            self._writes += 1

    def delete(self, session_ids: Iterable[str]) -> None:
        """Each session folder renamed aside in one step (gone for every reader), then removed
        with its log; a crash in between leaves the aside folder to the next read-write open."""
        self._check_writable()
        folders = self._folders(session_ids)
        try:
            for folder in folders:
                aside = self.root / f".del-{folder.name}-{uuid.uuid4().hex[:8]}"
                os.rename(folder, aside)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._log_path(folder.name))
                shutil.rmtree(aside, ignore_errors=True)
            _fsync_folder(self.root)
        except OSError as exc:
            raise StoreError(one_line(f"{self.root}: cannot delete ({exc})")) from None
        with self._lock:
            self._writes += 1

    def _folders(self, session_ids: Iterable[str]) -> list[Path]:
        """The folders of ``session_ids`` (once each); ``UnknownSessionError`` for the first
        not in the store, before anything is written."""
        folders = []
        for session_id in dict.fromkeys(session_ids):
            try:
                _check_session_id(session_id, self.location)
            except StoreError:
                raise UnknownSessionError(session_id, self.location) from None
            folder = self.root / session_id
            if not self._files_sig(folder):
                raise UnknownSessionError(session_id, self.location)
            folders.append(folder)
        return folders

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


def _is_empty_folder(path: Path) -> bool:
    try:
        return path.is_dir() and not os.listdir(path)
    except OSError:
        return False


def _read_details(session_dir: Path) -> dict[str, Any]:
    """The session's title/bookmark/notes, each of its own type; {} when it has none or the
    file cannot be read (details never make a session unreadable)."""
    try:
        with open(session_dir / DETAILS_FILE, "rb") as fh:
            found = json.loads(fh.read(1 << 20))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        "title": found.get("title") if isinstance(found.get("title"), str) else None,
        "bookmark": found.get("bookmark") is True,
        "notes": found.get("notes") if isinstance(found.get("notes"), str) else None,
    }


def _carry_details(old: Path, new: Path) -> bytes | None:
    """Copy the details file (and archive mark) of the folder an update replaces into the new
    one; the details file's bytes."""
    if (old / ARCHIVED_FILE).exists():
        with contextlib.suppress(OSError):
            os.close(os.open(new / ARCHIVED_FILE, os.O_WRONLY | os.O_CREAT, 0o644))
    try:
        data = (old / DETAILS_FILE).read_bytes()
    except OSError:
        return None
    with open(new / DETAILS_FILE, "wb") as fh:
        fh.write(data)
        os.fsync(fh.fileno())
    return data


def _keep_late_details(swapped_out: Path, final: Path, carried: bytes | None) -> None:
    """After an update's swap (``swapped_out`` holds the old folder when the system swapped
    both in one step): an annotation written into the old folder meanwhile is moved over."""
    try:
        late = (swapped_out / DETAILS_FILE).read_bytes()
    except OSError:
        return
    if late != carried:
        with contextlib.suppress(OSError):
            os.replace(swapped_out / DETAILS_FILE, final / DETAILS_FILE)


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
