"""Helpers for the store tests: varied records, kedro-viz-like writes, store locations."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

#: The store kinds every backend-independent test runs against.
STORE_KINDS = ("memory", "shelve", "sqlite", "postgresql")


def store_location(kind: str, tmp_path: Path) -> str:
    """Where a fresh store of ``kind`` lives in tmp_path, as a spec ``open_store`` accepts (for
    PostgreSQL: a fresh database on the test server, the same one for the same tmp_path)."""
    if kind == "memory":
        return "memory:"
    if kind == "postgresql":
        from pgserver import database_for

        return database_for(str(tmp_path))
    if kind == "shelve":
        return f"shelve://{tmp_path / 'sessions'}"
    return f"sqlite://{tmp_path / 'sessions.db'}"


HOST = socket.gethostname()


def _dead_pid() -> int:
    """A pid that surely belonged to a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def make_records(n: int = 64, seed: int = 7) -> list[dict[str, Any]]:
    """Varied records: sessionlens runs of every status, Kedro 0.17/0.18/0.19 shapes, missing
    values, mixed case and non-ASCII text, parameters of every JSON type."""
    rng = random.Random(seed)
    dead = _dead_pid()
    branches = ["main", "Main", "feature/Ünïcode", "feature/offset-20", None]
    users = ["ana", "ANA", "bob", "Zoë", None]
    hosts = ["ws-1", "WS-2", HOST]
    records: list[dict[str, Any]] = []
    for i in range(n):
        day = 1 + i % 5
        sid = f"2026-11-0{day}T{10 + i % 12:02d}.{i % 60:02d}.{(i * 7) % 60:02d}.{i:03d}Z"
        sha = hashlib.sha1(str(rng.randrange(6)).encode()).hexdigest()
        git: dict[str, Any] = {"commit_sha": sha[:7], "commit_sha_full": sha}
        branch = branches[i % len(branches)]
        if branch is not None:
            git["branch"] = branch
        if i % 7:
            git["dirty"] = bool(i % 3)
        params: dict[str, Any] = {}
        if i % 4 != 3:
            params = {
                "scale": rng.choice([1, 3, 10]),
                "lr": rng.choice([0.1, 0.01]),
                "flag": rng.choice([True, False]),
                "name": rng.choice(["Alice", "bob", "Zoë"]),
                "model.depth": rng.choice([2, 4]),
                "cfg": {"b": [1, 2], "a": None},
                'odd"key': rng.choice(["1", "2"]),
            }
        record: dict[str, Any] = {"session_id": sid, "project_path": "/srv/Proj ect", "git": git}
        if i % 3 != 2:  # results: ties, ints, nested names; one of another shape
            record["metrics"] = {
                "accuracy": [0.5, 0.75, 0.9, 0.75][i % 4],
                "val": {"loss": round(1 / (1 + i % 5), 4)},
                "epochs": i % 4,
                "note": "text is not a metric",
            }
        elif i % 9 == 8:
            record["metrics"] = ["not", "a", "mapping"]
        user = users[i % len(users)]
        if user is not None:
            record["username"] = user
        kind = i % 8
        if kind < 5:  # sessionlens run
            status = ["success", "failed", "running", "running", "interrupted"][kind]
            pid = {2: os.getpid(), 3: dead}.get(kind, 4242)
            host = HOST if kind in (2, 3) else hosts[i % len(hosts)]
            run: dict[str, Any] = {
                "status": status,
                "started_at": f"2026-11-0{day}T{10 + i % 12:02d}:{i % 60:02d}:00.000Z",
                "pid": pid,
                "hostname": host,
                "command": ["python", "train.py", "--epochs", str(i % 3), "two words"],
            }
            if status not in ("running",):
                run["finished_at"] = run["started_at"].replace(":00.000Z", ":30.000Z")
                run["duration_s"] = [None, 1.5, 30.25, 0.0][i % 4]
                run["exit_code"] = {"success": 0, "failed": [1, 2][i % 2], "interrupted": -2}[
                    status
                ]
            if i % 6 == 0 and records:
                run["rerun_of"] = records[-1]["session_id"]
            record["run"] = run
            record["cli"] = {"command_name": "run", "args": [], "params": {"params": params}}
            if status == "failed":
                record["exception"] = {"type": "ValueError", "value": "boom", "traceback": ["x"]}
        elif kind == 5:  # kedro 0.18 shelve shape
            record["package_name"] = None
            record["cli"] = {
                "command_name": "run",
                "command_path": f"kedro run --Params scale:{i}",
                "args": [],
                "params": {"params": params, "tag": []},
            }
            record["extra_params"] = params
        elif kind == 6:  # kedro failure, Python API: no cli, runtime params only
            record["exception"] = {"type": "KedroSessionError", "value": "once", "traceback": []}
            record["runtime_params"] = params
            record["package_name"] = "demo"
        else:  # kedro 0.17 with a non-Kedro-format id: no username, no start time
            record["session_id"] = f"legacy-{i:03d}"
            record.pop("username", None)
        records.append(record)
    return records


