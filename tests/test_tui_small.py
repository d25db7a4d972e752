"""80x24: the session table drops low-priority columns instead of squeezing, the header keeps
the count and the sort, the compare header keeps both ids, and side-by-side logs stay each in
its own column (pilot; the snapshots at 80x24 are in ``test_tui_snapshots.py``)."""

from __future__ import annotations

from pathlib import Path

from sessionlens.tui.screens.compare import CompareScreen
from sessionlens.tui.widgets.session_columns import (
    COLUMNS,
    fit_columns,
    metric_column,
    with_metrics,
)
from sessionlens.tui.widgets.store_header import StoreHeader
from tui_support import (
    app_test,
    fill,
    loaded,
    make_app,
    make_backend,
    make_record,
    sid,
    table_lines,
    wait_for,
    widget_text,
)

SMALL = (80, 24)


def names(columns: tuple) -> list[str]:
    return [c.name for c in columns]


def test_narrow_tables_drop_the_least_important_columns_first() -> None:
    assert names(fit_columns(COLUMNS, 400)) == names(COLUMNS)
    at_80 = names(fit_columns(COLUMNS, 78))
    assert at_80 == ["mark", "started", "status", "branch", "command"]
    with_metric = with_metrics(COLUMNS, ["accuracy"])
    wider = names(fit_columns(with_metric, 78 + 25 + metric_column("accuracy").width + 1))
    assert wider == ["mark", "started", "id", "status", "branch", "metric.accuracy", "command"]
    assert names(fit_columns(COLUMNS, 3)) == ["mark"]


@app_test
async def test_sessions_at_80_columns_keep_status_started_branch_command(tmp_path: Path) -> None:
    backend = make_backend("sqlite", tmp_path)
    fill(backend, 5)
    app = make_app(backend.open(), poll_interval=60)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        header, first = table_lines(app)[:2]
        for label in ("Started", "Status", "Branch", "Command"):
            assert label in header
        for label in ("User", "Params", "Sha", "Dirty"):
            assert label not in header
        assert "kedro run" in first and "…" not in header
        top = widget_text(app.screen.query_one(StoreHeader))
        assert "5 sessions" in top and "sorted by started ▼" in top
        assert "session_store.db" in top  # the file name of a long path stays
        seen = []
        for _ in range(4):  # s cycles the columns shown: started, status, branch, command
            await pilot.press("s")
            seen.append(app.screen.sort)
        assert seen == ["status", "branch", "command", "started"]
        await pilot.resize_terminal(200, 40)
        await pilot.pause()
        assert "User" in table_lines(app)[0]


@app_test
async def test_compare_at_80_columns_keeps_both_ids_and_logs_apart(tmp_path: Path) -> None:
    backend = make_backend("memory", tmp_path)
    fill(backend, 3)
    long = "".join(f"step {i} " + "x" * 150 + " 日本語 end\n" for i in range(5))
    backend.write([make_record(3)], {sid(3): long, sid(2): long})
    app = make_app(backend.writer, poll_interval=60)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        await pilot.press("space", "down", "c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.git_done)
        title = widget_text(screen.query_one("#compare-title"))
        assert screen.left_id in title and screen.right_id in title
        screen.query_one("#compare-tabs").active = "tab-logs"
        await pilot.pause(0.2)
        for view in ("#left-log", "#right-log"):
            log = screen.query_one(view)
            first = log.render_line(0).text
            assert first.endswith("…") and len(first) == log.scrollable_content_region.width
        assert screen.query_one("#right-log-side").styles.border_left[0] == "vkey"
