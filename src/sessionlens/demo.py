"""``sessionlens demo``: a small project with a git repo and a set of REAL recorded sessions.

The demo writes a tiny pipeline (``pipeline.py``: reads ``SESSIONLENS_PARAMS``, prints progress
to stdout and warnings to stderr, fails when ``fail=true``), commits it, and runs it through
:func:`sessionlens.launch.launch` (what ``sessionlens run`` uses) on two branches, on a dirty
tree, on a detached HEAD, with different parameters; one run fails, one is interrupted, one
re-runs another, one prints text that looks like Rich markup and ANSI codes. Nothing is faked:
every session is a real child process recorded by the same code as ``sessionlens run``.

A finished demo folder holds ``.sessionlens-demo.json``; it is reused as it is unless a rebuild
is asked for. A folder that is not empty and not a demo is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessionlens.errors import SessionLensError

MARKER = ".sessionlens-demo.json"
DEMO_VERSION = 1
STORE_PATH = ".viz/session_store.db"


class DemoError(SessionLensError):
    """The demo cannot be built where asked (a foreign folder, no git)."""


@dataclass(frozen=True)
class DemoProject:
    path: Path
    store: str
    sessions: int
    reused: bool


def default_demo_dir() -> Path:
    """``$XDG_DATA_HOME/sessionlens/demo`` (``~/.local/share/sessionlens/demo``), or a temporary
    folder when there is no home."""
    base = os.environ.get("XDG_DATA_HOME")
    if base:
        return Path(base) / "sessionlens" / "demo"
    try:
        return Path.home() / ".local" / "share" / "sessionlens" / "demo"
    except RuntimeError:
        return Path(tempfile.gettempdir()) / "sessionlens-demo"


PIPELINE = '''"""A tiny pipeline for the sessionlens demo: load, transform, summarise."""

import json
import os
import sys
import time

with open("config.json") as fh:
    params = json.load(fh)
params.update(json.loads(os.environ.get("SESSIONLENS_PARAMS") or "{}"))

rows = int(params.get("rows", 200))
scale = float(params.get("scale", 1))
offset = float(params.get("offset", 0))
pause = float(params.get("sleep", 0))

print(f"session {os.environ.get('SESSIONLENS_SESSION_ID', '?')}: rows={rows} scale={scale} "
      f"offset={offset}")
if params.get("label"):
    print(f"label: {params['label']}")
print("[load] reading raw data")
if rows <= 0:
    raise ValueError(f"rows must be positive, not {rows}")
data = [(i * 7919) % 1000 / 10 for i in range(rows)]
if rows > 1000:
    print(f"warning: {rows} rows is a big sample, this may take a moment", file=sys.stderr)
for step in range(1, 11):
    time.sleep(pause)
    print(f"[transform] {step * 10:3d}% ({step * rows // 10}/{rows} rows)")
    if step == 5 and params.get("fail"):
        print("[transform] bad row found, giving up", file=sys.stderr)
        raise RuntimeError("Intentional failure requested via params: fail=true")
out = [x * scale + offset for x in data]
__NORMALISE__
mean = sum(out) / len(out)
print(f"[summary] mean={mean:.3f} min={min(out):.3f} max={max(out):.3f}")
if os.environ.get("SESSIONLENS_SESSION_ID"):  # recorded: the run's results, for compare and plot
    import sessionlens

    accuracy = round(min(0.99, 0.55 + 0.04 * scale + offset / 200 + rows / 20000), 4)
    sessionlens.log_metrics({"accuracy": accuracy, "loss": round((1 - accuracy) ** 2 * 4, 4),
                             "mean": round(mean, 4)})
print("done")
'''

NORMALISE_V2 = """span = (max(out) - min(out)) or 1.0
out = [(x - min(out)) / span for x in out]
print("[transform] normalised to [0, 1]")"""

FEATURE_V3 = """out = [x * 2 for x in out]
print("[transform] doubled (feature/faster-scale)")"""

PYPROJECT = """[project]
name = "sessionlens-demo"
version = "0.1.0"
description = "A demo project for sessionlens"

[tool.sessionlens]
package_name = "demo_pipeline"
run = {run}
store = "{store}"
"""

GITIGNORE = """.viz/
__pycache__/
.sessionlens-demo.json
"""

README = """# sessionlens demo

A tiny pipeline (`pipeline.py`) recorded by sessionlens. Try:

    sessionlens                      # the app on this project's sessions
    sessionlens list
    sessionlens run --params scale=3
    sessionlens run --params fail=true
"""


class _Git:
    """git in the demo folder, independent of the user's global hooks and signing settings."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = dict(os.environ)
        for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
            self.env.pop(key, None)
        self.env.update(
            GIT_AUTHOR_NAME="sessionlens demo",
            GIT_AUTHOR_EMAIL="demo@sessionlens.invalid",
            GIT_COMMITTER_NAME="sessionlens demo",
            GIT_COMMITTER_EMAIL="demo@sessionlens.invalid",
        )

    def __call__(self, *args: str) -> str:
        cmd = [
            "git",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "advice.detachedHead=false",
            *args,
        ]
        try:
            proc = subprocess.run(
                cmd, cwd=self.root, env=self.env, capture_output=True, text=True, check=False
            )
        except FileNotFoundError:
            raise DemoError("the demo needs git, and git is not on PATH") from None
        if proc.returncode != 0:
            raise DemoError(f"git {' '.join(args)} failed in {self.root}: {proc.stderr.strip()}")
        return proc.stdout


