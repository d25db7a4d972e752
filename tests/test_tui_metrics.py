"""Metrics in the app, driven through Pilot on real SQLite stores: metric columns (chosen with
``m``, remembered per store), sorting and filtering by a metric, the Metrics and Nodes tabs of
compare (two sessions and three), and the plot screen."""

from __future__ import annotations

import json
from pathlib import Path

from rich.text import Text
from textual.widgets import SelectionList, Static

from sessionlens.tui.palette import palette_of
from sessionlens.tui.screens.compare import CompareScreen
from sessionlens.tui.screens.metric_chooser import MetricChooserScreen
from sessionlens.tui.screens.plot import PlotScreen
from sessionlens.tui.screens.sessions import SessionsScreen
from sessionlens.tui.settings import FILE_NAME
from sessionlens.tui.widgets.metric_table import MetricTable
from sessionlens.tui.widgets.node_table import NodeTable
from tui_support import (
    ODD_METRIC,
    SIZE,
    WIDE,
    app_test,
    loaded,
    make_app,
    metrics_backend,
    sid,
    table_lines,
    wait_for,
    widget_text,
)


def ids_shown(app) -> list[str]:
    table = app.screen.table
    return [table.pages.row(i).session_id for i in range(table.count)]


async def choose_columns(pilot, names: list[str]) -> None:
    app = pilot.app
    await pilot.press("m")
    await wait_for(pilot, lambda: isinstance(app.screen, MetricChooserScreen), what="chooser")
    chooser: MetricChooserScreen = app.screen
    await wait_for(pilot, lambda: chooser.names is not None, what="metric names")
    selection = chooser.query_one(SelectionList)
    selection.deselect_all()
    for name in names:
        selection.select(name)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen), what="back")


@app_test
async def test_metric_columns_are_chosen_with_m_and_remembered_per_store(
    tmp_path: Path, config_dir: Path
) -> None:
    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricChooserScreen))
        chooser: MetricChooserScreen = app.screen
        await wait_for(pilot, lambda: chooser.names is not None)
        assert sorted(chooser.names) == sorted(["accuracy", "loss", ODD_METRIC])
        listed = widget_text(chooser)
        assert "[bold]odd␛[31m" in listed  # markup and escape codes shown literally
        await pilot.press("escape")  # cancel: nothing changes
        assert app.screen.table.metric_columns == ()
        await choose_columns(pilot, ["accuracy", "loss"])
        screen: SessionsScreen = app.screen
        assert screen.table.metric_columns == ("accuracy", "loss")
        lines = table_lines(app)
        assert "accuracy" in lines[0] and "loss" in lines[0]
        header = lines[0]
        newest = lines[1]  # session 7: accuracy 0.87, loss 0.65
        col = header.index("accuracy")
        assert newest[col - 2 : col + 8] == "      0.87"  # right-aligned in its 10 cells
        assert "0.65" in newest
        row_without = next(line for line in lines if sid(2) in line)  # no metrics: empty
        assert row_without[col - 2 : col + 8].strip() == ""
    saved = json.loads((config_dir / FILE_NAME).read_text())
    (key,) = saved["stores"]
    assert key.startswith("sqlite:") and saved["stores"][key]["metric_columns"] == [
        "accuracy",
        "loss",
    ]
    # a restart of the app on the same store shows them again
    app = make_app(backend.open())
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot)
        assert app.screen.table.metric_columns == ("accuracy", "loss")
        assert "accuracy" in table_lines(app)[0]
    backend.writer.close()


@app_test
async def test_a_corrupt_settings_file_is_ignored_with_a_notice(
    tmp_path: Path, config_dir: Path
) -> None:
    (config_dir / FILE_NAME).write_text("{not json")
    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot)
        assert any("Ignored the settings" in n.message for n in app._notifications)
        assert app.screen.table.metric_columns == ()
        await choose_columns(pilot, ["loss"])  # and the next choice replaces the bad file
    assert "loss" in (config_dir / FILE_NAME).read_text()
    backend.writer.close()


