"""``SQLiteSessionStore``: kedro-viz's SQLite layout, plus an index so a page costs milliseconds.

The layout (kedro-viz's ``runs`` and ``user_run_details``, sessionlens's tables beside them)
and setting it up: :mod:`~.sqlite_schema`; the checks before SQLite opens a file and SQLite
errors as one line: :mod:`~.sqlite_open`. ``append_log`` refreshes a session's heartbeat row in
the same transaction, so a busy run costs no extra write; heartbeats are kept apart from
``runs`` so a heartbeat never rewrites a record nor moves ``change_token``.

A runs row that cannot be read (its blob is not UTF-8, not JSON, too big or too deep, or a key
holds the wrong type: ``readable`` decides) is indexed with status ``unreadable`` and the reason
in ``problem``; the other rows list as ever, and ``get`` of it raises ``UnreadableSessionError``.
Rows are read as bytes and decoded one by one: SQLite fails a whole fetch on one text value that
is not UTF-8. Text of kedro-viz's own columns (titles, notes) is read with U+FFFD for bad bytes.

Index upkeep. A store written only by kedro-viz (or rows a Kedro process adds later) has runs
rows without index rows. Opened read-write, those are indexed into the file (at open and
whenever ``runs`` grows past ``indexed_rowid``). Opened read-only - browsing never writes - a
file with sessionlens's index gets the few rows added since in TEMP tables of this connection; a
file without one (kedro-viz's) is indexed into the user cache (:mod:`~.sqlite_cache`), by
:meth:`build_index` or before the first query that needs it, and until then its newest sessions
are read straight from ``runs`` (:mod:`~.sqlite_direct`). ``PRAGMA data_version`` makes "did
anything change?" one cheap call per read. Limitation: a *foreign* writer that rewrites an
existing runs row in place (kedro-viz never does) is not re-indexed until the store is opened
read-write again.

Concurrency: a rollback journal (``journal_mode=DELETE``, as kedro-viz writes), not WAL, because a
WAL reader writes beside the file (``-shm``) and browsing must change no file; a read-only open
(``mode=ro``) then never writes, and works on read-only files and folders. A WAL file (older
sessionlens) is turned back by the next writer; until then, and while a killed writer's hot
journal waits for the next writer to roll it back, browsing reads a private copy
(:mod:`~.sqlite_snapshot`). Writers: ``synchronous=NORMAL``, a busy timeout (30 s by default),
``BEGIN IMMEDIATE`` for every write. ``insert``/``update`` write the runs row and its index rows
in one transaction, ``insert_many`` all records in one; a new session's ``INSERT`` on the primary
key is what claims its id (no upsert). No file is opened by hand while a connection of this
process holds it (:mod:`~.sqlite_files`).

This module is the store: its connection (and the lock around it), transactions, keeping the
index up to date, reading and writing sessions and logs. What an index row holds and how it is
written: ``sqlite_index``; a ``Query`` as SQL over it: ``sqlite_query``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sessionlens.errors import (
    SessionExistsError,
    StoreError,
    UnknownSessionError,
    UnreadableSessionError,
)
from sessionlens.record import Record, SessionSummary
from sessionlens.stores import sqlite_direct, sqlite_files, sqlite_open, sqlite_schema
from sessionlens.stores.base import (
    IndexProgress,
    LogChunk,
    SavedSession,
    SessionCopy,
    SessionStore,
    StoreCapabilities,
    details_args,
    merged_details,
)
from sessionlens.stores.listing import all_sessions
from sessionlens.stores.readable import saved_text
from sessionlens.stores.sqlite_index import (
    INDEX_COLUMNS,
    INDEX_DDL,
    INDEX_TABLE,
    METRICS_DDL,
    METRICS_INDEX_DDL,
    METRICS_TABLE,
    PARAMS_DDL,
    PARAMS_INDEX_DDL,
    PARAMS_TABLE,
    SCHEMA_VERSION,
    IndexedSession,
    TableSet,
    batched,
    index_session,
    saved_session,
    table_set,
    write_index,
)
from sessionlens.stores.sqlite_query import (
    IndexTables,
    add_functions,
    count_key,
    count_rows,
    details_of,
    details_of_many,
    lenient_text,
    page_rows,
    series_rows,
    status_sql,
    summary_from_row,
    summary_row,
)
from sessionlens.stores.sqlite_schema import (
    ARCHIVED_TABLE,
    HEARTBEAT_TABLE,
    LOG_TABLE,
    META_TABLE,
)
from sessionlens.stores.sqlite_snapshot import Snapshot
from sessionlens.stores.writer_turns import WriterTurns

if TYPE_CHECKING:  # the index cache and the filter language are for browsing: a run loads neither
    from sessionlens.query import Query
    from sessionlens.stores.sqlite_cache import IndexBuilder

_HEARTBEAT_UPSERT = (
    f"INSERT INTO main.{HEARTBEAT_TABLE} (session_id, at) VALUES (?, ?) "
    "ON CONFLICT(session_id) DO UPDATE SET at = excluded.at"
)

_INSERT_RUN = "INSERT INTO main.runs (id, blob) VALUES (?, ?)"
_LOG_PAGE = 2000
#: sessions read per statement by ``iter_records`` and ``existing_ids``
_RECORD_PAGE = 500
#: A store browsed read-only with more sessions than this and no index yet lists its newest
#: straight from ``runs`` while the index is built (see ``sqlite_direct``)
DIRECT_ABOVE = 2000
#: ``_counts`` key of the count of every session
_ALL = ((), (), None, None)
#: where a writer keeps the index (in the store's file), and where a reader indexes the rows
#: added since a sessionlens writer last did (TEMP tables, seen through the ``sl_`` views)
_MAIN = table_set("main")
_EXTRA = TableSet("temp.sl_extra", "temp.sl_extra_params", "temp.sl_extra_metrics")


class SQLiteSessionStore(SessionStore):
    """Sessions in one SQLite file, kedro-viz compatible. Thread-safe (one connection + lock)."""

    kind: ClassVar[str] = "sqlite"
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        persistent=True, logs=True, user_details=True
    )

    @classmethod
    def open(
        cls,
        location: str,
        *,
        read_only: bool = True,
        create: bool = False,
        busy_timeout: float | None = None,
    ) -> SQLiteSessionStore:
        """The store at ``location``; a write waits ``busy_timeout`` seconds (default 30) for
        another writer before a one-line ``StoreError``."""
        timeout = 30.0 if busy_timeout is None else busy_timeout
        return cls(location, read_only=read_only, create=create, busy_timeout=timeout)

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
        #: "main" | "extra" (main + temp rows) | "cache" (all rows in the user cache)
        self._mode = ""
        self._temp_rowid = 0  # highest runs.rowid indexed into temp tables
        self._data_version: int | None = None
        self._has_details = False  # kedro-viz's user_run_details exists
        self._details_rows = False  # ... and has rows: join it (else titles are all NULL)
        self._has_logs = False
        self._has_heartbeats = False
        self._has_archived = False
        self._params = f"main.{PARAMS_TABLE}"
        self._metrics = f"main.{METRICS_TABLE}"
        #: count() results until the data changes; list_summaries reads them to plan a page
        self._counts: dict[tuple, int] = {}
        self._commits = 0  # own commits, for change_token (data_version counts others')
        self._snapshot: Snapshot | None = None  # browsing a private copy (sqlite_snapshot)
        self._turns = WriterTurns(self.path)
        self._build_lock = threading.Lock()
        self._interrupts = 0  # interrupt() calls so far
        self._read_made_at: int | None = None  # see _reading
        self._builder: IndexBuilder | None = None
        self._cache_rowid = 0  # highest runs rowid the cached index holds (mode "cache")
        self._runs_top = 0  # highest runs rowid when the index was last brought up to date
        self._conn: sqlite3.Connection | None = None
        found = sqlite_open.check_file(self.path, create=create, read_only=read_only)
        self._wal = found.wal  # the file's header says WAL mode
        creating = found.new and not self.path.exists()
        try:
            self._conn = self._connect(found.new)
            self._check_layout(found.new)
        except BaseException as exc:
            self.close()
            if creating:
                sqlite_open.remove_unborn(self.path, found.made_folders, exc)
            raise

    # -- opening ----------------------------------------------------------------------
    def _connect(self, new: bool) -> sqlite3.Connection:
        if self.read_only and self._wal:
            return self._connect_snapshot(sqlite_open.WAL_MODE)
        mode = "ro" if self.read_only else ("rwc" if new else "rw")
        try:  # the file may be gone since it was checked
            conn = sqlite_files.connect(self.path, mode=mode, timeout=self.busy_timeout)
        except sqlite3.Error as exc:
            raise self._error(exc, "open") from None
        try:
            conn.execute("SELECT count(*) FROM main.sqlite_master").fetchone()
        except sqlite3.Error as exc:
            sqlite_files.close(conn)
            if self.read_only and sqlite_open.is_hot_journal(exc):
                return self._connect_snapshot(sqlite_open.HOT_JOURNAL)
            raise self._error(exc, "open") from None
        return self._prepared(conn)

    def _connect_snapshot(self, reason: str) -> sqlite3.Connection:
        """Read a private copy (see ``sqlite_snapshot``), or the file itself when this process
        holds it already (then its sidecar files exist and reading adds none)."""
        snapshot = self._snapshot or Snapshot(self.path, reason)
        try:
            taken = snapshot.take()
        except OSError as exc:
            snapshot.remove()
            raise StoreError(
                f"{self.path}: cannot copy it to read it untouched ({exc.strerror}); {reason}"
            ) from None
        if not taken:
            snapshot.remove()
            self._snapshot, self.notice = None, None
            conn = sqlite_files.connect(self.path, mode="ro", timeout=self.busy_timeout)
            return self._prepared(conn)
        self._snapshot = snapshot
        conn = sqlite_files.connect(snapshot.path, mode="rw", timeout=self.busy_timeout)
        try:
            conn.execute("SELECT count(*) FROM main.sqlite_master").fetchone()
        except sqlite3.Error as exc:
            sqlite_files.close(conn)
            raise self._error(exc, "open") from None
        self.notice = f"read from a private copy, because {reason}"
        if not snapshot.steady:
            self.notice += "; it kept changing while copied, so the newest sessions may be missing"
        return self._prepared(conn)

    def _prepared(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        add_functions(conn)
        conn.set_progress_handler(self._superseded, 10_000)
        if self.read_only:  # the index built for browsing lives in memory
            conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    def _refresh_snapshot(self) -> None:
        """When the originals changed, read them in place again if that is safe now (a writer
        turned a WAL file back into a rollback journal; a hot journal was rolled back, which
        :meth:`_move_past_a_hot_journal` would notice again), else take a new copy; the caller
        holds the lock. A copy only while it is needed: copying the whole file after each change
        another process makes costs a second per poll on a big store."""
        snapshot = self._snapshot
        if snapshot is None or not snapshot.changed():
            return
        sqlite_files.close(self._conn)
        self._conn = None  # type: ignore[assignment]
        with contextlib.suppress(OSError):
            head = sqlite_files.read_header(self.path)
            if head is not None:  # None: this process holds it (then it is read in place)
                self._wal = sqlite_files.is_wal_header(head)
        if not self._wal:
            snapshot.remove()
            self._snapshot, self.notice = None, None
        self._conn = self._connect(new=False)
        self._idx, self._mode, self._temp_rowid, self._data_version = None, "", 0, None
        self._counts.clear()

    def _check_layout(self, new: bool) -> None:
        with self._errors("open"):
            tables = sqlite_schema.tables(self._conn)
            if not tables and not self.read_only:
                new = True
            version = sqlite_schema.check_layout(self._conn, self.path, tables, new=new)
            if not self.read_only:
                sqlite_open.prepare_writer(self._conn, self.busy_timeout)
                if new or sqlite_schema.needs_setup(self._conn, version):
                    with self._write():
                        sqlite_schema.create_tables(self._conn, self.path, new=new, version=version)
                        self._sync_main()
                    if version is None and not new:
                        self.notice = sqlite_schema.ADOPTED.format(path=self.path)
                self._idx, self._mode = f"main.{INDEX_TABLE}", "main"
            tables = sqlite_schema.tables(self._conn)
            self._has_details = "user_run_details" in tables
            self._has_logs = LOG_TABLE in tables
            self._has_meta = META_TABLE in tables
            self._has_heartbeats = HEARTBEAT_TABLE in tables
            self._has_archived = ARCHIVED_TABLE in tables

    def first_write_changes(self) -> str | None:
        return None if self._has_meta else sqlite_schema.FIRST_WRITE_CHANGES

    # -- errors and transactions ---------------------------------------------------------
    def _error(self, exc: sqlite3.Error, action: str) -> StoreError:
        return sqlite_open.store_error(exc, self.path, action, self.busy_timeout)

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        with self._lock:
            if self._conn is None:
                raise StoreError(f"{self.path}: the store was closed ({action})")
            try:
                self._move_past_a_hot_journal()
                yield
            except sqlite3.Error as exc:
                raise self._error(exc, action) from None

    def _move_past_a_hot_journal(self) -> None:
        """A writer killed mid-write *after* this read-only store was opened leaves a hot
        journal that the connection reading in place cannot roll back: every read would fail
        ("read-only") until some writer comes. Move to a private copy then, as an open does.
        One tiny read per call; only for read-only stores read in place."""
        if not self.read_only or self._snapshot is not None:
            return
        try:
            self._conn.execute("SELECT 1 FROM main.sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            if not sqlite_open.is_hot_journal(exc):
                raise
            sqlite_files.close(self._conn)  # no longer held: the copy may be taken
            try:
                self._conn = self._connect_snapshot(sqlite_open.HOT_JOURNAL)
            except StoreError:  # keep a connection, so a later call tries again
                self._conn = self._prepared(
                    sqlite_files.connect(self.path, mode="ro", timeout=self.busy_timeout)
                )
                raise
            self._idx, self._mode, self._temp_rowid, self._data_version = None, "", 0, None
            self._counts.clear()

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction, in this writer's turn (``writer_turns``): all of
        it lands, or none of it."""
        with self._errors("write"), self._turns.turn(self.busy_timeout):
            with sqlite_files.transaction(self._conn):
                yield
            self._commits += 1

    # -- index upkeep ---------------------------------------------------------------------
    def _unindexed(self, after: int) -> Iterator[IndexedSession]:
        """Index rows for runs rows with rowid > ``after``, parsed in batches."""
        last = after
        while True:
            rows = self._conn.execute(
                f"SELECT rowid, {sqlite_schema.RUNS_ROW} FROM main.runs WHERE rowid > ? "
                "ORDER BY rowid LIMIT 1000",
                (last,),
            ).fetchall()
            if not rows:
                return
            for rowid, run_id, blob, size in rows:
                session_id, record = sqlite_schema.read_run(run_id, blob, size)
                if isinstance(record, str):  # listed unreadable, with the reason
                    yield index_session(session_id, None, rowid, problem=record)
                else:
                    yield index_session(session_id, record, rowid, tracking=self.tracking)
            last = rows[-1][0]

    def _sync_main(self) -> None:
        """Inside a write transaction: index runs rows added by other writers (kedro-viz)."""
        done, top = sqlite_schema.indexed_rowid(self._conn), sqlite_schema.max_rowid(self._conn)
        if top > done:
            write_index(self._conn, _MAIN, self._unindexed(done))
        sqlite_schema.set_indexed_rowid(self._conn, top)

    def _ensure_index(self) -> IndexTables:
        """The index to query, brought up to date with the runs table when anything changed."""
        self._refresh_snapshot()
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if self._idx is None or version != self._data_version:
            self._refresh_index(version)
        assert self._idx is not None
        beats = f"main.{HEARTBEAT_TABLE}" if self._has_heartbeats else None
        archived = f"main.{ARCHIVED_TABLE}" if self._has_archived else None
        return IndexTables(
            self._idx, self._params, self._details_rows, beats, self._metrics, archived
        )

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
            if sqlite_schema.max_rowid(self._conn) > sqlite_schema.indexed_rowid(self._conn):
                with self._write():
                    self._sync_main()
            self._use(_MAIN)
            return
        self._sync_read_only()

    def _use(self, tables: TableSet) -> None:
        self._idx, self._params, self._metrics = tables

    def _sync_read_only(self) -> None:
        tables = sqlite_schema.tables(self._conn)
        self._has_meta = META_TABLE in tables
        if "user_run_details" in tables and not self._has_details:
            self._has_details = True
            self._data_version = None  # count its rows on the next read
        self._has_logs = LOG_TABLE in tables
        self._has_heartbeats = HEARTBEAT_TABLE in tables
        self._has_archived = ARCHIVED_TABLE in tables
        main_ok = {
            INDEX_TABLE,
            META_TABLE,
            PARAMS_TABLE,
            METRICS_TABLE,
        } <= tables and sqlite_schema.schema_version(self._conn, self.path) == SCHEMA_VERSION
        if main_ok:
            done = sqlite_schema.indexed_rowid(self._conn)
            if self._mode != "extra":
                self._reset_temp()
                self._conn.execute(
                    f"CREATE TEMP VIEW sl_index AS SELECT * FROM main.{INDEX_TABLE} "
                    "WHERE session_id NOT IN (SELECT session_id FROM temp.sl_extra) "
                    "UNION ALL SELECT * FROM temp.sl_extra"
                )
                for view, table, extra in (
                    ("sl_params", PARAMS_TABLE, "sl_extra_params"),
                    ("sl_metrics", METRICS_TABLE, "sl_extra_metrics"),
                ):
                    self._conn.execute(
                        f"CREATE TEMP VIEW {view} AS SELECT * FROM main.{table} "
                        "WHERE session_id NOT IN (SELECT session_id FROM temp.sl_extra) "
                        f"UNION ALL SELECT * FROM temp.{extra}"
                    )
                self._mode, self._temp_rowid = "extra", 0
            # rows a sessionlens writer has indexed since are authoritative in main, and rows
            # past the end of runs were deleted (``delete`` of the newest sessions)
            top = sqlite_schema.max_rowid(self._conn)
            self._temp_rowid = min(self._temp_rowid, top)
            stale = "runs_rowid <= ? OR runs_rowid > ?"
            for extra in ("sl_extra_params", "sl_extra_metrics"):
                self._conn.execute(
                    f"DELETE FROM temp.{extra} WHERE session_id IN "
                    f"(SELECT session_id FROM temp.sl_extra WHERE {stale})",
                    (done, top),
                )
            self._conn.execute(f"DELETE FROM temp.sl_extra WHERE {stale}", (done, top))
            self._fill_temp(max(done, self._temp_rowid))
            if self._conn.execute("SELECT 1 FROM temp.sl_extra LIMIT 1").fetchone():
                self._use(TableSet("temp.sl_index", "temp.sl_params", "temp.sl_metrics"))
            else:
                self._use(_MAIN)
        else:  # no index in the file: the one in the user cache, built apart
            from sessionlens.stores import sqlite_cache

            if self._mode != "cache":
                self._attach_cache()
            self._runs_top = sqlite_schema.max_rowid(self._conn)
            self._use(sqlite_cache.TABLES)

    def _attach_cache(self) -> None:
        from sessionlens.stores import sqlite_cache

        try:
            everything = sqlite_cache.attach(self._conn, self.path, self._tracking_signature())
        except OSError as exc:
            raise StoreError(
                f"{self.path}: cannot keep its index in {sqlite_cache.cache_dir()} "
                f"({exc.strerror}); set SESSIONLENS_CACHE_DIR to a folder you can write"
            ) from None
        self._mode = "cache"
        self._cache_rowid = sqlite_cache.indexed_rowid(self._conn)
        self._counts[_ALL] = everything

    def _tracking_signature(self) -> str:
        """What the cached index's metrics were read with (a changed catalog rebuilds it)."""
        return self.tracking.signature() if self.tracking is not None else ""

    def _index_ready(self) -> bool:
        """Whether queries may read the index: always, but for a cache still being built."""
        return self._mode != "cache" or self._cache_rowid >= self._runs_top

    def _reset_temp(self) -> None:
        """Empty TEMP tables for the rows added to a store since sessionlens last indexed it."""
        for view in ("sl_index", "sl_params", "sl_metrics"):
            self._conn.execute(f"DROP VIEW IF EXISTS temp.{view}")
        for table in ("sl_extra", "sl_extra_params", "sl_extra_metrics"):
            self._conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
        self._conn.execute(INDEX_DDL.format(schema="temp", table="sl_extra"))
        self._conn.execute(PARAMS_DDL.format(schema="temp", table="sl_extra_params"))
        self._conn.execute(PARAMS_INDEX_DDL.format(schema="temp", table="sl_extra_params"))
        self._conn.execute(METRICS_DDL.format(schema="temp", table="sl_extra_metrics"))
        self._conn.execute(METRICS_INDEX_DDL.format(schema="temp", table="sl_extra_metrics"))

    def _fill_temp(self, after: int) -> None:
        """Index new runs rows into the TEMP tables, a batch per transaction: each batch is read
        from the store before its transaction begins, so the store's shared lock is held only
        while one read runs (a rollback-journal writer waits for readers to let go to commit)."""
        top = sqlite_schema.max_rowid(self._conn)
        for batch in batched(self._unindexed(after), 1000):
            with sqlite_files.transaction(self._conn, "BEGIN"):
                write_index(self._conn, _EXTRA, batch)
        self._temp_rowid = max(self._temp_rowid, top)

    # -- reading ----------------------------------------------------------------------
    def count(self, query: Query | None = None) -> int:
        return self._count(query or all_sessions(), None)

    def count_at_most(self, query: Query, cap: int) -> int:
        return self._count(query, cap)

    def _count(self, query: Query, cap: int | None) -> int:
        made_at = self._interrupts
        self._index_for(query)
        with self._reading(made_at, "count"):
            tables = self._ensure_index()
            if not self._index_ready():  # the whole store: no index needed
                if _ALL not in self._counts:
                    self._counts[_ALL] = sqlite_direct.count_all(self._conn)
                return self._counts[_ALL] if cap is None else min(self._counts[_ALL], cap)
            params: dict[str, Any] = {}
            status = "i.status" if query.is_empty else status_sql(self._conn, tables, params)
            key = count_key(query, params)
            if key in self._counts:
                return self._counts[key] if cap is None else min(self._counts[key], cap)
            found = count_rows(self._conn, tables, query, status, params, cap)
            if cap is None or found < cap:  # the whole count
                if len(self._counts) > 64:
                    self._counts.clear()
                self._counts[key] = found
            return found

    def interrupt(self) -> None:
        self._interrupts += 1

    @contextlib.contextmanager
    def _reading(self, made_at: int, action: str) -> Iterator[None]:
        """A listing or count that :meth:`interrupt` may abandon: the progress handler stops
        its statements when an interrupt came after ``made_at`` (when the call was made)."""
        with self._errors(action):
            if made_at != self._interrupts:  # superseded while it waited for the lock
                raise StoreError(f"{self.path}: {action} abandoned for a newer one")
            self._read_made_at = made_at
            try:
                yield
            finally:
                self._read_made_at = None

    def _superseded(self) -> bool:
        made_at = self._read_made_at
        return made_at is not None and made_at != self._interrupts

    def list_summaries(
        self, query: Query | None = None, *, offset: int = 0, limit: int | None = 50
    ) -> list[SessionSummary]:
        query = query or all_sessions()
        offset = max(0, offset)
        limit = None if limit is None else max(0, limit)
        made_at = self._interrupts
        self._index_for(query, whole=limit is None)
        with self._reading(made_at, "list"):
            tables = self._ensure_index()
            if not self._index_ready():  # newest first, straight from runs
                return sqlite_direct.newest_page(
                    self._conn,
                    offset=offset,
                    limit=limit,
                    total=self._counts.get(_ALL),
                    details_of=self._details_unlocked,
                    heartbeat_of=self._heartbeat_unlocked,
                )
            params: dict[str, Any] = {}
            status = status_sql(self._conn, tables, params)
            known = self._counts.get(count_key(query, params))
            if known is None and query.is_empty and not self._has_archived:
                known = self._counts.get(_ALL)
            rows = page_rows(
                self._conn, tables, query, status, params, offset=offset, limit=limit, known=known
            )
        return [summary_from_row(row) for row in rows]

    def metric_series(
        self, query: Query | None, metric: str, limit: int | None = None
    ) -> list[tuple[str, str | None, float]]:
        query = query or all_sessions()
        made_at = self._interrupts
        self._index_for(query, whole=True)
        with self._reading(made_at, "list"):
            tables = self._ensure_index()
            if not self._index_ready():
                return super().metric_series(query, metric, limit)
            params: dict[str, Any] = {}
            status = status_sql(self._conn, tables, params)
            return series_rows(self._conn, tables, query, status, params, metric, limit)

    def get_summary(self, session_id: str) -> SessionSummary:
        with self._errors("read"):
            tables = self._ensure_index()
            if not self._index_ready():
                found = sqlite_direct.one(
                    self._conn,
                    session_id,
                    details_of=self._details_unlocked,
                    heartbeat_of=self._heartbeat_unlocked,
                )
            else:
                row = summary_row(self._conn, tables, session_id)
                found = None if row is None else summary_from_row(row)
        if found is None:
            raise UnknownSessionError(session_id, self.location)
        return found

    # -- the index of a store browsed read-only ---------------------------------------------
    def needs_index(self) -> bool:
        with self._errors("read"):
            self._ensure_index()
            return not self._index_ready()

    def build_index(
        self,
        progress: IndexProgress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        """Build the cached index of a store without one in its file (or bring it up to date),
        on a connection of its own: reads of this store go on meanwhile, answered from ``runs``
        where they can. One build at a time; a second caller waits for it."""
        from sessionlens.stores import sqlite_cache

        with self._build_lock:
            with self._errors("index"):
                self._ensure_index()
                if self._index_ready():
                    return
                source = self._snapshot.path if self._snapshot is not None else self.path
                builder = self._builder = sqlite_cache.IndexBuilder(
                    source,
                    self.path,
                    self.busy_timeout,
                    cancelled,
                    tracking=self.tracking,
                    signature=self._tracking_signature(),
                )
            try:
                builder.run(progress)
            except sqlite3.Error as exc:
                raise self._error(exc, "index") from None
            except OSError as exc:
                raise StoreError(f"{self.path}: cannot index it ({exc.strerror})") from None
            finally:
                self._builder = None
            with self._errors("index"):
                if self._mode == "cache":
                    self._cache_rowid = sqlite_cache.indexed_rowid(self._conn)
                    self._counts.clear()

    def _index_for(self, query: Query, *, whole: bool = False) -> None:
        """Build the index first unless ``query`` is a page of the default listing of a big
        store, which ``runs`` answers (``whole``: every session is asked for). Outside the
        store's lock, so such pages go on being served meanwhile. A small store is indexed at
        once: it takes less than reading it twice, and its order is the index's from the
        first page (ids not in Kedro's format sort last there, by id here)."""
        if not self.needs_index():
            return
        if query.is_default and not whole and self._runs_top > DIRECT_ABOVE:
            return
        self.build_index()

    def metric_names(self) -> list[str]:
        """From the metrics index: one step per name (a skip-scan of ``(name, value)``)."""
        with self._errors("read"):
            tables = self._ensure_index()
            if not self._index_ready():
                return []
            rows = self._conn.execute(
                f"SELECT DISTINCT name FROM {tables.metrics} ORDER BY name"
            ).fetchall()
        return [str(r[0]) for r in rows]

    def _heartbeat_unlocked(self, session_id: str) -> float | None:
        if not self._has_heartbeats:
            return None
        row = self._conn.execute(
            f"SELECT at FROM main.{HEARTBEAT_TABLE} WHERE session_id = ?", (session_id,)
        ).fetchone()
        at = None if row is None else row[0]
        return float(at) if type(at) in (int, float) else None  # edited by hand: none

    def get(self, session_id: str) -> Record:
        with self._errors("read"):
            row = self._conn.execute(
                f"SELECT {sqlite_schema.RUNS_ROW} FROM main.runs WHERE id = ?", (session_id,)
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
        _, record = sqlite_schema.read_run(*row)
        if isinstance(record, str):
            raise UnreadableSessionError(session_id, record, self.location)
        record.setdefault("session_id", session_id)
        return record

    def iter_records(
        self, session_ids: Iterable[str] | None = None
    ) -> Iterator[tuple[str, Record | str]]:
        """Pages of runs rows: every row in rowid order (a keyset walk), or the given ids
        ``_RECORD_PAGE`` per statement; the lock is held for one page at a time."""
        if session_ids is not None:
            yield from self._records_of(session_ids)
            return
        last = 0
        while True:
            with self._errors("read"):
                rows = self._conn.execute(
                    f"SELECT rowid, {sqlite_schema.RUNS_ROW} FROM main.runs WHERE rowid > ? "
                    "ORDER BY rowid LIMIT ?",
                    (last, _RECORD_PAGE),
                ).fetchall()
            for _, *row in rows:
                yield _with_id(*sqlite_schema.read_run(*row))
            if len(rows) < _RECORD_PAGE:
                return
            last = rows[-1][0]

    def iter_saved(
        self, session_ids: Iterable[str] | None = None
    ) -> Iterator[tuple[str, Record | SavedSession | str]]:
        """Runs rows with their index rows, a page per statement: a readable row whose index
        row is its own (same runs rowid) comes as saved; any other is parsed as
        ``iter_records`` does. With tracking files (their metrics join the index) or while
        the index is not built, every row is parsed."""
        with self._errors("read"):
            tables = self._ensure_index()
        if self.tracking is not None or not self._index_ready():
            yield from self.iter_records(session_ids)
            return
        columns = ", ".join(f"i.{c}" for c in INDEX_COLUMNS)
        select = (
            f"SELECT r.rowid, {sqlite_schema.RUNS_ROW}, {columns} FROM main.runs r "
            f"LEFT JOIN {tables.index} i ON i.session_id = r.id AND i.runs_rowid = r.rowid "
            "AND i.problem IS NULL"
        )
        if session_ids is not None:
            for batch in batched(session_ids, _RECORD_PAGE):
                with self._errors("read"):
                    rows = self._conn.execute(
                        f"{select} WHERE r.id IN (SELECT value FROM json_each(?))",
                        (json.dumps(batch),),
                    ).fetchall()
                    found = dict(self._saved_rows(tables, rows))
                for session_id in batch:
                    if session_id in found:
                        yield session_id, found[session_id]
                    else:  # listed under a repaired id, or gone
                        yield from self._records_of([session_id])
            return
        last = 0
        while True:
            with self._errors("read"):
                rows = self._conn.execute(
                    f"{select} WHERE r.rowid > ? ORDER BY r.rowid LIMIT ?", (last, _RECORD_PAGE)
                ).fetchall()
                saved = self._saved_rows(tables, rows)
            yield from saved
            if len(rows) < _RECORD_PAGE:
                return
            last = rows[-1][0]

    def _saved_rows(
        self, tables: IndexTables, rows: list[tuple]
    ) -> list[tuple[str, Record | SavedSession | str]]:
        """``iter_saved``'s items of rows read by its statement (the lock held)."""
        texts = {}
        for rowid, _, blob, _, indexed_id, *_ in rows:
            text = saved_text(blob) if indexed_id is not None else None
            if text is not None:
                texts[rowid] = text
        ids = json.dumps([r[4] for r in rows if r[0] in texts])
        params: dict[str, list[tuple]] = {}
        metrics: dict[str, list[tuple]] = {}
        for table, columns, into in (
            (tables.params, "session_id, name, value, num", params),
            (tables.metrics, "session_id, name, value", metrics),
        ):
            for row in self._conn.execute(
                f"SELECT {columns} FROM {table} "
                "WHERE session_id IN (SELECT value FROM json_each(?))",
                (ids,),
            ):
                into.setdefault(row[0], []).append(tuple(row))
        items: list[tuple[str, Record | SavedSession | str]] = []
        for rowid, run_id, blob, size, *index in rows:
            text = texts.get(rowid)
            if text is None:
                items.append(_with_id(*sqlite_schema.read_run(run_id, blob, size)))
                continue
            session_id = index[0]
            indexed = (tuple(index), params.get(session_id, []), metrics.get(session_id, []))
            items.append((session_id, SavedSession(session_id, text, indexed)))
        return items

    def _records_of(self, session_ids: Iterable[str]) -> Iterator[tuple[str, Record | str]]:
        for batch in batched(session_ids, _RECORD_PAGE):
            with self._errors("read"):
                rows = self._conn.execute(
                    f"SELECT {sqlite_schema.RUNS_ROW} FROM main.runs "
                    "WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(batch),),
                ).fetchall()
            found = dict(_with_id(*sqlite_schema.read_run(*row)) for row in rows)
            for session_id in batch:
                if session_id in found:
                    yield session_id, found[session_id]
                    continue
                try:  # listed under a repaired id (its own is not UTF-8), or gone
                    yield session_id, self.get(session_id)
                except UnreadableSessionError as exc:
                    yield session_id, exc.problem
                except UnknownSessionError:
                    continue

    def existing_ids(self, session_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for batch in batched(session_ids, 5000):
            with self._errors("read"):
                found.update(
                    _text_id(row[0])
                    for row in self._conn.execute(
                        "SELECT CAST(id AS BLOB) FROM main.runs "
                        "WHERE id IN (SELECT value FROM json_each(?))",
                        (json.dumps(batch),),
                    )
                )
        return found

    def last_heartbeat(self, session_id: str) -> float | None:
        with self._errors("read"):
            return self._heartbeat_unlocked(session_id)

    def user_details(self, session_id: str) -> Mapping[str, Any]:
        with self._errors("read"):
            return self._details_unlocked(session_id)

    def _details_unlocked(self, session_id: str) -> Mapping[str, Any]:
        return details_of(self._conn, session_id) if self._has_details else {}

    def details_for(self, session_ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        if not self._has_details:
            return found
        for batch in batched(session_ids, 5000):
            with self._errors("read"):
                found.update(details_of_many(self._conn, batch))
        return found

    def logs_for(self, session_ids: Iterable[str]) -> dict[str, list[LogChunk]]:
        found: dict[str, list[LogChunk]] = {}
        if not self._has_logs:
            return super().logs_for(session_ids)  # it looks for the table again
        for batch in batched(session_ids, 5000):
            with self._errors("read log"):
                rows = self._conn.execute(
                    f"SELECT session_id, stream, text FROM main.{LOG_TABLE} "
                    "WHERE session_id IN (SELECT value FROM json_each(?)) "
                    "ORDER BY session_id, seq",
                    (json.dumps(batch),),
                )
                for session_id, stream, text in rows:
                    chunk = LogChunk(_log_text(text), _log_text(stream) or "stdout")
                    found.setdefault(session_id, []).append(chunk)
        return found

    def iter_log(self, session_id: str, start: int = 0) -> Iterator[LogChunk]:
        seq = max(0, start)
        while True:
            with self._errors("read log"):
                if not self._has_logs:
                    self._has_logs = LOG_TABLE in sqlite_schema.tables(self._conn)
                    if not self._has_logs:
                        return
                rows = self._conn.execute(
                    f"SELECT seq, stream, text FROM main.{LOG_TABLE} "
                    "WHERE session_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
                    (session_id, seq, _LOG_PAGE),
                ).fetchall()
            for _, stream, text in rows:
                yield LogChunk(_log_text(text), _log_text(stream) or "stdout")
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
                yield _log_text(text)
            if len(rows) < 64:
                return
            seq = rows[-1][0]

    def change_token(self) -> Any:
        """Changes when sessions change, not when logs grow: a browser polling this during a
        run must not reload its page for every log batch. Our own saves bump a generation in
        the meta table; writers that know nothing of it (kedro-viz) add rows, so the highest
        rowids of kedro-viz's tables count too."""
        with self._errors("poll"):
            self._refresh_snapshot()
            row = sqlite_schema.meta(self._conn, "generation") if self._has_meta else None
            generation = row[0] if row else None
            runs = sqlite_schema.max_rowid(self._conn)
            details = (
                self._conn.execute("SELECT max(rowid) FROM main.user_run_details").fetchone()[0]
                if self._has_details
                else None
            )
            return (generation, runs, details)

    # -- writing ----------------------------------------------------------------------
    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        """New sessions, all in one transaction: a failure, a crash or an id already in the
        store (``SessionExistsError``) half-way writes none. A plain ``INSERT``: the primary key
        makes claiming an id atomic between processes."""
        self._write_records(records, _INSERT_RUN)

    def update(self, record: Mapping[str, Any]) -> None:
        self._write_records([record], "UPDATE main.runs SET blob = ?2 WHERE id = ?1")

    def _write_records(self, records: Iterable[Mapping[str, Any]], statement: str) -> None:
        self._check_writable()
        with self._write():
            self._sync_main()
            self._put_records(records, statement)
            self._saved()

    def _put_records(
        self,
        records: Iterable[Mapping[str, Any] | SavedSession],
        statement: str,
        *,
        checked: bool = False,
    ) -> None:
        """Inside a write transaction: the runs rows of ``records`` and their index rows
        (``checked``: see :func:`~.sqlite_index.saved_session`)."""
        inserting = statement.startswith("INSERT")
        for batch in batched(records, 1000):
            runs, indexed, beats = [], [], []
            for record in batch:
                saved, running = saved_session(
                    record, self.location, tracking=self.tracking, checked=checked, what="blob"
                )
                runs.append((saved.session_id, json.dumps(saved.text)))  # kedro-viz: twice
                indexed.append(saved.indexed)
                if inserting and running:
                    beats.append((saved.session_id, time.time()))
            if inserting:
                self._insert_runs(statement, runs)
                self._conn.executemany(_HEARTBEAT_UPSERT, beats)
            elif self._conn.execute(statement, runs[0]).rowcount == 0:
                raise UnknownSessionError(runs[0][0], self.location)
            write_index(self._conn, _MAIN, indexed, lookup=True)

    def _saved(self) -> None:
        """Inside a write transaction that changed sessions: the bookkeeping of a save."""
        sqlite_schema.set_indexed_rowid(self._conn, sqlite_schema.max_rowid(self._conn))
        sqlite_schema.bump_generation(self._conn)
        self._counts.clear()

    def import_sessions(self, sessions: Iterable[SessionCopy]) -> None:
        """Records, logs and details of a batch in ONE transaction: a crash leaves all of
        the batch or none of it (``copy`` never finds half a session here)."""
        self._check_writable()
        sessions = list(sessions)
        with self._write():
            self._sync_main()
            self._put_records([s.record for s in sessions], _INSERT_RUN, checked=True)
            rows = []
            for session in sessions:
                if not session.log:
                    continue
                session_id = session.session_id
                first = self._conn.execute(
                    f"SELECT coalesce(max(seq) + 1, 0) FROM main.{LOG_TABLE} WHERE session_id = ?",
                    (session_id,),
                ).fetchone()[0]
                rows += [
                    (session_id, first + n, chunk.stream, chunk.text)
                    for n, chunk in enumerate(session.log)
                ]
            self._conn.executemany(
                f"INSERT INTO main.{LOG_TABLE} (session_id, seq, stream, text) VALUES (?, ?, ?, ?)",
                rows,
            )
            annotated = [s for s in sessions if s.details]
            for session in annotated:
                fields = details_args(session.details)
                self._put_details(session.session_id, fields)
            self._saved()
        if annotated:
            self._details_rows = self._has_details = True

    def set_user_details(
        self,
        session_id: str,
        *,
        title: str | None = None,
        notes: str | None = None,
        bookmark: bool | None = None,
    ) -> None:
        """kedro-viz's ``user_run_details`` row, as kedro-viz writes it: updated in place (only
        the given columns), or inserted (``id`` assigned by SQLite, bookmark 0 unless given)."""
        self._check_writable()
        fields = {
            name: value
            for name, value in (("title", title), ("notes", notes), ("bookmark", bookmark))
            if value is not None
        }
        merged_details({}, title, notes, bookmark)  # the same type checks as every backend
        with self._write():
            exists = self._conn.execute(
                "SELECT 1 FROM main.runs WHERE id = ?", (session_id,)
            ).fetchone()
            if exists is None:
                raise UnknownSessionError(session_id, self.location)
            self._put_details(session_id, fields)
            sqlite_schema.bump_generation(self._conn)
            self._counts.clear()
        # own commits do not move ``PRAGMA data_version``: the join is wanted from now on
        self._details_rows = self._has_details = True

    def _put_details(self, session_id: str, fields: Mapping[str, Any]) -> None:
        """Inside a write transaction: set ``fields`` of the session's details row."""
        if not self._has_details:
            sqlite_schema.create_details_table(self._conn)
            self._has_details = True
        values = {k: int(bool(v)) if k == "bookmark" else v for k, v in fields.items()}
        if values:
            sets = ", ".join(f"{name} = :{name}" for name in values)
            changed = self._conn.execute(
                f"UPDATE main.user_run_details SET {sets} WHERE run_id = :run_id",
                {**values, "run_id": session_id},
            ).rowcount
            if changed:
                return
        elif self._conn.execute(
            "SELECT 1 FROM main.user_run_details WHERE run_id = ?", (session_id,)
        ).fetchone():
            return
        self._conn.execute(
            "INSERT INTO main.user_run_details (run_id, bookmark, title, notes) "
            "VALUES (?, ?, ?, ?)",
            (session_id, values.get("bookmark", 0), values.get("title"), values.get("notes")),
        )

    def archive(self, session_ids: Iterable[str], archived: bool = True) -> None:
        """Rows of sessionlens's own ``sessionlens_archived`` (kedro-viz's tables untouched)."""
        self._check_writable()
        ids = list(dict.fromkeys(session_ids))
        with self._write():
            self._sync_main()
            self._check_known(ids)
            self._conn.execute(sqlite_schema.ARCHIVED_DDL)
            if archived:
                now = time.time()
                self._conn.executemany(
                    f"INSERT OR IGNORE INTO main.{ARCHIVED_TABLE} (session_id, at) VALUES (?, ?)",
                    [(sid, now) for sid in ids],
                )
            else:
                self._conn.executemany(
                    f"DELETE FROM main.{ARCHIVED_TABLE} WHERE session_id = ?", [(s,) for s in ids]
                )
            sqlite_schema.bump_generation(self._conn)
            self._counts.clear()
        self._has_archived = True

    def delete(self, session_ids: Iterable[str]) -> None:
        """The runs row, its ``user_run_details`` row, log, heartbeat, archive mark and index
        rows, all in ONE transaction: a crash removes all of it or none."""
        self._check_writable()
        ids = [(sid,) for sid in dict.fromkeys(session_ids)]
        with self._write():
            self._sync_main()
            self._check_known([sid for (sid,) in ids])
            found = sqlite_schema.tables(self._conn)
            owned = [LOG_TABLE, HEARTBEAT_TABLE, ARCHIVED_TABLE, INDEX_TABLE, PARAMS_TABLE]
            for table in [*owned, METRICS_TABLE]:
                if table in found:
                    self._conn.executemany(f"DELETE FROM main.{table} WHERE session_id = ?", ids)
            if "user_run_details" in found:
                self._conn.executemany("DELETE FROM main.user_run_details WHERE run_id = ?", ids)
            self._conn.executemany("DELETE FROM main.runs WHERE id = ?", ids)
            self._saved()

    def _check_known(self, session_ids: list[str]) -> None:
        """Inside a write: ``UnknownSessionError`` for the first id with no runs row."""
        for batch in batched(session_ids, 500):
            have = {
                _text_id(r[0])
                for r in self._conn.execute(
                    "SELECT id FROM main.runs WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(batch),),
                )
            }
            for session_id in batch:
                if session_id not in have:
                    raise UnknownSessionError(session_id, self.location)

    def _insert_runs(self, statement: str, runs: list[tuple[str, str]]) -> None:
        try:
            self._conn.executemany(statement, runs)
        except sqlite3.IntegrityError:
            ids = [sid for sid, _ in runs]
            taken = [
                sid
                for (sid,) in self._conn.execute(
                    "SELECT id FROM main.runs WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(ids),),
                )
            ]
            duplicate = next((sid for sid in ids if ids.count(sid) > 1), None)
            raise SessionExistsError((taken or [duplicate or ids[0]])[0], self.location) from None

    def append_log(self, session_id: str, text: str, stream: str = "stdout") -> None:
        self._check_writable()
        with self._write():
            self._conn.execute(
                f"INSERT INTO main.{LOG_TABLE} (session_id, seq, stream, text) VALUES "
                f"(?, (SELECT coalesce(max(seq) + 1, 0) FROM main.{LOG_TABLE} "
                "WHERE session_id = ?), ?, ?)",
                (session_id, session_id, stream, text),
            )
            self._conn.execute(_HEARTBEAT_UPSERT, (session_id, time.time()))

    def heartbeat(self, session_id: str) -> None:
        self._check_writable()
        with self._write():
            self._conn.execute(_HEARTBEAT_UPSERT, (session_id, time.time()))

    # -- lifecycle --------------------------------------------------------------------
    def close(self) -> None:
        builder = self._builder
        if builder is not None:  # quitting does not wait for an index
            builder.cancel()
        with self._lock:
            if self._conn is not None:
                if not self.read_only:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("PRAGMA optimize")
                sqlite_files.close(self._conn)
                self._conn = None  # type: ignore[assignment]
            if self._snapshot is not None:
                self._snapshot.remove()
                self._snapshot = None
            self._turns.close()


def _log_text(value: Any) -> str:
    """A log column as text: sessionlens writes text, but a value edited in by hand may be a
    BLOB (decoded with U+FFFD for bad bytes), a number or NULL."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return lenient_text(value)
    return "" if value is None else str(value)


def _with_id(session_id: str, record: Record | str) -> tuple[str, Record | str]:
    """A runs row read by ``read_run`` as ``get`` returns it (the id in the record)."""
    if isinstance(record, dict):
        record.setdefault("session_id", session_id)
    return session_id, record


def _text_id(value: Any) -> str:
    return lenient_text(value) if isinstance(value, bytes) else str(value)
