"""The runner: real child processes, real SQLite logs, real signals."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from sessionlens.launch import cli_record
from sessionlens.runner import RunningSession
from sessionlens.session import Session
from sessionlens.stores.base import LogChunk
from sessionlens.stores.sqlite_store import SQLiteSessionStore
from sessiontools import make_repo, pid_alive

PY = sys.executable


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sessions.db"


@pytest.fixture
def store(db: Path) -> SQLiteSessionStore:
    s = SQLiteSessionStore(db, create=True)
    yield s
    s.close()


def script(repo: Path, name: str, body: str) -> list[str]:
    path = repo / name
    path.write_text(textwrap.dedent(body))
    return [PY, str(path)]


def reread(db: Path, session_id: str) -> tuple[dict, list[LogChunk]]:
    with SQLiteSessionStore(db, read_only=True) as again:
        return again.get(session_id), list(again.iter_log(session_id))


# -- streaming and logging ---------------------------------------------------------------------
def test_streams_both_streams_to_log_and_callback(
    repo: Path, store: SQLiteSessionStore, db: Path
) -> None:
    argv = script(
        repo,
        "both.py",
        """
        import sys
        for i in range(5):
            print(f"out {i}")
            print(f"err {i}", file=sys.stderr)
        print("unicode: é ✓")
        """,
    )
    seen: list[LogChunk] = []
    session = Session.create(repo, store)
    running = session.start(argv, on_output=seen.extend)
    record = running.wait()
    session.close()
    assert record["run"]["status"] == "success"
    assert record["run"]["exit_code"] == 0
    _, log = reread(db, session.session_id)
    stdout = "".join(c.text for c in log if c.stream == "stdout")
    stderr = "".join(c.text for c in log if c.stream == "stderr")
    assert stdout == "".join(f"out {i}\n" for i in range(5)) + "unicode: é ✓\n"
    assert stderr == "".join(f"err {i}\n" for i in range(5))
    assert "".join(c.text for c in seen if c.stream == "stdout") == stdout
    assert "".join(c.text for c in seen if c.stream == "stderr") == stderr


def test_running_status_saved_before_child_starts(
    repo: Path, store: SQLiteSessionStore, db: Path
) -> None:
    """The child reads the store through sessionlens and checks its own record says running."""
    argv = script(
        repo,
        "check.py",
        f"""
        import os, sys
        from sessionlens.stores.sqlite_store import SQLiteSessionStore
        with SQLiteSessionStore({str(db)!r}, read_only=True) as store:
            record = store.get(os.environ["SESSIONLENS_SESSION_ID"])
        run = record["run"]
        print("my status:", run["status"], "pid", run["pid"])
        ok = run["status"] == "running" and run["finished_at"] is None
        ok = ok and run["command"][-1].endswith("check.py")
        sys.exit(0 if ok else 3)
        """,
    )
    session = Session.create(repo, store)
    running = session.start(argv)
    record = running.wait()
    session.close()
    saved, log = reread(db, session.session_id)
    text = "".join(c.text for c in log)
    assert "my status: running" in text, text
    assert record["run"]["exit_code"] == 0
    assert saved["run"]["status"] == "success"


def test_exit_code_passes_through(repo: Path, store: SQLiteSessionStore, db: Path) -> None:
    session = Session.create(repo, store)
    assert session.run([PY, "-c", "import sys; sys.exit(7)"], echo=False) == 7
    session.close()
    saved, _ = reread(db, session.session_id)
    assert saved["run"]["status"] == "failed"
    assert saved["run"]["exit_code"] == 7
    assert saved["run"]["command"] == [PY, "-c", "import sys; sys.exit(7)"]
    assert saved["run"]["finished_at"] >= saved["run"]["started_at"]


def test_child_environment(repo: Path, store: SQLiteSessionStore) -> None:
    params = {"scale": 3, "fail": False, "name": "x"}
    session = Session.create(repo, store, cli=cli_record(["child"], params))
    out: list[LogChunk] = []
    code = session.run(
        [
            PY,
            "-c",
            "import os, json; print(json.dumps({k: v for k, v in os.environ.items() "
            "if k.startswith(('SESSIONLENS_', 'PYTHONUNBUFFERED', 'EXTRA'))}))",
        ],
        echo=False,
        on_output=out.extend,
        env={"EXTRA": "1"},
    )
    session.close()
    assert code == 0
    env = json.loads("".join(c.text for c in out))
    assert env["SESSIONLENS_SESSION_ID"] == session.session_id
    assert json.loads(env["SESSIONLENS_PARAMS"]) == params
    assert env["SESSIONLENS_STORE"] == store.location
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["EXTRA"] == "1"


def test_keys_the_child_joins_to_its_record_are_kept(
    repo: Path, store: SQLiteSessionStore, db: Path
) -> None:
    """A child writing into its own record (as a Kedro run with our store does) is not undone."""
    argv = script(
        repo,
        "join.py",
        """
        import os
        from sessionlens.stores import open_store

        with open_store(os.environ["SESSIONLENS_STORE"], read_only=False) as store:
            record = store.get(os.environ["SESSIONLENS_SESSION_ID"])
            record["kedro_session_id"] = "2026-01-01T00.00.00.000Z"
            record["exception"] = {"type": "ValueError", "value": "boom", "traceback": []}
            store.update(record)
        raise SystemExit(3)
        """,
    )
    session = Session.create(repo, store)
    assert session.run(argv, echo=False) == 3
    session.close()
    saved, _ = reread(db, session.session_id)
    assert saved["kedro_session_id"] == "2026-01-01T00.00.00.000Z"
    assert saved["exception"]["value"] == "boom"
    assert saved["run"]["status"] == "failed"
    assert saved["run"]["exit_code"] == 3


def test_command_that_cannot_start(repo: Path, store: SQLiteSessionStore, db: Path) -> None:
    session = Session.create(repo, store)
    running = session.start(["definitely-not-a-command-xyz"])
    record = running.wait()
    session.close()
    assert running.exit_code == 127
    assert record["run"]["status"] == "failed"
    saved, _ = reread(db, session.session_id)
    assert saved["run"]["exit_code"] == 127
    assert saved["exception"]["type"] == "FileNotFoundError"


def test_flood_every_line_logged(repo: Path, store: SQLiteSessionStore, db: Path) -> None:
    lines = 200_000
    argv = script(
        repo,
        "flood.py",
        f"""
        import sys
        w = sys.stdout.write
        for i in range({lines}):
            w(f"line {{i}} of the flood\\n")
        print("tail", file=sys.stderr)
        """,
    )
    batches = []
    session = Session.create(repo, store)
    running = session.start(argv, on_output=batches.append, env={"PYTHONUNBUFFERED": "0"})
    running.wait()
    session.close()
    _, log = reread(db, session.session_id)
    stdout = "".join(c.text for c in log if c.stream == "stdout").splitlines()
    assert len(stdout) == lines
    assert stdout[0] == "line 0 of the flood" and stdout[-1] == f"line {lines - 1} of the flood"
    assert stdout == [f"line {i} of the flood" for i in range(lines)]
    assert "".join(c.text for c in log if c.stream == "stderr") == "tail\n"
    # read in big chunks: far fewer batches than lines, and far fewer log rows than batches
    assert len(batches) < lines / 50
    assert len(log) <= len(batches) + 2


def test_log_flushed_while_child_runs(repo: Path, store: SQLiteSessionStore, db: Path) -> None:
    """A quiet child's early output reaches the store within about a second (crash safety)."""
    argv = script(
        repo,
        "slow.py",
        """
        import time
        print("early line")
        time.sleep(30)
        """,
    )
    session = Session.create(repo, store)
    running = session.start(argv, grace_period=1.0)
    try:
        deadline = time.monotonic() + 10
        seen = ""
        while time.monotonic() < deadline and "early line" not in seen:
            time.sleep(0.1)
            seen = "".join(c.text for c in reread(db, session.session_id)[1])
        assert "early line" in seen
        assert not running.done
    finally:
        running.interrupt()
        running.wait()
        session.close()