@app_test
async def test_sort_by_a_metric_column_goes_through_the_store(tmp_path: Path) -> None:
    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot)
        await choose_columns(pilot, ["accuracy", "loss"])
        screen: SessionsScreen = app.screen
        # ``s`` cycles through the metric columns like the others; higher accuracy first
        for _ in range(20):
            if screen.sort == "metric.accuracy":
                break
            await pilot.press("s")
        await wait_for(pilot, lambda: screen.table.shown_query.sort == "metric.accuracy")
        await wait_for(pilot, lambda: not screen.table.is_loading)
        with_metric = [sid(i) for i in (7, 6, 5, 4, 3, 1, 0)]
        assert ids_shown(app) == [*with_metric, sid(2)]  # without the metric: last
        assert "▼ accuracy" in table_lines(app)[0]
        # a click on the loss header sorts by loss, best (lowest) first
        header = table_lines(app)[0]
        await pilot.click(screen.table, offset=(header.index("loss") + 2, 0))
        await wait_for(pilot, lambda: screen.table.shown_query.sort == "metric.loss")
        await wait_for(pilot, lambda: not screen.table.is_loading)
        assert not screen.table.shown_query.descending
        assert ids_shown(app)[:3] == [sid(7), sid(6), sid(5)]
        await pilot.press("S")
        await wait_for(pilot, lambda: screen.table.shown_query.descending)
        await wait_for(pilot, lambda: not screen.table.is_loading)
        assert ids_shown(app)[:2] == [sid(0), sid(1)]
    backend.writer.close()


@app_test
async def test_filter_by_a_metric(tmp_path: Path) -> None:
    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"metric.accuracy>=0.85", "enter")
        await wait_for(pilot, lambda: app.screen.table.count == 3, what="metric filter")
        assert ids_shown(app) == [sid(7), sid(6), sid(5)]
        app.screen.set_filter("metric.loss<0.9 -metric.accuracy>0.86")
        await wait_for(pilot, lambda: app.screen.table.count == 4, what="two metric terms")
        assert set(ids_shown(app)) == {sid(i) for i in (3, 4, 5, 6)}
    backend.writer.close()


def cell_style(table, row: int, column: str) -> Text:
    return table.get_cell_at((row, table.get_column_index(column)))


async def open_compare(pilot, marks: list[int], selected: int) -> CompareScreen:
    """Mark the sessions ``marks`` (by number), select ``selected``, press c."""
    app = pilot.app
    screen: SessionsScreen = app.screen
    for n in marks:
        screen.table.move_cursor(ids_shown(app).index(sid(n)))
        await pilot.press("space")
    screen.table.move_cursor(ids_shown(app).index(sid(selected)))
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare")
    compare: CompareScreen = app.screen
    await wait_for(pilot, lambda: compare.results is not None, what="results")
    return compare


@app_test
async def test_compare_metrics_tab_verdicts_by_direction_and_flip(
    tmp_path: Path, config_dir: Path
) -> None:
    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        compare = await open_compare(pilot, [1], 4)
        await pilot.press("5")
        assert compare.query_one("TabbedContent").active == "tab-metrics"
        table = compare.query_one(MetricTable)
        assert app.focused is table
        names = [row.name for row in table.metric_rows]
        assert names == ["accuracy", "loss", ODD_METRIC]
        palette = palette_of(compare)
        text = widget_text(table)
        assert "0.81" in text and "0.84" in text and "+0.03" in text
        assert "[bold]odd␛[31m" in text
        acc, loss = names.index("accuracy"), names.index("loss")
        # accuracy went up: better (green); loss went down: better as well (lower is better)
        assert cell_style(table, acc, "verdict-1").plain == "better"
        assert cell_style(table, acc, "verdict-1").style == palette["success"]
        assert cell_style(table, loss, "verdict-1").plain == "better"
        assert cell_style(table, loss, "direction-0" if False else "direction").plain.startswith(
            "↓ lower"
        )
        # f flips the selected metric (accuracy: now lower is better, so worse and red)
        table.move_cursor(row=acc)
        await pilot.press("f")
        assert cell_style(table, acc, "verdict-1").plain == "worse"
        assert cell_style(table, acc, "verdict-1").style == palette["error"]
        assert "(set)" in cell_style(table, acc, "direction").plain
        saved = json.loads((config_dir / FILE_NAME).read_text())
        (settings,) = saved["stores"].values()
        assert settings["directions"] == {"accuracy": "lower"}
        # remembered: a new compare of the same store says the same
        await pilot.press("escape")
        compare = await open_compare(pilot, [], 5)
        table = compare.query_one(MetricTable)
        acc = [row.name for row in table.metric_rows].index("accuracy")
        assert cell_style(table, acc, "verdict-1").plain == "worse"
        # flipped back to what the name says: the override is forgotten
        compare.action_show_tab("tab-metrics")
        table.move_cursor(row=acc)
        await pilot.press("f")
        assert cell_style(table, acc, "verdict-1").plain == "better"
        (settings,) = json.loads((config_dir / FILE_NAME).read_text())["stores"].values()
        assert settings["directions"] == {}
    backend.writer.close()


