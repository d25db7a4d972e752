"""``sessionlens.kedro`` stores and hooks, driven the way Kedro drives them, in this Python.

These run with or without Kedro installed (without it the stores keep Kedro's contract on a
stand-in base). The calls mirror ``KedroSession``: the constructor ``Store(path, session_id)``,
``update()`` with the session data at ``create()``, the pipeline hooks with Kedro's
``run_params``, ``store["exception"]`` from ``__exit__`` and ``save()`` from ``close()``. The
whole thing against a real Kedro is in ``test_kedro_project.py``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from sessionlens.kedro import ShelveStore, SQLiteStore
from sessionlens.kedro.hooks import SessionLensHooks
from sessionlens.kedro.store import live_store
from sessionlens.stores import open_store

HOOKS = SessionLensHooks()
SID = "2026-11-25T09.44.11.880Z"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project in a git repo with one commit on ``main``."""
    root = tmp_path / "project"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "t@example.com")
    _git(root, "config", "user.name", "T")
    (root / "pyproject.toml").write_text('[tool.kedro]\npackage_name = "demo"\n')
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "init")
    return root


def kedro_session_data(root: Path, session_id: str = SID, **extra: Any) -> dict[str, Any]:
    """What ``KedroSession.create`` puts in the store (Kedro 1.x, from ``kedro run``)."""
    data: dict[str, Any] = {
        "project_path": root,  # a Path, as Kedro gives it
        "session_id": session_id,
        "cli": {
            "args": [],
            "params": {"params": {"factor": 0}, "tags": (), "pipelines": ()},
            "command_name": "run",
            "command_path": "kedro run --params factor=0",
        },
        "username": "ana",
        "git": {"commit_sha": _git(root, "rev-parse", "--short", "HEAD"), "dirty": False},
    }
    data.update(extra)
    return data


def run_params(session_id: str = SID, key: str = "run_id") -> dict[str, Any]:
    """Kedro's ``run_params``: ``run_id`` in 1.x, ``session_id`` in 0.17-0.19."""
    return {key: session_id, "project_path": "/x", "kedro_version": "1.7.0", "env": None}


