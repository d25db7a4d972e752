"""``MemoryStore``: sessions in process memory, like Kedro's ``BaseSessionStore``.

Persists nothing; for tests, notebooks and ``sessionlens demo`` previews. Records are deep-copied
to plain JSON shapes on the way in and out, so a caller mutating a record changes nothing here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from sessionlens.errors import UnknownSessionError, UnreadableSessionError
from sessionlens.query import Query
from sessionlens.record import Record, SessionSummary
from sessionlens.stores import _common
from sessionlens.stores.base import LogChunk, SessionStore, StoreCapabilities
from sessionlens.stores.readable import RecordProblem, load_record


class MemoryStore(SessionStore):
    """Dicts guarded by a lock: safe to share between the app's worker threads."""

    kind: ClassVar[str] = "memory"
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        persistent=False, logs=True, user_details=False, concurrent_writers=False
    )

    def __init__(self, location: str = "memory:", *, read_only: bool = False) -> None:
        super().__init__(location, read_only=read_only)
        #: the plain record, or why it is unreadable (read like every other backend's)
        self._records: dict[str, Record | RecordProblem] = {}
        self._index: dict[str, _common.IndexEntry] = {}
        self._logs: dict[str, list[LogChunk]] = {}
        self._version = 0
        self._lock = threading.RLock()

    # -- reading ----------------------------------------------------------------------
    def count(self, query: Query | None = None) -> int:
        with self._lock:
            entries = list(self._index.values())
        return _common.count(entries, query)

    def list_summaries(
        self, query: Query | None = None, *, offset: int = 0, limit: int | None = 50
    ) -> list[SessionSummary]:
        with self._lock:
            entries = list(self._index.values())
        return _common.select(entries, query, offset, limit)

    def get(self, session_id: str) -> Record:
        with self._lock:
            try:
                record = self._records[session_id]
            except KeyError:
                raise UnknownSessionError(session_id, self.location) from None
            if isinstance(record, RecordProblem):
                raise UnreadableSessionError(session_id, str(record), self.location)
            return _common.plain_record(record)

    def get_summary(self, session_id: str) -> SessionSummary:
        with self._lock:
            entry = self._index.get(session_id)
        if entry is None:
            raise UnknownSessionError(session_id, self.location)
        return entry.current()

    def iter_log(self, session_id: str, start: int = 0) -> Iterator[LogChunk]:
        with self._lock:
            chunks = list(self._logs.get(session_id, ())[max(0, start) :])
        yield from chunks

    def change_token(self) -> Any:
        return self._version

    # -- writing ----------------------------------------------------------------------
    def save(self, record: Mapping[str, Any]) -> None:
        self.save_many([record])

    def save_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._check_writable()
        prepared = []
        for record in records:
            session_id, text = _common.json_to_save(record, self.location)
            plain: Record | RecordProblem
            try:
                plain = load_record(text)
                entry = _common.IndexEntry.from_record(plain, session_id=session_id, checked=True)
            except RecordProblem as exc:  # kept, and shown unreadable as any backend would
                plain, entry = exc, _common.IndexEntry.unreadable(session_id, str(exc))
            prepared.append((session_id, plain, entry))
        with self._lock:
            for session_id, plain, entry in prepared:
                self._records[session_id] = plain
                self._index[session_id] = entry
            self._version += 1

    def append_log(self, session_id: str, text: str, stream: str = "stdout") -> None:
        self._check_writable()
        with self._lock:
            self._logs.setdefault(session_id, []).append(LogChunk(text, stream))
