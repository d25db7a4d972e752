"""Snapshot tests: what each screen looks like, pinned as SVG (pytest-textual-snapshot).

Deterministic data (fixed ids and times, frozen clock, UTC, a memory store) and a fixed terminal
size. After an intended change of the UI: ``pytest tests/test_tui_snapshots.py --snapshot-update``
and review the SVGs under ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from sessionlens.tui.screens.compare import CompareScreen
from sessionlens.tui.screens.detail import DetailScreen
from sessionlens.tui.screens.plot import PlotScreen
from sessionlens.tui.widgets.log_view import LogView
from tui_support import (
    SIZE,
    fill,
    loaded,
    make_app,
    make_backend,
    make_log,
    make_metric_record,
    make_record,
    sid,
    wait_for,
)

Steps = Callable[[Pilot], Awaitable[None]]


def snapshot_app(tmp_path: Path, **kwargs: Any):
    backend = make_backend("memory", tmp_path)
    fill(backend, 24)
    failed = make_record(
        24,
        run={**make_record(24)["run"], "status": "failed", "exit_code": 1},
        exception={"type": "KeyError", "value": "'[bold]companies[/]'", "traceback": []},
    )
    backend.write([failed], {sid(24): make_log(24, 300) + "\x1b[31mKeyError\x1b[0m\n"})
    # one session sits on a detached HEAD and has no run data: a Kedro record as Kedro writes it
    kedro = make_record(25)
    kedro.pop("run")
    kedro["git"].pop("branch")
    backend.write([kedro])
    return make_app(backend.writer, poll_interval=60, **kwargs)


def steps(*keys: str, then: Steps | None = None) -> Steps:
    async def run(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.pause(0.15)  # the detail panel's debounce
        for key in keys:
            await pilot.press(key)
        if then is not None:
            await then(pilot)
        await pilot.pause(0.15)
        pilot.app.clear_notifications()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    return run


async def _detail_loaded(pilot: Pilot) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
    await wait_for(pilot, lambda: pilot.app.screen.record is not None)


async def _compare_loaded(pilot: Pilot) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
    await wait_for(pilot, lambda: pilot.app.screen.git_done)


def test_sessions_screen(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=steps("down"))


def test_sessions_screen_light_filtered_sorted(snap_compare, tmp_path: Path) -> None:
    async def filtered(pilot: Pilot) -> None:
        pilot.app.screen.set_filter("branch:main")
        await wait_for(pilot, lambda: pilot.app.screen.table.count == 13)
        await pilot.press("s", "s", "s")  # sort by duration
        await wait_for(pilot, lambda: pilot.app.screen.table.shown_query.sort == "duration")

    app = snapshot_app(tmp_path, theme="textual-light")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(then=filtered))


def test_sessions_filter_error(snap_compare, tmp_path: Path) -> None:
    async def bad(pilot: Pilot) -> None:
        await pilot.press("slash")
        pilot.app.screen.set_filter("status:failed dirty:perhaps")
        await wait_for(pilot, lambda: pilot.app.screen.query_one("FilterBar").error is not None)

    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=steps(then=bad))


def test_detail_screen_record_tree(snap_compare, tmp_path: Path) -> None:
    run_before = steps("down", "enter", then=_detail_loaded)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_detail_screen_json(snap_compare, tmp_path: Path) -> None:
    async def json_tab(pilot: Pilot) -> None:
        await _detail_loaded(pilot)
        await pilot.press("2")

    run_before = steps("down", "enter", then=json_tab)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_detail_screen_log_search(snap_compare, tmp_path: Path) -> None:
    async def search(pilot: Pilot) -> None:
        await _detail_loaded(pilot)
        await pilot.press("slash", *"step 250", "enter")
        view = pilot.app.screen.query_one("#log-view", LogView)
        await wait_for(pilot, lambda: view.match is not None)

    run_before = steps("down", "enter", then=search)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_compare_screen(snap_compare, tmp_path: Path) -> None:
    run_before = steps("space", "down", "down", "c", then=_compare_loaded)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_compare_screen_only_differences(snap_compare, tmp_path: Path) -> None:
    async def only(pilot: Pilot) -> None:
        await _compare_loaded(pilot)
        await pilot.press("d")

    run_before = steps("space", "down", "c", then=only)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_compare_screen_params(snap_compare, tmp_path: Path) -> None:
    async def params(pilot: Pilot) -> None:
        await _compare_loaded(pilot)
        await pilot.press("2")

    run_before = steps("space", "down", "c", then=params)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, tmp_path: Path) -> None:
    run_before = steps("question_mark")
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_open_store_screen(snap_compare, tmp_path: Path) -> None:
    async def typed(pilot: Pilot) -> None:
        pilot.app.screen.query_one(Input).value = "memory:"
        await wait_for(pilot, lambda: pilot.app.screen.detected is not None)

    run_before = steps("o", then=typed)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def metrics_app(tmp_path: Path):
    """Eight sessions with metrics and node timings (session 2 without metrics)."""
    backend = make_backend("memory", tmp_path)
    backend.write(make_metric_record(i, with_metrics=i != 2) for i in range(8))
    return make_app(backend.writer, poll_interval=60)


async def _results_loaded(pilot: Pilot) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
    await wait_for(pilot, lambda: pilot.app.screen.results is not None)
    await wait_for(pilot, lambda: pilot.app.screen.git_done)


def test_compare_metrics_tab(snap_compare, tmp_path: Path) -> None:
    async def metrics(pilot: Pilot) -> None:
        await _results_loaded(pilot)
        await pilot.press("5", "down")

    run_before = steps("down", "space", "down", "down", "c", then=metrics)
    assert snap_compare(metrics_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_compare_nodes_tab_three_sessions(snap_compare, tmp_path: Path) -> None:
    async def nodes(pilot: Pilot) -> None:
        await _results_loaded(pilot)
        await pilot.press("6")

    run_before = steps("end", "space", "up", "up", "space", "up", "c", then=nodes)
    assert snap_compare(metrics_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_plot_screen(snap_compare, tmp_path: Path) -> None:
    async def plot(pilot: Pilot) -> None:
        pilot.app.screen.set_metric_columns(["accuracy", "loss"])
        await pilot.press("down", "down", "space", "p")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PlotScreen))
        await wait_for(pilot, lambda: pilot.app.screen.data is not None)

    run_before = steps("down", "space", then=plot)
    assert snap_compare(metrics_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_sessions_screen_metric_columns(snap_compare, tmp_path: Path) -> None:
    async def columns(pilot: Pilot) -> None:
        pilot.app.screen.set_metric_columns(["accuracy", "loss"])
        pilot.app.screen.sort_by("metric.loss")
        await wait_for(pilot, lambda: pilot.app.screen.table.shown_query.sort == "metric.loss")

    assert snap_compare(metrics_app(tmp_path), terminal_size=SIZE, run_before=steps(then=columns))


def test_notes_dialog(snap_compare, tmp_path: Path) -> None:
    """Stored text that looks like markup or holds an escape code, shown as its characters."""
    app = snapshot_app(tmp_path)
    app.client.store.set_user_details(
        sid(25), title="[bold]Tuned[/] \x1b[31mred", notes="first line\nsecond [i]line[/i]"
    )

    async def opened(pilot: Pilot) -> None:
        from sessionlens.tui.screens.notes import NotesScreen

        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, NotesScreen))
        pilot.app.screen.query_one("#notes-title", Input).cursor_position = 0

    assert snap_compare(app, terminal_size=SIZE, run_before=steps(then=opened))


def test_delete_confirmation(snap_compare, tmp_path: Path) -> None:
    async def asked(pilot: Pilot) -> None:
        from sessionlens.tui.screens.confirm import ConfirmScreen

        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        pilot.app.clear_notifications()  # "Marked ...": a toast whose timing is not the point
        await pilot.pause()

    app = snapshot_app(tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("space", "down", then=asked))


# -- 80x24: a small terminal --------------------------------------------------------------------
SMALL = (80, 24)


def test_sessions_screen_80x24(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SMALL, run_before=steps("down"))


def test_detail_screen_80x24(snap_compare, tmp_path: Path) -> None:
    run_before = steps("down", "enter", then=_detail_loaded)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SMALL, run_before=run_before)


def test_compare_screen_80x24(snap_compare, tmp_path: Path) -> None:
    run_before = steps("space", "down", "down", "c", then=_compare_loaded)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SMALL, run_before=run_before)


def test_compare_logs_80x24(snap_compare, tmp_path: Path) -> None:
    async def logs(pilot: Pilot) -> None:
        await _compare_loaded(pilot)
        await pilot.press("4")

    run_before = steps("space", "down", "down", "c", then=logs)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SMALL, run_before=run_before)