def test_split_multibyte_characters_are_kept_whole(repo: Path, store: SQLiteSessionStore) -> None:
    argv = script(
        repo,
        "split.py",
        """
        import os, time
        data = "héllo ✓\\n".encode()
        os.write(1, data[:2]); time.sleep(0.15); os.write(1, data[2:8]); time.sleep(0.15)
        os.write(1, data[8:])
        """,
    )
    out: list[LogChunk] = []
    with Session.create(repo, store) as session:
        session.run(argv, echo=False, on_output=out.extend)
    assert "".join(c.text for c in out) == "héllo ✓\n"
    assert store.read_log(session.session_id) == "héllo ✓\n"


def test_iter_output_queue(repo: Path, store: SQLiteSessionStore) -> None:
    session = Session.create(repo, store)
    running = RunningSession(
        session, [PY, "-c", "print('a'); print('b')"], queue_output=True
    ).start()
    text = "".join(chunk.text for batch in running.iter_output(timeout=10) for chunk in batch)
    assert text == "a\nb\n"
    assert running.wait()["run"]["status"] == "success"
    session.close()


# -- interrupting -------------------------------------------------------------------------------
GRANDCHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("grandchild", child.pid, flush=True)
time.sleep(60)
"""


def _wait_for(running: RunningSession, needle: str, out: list[LogChunk]) -> str:
    """The text up to the end of the first whole line holding ``needle``: output arrives in
    chunks that may end mid-line (under load, "grandchild" came before its pid)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = "".join(c.text for c in out)
        at = text.find(needle)
        if at >= 0 and "\n" in text[at:]:
            return text[at : text.index("\n", at)]
        time.sleep(0.02)
    raise AssertionError(f"{needle!r} never printed")


