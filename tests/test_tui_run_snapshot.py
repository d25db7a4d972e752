"""Snapshot of the run pane after a real run with fixed output (ANSI colours, stderr, a progress
bar, a failure), with a fixed session id and elapsed time so the picture never drifts.

The pane is hosted alone (the sessions table beside it shows start times); the child is real,
started through the session core exactly as the app does it.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult

from sessionlens.run_request import RunRequest
from sessionlens.session import Session
from sessionlens.stores.memory import MemoryStore
from sessionlens.tui import app as app_module
from sessionlens.tui.widgets.run_pane import RunPane

SESSION_ID = "2026-11-25T09.44.11.880Z"

REPORT = r"""
import sys, time
print("\x1b[1mspaceflights\x1b[0m: 3 nodes, params scale=3")
print("[\x1b[32m ok \x1b[0m] preprocess_companies   \x1b[2m0.42s\x1b[0m")
print("[\x1b[32m ok \x1b[0m] preprocess_shuttles     \x1b[2m0.38s\x1b[0m")
sys.stdout.flush()
time.sleep(0.2)  # two pipes keep no order between them: give the reader a moment
print("UserWarning: column 'price' has 12 missing values", file=sys.stderr)
sys.stderr.flush()
time.sleep(0.2)
print("training  10%\rtraining  60%\rtraining 100%")
print("[\x1b[31mFAIL\x1b[0m] train_model: \x1b[38;5;208mscore 0.71 < 0.80\x1b[0m\tsee\tlog")
sys.stdout.flush()
time.sleep(0.2)
print("ValueError: model score below threshold", file=sys.stderr)
sys.exit(1)
"""


class FrozenRunPane(RunPane):
    """The pane with a fixed elapsed time, so the picture never drifts."""

    def elapsed(self) -> float:
        return 1.25


class RunPaneHost(App[None]):
    #: the app's palette (status colours) and a full-height pane
    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))
    CSS = "Screen { layout: vertical; } RunPane { height: 1fr; }"

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def compose(self) -> ComposeResult:
        yield FrozenRunPane(RunRequest(["python", "report.py"]))

    def start_run(self) -> threading.Thread:
        """The launcher's job (``RunManager`` does it with ``launch.launch``, which makes its own
        session id): a core session with a fixed id, its reader thread, the pane's messages."""
        pane = self.query_one(RunPane)
        session = Session.create(self.root, MemoryStore(), session_id=SESSION_ID)
        script = self.root / "report.py"
        result: dict[str, Any] = {}

        def run() -> None:
            running = session.start([sys.executable, str(script)], on_output=pane.buffer.feed)
            pane.post_message(RunPane.Started(pane, running))
            result["record"] = running.wait()
            session.close()
            pane.post_message(RunPane.Ended(pane, running, result["record"], None))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def test_run_pane_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    (tmp_path / "report.py").write_text(REPORT.lstrip())
    app = RunPaneHost(tmp_path)

    async def run_before(pilot: Any) -> None:
        thread = app.start_run()
        pane = app.query_one(RunPane)
        for _ in range(1500):
            if pane.record is not None:
                break
            await pilot.pause(0.01)
        thread.join(5)
        assert pane.status == "failed" and pane.exit_code == 1
        pane.log_view.focus()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 16), run_before=run_before)
