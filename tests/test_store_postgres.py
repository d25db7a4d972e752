"""What the PostgreSQL store adds to the contract (``test_store_contract`` runs every contract
test against it too): live updates through LISTEN/NOTIFY and after a reconnect, the password
never shown, a newer schema refused, many writer processes, a writer killed mid-run, a run
that outlives a lost connection, and Kedro's store classes recording into a database.
Every test runs against a real server the tests start (``pgserver``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pgserver import PgServer, skip_reason, started_server
from sessionlens.errors import StoreError
from sessionlens.query import parse_query
from sessionlens.stores import detect_store, open_store
from sessionlens.stores.postgres_schema import SCHEMA_VERSION
from storetools import make_records


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def run_sql(uri: str, sql: str, *args: object) -> list[tuple]:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        cur = conn.execute(sql, args or None)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def store_uri(pg_database: str) -> str:
    open_store(pg_database, read_only=False).close()  # sets the tables up
    return pg_database


# -- live across machines --------------------------------------------------------------------
def test_a_write_from_another_connection_moves_the_token_within_a_second(store_uri: str) -> None:
    with open_store(store_uri) as reader, open_store(store_uri, read_only=False) as writer:
        token = reader.change_token()
        started = time.monotonic()
        writer.insert(make_records(1)[0])
        assert wait_for(lambda: reader.change_token() != token, 1.0)
        seen_after = time.monotonic() - started
        assert seen_after < 1.0
        assert reader.count() == 1
        token = reader.change_token()
        run_sql(store_uri, "NOTIFY sessionlens")  # any writer's NOTIFY, e.g. another tool
        assert wait_for(lambda: reader.change_token() != token, 1.0)


def test_after_the_listener_is_cut_off_a_new_write_is_still_seen(store_uri: str) -> None:
    with open_store(store_uri) as reader, open_store(store_uri, read_only=False) as writer:
        reader.change_token()
        listener = reader.listener
        assert listener is not None
        pid = listener.backend_pid
        run_sql(store_uri, "SELECT pg_terminate_backend(%s)", pid)
        assert wait_for(lambda: listener.reconnects >= 1, 5.0)
        token = reader.change_token()
        writer.insert(make_records(1)[0])
        assert wait_for(lambda: reader.change_token() != token, 2.0)
        assert reader.count() == 1


def test_the_stores_own_writes_move_its_token_once(store_uri: str) -> None:
    with open_store(store_uri, read_only=False) as store:
        token = store.change_token()
        store.insert(make_records(1)[0])
        after = store.change_token()
        assert after != token
        time.sleep(0.5)  # its own NOTIFY arrives too, and is not counted again
        assert store.change_token() == after


# -- the password ------------------------------------------------------------------------------
def test_describe_and_errors_never_show_the_password(pg_server: PgServer) -> None:
    secret = "s3cr3t-pw"
    uri = f"postgresql://nobody:{secret}@127.0.0.1:{pg_server.port}/nowhere"
    assert secret not in detect_store(uri).location
    assert secret not in repr(detect_store(uri))
    with pytest.raises(StoreError) as info:
        open_store(uri)
    message = str(info.value)
    assert secret not in message and "\n" not in message
    assert "127.0.0.1" in message and "nowhere" in message


@pytest.fixture(scope="module")
def password_server() -> Iterator[PgServer]:
    """A server that asks for a password (scram-sha-256)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    yield from started_server(auth="scram-sha-256", password="right-pw")


def test_a_password_server_with_the_right_and_the_wrong_password(
    password_server: PgServer,
) -> None:
    good = password_server.uri("postgres", password="right-pw")
    with open_store(good, read_only=False) as store:
        assert "right-pw" not in store.describe()
        assert store.describe().startswith("postgresql: postgresql://sessionlens:***@")
        store.insert(make_records(1)[0])
    bad = password_server.uri("postgres", password="wrong-pw")
    with pytest.raises(StoreError) as info:
        open_store(bad)
    message = str(info.value)
    assert "wrong-pw" not in message and "\n" not in message
    assert "password authentication failed" in message


# -- schema ------------------------------------------------------------------------------------
def test_a_newer_schema_is_refused_in_one_line(store_uri: str) -> None:
    run_sql(store_uri, "UPDATE sessionlens_meta SET value = '99' WHERE key = 'schema_version'")
    for read_only in (True, False):
        with pytest.raises(StoreError) as info:
            open_store(store_uri, read_only=read_only)
        message = str(info.value)
        assert "newer sessionlens" in message and "99" in message and "\n" not in message


