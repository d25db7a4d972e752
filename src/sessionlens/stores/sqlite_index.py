"""The SQLite store's index: its tables and the rows it holds for one session.

An index row is what filter, sort and the session table need, derived once in Python so that
listing never parses blobs: the summary's fields, lower-cased copies for case-insensitive
matching, ``started_ts`` (the start as epoch seconds, which ``since``/``until`` compare), ``hay``
(the text free words search) and the parameters as one line. Parameter rows hold each run
parameter as the text a ``param.name:value`` term compares and, when that text reads as a
number, the number (``num``) that numeric terms compare, so such a term is one primary-key
lookup per session. Metric rows hold each metric's value, indexed by (name, value) so that a
``metric.NAME`` filter or sort walks that index. A session whose record is unreadable has a
row too: status
``unreadable``, its id and the start time the id tells, and ``problem`` (why). The same tables
live in ``main`` (written by sessionlens) or in ``temp`` (built for browsing a store without
them); the DDL takes the schema and table name for that.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from sessionlens.record import as_number, is_running, param_text, started_epoch
from sessionlens.stores.base import SavedSession
from sessionlens.stores.listing import IndexEntry
from sessionlens.stores.readable import RecordProblem, load_record
from sessionlens.stores.record_json import json_to_save

if TYPE_CHECKING:
    from sessionlens.tracking import TrackingSource

#: Version of sessionlens's own tables. Bump when their shape or derivation changes.
#: 2: params, params_l (the parameters as one line); 3: problem (why a row is unreadable);
#: 4: started_ts (the start as epoch seconds) and the parameters' num (the value as a number);
#: 5: the metrics table
SCHEMA_VERSION = 5

INDEX_TABLE = "sessionlens_sessions"
PARAMS_TABLE = "sessionlens_params"
METRICS_TABLE = "sessionlens_metrics"

#: Columns of the index table, in insert order.
INDEX_COLUMNS = (
    "session_id",
    "runs_rowid",
    "started_at",
    "started_l",
    "finished_at",
    "status",
    "duration_s",
    "exit_code",
    "branch",
    "branch_l",
    "sha",
    "sha_l",
    "dirty",
    "command",
    "command_l",
    "username",
    "user_l",
    "package_name",
    "hostname",
    "host_l",
    "rerun_of",
    "rerun_l",
    "pid",
    "id_l",
    "hay",
    "params",
    "params_l",
    "problem",
    "started_ts",
)

INDEX_DDL = """CREATE TABLE IF NOT EXISTS {schema}.{table} (
    session_id TEXT NOT NULL PRIMARY KEY,
    runs_rowid INTEGER,
    started_at TEXT, started_l TEXT, finished_at TEXT,
    status TEXT NOT NULL, duration_s REAL, exit_code INTEGER,
    branch TEXT, branch_l TEXT, sha TEXT, sha_l TEXT, dirty INTEGER,
    command TEXT, command_l TEXT, username TEXT, user_l TEXT,
    package_name TEXT, hostname TEXT, host_l TEXT, rerun_of TEXT, rerun_l TEXT,
    pid INTEGER, id_l TEXT NOT NULL, hay TEXT NOT NULL, params TEXT, params_l TEXT,
    problem TEXT, started_ts REAL
)"""
PARAMS_DDL = """CREATE TABLE IF NOT EXISTS {schema}.{table} (
    session_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, num REAL,
    PRIMARY KEY (session_id, name)
) WITHOUT ROWID"""
PARAMS_INDEX_DDL = "CREATE INDEX IF NOT EXISTS {schema}.ix_{table}_value ON {table} (name, value)"
METRICS_DDL = """CREATE TABLE IF NOT EXISTS {schema}.{table} (
    session_id TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (session_id, name)
) WITHOUT ROWID"""
METRICS_INDEX_DDL = (
    "CREATE INDEX IF NOT EXISTS {schema}.ix_{table}_value ON {table} (name, value, session_id)"
)

#: (index name suffix, columns): one per sort key, each ending in session_id for the tie-break.
SORT_INDEXES = (
    ("started", "started_l, session_id"),
    ("status", "status, session_id"),
    ("duration", "duration_s, session_id"),
    ("branch", "branch_l, session_id"),
    ("sha", "sha_l, session_id"),
    ("dirty", "dirty, session_id"),
    ("command", "command_l, session_id"),
    ("user", "user_l, session_id"),
    ("exit", "exit_code, session_id"),
    ("id", "id_l, session_id"),
    ("params", "params_l, session_id"),
)
#: (index name suffix, columns) of indexes that serve filters, not sorts.
FILTER_INDEXES = (("started_ts", "started_ts, session_id"),)


def secondary_indexes(schema: str, table: str, params: str, metrics: str) -> list[tuple[str, str]]:
    """(name, DDL) of every index beside the tables' keys: one per sort key and filter column of
    ``table``, the parameters of ``params`` and the metrics of ``metrics`` by value. The store's
    own tables and the index cache of a store browsed read-only both have exactly these."""
    found = [
        (
            f"ix_{table}_{name}",
            f"CREATE INDEX IF NOT EXISTS {schema}.ix_{table}_{name} ON {table} ({columns})",
        )
        for name, columns in SORT_INDEXES + FILTER_INDEXES
    ]
    found.append((f"ix_{params}_value", PARAMS_INDEX_DDL.format(schema=schema, table=params)))
    found.append((f"ix_{metrics}_value", METRICS_INDEX_DDL.format(schema=schema, table=metrics)))
    return found


class TableSet(NamedTuple):
    """Where index rows are written: the session rows, parameter rows and metric rows."""

    index: str
    params: str
    metrics: str


def table_set(schema: str, prefix: str = "sessionlens_") -> TableSet:
    return TableSet(*(f"{schema}.{prefix}{name}" for name in ("sessions", "params", "metrics")))


#: where an index row holds the status (``SavedSession`` rows are read without a record)
STATUS_COLUMN = INDEX_COLUMNS.index("status")

#: One session's index row, its (session_id, name, value, num) parameter rows and its
#: (session_id, name, value) metric rows.
IndexedSession = tuple[
    tuple, list[tuple[str, str, str, float | None]], list[tuple[str, str, float]]
]


def index_session(
    run_id: str,
    record: Mapping[str, Any] | None,
    runs_rowid: int | None = None,
    problem: str | None = None,
    tracking: TrackingSource | None = None,
) -> IndexedSession:
    """The index row and the (session_id, name, value, num) parameter rows of one session, derived
    in Python exactly as the reference (``SessionSummary.from_record``, ``Query.matches``).
    ``record`` as ``readable.load_record`` returns it; ``problem`` (why it could not be read)
    instead: an ``unreadable`` row. ``tracking``: the project's Kedro tracking files, whose
    metrics join the record's own."""
    if problem is not None or record is None:
        entry = IndexEntry.unreadable(run_id, problem or "no record")
    else:
        rec = dict(record)
        rec["session_id"] = run_id
        entry = IndexEntry.from_record(rec, session_id=run_id, checked=True, tracking=tracking)
    s = entry.summary
    hay = " ".join(
        v.lower()
        for v in (s.session_id, s.command, s.branch, s.commit_sha, s.username)
        if v is not None
    )
    params = []
    for key, value in entry.params.items():
        text = param_text(value)
        params.append((run_id, str(key), text.lower(), as_number(text)))
    row = (
        run_id,
        runs_rowid,
        s.started_at,
        _lower(s.started_at),
        s.finished_at,
        s.status,
        s.duration_s,
        s.exit_code,
        s.branch,
        _lower(s.branch),
        s.commit_sha,
        _lower(s.commit_sha),
        None if s.dirty is None else int(s.dirty),
        s.command,
        _lower(s.command),
        s.username,
        _lower(s.username),
        s.package_name,
        s.hostname,
        _lower(s.hostname),
        s.rerun_of,
        _lower(s.rerun_of),
        entry.pid,
        run_id.lower(),
        hay,
        s.params,
        _lower(s.params),
        s.problem,
        started_epoch(s.started_at),
    )
    metrics = [(run_id, name, value) for name, value in (s.metrics or {}).items()]
    return row, params, metrics


