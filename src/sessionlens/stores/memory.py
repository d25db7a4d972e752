"""``MemoryStore``: sessions in process memory, like Kedro's ``BaseSessionStore``.

Persists nothing; for tests, notebooks and ``sessionlens demo`` previews. Records are deep-copied
to plain JSON shapes on the way in and out, so a caller mutating a record changes nothing here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from sessionlens.errors import SessionExistsError, UnknownSessionError, UnreadableSessionError
from sessionlens.query import Query
from sessionlens.record import Record, SessionSummary, is_running
from sessionlens.stores import listing
from sessionlens.stores.base import LogChunk, SessionStore, StoreCapabilities, merged_details
from sessionlens.stores.listing import IndexEntry
from sessionlens.stores.readable import RecordProblem, load_record
from sessionlens.stores.record_json import json_to_save, plain_record


class MemoryStore(SessionStore):
    """Dicts guarded by a lock: safe to share between the app's worker threads."""

    kind: ClassVar[str] = "memory"
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        persistent=False, logs=True, user_details=True
    )

    def __init__(self, location: str = "memory:", *, read_only: bool = False) -> None:
        super().__init__(location, read_only=read_only)
        #: the plain record, or why it is unreadable (read like every other backend's)
        self._records: dict[str, Record | RecordProblem] = {}
        self._index: dict[str, IndexEntry] = {}
        self._logs: dict[str, list[LogChunk]] = {}
        self._beats: dict[str, float] = {}
        #: title, bookmark, notes per session (kedro-viz's ``user_run_details``)
        self._details: dict[str, dict[str, Any]] = {}
        self._version = 0
        self._lock = threading.RLock()

    # -- reading ----------------------------------------------------------------------
    def count(self, query: Query | None = None) -> int:
        with self._lock:
            entries = list(self._index.values())
        return listing.count(entries, query, self.last_heartbeat)

    def list_summaries(
        self, query: Query | None = None, *, offset: int = 0, limit: int | None = 50
    ) -> list[SessionSummary]:
        with self._lock:
            entries = list(self._index.values())
        return listing.select(entries, query, offset, limit, self.last_heartbeat)

    def get(self, session_id: str) -> Record:
        with self._lock:
            try:
                record = self._records[session_id]
            except KeyError:
                raise UnknownSessionError(session_id, self.location) from None
            if isinstance(record, RecordProblem):
                raise UnreadableSessionError(session_id, str(record), self.location)
            return plain_record(record)

    def get_summary(self, session_id: str) -> SessionSummary:
        with self._lock:
            entry = self._index.get(session_id)
        if entry is None:
            raise UnknownSessionError(session_id, self.location)
        return entry.current(self.last_heartbeat(session_id))

    def last_heartbeat(self, session_id: str) -> float | None:
        with self._lock:
            return self._beats.get(session_id)

    def user_details(self, session_id: str) -> Mapping[str, Any]:
        with self._lock:
            return dict(self._details.get(session_id, {}))

    def existing_ids(self, session_ids: Iterable[str]) -> set[str]:
        with self._lock:
            return {sid for sid in session_ids if sid in self._records}

    def iter_log(self, session_id: str, start: int = 0) -> Iterator[LogChunk]:
        with self._lock:
            chunks = list(self._logs.get(session_id, ())[max(0, start) :])
        yield from chunks

    def change_token(self) -> Any:
        return self._version

    # -- writing ----------------------------------------------------------------------
    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._write(records, new=True)

    def update(self, record: Mapping[str, Any]) -> None:
        self._write([record], new=False)

    def _write(self, records: Iterable[Mapping[str, Any]], *, new: bool) -> None:
        """Check every record first, then change all under the lock: all or nothing."""
        self._check_writable()
        prepared = []
        for record in records:
            session_id, text = json_to_save(record, self.location)
            plain: Record | RecordProblem
            try:
                plain = load_record(text)
                entry = IndexEntry.from_record(plain, session_id=session_id, checked=True)
            except RecordProblem as exc:  # kept, and shown unreadable as any backend would
                plain, entry = exc, IndexEntry.unreadable(session_id, str(exc))
            prepared.append((session_id, plain, entry))
        with self._lock:
            seen: set[str] = set()
            for session_id, _, _ in prepared:
                exists = session_id in self._records or session_id in seen
                if new and exists:
                    raise SessionExistsError(session_id, self.location)
                if not new and not exists:
                    raise UnknownSessionError(session_id, self.location)
                seen.add(session_id)
            for session_id, plain, entry in prepared:
                details = self._details.get(session_id)
                if details:
                    entry = _with_details(entry, details)
                old = self._index.get(session_id)
                if old is not None and old.summary.archived:
                    entry = entry._replace(summary=entry.summary._replace(archived=True))
                self._records[session_id] = plain
                self._index[session_id] = entry
                if new and isinstance(plain, dict) and is_running(plain):
                    self._beats[session_id] = time.time()
            self._version += 1

    def set_user_details(
        self,
        session_id: str,
        *,
        title: str | None = None,
        notes: str | None = None,
        bookmark: bool | None = None,
    ) -> None:
        self._check_writable()
        with self._lock:
            entry = self._index.get(session_id)
            if entry is None:
                raise UnknownSessionError(session_id, self.location)
            details = merged_details(self._details.get(session_id, {}), title, notes, bookmark)
            self._details[session_id] = details
            self._index[session_id] = _with_details(entry, details)
            self._version += 1

    def archive(self, session_ids: Iterable[str], archived: bool = True) -> None:
        self._check_writable()
        with self._lock:
            ids = self._known(session_ids)
            for session_id in ids:
                entry = self._index[session_id]
                summary = entry.summary._replace(archived=bool(archived))
                self._index[session_id] = entry._replace(summary=summary)
            self._version += 1

    def delete(self, session_ids: Iterable[str]) -> None:
        self._check_writable()
        with self._lock:
            for session_id in self._known(session_ids):
                for kept in (self._records, self._index, self._logs, self._beats, self._details):
                    kept.pop(session_id, None)  # type: ignore[attr-defined]
            self._version += 1

    def _known(self, session_ids: Iterable[str]) -> list[str]:
        """``session_ids`` once each, all in the store (else ``UnknownSessionError``)."""
        ids = list(dict.fromkeys(session_ids))
        for session_id in ids:
            if session_id not in self._records:
                raise UnknownSessionError(session_id, self.location)
        return ids

    def append_log(self, session_id: str, text: str, stream: str = "stdout") -> None:
        self._check_writable()
        with self._lock:
            self._logs.setdefault(session_id, []).append(LogChunk(text, stream))
            self._beats[session_id] = time.time()

    def heartbeat(self, session_id: str) -> None:
        self._check_writable()
        with self._lock:
            self._beats[session_id] = time.time()


def _with_details(entry: IndexEntry, details: Mapping[str, Any]) -> IndexEntry:
    """``entry`` whose summary shows ``details`` (title, bookmark, notes)."""
    summary = entry.summary._replace(
        title=details.get("title"),
        bookmark=bool(details.get("bookmark")),
        notes=details.get("notes"),
    )
    return entry._replace(summary=summary)