def test_a_database_without_tables_is_not_set_up_by_a_reader(pg_database: str) -> None:
    with pytest.raises(StoreError) as info:
        open_store(pg_database)
    assert "no sessionlens tables" in str(info.value)
    assert run_sql(pg_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [
        (0,)
    ]


def test_migrations_run_once_when_many_open_a_new_database_at_once(pg_database: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def open_one(_: int) -> int:
        with open_store(pg_database, read_only=False) as store:
            return store.count()

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(open_one, range(8))) == [0] * 8
    assert run_sql(pg_database, "SELECT value FROM sessionlens_meta") == [(str(SCHEMA_VERSION),)]


def test_a_schema_2_database_gets_the_terms_index_from_the_next_writer(store_uri: str) -> None:
    """Schema 3 adds one index (multi-term filters counted index-only); a reader of a schema 2
    database still reads it, the next writer migrates it."""
    with open_store(store_uri, read_only=False) as store:
        store.insert_many(make_records(5))
    run_sql(store_uri, "DROP INDEX ix_sessionlens_sessions_terms")
    run_sql(store_uri, "UPDATE sessionlens_meta SET value = '2' WHERE key = 'schema_version'")
    query = parse_query("-status:success dirty:yes")
    with open_store(store_uri) as reader:
        before = reader.count(query)
        assert reader.count() == 5
    with open_store(store_uri, read_only=False) as writer:
        assert writer.count(query) == before
    assert run_sql(store_uri, "SELECT value FROM sessionlens_meta") == [(str(SCHEMA_VERSION),)]
    indexes = run_sql(store_uri, "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%terms'")
    assert indexes == [("ix_sessionlens_sessions_terms",)]


def test_read_only_sessions_cannot_write_even_by_hand(store_uri: str) -> None:
    with open_store(store_uri) as reader:
        conn = reader._conn  # the connection itself refuses: browsing cannot write
        import psycopg

        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM sessionlens_sessions")


# -- writers -----------------------------------------------------------------------------------
WRITER = """
import sys
from sessionlens.errors import SessionExistsError
from sessionlens.stores import open_store
spec, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open_store(spec, read_only=False) as store:
    for k in range(n):
        sid = f"2026-12-{1 + worker % 28:02d}T10.{worker:02d}.{k // 1000:02d}.{k % 1000:03d}Z"
        store.insert({"session_id": sid, "worker": worker, "run": {"status": "running"}})
        store.append_log(sid, f"worker {worker} session {k}\\n")
        store.update({"session_id": sid, "worker": worker, "run": {"status": "success"}})
"""


def test_sixteen_writer_processes_store_every_session(store_uri: str, long_torture: bool) -> None:
    """100 sessions each (1,600) in a long torture run (``-m torture``), 25 each always."""
    n = 100 if long_torture else 25
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store_uri, str(w), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(16)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 16, [err for _, err in outputs]
    with open_store(store_uri) as store:
        assert store.count() == 16 * n
        assert store.count(parse_query("status:success")) == 16 * n
        some = store.list_summaries(limit=1)[0].session_id
        assert store.read_log(some).startswith("worker ")


KILLED = """
import sys, time
from sessionlens.record import new_session_id
from sessionlens.stores import open_store
import os, socket
spec = sys.argv[1]
with open_store(spec, read_only=False) as store:
    sid = new_session_id()
    store.insert({"session_id": sid, "run": {"status": "running", "pid": os.getpid(),
                  "hostname": socket.gethostname(), "started_at": "2026-12-01T10:00:00Z"}})
    print(sid, flush=True)
    while True:
        store.append_log(sid, "tick\\n")
        time.sleep(0.01)
"""


def test_a_writer_killed_mid_run_leaves_a_readable_interrupted_session(store_uri: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, store_uri], stdout=subprocess.PIPE, text=True
    )
    sid = proc.stdout.readline().strip()
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    with open_store(store_uri) as store:
        assert store.get(sid)["run"]["status"] == "running"
        assert store.get_summary(sid).status == "interrupted"  # this host, its pid is gone
        assert store.count(parse_query("status:interrupted")) == 1
        assert store.read_log(sid).startswith("tick\n")


