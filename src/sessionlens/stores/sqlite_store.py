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
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from sessionlens.errors import StoreError, UnknownSessionError
from sessionlens.query import Query, QueryError, Term, param_text
from sessionlens.record import STATUSES, Record, SessionSummary, derive_status
from sessionlens.stores import _common
from sessionlens.stores.base import LogChunk, SessionStore, StoreCapabilities

#: Version of sessionlens's own tables. Bump when their shape or derivation changes.
SCHEMA_VERSION = 2  # 2: params, params_l (the parameters as one line)

#: kedro-viz's DDL, byte for byte as SQLAlchemy emits it (see the kedro-viz fixture).
KEDRO_VIZ_DDL = (
    "CREATE TABLE runs (\n\tid VARCHAR NOT NULL, \n\tblob JSON, \n\tPRIMARY KEY (id)\n)",
    "CREATE INDEX ix_runs_id ON runs (id)",
    "CREATE TABLE user_run_details (\n\tid INTEGER NOT NULL, \n\trun_id VARCHAR, \n\t"
    "bookmark BOOLEAN, \n\ttitle VARCHAR, \n\tnotes VARCHAR, \n\tPRIMARY KEY (id), \n\t"
    "UNIQUE (run_id), \n\tFOREIGN KEY(run_id) REFERENCES runs (id)\n)",
    "CREATE INDEX ix_user_run_details_id ON user_run_details (id)",
)

INDEX_TABLE = "sessionlens_sessions"
META_TABLE = "sessionlens_meta"
LOG_TABLE = "sessionlens_logs"
PARAMS_TABLE = "sessionlens_params"

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
)

_INDEX_DDL = """CREATE TABLE IF NOT EXISTS {schema}.{table} (
    session_id TEXT NOT NULL PRIMARY KEY,
    runs_rowid INTEGER,
    started_at TEXT, started_l TEXT, finished_at TEXT,
    status TEXT NOT NULL, duration_s REAL, exit_code INTEGER,
    branch TEXT, branch_l TEXT, sha TEXT, sha_l TEXT, dirty INTEGER,
    command TEXT, command_l TEXT, username TEXT, user_l TEXT,
    package_name TEXT, hostname TEXT, host_l TEXT, rerun_of TEXT, rerun_l TEXT,
    pid INTEGER, id_l TEXT NOT NULL, hay TEXT NOT NULL, params TEXT, params_l TEXT
)"""
_PARAMS_DDL = """CREATE TABLE IF NOT EXISTS {schema}.{table} (
    session_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (session_id, name)
) WITHOUT ROWID"""
_PARAMS_INDEX_DDL = "CREATE INDEX IF NOT EXISTS {schema}.ix_{table}_value ON {table} (name, value)"

