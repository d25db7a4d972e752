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
from sessionlens.stores.readable import RecordProblem, check_record


def one_line(text: object) -> str:
    """Collapse any whitespace run (newlines included) so a message stays on one line."""
    return " ".join(str(text).split())


def require_session_id(record: Mapping[str, Any], location: str) -> str:
    """The record's ``session_id`` as str; a record without one cannot be stored."""
    from sessionlens.errors import StoreError

    session_id = record.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise StoreError(f"{location}: cannot save a record without a session_id string")
    try:
        session_id.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError(f"{location}: cannot save session id {session_id!r}: not text") from None
    return session_id


def json_to_save(record: Mapping[str, Any], location: str) -> tuple[str, str]:
    """(session id, JSON text) of a record about to be saved; a one-line ``StoreError`` when it
    has no id or no JSON. Whether it is *readable* is decided when it is read, as for records
    other writers saved."""
    from sessionlens.errors import StoreError

    session_id = require_session_id(record, location)
    try:
        return session_id, record_json(record)
    except RecordProblem as exc:
        raise StoreError(f"{location}: cannot save session {session_id}: {exc}") from None


def plain_record(record: Mapping[str, Any]) -> Record:
    """A deep, JSON-shaped copy: what every backend hands back from ``get``."""
    return json.loads(record_json(record))


def record_json(record: Mapping[str, Any]) -> str:
    """The record as JSON text; C-speed for plain data, ``to_jsonable`` for paths, tuples of
    pickles, datetimes and the like. A record that has no JSON (it contains itself, nests past
    Python's recursion limit, holds an integer of thousands of digits) is a ``RecordProblem``."""
    try:
        return json.dumps(record, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return json.dumps(to_jsonable(record))
    except RecursionError:
        raise RecordProblem("the record nests too deep to be written as JSON") from None
    except ValueError as exc:  # a circular reference, an integer too long to print
        raise RecordProblem(f"the record cannot be written as JSON ({one_line(exc)})") from None


@dataclass(frozen=True)
class IndexEntry:
    """What a Python-side listing needs per session, derived once from the record."""

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
    ) -> IndexEntry:
        """The entry of ``record``; total: a record that fails :func:`check_record`, or that
        this code cannot summarise, gives an ``unreadable`` entry with the reason, never an
        exception that would stop a listing. ``session_id``: the id the store knows it by;
        ``checked``: ``record`` comes from ``readable.load_record`` (checked already)."""
        sid = session_id if session_id is not None else str(record.get("session_id", ""))
        try:
            if not checked:
                check_record(record)
            run = record.get("run")
            pid = run.get("pid") if isinstance(run, Mapping) else None
            return cls(
                SessionSummary.from_record(record, details, check_pid=False),
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
