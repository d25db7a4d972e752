"""A closed terminal must not leave a run behind: the real ``sessionlens`` in a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sessionlens.stores import open_store
from sessiontools import pid_alive
from test_tui_run import make_project


def _drain(fd: int, seen: bytearray) -> None:
    """Read the app's screen output so it never blocks on a full terminal buffer."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        seen.extend(chunk)


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_hangup_or_kill_stops_the_running_child(tmp_path: Path, sig: signal.Signals) -> None:
    root = make_project(tmp_path / "proj", run=["wait.py"])
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    app = subprocess.Popen(
        [sys.executable, "-m", "sessionlens"],
        cwd=root,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    reader = threading.Thread(target=_drain, args=(master, seen), daemon=True)
    reader.start()
    try:
        _wait(lambda: b"sessions" in seen, 20, "the app to paint")
        pids = root / "pids.txt"
        deadline = time.monotonic() + 20
        while not (pids.exists() and len(pids.read_text().split()) == 2):
            assert time.monotonic() < deadline, "the run did not start"
            os.write(master, b"r")  # a refused second launch is harmless
            time.sleep(0.5)
        pid, grandchild = map(int, pids.read_text().split())
        assert pid_alive(pid)
        app.send_signal(sig)
        _wait(lambda: not pid_alive(pid) and not pid_alive(grandchild), 10, "the child to end")
        app.wait(timeout=15)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        os.close(master)
    with open_store(str(root / ".viz" / "session_store.db")) as store:
        (summary,) = store.list_summaries()
        assert summary.status == "interrupted"
