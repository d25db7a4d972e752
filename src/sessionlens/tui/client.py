"""The app's read-only view of one store: the calls its screens and workers make, nothing else.

Workers for pages, the detail panel, polling and compare call it from their own threads. It adds
no lock: every backend is safe to call from several threads (``SessionStore``'s docstring), and
SQLite already serialises calls on its one connection. What it adds is a narrow surface: the app
browses, it never writes through here. Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sessionlens.query import Query
from sessionlens.record import Record, SessionSummary
from sessionlens.results import Results
from sessionlens.stores.base import IndexProgress, SessionStore


class StoreClient:
    """Read-only use of one ``SessionStore`` by the app."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    @property
    def kind(self) -> str:
        return self.store.kind

    @property
    def location(self) -> str:
        return str(self.store.location)

    @property
    def has_user_details(self) -> bool:
        return self.store.capabilities.user_details

    def count(self, query: Query | None = None) -> int:
        return self.store.count(query)

    def count_at_most(self, query: Query, cap: int) -> int:
        return self.store.count_at_most(query, cap)

    def interrupt(self) -> None:
        self.store.interrupt()

    def list_summaries(
        self, query: Query | None, offset: int, limit: int | None
    ) -> list[SessionSummary]:
        return self.store.list_summaries(query, offset=offset, limit=limit)

    def results(self, session_id: str) -> Results:
        """Metrics and node timings (read lazily: compare's workers, never a listing)."""
        return self.store.results(session_id)

    def metric_names(self) -> list[str]:
        return self.store.metric_names()

    def metric_series(
        self, query: Query | None, metric: str, limit: int | None
    ) -> list[tuple[str, str | None, float]]:
        return self.store.metric_series(query, metric, limit)

    def needs_index(self) -> bool:
        return self.store.needs_index()

    def build_index(self, progress: IndexProgress, cancelled: Callable[[], bool]) -> None:
        self.store.build_index(progress, cancelled)

    def get(self, session_id: str) -> Record:
        return self.store.get(session_id)

    def user_details(self, session_id: str) -> Mapping[str, Any]:
        return dict(self.store.user_details(session_id))

    def last_heartbeat(self, session_id: str) -> float | None:
        return self.store.last_heartbeat(session_id)

    def read_log(self, session_id: str) -> str:
        return self.store.read_log(session_id)

    def log_tail(self, session_id: str, lines: int = 20, max_chars: int = 65536) -> list[str]:
        return self.store.log_tail(session_id, lines, max_chars)

    def change_token(self) -> Any:
        return self.store.change_token()

    def close(self) -> None:
        self.store.close()