def _python_command() -> list[str]:
    for name in ("python", "python3"):
        found = shutil.which(name)
        if found and Path(found).resolve() == Path(sys.executable).resolve():
            return [name]
    return [sys.executable]


def _marker(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def build_demo(
    directory: str | Path | None = None,
    *,
    rebuild: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoProject:
    """Build (or reuse) the demo project; returns where it is and its store spec."""
    root = Path(directory).expanduser() if directory else default_demo_dir()
    root = root.absolute()
    say = progress or (lambda _text: None)
    marker = _marker(root)
    store_file = root / STORE_PATH
    if (
        marker
        and marker.get("complete")
        and marker.get("version") == DEMO_VERSION
        and store_file.is_file()
        and not rebuild
    ):
        return DemoProject(root, str(store_file), int(marker.get("sessions", 0)), reused=True)
    if root.exists():
        if not root.is_dir():
            raise DemoError(f"{root} exists and is not a folder")
        if any(root.iterdir()):
            if marker is None:
                raise DemoError(
                    f"{root} is not empty and is not a sessionlens demo; choose another --dir"
                )
            shutil.rmtree(root)  # our own unfinished or outdated demo
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text(json.dumps({"version": DEMO_VERSION, "complete": False}))
    count = _populate(root, say)
    (root / MARKER).write_text(
        json.dumps({"version": DEMO_VERSION, "complete": True, "sessions": count})
    )
    return DemoProject(root, str(store_file), count, reused=False)


def _write_pipeline(root: Path, body: str) -> None:
    (root / "pipeline.py").write_text(PIPELINE.replace("__NORMALISE__", body))


def _populate(root: Path, say: Callable[[str], None]) -> int:
    from sessionlens.launch import launch
    from sessionlens.params import parse_params
    from sessionlens.project import load_project
    from sessionlens.stores import open_store

    git = _Git(root)
    python = _python_command()
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(run=json.dumps([*python, "pipeline.py"]), store=STORE_PATH)
    )
    (root / ".gitignore").write_text(GITIGNORE)
    (root / "README.md").write_text(README)
    (root / "config.json").write_text(json.dumps({"rows": 200, "scale": 1}, indent=2) + "\n")
    _write_pipeline(root, "")
    git("init", "-q")
    git("symbolic-ref", "HEAD", "refs/heads/main")
    git("add", "-A")
    git("commit", "-q", "-m", "Initial pipeline")
    first_commit = git("rev-parse", "HEAD").strip()

    project = load_project(root, search_parents=False)
    store_file = root / STORE_PATH
    store_file.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite://{store_file}", read_only=False, create=True)
    ids: dict[str, str] = {}
    count = 0

    def run(
        label: str, params: str = "", *, rerun_of: str | None = None, interrupt: bool = False
    ) -> str:
        nonlocal count
        running = launch(
            [*python, "pipeline.py"],
            project=project,
            store=store,
            params=parse_params(params) if params else {},
            rerun_of=ids.get(rerun_of or ""),
            grace_period=2.0,
        )
        if interrupt:
            # wait for the pipeline to get going, then press "ctrl+c"
            for _ in range(100):
                if running.output_bytes > 150 or running.done:
                    break
                time.sleep(0.05)
            running.interrupt()
        running.wait()
        ids[label] = running.session_id
        count += 1
        say(f"  {label}: {running.status}")
        return running.session_id

    try:
        say(f"recording demo sessions in {root}")
        run("first")
        run("scaled", "scale=3")
        run("scaled-offset", "scale=3,offset=100")
        _write_pipeline(root, NORMALISE_V2)
        git("commit", "-q", "-am", "Normalise the output to [0, 1]")
        run("normalised")
        run("big", "rows=2000")
        (root / "config.json").write_text(json.dumps({"rows": 300, "scale": 1.5}, indent=2) + "\n")
        run("dirty")
        run("dirty-fail", "fail=true")
        git("checkout", "-q", "--", "config.json")
        git("checkout", "-q", "-b", "feature/faster-scale")
        _write_pipeline(root, NORMALISE_V2 + "\n" + FEATURE_V3)
        git("commit", "-q", "-am", "Double the normalised output")
        run("feature")
        run("feature-scaled", "scale=5")
        run("feature-markup", "label=[bold red]not markup[/] \x1b[31mnot red\x1b[0m")
        run("feature-bad-rows", "rows=-1")
        git("checkout", "-q", "--detach", first_commit)
        run("detached", "scale=7")
        git("checkout", "-q", "main")
        run("interrupted", "sleep=0.2", interrupt=True)
        run("rerun", "scale=3", rerun_of="scaled")
    finally:
        store.close()
    return count
