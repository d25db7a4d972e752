"""``PostgresSessionStore``: a team's sessions in one PostgreSQL database (``postgresql://``).

Many machines record into it and everyone browses it live. The URI is libpq's: credentials
may also come from ``PG*`` variables, ``~/.pgpass`` or a service file, and ``sslmode`` is
honoured, because the conninfo goes to libpq as given. The password is never shown: the
store's ``location`` is the URI without it, and every error is one line with it removed.
psycopg 3 is imported only here (the ``postgresql`` extra).

Tables and migrations: :mod:`~.postgres_schema`; a ``Query`` as SQL: :mod:`~.postgres_query`;
hearing other machines' writes: :mod:`~.postgres_listen`. Index columns are derived by
:func:`~.sqlite_index.index_session`, the SQLite store's derivation, so both list alike.

One connection (autocommit; each write one transaction) guarded by a lock serves the app's
workers and a run's log and heartbeat threads; ``interrupt`` cancels the statement running on
it. A read-only open sets ``default_transaction_read_only``: browsing cannot write. A new
session's ``INSERT`` on the primary key claims its id (no upsert): two machines starting in the
same millisecond both keep their session (``Session`` moves to the next free millisecond).
When the connection drops during a run, ``append_log`` keeps the log in memory (bounded) and
writes it with the next call that reaches the server; the run goes on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from sessionlens.errors import (
    SessionExistsError,
    StoreError,
    UnknownSessionError,
    UnreadableSessionError,
    one_line,
)
from sessionlens.record import Record, SessionSummary
from sessionlens.stores import postgres_query as pq
from sessionlens.stores import postgres_schema as schema
from sessionlens.stores.base import (
    LogChunk,
    SavedSession,
    SessionCopy,
    SessionStore,
    StoreCapabilities,
    details_args,
    merged_details,
)
from sessionlens.stores.listing import all_sessions
from sessionlens.stores.locate import redact
from sessionlens.stores.readable import RecordProblem, load_record
from sessionlens.stores.sqlite_index import batched, saved_session

if TYPE_CHECKING:
    from sessionlens.query import Query
    from sessionlens.stores.postgres_listen import Listener

_LOG_PAGE = 2000
#: characters of log a run keeps in memory while the server cannot be reached
PENDING_LOG_CHARS = 16 * 1024 * 1024
_HEARTBEAT = (
    f"INSERT INTO {schema.HEARTBEATS} (session_id, at) VALUES (%s, %s) "
    "ON CONFLICT (session_id) DO UPDATE SET at = excluded.at"
)
_NOTIFY = f"NOTIFY {schema.CHANNEL}"
_DETAILS_UPSERT = (
    f"INSERT INTO {schema.DETAILS} AS d (session_id, title, title_l, notes, bookmark) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (session_id) DO UPDATE SET "
    "title = coalesce(excluded.title, d.title), title_l = coalesce(excluded.title_l, d.title_l), "
    "notes = coalesce(excluded.notes, d.notes), bookmark = excluded.bookmark"
)
#: records read per statement by ``iter_records``
_RECORD_PAGE = 500
#: the index columns as written, with the record (``runs_rowid`` is SQLite's alone)
_INSERT_COLUMNS = ("session_id", "record", *schema.COLUMNS[1:])


class PostgresSessionStore(SessionStore):
    """Sessions in a PostgreSQL database. Thread-safe (one connection + lock)."""

    kind: ClassVar[str] = "postgresql"
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        persistent=True, logs=True, user_details=True
    )

    def __init__(self, conninfo: str, *, read_only: bool = False) -> None:
        super().__init__(redact(conninfo), read_only=read_only)
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"{self.location}: the PostgreSQL store needs psycopg; "
                "pip install 'sessionlens[postgresql]'"
            ) from None
        self._pg = psycopg
        self._conninfo = conninfo
        try:
            self._secret = urlsplit(conninfo).password
        except ValueError:
            self._secret = None
        self._lock = threading.RLock()
        self._conn: Any = None
        self._spare: list[Any] = []  # connections import_sessions wrote on, for the next
        self._own_pids: set[int] = set()
        self._writes = 0  # own saves, for change_token
        self._listener: Listener | None = None
        self._counts: dict[tuple, int] = {}
        self._reading = 0  # reads in progress, which interrupt() cancels
        self._pending: list[tuple[str, str, str]] = []  # log appends the server did not take
        self._pending_chars = 0
        self._closed = False
        with self._errors("open"):
            self._connection()
            found = schema.version(self._conn, self.location)
            schema.check_version(found, self.location)
            if not read_only:
                schema.migrate(self._conn, self.location)
            elif found is None:
                raise StoreError(
                    f"{self.location}: no sessionlens tables in this database; "
                    "record a run into it (read-write) to set it up"
                )
            else:
                schema.check_readable(found, self.location)

    # -- the connection ---------------------------------------------------------------
    def _connect(self, *, listener: bool = False) -> Any:
        """A new autocommit connection (read-only sessions for a read-only store)."""
        conn = self._pg.connect(self._conninfo, autocommit=True)
        if self.read_only and not listener:
            conn.execute("SET default_transaction_read_only = on")
        return conn

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.location}: the store was closed")

    def _connection(self) -> Any:
        """The store's connection, made again after it was lost; the caller holds the lock."""
        self._check_open()
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._drop()
            self._conn = self._connect()
            self._own_pids.add(self._conn.info.backend_pid)
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _error(self, exc: Exception, action: str) -> StoreError:
        """One line naming the store (never its password) and what failed."""
        text = one_line(exc) or type(exc).__name__
        if self._secret:
            text = text.replace(self._secret, "***")
        if isinstance(exc, self._pg.errors.QueryCanceled):
            return StoreError(f"{self.location}: {action} abandoned for a newer one")
        return StoreError(f"{self.location}: cannot {action}: {text}")

    @contextlib.contextmanager
    def _errors(self, action: str, *, reading: bool = False) -> Iterator[Any]:
        with self._lock:
            try:
                conn = self._connection()
                self._reading += reading
                try:
                    yield conn
                finally:
                    self._reading -= reading
            except self._pg.Error as exc:
                if isinstance(exc, self._pg.OperationalError) and not isinstance(
                    exc, self._pg.errors.QueryCanceled
                ):
                    self._drop()  # made again by the next call
                raise self._error(exc, action) from None

    # -- reading ----------------------------------------------------------------------
    def _status(self, conn: Any, params: dict[str, Any]) -> str:
        return pq.status_sql(conn, params)

    def count(self, query: Query | None = None) -> int:
        query = query or all_sessions()
        with self._errors("count", reading=True) as conn:
            params: dict[str, Any] = {}
            status = self._status(conn, params)
            key = (pq.count_key(query, params), self._token())
            found = self._counts.get(key)
            if found is None:
                found = pq.count_rows(conn, query, status, params)
                if self._listener is not None:  # else another machine's write would go unseen
                    self._counts = {key: found, **self._counts} if len(self._counts) < 64 else {}
            return found

    def count_at_most(self, query: Query, cap: int) -> int:
        with self._errors("count", reading=True) as conn:
            params: dict[str, Any] = {}
            status = self._status(conn, params)
            return pq.count_rows(conn, query, status, params, at_most=max(0, cap))

    def interrupt(self) -> None:
        """Cancel the statement running on the connection (from any thread)."""
        conn = self._conn
        if conn is not None and self._reading and not conn.closed:
            with contextlib.suppress(Exception):
                getattr(conn, "cancel_safe", conn.cancel)()

    def list_summaries(
        self, query: Query | None = None, *, offset: int = 0, limit: int | None = 50
    ) -> list[SessionSummary]:
        query = query or all_sessions()
        offset = max(0, offset)
        limit = None if limit is None else max(0, limit)
        if limit == 0:
            return []
        with self._errors("list", reading=True) as conn:
            params: dict[str, Any] = {}
            status = self._status(conn, params)
            known = self._counts.get((pq.count_key(query, params), self._token()))
            rows = pq.page_rows(
                conn, query, status, params, offset=offset, limit=limit, known=known
            )
        return [pq.summary_from_row(row) for row in rows]

    def metric_series(
        self, query: Query | None, metric: str, limit: int | None = None
    ) -> list[tuple[str, str | None, float]]:
        with self._errors("list", reading=True) as conn:
            params: dict[str, Any] = {}
            status = self._status(conn, params)
            return pq.series_rows(conn, query or all_sessions(), status, params, metric, limit)

    def metric_names(self) -> list[str]:
        with self._errors("read") as conn:
            rows = conn.execute(
                f"SELECT DISTINCT name FROM {schema.METRICS} ORDER BY name"
            ).fetchall()
        return [r[0] for r in rows]

    def get_summary(self, session_id: str) -> SessionSummary:
        with self._errors("read") as conn:
            params: dict[str, Any] = {"sid": session_id}
            status = self._status(conn, params)
            row = conn.execute(pq.summary_sql(status), params).fetchone()
        if row is None:
            raise UnknownSessionError(session_id, self.location)
        return pq.summary_from_row(row)

    def get(self, session_id: str) -> Record:
        with self._errors("read") as conn:
            row = conn.execute(
                f"SELECT record::text FROM {schema.SESSIONS} WHERE session_id = %s",
                (session_id,),
            ).fetchone()
        if row is None:
            raise UnknownSessionError(session_id, self.location)
        record = _loaded(session_id, row[0])
        if isinstance(record, str):
            raise UnreadableSessionError(session_id, record, self.location)
        return record

    def last_heartbeat(self, session_id: str) -> float | None:
        with self._errors("read") as conn:
            row = conn.execute(
                f"SELECT at FROM {schema.HEARTBEATS} WHERE session_id = %s", (session_id,)
            ).fetchone()
        return None if row is None else float(row[0])

    def user_details(self, session_id: str) -> Mapping[str, Any]:
        with self._errors("read") as conn:
            row = conn.execute(
                f"SELECT title, bookmark, notes FROM {schema.DETAILS} WHERE session_id = %s",
                (session_id,),
            ).fetchone()
        if row is None:
            return {}
        return {"title": row[0], "bookmark": bool(row[1]), "notes": row[2]}

    def _rows_of(self, session_ids: Iterable[str], select: str, action: str) -> Iterator[tuple]:
        """The rows of ``select`` (which takes the ids as ``ANY(%s)``), 5,000 ids a statement."""
        for batch in batched(session_ids, 5000):
            with self._errors(action) as conn:
                rows = conn.execute(select, (batch,)).fetchall()
            yield from rows

    def details_for(self, session_ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        select = (
            f"SELECT session_id, title, bookmark, notes FROM {schema.DETAILS} "
            "WHERE session_id = ANY(%s)"
        )
        return {
            sid: {"title": title, "bookmark": bool(bookmark), "notes": notes}
            for sid, title, bookmark, notes in self._rows_of(session_ids, select, "read")
        }

    def logs_for(self, session_ids: Iterable[str]) -> dict[str, list[LogChunk]]:
        select = (
            f"SELECT session_id, stream, text FROM {schema.LOGS} "
            "WHERE session_id = ANY(%s) ORDER BY session_id, seq"
        )
        found: dict[str, list[LogChunk]] = {}
        for sid, stream, text in self._rows_of(session_ids, select, "read log"):
            found.setdefault(sid, []).append(LogChunk(text, stream))
        return found

    def existing_ids(self, session_ids: Iterable[str]) -> set[str]:
        select = f"SELECT session_id FROM {schema.SESSIONS} WHERE session_id = ANY(%s)"
        return {row[0] for row in self._rows_of(session_ids, select, "read")}

    def iter_records(
        self, session_ids: Iterable[str] | None = None
    ) -> Iterator[tuple[str, Record | str]]:
        """Pages of records: every session in id order (a keyset walk), or the given ids a
        page per statement; the lock is held for one page at a time."""
        select = f"SELECT session_id, record::text FROM {schema.SESSIONS}"
        if session_ids is not None:
            for batch in batched(session_ids, _RECORD_PAGE):
                with self._errors("read") as conn:
                    rows = conn.execute(f"{select} WHERE session_id = ANY(%s)", (batch,))
                    found = dict(rows.fetchall())
                for session_id in batch:
                    if session_id in found:
                        yield session_id, _loaded(session_id, found[session_id])
            return
        last = ""
        while True:
            with self._errors("read") as conn:
                rows = conn.execute(
                    f"{select} WHERE session_id > %s ORDER BY session_id LIMIT %s",
                    (last, _RECORD_PAGE),
                ).fetchall()
            for session_id, text in rows:
                yield session_id, _loaded(session_id, text)
            if len(rows) < _RECORD_PAGE:
                return
            last = rows[-1][0]

    def iter_log(self, session_id: str, start: int = 0) -> Iterator[LogChunk]:
        seq = max(0, start)
        while True:
            with self._errors("read log") as conn:
                rows = conn.execute(
                    f"SELECT seq, stream, text FROM {schema.LOGS} WHERE session_id = %s "
                    "AND seq >= %s ORDER BY seq LIMIT %s",
                    (session_id, seq, _LOG_PAGE),
                ).fetchall()
            for _, stream, text in rows:
                yield LogChunk(text, stream)
            if len(rows) < _LOG_PAGE:
                return
            seq = rows[-1][0] + 1

    def _chunks_from_end(self, session_id: str) -> Iterator[str]:
        seq: int | None = None
        while True:
            with self._errors("read log") as conn:
                rows = conn.execute(
                    f"SELECT seq, text FROM {schema.LOGS} WHERE session_id = %s "
                    "AND seq < coalesce(%s, 9223372036854775807) ORDER BY seq DESC LIMIT 64",
                    (session_id, seq),
                ).fetchall()
            for _, text in rows:
                yield text
            if len(rows) < 64:
                return
            seq = rows[-1][0]

    def change_token(self) -> Any:
        """(own saves, other connections' notifications): moves without asking the server.
        The first call starts listening (a run, which never asks, holds one connection)."""
        if self._listener is None and not self._closed:
            from sessionlens.stores.postgres_listen import Listener

            with self._lock:
                if self._listener is None:
                    try:
                        self._listener = Listener(
                            lambda: self._connect(listener=True), lambda: self._own_pids
                        )
                    except self._pg.Error as exc:
                        raise self._error(exc, "listen") from None
        return self._token()

    def _token(self) -> tuple[int, int]:
        listener = self._listener
        return (self._writes, 0 if listener is None else listener.count)

    # -- writing ----------------------------------------------------------------------
    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        """New sessions in one transaction; an id in the store already (or twice in the batch)
        is a ``SessionExistsError`` and writes none of them."""
        self._check_writable()
        records = list(records)
        with self._errors("save") as conn:
            try:
                with conn.transaction():
                    for batch in batched(records, 1000):
                        self._copy_in(conn, batch)
                    if records:
                        conn.execute(_NOTIFY)
            except self._pg.errors.UniqueViolation:
                raise self._exists(conn, [str(r.get("session_id")) for r in records]) from None
            self._saved()

    def import_sessions(self, sessions: Iterable[SessionCopy]) -> None:
        """Records, logs and details of a batch in ONE transaction, each table by ``COPY``:
        a crash leaves all of the batch or none of it. On a connection of its own, so that
        two threads import two batches at once."""
        self._check_writable()
        sessions = list(sessions)
        if not sessions:
            return
        records = [s.record for s in sessions]
        logged = [s for s in sessions if s.log]
        annotated = [s for s in sessions if s.details]
        with self._import_connection() as conn:
            try:
                with conn.transaction():
                    # a bulk load: new rows' trigrams wait in the GIN pending list for
                    # autovacuum (another process) instead of being merged by this one
                    conn.execute("SET LOCAL gin_pending_list_limit = '64MB'")
                    self._copy_in(conn, records, checked=True)
                    if logged:
                        self._copy_logs(conn, logged)
                    if annotated:
                        conn.cursor().executemany(
                            _DETAILS_UPSERT, [_details_row(s) for s in annotated]
                        )
                    conn.execute(_NOTIFY)
            except self._pg.errors.UniqueViolation:
                raise self._exists(conn, [s.session_id for s in sessions]) from None
        with self._lock:
            self._saved()

    @contextlib.contextmanager
    def _import_connection(self) -> Iterator[Any]:
        """A connection of its own for one ``import_sessions``, kept for the next: ``copy``
        writes two batches at once, and the server works each on a core of its own (one
        connection behind the store's lock would take them in turns)."""
        self._check_open()
        with self._lock:
            conn = self._spare.pop() if self._spare else None
        try:
            if conn is None or conn.closed or conn.broken:
                conn = self._connect()
                with self._lock:
                    self._own_pids.add(conn.info.backend_pid)
            yield conn
        except self._pg.Error as exc:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            conn = None
            raise self._error(exc, "save") from None
        finally:
            if conn is not None and not conn.closed:
                with self._lock:
                    if self._closed:
                        conn.close()
                    else:
                        self._spare.append(conn)

    def _copy_in(
        self,
        conn: Any,
        records: Iterable[Mapping[str, Any] | SavedSession],
        *,
        checked: bool = False,
    ) -> None:
        """Inside a transaction: new session rows, their parameter and metric rows and the
        heartbeats of running ones."""
        rows, params, metrics, beats = self._rows(records, checked=checked)
        columns = ", ".join(_INSERT_COLUMNS)
        with conn.cursor().copy(f"COPY {schema.SESSIONS} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        self._write_children(conn, params, metrics, replace=False)
        if beats:
            conn.cursor().executemany(_HEARTBEAT, beats)

    def _copy_logs(self, conn: Any, sessions: list[SessionCopy]) -> None:
        """Inside a transaction: the sessions' log chunks after those already stored."""
        ids = [s.session_id for s in sessions]
        starts = dict(
            conn.execute(
                f"SELECT session_id, max(seq) + 1 FROM {schema.LOGS} "
                "WHERE session_id = ANY(%s) GROUP BY session_id",
                (ids,),
            ).fetchall()
        )
        with conn.cursor().copy(
            f"COPY {schema.LOGS} (session_id, seq, stream, text) FROM STDIN"
        ) as copy:
            for session_id, session in zip(ids, sessions, strict=True):
                first = starts.get(session_id, 0)
                for n, chunk in enumerate(session.log):
                    copy.write_row(_pg_row((session_id, first + n, chunk.stream, chunk.text)))

    def _exists(self, conn: Any, ids: list[str]) -> SessionExistsError:
        taken = conn.execute(
            f"SELECT session_id FROM {schema.SESSIONS} WHERE session_id = ANY(%s)", (ids,)
        ).fetchall()
        taken_ids = {t[0] for t in taken}
        first = next((sid for sid in ids if sid in taken_ids), None)
        duplicate = next((sid for sid in ids if ids.count(sid) > 1), None)
        return SessionExistsError(first or duplicate or ids[0], self.location)

    def update(self, record: Mapping[str, Any]) -> None:
        self._check_writable()
        rows, params, metrics, _ = self._rows([record])
        row = rows[0]
        sets = ", ".join(f"{c} = %s" for c in _INSERT_COLUMNS[1:])
        with self._errors("save") as conn:
            with conn.transaction():
                cur = conn.execute(
                    f"UPDATE {schema.SESSIONS} SET {sets} WHERE session_id = %s",
                    (*row[1:], row[0]),
                )
                if cur.rowcount == 0:
                    raise UnknownSessionError(row[0], self.location)
                self._write_children(conn, params, metrics, replace=True, ids=[row[0]])
                conn.execute(_NOTIFY)
            self._saved()

    def _saved(self) -> None:
        self._writes += 1
        self._counts.clear()

    def _rows(
        self, records: Iterable[Mapping[str, Any] | SavedSession], *, checked: bool = False
    ) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
        """Session rows (id, JSON, index columns), parameter and metric rows, and heartbeats of
        the running ones (:func:`~.sqlite_index.saved_session`, as SQLite saves them)."""
        rows, params, metrics, beats = [], [], [], []
        now = time.time()
        for record in records:
            saved, running = saved_session(
                record, self.location, tracking=self.tracking, checked=checked
            )
            row, ps, ms = saved.indexed
            rows.append(_pg_row((row[0], saved.text, *row[2:])))
            params.extend(_pg_row(p) for p in ps)
            metrics.extend(_pg_row(m) for m in ms)
            if running:
                beats.append((saved.session_id, now))
        return rows, params, metrics, beats

    def _write_children(
        self,
        conn: Any,
        params: list[tuple],
        metrics: list[tuple],
        *,
        replace: bool,
        ids: list[str] | None = None,
    ) -> None:
        cur = conn.cursor()
        if replace:
            cur.execute(f"DELETE FROM {schema.PARAMS} WHERE session_id = ANY(%s)", (ids,))
            cur.execute(f"DELETE FROM {schema.METRICS} WHERE session_id = ANY(%s)", (ids,))
        if params:
            with cur.copy(f"COPY {schema.PARAMS} (session_id, name, value, num) FROM STDIN") as c:
                for p in params:
                    c.write_row(p)
        if metrics:
            with cur.copy(f"COPY {schema.METRICS} (session_id, name, value) FROM STDIN") as c:
                for m in metrics:
                    c.write_row(m)

    def set_user_details(
        self,
        session_id: str,
        *,
        title: str | None = None,
        notes: str | None = None,
        bookmark: bool | None = None,
    ) -> None:
        """Title, notes and bookmark live in their own table, so annotating never races a run's
        writes; only the fields given change."""
        self._check_writable()
        merged_details({}, title, notes, bookmark)  # the same type checks as every backend
        sets: list[str] = []
        values: list[Any] = []
        if title is not None:
            sets += ["title = %s", "title_l = %s"]
            values += [title, title.lower()]
        if notes is not None:
            sets.append("notes = %s")
            values.append(notes)
        if bookmark is not None:
            sets.append("bookmark = %s")
            values.append(bool(bookmark))
        with self._errors("annotate") as conn:
            with conn.transaction():
                found = conn.execute(
                    f"SELECT 1 FROM {schema.SESSIONS} WHERE session_id = %s", (session_id,)
                ).fetchone()
                if found is None:
                    raise UnknownSessionError(session_id, self.location)
                conn.execute(
                    f"INSERT INTO {schema.DETAILS} (session_id, bookmark) VALUES (%s, false) "
                    "ON CONFLICT (session_id) DO NOTHING",
                    (session_id,),
                )
                if sets:
                    conn.execute(
                        f"UPDATE {schema.DETAILS} SET {', '.join(sets)} WHERE session_id = %s",
                        _pg_row((*values, session_id)),
                    )
                conn.execute(_NOTIFY)
            self._saved()

    def archive(self, session_ids: Iterable[str], archived: bool = True) -> None:
        """The ``archived`` column of the sessions' details rows, in one transaction."""
        self._check_writable()
        ids = list(dict.fromkeys(session_ids))
        with self._errors("archive") as conn:
            with conn.transaction():
                self._check_known(conn, ids)
                conn.execute(
                    f"INSERT INTO {schema.DETAILS} (session_id, bookmark, archived) "
                    "SELECT unnest(%s::text[]), false, %s "
                    "ON CONFLICT (session_id) DO UPDATE SET archived = excluded.archived",
                    (ids, bool(archived)),
                )
                conn.execute(_NOTIFY)
            self._saved()

    def delete(self, session_ids: Iterable[str]) -> None:
        """Session rows (their parameter and metric rows cascade), details, logs and heartbeats
        in ONE transaction."""
        self._check_writable()
        ids = list(dict.fromkeys(session_ids))
        with self._errors("delete") as conn:
            with conn.transaction():
                self._check_known(conn, ids)
                for table in (schema.DETAILS, schema.LOGS, schema.HEARTBEATS, schema.SESSIONS):
                    conn.execute(f"DELETE FROM {table} WHERE session_id = ANY(%s)", (ids,))
                conn.execute(_NOTIFY)
            self._saved()

    def _check_known(self, conn: Any, ids: list[str]) -> None:
        """``UnknownSessionError`` for the first of ``ids`` not in the store."""
        rows = conn.execute(
            f"SELECT session_id FROM {schema.SESSIONS} WHERE session_id = ANY(%s)", (ids,)
        ).fetchall()
        have = {r[0] for r in rows}
        for session_id in ids:
            if session_id not in have:
                raise UnknownSessionError(session_id, self.location)

    def append_log(self, session_id: str, text: str, stream: str = "stdout") -> None:
        """Append (and beat). When the server cannot be reached the text waits in memory and
        goes with the next append that reaches it; only past ``PENDING_LOG_CHARS`` does this
        raise (a ``StoreError``: the runner stops logging to the store, the run goes on)."""
        self._check_writable()
        with self._lock:
            self._pending.append(_pg_row((session_id, stream, text)))
            self._pending_chars += len(text)
            try:
                with self._errors("append to the log") as conn:
                    with conn.transaction():
                        cur = conn.cursor()
                        cur.executemany(
                            f"INSERT INTO {schema.LOGS} (session_id, seq, stream, text) VALUES "
                            f"(%s, (SELECT coalesce(max(seq) + 1, 0) FROM {schema.LOGS} "
                            "WHERE session_id = %s), %s, %s)",
                            [(sid, sid, st, tx) for sid, st, tx in self._pending],
                        )
                        cur.execute(_HEARTBEAT, (session_id, time.time()))
                    self._pending, self._pending_chars = [], 0
            except StoreError:
                if self._pending_chars > PENDING_LOG_CHARS:
                    self._pending, self._pending_chars = [], 0
                    raise
                if self._closed:
                    raise

    def heartbeat(self, session_id: str) -> None:
        self._check_writable()
        with self._errors("beat") as conn:
            conn.execute(_HEARTBEAT, (session_id, time.time()))

    # -- lifecycle --------------------------------------------------------------------
    @property
    def listener(self) -> Listener | None:
        """The thread hearing other connections' writes, once ``change_token`` started it."""
        return self._listener

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        with self._lock:
            if self._pending and not self._closed:  # a last try for the log kept in memory
                sid, stream, text = self._pending.pop()
                self._pending_chars -= len(text)
                with contextlib.suppress(StoreError):
                    self.append_log(sid, text, stream)
            self._closed = True
            self._drop()
            spare, self._spare = self._spare, []
        for conn in spare:
            with contextlib.suppress(Exception):
                conn.close()


def _loaded(session_id: str, text: str) -> Record | str:
    """A stored record, or why it cannot be read."""
    try:
        record = load_record(text)
    except RecordProblem as exc:
        return str(exc)
    record.setdefault("session_id", session_id)
    return record


def _details_row(session: SessionCopy) -> tuple:
    fields = details_args(session.details)
    title = fields.get("title")
    return _pg_row(
        (
            session.session_id,
            title,
            None if title is None else title.lower(),
            fields.get("notes"),
            fields["bookmark"],
        )
    )


def _pg_row(row: tuple) -> tuple:
    """A row PostgreSQL takes: text without NUL (it refuses them; U+FFFD instead) and no integer
    past 64 bits (no index column holds one). Lone surrogates cannot occur: index rows come
    from ``load_record``, which repairs them, and the JSON is ASCII. Most rows need nothing:
    they are checked in one pass and returned as they are (a sixth of a bulk insert's time
    went to rebuilding every row)."""
    for v in row:
        kind = type(v)
        if (kind is str and "\x00" in v) or (kind is int and not -(2**63) <= v < 2**63):
            return tuple(_pg_value(v) for v in row)
    return row


def _pg_value(value: Any) -> Any:
    if type(value) is str:
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if type(value) is int and not -(2**63) <= value < 2**63:
        return None
    return value
