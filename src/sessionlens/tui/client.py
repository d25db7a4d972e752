"""The app's door to a store: every call from worker threads goes through one lock.

Workers for pages, the detail panel, polling and compare run in separate threads. Backends are not
promised to be thread-safe (a shelve file, an SQLite connection), so calls are serialised here and
the UI never touches the store directly. Nothing here imports Textual.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sessionlens.query import Query
from sessionlens.record import Record, SessionSummary
from sessionlens.stores.base import SessionStore


class StoreClient:
    """Thread-safe, read-only use of one ``SessionStore`` by the app."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._lock = threading.RLock()

    @property
    def kind(self) -> str:
        return self.store.kind

    @property
    def location(self) -> str:
        return str(self.store.location)

    @property
    def has_user_details(self) -> bool:
        return bool(self.store.capabilities.user_details)

    def count(self, query: Query | None = None) -> int:
        with self._lock:
            return self.store.count(query)

    def list_summaries(self, query: Query | None, offset: int, limit: int) -> list[SessionSummary]:
        with self._lock:
            return self.store.list_summaries(query, offset=offset, limit=limit)

    def get(self, session_id: str) -> Record:
        with self._lock:
            return self.store.get(session_id)

    def user_details(self, session_id: str) -> Mapping[str, Any]:
        with self._lock:
            return dict(self.store.user_details(session_id))

    def last_heartbeat(self, session_id: str) -> float | None:
        with self._lock:
            return self.store.last_heartbeat(session_id)

    def read_log(self, session_id: str) -> str:
        with self._lock:
            return self.store.read_log(session_id)

    def log_tail(self, session_id: str, lines: int = 20, max_chars: int = 65536) -> list[str]:
        with self._lock:
            return self.store.log_tail(session_id, lines, max_chars)

    def change_token(self) -> Any:
        with self._lock:
            return self.store.change_token()

    def close(self) -> None:
        with self._lock:
            self.store.close()
