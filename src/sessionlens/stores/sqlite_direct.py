"""Sessions read straight from ``runs``, for the store whose index is still being built.

A store sessionlens has not written into (kedro-viz's) has no index in the file, and browsing
never writes one there: it is built in the user cache (:mod:`~.sqlite_cache`), which takes a
while on a big store. Until then the default listing (newest first, no filter), the count of
all sessions and any one session are answered from ``runs`` through its primary key: a page is
the blobs of its rows alone, parsed as the index would parse them. Kedro's session ids are UTC
times, so newest first is the id order; a session whose id is not in Kedro's format sorts among
them by its id here, and last once the index is ready (its start time unknown).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sessionlens.record import SessionSummary
from sessionlens.stores import sqlite_schema
from sessionlens.stores.listing import IndexEntry
from sessionlens.stores.sqlite_query import lenient_text

#: A store's ``last_heartbeat``, asked only for sessions recorded ``running``.
HeartbeatOf = Callable[[str], float | None]


def count_all(conn: sqlite3.Connection) -> int:
    """How many sessions the store holds: one walk of the small id index."""
    return conn.execute("SELECT count(*) FROM main.runs").fetchone()[0]


def newest_page(
    conn: sqlite3.Connection,
    *,
    offset: int,
    limit: int | None,
    total: int | None,
    details: bool,
    heartbeat_of: HeartbeatOf,
) -> list[SessionSummary]:
    """Sessions ``offset`` to ``offset + limit`` newest first. ``total`` (when known) lets a
    page past the middle be read from the other end: ``end`` on a million rows skips a few
    rows, not 999,950."""
    n = -1 if limit is None else limit
    if total is not None and limit is not None and offset > total // 2:
        skip = max(0, total - offset - limit)
        n = min(limit, max(0, total - offset))
        rows = _rows(conn, "ASC", n, skip)[::-1]
    else:
        rows = _rows(conn, "DESC", n, offset)
    return [_summary(conn, row, details, heartbeat_of) for row in rows]


def one(
    conn: sqlite3.Connection, session_id: str, *, details: bool, heartbeat_of: HeartbeatOf
) -> SessionSummary | None:
    """The summary of one session, or None when the store has no such id."""
    row = conn.execute(
        f"SELECT {sqlite_schema.RUNS_ROW} FROM main.runs WHERE id = ?", (session_id,)
    ).fetchone()
    return None if row is None else _summary(conn, row, details, heartbeat_of)


def _rows(conn: sqlite3.Connection, order: str, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        f"SELECT {sqlite_schema.RUNS_ROW} FROM main.runs ORDER BY id {order} LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def _summary(
    conn: sqlite3.Connection, row: tuple, details: bool, heartbeat_of: HeartbeatOf
) -> SessionSummary:
    session_id, record = sqlite_schema.read_run(*row)
    extra = _details(conn, session_id) if details else None
    if isinstance(record, str):
        return IndexEntry.unreadable(session_id, record, extra).summary
    record = {**record, "session_id": session_id}
    entry = IndexEntry.from_record(record, extra, session_id=session_id, checked=True)
    running = entry.summary.status == "running"
    return entry.current(heartbeat_of(session_id) if running else None)


def _details(conn: sqlite3.Connection, session_id: str) -> dict[str, object] | None:
    found = conn.execute(
        "SELECT CAST(title AS BLOB), bookmark, CAST(notes AS BLOB) FROM main.user_run_details "
        "WHERE run_id = ?",
        (session_id,),
    ).fetchone()
    if found is None:
        return None
    title, bookmark, notes = found
    return {
        "title": None if title is None else lenient_text(title),
        "bookmark": bool(bookmark) if type(bookmark) in (int, float) else False,
        "notes": None if notes is None else lenient_text(notes),
    }