DETAILS = {  # kedro-viz user_run_details for the sqlite store: (title, bookmark, notes)
    0: ("Baseline Ünïcode", 1, "first"),
    5: ("retry", 0, None),
    9: (None, 1, "bookmarked only"),
    13: ("TRAIN again", None, "n"),
    66: ("Mislaid run", 1, "its record is unreadable"),  # only when 67 records are given
}


def add_user_details(path: Path, records: list[dict[str, Any]]) -> None:
    """Write ``user_run_details`` rows the way kedro-viz does (another connection)."""
    conn = sqlite3.connect(path)
    with conn:
        for n, (index, (title, bookmark, notes)) in enumerate(DETAILS.items(), 1):
            if index >= len(records):
                continue
            conn.execute(
                "INSERT INTO user_run_details (id, run_id, bookmark, title, notes) "
                "VALUES (?, ?, ?, ?, ?)",
                (n, records[index]["session_id"], bookmark, title, notes),
            )
    conn.close()


def set_details_through_api(store: Any, records: list[dict[str, Any]]) -> None:
    """The same ``DETAILS`` through ``set_user_details``: what kedro-viz's rows mean in the
    SQLite store, in a backend that keeps them its own way (a field None is left unset)."""
    for index, (title, bookmark, notes) in DETAILS.items():
        if index < len(records):
            store.set_user_details(
                records[index]["session_id"],
                title=title,
                notes=notes,
                bookmark=None if bookmark is None else bool(bookmark),
            )


def add_details(store: Any, path: Path, records: list[dict[str, Any]]) -> None:
    """``DETAILS`` as each backend gets them: kedro-viz's rows (another connection) in the
    SQLite store, ``set_user_details`` elsewhere."""
    if store.kind == "sqlite":
        add_user_details(path / "sessions.db", records)
    else:
        set_details_through_api(store, records)


def leave_heartbeat(store: Any, session_id: str, at: float) -> None:
    """A heartbeat as a writer whose clock read ``at`` left it (another host, long ago): the
    backend's own ``heartbeat`` under that clock, and for shelve (whose heartbeat is the log
    file's mtime, set by the kernel) the mtime set to ``at``."""
    module = sys.modules[type(store).__module__]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "time", SimpleNamespace(time=lambda: at))
        store.heartbeat(session_id)
    if store.kind == "shelve":
        log = Path(store.location) / ".sessionlens" / "logs" / f"{session_id}.jsonl"
        os.utime(log, (at, at))


# -- hostile stores: rows and sessions that cannot be read, beside good ones ----------------------
def bomb_pickle() -> bytes:
    """254 bytes: ``x = [x, x]`` forty times. Forty lists when loaded; 2**40 nodes as a tree."""
    import pickle

    value: list[Any] = []
    for _ in range(40):
        value = [value, value]
    return pickle.dumps(value, protocol=4)


