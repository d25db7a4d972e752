"""``sessionlens.launch``: one call that records and starts a new session's run, and re-runs
built from stored records (what ``sessionlens run`` and the app's run keys use)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from sessionlens.launch import NoCommandError, launch
from sessionlens.run_request import RunRequest, rerun_request
from sessionlens.runner import RunningSession
from sessionlens.stores.base import LogChunk
from sessionlens.stores.sqlite_store import SQLiteSessionStore
from sessiontools import make_repo

PY = sys.executable


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


@pytest.fixture
def store(tmp_path: Path) -> SQLiteSessionStore:
    s = SQLiteSessionStore(tmp_path / "sessions.db", create=True)
    yield s
    s.close()


def reread(db: Path, session_id: str) -> tuple[dict, list[LogChunk]]:
    with SQLiteSessionStore(db, read_only=True) as again:
        return again.get(session_id), list(again.iter_log(session_id))


def test_launch_runs_the_projects_command_and_closes_the_session(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "p",
        {
            "pyproject.toml": f"[tool.sessionlens]\nrun = [{PY!r}, 'job.py']\n".replace("'", '"'),
            "job.py": "import os\nprint('params', os.environ['SESSIONLENS_PARAMS'])\n",
        },
    )
    db = tmp_path / "s.db"
    finished: list[RunningSession] = []
    seen: list[LogChunk] = []
    running = launch(
        project_path=root,
        params={"scale": 3},
        store=str(db),
        on_output=seen.extend,
        on_finish=finished.append,
    )
    record = running.wait(timeout=30)
    assert finished == [running]
    assert running.session.closed
    assert record["run"]["status"] == "success"
    assert record["run"]["command"] == [PY, "job.py"]
    assert record["cli"]["params"]["params"] == {"scale": 3}
    assert record["cli"]["command_path"] == shlex.join(
        ["sessionlens", "run", "--store", str(db), "--params", "scale=3", "--", PY, "job.py"]
    )
    assert "".join(c.text for c in seen) == 'params {"scale": 3}\n'
    saved, log = reread(db, running.session_id)
    assert saved["run"]["status"] == "success"
    assert "".join(c.text for c in log) == 'params {"scale": 3}\n'


def test_launch_without_a_command_is_a_one_line_error(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "p")
    with pytest.raises(NoCommandError, match="no command to run") as info:
        launch(project_path=root, store=str(tmp_path / "s.db"))
    assert "\n" not in str(info.value)
    assert not (tmp_path / "s.db").exists()


def test_rerun_request_from_sessionlens_and_kedro_records(
    repo: Path, store: SQLiteSessionStore
) -> None:
    from sessionlens.stores import open_store

    running = launch([PY, "-c", "pass"], project_path=repo, params={"a": 1}, store=store)
    record = running.wait(timeout=30)
    request = rerun_request(record)
    assert request == RunRequest([PY, "-c", "pass"], {"a": 1}, rerun_of=record["session_id"])
    again = launch(
        request.command,
        params=request.params,
        project_path=repo,
        store=store,
        rerun_of=request.rerun_of,
    )
    second = again.wait(timeout=30)
    assert second["run"]["rerun_of"] == record["session_id"]
    assert second["cli"]["params"]["params"] == {"a": 1}

    kedro_run = {
        "cli": {"args": ["kedro", "run"], "params": {"params": {"s": 2}}},
        "run": {"command": ["kedro", "run", "--params", "s=2"]},
    }
    assert rerun_request(kedro_run) == RunRequest(["kedro", "run"], {"s": 2})

    data = Path(__file__).parent / "data" / "kedro" / "kedro-0.18.14-shelvestore-dbm-dumb"
    with open_store(str(data)) as kedro_store:
        kedro = {
            s.session_id: kedro_store.get(s.session_id)
            for s in kedro_store.list_summaries(limit=None)
        }
    by_path = {r.get("cli", {}).get("command_path"): r for r in kedro.values()}
    request = rerun_request(by_path["kedro run --env local --params scale:3,offset:100"])
    assert request is not None
    assert request.command == ["kedro", "run", "--env", "local"]
    assert request.params == {"scale": 3, "offset": 100}
    assert rerun_request(by_path[None]) is None  # the Python-API session
