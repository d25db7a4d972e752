"""``SQLiteSessionStore``: kedro-viz's SQLite layout, plus an index so a page costs milliseconds.

Layout (kept exactly, so kedro-viz reads our files and we read theirs):

- ``runs(id VARCHAR PRIMARY KEY, blob JSON)`` with ``ix_runs_id``: one row per session; ``blob``
  is the record's JSON *encoded twice* (a JSON string whose content is the record's JSON).
- ``user_run_details(id, run_id UNIQUE REFERENCES runs(id), bookmark, title, notes)``: what people
  type in kedro-viz; read here, never written.

sessionlens adds its own tables beside them and never alters kedro-viz's:

- ``sessionlens_meta(key, value)``: ``schema_version`` (a newer one than this code knows is
  refused; an older one's tables are rebuilt on a read-write open and ignored by a read-only one,
  which indexes into TEMP) and ``indexed_rowid``, the highest ``runs.rowid`` already indexed.
- ``sessionlens_sessions``: one row per session with exactly what filter, sort and the session
  table need (lower-cased copies for case-insensitive matching, the text free words search, the
  parameters as text), and an SQL index per sort column, so listing never parses blobs.
- ``sessionlens_params(session_id, name, value)``: each run parameter as the text the filter
  compares (``param.scale:3``), indexed by (name, value) so a parameter term is an index lookup.
- ``sessionlens_logs(session_id, seq, stream, text)``: logs as they were streamed.

A runs row that cannot be read (its blob is not UTF-8, not JSON, too big or too deep, or a key
holds the wrong type: ``readable`` decides) is indexed with status ``unreadable`` and the reason
in ``problem``; the other rows list as ever, and ``get`` of it raises ``UnreadableSessionError``.
Rows are read as bytes and decoded one by one: SQLite fails a whole fetch on one text value that
is not UTF-8. Text of kedro-viz's own columns (titles, notes) is read with U+FFFD for bad bytes.

Index upkeep. A store written only by kedro-viz (or rows a Kedro process adds later) has runs
rows without index rows. Opened read-write, those are indexed into the file (at open and
whenever ``runs`` grows past ``indexed_rowid``). Opened read-only - browsing never writes - the
index is built once, lazily, in a TEMP table of this connection (about 30 us per session), and
rows that appear later are added to it. ``PRAGMA data_version`` makes "did anything change?" one
cheap call per read. Limitation: a *foreign* writer that rewrites an existing runs row in place
(kedro-viz never does) is not re-indexed until the store is opened read-write again.

Concurrency: WAL mode and ``synchronous=NORMAL`` when opened read-write (a read-only open never
changes the file, works on read-only files and directories, and on ``journal_mode=delete``
files), a busy timeout (30 s by default), ``BEGIN IMMEDIATE`` for every write; ``save`` writes the
runs row and the index row in one transaction, ``save_many`` all records in one transaction.

This module is the store: opening, transactions, setting up and keeping the index, reading and
writing sessions and logs. What an index row holds and how it is written: ``sqlite_index``; a
``Query`` as SQL over it: ``sqlite_query``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from sessionlens.errors import StoreError, UnknownSessionError, UnreadableSessionError
from sessionlens.query import Query
from sessionlens.record import Record, SessionSummary
from sessionlens.stores import _common
from sessionlens.stores.base import LogChunk, SessionStore, StoreCapabilities
from sessionlens.stores.readable import MAX_RECORD_BYTES, RecordProblem, load_record
from sessionlens.stores.sqlite_index import (
    INDEX_DDL,
    INDEX_TABLE,
    PARAMS_DDL,
    PARAMS_INDEX_DDL,
    PARAMS_TABLE,
    SCHEMA_VERSION,
    SORT_INDEXES,
    IndexedSession,
    batched,
    index_session,
    write_index,
)
from sessionlens.stores.sqlite_query import (
    IndexTables,
    add_functions,
    count_key,
    count_rows,
    lenient_text,
    page_rows,
    status_sql,
    summary_from_row,
    summary_row,
)

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

_LOG_PAGE = 2000


#: what the index reads of a runs row: bytes (decoded per row: SQLite would fail the whole
#: fetch on one text that is not UTF-8), no blob past the size a record may have, and its size
_RUNS_ROW = (
    f"CAST(id AS BLOB), CASE WHEN length(CAST(blob AS BLOB)) <= {MAX_RECORD_BYTES} "
    "THEN CAST(blob AS BLOB) END, length(CAST(blob AS BLOB))"
)


def read_run(run_id: Any, blob: bytes | None, size: int | None) -> tuple[str, Record | str]:
    """(session id, record or the reason it is unreadable) of a runs row read as ``_RUNS_ROW``."""
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


class SQLiteSessionStore(SessionStore):
    """Sessions in one SQLite file, kedro-viz compatible. Thread-safe (one connection + lock)."""

    kind: ClassVar[str] = "sqlite"
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        persistent=True, logs=True, user_details=True, concurrent_writers=True
    )

    def __init__(
        self,
        location: str | Path,
        *,
        read_only: bool = False,
        create: bool = False,
        busy_timeout: float = 30.0,
    ) -> None:
        self.path = Path(location).absolute()
        super().__init__(str(self.path), read_only=read_only)
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._idx: str | None = None  # table expression the queries read the index from
        self._mode = ""  # "main" | "extra" (main + temp rows) | "temp" (all rows in temp)
        self._temp_rowid = 0  # highest runs.rowid indexed into temp tables
        self._data_version: int | None = None
        self._has_details = False  # kedro-viz's user_run_details exists
        self._details_rows = False  # ... and has rows: join it (else titles are all NULL)
        self._has_logs = False
        self._params = f"main.{PARAMS_TABLE}"
        #: count() results until the data changes; list_summaries reads them to plan a page
        self._counts: dict[tuple, int] = {}
        self._commits = 0  # own commits, for change_token (data_version counts others')
        new = self._check_file(create)
        self._conn = self._connect(new)
        try:
            self._check_layout(new)
        except BaseException:
            self._conn.close()
            raise

    # -- opening ----------------------------------------------------------------------
    def _check_file(self, create: bool) -> bool:
        """Refuse what is not an SQLite session store before SQLite touches it. True = new."""
        path = self.path
        if not path.exists():
            if create and not self.read_only:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"{path}: cannot create ({exc.strerror})") from None
                return True
            raise StoreError(f"{path}: no such file")
        if path.is_dir():
            raise StoreError(f"{path}: is a directory, not an SQLite file")
        try:
            with open(path, "rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            raise StoreError(f"{path}: cannot read ({exc.strerror})") from None
        if not head:
            if self.read_only:
                raise StoreError(f"{path}: empty file, not a session store")
            return True
        if head != _common.SQLITE_MAGIC:
            raise StoreError(f"{path}: not an SQLite database (unknown file format)")
        return False

    def _connect(self, new: bool) -> sqlite3.Connection:
        try:
            conn = _common.connect_sqlite(
                self.path, read_only=self.read_only, create=new, timeout=self.busy_timeout
            )
            conn.execute("SELECT count(*) FROM main.sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            if self.read_only and "unable to open" in str(exc):
                # WAL file in a directory we cannot write: no -shm can be made, nobody writes
                try:
                    conn = _common.connect_sqlite_immutable(self.path)
                    conn.execute("SELECT count(*) FROM main.sqlite_master").fetchone()
                except sqlite3.Error as exc2:
                    raise self._error(exc2, "open") from None
            else:
                raise self._error(exc, "open") from None
        except sqlite3.Error as exc:
            raise self._error(exc, "open") from None
        add_functions(conn)
        if self.read_only:  # the index built for browsing lives in memory
            conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    def _check_layout(self, new: bool) -> None:
        with self._errors("open"):
            tables = self._tables()
            if not tables and not self.read_only:
                new = True
            if not new and "runs" not in tables:
                listed = ", ".join(sorted(tables)) or "none"
                raise StoreError(
                    f"{self.path}: an SQLite database but not a session store "
                    f"(no runs table; tables: {listed})"
                )
            if not new:
                columns = {r[1] for r in self._conn.execute("PRAGMA main.table_info(runs)")}
                if not {"id", "blob"} <= columns:
                    raise StoreError(
                        f"{self.path}: its runs table is not kedro-viz's "
                        f"(columns {', '.join(sorted(columns))}; expected id, blob)"
                    )
            version = self._schema_version() if META_TABLE in tables else None
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: written by a newer sessionlens (store schema {version}, "
                    f"this version reads up to {SCHEMA_VERSION}); upgrade sessionlens"
                )
            if not self.read_only:
                if self._conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute("PRAGMA foreign_keys=OFF")
                if new or self._needs_setup(version):
                    with self._write():
                        self._create_tables(new, version)
                        self._sync_main()
                self._idx, self._mode = f"main.{INDEX_TABLE}", "main"
            tables = self._tables()
            self._has_details = "user_run_details" in tables
            self._has_logs = LOG_TABLE in tables
            self._has_meta = META_TABLE in tables

    def _needs_setup(self, version: int | None) -> bool:
        """Whether opening read-write must write (tables, indexes, rows to index); a store in
        order is opened without taking the write lock."""
        if version != SCHEMA_VERSION:
            return True
        names = {r[0] for r in self._conn.execute("SELECT name FROM main.sqlite_master").fetchall()}
        wanted = {INDEX_TABLE, LOG_TABLE, PARAMS_TABLE, f"ix_{PARAMS_TABLE}_value"}
        wanted |= {f"ix_{INDEX_TABLE}_{n}" for n, _ in SORT_INDEXES}
        return not wanted <= names or self._max_rowid() > self._meta_rowid()

    def _tables(self) -> set[str]:
        rows = self._conn.execute("SELECT name FROM main.sqlite_master WHERE type='table'")
        return {r[0] for r in rows.fetchall()}

    def _meta(self, key: str) -> tuple | None:
        """The row of ``key`` in ``sessionlens_meta`` (``(value,)``), None when it has none."""
        return self._conn.execute(
            f"SELECT value FROM main.{META_TABLE} WHERE key='{key}'"
        ).fetchone()

    def _schema_version(self) -> int:
        row = self._meta("schema_version")
        try:
            return int(row[0]) if row else 0
        except (TypeError, ValueError):
            raise StoreError(
                f"{self.path}: {META_TABLE} holds an unreadable schema_version {row[0]!r}"
            ) from None

    def _create_tables(self, new: bool, version: int | None) -> None:
        """Inside the opening write transaction: kedro-viz's tables for a new file, ours always."""
        tables = self._tables()  # again: another process may have created them meanwhile
        if "runs" not in tables:
            if not new and tables:
                raise StoreError(f"{self.path}: lost its runs table while opening")
            for ddl in KEDRO_VIZ_DDL:
                self._conn.execute(ddl)
        if version is not None and version < SCHEMA_VERSION:
            self._conn.execute(f"DROP TABLE IF EXISTS main.{INDEX_TABLE}")  # rebuilt below
            self._conn.execute(f"DROP TABLE IF EXISTS main.{PARAMS_TABLE}")
            self._conn.execute(f"DELETE FROM main.{META_TABLE} WHERE key='indexed_rowid'")
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS main.{META_TABLE} "
            "(key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._conn.execute(
            f"INSERT OR REPLACE INTO main.{META_TABLE} VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        self._conn.execute(f"INSERT OR IGNORE INTO main.{META_TABLE} VALUES ('indexed_rowid', '0')")
        self._conn.execute(INDEX_DDL.format(schema="main", table=INDEX_TABLE))
        for name, columns in SORT_INDEXES:
            self._conn.execute(
                f"CREATE INDEX IF NOT EXISTS main.ix_{INDEX_TABLE}_{name} "
                f"ON {INDEX_TABLE} ({columns})"
            )
        self._conn.execute(PARAMS_DDL.format(schema="main", table=PARAMS_TABLE))
        self._conn.execute(PARAMS_INDEX_DDL.format(schema="main", table=PARAMS_TABLE))
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS main.{LOG_TABLE} (session_id TEXT NOT NULL, "
            "seq INTEGER NOT NULL, stream TEXT NOT NULL, text TEXT NOT NULL, "
            "PRIMARY KEY (session_id, seq))"
        )

    # -- errors and transactions ---------------------------------------------------------
    def _error(self, exc: sqlite3.Error, action: str) -> StoreError:
        text = str(exc)
        low = text.lower()
        if "locked" in low or "busy" in low:
            problem = (
                f"locked by another process for more than {self.busy_timeout:g} s "
                f"({action} gave up); try again"
            )
        elif "not a database" in low or "malformed" in low or "corrupt" in low:
            problem = f"corrupt SQLite file ({text})"
        elif "readonly" in low or "read-only" in low:
            problem = f"cannot write, the file or its folder is read-only ({action})"
        else:
            problem = f"{action} failed: {text}"
        return StoreError(_common.one_line(f"{self.path}: {problem}"))

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        with self._lock:
            if self._conn is None:
                raise StoreError(f"{self.path}: the store was closed ({action})")
            try:
                yield
            except sqlite3.Error as exc:
                raise self._error(exc, action) from None

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction: all of it lands, or none of it."""
        with self._errors("write"):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._commits += 1

    # -- index upkeep ---------------------------------------------------------------------
    def _meta_rowid(self) -> int:
        row = self._meta("indexed_rowid")
        return int(row[0]) if row else 0

    def _max_rowid(self) -> int:
        return self._conn.execute("SELECT coalesce(max(rowid), 0) FROM main.runs").fetchone()[0]

    def _unindexed(self, after: int) -> Iterator[IndexedSession]:
        """Index rows for runs rows with rowid > ``after``, parsed in batches."""
        last = after
        while True:
            rows = self._conn.execute(
                f"SELECT rowid, {_RUNS_ROW} FROM main.runs WHERE rowid > ? "
                "ORDER BY rowid LIMIT 1000",
                (last,),
            ).fetchall()
            if not rows:
                return
            for rowid, run_id, blob, size in rows:
                session_id, record = read_run(run_id, blob, size)
                if isinstance(record, str):  # listed unreadable, with the reason
                    yield index_session(session_id, None, rowid, problem=record)
                else:
                    yield index_session(session_id, record, rowid)
            last = rows[-1][0]

    def _sync_main(self) -> None:
        """Inside a write transaction: index runs rows added by other writers (kedro-viz)."""
        done, top = self._meta_rowid(), self._max_rowid()
        if top > done:
            write_index(
                self._conn, f"main.{INDEX_TABLE}", f"main.{PARAMS_TABLE}", self._unindexed(done)
            )
        self._set_meta_rowid(top)

    def _set_meta_rowid(self, top: int) -> None:
        self._conn.execute(
            f"UPDATE main.{META_TABLE} SET value = ? WHERE key='indexed_rowid'", (str(top),)
        )

    def _ensure_index(self) -> IndexTables:
        """The index to query, brought up to date with the runs table when anything changed."""
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if self._idx is None or version != self._data_version:
            self._refresh_index(version)
        assert self._idx is not None
        return IndexTables(self._idx, self._params, self._details_rows)

    def _refresh_index(self, version: int) -> None:
        self._data_version = version
        self._counts.clear()
        if self._has_details:
            self._details_rows = bool(
                self._conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM main.user_run_details)"
                ).fetchone()[0]
            )
        if not self.read_only:
            if self._max_rowid() > self._meta_rowid():
                with self._write():
                    self._sync_main()
            self._idx, self._params = f"main.{INDEX_TABLE}", f"main.{PARAMS_TABLE}"
            return
        self._conn.execute("BEGIN")  # temp tables: one transaction, in memory
        try:
            self._sync_read_only()
        finally:
            self._conn.execute("COMMIT")

    def _sync_read_only(self) -> None:
        tables = self._tables()
        if "user_run_details" in tables and not self._has_details:
            self._has_details = True
            self._data_version = None  # count its rows on the next read
        self._has_logs = LOG_TABLE in tables
        main_ok = {
            INDEX_TABLE,
            META_TABLE,
            PARAMS_TABLE,
        } <= tables and self._schema_version() == SCHEMA_VERSION
        if main_ok:
            done = self._meta_rowid()
            if self._mode != "extra":
                self._reset_temp("sl_extra")
                self._conn.execute(
                    f"CREATE TEMP VIEW sl_index AS SELECT * FROM main.{INDEX_TABLE} "
                    "WHERE session_id NOT IN (SELECT session_id FROM temp.sl_extra) "
                    "UNION ALL SELECT * FROM temp.sl_extra"
                )
                self._conn.execute(
                    f"CREATE TEMP VIEW sl_params AS SELECT * FROM main.{PARAMS_TABLE} "
                    "WHERE session_id NOT IN (SELECT session_id FROM temp.sl_extra) "
                    "UNION ALL SELECT * FROM temp.sl_extra_params"
                )
                self._mode, self._temp_rowid = "extra", 0
            # rows a sessionlens writer has indexed since are authoritative in main
            self._conn.execute(
                "DELETE FROM temp.sl_extra_params WHERE session_id IN "
                "(SELECT session_id FROM temp.sl_extra WHERE runs_rowid <= ?)",
                (done,),
            )
            self._conn.execute("DELETE FROM temp.sl_extra WHERE runs_rowid <= ?", (done,))
            self._fill_temp("sl_extra", max(done, self._temp_rowid))
            if self._conn.execute("SELECT 1 FROM temp.sl_extra LIMIT 1").fetchone():
                self._idx, self._params = "temp.sl_index", "temp.sl_params"
            else:
                self._idx, self._params = f"main.{INDEX_TABLE}", f"main.{PARAMS_TABLE}"
        else:
            if self._mode != "temp":
                self._reset_temp("sl_all")
                self._mode, self._temp_rowid = "temp", 0
            self._fill_temp("sl_all", self._temp_rowid)
            self._idx, self._params = "temp.sl_all", "temp.sl_all_params"

    def _reset_temp(self, table: str) -> None:
        for view in ("sl_index", "sl_params"):
            self._conn.execute(f"DROP VIEW IF EXISTS temp.{view}")
        for name in ("sl_extra", "sl_all"):
            self._conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
            self._conn.execute(f"DROP TABLE IF EXISTS temp.{name}_params")
        self._conn.execute(INDEX_DDL.format(schema="temp", table=table))
        self._conn.execute(PARAMS_DDL.format(schema="temp", table=f"{table}_params"))
        self._conn.execute(PARAMS_INDEX_DDL.format(schema="temp", table=f"{table}_params"))
        if table == "sl_all":  # the default order and the pid check; other sorts use a sorter
            for name, columns in (("started", "started_l, session_id"), ("status", "status")):
                self._conn.execute(f"CREATE INDEX temp.ix_{table}_{name} ON {table} ({columns})")

    def _fill_temp(self, table: str, after: int) -> None:
        top = self._max_rowid()
        if top > after:
            write_index(self._conn, f"temp.{table}", f"temp.{table}_params", self._unindexed(after))
        self._temp_rowid = max(self._temp_rowid, top)

    # -- reading ----------------------------------------------------------------------
    def count(self, query: Query | None = None) -> int:
        query = query or Query()
        with self._errors("count"):
            tables = self._ensure_index()
            params: dict[str, Any] = {}
            status = "i.status" if query.is_empty else status_sql(self._conn, tables.index, params)
            key = count_key(query, params)
            if key in self._counts:
                return self._counts[key]
            total = count_rows(self._conn, tables, query, status, params)
            if len(self._counts) > 64:
                self._counts.clear()
            self._counts[key] = total
            return total

    def list_summaries(
        self, query: Query | None = None, *, offset: int = 0, limit: int | None = 50
    ) -> list[SessionSummary]:
        query = query or Query()
        offset = max(0, offset)
        limit = None if limit is None else max(0, limit)
        with self._errors("list"):
            tables = self._ensure_index()
            params: dict[str, Any] = {}
            status = status_sql(self._conn, tables.index, params)
            known = self._counts.get(count_key(query, params))
            rows = page_rows(
                self._conn, tables, query, status, params, offset=offset, limit=limit, known=known
            )
        return [summary_from_row(row) for row in rows]

    def get_summary(self, session_id: str) -> SessionSummary:
        with self._errors("read"):
            row = summary_row(self._conn, self._ensure_index(), session_id)
        if row is None:
            raise UnknownSessionError(session_id, self.location)
        return summary_from_row(row)

    def get(self, session_id: str) -> Record:
        with self._errors("read"):
            row = self._conn.execute(
                f"SELECT {_RUNS_ROW} FROM main.runs WHERE id = ?", (session_id,)
            ).fetchone()
            if row is None:  # a row listed under a repaired id (its own is not UTF-8)?
                tables = self._ensure_index()
                found = self._conn.execute(
                    f"SELECT problem FROM {tables.index} WHERE session_id = ? "
                    "AND problem IS NOT NULL",
                    (session_id,),
                ).fetchone()
                if found is None:
                    raise UnknownSessionError(session_id, self.location)
                raise UnreadableSessionError(session_id, found[0], self.location)
        _, record = read_run(*row)
        if isinstance(record, str):
            raise UnreadableSessionError(session_id, record, self.location)
        record.setdefault("session_id", session_id)
        return record

    def user_details(self, session_id: str) -> Mapping[str, Any]:
        with self._errors("read"):
            if not self._has_details:
                return {}
            row = self._conn.execute(
                "SELECT title, bookmark, notes FROM main.user_run_details WHERE run_id = ?",
                (session_id,),
            ).fetchone()
        if row is None:
            return {}
        return {"title": row[0], "bookmark": bool(row[1]), "notes": row[2]}

    def iter_log(self, session_id: str, start: int = 0) -> Iterator[LogChunk]:
        seq = max(0, start)
        while True:
            with self._errors("read log"):
                if not self._has_logs:
                    self._has_logs = LOG_TABLE in self._tables()
                    if not self._has_logs:
                        return
                rows = self._conn.execute(
                    f"SELECT seq, stream, text FROM main.{LOG_TABLE} "
                    "WHERE session_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
                    (session_id, seq, _LOG_PAGE),
                ).fetchall()
            for _, stream, text in rows:
                yield LogChunk(text, stream)
            if len(rows) < _LOG_PAGE:
                return
            seq = rows[-1][0] + 1

    def _chunks_from_end(self, session_id: str) -> Iterator[str]:
        if not self._has_logs:
            return
        seq: int | None = None
        while True:
            with self._errors("read log"):
                rows = self._conn.execute(
                    f"SELECT seq, text FROM main.{LOG_TABLE} WHERE session_id = ? "
                    "AND seq < coalesce(?, 1 << 62) ORDER BY seq DESC LIMIT 64",
                    (session_id, seq),
                ).fetchall()
            for _, text in rows:
                yield text
            if len(rows) < 64:
                return
            seq = rows[-1][0]

    def change_token(self) -> Any:
        """Changes when sessions change, not when logs grow: a browser polling this during a
        run must not reload its page for every log batch. Our own saves bump a generation in
        the meta table; writers that know nothing of it (kedro-viz) add rows, so the highest
        rowids of kedro-viz's tables count too."""
        with self._errors("poll"):
            row = self._meta("generation") if self._has_meta else None
            generation = row[0] if row else None
            runs = self._max_rowid()
            details = (
                self._conn.execute("SELECT max(rowid) FROM main.user_run_details").fetchone()[0]
                if self._has_details
                else None
            )
            return (generation, runs, details)

    # -- writing ----------------------------------------------------------------------
    def save(self, record: Mapping[str, Any]) -> None:
        self.save_many([record])

    def save_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        """All records in one transaction: a failure or a crash half-way writes none."""
        self._check_writable()
        upsert = (
            "INSERT INTO main.runs (id, blob) VALUES (?, ?) "
            "ON CONFLICT(id) DO UPDATE SET blob = excluded.blob"
        )
        with self._write():
            self._sync_main()
            for batch in batched(records, 1000):
                runs, indexed = [], []
                for record in batch:
                    session_id, text = _common.json_to_save(record, self.location)
                    runs.append((session_id, json.dumps(text)))  # kedro-viz: encoded twice
                    try:  # indexed as a reader of the blob will see it: unreadable ones too
                        indexed.append(index_session(session_id, load_record(text, "blob")))
                    except RecordProblem as exc:
                        indexed.append(index_session(session_id, None, problem=str(exc)))
                self._conn.executemany(upsert, runs)
                write_index(
                    self._conn, f"main.{INDEX_TABLE}", f"main.{PARAMS_TABLE}", indexed, lookup=True
                )
            self._set_meta_rowid(self._max_rowid())
            self._conn.execute(
                f"INSERT INTO main.{META_TABLE} VALUES ('generation', '1') ON CONFLICT(key) "
                "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )
            self._counts.clear()

    def append_log(self, session_id: str, text: str, stream: str = "stdout") -> None:
        self._check_writable()
        with self._write():
            self._conn.execute(
                f"INSERT INTO main.{LOG_TABLE} (session_id, seq, stream, text) VALUES "
                f"(?, (SELECT coalesce(max(seq) + 1, 0) FROM main.{LOG_TABLE} "
                "WHERE session_id = ?), ?, ?)",
                (session_id, session_id, stream, text),
            )

    # -- lifecycle --------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                if not self.read_only:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("PRAGMA optimize")
                self._conn.close()
                self._conn = None  # type: ignore[assignment]
