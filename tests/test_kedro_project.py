"""A real Kedro project (made by Kedro's own ``kedro new``) recording its runs with sessionlens.

Kedro (newest 1.x) is installed from the package registry into a venv cached across test runs
under ``~/.cache/sessionlens-tests/`` (keyed by a hash of pyproject.toml, the repository path and
the Python version), with this repository installed editable beside it, as a user would with
``pip install sessionlens[kedro]``. When pip cannot reach the registry the tests are skipped and
say so. Building the venv takes about 20 s; each ``kedro run`` about 2 s.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sessionlens.kedro.cli import STDERR_LOGGING

pytestmark = pytest.mark.kedro

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("SESSIONLENS_TEST_CACHE", Path.home() / ".cache" / "sessionlens-tests"))
#: The newest Kedro 1.x; set SESSIONLENS_TEST_KEDRO (e.g. "kedro==0.18.14") to try another.
KEDRO_REQUIREMENT = os.environ.get("SESSIONLENS_TEST_KEDRO", "kedro>=1.0,<2")
PACKAGE = "lens_demo"

#: pip's words for "the registry could not be reached" (as opposed to a broken package).
NETWORK_ERRORS = (
    "Could not find a version that satisfies",
    "No matching distribution found",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Connection refused",
    "Read timed out",
    "ConnectTimeoutError",
    "ProxyError",
    "Max retries exceeded",
)


def _venv_key() -> str:
    digest = hashlib.sha256()
    digest.update((REPO / "pyproject.toml").read_bytes())
    digest.update(str(REPO).encode())
    digest.update(sys.version.encode())
    digest.update(KEDRO_REQUIREMENT.encode())
    return digest.hexdigest()[:16]


def _pip(venv: Path, *args: str) -> None:
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=_clean_env(),
    )
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        if any(marker in output for marker in NETWORK_ERRORS):
            pytest.skip(f"pip cannot reach the package registry to install {args[-1]}")
        pytest.fail(f"pip install {' '.join(args)} failed:\n{output[-4000:]}")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "KEDRO", "SESSIONLENS_"))
    }
    # Kedro 1.x installs kedro-telemetry, which would ask for consent and call home.
    env.update(KEDRO_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1", COLUMNS="200", **extra)
    return env


def _remove_stale_venvs() -> None:
    """Venvs built for an older pyproject.toml of this checkout and Kedro are of no use now."""
    for marker in CACHE.glob("kedro-venv-*/.sessionlens-complete"):
        if marker.read_text().splitlines()[:2] == [str(REPO), KEDRO_REQUIREMENT]:
            shutil.rmtree(marker.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def kedro_venv() -> Path:
    """A venv with the newest Kedro 1.x and this repository (editable, with its ``postgresql``
    extra); built once, then reused."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = _venv_key()
    venv = CACHE / f"kedro-venv-{key}"
    done = venv / ".sessionlens-complete"
    with open(CACHE / f"kedro-venv-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel workers build it once
        if not done.exists():
            _remove_stale_venvs()
            shutil.rmtree(venv, ignore_errors=True)
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            # one pip run (one resolution, one editable build) for Kedro and this repository
            # with its ``postgresql`` extra, which test_kedro_postgres.py needs
            _pip(venv, KEDRO_REQUIREMENT, "-e", f"{REPO}[postgresql]")
            (venv / ".sessionlens-postgresql").write_text("psycopg installed with the venv\n")
            took = time.monotonic() - started
            done.write_text(f"{REPO}\n{KEDRO_REQUIREMENT}\nbuilt in {took:.1f} s\n")
    return venv


def _run(
    venv: Path, argv: list[str], cwd: Path, *, check: bool = True, **env: str
) -> subprocess.CompletedProcess[str]:
    path = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    proc = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_env(PATH=path, **env),
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"{argv} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


PIPELINE = '''
"""Two nodes; ``factor: 0`` makes the second fail; ``hold: <file>`` makes the first wait for
that file to exist, so a test can look at a run while it is running."""
import time
from pathlib import Path

from kedro.pipeline import Pipeline, node


def scale(x, factor, hold):
    deadline = time.monotonic() + 60
    while hold and not Path(hold).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return float(x) * float(factor)


def check(y):
    if y == 0:
        raise ValueError("y is zero: factor must not be 0")
    return y


def register_pipelines():
    return {
        "__default__": Pipeline(
            [
                node(scale, ["params:x", "params:factor", "params:hold"], "y", name="scale"),
                node(check, "y", "z", name="check"),
            ]
        )
    }
'''

SETTINGS = """

# sessionlens (written by the test): where Kedro keeps its sessions. Not one of Kedro's default
# places, so `sessionlens` must read it from here.
from pathlib import Path

from sessionlens.kedro import SQLiteStore

SESSION_STORE_CLASS = SQLiteStore
SESSION_STORE_ARGS = {"path": str(Path(__file__).parents[2] / "var" / "sessions")}
"""

SHELVE_SETTINGS = """

from sessionlens.kedro import ShelveStore

SESSION_STORE_CLASS = ShelveStore
SESSION_STORE_ARGS = {"path": "kept"}  # relative: from the project root
"""

API_SCRIPT = """
import json, sys
from pathlib import Path
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

project = Path(sys.argv[1])
bootstrap_project(project)
session_id = error = None
try:
    with KedroSession.create(project_path=project) as session:
        session_id = session.session_id
        session.run()
        session.run()
except Exception as exc:
    error = type(exc).__name__
print(json.dumps({"session_id": session_id, "error": error}))
"""


class KedroProject:
    """The project made once per module, and the ids of the sessions its runs recorded."""

    def __init__(self, venv: Path, root: Path) -> None:
        self.venv = venv
        self.root = root
        self.sessions: dict[str, str] = {}
        self.kedro_version = ""

    def run(self, *argv: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        return _run(self.venv, list(argv), self.root, check=check, **env)

    @property
    def db(self) -> Path:
        return self.root / "var" / "sessions" / "session_store.db"

    def viz_rows(self) -> dict[str, dict[str, Any]]:
        """The store as kedro-viz reads it: plain sqlite3, blob JSON-decoded twice."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT id, blob FROM runs").fetchall()
        return {row_id: json.loads(json.loads(blob)) for row_id, blob in rows}

    def new_ids(self, before: set[str]) -> list[str]:
        return sorted(set(self.viz_rows()) - before)


@pytest.fixture(scope="module")
def project(kedro_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KedroProject]:
    where = tmp_path_factory.mktemp("kedro")
    # Kedro's built-in template, answers from a file: the non-interactive way 0.18 to 1.x share
    config = where / "new.yml"
    config.write_text("project_name: lens-demo\nrepo_name: lens-demo\npython_package: lens_demo\n")
    _run(kedro_venv, ["kedro", "new", "--config", str(config)], where)
    root = where / "lens-demo"
    package = root / "src" / PACKAGE
    (package / "pipeline_registry.py").write_text(PIPELINE)
    (root / "conf" / "base" / "parameters.yml").write_text('x: 2\nfactor: 3\nhold: ""\n')
    with (package / "settings.py").open("a") as fh:
        fh.write(SETTINGS)
    with (root / ".gitignore").open("a") as fh:
        fh.write("var/\nkept/\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "test@example.com")
    _git(root, "config", "user.name", "Test")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "kedro new")
    kp = KedroProject(kedro_venv, root)
    kp.kedro_version = _run(
        kedro_venv, ["python", "-c", "import kedro; print(kedro.__version__)"], root
    ).stdout.strip()

    kp.run("kedro", "run")
    (kp.sessions["success"],) = kp.new_ids(set())

    before = set(kp.viz_rows())
    failed = kp.run("kedro", "run", "--params", "factor=0", check=False)
    assert failed.returncode != 0, failed.stdout
    (kp.sessions["failed"],) = kp.new_ids(before)
    yield kp


# -- the runs `kedro run` recorded -------------------------------------------------------------
def test_kedro_run_records_kedro_fields_and_sessionlens_run(project: KedroProject) -> None:
    rows = project.viz_rows()
    ok = rows[project.sessions["success"]]
    full_sha = _git(project.root, "rev-parse", "HEAD")
    short_sha = _git(project.root, "rev-parse", "--short", "HEAD")

    # Kedro's own keys, as Kedro writes them
    assert ok["session_id"] == project.sessions["success"]
    assert ok["project_path"] == str(project.root)
    assert ok["cli"]["command_name"] == "run"
    assert ok["cli"]["command_path"] == "kedro run"
    assert ok["git"]["commit_sha"] == short_sha
    assert ok["git"]["dirty"] is False
    assert "exception" not in ok
    # what sessionlens adds
    assert ok["git"]["commit_sha_full"] == full_sha
    assert ok["git"]["branch"] == "main"
    run = ok["run"]
    assert run["status"] == "success"
    assert run["command"] == ["kedro", "run"]
    assert run["pid"] > 0 and run["hostname"]
    assert run["started_at"] <= run["finished_at"]
    assert 0 < run["duration_s"] < 60
    assert ok["environment"]["kedro"] == project.kedro_version


def test_failed_kedro_run_records_exception_and_params(project: KedroProject) -> None:
    bad = project.viz_rows()[project.sessions["failed"]]
    assert bad["run"]["status"] == "failed"
    assert bad["run"]["command"] == ["kedro", "run", "--params", "factor=0"]
    assert bad["run"]["duration_s"] > 0
    assert bad["exception"]["type"] == "ValueError"
    assert "factor must not be 0" in bad["exception"]["value"]
    assert any("check" in frame for frame in bad["exception"]["traceback"])
    assert bad["cli"]["params"]["params"] == {"factor": 0}
    assert bad["git"]["branch"] == "main"


def test_kedro_viz_layout_one_row_per_session(project: KedroProject) -> None:
    """kedro-viz's tables, JSON-encoded-twice blobs, and no session saved twice."""
    with sqlite3.connect(f"file:{project.db}?mode=ro", uri=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        ids = [r[0] for r in conn.execute("SELECT id FROM runs")]
        blob = conn.execute(
            "SELECT blob FROM runs WHERE id = ?", (project.sessions["success"],)
        ).fetchone()[0]
        columns = [r[1] for r in conn.execute("PRAGMA table_info(user_run_details)")]
    assert {"runs", "user_run_details"} <= tables
    assert columns[:5] == ["id", "run_id", "bookmark", "title", "notes"]
    assert len(ids) == len(set(ids))
    assert isinstance(json.loads(blob), str)  # encoded twice, as kedro-viz writes it


# -- sessionlens reading the project --------------------------------------------------------------
def _listed(project: KedroProject, *argv: str, **env: str) -> dict[str, dict[str, Any]]:
    """stdout parsed strictly as JSON: with ``KEDRO_LOGGING_CONFIG`` at our stderr config for
    ``kedro sessions`` (Kedro 1.x logs "Using ... as logging configuration" to stdout while
    ``kedro`` is imported, before any plugin can act)."""
    if argv[0] == "kedro":
        env.setdefault("KEDRO_LOGGING_CONFIG", str(STDERR_LOGGING))
    items = json.loads(project.run(*argv, **env).stdout)
    return {item["session_id"]: item for item in items}


def test_sessionlens_list_in_project_finds_store_from_settings(project: KedroProject) -> None:
    listed = _listed(project, "sessionlens", "list", "--json")
    ok, bad = listed[project.sessions["success"]], listed[project.sessions["failed"]]
    assert ok["status"] == "success" and bad["status"] == "failed"
    assert ok["branch"] == bad["branch"] == "main"
    assert ok["commit_sha"] == _git(project.root, "rev-parse", "--short", "HEAD")
    assert ok["duration_s"] > 0 and bad["duration_s"] > 0
    assert ok["command"] == "kedro run"
    assert bad["command"] == "kedro run --params factor=0"


def test_kedro_sessions_command_opens_the_project_store(project: KedroProject) -> None:
    listed = _listed(project, "kedro", "sessions", "list", "--json")
    assert {project.sessions["success"], project.sessions["failed"]} <= set(listed)
    assert listed[project.sessions["failed"]]["status"] == "failed"


def test_kedro_sessions_prints_only_kedros_import_time_line_besides_json(
    project: KedroProject,
) -> None:
    """Without the stderr config, the only non-JSON line on stdout is the one Kedro logs
    before plugins load; whatever is logged later goes to stderr; help names the command."""
    out = project.run("kedro", "sessions", "list", "--json").stdout
    head, _, body = out.partition("\n[")
    assert "Using" in head and "rich_logging.yml" in head and "configuration." in head
    assert json.loads("[" + body)
    helped = project.run("kedro", "sessions", "--help", KEDRO_LOGGING_CONFIG=str(STDERR_LOGGING))
    assert helped.stdout.startswith("usage: kedro sessions")
    assert "usage: sessionlens" not in helped.stdout


def test_a_running_kedro_run_is_visible_before_it_ends(project: KedroProject) -> None:
    release = project.root / "var" / "release"
    path = f"{project.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    before = set(project.viz_rows())
    child = subprocess.Popen(
        ["kedro", "run", "--params", f"hold={release}"],
        cwd=project.root,
        env=_clean_env(PATH=path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        running: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while not running and time.monotonic() < deadline and child.poll() is None:
            listed = _listed(project, "sessionlens", "list", "--json")
            running = {k: v for k, v in listed.items() if k not in before}
            time.sleep(0.1)
        (session,) = running.values()
        assert session["status"] == "running"
        assert session["branch"] == "main"
    finally:
        release.touch()
        assert child.wait(timeout=120) == 0
    done = _listed(project, "sessionlens", "list", "--json")[session["session_id"]]
    assert done["status"] == "success"
    assert done["duration_s"] > 0


# -- the Python API: one session, one run ----------------------------------------------------------
def test_second_run_in_a_session_raises_and_writes_nothing_twice(project: KedroProject) -> None:
    before = project.viz_rows()
    script = project.root / "api_run.py"
    script.write_text(API_SCRIPT)
    out = project.run("python", str(script), str(project.root)).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["error"] == "KedroSessionError"

    after = project.viz_rows()
    assert set(after) - set(before) == {result["session_id"]}  # one new session
    assert all(after[k] == v for k, v in before.items())  # and nothing else touched
    record = after[result["session_id"]]
    assert record["run"]["status"] == "success"  # the one run succeeded
    assert "attempt" not in record["run"]  # the refused second run left no trace in ``run``
    assert record["exception"][
        "type"
    ] == "kedro.framework.session.abstract_session.KedroSessionError" or record["exception"][
        "type"
    ].endswith("KedroSessionError")
    assert "cli" not in record  # a Python-API session, as in Kedro
    log = project.run("sessionlens", "log", result["session_id"]).stdout
    assert log.count("Running node: scale") == 1  # its log kept once


# -- Kedro's ShelveStore layout ----------------------------------------------------------------
def test_shelve_store_records_kedro_run(project: KedroProject, tmp_path: Path) -> None:
    """The same project with ShelveStore and a relative path, run from a sub-folder."""
    root = tmp_path / "shelved"
    shutil.copytree(project.root, root, ignore=shutil.ignore_patterns("var", "api_run.py"))
    with (root / "src" / PACKAGE / "settings.py").open("a") as fh:
        fh.write(SHELVE_SETTINGS)
    # Kedro >= 0.19 finds the project from a sub-folder (0.18 only from its root)
    where = root if project.kedro_version.startswith("0.18.") else root / "conf"
    _run(project.venv, ["kedro", "run"], where)

    (folder,) = [p for p in (root / "kept").iterdir() if not p.name.startswith(".")]
    assert any(p.name.startswith("store") for p in folder.iterdir())  # <id>/store*
    assert not (root / "conf" / "kept").exists()
    out = _run(project.venv, ["sessionlens", "list", "--json"], root).stdout
    (record,) = json.loads(out)
    assert record["session_id"] == folder.name
    assert record["status"] == "success"
    assert record["branch"] == "main"
    assert record["command"] == "kedro run"


# -- `sessionlens run` in a Kedro project ----------------------------------------------------------
def test_sessionlens_run_launches_kedro_run_and_records_one_session(project: KedroProject) -> None:
    before = set(project.viz_rows())
    done = project.run("sessionlens", "run", "--params", "factor=4")
    assert "Pipeline execution completed" in done.stdout + done.stderr
    (new_id,) = project.new_ids(before)  # sessionlens's session and Kedro's are one
    record = project.viz_rows()[new_id]
    assert record["run"]["status"] == "success"
    assert record["run"]["exit_code"] == 0
    assert record["run"]["command"] == ["kedro", "run", "--params", "factor=4"]
    assert record["git"]["branch"] == "main"
    log = project.run("sessionlens", "log", new_id).stdout
    assert "Running node: scale" in log


# -- launched from the app ------------------------------------------------------------------------
def test_a_kedro_run_launched_from_the_app_keeps_its_record_and_log(
    project: KedroProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``r`` in the app (which holds its own read connection to the store) runs ``kedro run``,
    whose sessionlens.kedro.SQLiteStore writes the same file from the child: the run ends
    recorded with its log, and ``e`` re-runs it (no "disk I/O error"; the file stays sound)."""
    import asyncio

    from sessionlens.stores import open_store
    from sessionlens.tui.app import SessionLensApp
    from sessionlens.tui.screens.rerun_choice import RerunChoiceScreen
    from tui_support import loaded, wait_for

    path = f"{project.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    for key in [k for k in os.environ if k.startswith(("PYTHON", "VIRTUAL_ENV", "KEDRO"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("COLUMNS", "200")  # Kedro's rich log lines, unwrapped
    monkeypatch.chdir(project.root)
    before = set(project.viz_rows())

    async def drive() -> list[str]:
        app = SessionLensApp(open_store(project.root), poll_interval=0.2)
        ids: list[str] = []

        def ended() -> bool:
            pane = app.sessions_screen.run_pane
            return pane is not None and pane.record is not None and pane.session_id not in ids

        def newest_selected() -> bool:
            return getattr(app.sessions_screen.table.selected, "session_id", None) == ids[0]

        async with app.run_test(size=(140, 40)) as pilot:
            await loaded(pilot)
            for key in ("r", "e"):
                if key == "e":  # re-run the session just run: the newest, the first row
                    app.sessions_screen.table.focus()
                    deadline = time.monotonic() + 30
                    while not newest_selected():  # its row may land after a first "home"
                        assert time.monotonic() < deadline, "timed out waiting for its row"
                        await pilot.press("home")
                        await pilot.pause(0.2)
                await pilot.press(key)
                if key == "e":  # a tree Kedro left dirty: asked which code to run (HEAD)
                    await pilot.pause(0.5)
                    if isinstance(app.screen, RerunChoiceScreen):
                        await pilot.press("h")
                await wait_for(pilot, ended, 120, f"the run of {key!r} to end")
                pane = app.sessions_screen.run_pane
                assert pane.status == "success", (pane.error, pane.log_view.lines()[-20:])
                ids.append(pane.session_id)
        return ids

    ids = asyncio.run(drive())
    assert set(project.new_ids(before)) == set(ids)
    with open_store(project.root) as store:
        for session_id in ids:
            record = store.get(session_id)
            assert record["run"]["status"] == "success", record["run"]
            assert record["kedro_session_id"] != session_id  # Kedro's record joined ours
            assert "Pipeline execution completed successfully" in store.read_log(session_id)
    with sqlite3.connect(f"file:{project.db}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
