"""Helpers shared by the store backends: one-line messages and the in-Python listing.

Backends without an index (memory, shelve) filter and sort in Python with exactly the reference
semantics of :meth:`Query.matches` and :meth:`Query.sort_key`; the SQLite backend translates the
same semantics to SQL and is tested against this code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sessionlens.query import Query
from sessionlens.record import Record, SessionSummary, derive_status, params_of, to_jsonable


def one_line(text: object) -> str:
    """Collapse any whitespace run (newlines included) so a message stays on one line."""
    return " ".join(str(text).split())


def require_session_id(record: Mapping[str, Any], location: str) -> str:
    """The record's ``session_id`` as str; a record without one cannot be stored."""
    from sessionlens.errors import StoreError

    session_id = record.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise StoreError(f"{location}: cannot save a record without a session_id string")
    return session_id


def plain_record(record: Mapping[str, Any]) -> Record:
    """A deep, JSON-shaped copy: what every backend hands back from ``get``."""
    return json.loads(record_json(record))


def record_json(record: Mapping[str, Any]) -> str:
    """The record as JSON text; C-speed for plain data, ``to_jsonable`` for paths, tuples of
    pickles, datetimes and the like."""
    try:
        return json.dumps(record, allow_nan=False)
    except (TypeError, ValueError):
        return json.dumps(to_jsonable(record))


@dataclass(frozen=True)
class IndexEntry:
    """What a Python-side listing needs per session, derived once from the record."""

    summary: SessionSummary  # status as recorded (``check_pid=False``)
    params: dict[str, Any]
    pid: int | None

    @classmethod
    def from_record(
        cls, record: Mapping[str, Any], details: Mapping[str, Any] | None = None
    ) -> IndexEntry:
        run = record.get("run")
        pid = run.get("pid") if isinstance(run, Mapping) else None
        return cls(
            SessionSummary.from_record(record, details, check_pid=False),
            params_of(record),
            pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        )

    def current(self, heartbeat: float | None = None) -> SessionSummary:
        """The summary as shown now: a ``running`` session whose process died here is
        ``interrupted``, one whose ``heartbeat`` went stale is ``lost``."""
        s = self.summary
        if s.status != "running":
            return s
        run = {"status": "running", "pid": self.pid, "hostname": s.hostname}
        status = derive_status({"run": run}, heartbeat=heartbeat)
        return s if status == s.status else dataclasses.replace(s, status=status)


#: A backend's ``last_heartbeat``, asked only for sessions recorded ``running``.
HeartbeatOf = Callable[[str], float | None]


def select(
    entries: Iterable[IndexEntry],
    query: Query | None,
    offset: int,
    limit: int | None,
    heartbeat_of: HeartbeatOf | None = None,
) -> list[SessionSummary]:
    """Filter, sort and page in Python: the reference every indexed backend must agree with."""
    query = query or Query()
    hits = [s for s in _matching(entries, query, heartbeat_of)]
    hits.sort(key=query.sort_key, reverse=query.descending)
    offset = max(0, offset)
    return hits[offset:] if limit is None else hits[offset : offset + max(0, limit)]


def count(
    entries: Iterable[IndexEntry], query: Query | None, heartbeat_of: HeartbeatOf | None = None
) -> int:
    query = query or Query()
    return sum(1 for _ in _matching(entries, query, heartbeat_of))


def _matching(
    entries: Iterable[IndexEntry], query: Query, heartbeat_of: HeartbeatOf | None
) -> Iterable[SessionSummary]:
    for entry in entries:
        beat = None
        if heartbeat_of is not None and entry.summary.status == "running":
            beat = heartbeat_of(entry.summary.session_id)
        summary = entry.current(beat)
        if query.is_empty or query.matches(summary, entry.params):
            yield summary
