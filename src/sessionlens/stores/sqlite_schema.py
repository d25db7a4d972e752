"""The SQLite store's layout: kedro-viz's tables, sessionlens's tables beside them, and setting
them up.

Layout (kept exactly, so kedro-viz reads our files and we read theirs):

- ``runs(id VARCHAR PRIMARY KEY, blob JSON)`` with ``ix_runs_id``: one row per session; ``blob``
  is the record's JSON *encoded twice* (a JSON string whose content is the record's JSON).
- ``user_run_details(id, run_id UNIQUE REFERENCES runs(id), bookmark, title, notes)``: what people
  type in kedro-viz; ``set_user_details`` writes it as kedro-viz does (one row per session,
  ``id`` assigned by SQLite, ``bookmark`` 0 or 1, text as typed).

sessionlens adds its own tables beside them and never alters kedro-viz's:

- ``sessionlens_meta(key, value)``: ``schema_version`` (a newer one than this code knows is
  refused; an older one's tables are rebuilt on a read-write open and ignored by a read-only one,
  which indexes into TEMP), ``indexed_rowid`` (the highest ``runs.rowid`` already indexed) and
  ``generation`` (bumped by each of our saves, for ``change_token``).
- ``sessionlens_sessions``, ``sessionlens_params`` and ``sessionlens_metrics``: the index
  (:mod:`~.sqlite_index`).
- ``sessionlens_logs(session_id, seq, stream, text)``: logs as they were streamed.
- ``sessionlens_heartbeats(session_id, at)``: when each run last said it was alive (epoch
  seconds, the writer's clock). Added without a schema version bump (created on the next
  read-write open; a reader of a file without it sees no heartbeats, i.e. today's rules).
- ``sessionlens_archived(session_id, at)``: the archived sessions (hidden from listings unless
  a query asks); added the same way, without a version bump (no table: none archived).

Every function takes the store's connection and runs in the caller's transaction: the store
decides when to lock (:mod:`~.sqlite_store`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sessionlens.errors import StoreError
from sessionlens.record import Record
from sessionlens.stores.readable import MAX_RECORD_BYTES, RecordProblem, load_record
from sessionlens.stores.sqlite_index import (
    INDEX_DDL,
    INDEX_TABLE,
    METRICS_DDL,
    METRICS_TABLE,
    PARAMS_DDL,
    PARAMS_TABLE,
    SCHEMA_VERSION,
    secondary_indexes,
)
from sessionlens.stores.sqlite_query import lenient_text

#: kedro-viz's DDL, byte for byte as SQLAlchemy emits it (see the kedro-viz fixture).
KEDRO_VIZ_DDL = (
    "CREATE TABLE runs (\n\tid VARCHAR NOT NULL, \n\tblob JSON, \n\tPRIMARY KEY (id)\n)",
    "CREATE INDEX ix_runs_id ON runs (id)",
    "CREATE TABLE user_run_details (\n\tid INTEGER NOT NULL, \n\trun_id VARCHAR, \n\t"
    "bookmark BOOLEAN, \n\ttitle VARCHAR, \n\tnotes VARCHAR, \n\tPRIMARY KEY (id), \n\t"
    "UNIQUE (run_id), \n\tFOREIGN KEY(run_id) REFERENCES runs (id)\n)",
    "CREATE INDEX ix_user_run_details_id ON user_run_details (id)",
)

META_TABLE = "sessionlens_meta"
LOG_TABLE = "sessionlens_logs"
HEARTBEAT_TABLE = "sessionlens_heartbeats"
ARCHIVED_TABLE = "sessionlens_archived"
ARCHIVED_DDL = (
    f"CREATE TABLE IF NOT EXISTS main.{ARCHIVED_TABLE} (session_id TEXT NOT NULL PRIMARY KEY, "
    "at REAL NOT NULL) WITHOUT ROWID"
)

#: the notice of a read-write open that added sessionlens's tables to a kedro-viz file
ADOPTED = "added sessionlens's tables to {path} beside kedro-viz's (kedro-viz reads it as before)"
#: what recording a first session adds to a file only kedro-viz wrote (``first_write_changes``)
FIRST_WRITE_CHANGES = (
    "adds sessionlens's own tables (its index and logs) beside kedro-viz's; "
    "kedro-viz keeps reading the file as before"
)

#: what the index reads of a runs row: bytes (decoded per row: SQLite would fail the whole
#: fetch on one text that is not UTF-8), no blob past the size a record may have, and its size
RUNS_ROW = (
    f"CAST(id AS BLOB), CASE WHEN length(CAST(blob AS BLOB)) <= {MAX_RECORD_BYTES} "
    "THEN CAST(blob AS BLOB) END, length(CAST(blob AS BLOB))"
)


def read_run(run_id: Any, blob: bytes | None, size: int | None) -> tuple[str, Record | str]:
    """(session id, record or the reason it is unreadable) of a runs row read as ``RUNS_ROW``."""
    if isinstance(run_id, bytes):
        try:
            session_id = run_id.decode("utf-8")
        except UnicodeDecodeError:
            return lenient_text(run_id), "its id is not valid UTF-8"
    else:
        session_id = "" if run_id is None else str(run_id)
    if blob is None and size is not None:
        return session_id, f"blob is {size:,} bytes (at most {MAX_RECORD_BYTES:,} are read)"
    try:
        return session_id, load_record(blob, "blob")
    except RecordProblem as exc:
        return session_id, str(exc)


# -- reading the layout ---------------------------------------------------------------------
def tables(conn: sqlite3.Connection) -> set[str]:
    """The names of the file's tables."""
    rows = conn.execute("SELECT name FROM main.sqlite_master WHERE type='table'")
    return {r[0] for r in rows.fetchall()}


