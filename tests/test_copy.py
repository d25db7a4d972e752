"""``sessionlens copy`` and ``copying.copy_sessions``: every direction between the backends with
the real Kedro/kedro-viz fixtures, field for field; idempotent, filtered, dry runs, resumed
after ``kill -9``; sources never written; bad destinations refused in one line."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessionlens.copying import copy_sessions
from sessionlens.errors import UnreadableSessionError
from sessionlens.query import parse_query
from sessionlens.stores import SessionStore, open_store
from sessionlens.stores.base import LogChunk
from sessionlens.stores.memory import MemoryStore
from sessiontools import assert_one_line_error, cli
from storetools import make_records, set_details_through_api, store_location

DATA = Path(__file__).parent / "data"
VIZ_DB = DATA / "kedro/kedro-0.19.15-kedro-viz-10.2.0-sqlitestore/.viz/session_store.db"
TRACKING_DB = DATA / "kedro-tracking/kedro-0.19.15-kedro-viz-10.2.0-tracking/.viz/session_store.db"
KEDRO_SHELVE = DATA / "kedro/kedro-0.18.14-shelvestore-dbm-dumb/sessions"

#: a record every backend saves and reads back as unreadable (a key of the wrong type)
BAD = {"session_id": "2026-11-03T10.30.00.500Z", "run": {"status": "success", "started_at": 5}}


def _fill(store: SessionStore, n: int = 12) -> None:
    """Sessions made by sessionlens: varied records, logs on both streams, details, one
    unreadable record."""
    records = make_records(n)
    store.insert_many([*records, BAD])
    for i, record in enumerate(records[:6]):
        for k in range(i + 1):
            store.append_log(record["session_id"], f"line {k} \x1b[31mred\x1b[0m\n")
            store.append_log(record["session_id"], f"err {k}\n", "stderr")
    set_details_through_api(store, records)


def make_source(kind: str, tmp_path: Path) -> str:
    """A source store of ``kind`` in tmp_path; its spec."""
    if kind == "viz":
        shutil.copy(VIZ_DB, tmp_path / "viz.db")
        return str(tmp_path / "viz.db")
    if kind == "tracking":
        shutil.copy(TRACKING_DB, tmp_path / "tracking.db")
        return str(tmp_path / "tracking.db")
    if kind == "kedro-shelve":
        shutil.copytree(KEDRO_SHELVE, tmp_path / "kedro-sessions")
        return f"shelve://{tmp_path / 'kedro-sessions'}"
    spec = {
        "sqlite": f"sqlite://{tmp_path / 'own.db'}",
        "shelve": f"shelve://{tmp_path / 'own'}",
        "postgresql": _postgres(tmp_path / "own"),
    }[kind]
    with open_store(spec, read_only=False, create=True) as store:
        _fill(store)
    return spec


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_same_sessions(src: SessionStore, dst: SessionStore, ids: list[str]) -> None:
    """Records as ``get`` returns them, logs chunk by chunk, details: equal."""
    for sid in ids:
        assert dst.get(sid) == src.get(sid), sid
        assert list(dst.iter_log(sid)) == list(src.iter_log(sid)), sid
        want = dict(src.user_details(sid))
        got = dict(dst.user_details(sid))
        if want.get("title") or want.get("notes") or want.get("bookmark"):
            assert got == want, sid
        else:
            assert not (got.get("title") or got.get("notes") or got.get("bookmark")), sid


def readable_ids(store: SessionStore) -> tuple[list[str], list[str]]:
    good, bad = [], []
    for s in store.list_summaries(None, limit=None):
        (bad if s.status == "unreadable" else good).append(s.session_id)
    return good, bad


def _postgres(where: Path) -> str:
    """A fresh database on the tests' PostgreSQL server (skipped where there is none)."""
    from pgserver import skip_reason

    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    return store_location("postgresql", where)


SOURCES = ["viz", "tracking", "kedro-shelve", "sqlite", "shelve", "postgresql"]
DESTS = ["sqlite", "shelve", "memory", "postgresql"]