@app_test
async def test_compare_nodes_tab_highlights_slower_nodes(tmp_path: Path) -> None:
    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        compare = await open_compare(pilot, [1], 3)
        await pilot.press("6")
        table = compare.query_one(NodeTable)
        assert [row.name for row in table.node_rows] == ["preprocess", "train", "evaluate"]
        palette = palette_of(compare)
        train = 1
        assert table.node_rows[train].verdicts == ("", "slower")
        assert cell_style(table, train, "node").plain == "▲ train"
        assert cell_style(table, train, "node").style.color == palette["error"].color
        assert cell_style(table, train, "duration-0").plain == "15.0s"
        assert cell_style(table, train, "duration-1").plain == "25.0s"
        assert cell_style(table, train, "delta-1").plain == "+10.0s"
        assert cell_style(table, 0, "node").plain == "  preprocess"  # same: not highlighted
        status = cell_style(table, 2, "status").plain
        assert status == "A:success B:failed"
        legend = widget_text(compare.query_one("#nodes-legend"))
        assert "slower than in A" in legend and sid(1) in legend
    backend.writer.close()


@app_test
async def test_compare_three_sessions(tmp_path: Path) -> None:
    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        compare = await open_compare(pilot, [0, 2, 5], 5)  # the selected one is marked: 3
        assert compare.session_ids == [sid(0), sid(2), sid(5)]
        assert compare.query_one("TabbedContent").active == "tab-metrics"
        table = compare.query_one(MetricTable)
        columns = [str(c.label) for c in table.columns.values()]
        assert columns == [
            "metric", "better", "A", "B", "Δ B", "B vs A", "C", "Δ C", "C vs A",
        ]  # fmt: skip
        acc = [row.name for row in table.metric_rows].index("accuracy")
        assert cell_style(table, acc, "verdict-1").plain == "missing"  # session 2 has none
        assert cell_style(table, acc, "verdict-2").plain == "better"
        assert cell_style(table, acc, "delta-2").plain == "+0.05"
        legend = widget_text(compare.query_one("#metrics-legend"))
        assert f"A {sid(0)} (baseline)" in legend and f"C {sid(5)}" in legend
        nodes = compare.query_one(NodeTable)
        assert [str(c.label) for c in nodes.columns.values()][-3:] == ["C", "Δ C", "status"]
        # the two-way tabs say which pair they show
        await wait_for(pilot, lambda: compare.comparison is not None)
        summary = widget_text(compare.query_one("#compare-summary"))
        assert "3 sessions" in summary and "compare A with B" in summary
        assert (compare.comparison.left_id, compare.comparison.right_id) == (sid(0), sid(2))
    backend.writer.close()