def saved_session(
    record: Mapping[str, Any] | SavedSession,
    location: str,
    *,
    tracking: TrackingSource | None = None,
    checked: bool = False,
    what: str = "record",
) -> tuple[SavedSession, bool]:
    """A record as an indexing store (SQLite, PostgreSQL) saves it: its JSON text with the
    index rows derived as a reader of that text will see it (unreadable ones too, ``what``
    naming the thing in their reason), and whether its run is going on (it gets a heartbeat).
    A ``SavedSession`` (copied as saved) is taken as it is. ``checked``: the record was read
    (and checked) from another store (``copy``), so its JSON is read back without checking
    it again (a fifth of a copy's time)."""
    if isinstance(record, SavedSession):
        return record, record.indexed[0][STATUS_COLUMN] == "running"
    session_id, text = json_to_save(record, location)
    try:
        loaded = json.loads(text) if checked else load_record(text, what)
        indexed = index_session(session_id, loaded, tracking=tracking)
    except RecordProblem as exc:
        indexed = index_session(session_id, None, problem=str(exc))
    return SavedSession(session_id, text, indexed), is_running(record)


def write_index(
    conn: sqlite3.Connection,
    tables: TableSet,
    items: Iterable[IndexedSession],
    *,
    lookup: bool = False,
) -> None:
    """Write index, parameter and metric rows (replacing a session's old ones). ``lookup``:
    fill ``runs_rowid`` from the runs row in the same statement (rows written by ``save``)."""
    marks = ", ".join("?" * len(INDEX_COLUMNS))
    if lookup:  # the 2nd placeholder becomes a lookup by the session id passed again
        marks = marks.replace("?, ?,", "?, (SELECT rowid FROM main.runs WHERE id = ?),", 1)
    insert = f"INSERT OR REPLACE INTO {tables.index} ({', '.join(INDEX_COLUMNS)}) VALUES ({marks})"
    for batch in batched(items, 1000):
        rows = [(r[0], r[0], *r[2:]) if lookup else r for r, _, _ in batch]
        ids = [(r[0],) for r, _, _ in batch]
        conn.executemany(insert, rows)
        conn.executemany(f"DELETE FROM {tables.params} WHERE session_id = ?", ids)
        conn.executemany(
            f"INSERT OR REPLACE INTO {tables.params} (session_id, name, value, num) "
            "VALUES (?, ?, ?, ?)",
            [p for _, ps, _ in batch for p in ps],
        )
        conn.executemany(f"DELETE FROM {tables.metrics} WHERE session_id = ?", ids)
        conn.executemany(
            f"INSERT OR REPLACE INTO {tables.metrics} (session_id, name, value) VALUES (?, ?, ?)",
            [m for _, _, ms in batch for m in ms],
        )


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of ``size`` items (the last one shorter): ``itertools.batched`` is Python 3.12+."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()