def test_interrupt_sigint_records_interrupted_and_leaves_no_orphan(
    repo: Path, store: SQLiteSessionStore, db: Path
) -> None:
    argv = script(repo, "gc.py", GRANDCHILD)
    out: list[LogChunk] = []
    session = Session.create(repo, store)
    running = session.start(argv, on_output=out.extend)
    text = _wait_for(running, "grandchild", out)
    grandchild = int(text.split()[1])
    child = running.pid
    assert child is not None and pid_alive(grandchild)
    running.interrupt()
    record = running.wait(timeout=20)
    session.close()
    assert record["run"]["status"] == "interrupted"
    assert record["run"]["signal"] == "SIGINT" or record["run"]["exit_code"] != 0
    saved, log = reread(db, session.session_id)
    assert saved["run"]["status"] == "interrupted"
    assert "KeyboardInterrupt" in "".join(c.text for c in log)  # SIGINT reached the child
    deadline = time.monotonic() + 5
    while pid_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(grandchild)
    assert not pid_alive(child)


def test_interrupt_escalates_to_sigterm_and_sigkill(repo: Path, store: SQLiteSessionStore) -> None:
    argv = script(
        repo,
        "stubborn.py",
        """
        import signal, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring", flush=True)
        time.sleep(60)
        """,
    )
    out: list[LogChunk] = []
    session = Session.create(repo, store)
    running = session.start(argv, on_output=out.extend, grace_period=0.3, kill_after=0.3)
    _wait_for(running, "ignoring", out)
    started = time.monotonic()
    running.interrupt()
    record = running.wait(timeout=20)
    session.close()
    assert record["run"]["status"] == "interrupted"
    assert record["run"]["signal"] == "SIGKILL"
    assert record["run"]["exit_code"] == 128 + 9
    assert time.monotonic() - started < 10


def test_interrupt_from_another_thread_while_waiting(repo: Path, store: SQLiteSessionStore) -> None:
    session = Session.create(repo, store)
    running = session.start([PY, "-c", "import time; print('up', flush=True); time.sleep(60)"])
    threading.Timer(0.3, running.interrupt).start()
    record = running.wait(timeout=20)
    session.close()
    assert record["run"]["status"] == "interrupted"


def test_callback_errors_do_not_lose_the_log(repo: Path, store: SQLiteSessionStore) -> None:
    def broken(_chunks: list[LogChunk]) -> None:
        raise BrokenPipeError("terminal went away")

    with Session.create(repo, store) as session:
        code = session.run([PY, "-c", "print('kept')"], echo=False, on_output=broken)
    assert code == 0
    assert store.read_log(session.session_id) == "kept\n"


def test_rerun_of_is_recorded(repo: Path, store: SQLiteSessionStore) -> None:
    with Session.create(repo, store) as first:
        first.run([PY, "-c", "pass"], echo=False)
    with Session.create(repo, store, rerun_of=first.session_id) as again:
        again.run([PY, "-c", "pass"], echo=False)
    assert store.get(again.session_id)["run"]["rerun_of"] == first.session_id
    assert store.get(first.session_id)["run"]["rerun_of"] is None


def test_store_locked_at_the_end_keeps_the_outcome(repo: Path, db: Path) -> None:
    """Another writer holds the database past the busy timeout when the run ends: the runner
    reports it, the session still knows the outcome, and closing later saves it."""
    import sqlite3

    from sessionlens.errors import StoreError
    from sessionlens.stores import open_store

    store = open_store(str(db), read_only=False, create=True, busy_timeout=0.2)
    session = Session.create(repo, store)
    running = session.start([PY, "-c", "import time; time.sleep(0.5); print('finished')"])
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        record = running.wait(timeout=20)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert isinstance(running.error, StoreError)
    assert running.status == "success" and running.exit_code == 0
    assert record["run"]["status"] == "success"
    session.close()
    store.close()
    saved, _ = reread(db, session.session_id)
    assert saved["run"]["status"] == "success"
    assert saved["run"]["exit_code"] == 0
    assert "StoreError" in saved["run"]["save_error"]  # what happened to the record...
    assert "exception" not in saved  # ...is not an error of the run, which succeeded