def viz_rows(db: Path) -> dict[str, dict[str, Any]]:
    """The store as kedro-viz reads it: sqlite3, ``json.loads(json.loads(blob))``."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT id, blob FROM runs").fetchall()
    return {row_id: json.loads(json.loads(blob)) for row_id, blob in rows}


def exception_of(error: BaseException) -> dict[str, Any]:
    try:
        raise error
    except BaseException as exc:
        return {
            "type": type(exc).__qualname__,
            "value": str(exc),
            "traceback": traceback.format_tb(exc.__traceback__),
        }


# -- importing ----------------------------------------------------------------------------
def test_importing_sessionlens_and_its_kedro_package_does_not_import_kedro() -> None:
    code = (
        "import sys, sessionlens, sessionlens.kedro\n"
        "assert 'kedro' not in sys.modules, 'kedro imported'\n"
        "print(sorted(sessionlens.kedro.__all__))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert "SQLiteStore" in out and "ShelveStore" in out


# -- Kedro's store contract -----------------------------------------------------------------
def test_sqlite_store_keeps_kedros_contract_and_kedro_viz_layout(repo: Path) -> None:
    store = SQLiteStore(str(repo / ".viz"), SID)
    assert isinstance(store, MutableMapping)
    assert store.read() == {} and dict(store) == {}  # a new session starts empty
    store.update(kedro_session_data(repo))
    store.save()

    db = repo / ".viz" / "session_store.db"
    rows = viz_rows(db)
    assert list(rows) == [SID]
    record = rows[SID]
    assert record["project_path"] == str(repo)  # a Path is stored as text, as kedro-viz does
    assert record["cli"]["params"]["tags"] == []
    assert record["git"]["commit_sha"] == _git(repo, "rev-parse", "--short", "HEAD")
    with sqlite3.connect(db) as conn:
        (blob,) = conn.execute("SELECT blob FROM runs").fetchone()
        assert json.loads(json.loads(blob))["session_id"] == SID  # encoded twice
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "user_run_details"} <= tables

    # Kedro's read(): a store made again for the same session id sees what was saved
    again = SQLiteStore(str(repo / ".viz"), SID)
    assert again["username"] == "ana"
    assert again["git"]["branch"] == "main"


def test_sqlite_path_may_name_the_database_file(repo: Path) -> None:
    store = SQLiteStore(str(repo / "runs.sqlite"), SID)
    store.update(kedro_session_data(repo))
    store.save()
    assert list(viz_rows(repo / "runs.sqlite")) == [SID]
    assert store.store_uri() == f"sqlite://{repo / 'runs.sqlite'}"


def test_relative_path_is_taken_from_the_project_root(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # e.g. `kedro run` started in a sub-folder
    store = SQLiteStore("data", SID)
    store.update(kedro_session_data(repo))
    store.save()
    assert (repo / "data" / "session_store.db").is_file()
    assert not (elsewhere / "data").exists()
    assert SQLiteStore.store_spec("data", repo) == f"sqlite://{repo / 'data' / 'session_store.db'}"
    assert SQLiteStore.store_spec(None, repo) == (
        f"sqlite://{repo / 'sessions' / 'session_store.db'}"  # Kedro's default path
    )


# -- a run, as the hooks see it -----------------------------------------------------------------
def test_running_record_is_saved_at_pipeline_start_then_completed_once(repo: Path) -> None:
    db = repo / ".viz" / "session_store.db"
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    assert live_store(SID) is store

    HOOKS.before_pipeline_run(run_params=run_params())
    live = viz_rows(db)[SID]  # visible to a browser while the pipeline runs
    assert live["run"]["status"] == "running"
    assert live["run"]["pid"] == os.getpid()
    assert live["run"]["hostname"] == socket.gethostname()
    assert live["run"]["finished_at"] is None
    assert live["git"]["branch"] == "main"
    assert live["git"]["commit_sha_full"] == _git(repo, "rev-parse", "HEAD")
    assert live["environment"]["kedro"] == "1.7.0"

    HOOKS.after_pipeline_run(run_params=run_params())
    store.save()  # KedroSession.close()
    rows = viz_rows(db)
    assert list(rows) == [SID]  # three writes, one session
    run = rows[SID]["run"]
    assert run["status"] == "success"
    assert run["started_at"] <= run["finished_at"]
    assert run["duration_s"] >= 0
    assert "exception" not in rows[SID]


def test_log_records_of_the_run_are_kept_once_with_the_session(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node_logger = logging.getLogger("lens_test.pipeline")
    monkeypatch.setattr(node_logger, "level", logging.INFO)
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    node_logger.info("before the run")
    HOOKS.before_pipeline_run(run_params=run_params())
    node_logger.info("Running node: scale")
    node_logger.warning("slow dataset")
    HOOKS.after_pipeline_run(run_params=run_params())
    node_logger.info("after the run")
    store.save()
    with open_store(str(repo / ".viz" / "session_store.db")) as reader:
        log = reader.read_log(SID)
    assert log.count("Running node: scale") == 1
    assert "WARNING  lens_test.pipeline: slow dataset" in log
    assert "before the run" not in log and "after the run" not in log


@pytest.mark.parametrize("key", ["run_id", "session_id"])
def test_pipeline_error_is_recorded_in_kedros_shape(repo: Path, key: str) -> None:
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    HOOKS.before_pipeline_run(run_params=run_params(key=key))
    try:
        raise ValueError("y is zero")
    except ValueError as error:
        HOOKS.on_pipeline_error(error=error, run_params=run_params(key=key))
    record = viz_rows(repo / ".viz" / "session_store.db")[SID]  # saved before close
    assert record["run"]["status"] == "failed"
    assert record["exception"]["type"] == "ValueError"
    assert record["exception"]["value"] == "y is zero"
    assert any("raise ValueError" in frame for frame in record["exception"]["traceback"])
    # KedroSession.__exit__ then records the same exception and closes
    store["exception"] = exception_of(ValueError("y is zero"))
    store.save()
    assert viz_rows(repo / ".viz" / "session_store.db")[SID]["run"]["status"] == "failed"


def test_ctrl_c_during_the_pipeline_is_recorded_as_interrupted(repo: Path) -> None:
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    HOOKS.before_pipeline_run(run_params=run_params())
    # KeyboardInterrupt is no Exception: Kedro calls no error hook, only __exit__ records it
    store["exception"] = exception_of(KeyboardInterrupt())
    store.save()
    record = viz_rows(repo / ".viz" / "session_store.db")[SID]
    assert record["run"]["status"] == "interrupted"
    assert record["run"]["finished_at"] is not None


def test_failure_before_the_pipeline_starts_still_gets_a_run(repo: Path) -> None:
    """An unknown pipeline name fails in ``session.run`` before any pipeline hook."""
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    store["exception"] = exception_of(ValueError("Failed to find the pipeline named 'nope'"))
    store.save()
    record = viz_rows(repo / ".viz" / "session_store.db")[SID]
    assert record["run"]["status"] == "failed"
    assert record["run"]["duration_s"] >= 0
    assert record["git"]["branch"] == "main"  # git details are added at close too


def test_session_without_run_or_error_stays_a_plain_kedro_record(repo: Path) -> None:
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    store.save()
    assert "run" not in viz_rows(repo / ".viz" / "session_store.db")[SID]


def test_retry_after_a_failed_run_replaces_the_run_and_its_error(repo: Path) -> None:
    """Kedro allows another run in a session whose run failed; the record keeps the last."""
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    HOOKS.before_pipeline_run(run_params=run_params())
    HOOKS.on_pipeline_error(error=ValueError("first"), run_params=run_params())
    HOOKS.before_pipeline_run(run_params=run_params())
    HOOKS.after_pipeline_run(run_params=run_params())
    store.save()
    record = viz_rows(repo / ".viz" / "session_store.db")[SID]
    assert record["run"]["status"] == "success"
    assert record["run"]["attempt"] == 2
    assert "exception" not in record


def test_hooks_leave_sessions_of_other_stores_alone(repo: Path) -> None:
    HOOKS.before_pipeline_run(run_params=run_params("2026-11-25T09.44.12.000Z"))
    HOOKS.after_pipeline_run(run_params=run_params("2026-11-25T09.44.12.000Z"))
    assert not (repo / ".viz").exists()
    assert live_store("2026-11-25T09.44.12.000Z") is None


def test_detached_head_has_no_branch(repo: Path) -> None:
    _git(repo, "checkout", "-q", "--detach")
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    HOOKS.before_pipeline_run(run_params=run_params())
    git = viz_rows(repo / ".viz" / "session_store.db")[SID]["git"]
    assert "branch" not in git
    assert git["commit_sha_full"] == _git(repo, "rev-parse", "HEAD")
    HOOKS.after_pipeline_run(run_params=run_params())  # a run in progress has a thread
    store.save()


# -- Kedro's ShelveStore layout -------------------------------------------------------------------
def test_shelve_store_writes_kedros_layout(repo: Path) -> None:
    store = ShelveStore(str(repo / "sessions"), SID)
    store.update(kedro_session_data(repo))
    HOOKS.before_pipeline_run(run_params=run_params())
    HOOKS.after_pipeline_run(run_params=run_params())
    store.save()
    folder = repo / "sessions" / SID
    assert any(p.name.startswith("store") for p in folder.iterdir())
    with open_store(f"shelve://{repo / 'sessions'}", read_only=True) as reader:
        assert reader.count() == 1
        record = reader.get(SID)
    assert record["run"]["status"] == "success"
    assert record["git"]["branch"] == "main"
    assert ShelveStore(str(repo / "sessions"), SID)["username"] == "ana"  # read() again


# -- `sessionlens run -- kedro run`: one session, not two -------------------------------------
def test_kedro_session_joins_the_sessionlens_run_that_launched_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = repo / ".viz" / "session_store.db"
    parent_id = "2026-11-25T09.44.10.000Z"
    parent_run = {"status": "running", "pid": 4242, "command": ["kedro", "run"]}
    with open_store(f"sqlite://{db}", read_only=False, create=True) as backend:
        backend.insert({"session_id": parent_id, "run": parent_run, "cli": {"command_name": "run"}})
    monkeypatch.setenv("SESSIONLENS_SESSION_ID", parent_id)
    monkeypatch.setenv("SESSIONLENS_STORE", str(db))

    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    HOOKS.before_pipeline_run(run_params=run_params())
    HOOKS.on_pipeline_error(error=ValueError("boom"), run_params=run_params())
    store.save()

    rows = viz_rows(db)
    assert list(rows) == [parent_id]  # no second session for the same run
    record = rows[parent_id]
    assert record["kedro_session_id"] == SID
    assert record["run"] == parent_run  # the launching session owns the run's status
    assert record["cli"]["command_path"] == "kedro run --params factor=0"
    assert record["exception"]["value"] == "boom"
    assert record["git"]["branch"] == "main"


def test_kedro_session_in_another_store_does_not_join(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSIONLENS_SESSION_ID", "2026-11-25T09.44.10.000Z")
    monkeypatch.setenv("SESSIONLENS_STORE", str(tmp_path / "other.db"))
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    store.save()
    assert list(viz_rows(repo / ".viz" / "session_store.db")) == [SID]


def test_a_running_pipeline_beats_until_it_ends(repo: Path) -> None:
    """The hooks refresh the session's heartbeat on a timer (a quiet node must not look lost)
    and stop when the pipeline ends."""
    store = SQLiteStore(str(repo / ".viz"), SID)
    store.update(kedro_session_data(repo))
    HOOKS.before_pipeline_run(run_params=run_params())
    deadline = time.monotonic() + 10
    with open_store(str(repo / ".viz" / "session_store.db")) as reader:
        while reader.last_heartbeat(SID) is None:
            assert time.monotonic() < deadline, "no heartbeat during the pipeline"
            time.sleep(0.02)
    HOOKS.after_pipeline_run(run_params=run_params())
    store.save()
    assert not [t for t in threading.enumerate() if t.name.startswith("sessionlens-kedro-beat")]


def test_a_run_left_unfinished_stops_beating_when_the_next_one_starts(repo: Path) -> None:
    """A notebook's ctrl-c can leave a run without its end hook: the next run in the process
    ends its log capture and its heartbeat (it would otherwise look alive for ever)."""
    first, second = SID, "2026-11-25T09.44.12.000Z"
    stores = []
    for sid in (first, second):
        store = SQLiteStore(str(repo / ".viz"), sid)
        store.update(kedro_session_data(repo, sid))
        stores.append(store)
        HOOKS.before_pipeline_run(run_params=run_params(sid))
    beating = [t.name for t in threading.enumerate() if t.name.startswith("sessionlens-kedro-beat")]
    assert beating == [f"sessionlens-kedro-beat-{second}"]
    HOOKS.after_pipeline_run(run_params=run_params(second))
    for store in stores:
        store.save()


# -- claiming ids (torture) ---------------------------------------------------------------------
SAVE_WITHOUT_RUN = """
import sys
from sessionlens.kedro import ShelveStore, SQLiteStore
cls = {"sqlite": SQLiteStore, "shelve": ShelveStore}[sys.argv[1]]
store = cls(sys.argv[2], sys.argv[3])
store.update({"project_path": sys.argv[4], "session_id": sys.argv[3], "username": sys.argv[5]})
store.save()
"""


@pytest.mark.parametrize("kind", ["sqlite", "shelve"])
def test_two_processes_saving_sessions_of_the_same_millisecond_keep_both(
    repo: Path, kind: str
) -> None:
    """Kedro ids have millisecond resolution. A Kedro session that ends without running a
    pipeline (``kedro ipython``, ``kedro viz``, a script that only loads the catalog) is saved
    without a ``run``; another process's session of the same millisecond must claim the next
    free id, not read that record as its own and write over it."""
    cls = {"sqlite": SQLiteStore, "shelve": ShelveStore}[kind]
    path = str(repo / "sessions")
    for user in ("ana", "bob"):
        subprocess.run(
            [sys.executable, "-c", SAVE_WITHOUT_RUN, kind, path, SID, str(repo), user], check=True
        )
    with open_store(cls.store_spec(path, repo)) as store:
        users = sorted(s.username or "" for s in store.list_summaries(limit=None))
    assert users == ["ana", "bob"]


@pytest.mark.parametrize("kind", ["sqlite", "shelve"])
def test_a_record_left_by_an_earlier_process_with_the_same_pid_is_not_written_over(
    repo: Path, kind: str
) -> None:
    """In a container every ``kedro run`` may be pid 1 on the same host name: a record under the
    same id with this pid and host was not necessarily written by this process."""
    cls = {"sqlite": SQLiteStore, "shelve": ShelveStore}[kind]
    path = str(repo / "sessions")
    earlier = kedro_session_data(repo, username="ana")
    earlier["run"] = {"status": "success", "pid": os.getpid(), "hostname": socket.gethostname()}
    with open_store(cls.store_spec(path, repo), read_only=False, create=True) as store:
        store.insert(json.loads(json.dumps(earlier, default=str)))
    ours = cls(path, SID)
    ours.update(kedro_session_data(repo, username="bob"))
    ours.save()
    with open_store(cls.store_spec(path, repo)) as store:
        users = sorted(s.username or "" for s in store.list_summaries(limit=None))
    assert users == ["ana", "bob"]