#: (index name suffix, columns): one per sort key, each ending in session_id for the tie-break.
_SORT_INDEXES = (
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

#: Sort key -> SQL over the index row ``i`` and details row ``d``; ``{status}`` is filled in.
_SORT_SQL = {
    "started": "i.started_l",
    "id": "i.id_l",
    "status": "{status}",
    "duration": "i.duration_s",
    "branch": "i.branch_l",
    "sha": "i.sha_l",
    "dirty": "i.dirty",
    "command": "i.command_l",
    "user": "i.user_l",
    "title": "sl_lower(d.title)",
    "exit": "i.exit_code",
    "params": "i.params_l",
}

_SUMMARY_COLUMNS = (
    "i.session_id, {status}, i.started_at, i.finished_at, i.duration_s, i.exit_code, i.branch, "
    "i.sha, i.dirty, i.command, i.username, i.package_name, i.hostname, i.rerun_of, i.params, "
    "{details}"
)
_LOG_PAGE = 2000
#: list_summaries lets a filter drive the query when count() found at most this many sessions
_DRIVE_BELOW = 500


def encode_blob(record: Mapping[str, Any]) -> str:
    """kedro-viz's ``blob``: the record's JSON, itself encoded as a JSON string."""
    return json.dumps(json.dumps(record))


def decode_blob(blob: Any, where: str) -> Record:
    """Read a ``blob`` written by kedro-viz or sessionlens (tolerates single encoding)."""
    try:
        value = json.loads(blob) if blob is not None else {}
        if isinstance(value, str):
            value = json.loads(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(_common.one_line(f"{where}: blob is not valid JSON ({exc})")) from None
    if not isinstance(value, dict):
        raise StoreError(f"{where}: blob is not a JSON object but {type(value).__name__}")
    return value


IndexedSession = tuple[tuple, list[tuple[str, str, str]]]


def index_row(run_id: str, record: Mapping[str, Any], runs_rowid: int | None = None) -> tuple:
    """The index columns for one session (see :func:`index_session`)."""
    return index_session(run_id, record, runs_rowid)[0]


def index_session(
    run_id: str, record: Mapping[str, Any], runs_rowid: int | None = None
) -> IndexedSession:
    """The index row and the (session_id, name, value) parameter rows for one session, derived
    in Python exactly as the reference (``SessionSummary.from_record``, ``Query.matches``)."""
    rec = dict(record)
    rec["session_id"] = run_id
    entry = _common.IndexEntry.from_record(rec)
    s = entry.summary
    hay = " ".join(
        v.lower()
        for v in (s.session_id, s.command, s.branch, s.commit_sha, s.username)
        if v is not None
    )
    params = [(run_id, str(k), param_text(v).lower()) for k, v in entry.params.items()]
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
    )
    return row, params


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _sql_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


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
        conn.create_function("sl_lower", 1, _sql_lower, deterministic=True)
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
        wanted |= {f"ix_{INDEX_TABLE}_{n}" for n, _ in _SORT_INDEXES}
        return not wanted <= names or self._max_rowid() > self._meta_rowid()

    def _tables(self) -> set[str]:
        rows = self._conn.execute("SELECT name FROM main.sqlite_master WHERE type='table'")
        return {r[0] for r in rows.fetchall()}

    def _schema_version(self) -> int:
        row = self._conn.execute(
            f"SELECT value FROM main.{META_TABLE} WHERE key='schema_version'"
        ).fetchone()
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
        self._conn.execute(_INDEX_DDL.format(schema="main", table=INDEX_TABLE))
        for name, columns in _SORT_INDEXES:
            self._conn.execute(
                f"CREATE INDEX IF NOT EXISTS main.ix_{INDEX_TABLE}_{name} "
                f"ON {INDEX_TABLE} ({columns})"
            )
        self._conn.execute(_PARAMS_DDL.format(schema="main", table=PARAMS_TABLE))
        self._conn.execute(_PARAMS_INDEX_DDL.format(schema="main", table=PARAMS_TABLE))
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
        row = self._conn.execute(
            f"SELECT value FROM main.{META_TABLE} WHERE key='indexed_rowid'"
        ).fetchone()
        return int(row[0]) if row else 0

    def _max_rowid(self) -> int:
        return self._conn.execute("SELECT coalesce(max(rowid), 0) FROM main.runs").fetchone()[0]

    def _unindexed(self, after: int) -> Iterator[IndexedSession]:
        """Index rows for runs rows with rowid > ``after``, parsed in batches."""
        last = after
        while True:
            rows = self._conn.execute(
                "SELECT rowid, id, blob FROM main.runs WHERE rowid > ? ORDER BY rowid LIMIT 1000",
                (last,),
            ).fetchall()
            if not rows:
                return
            for rowid, run_id, blob in rows:
                try:
                    record = decode_blob(blob, f"{self.path}: session {run_id}")
                except StoreError:
                    record = {}  # listed with what we know; get() reports the problem
                yield index_session(str(run_id), record, rowid)
            last = rows[-1][0]

    def _insert(
        self, index: str, params: str, items: Iterable[IndexedSession], *, lookup: bool = False
    ) -> None:
        """Write index and parameter rows (replacing a session's old ones). ``lookup``: fill
        ``runs_rowid`` from the runs row in the same statement (rows written by ``save``)."""
        marks = ", ".join("?" * len(INDEX_COLUMNS))
        if lookup:  # the 2nd placeholder becomes a lookup by the session id passed again
            marks = marks.replace("?, ?,", "?, (SELECT rowid FROM main.runs WHERE id = ?),", 1)
        insert = f"INSERT OR REPLACE INTO {index} ({', '.join(INDEX_COLUMNS)}) VALUES ({marks})"
        for batch in _batched(items, 1000):
            rows = [(r[0], r[0], *r[2:]) if lookup else r for r, _ in batch]
            self._conn.executemany(insert, rows)
            self._conn.executemany(
                f"DELETE FROM {params} WHERE session_id = ?", [(r[0],) for r, _ in batch]
            )
            self._conn.executemany(
                f"INSERT OR REPLACE INTO {params} (session_id, name, value) VALUES (?, ?, ?)",
                [p for _, ps in batch for p in ps],
            )

    def _sync_main(self) -> None:
        """Inside a write transaction: index runs rows added by other writers (kedro-viz)."""
        done, top = self._meta_rowid(), self._max_rowid()
        if top > done:
            self._insert(f"main.{INDEX_TABLE}", f"main.{PARAMS_TABLE}", self._unindexed(done))
        self._set_meta_rowid(top)

    def _set_meta_rowid(self, top: int) -> None:
        self._conn.execute(
            f"UPDATE main.{META_TABLE} SET value = ? WHERE key='indexed_rowid'", (str(top),)
        )

    def _ensure_index(self) -> str:
        """The index to query, brought up to date with the runs table when anything changed."""
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if self._idx is not None and version == self._data_version:
            return self._idx
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
            return self._idx
        self._conn.execute("BEGIN")  # temp tables: one transaction, in memory
        try:
            self._sync_read_only()
        finally:
            self._conn.execute("COMMIT")
        assert self._idx is not None
        return self._idx

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
        self._conn.execute(_INDEX_DDL.format(schema="temp", table=table))
        self._conn.execute(_PARAMS_DDL.format(schema="temp", table=f"{table}_params"))
        self._conn.execute(_PARAMS_INDEX_DDL.format(schema="temp", table=f"{table}_params"))
        if table == "sl_all":  # the default order and the pid check; other sorts use a sorter
            for name, columns in (("started", "started_l, session_id"), ("status", "status")):
                self._conn.execute(f"CREATE INDEX temp.ix_{table}_{name} ON {table} ({columns})")

    def _fill_temp(self, table: str, after: int) -> None:
        top = self._max_rowid()
        if top > after:
            self._insert(f"temp.{table}", f"temp.{table}_params", self._unindexed(after))
        self._temp_rowid = max(self._temp_rowid, top)

    # -- query translation ------------------------------------------------------------------
    def _status_sql(self, idx: str, params: dict[str, Any]) -> str:
        """Status as shown: a ``running`` session whose process died here is ``interrupted``."""
        rows = self._conn.execute(
            f"SELECT session_id, pid, hostname FROM {idx} WHERE status = 'running'"
        ).fetchall()
        dead = [
            sid
            for sid, pid, host in rows
            if derive_status({"run": {"status": "running", "pid": pid, "hostname": host}})
            == "interrupted"
        ]
        if not dead:
            return "i.status"
        params["dead"] = json.dumps(dead)
        return (
            "(CASE WHEN i.status = 'running' AND i.session_id IN "
            "(SELECT value FROM json_each(:dead)) THEN 'interrupted' ELSE i.status END)"
        )

    def _where(
        self, query: Query, status: str, params: dict[str, Any], *, drive: bool = True
    ) -> tuple[str, bool]:
        """SQL ``WHERE`` text for ``query`` (reference: ``Query.matches``) and whether it needs
        the details join. ``drive=False`` hides the terms from the planner so a page is read by
        walking the sort index (best unless few sessions match)."""
        clauses: list[str] = []
        needs_details = False
        counter = itertools.count()

        def bind(value: Any) -> str:
            name = f"p{next(counter)}"
            params[name] = value
            return f":{name}"

        for term in query.terms:
            sql, details = self._term_sql(term, status, bind)
            needs_details |= details
            # NULL (a missing value) must count as "no match" before NOT, never as unknown;
            # a bare positive term lets the planner drive the query with its index
            if term.negate:
                clauses.append(f"NOT coalesce(({sql}), 0)")
            else:
                clauses.append(f"({sql})" if drive else f"coalesce(({sql}), 0)")
        for word in query.words:
            clause, details = self._word_sql(word.lower(), status, bind)
            needs_details |= details
            clauses.append(clause)
        return (" AND ".join(clauses) or "1"), needs_details

    def _word_sql(self, word: str, status: str, bind: Any) -> tuple[str, bool]:
        """A free word is a substring of id, command, branch, sha, user, status and title joined
        by spaces. A word without spaces cannot span two of them, so it is tested on each part
        (the stored ``hay`` first); a word with spaces is tested on the joined text."""
        title = "sl_lower(d.title)" if self._details_rows else "NULL"
        if any(c.isspace() for c in word):
            hay = (
                f"i.hay || ' ' || {status} || "
                f"(CASE WHEN {title} IS NULL THEN '' ELSE ' ' || {title} END)"
            )
            return f"instr({hay}, {bind(word)}) > 0", self._details_rows
        parts = [f"instr(i.hay, {bind(word)}) > 0"]
        statuses = [s for s in STATUSES if word in s]
        if statuses:
            parts.append(f"{status} IN ({', '.join(bind(s) for s in statuses)})")
        if self._details_rows:
            parts.append(f"instr(coalesce({title}, ''), {bind(word)}) > 0")
        return f"({' OR '.join(parts)})", self._details_rows

    def _term_sql(self, term: Term, status: str, bind: Any) -> tuple[str, bool]:
        v = term.value.lower()
        name = term.param_name
        if name is not None:
            return (
                f"i.session_id IN (SELECT p.session_id FROM {self._params} AS p "
                f"WHERE p.name = {bind(name)} AND p.value = {bind(v)})"
            ), False
        f = term.field
        if f in ("id", "sha", "rerun"):  # startswith: a range an index can answer
            column = {"id": "i.id_l", "sha": "i.sha_l", "rerun": "i.rerun_l"}[f]
            if not v or v[-1] == "\U0010ffff":
                return f"substr(coalesce({column}, ''), 1, {len(v)}) = {bind(v)}", False
            after = v[:-1] + chr(ord(v[-1]) + 1)
            return f"{column} >= {bind(v)} AND {column} < {bind(after)}", False
        if f == "status":
            return f"{status} = {bind(v)}", False
        if f in ("branch", "user", "host"):
            column = {"branch": "i.branch_l", "user": "i.user_l", "host": "i.host_l"}[f]
            if not v:
                return f"coalesce({column}, '') = {bind(v)}", False
            return f"{column} = {bind(v)}", False  # NULL never equals a non-empty value
        if f == "dirty":
            return f"i.dirty = {bind(int(term.as_bool()))}", False
        if f == "bookmark":
            if not self._details_rows:
                return f"0 = {bind(int(term.as_bool()))}", False
            return f"(coalesce(d.bookmark, 0) != 0) = {bind(int(term.as_bool()))}", True
        if f == "command":
            return f"instr(coalesce(i.command_l, ''), {bind(v)}) > 0", False
        if f == "title":
            if not self._details_rows:
                return f"instr('', {bind(v)}) > 0", False
            return f"instr(coalesce(sl_lower(d.title), ''), {bind(v)}) > 0", True
        if f == "exit":
            return f"CAST(i.exit_code AS TEXT) = {bind(v)}", False
        if f == "since":
            return f"coalesce(i.started_at, '') >= {bind(term.value)}", False
        if f == "until":
            n = len(term.value)
            return f"substr(coalesce(i.started_at, ''), 1, {n}) <= {bind(term.value)}", False
        raise QueryError(f"unknown filter field {term.field!r}")

    def _from(self, idx: str, with_details: bool) -> str:
        """``FROM`` the index, joined to kedro-viz's details only when there are any."""
        if with_details and self._details_rows:
            return f"{idx} AS i LEFT JOIN main.user_run_details AS d ON d.run_id = i.session_id"
        return f"{idx} AS i"

    def _columns(self, status: str) -> str:
        details = "d.title, d.bookmark, d.notes" if self._details_rows else "NULL, NULL, NULL"
        return _SUMMARY_COLUMNS.format(status=status, details=details)

    # -- reading ----------------------------------------------------------------------
    def count(self, query: Query | None = None) -> int:
        query = query or Query()
        with self._errors("count"):
            idx = self._ensure_index()
            params: dict[str, Any] = {}
            status = self._status_sql(idx, params) if not query.is_empty else "i.status"
            key = (query.terms, query.words, params.get("dead"))
            if key in self._counts:
                return self._counts[key]
            where, needs_details = self._where(query, status, params)
            sql = f"SELECT count(*) FROM {self._from(idx, needs_details)} WHERE {where}"
            total = self._conn.execute(sql, params).fetchone()[0]
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
            idx = self._ensure_index()
            params: dict[str, Any] = {}
            status = self._status_sql(idx, params)
            # walk the sort index and filter, unless count() said few sessions match: then
            # let the filter's own index find them and sort those
            known = self._counts.get((query.terms, query.words, params.get("dead")))
            drive = (known is not None and known <= _DRIVE_BELOW) or any(
                t.field == "sha" and not t.negate for t in query.terms
            )
            where, _ = self._where(query, status, params, drive=drive)
            column = _SORT_SQL[query.sort].format(status=status)
            if query.sort == "title" and not self._details_rows:
                column = "NULL"
            head = f"SELECT {self._columns(status)} FROM {self._from(idx, True)} WHERE {where}"

            def page(extra: str, order: str, n: int | None, skip: int) -> list[tuple]:
                sql = f"{head}{extra} ORDER BY {order} LIMIT :limit OFFSET :offset"
                bound = {**params, "limit": -1 if n is None else n, "offset": skip}
                return self._conn.execute(sql, bound).fetchall()

            if query.descending:  # SQLite sorts NULL first: descending puts it last
                rows = page("", f"{column} DESC, i.session_id DESC", limit, offset)
            elif query.sort in ("status", "title"):  # expressions: no index to walk anyway
                rows = page("", f"({column}) IS NULL, {column}, i.session_id", limit, offset)
            else:  # ascending on an indexed column: values in index order, then the NULLs
                rows = page(f" AND {column} IS NOT NULL", f"{column}, i.session_id", limit, offset)
                if limit is None or len(rows) < limit:
                    skip = 0
                    if not rows and offset:
                        counted = self._conn.execute(
                            f"SELECT count(*) FROM {self._from(idx, True)} "
                            f"WHERE {where} AND {column} IS NOT NULL",
                            params,
                        ).fetchone()[0]
                        skip = max(0, offset - counted)
                    rest = None if limit is None else limit - len(rows)
                    rows += page(f" AND {column} IS NULL", "i.session_id", rest, skip)
        return [_summary(row) for row in rows]

    def get_summary(self, session_id: str) -> SessionSummary:
        with self._errors("read"):
            idx = self._ensure_index()
            params: dict[str, Any] = {"sid": session_id}
            status = self._status_sql(idx, params)
            row = self._conn.execute(
                f"SELECT {self._columns(status)} FROM {self._from(idx, True)} "
                "WHERE i.session_id = :sid",
                params,
            ).fetchone()
        if row is None:
            raise UnknownSessionError(session_id, self.location)
        return _summary(row)

    def get(self, session_id: str) -> Record:
        with self._errors("read"):
            row = self._conn.execute(
                "SELECT blob FROM main.runs WHERE id = ?", (session_id,)
            ).fetchone()
        if row is None:
            raise UnknownSessionError(session_id, self.location)
        record = decode_blob(row[0], f"{self.path}: session {session_id}")
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
            generation = None
            if self._has_meta:
                row = self._conn.execute(
                    f"SELECT value FROM main.{META_TABLE} WHERE key='generation'"
                ).fetchone()
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
            for batch in _batched(records, 1000):
                runs, indexed = [], []
                for record in batch:
                    session_id = _common.require_session_id(record, self.location)
                    text = _common.record_json(record)
                    runs.append((session_id, json.dumps(text)))  # kedro-viz: encoded twice
                    indexed.append(index_session(session_id, json.loads(text)))
                self._conn.executemany(upsert, runs)
                self._insert(f"main.{INDEX_TABLE}", f"main.{PARAMS_TABLE}", indexed, lookup=True)
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


def _summary(row: tuple) -> SessionSummary:
    (sid, status, started, finished, duration, exit_code, branch, sha, dirty, command, user,
     package, host, rerun, params, title, bookmark, notes) = row  # fmt: skip
    return SessionSummary(
        session_id=sid,
        status=status,
        started_at=started,
        finished_at=finished,
        duration_s=duration,
        exit_code=exit_code,
        branch=branch,
        commit_sha=sha,
        dirty=None if dirty is None else bool(dirty),
        command=command,
        username=user,
        package_name=package,
        hostname=host,
        rerun_of=rerun,
        title=None if title is None else str(title),
        bookmark=bool(bookmark),
        notes=None if notes is None else str(notes),
        params=params,
    )


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
