"""The kedro-viz SQLite store: exact layout, interop both ways, index upkeep, errors, concurrency
and crashes. Every store here is a real file in tmp_path; other writers are real connections or
real processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import SQLITE_FIXTURE
from sessionlens.errors import StoreError
from sessionlens.query import parse_query
from sessionlens.record import SessionSummary
from sessionlens.stores import open_store
from sessionlens.stores.sqlite_index import SCHEMA_VERSION
from sessionlens.stores.sqlite_store import SQLiteSessionStore
from storetools import make_records

SRC = str(Path(__file__).resolve().parents[1] / "src")


# -- a minimal kedro-viz, written from its layout ------------------------------------------
def kedro_viz_create(path: Path) -> None:
    """The tables as kedro-viz 10.2 (SQLAlchemy) creates them, in journal_mode=delete."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE runs (id VARCHAR NOT NULL, blob JSON, PRIMARY KEY (id));
        CREATE INDEX ix_runs_id ON runs (id);
        CREATE TABLE user_run_details (id INTEGER NOT NULL, run_id VARCHAR, bookmark BOOLEAN,
            title VARCHAR, notes VARCHAR, PRIMARY KEY (id), UNIQUE (run_id),
            FOREIGN KEY(run_id) REFERENCES runs (id));
        CREATE INDEX ix_user_run_details_id ON user_run_details (id);
        """
    )
    conn.close()


def kedro_viz_save(path: Path, record: dict[str, Any]) -> None:
    """kedro-viz's SQLiteStore.save(): one INSERT of the record's JSON, encoded again."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO runs (id, blob) VALUES (?, ?)",
            (record["session_id"], json.dumps(json.dumps(record))),
        )
    conn.close()