@pytest.mark.parametrize("dst_kind", DESTS)
@pytest.mark.parametrize("src_kind", SOURCES)
def test_copy_every_direction_field_for_field(src_kind: str, dst_kind: str, tmp_path: Path) -> None:
    spec = make_source(src_kind, tmp_path)
    before = _fingerprint(tmp_path)
    if dst_kind == "postgresql":
        dst_spec = _postgres(tmp_path / "out")  # another database than a PostgreSQL source's
    else:
        dst_spec = {
            "sqlite": f"sqlite://{tmp_path / 'out' / 'dst.db'}",
            "shelve": f"shelve://{tmp_path / 'out' / 'dst'}",
            "memory": "memory:",
        }[dst_kind]
    problems: list[tuple[str, str]] = []
    with open_store(spec, tracking=False) as src:
        dst = open_store(dst_spec, read_only=False, create=True)
        try:
            good, bad = readable_ids(src)
            result = copy_sessions(src, dst, problem=lambda sid, why: problems.append((sid, why)))
            assert (result.copied, result.already, result.unreadable) == (len(good), 0, len(bad))
            assert [sid for sid, _ in problems] == bad
            assert sorted(dst.existing_ids(good + bad)) == sorted(good)
            assert_same_sessions(src, dst, good)
            # listings agree on what the details mean
            for text in ("bookmark:yes", "title:*a*"):
                query = parse_query(text, sort="id", descending=False)
                want = [s.session_id for s in src.list_summaries(query, limit=None)]
                got = [s.session_id for s in dst.list_summaries(query, limit=None)]
                assert got == [sid for sid in want if sid in good], text
            again = copy_sessions(src, dst)
            assert (again.copied, again.already, again.unreadable) == (0, len(good), len(bad))
            assert dst.count() == len(good)
        finally:
            dst.close()
    assert {k: v for k, v in _fingerprint(tmp_path).items() if not k.startswith("out")} == before


def test_kedro_viz_reads_details_copied_into_sqlite(tmp_path: Path) -> None:
    """The details of the kedro-viz fixture land in user_run_details as kedro-viz keeps them."""
    src = make_source("viz", tmp_path)
    proc = cli("copy", src, str(tmp_path / "shelf"), "--quiet")  # a path: a new SQLite file
    assert proc.returncode == 0, proc.stderr
    proc = cli("copy", f"sqlite://{tmp_path / 'shelf'}", f"shelve://{tmp_path / 'sh'}")
    assert proc.returncode == 0, proc.stderr
    proc = cli("copy", f"shelve://{tmp_path / 'sh'}", str(tmp_path / "back.db"))
    assert proc.returncode == 0, proc.stderr
    import sqlite3

    def rows(path: Path) -> list[tuple]:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(
                "SELECT run_id, bookmark, title, notes FROM user_run_details ORDER BY run_id"
            ).fetchall()
        finally:
            conn.close()

    assert rows(tmp_path / "back.db") == rows(VIZ_DB)