def hash_bomb_pickle() -> bytes:
    """``{t: 1}`` where ``t = (t, t)`` forty times: the loader itself hashes 2**40 tuples. Written
    by hand (pickling it would hash it)."""
    ops = bytearray(b"\x80\x04)\x94")  # PROTO 4, EMPTY_TUPLE, MEMOIZE
    for i in range(40):  # BINGET i, BINGET i, TUPLE2, MEMOIZE
        ops += b"h" + bytes([i]) + b"h" + bytes([i]) + b"\x86\x94"
    return bytes(ops + b"}h(K\x01s.")  # EMPTY_DICT, BINGET 40, BININT1 1, SETITEM, STOP


def deep_pickle(depth: int = 50_000) -> bytes:
    """A list nested ``depth`` deep, written opcode by opcode (the pickler would recurse)."""
    return b"\x80\x04" + b"]" * depth + b"a" * (depth - 1) + b"."


def good_viz_record(i: int) -> dict[str, Any]:
    """A kedro-viz record as kedro 0.19 + kedro-viz write it."""
    return {
        "session_id": f"2026-11-25T09.{i:02d}.00.000Z",
        "project_path": "/p",
        "username": "viz",
        "git": {"commit_sha": f"{i:07x}", "dirty": False, "branch": "main"},
        "cli": {"command_path": f"kedro run --params n={i}", "params": {"params": {"n": i}}},
    }


def _twice(value: Any) -> str:
    """kedro-viz's blob: the JSON of the JSON text."""
    import json

    return json.dumps(json.dumps(value))


def _json_string(text: str) -> str:
    import json

    return json.dumps(text)


#: label -> (session id, the raw ``runs.blob`` value, how to bind it: "text", "blob" or None)
HOSTILE_BLOBS: dict[str, tuple[str, Any, str | None]] = {
    "not-json": ("2026-11-25T10.00.01.000Z", "this is not JSON {", "text"),
    "invalid-utf8-text": (
        "2026-11-25T10.00.02.000Z",
        _twice({"username": "x"}).encode().replace(b"x", b"\xff\xfe"),
        "text",
    ),
    "invalid-utf8-blob": ("2026-11-25T10.00.03.000Z", b'"{\\"a\\": \\"\xc3\\"}"', "blob"),
    "wrong-types": (
        "2026-11-25T10.00.04.000Z",
        _twice({"run": {"status": "success", "started_at": 1700000000}}),
        "text",
    ),
    "deep-50k": ("2026-11-25T10.00.05.000Z", "[" * 50_000 + "]" * 50_000, "text"),
    "deep-50k-twice": (
        "2026-11-25T10.00.06.000Z",
        _json_string("[" * 50_000 + "]" * 50_000),
        "text",
    ),
    "not-an-object": ("2026-11-25T10.00.07.000Z", _twice([1, 2, 3]), "text"),
    "null": ("2026-11-25T10.00.08.000Z", None, None),
    "huge-exit-code": ("2026-11-25T10.00.09.000Z", _twice({"run": {"exit_code": 2**70}}), "text"),
}


def write_viz_rows(path: Path, rows: list[tuple[str, Any, str | None]]) -> None:
    """kedro-viz's tables (``KEDRO_VIZ_DDL``) with ``runs`` rows written as given, bytes and all:
    ``text`` binds the value as TEXT (bad UTF-8 kept as is), ``blob`` as a BLOB."""
    from sessionlens.stores.sqlite_schema import KEDRO_VIZ_DDL

    conn = sqlite3.connect(path)
    with conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():
            for ddl in KEDRO_VIZ_DDL:
                conn.execute(ddl)
        for session_id, blob, kind in rows:
            if kind == "text" and isinstance(blob, bytes):
                conn.execute("INSERT INTO runs VALUES (?, CAST(? AS TEXT))", (session_id, blob))
            else:
                conn.execute("INSERT INTO runs VALUES (?, ?)", (session_id, blob))
    conn.close()


