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
from collections.abc import Callable, Mapping
from typing import Any

from sessionlens.record import SessionSummary
from sessionlens.stores import sqlite_schema
from sessionlens.stores.listing import IndexEntry
from sessionlens.stores.sqlite_query import from_the_end

#: A store's ``last_heartbeat``, asked only for sessions recorded ``running``.
HeartbeatOf = Callable[[str], float | None]
#: A store's ``user_details``: kedro-viz's title, bookmark and notes of a session.
DetailsOf = Callable[[str], Mapping[str, Any]]


def count_all(conn: sqlite3.Connection) -> int:
    """How many sessions the store holds: one walk of the small id index."""
    return conn.execute("SELECT count(*) FROM main.runs").fetchone()[0]


def newest_page(
    conn: sqlite3.Connection,
    *,
    offset: int,
    limit: int | None,
    total: int | None,
    details_of: DetailsOf,
    heartbeat_of: HeartbeatOf,
) -> list[SessionSummary]:
    """Sessions ``offset`` to ``offset + limit`` newest first. ``total`` (when known) lets a
    page past the middle be read from the other end: ``end`` on a million rows skips a few
    rows, not 999,950."""
    window = from_the_end(offset, limit, total)
    if window is not None:
        rows = _rows(conn, "ASC", window[1], window[0])[::-1]
    else:
        rows = _rows(conn, "DESC", -1 if limit is None else limit, offset)
    return [_summary(row, details_of, heartbeat_of) for row in rows]


def one(
    conn: sqlite3.Connection,
    session_id: str,
    *,
    details_of: DetailsOf,
    heartbeat_of: HeartbeatOf,
) -> SessionSummary | None:
    """The summary of one session, or None when the store has no such id."""
    row = conn.execute(
        f"SELECT {sqlite_schema.RUNS_ROW} FROM main.runs WHERE id = ?", (session_id,)
    ).fetchone()
    return None if row is None else _summary(row, details_of, heartbeat_of)


def _rows(conn: sqlite3.Connection, order: str, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        f"SELECT {sqlite_schema.RUNS_ROW} FROM main.runs ORDER BY id {order} LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def _summary(row: tuple, details_of: DetailsOf, heartbeat_of: HeartbeatOf) -> SessionSummary:
    session_id, record = sqlite_schema.read_run(*row)
    extra = details_of(session_id)
    if isinstance(record, str):
        return IndexEntry.unreadable(session_id, record, extra).summary
    record = {**record, "session_id": session_id}
    entry = IndexEntry.from_record(record, extra, session_id=session_id, checked=True)
    running = entry.summary.status == "running"
    return entry.current(heartbeat_of(session_id) if running else None)