def test_a_lost_connection_keeps_the_log_and_never_stops_the_run(store_uri: str) -> None:
    record = make_records(1)[0]
    sid = record["session_id"]
    with open_store(store_uri, read_only=False) as store:
        store.insert(record)
        store.append_log(sid, "before\n")
        run_sql(store_uri, "SELECT pg_terminate_backend(%s)", store._conn.info.backend_pid)
        store.append_log(sid, "during\n")  # the connection was cut: no error, made again
        store.append_log(sid, "after\n")
        store.heartbeat(sid)
        assert store.read_log(sid) == "before\nduring\nafter\n"


def test_a_log_waits_in_memory_while_the_server_is_unreachable(store_uri: str) -> None:
    record = make_records(1)[0]
    sid = record["session_id"]
    with open_store(store_uri, read_only=False) as store:
        store.insert(record)
        real = store._conninfo
        store._conninfo = "postgresql://sessionlens@127.0.0.1:1/nowhere"  # the network is down
        run_sql(store_uri, "SELECT pg_terminate_backend(%s)", store._conn.info.backend_pid)
        store.append_log(sid, "one\n")
        store.append_log(sid, "two\n")
        with pytest.raises(StoreError):
            store.heartbeat(sid)  # the runner ignores a failed beat
        store._conninfo = real  # back
        store.append_log(sid, "three\n")
        assert store.read_log(sid) == "one\ntwo\nthree\n"


def test_kedro_store_classes_record_into_the_database(store_uri: str) -> None:
    """Kedro's store classes record into the database when ``path`` is its URI (the store
    classes work on a plain mapping: Kedro itself is not needed)."""
    from sessionlens.kedro import PostgresStore, SQLiteStore

    ids = ["2026-11-25T09.44.11.880Z", "2026-11-25T09.44.12.000Z"]
    for klass, sid in zip((SQLiteStore, PostgresStore), ids, strict=True):
        assert klass.store_spec(store_uri, "/project") == store_uri
        store = klass(store_uri, sid)
        assert store.store_uri() == store_uri
        assert store.read() == {}
        store.update({"project_path": Path("/project"), "username": "ana", "git": {}})
        store.save()
        assert store.read()["username"] == "ana"  # claimed here: read back
    with open_store(store_uri) as backend:
        assert {s.session_id for s in backend.list_summaries(limit=None)} == set(ids)
        assert all(backend.get(sid)["project_path"] == "/project" for sid in ids)


def test_postgres_store_class_needs_a_uri() -> None:
    from sessionlens.kedro import PostgresStore

    with pytest.raises(StoreError) as info:
        PostgresStore.store_spec("sessions", "/project")
    assert "postgresql://" in str(info.value)


def test_json_fidelity(store_uri: str) -> None:
    """The record comes back as saved: big floats stay floats, NUL characters are kept."""
    record = {"session_id": "2026-11-25T09.44.11.880Z", "x": 1e300, "nul": "a\x00b", "i": 2**70}
    with open_store(store_uri, read_only=False) as store:
        store.insert(record)
        assert store.get(record["session_id"]) == json.loads(json.dumps(record))


def test_a_session_with_a_long_incompressible_command_is_saved(store_uri: str) -> None:
    import random
    import string

    rng = random.Random(1)
    noise = "".join(rng.choice(string.ascii_letters) for _ in range(20_000))
    record = {
        "session_id": "2026-11-25T09.44.11.880Z",
        "run": {"status": "success", "command": ["python", noise]},
    }
    with open_store(store_uri, read_only=False) as store:
        store.insert(record)
        assert store.get_summary(record["session_id"]).command.endswith(noise[-10:])