def test_cli_summary_idempotent_filter_and_json(tmp_path: Path) -> None:
    src = make_source("sqlite", tmp_path)
    dst = f"sqlite://{tmp_path / 'dst.db'}"
    proc = cli("copy", src, dst, "--filter", "bookmark:yes")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("2 copied, 0 already there, 0 unreadable in ")
    assert "sessions/s" in proc.stdout
    proc = cli("copy", src, dst, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["copied"], summary["already"], summary["unreadable"]) == (10, 2, 1)
    assert "2026-11-03T10.30.00.500Z" in proc.stderr  # the unreadable one, named
    proc = cli("copy", src, dst)
    assert proc.stdout.startswith("0 copied, 12 already there, 1 unreadable")
    assert proc.stderr.count("\n") == 1  # one line per unreadable session, no progress bar


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    src = make_source("sqlite", tmp_path)
    proc = cli("copy", src, str(tmp_path / "new.db"), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("12 would copy, 0 already there, 1 unreadable")
    assert not (tmp_path / "new.db").exists()
    cli("copy", src, str(tmp_path / "new.db"), "--filter", "status:failed")
    before = _fingerprint(tmp_path)
    proc = cli("copy", src, str(tmp_path / "new.db"), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert " would copy, " in proc.stdout and "0 already there" not in proc.stdout
    assert _fingerprint(tmp_path) == before


def test_bad_input_one_line(tmp_path: Path) -> None:
    src = make_source("sqlite", tmp_path)
    foreign = tmp_path / "foreign.db"
    foreign.write_text("not a database at all\n" * 100)
    before = foreign.read_bytes()
    assert_one_line_error(cli("copy", src, str(foreign)))
    assert foreign.read_bytes() == before
    import sqlite3

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    assert_one_line_error(cli("copy", src, str(other)), "not a session store")
    assert_one_line_error(cli("copy", src, src), "same store")
    assert_one_line_error(cli("copy", src, "memory:"), "memory")
    assert_one_line_error(cli("copy", str(tmp_path / "missing.db"), str(tmp_path / "x.db")))
    assert_one_line_error(cli("copy", src, str(tmp_path / "y.db"), "--filter", "nope:1"))
    assert not (tmp_path / "y.db").exists()


def test_resume_takes_up_a_partial_log_an_empty_claim_and_missing_details(tmp_path: Path) -> None:
    """What a copy killed between the steps of one session leaves in a shelve store."""
    src = open_store(make_source("shelve", tmp_path), tracking=False)
    dst = open_store(f"shelve://{tmp_path / 'dst'}", read_only=False, create=True)
    good, _ = readable_ids(src)
    logged = next(sid for sid in good if len(list(src.iter_log(sid))) >= 4)
    titled = next(sid for sid in good if src.user_details(sid).get("title"))
    first = list(src.iter_log(logged))[:3]
    for chunk in first:  # killed mid-log: no record yet
        dst.append_log(logged, chunk.text, chunk.stream)
    claimed = next(sid for sid in good if sid not in (logged, titled))
    (tmp_path / "dst" / claimed).mkdir()  # killed after claiming the id, before writing
    for chunk in src.iter_log(titled):  # killed between the record and its details
        dst.append_log(titled, chunk.text, chunk.stream)
    dst.insert(src.get(titled))
    result = copy_sessions(src, dst)
    assert (result.copied, result.already, result.repaired) == (len(good) - 1, 1, 1)
    assert_same_sessions(src, dst, good)
    foreign = "2026-11-05T21.04.32.036Z"
    other = MemoryStore()
    other.insert({"session_id": foreign})
    other.append_log(foreign, "theirs\n")
    dst.append_log(foreign, "ours\n")
    problems: list[str] = []
    result = copy_sessions(other, dst, problem=lambda sid, why: problems.append(why))
    assert result.unreadable == 1 and "different log" in problems[0]
    src.close()
    dst.close()


KILLED_COPY = """
import sys, time
from sessionlens.copying import copy_sessions
from sessionlens.stores import open_store
src = open_store(sys.argv[1], tracking=False)
dst = open_store(sys.argv[2], read_only=False, create=True, tracking=False)
def slowly(done, total):
    time.sleep(0.02)
copy_sessions(src, dst, batch=int(sys.argv[3]), progress=slowly)
"""


@pytest.mark.parametrize("dst_kind", ["sqlite", "shelve"])
def test_resume_after_sigkill(dst_kind: str, tmp_path: Path) -> None:
    spec = f"sqlite://{tmp_path / 'src.db'}"
    with open_store(spec, read_only=False, create=True) as store:
        records = make_records(400, seed=3)
        for i, r in enumerate(records):
            r["session_id"] = f"2026-10-01T00.00.{i // 1000:02d}.{i % 1000:03d}Z"
        store.insert_many(records)
        for r in records[::3]:
            for k in range(5):
                store.append_log(r["session_id"], f"chunk {k}\n", "stderr" if k % 2 else "stdout")
        set_details_through_api(store, records)
    dst = (
        f"sqlite://{tmp_path / 'dst.db'}" if dst_kind == "sqlite" else f"shelve://{tmp_path / 'd'}"
    )
    batch = "40" if dst_kind == "sqlite" else "5"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_COPY, spec, dst, batch], env=env)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                with open_store(dst, tracking=False) as reader:
                    if reader.count() >= 60:
                        break
            except Exception:  # not created yet
                continue
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with open_store(dst, tracking=False) as reader:  # readable as it was left
        partial = reader.count()
    assert 0 < partial < 400
    result = cli("copy", spec, dst, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["copied"] + summary["already"] == 400
    assert summary["already"] >= partial - 1
    with open_store(spec, tracking=False) as src, open_store(dst, tracking=False) as out:
        assert out.count() == 400
        assert_same_sessions(src, out, [r["session_id"] for r in records])
    again = json.loads(cli("copy", spec, dst, "--json").stdout)
    assert (again["copied"], again["already"]) == (0, 400)


def test_unreadable_sources_are_reported_and_skipped(tmp_path: Path, hostile_store) -> None:  # type: ignore[no-untyped-def]
    spec, good, bad = hostile_store
    proc = cli("copy", spec, str(tmp_path / "out.db"), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["copied"] == len(good)
    assert summary["unreadable"] == len(bad)
    assert len(proc.stderr.splitlines()) == len(bad)
    with open_store(str(tmp_path / "out.db")) as out:
        assert sorted(s.session_id for s in out.list_summaries(None, limit=None)) == sorted(good)
        for sid in bad.values():
            with pytest.raises((UnreadableSessionError, KeyError)):
                out.get(sid)


def test_memory_to_memory_through_the_api() -> None:
    src, dst = MemoryStore(), MemoryStore()
    _fill(src)
    src.append_log("orphan-log", "x\n")  # a log without a session is not a session
    result = copy_sessions(src, dst)
    good, _ = readable_ids(src)
    assert result.copied == len(good)
    assert_same_sessions(src, dst, good)
    assert list(dst.iter_log(good[0])) == list(src.iter_log(good[0]))
    assert LogChunk("x\n") not in list(dst.iter_log("orphan-log"))


@pytest.mark.parametrize("dst_kind", ["sqlite", "postgresql"])
def test_sqlite_source_moves_saved_rows_and_parses_the_rest(dst_kind: str, tmp_path: Path) -> None:
    """Between indexing stores ``copy`` moves a record's JSON and its index rows as saved;
    what cannot go that way is parsed: an unreadable record (reported), a record with an
    escaped lone surrogate (repaired on reading). A row another writer added after the index
    was made goes with the rows the read-only open derived for it. Both ways end field for
    field the same, filters too."""
    import sqlite3

    from sessionlens.stores.base import SavedSession

    path = tmp_path / "src.db"
    records = make_records(12)
    odd = {**make_records(1)[0], "session_id": "2026-11-03T11.00.00.000Z"}
    odd["run"] = {**odd.get("run", {}), "params": {"name": "lone \ud800 half"}}
    with open_store(f"sqlite://{path}", read_only=False, create=True) as store:
        store.insert_many([*records, odd, BAD])
        store.append_log(records[0]["session_id"], "hello\n")
        set_details_through_api(store, records)
    foreign = {**make_records(1)[0], "session_id": "2026-11-03T12.00.00.000Z"}
    conn = sqlite3.connect(path)
    with conn:  # as kedro-viz adds a run: a JSON string holding the JSON, no index row
        conn.execute(
            "INSERT INTO runs (id, blob) VALUES (?, ?)",
            (foreign["session_id"], json.dumps(json.dumps(foreign))),
        )
    conn.close()
    with open_store(f"sqlite://{path}", tracking=False) as src:
        kinds = {sid: type(item).__name__ for sid, item in src.iter_saved(None)}
        assert kinds.pop(BAD["session_id"]) == "str"
        assert kinds.pop(odd["session_id"]) == "dict"
        assert set(kinds.values()) == {"SavedSession"} and foreign["session_id"] in kinds
        some = [r["session_id"] for r in records[:3]] + [odd["session_id"]]
        by_id = dict(src.iter_saved(some))
        assert list(by_id) == some and isinstance(by_id[some[0]], SavedSession)
        dst_spec = (
            _postgres(tmp_path / "out")
            if dst_kind == "postgresql"
            else f"sqlite://{tmp_path / 'dst.db'}"
        )
        with open_store(dst_spec, read_only=False, create=True) as dst:
            result = copy_sessions(src, dst, batch=5)
            good, bad = readable_ids(src)
            assert (result.copied, result.unreadable) == (len(good), len(bad)) == (14, 1)
            assert_same_sessions(src, dst, good)
            for text in ("", "param.name:*half*", "metric.accuracy>0.5", "status:failed", "main"):
                query = parse_query(text, sort="id", descending=False)
                want = [s for s in src.list_summaries(query, limit=None) if s.session_id in good]
                assert dst.list_summaries(query, limit=None) == want, text
