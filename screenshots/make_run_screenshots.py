"""Screenshots of the run pane from the real app: a run in progress, and a finished re-run.

    python screenshots/make_run_screenshots.py [--out screenshots]

Builds a small git project in a temporary folder whose ``[tool.sessionlens] run`` is a training
script with coloured output, a warning on stderr and a progress bar; records three earlier
sessions through ``launch.launch`` (what ``sessionlens run`` does); opens the app headless on the
project's SQLite store; presses ``r`` and saves ``run_pane_running.svg`` while the child waits
for a file; lets it finish, re-runs the failed session with ``e`` and saves
``run_pane_finished.svg``. Nothing is drawn by hand: these are the app's own frames.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from sessionlens.launch import launch  # noqa: E402
from sessionlens.project import load_project  # noqa: E402
from sessionlens.stores import open_store  # noqa: E402
from sessionlens.tui.app import SessionLensApp  # noqa: E402

TRAIN = r'''
"""A pretend training run: coloured progress, a warning on stderr, a metric at the end."""
import json, os, sys, time

params = json.loads(os.environ.get("SESSIONLENS_PARAMS") or "{}")
scale = float(params.get("scale", 1))
wait = "--wait" in sys.argv
G, R, D, B, Y, X = "\x1b[32m", "\x1b[31m", "\x1b[2m", "\x1b[1m", "\x1b[33m", "\x1b[0m"
print(f"{B}spaceflights{X} session {os.environ['SESSIONLENS_SESSION_ID']}: scale={scale:g}")
for node, took in (("preprocess_companies", 0.42), ("preprocess_shuttles", 0.38),
                   ("create_model_input_table", 1.07)):
    print(f"[{G} ok {X}] {node:<28}{D}{took:.2f}s{X}")
    sys.stdout.flush()
    time.sleep(0.05)
print("UserWarning: column 'price' has 12 missing values, filled with the median",
      file=sys.stderr)
sys.stderr.flush()
time.sleep(0.1)
for epoch in range(1, 7):
    loss = 0.9 / (epoch * scale) + 0.05
    bar = "#" * (epoch * 4) + "." * (24 - epoch * 4)
    print(f"epoch {epoch}/6 [{bar}] loss {Y}{loss:.3f}{X}")
    sys.stdout.flush()
    time.sleep(0.05)
if wait:
    while not os.path.exists("release"):
        time.sleep(0.05)
score = min(0.99, 0.62 + 0.08 * scale)
if score < 0.8:
    print(f"[{R}FAIL{X}] evaluate_model: r2 {score:.2f} < 0.80", flush=True)
    time.sleep(0.1)
    print("ValueError: model r2 below threshold", file=sys.stderr)
    sys.exit(1)
print(f"[{G} ok {X}] evaluate_model              r2 {G}{score:.2f}{X}")
'''


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Ana", "-c", "user.email=ana@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "train.py").write_text(textwrap.dedent(TRAIN).lstrip())
    (root / ".gitignore").write_text(".viz/\nrelease\n")
    (root / "pyproject.toml").write_text(
        '[tool.sessionlens]\npackage_name = "spaceflights"\n'
        f'run = ["{Path(sys.executable).name}", "train.py", "--wait"]\n'
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "spaceflights pipeline")
    return root


def record_history(root: Path, store_path: Path) -> None:
    """Three earlier sessions, recorded as ``sessionlens run`` records them."""
    store = open_store(str(store_path), read_only=False, create=True)
    project = load_project(root, search_parents=False)
    try:
        for scale in (1, 3, 2):
            running = launch(
                [sys.executable, "train.py"], project=project, params={"scale": scale}, store=store
            )
            running.wait()
            time.sleep(0.01)
    finally:
        store.close()


async def wait_until(pilot: Any, condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.05)


async def shoot(root: Path, store_path: Path, out: Path) -> list[Path]:
    store = open_store(str(store_path), read_only=True)
    app = SessionLensApp(store, project=root, poll_interval=0.5)
    saved: list[Path] = []
    async with app.run_test(size=(130, 38)) as pilot:
        screen = app.sessions_screen
        await wait_until(pilot, lambda: screen.table.count == 3)
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: (
                screen.run_pane is not None
                and any("epoch 6/6" in line for line in screen.run_pane.log_view.lines())
            ),
        )
        await wait_until(pilot, lambda: screen.table.count == 4)
        await pilot.pause(0.6)
        saved.append(Path(app.save_screenshot("run_pane_running.svg", str(out))))
        (root / "release").write_text("")
        await wait_until(pilot, lambda: screen.run_pane.record is not None)
        # re-run the failed scale=1 session (the oldest) with e: a new session, rerun_of set
        await pilot.press("escape", "end", "e")
        await wait_until(
            pilot,
            lambda: screen.run_pane.rerun_of is not None and screen.run_pane.record is not None,
        )
        await pilot.pause(0.6)
        saved.append(Path(app.save_screenshot("run_pane_finished.svg", str(out))))
    store.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sessionlens-shots-") as tmp:
        root = make_project(Path(tmp) / "spaceflights")
        store_path = root / ".viz" / "session_store.db"
        store_path.parent.mkdir()
        record_history(root, store_path)
        for path in asyncio.run(shoot(root, store_path, args.out)):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
