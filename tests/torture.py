"""Helpers for the torture tests: CPU load beside the test, and many writer processes at once.

A race that a quiet machine hides is still a race: the writers run while busy loops keep every
core loaded, and start at the same instant.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: how many times the slow torture tests repeat their scenario (CI: once; by hand: 10)
REPEAT = int(os.environ.get("SESSIONLENS_TORTURE_REPEAT", "1"))


def long_torture_run(config: Any) -> bool:
    """A long torture run: ``-m torture`` selected (``-m "not torture"`` deselects them all
    anyway) or ``SESSIONLENS_TORTURE_REPEAT`` set. Only then do the heaviest repetitions run
    (``@pytest.mark.torture(long=True)``) and the always-on ones at their full scale."""
    return "torture" in (config.getoption("markexpr") or "") or (
        "SESSIONLENS_TORTURE_REPEAT" in os.environ
    )


@contextlib.contextmanager
def cpu_load(loops: int = 2) -> Iterator[None]:
    """``loops`` processes spinning as fast as they can until the block ends."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(loops)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


#: One writer process of many: ``n`` sessions through the Python API, each a callable run.
#: Prints the ids of its sessions as JSON. Starts at the common instant ``start``.
SESSION_WRITER = """
import json, sys, time
from sessionlens.session import Session
project, spec, n, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
while time.time() < start:
    time.sleep(0.0005)
ids = []
for i in range(n):
    with Session.create(project, spec) as session:
        session.run(lambda: None)
    ids.append(session.session_id)
print(json.dumps(ids))
"""


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[tool.sessionlens]\nrun = ["true"]\n')
    return root


def many_writers(
    project: Path,
    spec: str,
    processes: int,
    sessions: int,
    timeout: float = 600,
    start: float | None = None,
) -> tuple[list[int], list[str], list[str]]:
    """Start ``processes`` writers of ``sessions`` sessions each at the same instant (``start``,
    a ``time.time()``, to line them up with other writers); their exit codes, the ids they
    report and their stderr."""
    start = start or time.time() + 1.0 + processes * 0.05
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SESSION_WRITER, str(project), spec, str(sessions), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outputs = [p.communicate(timeout=timeout) for p in procs]
    ids = [sid for out, _ in outputs if out.strip() for sid in json.loads(out)]
    return [p.returncode for p in procs], ids, [err for _, err in outputs if err.strip()]
