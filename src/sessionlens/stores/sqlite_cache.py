"""The index of an SQLite store sessionlens has not written into (kedro-viz's), kept outside it.

Browsing writes nothing into a user's store, yet filtering and sorting a million sessions need
an index. It lives in a file of the user cache dir (``$SESSIONLENS_CACHE_DIR``, else
platformdirs'), one per store, named by a hash of the store's real path. The file says which
store it indexes (device, inode, the id of the last row indexed, how many rows): a store
replaced by another file, or rows removed, start it again from nothing; so does a change of the
Kedro tracking datasets its metrics were read from. Otherwise it is brought up to date by rowid,
since kedro-viz only appends.

:class:`IndexBuilder` fills it on a connection of its own, a batch per transaction, so the
store's reading connection (which attaches the file, see :func:`attach`) answers from the
batches committed so far and never waits for the whole build; the file is in WAL mode (it is
ours, and readers of it never block its writer). A build is cancelled between batches and, in
the middle of a statement, by a progress handler. Two processes building the same file take
turns per batch and skip what the other did.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sessionlens.errors import StoreError
from sessionlens.stores import sqlite_direct, sqlite_files, sqlite_schema
from sessionlens.stores.base import IndexProgress
from sessionlens.stores.sqlite_index import (
    INDEX_DDL,
    METRICS_DDL,
    PARAMS_DDL,
    SCHEMA_VERSION,
    index_session,
    secondary_indexes,
    table_set,
    write_index,
)

if TYPE_CHECKING:
    from sessionlens.tracking import TrackingSource

#: The schema name the cache file is attached under, and its tables.
SCHEMA = "slc"
TABLES = table_set(SCHEMA, "")
INDEX = TABLES.index
_META = f"{SCHEMA}.meta"
#: ``PRAGMA user_version`` of a cache file: the index rows' version, then this module's
#: (2: the filter indexes too, and the store's index names; 3: the tracking signature).
VERSION = SCHEMA_VERSION * 100 + 3
#: Runs rows indexed per transaction: small enough to cancel at once, big enough to be cheap.
BATCH = 2000
#: A build of more rows than this is shared among worker processes, one per core (at most
#: MAX_WORKERS): parsing records is Python's work, one core's at a time in one process.
PARALLEL_ABOVE = 50_000
MAX_WORKERS = 4


class BuildCancelled(StoreError):
    """The build was asked to stop; what it committed so far is kept."""

    def __init__(self) -> None:
        super().__init__("building the index was cancelled")


def cache_dir() -> Path:
    """Where index files live: ``$SESSIONLENS_CACHE_DIR``, else the user cache dir."""
    configured = os.environ.get("SESSIONLENS_CACHE_DIR")
    if configured:
        return Path(configured)
    import platformdirs  # only on the path that browses a foreign store

    return Path(platformdirs.user_cache_dir("sessionlens")) / "index"


def cache_file(store: Path) -> Path:
    """The index file of the store at ``store``."""
    key = hashlib.sha256(os.fsencode(os.path.realpath(store))).hexdigest()[:32]
    return cache_dir() / f"{key}.db"


def attach(conn: sqlite3.Connection, store: Path, signature: str = "") -> int:
    """Attach the index file of ``store`` to ``conn`` as ``slc``, created and checked: when it
    indexes another store (or one whose rows were removed), or its metrics were read from
    tracking datasets other than ``signature`` says, its rows are dropped. Returns how many
    sessions the store has (counted for the check); ``OSError``/``sqlite3.Error`` when no such
    file can be made."""
    path = cache_file(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    everything = sqlite_direct.count_all(conn)
    try:
        _attach_checked(conn, path, store, everything, signature)
    except sqlite3.DatabaseError as exc:  # not a database (a disk that lied): start again
        if isinstance(exc, sqlite3.OperationalError):  # locked, interrupted: not damage
            raise
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        _attach_checked(conn, path, store, everything, signature)
    return everything


def _attach_checked(
    conn: sqlite3.Connection, path: Path, store: Path, everything: int, signature: str
) -> None:
    conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (f"{path.absolute().as_uri()}?mode=rwc",))
    try:
        _prepare(conn, store, everything, signature)
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute(f"DETACH DATABASE {SCHEMA}")
        raise


def _prepare(conn: sqlite3.Connection, store: Path, everything: int, signature: str) -> None:
    if conn.execute(f"PRAGMA {SCHEMA}.journal_mode").fetchone()[0] != "wal":
        conn.execute(f"PRAGMA {SCHEMA}.journal_mode=WAL")
    version = conn.execute(f"PRAGMA {SCHEMA}.user_version").fetchone()[0]
    with sqlite_files.transaction(conn):
        if version != VERSION:
            for table in ("sessions", "params", "metrics", "meta"):
                conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
            conn.execute(INDEX_DDL.format(schema=SCHEMA, table="sessions"))
            conn.execute(PARAMS_DDL.format(schema=SCHEMA, table="params"))
            conn.execute(METRICS_DDL.format(schema=SCHEMA, table="metrics"))
            conn.execute(f"CREATE TABLE {_META} (key TEXT PRIMARY KEY, value)")
            conn.execute(f"PRAGMA {SCHEMA}.user_version = {VERSION}")
        if not _same_store(conn, store, everything, signature):
            _forget(conn, store, signature)


def _meta(conn: sqlite3.Connection) -> dict[str, object]:
    return dict(conn.execute(f"SELECT key, value FROM {_META}").fetchall())


def _identity(store: Path) -> tuple[int, int]:
    st = os.stat(store)
    return st.st_dev, st.st_ino


def _same_store(conn: sqlite3.Connection, store: Path, everything: int, signature: str) -> bool:
    """Whether the cache indexes this very file, whose rows up to the last one indexed are all
    still there (kedro-viz only appends: anything else means start again), with the same
    tracking datasets. ``everything``: how many rows ``runs`` has."""
    meta = _meta(conn)
    done = meta.get("indexed_rowid")
    if not isinstance(done, int) or [meta.get("dev"), meta.get("ino")] != list(_identity(store)):
        return False
    if (meta.get("tracking") or "") != signature:
        return False
    if done == 0:
        return True
    row = conn.execute("SELECT CAST(id AS BLOB) FROM main.runs WHERE rowid = ?", (done,)).fetchone()
    if row is None or row[0] != meta.get("indexed_id"):
        return False
    after = conn.execute("SELECT count(*) FROM main.runs WHERE rowid > ?", (done,)).fetchone()[0]
    return everything - after == meta.get("rows")


def _forget(conn: sqlite3.Connection, store: Path, signature: str) -> None:
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
    conn.execute(f"DELETE FROM {_META}")
    dev, ino = _identity(store)
    conn.executemany(
        f"INSERT INTO {_META} (key, value) VALUES (?, ?)",
        [
            ("dev", dev),
            ("ino", ino),
            ("indexed_rowid", 0),
            ("indexed_id", None),
            ("rows", 0),
            ("tracking", signature),
        ],
    )


def _secondary() -> list[tuple[str, str]]:
    return secondary_indexes(SCHEMA, "sessions", "params", "metrics")


def _drop_indexes(conn: sqlite3.Connection) -> None:
    for name, _ in _secondary():
        conn.execute(f"DROP INDEX IF EXISTS {SCHEMA}.{name}")


def _create_indexes(conn: sqlite3.Connection) -> None:
    for _, ddl in _secondary():
        conn.execute(ddl)


def indexed_rowid(conn: sqlite3.Connection) -> int:
    """The highest runs rowid the attached cache has indexed."""
    value = _meta(conn).get("indexed_rowid")
    return value if isinstance(value, int) else 0


class IndexBuilder:
    """Brings the cache of one store up to date, on connections of its own.

    ``source``: the file to read runs from (the store, or the private copy it is read from);
    ``store``: the store's own path, which names the cache."""

    def __init__(
        self,
        source: Path,
        store: Path,
        busy_timeout: float = 30.0,
        cancelled: Callable[[], bool] | None = None,
        *,
        tracking: TrackingSource | None = None,
        signature: str = "",
    ) -> None:
        self.source = source
        self.store = store
        self.busy_timeout = busy_timeout
        self.tracking = tracking
        self.signature = signature
        self._cancelled = cancelled
        self._stop = False

    def cancel(self) -> None:
        """Stop the build in progress soon (mid-statement too); safe from any thread."""
        self._stop = True

    def _stopping(self) -> bool:
        if not self._stop and self._cancelled is not None and self._cancelled():
            self._stop = True
        return self._stop

    def run(self, progress: IndexProgress | None = None) -> None:
        """Index every runs row the cache lacks; ``BuildCancelled`` if :meth:`cancel` was
        called. Each batch is read before its transaction begins, so the store's shared lock
        is held only while one read runs."""
        conn = sqlite_files.connect(self.source, mode="ro", timeout=self.busy_timeout)
        try:
            conn.set_progress_handler(self._stopping, 10_000)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            attach(conn, self.store, self.signature)
            conn.execute(f"PRAGMA {SCHEMA}.synchronous = OFF")  # a cache: rebuilt if lost
            if indexed_rowid(conn) == 0:  # from nothing: one sort afterwards beats upkeep
                with sqlite_files.transaction(conn):
                    _drop_indexes(conn)
            self._index_new_rows(conn, progress)
            with sqlite_files.transaction(conn):
                _create_indexes(conn)
        except sqlite3.OperationalError as exc:
            if self._stopping() and "interrupt" in str(exc):
                raise BuildCancelled from None
            raise
        finally:
            sqlite_files.close(conn)

    def _index_new_rows(self, conn: sqlite3.Connection, progress: IndexProgress | None) -> None:
        start = indexed_rowid(conn)
        total = conn.execute("SELECT count(*) FROM main.runs WHERE rowid > ?", (start,)).fetchone()
        total = total[0]
        if progress:
            progress(0, total)
        workers = min(MAX_WORKERS, os.cpu_count() or 1)
        if total > PARALLEL_ABOVE and workers > 1:
            self._index_in_workers(conn, start, workers, total, progress)
            return
        done = 0
        for rows, items in _batches(conn, start, None, self._stopping, self.tracking):
            with sqlite_files.transaction(conn):
                _write(conn, items, rows[-1][0], rows[-1][1])
            done += len(rows)
            if progress:
                progress(min(done, total), total)

    def _index_in_workers(
        self,
        conn: sqlite3.Connection,
        start: int,
        workers: int,
        total: int,
        progress: IndexProgress | None,
    ) -> None:
        """Share the rows out among ``workers`` processes (parsing records is the cost, and
        it is Python's), each indexing a range of rowids into the cache in batches of its own;
        the cache says it is complete only once all of them are done."""
        top = sqlite_schema.max_rowid(conn)
        step = -(-(top - start) // workers)
        bounds = [(a, min(a + step, top)) for a in range(start, top, step)]
        root = self.tracking.root if self.tracking is not None else None
        where = [str(self.source), str(self.store)]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", __name__, *where, str(a), str(b), str(root or "")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for a, b in bounds
        ]
        try:
            _follow(procs, self._stopping, lambda done: progress and progress(done, total))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        if self._stopping():
            raise BuildCancelled
        failed = next((p for p in procs if p.returncode), None)
        if failed is not None:
            assert failed.stderr is not None
            why = (failed.stderr.read().strip().splitlines() or ["?"])[-1]
            raise StoreError(f"{self.store}: indexing failed ({why})")
        last = conn.execute(
            "SELECT rowid, CAST(id AS BLOB) FROM main.runs WHERE rowid <= ? "
            "ORDER BY rowid DESC LIMIT 1",
            (top,),
        ).fetchone()
        with sqlite_files.transaction(conn):
            rows = conn.execute(f"SELECT count(*) FROM {INDEX}").fetchone()[0]
            conn.executemany(
                f"UPDATE {_META} SET value = ? WHERE key = ?",
                [(last[0], "indexed_rowid"), (last[1], "indexed_id"), (rows, "rows")],
            )