# -- heartbeat ----------------------------------------------------------------------------------
def test_a_quiet_run_keeps_its_heartbeat_fresh(
    repo: Path, store: SQLiteSessionStore, db: Path
) -> None:
    """A child that prints nothing, then even closes its pipes (the runner then waits on the
    process alone), still gets a heartbeat at least every ``heartbeat_every`` seconds."""
    argv = script(
        repo,
        "quiet.py",
        """
        import os, time
        time.sleep(0.5)
        os.close(1); os.close(2)
        while not os.path.exists("release"):
            time.sleep(0.02)
        os._exit(0)
        """,
    )
    session = Session.create(repo, store)
    running = session.start(argv, heartbeat_every=0.2)
    beats: set[float] = set()
    try:
        with SQLiteSessionStore(db, read_only=True) as reader:
            deadline = time.monotonic() + 20
            while len(beats) < 8:  # ~0.5 s with open pipes, then with closed ones
                assert time.monotonic() < deadline, f"only {len(beats)} heartbeats"
                beat = reader.last_heartbeat(session.session_id)
                if beat is not None:
                    beats.add(beat)
                time.sleep(0.05)
            assert reader.get_summary(session.session_id).status == "running"
    finally:
        (repo / "release").touch()
        record = running.wait(timeout=20)
        session.close()
    assert record["run"]["status"] == "success"


#: a Python-API runner whose final save meets a full disk (RLIMIT_FSIZE 0 in this process, so
#: every write past 0 bytes fails) that frees up again a moment later
FULL_THEN_FREE = """
import json, os, resource, sys, time
from sessionlens.launch import launch
from sessionlens.stores import open_store

store = open_store(sys.argv[1], read_only=False, create=True)
child = "import os, time\\nwhile not os.path.exists('release'): time.sleep(0.01)"
running = launch([sys.executable, "-c", child], project_path=".", store=store)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
open("release", "w").close()
while (running.session.record.get("run") or {}).get("status") == "running":
    time.sleep(0.005)  # the outcome is known: its save is being refused
time.sleep(0.3)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
running.wait(timeout=30)
print(json.dumps({"error": repr(running.error), "status": running.status}))
"""


def test_a_refused_final_save_is_tried_again(repo: Path, tmp_path: Path) -> None:
    """The disk is full when the run ends and has room again 0.3 s later: the final record
    lands on a later try (it stayed ``running``, shown ``interrupted``)."""
    import subprocess

    from sessiontools import GIT_ENV

    (repo / "runner.py").write_text(FULL_THEN_FREE)
    db = tmp_path / "full.db"
    proc = subprocess.run(
        [PY, "runner.py", str(db)],
        cwd=repo,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"error": "None", "status": "success"}
    with SQLiteSessionStore(db, read_only=True) as reader:
        (summary,) = reader.list_summaries()
        record = reader.get(summary.session_id)
    assert summary.status == record["run"]["status"] == "success"
    assert record["run"]["exit_code"] == 0 and "save_error" not in record["run"]


def test_a_child_killed_from_outside_is_interrupted_and_takes_its_group(
    repo: Path, store: SQLiteSessionStore, db: Path
) -> None:
    """``kill -9`` of the child (a person, the OOM killer): the run was stopped, not broken -
    ``interrupted``, exit 137, signal SIGKILL - and what is left of its group goes with it."""
    argv = script(repo, "gc.py", GRANDCHILD)
    out: list[LogChunk] = []
    session = Session.create(repo, store)
    running = session.start(argv, on_output=out.extend)
    grandchild = int(_wait_for(running, "grandchild", out).split()[1])
    assert running.pid is not None
    os.kill(running.pid, signal.SIGKILL)
    record = running.wait(timeout=20)
    session.close()
    assert record["run"]["status"] == "interrupted"
    assert record["run"]["exit_code"] == 137 and record["run"]["signal"] == "SIGKILL"
    assert reread(db, session.session_id)[0]["run"]["status"] == "interrupted"
    deadline = time.monotonic() + 5
    while pid_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(grandchild)
