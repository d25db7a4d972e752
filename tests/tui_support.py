"""Shared pieces of the app's tests: deterministic records, store backends, waiting helpers.

Records have fixed ids and times, so relative times are stable against ``NOW`` (the app's
frozen clock) and snapshots do not drift.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from sessionlens.record import new_session_id
from sessionlens.stores import open_store
from sessionlens.stores.base import SessionStore
from sessionlens.stores.memory import MemoryStore
from sessionlens.tui.app import SessionLensApp

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
START = datetime(2026, 11, 24, 8, 0, 0, tzinfo=timezone.utc)
PROJECT = "/srv/projects/spaceflights"
BRANCHES = ("main", "feature/offset-20", "main", "exp/scale")
STATUSES = ("success", "success", "failed", "success", "interrupted", "success")
SIZE = (150, 40)
#: wide enough for every column of the session table, kedro-viz's Title included
WIDE = (200, 40)
KEDRO = Path(__file__).parent / "data" / "kedro"
KEDRO_SHELVE = KEDRO / "kedro-0.18.14-shelvestore-dbm-dumb"
KEDRO_SQLITE = KEDRO / "kedro-0.19.15-kedro-viz-10.2.0-sqlitestore"


def make_record(i: int, **changes: Any) -> dict[str, Any]:
    """Session number ``i``: 37 minutes after the previous one, realistic Kedro + run fields."""
    started = START + timedelta(minutes=37 * i)
    status = STATUSES[i % len(STATUSES)]
    duration = round(4.0 + (i * 7.3) % 50, 2)
    scale = 1 + i % 4
    record: dict[str, Any] = {
        "session_id": new_session_id(started),
        "package_name": "spaceflights",
        "project_path": PROJECT,
        "username": ("ana", "ben", "chen")[i % 3],
        "cli": {
            "command_name": "run",
            "command_path": f"kedro run --params scale:{scale}",
            "args": [],
            "params": {"pipeline": None, "env": None, "params": {"scale": scale, "seed": 42}},
        },
        "git": {
            "commit_sha": f"{(0x54C4F0D + i * 4099) & 0xFFFFFFF:07x}",
            "branch": BRANCHES[i % len(BRANCHES)],
            "dirty": i % 5 == 3,
        },
        "run": {
            "status": status,
            "started_at": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "finished_at": (started + timedelta(seconds=duration))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "duration_s": duration,
            "exit_code": {"success": 0, "failed": 1, "interrupted": 130}[status],
            "hostname": "build-01",
            "pid": 4000 + i,
            "command": ["kedro", "run", "--params", f"scale:{scale}"],
        },
    }
    if status == "failed":
        record["exception"] = {
            "type": "ValueError",
            "value": f"scale {scale} is out of range",
            "traceback": ["Traceback (most recent call last):\n", "ValueError: out of range\n"],
        }
    record.update(changes)
    return record


def make_log(i: int, lines: int = 40) -> str:
    return "".join(
        f"2026-11-24 08:{(i + n) % 60:02d}:00 INFO node_{n % 3}: step {n} of session {i}\n"
        for n in range(lines)
    )


def sid(i: int) -> str:
    return make_record(i)["session_id"]


@dataclass
class Backend:
    """A store kind the app is tested on: a writer (another process, in spirit) and a reader."""

    kind: str
    writer: SessionStore
    spec: str

    def write(self, records: Iterable[dict[str, Any]], logs: dict[str, str] | None = None) -> None:
        self.writer.insert_many(list(records))
        for session_id, text in (logs or {}).items():
            self.writer.append_log(session_id, text)

    def open(self) -> SessionStore:
        """The store the app browses: read-only, except memory which cannot be shared."""
        if self.kind == "memory":
            return self.writer
        return open_store(self.spec, read_only=True)


def make_backend(kind: str, tmp_path: Path) -> Backend:
    if kind == "memory":
        return Backend(kind, MemoryStore(), "memory:")
    if kind == "shelve":
        spec = f"shelve://{tmp_path / 'sessions'}"
    else:
        spec = f"sqlite://{tmp_path / 'session_store.db'}"
    return Backend(kind, open_store(spec, read_only=False, create=True), spec)


def fill(backend: Backend, count: int = 12) -> None:
    """``count`` sessions, logs for every third one."""
    backend.write(
        (make_record(i) for i in range(count)),
        {sid(i): make_log(i) for i in range(0, count, 3)},
    )


def make_app(store: SessionStore, **kwargs: Any) -> SessionLensApp:
    kwargs.setdefault("poll_interval", 0.2)
    return SessionLensApp(store, now=NOW, tz=timezone.utc, **kwargs)


async def wait_for(
    pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0, what: str = ""
) -> None:
    """Let the app run until ``condition()`` holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)
    await pilot.pause()


async def loaded(pilot: Pilot) -> None:
    """Wait until the sessions table shows its first query and the detail panel is filled."""
    app = pilot.app
    await wait_for(pilot, lambda: _table_ready(app), what="the session table to load")


def _table_ready(app: Any) -> bool:
    from sessionlens.tui.screens.sessions import SessionsScreen

    screen = app.screen
    if not isinstance(screen, SessionsScreen):
        return False
    table = screen.table
    return table.client is not None and not table.is_loading and table._loaded_generation > 0


def table_lines(app: Any) -> list[str]:
    """The visible text of the session table, one string per line (header first)."""
    table = app.screen.table
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def widget_text(widget: Any) -> str:
    """Everything a widget (and, for a container, its widgets) shows, as plain text."""
    lines: list[str] = []
    for node in [widget, *widget.walk_children()]:
        if not node.children and node.display:
            lines += [strip.text for strip in node.render_lines(node.size.region)]
    return "\n".join(lines)


def app_test(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test in its own event loop (no async pytest plugin needed)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


#: a metric name that looks like markup and carries an escape code (shown, never obeyed)
ODD_METRIC = "[bold]odd\x1b[31m"


def make_metric_record(i: int, *, with_metrics: bool = True) -> dict[str, Any]:
    """Session ``i`` with metrics (accuracy rises, loss falls with ``i``) and node timings
    (``train`` gets slower with ``i``), as ``log_metrics`` and the Kedro hooks record them."""
    record = make_record(i)
    if with_metrics:
        record["metrics"] = {
            "accuracy": round(0.80 + 0.01 * i, 4),
            "loss": round(1.0 - 0.05 * i, 4),
            ODD_METRIC: float(i),
        }
    record["nodes"] = [
        {"name": "preprocess", "status": "success", "duration_s": 2.0},
        {"name": "train", "status": "success", "duration_s": 10.0 + 5.0 * i},
        {
            "name": "evaluate",
            "status": "failed" if i == 3 else "success",
            "duration_s": 1.0 - 0.2 * (i % 2),
        },
    ]
    return record


def metrics_backend(tmp_path: Path, count: int = 8, without: tuple[int, ...] = (2,)) -> Backend:
    """A real SQLite store in ``tmp_path``: ``count`` sessions with metrics and node timings,
    those in ``without`` with node timings only."""
    backend = make_backend("sqlite", tmp_path)
    backend.write(make_metric_record(i, with_metrics=i not in without) for i in range(count))
    return backend