def _batches(
    conn: sqlite3.Connection,
    after: int,
    until: int | None,
    stopping: Callable[[], bool],
    tracking: TrackingSource | None,
) -> Iterator[tuple[list[tuple], list]]:
    """(runs rows, their index rows) with rowid in (``after``, ``until``], a batch at a time;
    ``tracking``: the project's tracking files, whose metrics join each record's."""
    bound = "" if until is None else f" AND rowid <= {int(until)}"
    while True:
        if stopping():
            raise BuildCancelled
        rows = conn.execute(
            f"SELECT rowid, {sqlite_schema.RUNS_ROW} FROM main.runs WHERE rowid > ?{bound} "
            f"ORDER BY rowid LIMIT {BATCH}",
            (after,),
        ).fetchall()
        if not rows:
            return
        items = []
        for rowid, run_id, blob, size in rows:
            session_id, record = sqlite_schema.read_run(run_id, blob, size)
            if isinstance(record, str):
                items.append(index_session(session_id, None, rowid, problem=record))
            else:
                items.append(index_session(session_id, record, rowid, tracking=tracking))
        yield rows, items
        after = rows[-1][0]


def _follow(
    procs: list[subprocess.Popen[str]],
    stopping: Callable[[], bool],
    progress: Callable[[int], object],
) -> None:
    """Wait for the worker processes, adding up the counts each prints per batch; return at
    once when ``stopping()``."""
    import selectors

    done = dict.fromkeys(range(len(procs)), 0)
    with selectors.DefaultSelector() as selector:
        for n, proc in enumerate(procs):
            assert proc.stdout is not None
            selector.register(proc.stdout, selectors.EVENT_READ, n)
        open_pipes = len(procs)
        while open_pipes and not stopping():
            for key, _ in selector.select(timeout=0.2):
                line = key.fileobj.readline()  # type: ignore[union-attr]
                if not line:
                    selector.unregister(key.fileobj)
                    open_pipes -= 1
                    continue
                done[key.data] = int(line)
                progress(sum(done.values()))


