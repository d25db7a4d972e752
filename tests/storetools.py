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
STORE_KINDS = ("memory", "shelve", "sqlite")


def store_location(kind: str, tmp_path: Path) -> str:
    """Where a fresh store of ``kind`` lives in tmp_path, as a spec ``open_store`` accepts."""
    if kind == "memory":
        return "memory:"
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
}


def add_user_details(path: Path, records: list[dict[str, Any]]) -> None:
    """Write ``user_run_details`` rows the way kedro-viz does (another connection)."""
    conn = sqlite3.connect(path)
    with conn:
        for n, (index, (title, bookmark, notes)) in enumerate(DETAILS.items(), 1):
            conn.execute(
                "INSERT INTO user_run_details (id, run_id, bookmark, title, notes) "
                "VALUES (?, ?, ?, ?, ?)",
                (n, records[index]["session_id"], bookmark, title, notes),
            )
    conn.close()


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
