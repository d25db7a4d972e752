"""Screenshots of every screen of the app, taken from the real app on the real demo store.

    python screenshots/make_screenshots.py [--out screenshots] [--demo-dir DIR]

Builds the demo project (``sessionlens.demo``: a git repo and real recorded sessions, as
``sessionlens demo`` does) in a temporary folder unless ``--demo-dir`` names one, opens its
store read-only in the app headless (``App.run_test``), drives it with key presses and saves an
SVG of each screen with ``app.save_screenshot``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from textual.pilot import Pilot  # noqa: E402

from sessionlens.demo import build_demo  # noqa: E402
from sessionlens.record import params_of  # noqa: E402
from sessionlens.stores import open_store  # noqa: E402
from sessionlens.tui.app import SessionLensApp  # noqa: E402
from sessionlens.tui.screens.compare import CompareScreen  # noqa: E402
from sessionlens.tui.screens.detail import DetailScreen  # noqa: E402
from sessionlens.tui.screens.plot import PlotScreen  # noqa: E402
from sessionlens.tui.screens.sessions import SessionsScreen  # noqa: E402

SIZE = (160, 44)


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {condition}")
        await pilot.pause(0.05)
    await pilot.pause(0.2)


async def select(pilot: Pilot, app: SessionLensApp, predicate: Callable[..., bool]) -> None:
    """Move the table's cursor to the first session for which ``predicate(summary)`` holds."""
    table = app.screen.table
    for index in range(table.count):
        row = table.pages.row(index)
        if row is not None and predicate(row):
            table.move_cursor(index)
            await pilot.pause(0.3)
            return
    raise SystemExit("no such session in the demo store")


async def shoot(app: SessionLensApp, pilot: Pilot, out: Path, name: str) -> None:
    await pilot.pause(0.2)
    app.clear_notifications()
    await pilot.pause()
    app.save_screenshot(filename=f"{name}.svg", path=str(out))
    print(f"  {out / (name + '.svg')}")


async def metric_screens(
    app: SessionLensApp, pilot: Pilot, screen: SessionsScreen, out: Path
) -> None:
    """Metric columns, compare's Metrics and Nodes tabs over three sessions, the plot. Taken
    only when the demo's sessions have metrics (recorded by ``log_metrics``/the Kedro hooks)."""
    names = app.store.metric_names()
    if not names:
        print("  (the demo sessions have no metrics: metric screens skipped)")
        return
    screen.set_metric_columns(names[:3])
    await until(pilot, lambda: not screen.table.is_loading)
    screen.sort_by(f"metric.{names[0]}")
    await until(pilot, lambda: screen.table.shown_query.sort == f"metric.{names[0]}")
    await shoot(app, pilot, out, "sessions-metrics")
    screen.sort_by("started")
    await until(pilot, lambda: screen.table.shown_query.sort == "started")
    screen.marked_ids.clear()
    for index in (0, 1, 2):
        screen.table.move_cursor(index)
        await pilot.press("space")
    await pilot.press("c")
    await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.results)
    await shoot(app, pilot, out, "compare-metrics")
    await pilot.press("6")
    await shoot(app, pilot, out, "compare-nodes")
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
    await pilot.press("p")
    await until(pilot, lambda: isinstance(app.screen, PlotScreen) and app.screen.data)
    await shoot(app, pilot, out, "plot")
    await pilot.press("escape")
    for session_id in list(screen.marked_ids):  # unmark, as before
        screen.marked_ids.remove(session_id)
    screen.table.marked.clear()
    screen.set_metric_columns([])
    await until(pilot, lambda: isinstance(app.screen, SessionsScreen))


async def take(store_spec: str, project: Path, out: Path) -> None:
    store = open_store(store_spec, read_only=True)
    app = SessionLensApp(store, project=project)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, SessionsScreen) and app.screen.table.count
        )
        screen: SessionsScreen = app.screen
        await select(pilot, app, lambda s: s.status == "failed")
        await shoot(app, pilot, out, "sessions")

        await pilot.press("slash", *"branch:main", "enter")
        await until(pilot, lambda: not screen.table.is_loading)
        await pilot.press("s", "s", "s")  # sort by duration
        await until(pilot, lambda: screen.table.shown_query.sort == "duration")
        await shoot(app, pilot, out, "sessions-filtered")
        screen.set_filter("")
        await until(pilot, lambda: screen.current_query.is_empty and not screen.table.is_loading)
        await pilot.press("S", "S", "S", "S")  # back to newest first
        screen.sort_by("started")
        await until(pilot, lambda: screen.table.shown_query.sort == "started")

        def markup(s) -> bool:  # the run whose output looks like Rich markup and ANSI codes
            return "label" in params_of(app.store.get(s.session_id))

        await select(pilot, app, markup)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.record)
        await shoot(app, pilot, out, "detail-record")
        await pilot.press("3")
        await pilot.press("slash", *"rows", "enter")
        await until(pilot, lambda: app.screen.query_one("#log-view").match is not None)
        await shoot(app, pilot, out, "detail-log")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))

        await select(pilot, app, lambda s: s.branch == "main" and not s.dirty and not s.rerun_of)
        await pilot.press("space")
        await select(
            pilot,
            app,
            lambda s: (
                s.branch == "feature/faster-scale"
                and "scale" in params_of(app.store.get(s.session_id))
            ),
        )
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.git_done)
        await shoot(app, pilot, out, "compare")
        await pilot.press("d")
        await shoot(app, pilot, out, "compare-differences")
        await pilot.press("2")
        await shoot(app, pilot, out, "compare-params")
        await pilot.press("3")
        await shoot(app, pilot, out, "compare-git")
        await pilot.press("4")
        await shoot(app, pilot, out, "compare-logs")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))

        await metric_screens(app, pilot, screen, out)

        await pilot.press("question_mark")
        await shoot(app, pilot, out, "help")
        await pilot.press("escape")

        await pilot.press("o")
        app.screen.query_one("Input").value = str(project)
        await until(pilot, lambda: app.screen.detected is not None)
        app.screen.query_one("Input").cursor_blink = False
        await shoot(app, pilot, out, "open-store")
        await pilot.press("escape")

        await pilot.press("ctrl+p")
        await pilot.press(*"sort by")
        await pilot.pause(0.5)
        await shoot(app, pilot, out, "command-palette")
        await pilot.press("escape")

        await pilot.press("t")
        await shoot(app, pilot, out, "sessions-light")
    store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--demo-dir", type=Path, help="where to build the demo (default: temp)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sessionlens-screens-") as tmp:
        folder = args.demo_dir or Path(tmp) / "demo"
        print(f"building the demo project in {folder}")
        demo = build_demo(folder, progress=print)
        args.out.mkdir(parents=True, exist_ok=True)
        asyncio.run(take(demo.store, demo.path, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