def _worker(source: str, store: str, after: int, until: int, root: str) -> int:
    """One worker of a parallel build: index runs rows (``after``, ``until``] into the cache,
    printing how many it has done after each batch (``root``: the Kedro project whose tracking
    files to read, '' for none). Stops when its parent is gone."""
    from sessionlens.tracking import TrackingSource

    tracking = TrackingSource(Path(root)) if root else None
    parent = os.getppid()
    conn = sqlite_files.connect(Path(source), mode="ro")
    try:
        cache = cache_file(Path(store))
        conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (f"{cache.absolute().as_uri()}?mode=rw",))
        conn.execute("PRAGMA busy_timeout = 60000")  # the others' batches, one at a time
        conn.execute(f"PRAGMA {SCHEMA}.synchronous = OFF")
        done = 0
        stopping = lambda: os.getppid() != parent  # noqa: E731
        for rows, items in _batches(conn, after, until, stopping, tracking):
            with sqlite_files.transaction(conn):
                write_index(conn, TABLES, items)
            done += len(rows)
            print(done, flush=True)
    finally:
        sqlite_files.close(conn)
    return 0


def _write(conn: sqlite3.Connection, items: list, last_rowid: int, last_id: bytes) -> None:
    if indexed_rowid(conn) >= last_rowid:  # another process indexed them meanwhile
        return
    write_index(conn, TABLES, items)
    # one index row per runs row (ids are the runs table's primary key)
    conn.execute(f"UPDATE {_META} SET value = value + ? WHERE key = 'rows'", (len(items),))
    conn.executemany(
        f"UPDATE {_META} SET value = ? WHERE key = ?",
        [(last_rowid, "indexed_rowid"), (last_id, "indexed_id")],
    )


if __name__ == "__main__":  # a worker of IndexBuilder._index_in_workers
    raise SystemExit(
        _worker(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    )