def test_long_commands_and_params_sort_and_filter_as_the_reference(store_uri: str) -> None:
    """Indexes hold the first INDEXED_CHARS characters of a command or parameter; the order and
    the matches are still those of the whole text (``Query.sort_key``, ``Query.matches``)."""
    import random
    import string

    from sessionlens.stores.postgres_schema import INDEXED_CHARS

    rng = random.Random(2)
    common = "".join(rng.choice(string.ascii_lowercase) for _ in range(INDEXED_CHARS + 200))
    records = []
    for n, tail in enumerate(["c", "a", "b"]):
        value = common + tail + "".join(rng.choice(string.ascii_letters) for _ in range(5000))
        records.append(
            {
                "session_id": f"2026-11-25T09.44.1{n}.000Z",
                "run": {"status": "success", "command": ["python", value]},
                "cli": {"params": {"params": {"blob": value}}},
            }
        )
    with open_store(store_uri, read_only=False) as store:
        store.insert_many(records)
        for sort in ("command", "params"):
            for descending in (False, True):
                query = parse_query("", sort=sort, descending=descending)
                expected = sorted(
                    store.list_summaries(limit=None), key=query.sort_key, reverse=descending
                )
                got = store.list_summaries(query, limit=None)
                assert [s.session_id for s in got] == [s.session_id for s in expected]
        prefix = f"python {common}b"  # longer than the indexed part: the whole text decides
        (found,) = store.list_summaries(parse_query(f'command:"{prefix}"'), limit=None)
        assert found.session_id == records[2]["session_id"]
        short = parse_query(f'command:"python {common[:500]}"')  # the index's range
        assert store.count(short) == 3
        exact = parse_query(f"param.blob:={records[1]['cli']['params']['params']['blob']}")
        assert [s.session_id for s in store.list_summaries(exact)] == [records[1]["session_id"]]


def test_a_schema_1_database_is_refused_read_only_and_upgraded_read_write(store_uri: str) -> None:
    """Schema 2 added the archived mark listings read: a browser of an older database is told in
    one line to upgrade it (browsing never writes); the next writer migrates it."""
    with open_store(store_uri, read_only=False) as store:
        store.insert_many(make_records(3))
    run_sql(store_uri, "ALTER TABLE sessionlens_details DROP COLUMN archived")
    run_sql(store_uri, "UPDATE sessionlens_meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match=r"older sessionlens \(store schema 1\); open it once"):
        open_store(store_uri)
    with open_store(store_uri, read_only=False) as writer:
        assert writer.count() == 3
    with open_store(store_uri) as reader:
        assert reader.count() == 3


def test_schema_5_statistics_and_trigram_indexes_answer_free_words(store_uri: str) -> None:
    """Schema 5: name/value statistics and, where the server has pg_trgm (this one does), the
    trigram indexes a free word walks: its rows come from the indexes, not a scan."""
    stats = run_sql(store_uri, "SELECT stxname FROM pg_statistic_ext ORDER BY 1")
    assert [s[0] for s in stats] == [
        "st_sessionlens_metrics_value",
        "st_sessionlens_params_num",
        "st_sessionlens_params_value",
    ]
    indexes = run_sql(store_uri, "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'")
    assert sorted(i[0] for i in indexes) == [
        "ix_sessionlens_sessions_hay_trgm",
        "ix_sessionlens_sessions_params_trgm",
    ]
    with open_store(store_uri, read_only=False) as store:
        store.insert_many(make_records(30))
    import psycopg

    with psycopg.connect(store_uri, autocommit=True) as conn:
        conn.execute("ANALYZE")
        conn.execute("SET enable_seqscan = off")  # tiny tables: is the index usable at all?
        plan = conn.execute(
            "EXPLAIN SELECT 1 FROM sessionlens_sessions i WHERE i.hay LIKE '%zz9qq%' "
            "OR i.params_l LIKE '%zz9qq%'"
        ).fetchall()
    text = "\n".join(p[0] for p in plan)
    assert "ix_sessionlens_sessions_hay_trgm" in text and "params_trgm" in text, text
    with open_store(store_uri) as store:
        assert store.count(parse_query("zz9qq")) == 0


def test_imports_write_on_connections_of_their_own_closed_with_the_store(store_uri: str) -> None:
    """``copy`` imports two batches at once, each on a connection of its own; closing the
    store closes them."""
    from concurrent.futures import ThreadPoolExecutor

    from sessionlens.stores.base import SessionCopy

    records = make_records(40)
    ids = {r["session_id"] for r in records}
    with open_store(store_uri, read_only=False) as store:
        halves = [records[:20], records[20:]]
        with ThreadPoolExecutor(2) as pool:
            list(
                pool.map(
                    lambda part: store.import_sessions([SessionCopy(r, [], {}) for r in part]),
                    halves,
                )
            )
        assert store.existing_ids(ids) == ids
        assert 1 <= len(store._spare) <= 2
    sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 10  # a backend ends a moment after its client left
    while run_sql(store_uri, sql) != [(0,)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run_sql(store_uri, sql) == [(0,)]
