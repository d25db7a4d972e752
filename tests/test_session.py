"""Session core: what ``Session.create`` collects, the single-run rule, exception recording."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from sessionlens.errors import SessionError
from sessionlens.record import next_session_id
from sessionlens.session import Session
from sessionlens.stores.memory import MemoryStore
from sessionlens.stores.sqlite_store import SQLiteSessionStore
from sessiontools import git, make_repo

ID_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z$")
PY = sys.executable


class PipelineError(Exception):
    """A project's own exception type (module-qualified in the record, as Kedro writes it)."""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "proj",
        {
            "pyproject.toml": '[tool.sessionlens]\npackage_name = "demo_pkg"\n',
            "src/a.py": "x = 1\n",
            "a.txt": "a\n",
        },
    )


@pytest.fixture
def store(tmp_path: Path) -> SQLiteSessionStore:
    s = SQLiteSessionStore(tmp_path / "store.db", create=True)
    yield s
    s.close()


def reopen(store: SQLiteSessionStore, session_id: str) -> dict:
    """The record as another process would read it: a new read-only connection."""
    with SQLiteSessionStore(store.path, read_only=True) as again:
        return again.get(session_id)


def test_create_collects_context(repo: Path, store: SQLiteSessionStore) -> None:
    full_sha = git(repo, "rev-parse", "HEAD")
    with Session.create(repo, store, env="local", runtime_params={"scale": 2}) as session:
        pass
    record = reopen(store, session.session_id)
    assert ID_FORMAT.match(record["session_id"])
    assert record["project_path"] == str(repo.resolve())
    assert Path(record["project_path"]).is_absolute()
    assert record["package_name"] == "demo_pkg"
    assert record["username"]
    assert record["env"] == "local"
    assert record["runtime_params"] == {"scale": 2}
    assert record["git"] == {
        "commit_sha": full_sha[:7],
        "commit_sha_full": full_sha,
        "branch": "main",
        "dirty": False,
    }
    assert record["environment"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert record["environment"]["platform"] == sys.platform
    assert "run" not in record  # closed without a run: Kedro's shape, status "completed"
    assert "cli" not in record  # a Python-API session has no cli


def test_session_ids_are_unique_and_sortable(repo: Path) -> None:
    store = MemoryStore()
    ids = [Session.create(repo, store).session_id for _ in range(30)]
    assert len(set(ids)) == 30
    assert ids == sorted(ids)


def test_package_name_from_kedro_section(tmp_path: Path) -> None:
    """The record takes the project's package name (how it is read: ``test_project.py``)."""
    project = make_repo(
        tmp_path / "k",
        {"pyproject.toml": '[tool.kedro]\npackage_name = "spaceflights"\nproject_name = "x"\n'},
    )
    session = Session.create(project, MemoryStore())
    assert session.record["package_name"] == "spaceflights"


def test_no_git_repo_still_gets_a_session(tmp_path: Path, store: SQLiteSessionStore) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with Session.create(plain, store) as session:
        assert session.run([PY, "-c", "print('hi')"], echo=False) == 0
    record = reopen(store, session.session_id)
    assert "git" not in record
    assert record["run"]["status"] == "success"


def test_git_missing_from_path_still_gets_a_session(
    repo: Path, store: SQLiteSessionStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    with Session.create(repo, store) as session:
        assert session.run([PY, "-c", "pass"], echo=False) == 0
    record = reopen(store, session.session_id)
    assert "git" not in record
    assert record["run"]["status"] == "success"


# -- the single-run rule ------------------------------------------------------------------------
def _first_run(session: Session, kind: str) -> None:
    if kind == "argv-success":
        assert session.run([PY, "-c", "pass"], echo=False) == 0
    elif kind == "argv-failure":
        assert session.run([PY, "-c", "raise SystemExit(4)"], echo=False) == 4
    elif kind == "callable-success":
        assert session.run(lambda: 42) == 42
    elif kind == "callable-failure":
        with pytest.raises(ZeroDivisionError):
            session.run(lambda: 1 / 0)
    elif kind == "unstartable":
        assert session.run([str(Path("/nonexistent/cmd"))], echo=False) == 127


@pytest.mark.parametrize(
    "first", ["argv-success", "argv-failure", "callable-success", "callable-failure", "unstartable"]
)
@pytest.mark.parametrize("second", ["argv", "callable"])
def test_second_run_raises(repo: Path, store: SQLiteSessionStore, first: str, second: str) -> None:
    ran = []
    session = Session.create(repo, store)
    _first_run(session, first)
    status_before = session.record["run"]["status"]
    with pytest.raises(SessionError) as info:
        if second == "argv":
            session.run([PY, "-c", "open('ran-twice', 'w')"], echo=False)
        else:
            session.run(lambda: ran.append(1))
    message = str(info.value)
    assert "1-1" in message
    assert "new session" in message
    assert session.session_id in message
    assert not ran and not (repo / "ran-twice").exists()
    # the refused run changed nothing
    assert session.record["run"]["status"] == status_before
    session.close()
    assert reopen(store, session.session_id)["run"]["status"] == status_before


def test_run_after_close_raises(repo: Path) -> None:
    session = Session.create(repo, MemoryStore())
    session.close()
    with pytest.raises(SessionError, match="closed"):
        session.run(lambda: None)


def test_callable_run_records_status_and_result(repo: Path, store: SQLiteSessionStore) -> None:
    def train() -> str:
        return "model"

    with Session.create(repo, store) as session:
        assert session.run(train) == "model"
    run = reopen(store, session.session_id)["run"]
    assert run["status"] == "success"
    assert run["callable"].endswith(":test_callable_run_records_status_and_result.<locals>.train")
    assert run["pid"] == os.getpid()
    assert run["finished_at"] >= run["started_at"]
    assert run["duration_s"] >= 0


def test_callable_keyboard_interrupt_is_interrupted(repo: Path, store: SQLiteSessionStore) -> None:
    def stopped() -> None:
        raise KeyboardInterrupt

    session = Session.create(repo, store)
    with pytest.raises(KeyboardInterrupt):
        session.run(stopped)
    session.close()
    record = reopen(store, session.session_id)
    assert record["run"]["status"] == "interrupted"
    assert record["exception"]["type"] == "KeyboardInterrupt"


# -- exceptions leaving the with block ---------------------------------------------------------
def test_exception_in_with_block_is_recorded_and_session_saved(
    repo: Path, store: SQLiteSessionStore
) -> None:
    with pytest.raises(PipelineError), Session.create(repo, store) as session:
        raise PipelineError("node 'split' failed: bad row 7")
    record = reopen(store, session.session_id)
    exc = record["exception"]
    assert exc["type"] == f"{PipelineError.__module__}.PipelineError"
    assert exc["value"] == "node 'split' failed: bad row 7"
    assert isinstance(exc["traceback"], list) and exc["traceback"]
    assert all(isinstance(line, str) for line in exc["traceback"])
    assert "raise PipelineError" in "".join(exc["traceback"])
    assert session.closed


def test_builtin_exception_type_has_no_module(repo: Path, store: SQLiteSessionStore) -> None:
    with pytest.raises(ValueError), Session.create(repo, store) as session:
        session.run(lambda: int("x"))
    record = reopen(store, session.session_id)
    assert record["exception"]["type"] == "ValueError"
    assert record["run"]["status"] == "failed"


def test_second_run_error_inside_with_is_recorded(repo: Path, store: SQLiteSessionStore) -> None:
    """Like the Kedro fixture's run-twice session: the SessionError ends up in the record."""
    with pytest.raises(SessionError), Session.create(repo, store) as session:
        session.run(lambda: None)
        session.run(lambda: None)
    record = reopen(store, session.session_id)
    assert record["exception"]["type"] == "sessionlens.errors.SessionError"
    assert record["run"]["status"] == "success"


def test_a_taken_id_moves_the_session_to_the_next_free_millisecond(
    repo: Path, store: SQLiteSessionStore
) -> None:
    """Ids have ms resolution: another process may claim this millisecond between create and
    run. The first save claims the id (an insert), so the session moves on, never overwrites."""
    session = Session.create(repo, store)
    first = session.session_id
    second = next_session_id(first)
    assert second is not None
    store.insert_many({"session_id": t, "username": "other process"} for t in (first, second))
    with session:
        session.run(lambda: None)
    assert session.session_id == next_session_id(second)
    assert store.get(session.session_id)["run"]["status"] == "success"
    assert all(store.get(t)["username"] == "other process" for t in (first, second))
    assert store.count() == 3


def test_a_given_session_id_that_is_taken_is_an_error(
    repo: Path, store: SQLiteSessionStore
) -> None:
    taken = "2026-11-25T09.44.11.880Z"
    store.insert({"session_id": taken, "username": "other process"})
    session = Session.create(repo, store, session_id=taken)
    with pytest.raises(SessionError, match=f"session id {taken} is taken"):
        session.run(lambda: None)
    assert store.get(taken) == {"session_id": taken, "username": "other process"}


def test_default_store_folder_is_created_with_a_gitignore(tmp_path: Path) -> None:
    kedro = make_repo(
        tmp_path / "kp",
        {".gitignore": "*.tmp\n", "pyproject.toml": '[tool.kedro]\npackage_name = "kp"\n'},
    )
    with Session.create(kedro) as session:  # no store given: the project's default place
        session.run(lambda: None)
    assert (kedro / ".viz" / "session_store.db").is_file()
    assert (kedro / ".viz" / ".gitignore").read_text().endswith("*\n")
    assert git(kedro, "status", "--porcelain") == ""
    with Session.create(kedro) as again:
        pass
    assert again.record["git"]["dirty"] is False


def test_closed_session_that_ran_still_explains_the_rule(repo: Path) -> None:
    session = Session.create(repo, MemoryStore())
    session.run(lambda: None)
    session.close()
    with pytest.raises(SessionError, match="1-1"):
        session.run(lambda: None)


def test_a_clock_stepped_back_does_not_hold_up_the_next_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids are never reused within a process, so a new one must follow the last. When the
    clock steps back (NTP, a VM resumed), creating a session used to sleep until the clock
    caught up again: an hour back, an hour's wait (the app's launch stuck on 'starting')."""
    import threading
    from datetime import timedelta

    from sessionlens import session as session_module
    from sessionlens.record import new_session_id, session_id_time

    first = session_module._unique_session_id()
    moment = session_id_time(first)
    assert moment is not None
    earlier = new_session_id(moment - timedelta(hours=1))
    monkeypatch.setattr(session_module, "new_session_id", lambda: earlier)
    got: list[str] = []
    worker = threading.Thread(target=lambda: got.append(session_module._unique_session_id()))
    worker.start()
    worker.join(timeout=2.0)  # (a stuck one ends once the real clock is back, after the test)
    assert got, "creating a session waited for the clock to catch up"
    assert got[0] > first and got[0] == next_session_id(first)
