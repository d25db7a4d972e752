"""Torture: many writers under CPU load, and writers killed at random moments, for every store
on disk. Run alone with ``pytest -m torture``; ``SESSIONLENS_TORTURE_REPEAT=10`` repeats each
scenario (``benchmarks/torture_writers.py`` prints the figures of such a run).
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessionlens.stores import open_store
from storetools import store_location
from torture import REPEAT, cpu_load, make_project, many_writers

pytestmark = pytest.mark.torture

KINDS = ["sqlite", "shelve"]


@pytest.mark.parametrize("kind", KINDS)
def test_sixteen_processes_record_their_sessions_under_load(
    kind: str, tmp_path: Path, long_torture: bool
) -> None:
    """16 processes (Python API) while two busy loops load the CPU: every session stored,
    distinct, none replaced, no error, every time. DESIGN.md's target, 100 sessions each
    (1,600), in a long torture run (``-m torture``); 15 each (240) always."""
    sessions = 100 if long_torture else 15
    for attempt in range(REPEAT):
        where = tmp_path / str(attempt)
        project = make_project(where / "project")
        spec = store_location(kind, where)
        with cpu_load():
            codes, ids, errors = many_writers(project, spec, processes=16, sessions=sessions)
        assert codes == [0] * 16, errors
        assert errors == []
        assert len(ids) == len(set(ids)) == 16 * sessions
        with open_store(spec) as store:
            assert store.count() == 16 * sessions
            listed = {s.session_id: s.status for s in store.list_summaries(limit=None)}
        assert listed.keys() == set(ids)
        assert set(listed.values()) == {"success"}


#: Loops forever: insert a session as running, append log lines, update it as finished; prints
#: "done <id> <lines>" after each finished session has been saved, so the test knows what was
#: committed before it kills the process.
KILLABLE_WRITER = """
import sys
from sessionlens.stores import open_store
spec, worker = sys.argv[1], int(sys.argv[2])
with open_store(spec, read_only=False) as store:
    for i in range(10**6):
        sid = f"2026-11-25T{worker:02d}.{i // 60000 % 60:02d}.{i // 1000 % 60:02d}.{i % 1000:03d}Z"
        record = {"session_id": sid, "worker": worker, "n": i,
                  "run": {"status": "running", "pid": 1, "hostname": "elsewhere"}}
        store.insert(record)
        for line in range(3):
            store.append_log(sid, f"{sid} line {line}\\n")
        record["run"] = {"status": "success", "exit_code": 0}
        store.update(record)
        print("done", sid, flush=True)
"""


def kill_writers_at_random(spec: str, rng: random.Random, seconds: float) -> tuple[set[str], int]:
    """Six writers; every few tenths of a second one is SIGKILLed and replaced. The sessions
    they reported done, and how many kills there were."""
    done: set[str] = set()
    workers: dict[int, subprocess.Popen[str]] = {}

    def start(worker: int) -> None:
        workers[worker] = subprocess.Popen(
            [sys.executable, "-c", KILLABLE_WRITER, spec, str(worker)],
            stdout=subprocess.PIPE,
            text=True,
        )

    def kill(worker: int) -> None:
        proc = workers.pop(worker)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        done.update(line.split()[1] for line in out.splitlines() if line.startswith("done"))

    for worker in range(6):
        start(worker)
    kills, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(0.05, 0.4))
        kill(rng.choice(list(workers)))
        kills += 1
        start(6 + kills)
    for worker in list(workers):
        kill(worker)
    return done, kills


@pytest.mark.parametrize("kind", KINDS)
def test_writers_killed_at_random_moments_leave_a_sound_store(kind: str, tmp_path: Path) -> None:
    """Writers SIGKILLed at random moments under load. Afterwards the store opens, every
    session reported done is there whole with its whole log, a killed writer's last session is
    absent or its last saved version, and each stored log is a prefix of what was written."""
    rng = random.Random(8)
    for attempt in range(REPEAT):
        spec = store_location(kind, tmp_path / str(attempt))
        open_store(spec, read_only=False, create=True).close()
        with cpu_load(1):
            done, kills = kill_writers_at_random(spec, rng, seconds=6)
        assert kills >= 10 and len(done) >= 10
        if kind == "sqlite":
            path = spec.split("://", 1)[1]
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            except sqlite3.OperationalError as exc:  # a hot journal: a writer must roll it back
                assert "readonly" in str(exc)
            finally:
                conn.close()
        with open_store(spec) as store:  # browsing copes with what a kill left
            assert done <= {s.session_id for s in store.list_summaries(limit=None)}
        with open_store(spec, read_only=False) as store:  # and so does the next writer
            stored = {s.session_id: s for s in store.list_summaries(limit=None)}
            assert done <= stored.keys()
            for session_id, summary in stored.items():
                record = store.get(session_id)
                lines = [f"{session_id} line {n}\n" for n in range(3)]
                log = store.read_log(session_id)
                assert lines[: log.count("\n")] == log.splitlines(keepends=True)
                if session_id in done:
                    assert summary.status == "success" and record["run"]["exit_code"] == 0
                    assert log == "".join(lines)
                else:  # the session a kill interrupted: its last saved version, whole
                    assert record["run"] in (
                        {"status": "running", "pid": 1, "hostname": "elsewhere"},
                        {"status": "success", "exit_code": 0},
                    )