def hostile_sqlite_store(path: Path, good: int = 4) -> tuple[list[str], dict[str, str]]:
    """A kedro-viz store with ``good`` readable sessions and every row of ``HOSTILE_BLOBS``,
    plus a title that is not UTF-8 on a good session. (good ids oldest first, label -> bad id)"""
    import json

    records = [good_viz_record(i) for i in range(good)]
    rows: list[tuple[str, Any, str | None]] = [
        (r["session_id"], json.dumps(json.dumps(r)), "text") for r in records
    ]
    rows += list(HOSTILE_BLOBS.values())
    write_viz_rows(path, rows)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO user_run_details (id, run_id, bookmark, title, notes) "
            "VALUES (1, ?, 1, CAST(? AS TEXT), 'fine')",
            (records[0]["session_id"], b"title \xff\xfe here"),
        )
        conn.execute(
            "INSERT INTO user_run_details (id, run_id, bookmark, title, notes) "
            "VALUES (2, ?, 0, 'bad but titled', NULL)",
            (HOSTILE_BLOBS["not-json"][0],),
        )
    conn.close()
    return [r["session_id"] for r in records], {k: v[0] for k, v in HOSTILE_BLOBS.items()}


def write_raw_shelve(session_dir: Path, values: dict[str, bytes]) -> None:
    """A Kedro shelve session (``dbm.dumb``) whose values are the given pickle bytes."""
    import dbm.dumb

    session_dir.mkdir(parents=True)
    with dbm.dumb.open(str(session_dir / "store"), "c") as db:
        for key, value in values.items():
            db[key.encode()] = value


def hostile_shelve_store(folder: Path, good: int = 4) -> tuple[list[str], dict[str, str]]:
    """A Kedro shelve folder with ``good`` readable sessions and one of each kind that cannot
    be read: a refused class, a truncated pickle, the pickle bomb, a hash bomb, a cycle, 50k-deep
    nesting, a bad dbm file and a record with a key of the wrong type. (good ids, label -> id)"""
    import os
    import pickle

    ids = []
    for i in range(good):
        record = good_viz_record(i)
        write_raw_shelve(
            folder / record["session_id"],
            {k: pickle.dumps(v, protocol=4) for k, v in record.items()},
        )
        ids.append(record["session_id"])
    cycle: list[Any] = []
    cycle.append(cycle)
    bad = {
        "refused-class": {"git": pickle.dumps(os.system, protocol=4)},
        "truncated": {"git": pickle.dumps({"commit_sha": "x" * 50}, protocol=4)[:20]},
        "bomb": {"git": bomb_pickle()},
        "hash-bomb": {"git": hash_bomb_pickle()},
        "cycle": {"git": pickle.dumps(cycle, protocol=4)},
        "deep-50k": {"git": deep_pickle()},
        "wrong-types": {"run": pickle.dumps({"started_at": 1700000000}, protocol=4)},
    }
    labels = {}
    for n, (label, values) in enumerate(bad.items(), 1):
        session_id = f"2026-11-25T10.00.{n:02d}.000Z"
        write_raw_shelve(folder / session_id, {"session_id": pickle.dumps(session_id), **values})
        labels[label] = session_id
    bad_dbm = folder / "2026-11-25T10.00.30.000Z"
    write_raw_shelve(bad_dbm, {"username": pickle.dumps("x")})
    (bad_dbm / "store.dir").write_text("'username', (0, 10\n((((((\n")
    labels["bad-dbm"] = bad_dbm.name
    return ids, labels


def database_rows(spec: str) -> dict[str, list[tuple]]:
    """Every row of every table of a PostgreSQL store, in order: what "changed nothing" means."""
    import psycopg

    with psycopg.connect(spec) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            t: conn.execute(f"SELECT t::text FROM {t} AS t ORDER BY 1").fetchall() for t in tables
        }
