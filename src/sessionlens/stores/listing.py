"""Listing in Python: filter, sort and page sessions with the reference semantics.

Backends without an index (memory, shelve) list with exactly the semantics of
:meth:`Query.matches` and :meth:`Query.sort_key`, from one :class:`IndexEntry` per session; the
SQLite backend translates the same semantics to SQL (``sqlite_query``), derives its index rows
from the same entries (``sqlite_index``) and is tested against this code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from sessionlens.record import SessionSummary, derive_status, params_of
from sessionlens.stores.readable import RecordProblem, check_record

if TYPE_CHECKING:  # the run path lists nothing: the filter language is not loaded there
    from sessionlens.query import Query
    from sessionlens.tracking import TrackingSource


class IndexEntry(NamedTuple):
    """What a Python-side listing needs per session, derived once from the record (a
    NamedTuple: no ``dataclasses`` on the ``run`` path, which writes index rows)."""

    summary: SessionSummary  # status as recorded (``check_pid=False``)
    params: dict[str, Any]
    pid: int | None

    @classmethod
    def from_record(
        cls,
        record: Mapping[str, Any],
        details: Mapping[str, Any] | None = None,
        *,
        session_id: str | None = None,
        checked: bool = False,
        tracking: TrackingSource | None = None,
    ) -> IndexEntry:
        """The entry of ``record``; total: a record that fails :func:`check_record`, or that
        this code cannot summarise, gives an ``unreadable`` entry with the reason, never an
        exception that would stop a listing. ``session_id``: the id the store knows it by;
        ``checked``: ``record`` comes from ``readable.load_record`` (checked already);
        ``tracking``: where the session's Kedro tracking files are (their metrics join the
        record's own, which win on a name both have)."""
        sid = session_id if session_id is not None else str(record.get("session_id", ""))
        try:
            if not checked:
                check_record(record)
            run = record.get("run")
            pid = run.get("pid") if isinstance(run, Mapping) else None
            summary = SessionSummary.from_record(record, details, check_pid=False)
            if tracking is not None:
                found = tracking.read(record, sid, metrics_only=True).metrics
                if found:
                    summary = summary._replace(metrics={**found, **(summary.metrics or {})})
            return cls(
                summary,
                params_of(record),
                pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
            )
        except RecordProblem as exc:
            return cls.unreadable(sid, str(exc), details)
        except Exception as exc:  # a shape nobody foresaw: say so, list the others
            return cls.unreadable(sid, f"cannot be summarised ({type(exc).__name__}: {exc})")

    @classmethod
    def unreadable(
        cls, session_id: str, problem: str, details: Mapping[str, Any] | None = None
    ) -> IndexEntry:
        """The entry of a session whose record cannot be read: listed, with the reason."""
        return cls(SessionSummary.unreadable(session_id, problem, details), {}, None)

    def current(self, heartbeat: float | None = None) -> SessionSummary:
        """The summary as shown now: a ``running`` session whose process died here is
        ``interrupted``, one whose ``heartbeat`` went stale is ``lost``."""
        s = self.summary
        if s.status != "running":
            return s
        run = {"status": "running", "pid": self.pid, "hostname": s.hostname}
        status = derive_status({"run": run}, heartbeat=heartbeat)
        return s if status == s.status else s._replace(status=status)


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
    query = query or all_sessions()
    hits = [s for s in _matching(entries, query, heartbeat_of)]
    hits.sort(key=query.sort_key, reverse=query.descending)
    offset = max(0, offset)
    return hits[offset:] if limit is None else hits[offset : offset + max(0, limit)]


def count(
    entries: Iterable[IndexEntry], query: Query | None, heartbeat_of: HeartbeatOf | None = None
) -> int:
    query = query or all_sessions()
    return sum(1 for _ in _matching(entries, query, heartbeat_of))


def _matching(
    entries: Iterable[IndexEntry], query: Query, heartbeat_of: HeartbeatOf | None
) -> Iterable[SessionSummary]:
    for entry in entries:
        beat = None
        if heartbeat_of is not None and entry.summary.status == "running":
            beat = heartbeat_of(entry.summary.session_id)
        summary = entry.current(beat)
        if query.matches(summary, entry.params):
            yield summary


def all_sessions() -> Query:
    """The query of every session, newest first (the filter language is loaded only here)."""
    from sessionlens.query import Query

    return Query()