@app_test
async def test_plot_screen_shows_the_metric_and_highlights_marked_sessions(
    tmp_path: Path,
) -> None:
    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await choose_columns(pilot, ["loss"])
        screen: SessionsScreen = app.screen
        screen.table.move_cursor(ids_shown(app).index(sid(4)))
        await pilot.press("space", "p")
        await wait_for(pilot, lambda: isinstance(app.screen, PlotScreen), what="plot")
        plot: PlotScreen = app.screen
        await wait_for(pilot, lambda: plot.data is not None, what="plot data")
        assert plot.data.metric == "loss"  # the first metric column
        assert [p.session_id for p in plot.data.points] == [
            sid(i) for i in (0, 1, 3, 4, 5, 6, 7)
        ]  # oldest first, session 2 has no loss
        assert not plot.data.capped
        title = widget_text(plot.query_one("#plot-title"))
        assert "Metric loss" in title and "7 of 8 sessions" in title
        marked = widget_text(plot.query_one("#plot-marked"))
        assert f"● marked: {sid(4)} = 0.8" in marked
        assert "●" in widget_text(plot.query_one("PlotextPlot"))
        # another metric with m; its odd name is shown literally
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricChooserScreen))
        chooser: MetricChooserScreen = app.screen
        await wait_for(pilot, lambda: chooser.names is not None)
        await pilot.press("up", "up", "enter")  # names sorted: [bold]odd..., accuracy, loss
        await wait_for(pilot, lambda: app.screen is plot and plot.data is not None)
        assert plot.data.metric == ODD_METRIC
        assert "Metric [bold]odd␛[31m" in widget_text(plot.query_one("#plot-title"))
        await pilot.press("escape")
    backend.writer.close()


@app_test
async def test_plot_screen_empty_state(tmp_path: Path) -> None:
    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        app.screen.set_filter(f"id:{sid(2)}")  # the one session without metrics
        await wait_for(pilot, lambda: app.screen.table.count == 1)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PlotScreen), what="plot")
        plot: PlotScreen = app.screen
        await wait_for(pilot, lambda: plot.data is not None, what="plot data")
        assert plot.data.points == []
        empty = plot.query_one("#plot-empty", Static)
        assert empty.display and not plot.query_one("PlotextPlot").display
        assert "No session in the filter has the metric" in widget_text(empty)
    backend.writer.close()


@app_test
async def test_the_detail_screen_has_a_results_tab(tmp_path: Path, config_dir: Path) -> None:
    """``enter`` then ``4``: the session's metrics (names shown literally) and node timings."""
    from textual.widgets import TabbedContent

    from sessionlens.tui.screens.detail import DetailScreen
    from sessionlens.tui.widgets.record_tree import RecordTree

    backend = metrics_backend(tmp_path)
    app = make_app(backend.open())
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot)
        await pilot.press("enter")  # the newest: session 7
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), what="detail")
        detail: DetailScreen = app.screen
        await wait_for(pilot, lambda: detail.record is not None, what="record")
        await pilot.press("4")
        assert detail.query_one(TabbedContent).active == "tab-results"
        tree = detail.query_one("#results-tree", RecordTree)
        top = [str(node.label) for node in tree.root.children]
        assert top == ["metrics  (3 keys)", "nodes  (3 keys)"]
        metrics = [str(node.label) for node in tree.root.children[0].children]
        assert "accuracy: 0.87" in metrics and f"{ODD_METRIC}: 7.0".replace("\x1b", "␛") in metrics
        train = [str(n.label) for n in tree.root.children[1].children[1].children]
        assert "duration_s: 45.0" in train and "status: success" in train


@app_test
async def test_the_detail_panel_shows_the_end_of_the_log(tmp_path: Path, config_dir: Path) -> None:
    """A traceback's last line says what went wrong: the panel's log tail ends there (it showed
    lines 3-8 of a tail that ended below). Focused with tab, the whole tail can be scrolled."""
    from textual.widgets import Static as StaticWidget

    from sessionlens.tui.widgets.session_detail import SessionDetailPanel

    backend = metrics_backend(tmp_path, count=1)
    newest = sid(0)
    backend.writer.append_log(newest, "".join(f"traceback line {n}\n" for n in range(30)))
    backend.writer.append_log(newest, "ValueError: the last line\n", "stderr")
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        panel = app.screen.query_one(SessionDetailPanel)
        body = panel.query_one("#detail-body", StaticWidget)
        await wait_for(pilot, lambda: "ValueError" in str(body.content), what="the log's end")
        shown = str(body.content)
        assert "traceback line 29" in shown and "traceback line 19" not in shown  # what fits
        panel.focus()
        await wait_for(pilot, lambda: "traceback line 19" in str(body.content), what="all tail")
        assert "ValueError: the last line" in str(body.content)