def meta(conn: sqlite3.Connection, key: str) -> tuple | None:
    """The row of ``key`` in ``sessionlens_meta`` (``(value,)``), None when it has none."""
    return conn.execute(f"SELECT value FROM main.{META_TABLE} WHERE key='{key}'").fetchone()


def schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """The version of sessionlens's tables in the file (0 when the meta table has none)."""
    row = meta(conn, "schema_version")
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        raise StoreError(
            f"{path}: {META_TABLE} holds an unreadable schema_version {row[0]!r}"
        ) from None


def indexed_rowid(conn: sqlite3.Connection) -> int:
    """The highest runs rowid indexed; 0 (index every row again, which replaces their index
    rows) when the value cannot be read (edited by hand)."""
    row = meta(conn, "indexed_rowid")
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        return 0


def set_indexed_rowid(conn: sqlite3.Connection, top: int) -> None:
    conn.execute(f"UPDATE main.{META_TABLE} SET value = ? WHERE key='indexed_rowid'", (str(top),))


def max_rowid(conn: sqlite3.Connection) -> int:
    """The highest rowid of kedro-viz's runs table (0 when empty)."""
    return conn.execute("SELECT coalesce(max(rowid), 0) FROM main.runs").fetchone()[0]


def bump_generation(conn: sqlite3.Connection) -> None:
    """Count one more save of ours (``change_token`` reads it)."""
    conn.execute(
        f"INSERT INTO main.{META_TABLE} VALUES ('generation', '1') ON CONFLICT(key) "
        "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


# -- checking and setting up ----------------------------------------------------------------
def check_layout(conn: sqlite3.Connection, path: Path, found: set[str], *, new: bool) -> int | None:
    """Refuse, in one line, a file that is not a session store (no kedro-viz ``runs`` table,
    or one of another shape) or whose sessionlens tables are newer than this code; the
    file's schema version, None when sessionlens never wrote to it. ``found``: its tables."""
    if not new and "runs" not in found:
        listed = ", ".join(sorted(found)) or "none"
        raise StoreError(
            f"{path}: an SQLite database but not a session store (no runs table; tables: {listed})"
        )
    if not new:
        columns = {r[1] for r in conn.execute("PRAGMA main.table_info(runs)")}
        if not {"id", "blob"} <= columns:
            raise StoreError(
                f"{path}: its runs table is not kedro-viz's "
                f"(columns {', '.join(sorted(columns))}; expected id, blob)"
            )
    version = schema_version(conn, path) if META_TABLE in found else None
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: written by a newer sessionlens (store schema {version}, "
            f"this version reads up to {SCHEMA_VERSION}); upgrade sessionlens"
        )
    return version


def needs_setup(conn: sqlite3.Connection, version: int | None) -> bool:
    """Whether opening read-write must write (tables, indexes, rows to index); a store in
    order is opened without taking the write lock."""
    if version != SCHEMA_VERSION:
        return True
    names = {r[0] for r in conn.execute("SELECT name FROM main.sqlite_master").fetchall()}
    wanted = {INDEX_TABLE, LOG_TABLE, PARAMS_TABLE, METRICS_TABLE, HEARTBEAT_TABLE, ARCHIVED_TABLE}
    wanted |= {name for name, _ in _indexes()}
    return not wanted <= names or max_rowid(conn) > indexed_rowid(conn)


def create_tables(conn: sqlite3.Connection, path: Path, *, new: bool, version: int | None) -> None:
    """Inside the opening write transaction: kedro-viz's tables for a new file, ours always;
    the tables of an older schema version are dropped to be rebuilt (the migration)."""
    found = tables(conn)  # again: another process may have created them meanwhile
    if "runs" not in found:
        if not new and found:
            raise StoreError(f"{path}: lost its runs table while opening")
        for ddl in KEDRO_VIZ_DDL:
            conn.execute(ddl)
    if version is not None and version < SCHEMA_VERSION:
        conn.execute(f"DROP TABLE IF EXISTS main.{INDEX_TABLE}")  # rebuilt below
        conn.execute(f"DROP TABLE IF EXISTS main.{PARAMS_TABLE}")
        conn.execute(f"DROP TABLE IF EXISTS main.{METRICS_TABLE}")
        conn.execute(f"DELETE FROM main.{META_TABLE} WHERE key='indexed_rowid'")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS main.{META_TABLE} "
        "(key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)"
    )
    conn.execute(
        f"INSERT OR REPLACE INTO main.{META_TABLE} VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
    conn.execute(f"INSERT OR IGNORE INTO main.{META_TABLE} VALUES ('indexed_rowid', '0')")
    conn.execute(INDEX_DDL.format(schema="main", table=INDEX_TABLE))
    conn.execute(PARAMS_DDL.format(schema="main", table=PARAMS_TABLE))
    conn.execute(METRICS_DDL.format(schema="main", table=METRICS_TABLE))
    for _, ddl in _indexes():
        conn.execute(ddl)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS main.{LOG_TABLE} (session_id TEXT NOT NULL, "
        "seq INTEGER NOT NULL, stream TEXT NOT NULL, text TEXT NOT NULL, "
        "PRIMARY KEY (session_id, seq))"
    )
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS main.{HEARTBEAT_TABLE} (session_id TEXT NOT NULL "
        "PRIMARY KEY, at REAL NOT NULL) WITHOUT ROWID"
    )
    conn.execute(ARCHIVED_DDL)


def create_details_table(conn: sqlite3.Connection) -> None:
    """kedro-viz's ``user_run_details`` (a file whose writer never made one), in its DDL."""
    for ddl in KEDRO_VIZ_DDL[2:]:
        conn.execute(
            ddl.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1).replace(
                "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1
            )
        )


def _indexes() -> list[tuple[str, str]]:
    return secondary_indexes("main", INDEX_TABLE, PARAMS_TABLE, METRICS_TABLE)