def kedro_viz_read(path: Path) -> dict[str, dict[str, Any]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = conn.execute("SELECT id, blob FROM runs").fetchall()
    conn.close()
    return {run_id: json.loads(json.loads(blob)) for run_id, blob in rows}


def kedro_record(i: int) -> dict[str, Any]:
    return {
        "session_id": f"2026-11-25T09.{i // 60:02d}.{i % 60:02d}.000Z",
        "project_path": "/p",
        "username": "viz",
        "git": {"commit_sha": f"{i:07x}", "dirty": False, "branch": "viz-branch"},
        "cli": {"command_path": f"kedro run --params n={i}", "params": {"params": {"n": i}}},
    }


def _schema(path: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = conn.execute("SELECT name, sql FROM sqlite_master").fetchall()
    conn.close()
    return dict(rows)


# -- layout and interop ---------------------------------------------------------------------
def test_layout_is_kedro_vizs_exactly(tmp_path: Path, kedro_data: Path) -> None:
    ours = tmp_path / "s.db"
    with open_store(ours, read_only=False, create=True) as store:
        store.insert(make_records(1)[0])
    theirs = _schema(kedro_data / SQLITE_FIXTURE / ".viz" / "session_store.db")
    mine = _schema(ours)
    for name, sql in theirs.items():
        assert mine[name] == sql, name
    extra = {n for n in mine if n not in theirs}
    assert extra and all(n.startswith(("sessionlens_", "ix_sessionlens", "sqlite_")) for n in extra)


def test_blob_is_json_encoded_twice_and_kedro_viz_reads_our_store(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    records = make_records(12)
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(records[:6])
        for record in records[6:]:
            store.insert(record)
    conn = sqlite3.connect(path)
    blob = conn.execute("SELECT blob FROM runs LIMIT 1").fetchone()[0]
    conn.close()
    assert isinstance(json.loads(blob), str)
    assert kedro_viz_read(path) == {r["session_id"]: json.loads(json.dumps(r)) for r in records}


def test_sessionlens_reads_a_kedro_viz_store_and_sees_new_rows(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    kedro_viz_create(path)
    for i in range(5):
        kedro_viz_save(path, kedro_record(i))
    before = path.read_bytes()
    with open_store(path) as store:  # read-only: the index lives in a temp table
        assert store.count() == 5
        assert store.get(kedro_record(3)["session_id"]) == kedro_record(3)
        token = store.change_token()
        kedro_viz_save(path, kedro_record(7))  # a Kedro run finishes while we browse
        assert store.change_token() != token
        page = store.list_summaries(limit=2)
        newest = [kedro_record(7)["session_id"], kedro_record(4)["session_id"]]
        assert [s.session_id for s in page] == newest
        assert store.count(parse_query("param.n:7")) == 1
        assert store.list_summaries(parse_query("branch:viz-branch sha:0000007"))[0].command == (
            "kedro run --params n=7"
        )
    assert path.read_bytes()[18:20] == before[18:20] == b"\x01\x01"  # still journal=delete
    assert _schema(path).keys() == {
        "runs",
        "ix_runs_id",
        "sqlite_autoindex_runs_1",
        "user_run_details",
        "ix_user_run_details_id",
        "sqlite_autoindex_user_run_details_1",
    }


def test_read_write_open_backfills_the_index_and_keeps_it_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    kedro_viz_create(path)
    for i in range(3):
        kedro_viz_save(path, kedro_record(i))
    with open_store(path, read_only=False) as store:
        conn = sqlite3.connect(path)
        assert conn.execute("SELECT count(*) FROM sessionlens_sessions").fetchone()[0] == 3
        kedro_viz_save(path, kedro_record(3))  # another connection writes
        assert store.count() == 4
        assert conn.execute("SELECT count(*) FROM sessionlens_sessions").fetchone()[0] == 4
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # as kedro-viz
        conn.close()
        store.insert(make_records(1)[0])
        assert store.count() == 5


def test_read_only_reader_follows_a_sessionlens_writer(tmp_path: Path) -> None:
    """The reader starts on a pure kedro-viz file (temp index), then a sessionlens runner opens
    it, indexes it in the file and updates a running session: the reader shows the update."""
    path = tmp_path / "session_store.db"
    kedro_viz_create(path)
    kedro_viz_save(path, kedro_record(0))
    reader = open_store(path)
    assert reader.count() == 1
    record = make_records(3)[0]
    record["run"] = {**record["run"], "status": "running", "pid": os.getpid()}
    record["run"].pop("hostname", None)
    with open_store(path, read_only=False) as writer:
        writer.insert(record)
        assert reader.get_summary(record["session_id"]).status == "running"
        kedro_viz_save(path, kedro_record(1))  # Kedro adds a row the index lacks
        assert reader.count() == 3
        record["run"]["status"] = "success"
        writer.update(record)
        assert reader.get_summary(record["session_id"]).status == "success"
        assert reader.count(parse_query("status:success")) == 1
        assert reader.count(parse_query("user:viz")) == 2
    reader.close()


def test_listing_reads_the_index_not_the_blobs(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteSessionStore(path, create=True) as store:
        store.insert_many(make_records(200))
        statements: list[str] = []
        store._conn.set_trace_callback(statements.append)
        store.list_summaries(parse_query("branch:main -status:failed train"), limit=20)
        store.count(parse_query("param.scale:3"))
        store.change_token()
        store._conn.set_trace_callback(None)
    assert statements and not [s for s in statements if "blob" in s.lower()]


# -- errors -------------------------------------------------------------------------------
def _one_line_error(spec: Any, **kwargs: Any) -> str:
    with pytest.raises(StoreError) as info:
        open_store(spec, **kwargs).close()
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_missing_non_sqlite_foreign_corrupt_and_newer(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    assert str(missing) in _one_line_error(f"sqlite://{missing}")
    text = tmp_path / "notes.db"
    text.write_text("just text, not SQLite\n")
    message = _one_line_error(text)
    assert str(text) in message and "not a session store" in message
    message = _one_line_error(f"sqlite://{text}")
    assert str(text) in message and "not an SQLite database" in message

    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE invoices (n INTEGER)")
    conn.commit()
    conn.close()
    for read_only in (True, False):
        message = _one_line_error(foreign, read_only=read_only)
        assert str(foreign) in message and "no runs table" in message and "invoices" in message
    assert _schema(foreign).keys() == {"invoices"}  # nothing added to someone else's file

    odd = tmp_path / "odd.db"
    conn = sqlite3.connect(odd)
    conn.execute("CREATE TABLE runs (run_name TEXT, started REAL)")
    conn.commit()
    conn.close()
    assert "not kedro-viz's" in _one_line_error(odd)

    corrupt = tmp_path / "corrupt.db"
    with open_store(corrupt, read_only=False, create=True) as store:
        store.insert_many(make_records(50))
    data = bytearray(corrupt.read_bytes())
    data[100:4096] = os.urandom(3996)  # the schema page
    corrupt.write_bytes(bytes(data))
    message = _one_line_error(corrupt)
    assert str(corrupt) in message and "corrupt" in message

    newer = tmp_path / "newer.db"
    with open_store(newer, read_only=False, create=True) as store:
        store.insert(make_records(1)[0])
    conn = sqlite3.connect(newer)
    with conn:
        conn.execute(
            "UPDATE sessionlens_meta SET value = ? WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    conn.close()
    for read_only in (True, False):
        message = _one_line_error(newer, read_only=read_only)
        assert str(newer) in message and "newer sessionlens" in message

    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert "empty file" in _one_line_error(empty)
    with open_store(empty, read_only=False) as store:  # an empty file can become a store
        store.insert(make_records(1)[0])
        assert store.count() == 1


def _as_schema_1(path: Path) -> None:
    """Turn a store into what sessionlens wrote before schema 2: no params columns."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DROP INDEX ix_sessionlens_sessions_params")
        conn.execute("ALTER TABLE sessionlens_sessions DROP COLUMN params")
        conn.execute("ALTER TABLE sessionlens_sessions DROP COLUMN params_l")
        conn.execute("UPDATE sessionlens_meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()


def _index_columns(path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(sessionlens_sessions)")}
    conn.close()
    return columns


def test_store_of_the_previous_schema_is_read_and_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    records = make_records(12)
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(records)
        store.append_log(records[0]["session_id"], "line one\n")
        expected = store.list_summaries(limit=None)
    assert sum(s.params is not None for s in expected) >= 6
    _as_schema_1(path)
    runs_before = kedro_viz_read(path)
    assert "params" not in _index_columns(path)

    before = path.read_bytes()
    with open_store(path, read_only=True) as store:  # old tables ignored, indexed in TEMP
        assert store.list_summaries(limit=None) == expected
        query = parse_query("param.scale:3", sort="params", descending=False)
        assert [s.params for s in store.list_summaries(query, limit=None)] == sorted(
            s.params for s in expected if s.params and "scale=3 " in s.params
        )
    assert path.read_bytes() == before

    with open_store(path, read_only=False) as store:  # rebuilt in the file
        assert store.list_summaries(limit=None) == expected
        assert "".join(c.text for c in store.iter_log(records[0]["session_id"])) == "line one\n"
    assert {"params", "params_l"} <= _index_columns(path)
    conn = sqlite3.connect(path)
    version = conn.execute("SELECT value FROM sessionlens_meta WHERE key='schema_version'")
    assert version.fetchone()[0] == str(SCHEMA_VERSION)
    conn.close()
    assert kedro_viz_read(path) == runs_before  # kedro-viz's rows untouched
    with open_store(path, read_only=True) as store:  # and read from the file's index now
        assert store.list_summaries(limit=None) == expected


def _as_schema_3(path: Path) -> None:
    """Turn a store into what sessionlens wrote before schema 4: no started_ts, no params.num."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DROP INDEX ix_sessionlens_sessions_started_ts")
        conn.execute("ALTER TABLE sessionlens_sessions DROP COLUMN started_ts")
        conn.execute("ALTER TABLE sessionlens_params DROP COLUMN num")
        conn.execute("UPDATE sessionlens_meta SET value = '3' WHERE key = 'schema_version'")
    conn.close()


def test_a_store_of_schema_3_is_filtered_by_dates_and_numbers_and_upgraded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "session_store.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(make_records(24))
    queries = [parse_query(t) for t in ("since:2026-11-03", "param.lr>=0.05", "duration>1")]
    with open_store(path) as store:
        expected = [store.list_summaries(q, limit=None) for q in queries]
    assert all(expected)
    _as_schema_3(path)
    assert "started_ts" not in _index_columns(path)
    before = path.read_bytes()
    with open_store(path) as store:  # read-only: the old index is ignored, TEMP is built
        assert [store.list_summaries(q, limit=None) for q in queries] == expected
    assert path.read_bytes() == before
    with open_store(path, read_only=False) as store:  # read-write: rebuilt in the file
        assert [store.list_summaries(q, limit=None) for q in queries] == expected
    assert "started_ts" in _index_columns(path)
    conn = sqlite3.connect(path)
    assert "num" in {r[1] for r in conn.execute("PRAGMA table_info(sessionlens_params)")}
    version = conn.execute("SELECT value FROM sessionlens_meta WHERE key = 'schema_version'")
    assert version.fetchone()[0] == str(SCHEMA_VERSION) == "5"
    assert "sessionlens_metrics" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()


def test_filters_keep_to_the_index(tmp_path: Path) -> None:
    """A prefix is a range on a lower-cased column's index, a glob with a fixed start too, and a
    parameter term one lookup by primary key per session (not a list of every match)."""
    from sessionlens.stores.sqlite_index import PARAMS_TABLE
    from sessionlens.stores.sqlite_query import IndexTables, where_sql

    path = tmp_path / "session_store.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(make_records(8))
    conn = sqlite3.connect(path)
    tables = IndexTables("main.sessionlens_sessions", f"main.{PARAMS_TABLE}", False)

    def plan(text: str) -> str:
        params: dict[str, Any] = {}
        where, _ = where_sql(tables, parse_query(text), "i.status", params)
        rows = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT i.session_id FROM {tables.index} AS i WHERE {where}",
            params,
        ).fetchall()
        return " | ".join(r[-1] for r in rows)

    assert "INDEX ix_sessionlens_sessions_sha (sha_l>? AND sha_l<?)" in plan("sha:AB")
    assert "INDEX ix_sessionlens_sessions_branch (branch_l>? AND branch_l<?)" in plan(
        "branch:F*/x*"
    )
    assert "INDEX ix_sessionlens_sessions_started_ts (started_ts>?)" in plan("since:7d")
    param = plan("param.lr>=0.05")
    assert "CORRELATED SCALAR SUBQUERY" in param, param
    assert "PRIMARY KEY (session_id=? AND name=?)" in param, param
    conn.close()


def test_kedro_viz_only_store_shows_params(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    kedro_viz_create(path)
    for i in (3, 12):
        kedro_viz_save(path, kedro_record(i))
    with open_store(path, read_only=True) as store:
        assert [s.params for s in store.list_summaries()] == ["n=12", "n=3"]
    with open_store(path, read_only=False) as store:
        query = parse_query("", sort="params", descending=False)
        assert [s.params for s in store.list_summaries(query)] == ["n=12", "n=3"]


def test_locked_by_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(make_records(3))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # a writer at work: readers go on reading
    with SQLiteSessionStore(path, read_only=True, busy_timeout=0.2) as reader:
        assert reader.count() == 3
    writer = SQLiteSessionStore(path, read_only=False, busy_timeout=0.2)
    with pytest.raises(StoreError) as info:
        writer.insert(make_records(4)[3])
    message = str(info.value)
    assert str(path) in message and "locked by another process for more than 0.2 s" in message
    blocker.execute("ROLLBACK")
    blocker.close()
    writer.insert(make_records(4)[3])
    assert writer.count() == 4
    writer.close()


def test_locked_rollback_journal_file_while_browsing(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    kedro_viz_create(path)
    kedro_viz_save(path, kedro_record(1))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StoreError) as info:
        store = SQLiteSessionStore(path, read_only=True, busy_timeout=0.2)
        store.count()
    assert "locked" in str(info.value) and "\n" not in str(info.value)
    blocker.execute("ROLLBACK")
    blocker.close()
    with SQLiteSessionStore(path, read_only=True) as store:
        assert store.count() == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
def test_wal_store_in_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "s.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(make_records(5))
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        with open_store(path) as store:
            assert store.count() == 5
    finally:
        folder.chmod(0o755)


# -- writes: atomic, crash-safe, concurrent -------------------------------------------------
def test_a_failure_inside_save_many_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    records = make_records(30)
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(records[:10])

        def failing() -> Any:
            yield from records[10:20]
            raise RuntimeError("the machine caught fire")

        with pytest.raises(RuntimeError):
            store.insert_many(failing())
        assert store.count() == 10
        store.insert_many(records[10:])
        assert store.count() == 30


CRASH_WRITER = """
import sys
import time
sys.path.insert(0, sys.argv[2])
from storetools import make_records
from sessionlens.stores import open_store
records = make_records(400, seed=3)
def slow():
    for n, record in enumerate(records):
        if n == 300:
            print("ready", flush=True)
            sys.stdin.readline()  # wait here, inside the transaction, to be killed
        yield record
with open_store(sys.argv[1], read_only=False) as store:
    store.insert_many(slow())
"""


def test_a_writer_killed_mid_transaction_leaves_the_old_data(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    old = make_records(20)
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(old)
    tests = str(Path(__file__).parent)
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_WRITER, str(path), tests],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open_store(path) as store:
        assert store.count() == 20
        assert {s.session_id for s in store.list_summaries(limit=None)} == {
            r["session_id"] for r in old
        }
    with open_store(path, read_only=False) as store:  # and it takes new writes
        store.insert(make_records(21)[20])
        assert store.count() == 21
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


CONCURRENT_WRITER = """
import sys
import time
sys.path.insert(0, sys.argv[3])
from sessionlens.stores import open_store
worker, n = int(sys.argv[2]), int(sys.argv[4])
with open_store(sys.argv[1], read_only=False, create=True) as store:
    for i in range(n):
        sid = f"2026-11-25T10.{worker:02d}.{i // 60:02d}.{i % 60:03d}Z"
        store.insert({"session_id": sid, "git": {"branch": f"w{worker}"},
                      "run": {"status": "running", "pid": 1, "hostname": "elsewhere"}})
        store.append_log(sid, f"worker {worker} run {i}\\n")
        if i % 2:
            store.update({"session_id": sid, "git": {"branch": f"w{worker}"},
                          "run": {"status": "success", "exit_code": 0}})
"""


def test_eight_processes_write_their_sessions_into_one_store(
    tmp_path: Path, long_torture: bool
) -> None:
    """8 processes inserting, logging and updating at once: every session there, whole. 200
    each (1,600) in a long torture run (``-m torture``), 50 each always."""
    n = 200 if long_torture else 50
    path = tmp_path / "shared.db"
    tests = str(Path(__file__).parent)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, str(path), str(w), tests, str(n)],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": SRC},
        )
        for w in range(8)
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    with open_store(path) as store:
        assert store.count() == 8 * n
        assert store.count(parse_query("status:success")) == 4 * n
        for w in range(8):
            assert store.count(parse_query(f"branch:w{w}")) == n
        last = n - 1
        sid = f"2026-11-25T10.05.{last // 60:02d}.{last % 60:03d}Z"
        assert store.read_log(sid) == f"worker 5 run {last}\n"
    assert kedro_viz_read(path).keys() == {
        f"2026-11-25T10.{w:02d}.{i // 60:02d}.{i % 60:03d}Z" for w in range(8) for i in range(n)
    }


def test_store_is_safe_to_share_between_threads(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "s.db"
    records = make_records(64)
    with open_store(path, read_only=False, create=True) as store:

        def work(n: int) -> int:
            store.insert(records[n])
            store.append_log(records[n]["session_id"], "x\n")
            store.list_summaries(parse_query("branch:main"))
            return store.count()

        with ThreadPoolExecutor(8) as pool:
            counts = list(pool.map(work, range(64)))
        assert max(counts) == 64 == store.count()


def test_summary_from_index_equals_summary_from_record(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db", read_only=False, create=True) as store:
        store.insert_many(make_records(64))
        for summary in store.list_summaries(limit=None):
            record = store.get(summary.session_id)
            assert summary == SessionSummary.from_record(record)


def test_without_kedro_viz_details_it_agrees_with_the_memory_store(tmp_path: Path) -> None:
    """No user_run_details rows: title/bookmark terms, words and the title sort take the
    join-free path; the in-memory store (Python reference semantics) must agree."""
    records = make_records(64)
    memory = open_store("memory:", read_only=False)
    memory.insert_many(records)
    with open_store(tmp_path / "s.db", read_only=False, create=True) as store:
        store.insert_many(records)
        for text in ("title:x", "-title:x", "bookmark:no", "bookmark:yes", "train", "failed"):
            query = parse_query(text)
            assert store.count(query) == memory.count(query), text
            assert store.list_summaries(query, limit=None) == memory.list_summaries(
                query, limit=None
            )
        for descending in (True, False):
            query = parse_query("", sort="title", descending=descending)
            assert store.list_summaries(query, limit=None) == memory.list_summaries(
                query, limit=None
            )


TURN_TAKER = """
import sys, time
from pathlib import Path
from sessionlens.stores.writer_turns import WriterTurns
print("waiting", flush=True)
with WriterTurns(Path(sys.argv[1])).turn():
    print(time.time(), flush=True)
"""


def test_writers_take_turns_through_a_lock_file_outside_the_project(tmp_path: Path) -> None:
    """A writer's turn waits for another process's (the kernel queues them); the lock file is
    in the temporary directory, so nothing appears beside the store or in the project."""
    from sessionlens.stores.writer_turns import WriterTurns, lock_path

    path = tmp_path / "s.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert(make_records(1)[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]
    assert lock_path(path).exists() and lock_path(path).parent != tmp_path
    turns = WriterTurns(path)
    with turns.turn():
        other = subprocess.Popen(
            [sys.executable, "-c", TURN_TAKER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert other.stdout is not None and other.stdout.readline().strip() == "waiting"
        time.sleep(0.5)
        released = time.time()
    got_it = float(other.communicate(timeout=30)[0])
    turns.close()
    assert got_it >= released


FROZEN_WRITER = """
import os, signal, sys
from sessionlens.stores.sqlite_store import SQLiteSessionStore
store = SQLiteSessionStore(sys.argv[1])
with store._write():  # mid-transaction, holding its turn: frozen (ctrl-z, a debugger, SIGSTOP)
    print("in", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
"""

LATE_WRITER = """
import sys
from sessionlens.stores.sqlite_store import SQLiteSessionStore
try:
    store = SQLiteSessionStore(sys.argv[1], busy_timeout=0.5)
    store.insert({"session_id": "2026-11-25T09.44.01.000Z"})
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.mark.torture
def test_a_writer_frozen_in_its_turn_makes_others_give_up_after_their_busy_timeout(
    tmp_path: Path,
) -> None:
    """Before writer turns, a writer frozen mid-transaction made the others fail after their
    busy timeout with a clear message. Its flock must not make them wait for ever instead
    (every ``sessionlens run`` and Kedro run on the store would hang without a word)."""
    path = tmp_path / "s.db"
    SQLiteSessionStore(path, create=True).close()
    frozen = subprocess.Popen(
        [sys.executable, "-c", FROZEN_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert frozen.stdout is not None and frozen.stdout.readline() == "in\n"
        started = time.monotonic()
        late = subprocess.run(
            [sys.executable, "-c", LATE_WRITER, str(path)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        took = time.monotonic() - started
    finally:
        frozen.kill()
        os.kill(frozen.pid, signal.SIGCONT)
        frozen.wait()
        assert frozen.stdout is not None
        frozen.stdout.close()
    assert "StoreError" in late.stdout and "locked by another process" in late.stdout, late
    assert took < 8


def test_interrupt_abandons_the_reads_made_before_it_and_no_later_ones(tmp_path: Path) -> None:
    """The app interrupts the search of the text before the last key: a listing or count made
    before ``interrupt()`` raises a one-line StoreError (here it waits for the store's lock
    while the interrupt comes); one made after it answers."""
    import threading

    path = tmp_path / "s.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(make_records(30))
    store = open_store(path, read_only=True)
    query = parse_query("-status:success")
    expected = store.count(query)
    outcome: list[object] = []
    with store._lock:  # the call is made, then waits for the lock
        worker = threading.Thread(target=lambda: _try(outcome, store.list_summaries, query))
        worker.start()
        time.sleep(0.2)
        store.interrupt()
    worker.join(10)
    assert isinstance(outcome[0], StoreError) and "\n" not in str(outcome[0])
    assert store.count(parse_query("status:failed")) >= 0  # made after: answered
    assert len(store.list_summaries(query, limit=None)) == expected
    store.close()


def _try(outcome: list[object], call: Any, *args: Any) -> None:
    try:
        outcome.append(call(*args))
    except Exception as exc:  # the test looks at it
        outcome.append(exc)


def test_a_store_removed_between_its_check_and_its_open_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process deletes the file right after it was checked: a StoreError (the CLI's
    one line), not an SQLite exception (the CLI's "internal error", exit 70)."""
    from sessionlens.stores import sqlite_open

    path = tmp_path / "s.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(make_records(2))
    checked = sqlite_open.check_file

    def check_then_gone(*args: Any, **kwargs: Any) -> Any:
        found = checked(*args, **kwargs)
        path.unlink()
        return found

    monkeypatch.setattr(sqlite_open, "check_file", check_then_gone)
    with pytest.raises(StoreError):
        open_store(path, read_only=False)
