"""The terminal app driven headless through Pilot, on every store backend.

Each test opens the real app on a real store (memory, shelve files, an SQLite file in tmp_path)
and checks what the screens show after real key presses and clicks.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest
from textual.command import CommandList
from textual.widgets import Input, Static, TabbedContent, Tree

from sessionlens.errors import StoreError
from sessionlens.stores import open_store
from sessionlens.stores.memory import MemoryStore
from sessionlens.tui.screens.compare import CompareScreen
from sessionlens.tui.screens.detail import DetailScreen
from sessionlens.tui.screens.help import HelpScreen
from sessionlens.tui.screens.open_store import OpenStoreScreen
from sessionlens.tui.screens.sessions import SessionsScreen
from sessionlens.tui.widgets.compare_table import CompareTable
from sessionlens.tui.widgets.filter_bar import FilterBar
from sessionlens.tui.widgets.log_view import LogView
from sessionlens.tui.widgets.session_columns import SORTABLE
from sessionlens.tui.widgets.session_detail import SessionDetailPanel
from sessionlens.tui.widgets.store_header import StoreHeader
from tui_support import (
    KEDRO_SHELVE,
    KEDRO_SQLITE,
    SIZE,
    WIDE,
    Backend,
    app_test,
    fill,
    loaded,
    make_app,
    make_backend,
    make_log,
    make_record,
    sid,
    table_lines,
    wait_for,
    widget_text,
)

BACKENDS = ["memory", "shelve", "sqlite"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    store = make_backend(request.param, tmp_path)
    fill(store)
    yield store
    store.writer.close()


def ids_shown(app) -> list[str]:
    table = app.screen.table
    return [table.pages.row(i).session_id for i in range(table.count)]


@app_test
async def test_sessions_newest_first_with_header_and_detail(backend: Backend) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert ids_shown(app) == [sid(i) for i in reversed(range(12))]
        header = widget_text(app.screen.query_one(StoreHeader))
        assert backend.kind in header and "12 sessions" in header
        lines = table_lines(app)
        assert "Started" in lines[0] and "Status" in lines[0] and "Branch" in lines[0]
        newest = make_record(11)
        assert newest["session_id"] in lines[1]
        assert "21h ago 2026-11-24 14:47" in lines[1]  # NOW is 2026-11-25 12:00 UTC
        assert "exp/scale" in lines[1] and "failed" not in lines[1]
        await wait_for(
            pilot,
            lambda: "Params" in widget_text(app.screen.query_one(SessionDetailPanel)),
            what="detail panel",
        )
        panel = widget_text(app.screen.query_one(SessionDetailPanel))
        assert "scale=4" in panel and "kedro run --params scale:4" in panel
        assert newest["git"]["commit_sha"] in panel


@app_test
async def test_filter_as_you_type_and_inline_errors(backend: Backend) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"branch:main")
        await wait_for(pilot, lambda: app.screen.table.count == 6, what="branch filter")
        assert all("main" in line for line in table_lines(app)[1:7])
        assert "6 of 12 sessions" in widget_text(app.screen.query_one(StoreHeader))
        await pilot.press("space", *"status:failed")
        await wait_for(pilot, lambda: app.screen.table.count == 2, what="status filter")
        assert set(ids_shown(app)) == {sid(2), sid(8)}
        # a term that cannot be parsed is shown next to the box; the table keeps the last query
        app.screen.set_filter("branch:main status:failed dirty:maybe")
        bar = app.screen.query_one(FilterBar)
        await wait_for(pilot, lambda: bar.error is not None, what="inline error")
        assert "dirty" in bar.error and "maybe" in bar.error
        assert "maybe" in widget_text(bar.query_one("#filter-error", Static))
        assert app.screen.table.count == 2
        await pilot.press("end", *["backspace"] * len(" dirty:maybe"))
        await wait_for(pilot, lambda: bar.error is None, what="error to clear")
        assert app.screen.table.count == 2
        # free words match anywhere; enter hands the focus back to the table
        app.screen.set_filter("ben")
        await wait_for(pilot, lambda: app.screen.table.count == 4, what="free-text filter")
        await pilot.press("enter")
        assert app.focused is app.screen.table


@app_test
async def test_a_filter_that_cannot_be_read_says_why_and_keeps_the_rows(backend: Backend) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        # relative dates count from the app's clock (NOW, 2026-11-25 12:00 UTC): the sessions
        # started on the 24th from 12:00 on
        await pilot.press("slash", *"since:1d")
        await wait_for(pilot, lambda: app.screen.table.count == 5, what="since filter")
        shown = ids_shown(app)
        assert shown == [sid(i) for i in reversed(range(7, 12))]
        header = app.screen.query_one(StoreHeader)
        assert "5 of 12 sessions" in widget_text(header)
        bar = app.screen.query_one(FilterBar)
        for bad, needle in (  # pasted, or the words typed on the way would filter too
            (" stauts:failed", "did you mean status?"),
            (" exit:abc", "whole number"),
            (' "unterminated', "unbalanced"),
            (" param.scale:", "needs a value"),
        ):
            app.screen.set_filter(f"since:1d{bad}")
            await wait_for(pilot, lambda: bar.error is not None, what="inline error")
            assert needle in bar.error
            label = widget_text(bar.query_one("#filter-error", Static))
            assert needle in " ".join(label.split())
            await pilot.pause()
            assert ids_shown(app) == shown and "5 of 12 sessions" in widget_text(header)
            await pilot.press("end", *["backspace"] * len(bad))
            await wait_for(pilot, lambda: bar.error is None, what="error to clear")
            assert bar.input.value == "since:1d"
        assert ids_shown(app) == shown


@app_test
async def test_sort_by_keys_and_by_clicking_a_header(backend: Backend) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen: SessionsScreen = app.screen
        await pilot.press("S")  # oldest first
        await wait_for(pilot, lambda: ids_shown(app)[0] == sid(0), what="reverse")
        assert "Started ▲" in table_lines(app)[0]
        await pilot.press("s")  # next column: session id, newest first
        await wait_for(pilot, lambda: screen.table.shown_query.sort == "id", what="sort by id")
        assert ids_shown(app)[0] == sid(11)
        for _ in range(SORTABLE.index("duration") - SORTABLE.index("id")):
            await pilot.press("s")
        await wait_for(pilot, lambda: screen.table.shown_query.sort == "duration", what="duration")
        durations = [screen.table.pages.row(i).duration_s for i in range(12)]
        assert durations == sorted(durations, reverse=True)
        # click the Branch header: ascending by branch; click again: descending
        x = table_lines(app)[0].index("Branch") + 1
        await pilot.click(screen.table, offset=(x, 0))
        await wait_for(pilot, lambda: screen.table.shown_query.sort == "branch", what="click sort")
        branches = [screen.table.pages.row(i).branch for i in range(12)]
        assert branches == sorted(branches)
        assert "Branch ▲" in table_lines(app)[0]
        await pilot.click(screen.table, offset=(x, 0))
        await wait_for(pilot, lambda: screen.table.shown_query.descending, what="click reverses")
        assert [screen.table.pages.row(i).branch for i in range(12)] == sorted(
            branches, reverse=True
        )


@app_test
async def test_cursor_keys_mouse_and_detail_screen(backend: Backend) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.screen.table
        await pilot.press("down", "down", "end", "up")
        assert table.cursor_row == 10 and table.selected.session_id == sid(1)
        await pilot.press("home")
        await pilot.click(table, offset=(40, 3))  # third row
        assert table.cursor_row == 2 and table.selected.session_id == sid(9)
        await pilot.click(table, offset=(40, 3), times=2)  # double click opens
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), what="detail")
        detail: DetailScreen = app.screen
        await wait_for(pilot, lambda: detail.record is not None, what="record")
        tree = detail.query_one(Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert "session_id: " + sid(9) in labels
        assert any(label.startswith("git") for label in labels)
        await pilot.press("2")
        assert detail.query_one(TabbedContent).active == "tab-json"
        assert f'"session_id": "{sid(9)}"' in widget_text(detail.query_one("#record-json"))
        await pilot.press("3")
        log = detail.query_one("#log-view", LogView)
        assert len(log.log_text) == 40  # session 9 has a log (every third)
        assert "step 0 of session 9" in widget_text(log)
        await pilot.press("escape")
        assert isinstance(app.screen, SessionsScreen)
        # enter opens the detail of the selected row too
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), what="detail")
        assert app.screen.session_id == sid(9)


@app_test
async def test_log_search_next_and_previous(backend: Backend) -> None:
    backend.write([], {sid(11): make_log(11, lines=3000)})
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), what="detail")
        detail: DetailScreen = app.screen
        await wait_for(pilot, lambda: detail.record is not None, what="record")
        log = detail.query_one("#log-view", LogView)
        assert len(log.log_text) == 3000
        await pilot.press("ctrl+f", *"step 2500 ", "enter")
        await wait_for(pilot, lambda: log.match is not None, what="search hit")
        assert log.match.line == 2500
        assert "step 2500 of session 11" in widget_text(log)  # scrolled into view
        await pilot.press("slash", *"node_1", "enter")
        await wait_for(pilot, lambda: log.match.line == 2503, what="next node_1")
        await pilot.press("n")
        await wait_for(pilot, lambda: log.match.line == 2506, what="n")
        await pilot.press("N", "N")
        await wait_for(pilot, lambda: log.match.line == 2500, what="N twice")
        status = detail.query_one("#log-status", Static)
        hits = log.log_text.text.lower().count("node_1")
        first = log.log_text.text.lower()[: log.log_text.offset_of(2500)].count("node_1")
        await wait_for(
            pilot,
            lambda: f"hit {first + 1:,} of {hits:,}, line 2,501" in widget_text(status),
            what="hit n of m",
        )
        await pilot.press("slash", *"no such text", "enter")
        await wait_for(pilot, lambda: "Not found" in widget_text(status), what="not found")


@app_test
async def test_mark_and_compare(backend: Backend) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("c")  # nothing marked yet: a notice, no screen
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("space")
        assert app.screen.marked_id == sid(11)
        assert table_lines(app)[1].lstrip().startswith("●")
        await pilot.press("down", "down", "c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare")
        screen: CompareScreen = app.screen
        await wait_for(pilot, lambda: screen.comparison is not None, what="comparison")
        comparison = screen.comparison
        assert (comparison.left_id, comparison.right_id) == (sid(11), sid(9))
        table = screen.query_one(CompareTable)
        text = widget_text(table)
        assert "git.branch" in text and "exp/scale" in text and "feature/offset-20" in text
        assert "cli.params.params.scale" in text
        everything = len(table.rows)
        await pilot.press("d")
        assert table.only_differences and len(table.rows) < everything
        assert all(row.differs for row in table.rows)
        assert "session_id" in {row.key for row in table.rows}
        assert "cli.params.params.seed" not in {row.key for row in table.rows}
        summary = widget_text(screen.query_one("#compare-summary"))
        a, b = make_record(11)["run"]["duration_s"], make_record(9)["run"]["duration_s"]
        assert f"{b - a:+.2f}"[0] in summary and "Duration" in summary
        await pilot.press("2")
        params = widget_text(screen.query_one("#compare-params"))
        assert "scale" in params and "changed" in params and "seed" in params
        await pilot.press("3")
        await wait_for(pilot, lambda: screen.git_done, what="git diff worker")
        assert "not both in the local git repository" in widget_text(
            screen.query_one("#compare-git")
        )
        await pilot.press("4")
        assert "step 0 of session 9" in widget_text(screen.query_one("#right-log"))
        await pilot.press("escape")
        assert isinstance(app.screen, SessionsScreen)


@app_test
async def test_new_session_appears_and_selection_stays(backend: Backend) -> None:
    app = make_app(backend.open(), poll_interval=0.25)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.screen.table
        await pilot.press("down", "down")
        assert table.selected.session_id == sid(9)
        backend.write([make_record(12), make_record(13)])
        await wait_for(pilot, lambda: table.count == 14, timeout=10, what="new sessions")
        assert table.selected.session_id == sid(9)  # the same session, two rows lower
        assert table.cursor_row == 4
        assert ids_shown(app)[:2] == [sid(13), sid(12)]
        assert "14 sessions" in widget_text(app.screen.query_one(StoreHeader))


@app_test
async def test_markup_and_escape_codes_are_shown_literally(tmp_path: Path) -> None:
    backend = make_backend("sqlite", tmp_path)
    nasty = make_record(
        0,
        username="[b]x[/]",
        git={"commit_sha": "abc1234", "branch": "[red]y[/red]", "dirty": False},
        run={**make_record(0)["run"], "command": ["echo", "\x1b[31mred\x1b[0m"]},
        env="[link=http://x]y[/link]",
        runtime_params={"[b]k[/b]": "\x1b[2m[i]v"},
    )
    nasty.pop("cli")  # so the runtime params are the ones shown
    backend.write([nasty], {nasty["session_id"]: "plain \x1b[1mbold\x1b[0m [i]markup[/i]\n"})
    app = make_app(backend.open())
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot)
        row = table_lines(app)[1]
        assert "[b]x[/]" in row and "[red]y[/red]" in row
        assert "[b]k[/b]=␛[2m[i]v" in row
        assert "echo '␛[31mred␛" in row and "\x1b" not in row
        panel = app.screen.query_one(SessionDetailPanel)
        await wait_for(pilot, lambda: "Log tail" in widget_text(panel), what="panel")
        text = widget_text(panel)
        assert "[link=http://x]y[/link]" in text and "[i]markup[/i]" in text
        assert "␛[1mbold" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "record", None) is not None)
        labels = [str(n.label) for n in app.screen.query_one(Tree).root.children]
        assert "username: [b]x[/]" in labels
        await pilot.press("3")
        assert "␛[1mbold␛[0m [i]markup[/i]" in widget_text(app.screen.query_one("#log-view"))


@pytest.mark.parametrize("fixture", [KEDRO_SHELVE, KEDRO_SQLITE], ids=["shelve", "sqlite"])
@app_test
async def test_kedro_fixture_stores_open_read_only(fixture: Path, tmp_path: Path) -> None:
    from sessionlens.stores import open_store

    project = tmp_path / fixture.name
    shutil.copytree(fixture, project)
    before = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in project.rglob("*") if p.is_file()
    }
    store = open_store(project, read_only=True)
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:  # wide enough for the Title column
        await loaded(pilot)
        assert app.screen.table.count == 8
        lines = table_lines(app)
        assert "kedro run" in "\n".join(lines)
        if fixture is KEDRO_SQLITE:
            assert "Title" in lines[0]
            assert any("★" in line for line in lines[1:9])  # a bookmarked run
        await pilot.press("slash", *"status:failed")
        await wait_for(pilot, lambda: app.screen.table.count < 8, what="failed filter")
        assert app.screen.table.count >= 1
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), what="detail")
        await wait_for(pilot, lambda: app.screen.record is not None, what="record")
        assert "exception" in app.screen.record
    store.close()
    after = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in project.rglob("*") if p.is_file()
    }
    assert after == before  # browsing never writes


@app_test
async def test_open_another_store_with_o(backend: Backend, tmp_path: Path) -> None:
    project = tmp_path / "kedro-viz-project"
    shutil.copytree(KEDRO_SQLITE, project)
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("o")
        assert isinstance(app.screen, OpenStoreScreen)
        modal: OpenStoreScreen = app.screen
        modal.query_one(Input).value = str(project)
        await wait_for(pilot, lambda: modal.detected is not None, what="detection")
        kind, location = modal.detected
        assert kind == "sqlite" and location.endswith(".viz/session_store.db")
        assert "sqlite store at" in widget_text(modal.query_one("#store-kind"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen), what="dismiss")
        await wait_for(pilot, lambda: app.screen.table.count == 8, what="new store rows")
        assert "sqlite" in widget_text(app.screen.query_one(StoreHeader))
        assert app.store.read_only


@app_test
async def test_path_completion_in_open_store(tmp_path: Path) -> None:
    shutil.copytree(KEDRO_SHELVE, tmp_path / "shelve-project")
    app = make_app(make_backend("memory", tmp_path).writer)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("o")
        field = app.screen.query_one(Input)
        field.value = f"{tmp_path}/sh"
        await pilot.press("e")
        await wait_for(pilot, lambda: field._suggestion != "", what="a suggestion")
        await pilot.press("tab")
        assert field.value == f"{tmp_path}/shelve-project/"
        await pilot.press("s")
        await wait_for(pilot, lambda: field._suggestion.endswith("sessions/"), what="sessions/")
        await pilot.press("tab")
        assert field.value == f"{tmp_path}/shelve-project/sessions/"
        await wait_for(pilot, lambda: app.screen.detected is not None, what="detection")
        await wait_for(pilot, lambda: app.screen.detected[0] == "shelve", what="shelve kind")


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        ("/no/such/place/at/all", None),
        ("sqlite:///no/such.db", None),
        ("postgresql://x/y", "postgresql"),
    ],
)
@app_test
async def test_bad_store_path_is_a_notice(bad: str, kind: str | None, tmp_path: Path) -> None:
    app = make_app(make_backend("memory", tmp_path).writer)
    fill_backend = Backend("memory", app.store, "memory:")
    fill(fill_backend, 3)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("o")
        modal = app.screen
        modal.query_one(Input).value = bad
        await wait_for(pilot, lambda: modal.detected is not None, what="detection")
        assert modal.detected[0] == kind  # shown before opening: a problem, or the kind
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app._notifications) > 0, what="notice")
        assert isinstance(app.screen, OpenStoreScreen)  # still there, app alive
        await pilot.press("escape")
        assert isinstance(app.screen, SessionsScreen) and app.screen.table.count == 3


@app_test
async def test_not_a_store_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 10)
    app = make_app(make_backend("memory", tmp_path).writer)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("o")
        app.screen.query_one(Input).value = f"sqlite://{junk}"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app._notifications) > 0, what="notice")
        message = next(iter(app._notifications)).message
        assert "junk.db" in message


@app_test
async def test_help_theme_palette_and_quit(backend: Backend) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = widget_text(app.screen.query_one("#help-body"))
        for words in (
            "Filter sessions",
            "Sort by the next column",
            "Compare the marked",
            "Open another session store",
            "Command palette",
        ):
            assert words in text
        await pilot.press("escape")
        theme = app.theme
        await pilot.press("t")
        assert app.theme != theme
        await pilot.press("t")
        assert app.theme == theme
        # the palette runs any action by name
        await pilot.press("ctrl+p")
        await pilot.press(*"reverse")

        def reverse_highlighted() -> bool:  # the palette searches asynchronously
            options = app.screen.query(CommandList)
            if not options or options.first().highlighted is None:
                return False
            option = options.first().get_option_at_index(options.first().highlighted)
            return "Reverse" in str(option.prompt)

        await wait_for(pilot, reverse_highlighted, what="palette hit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.screen.table.shown_query.descending, what="palette")
        await pilot.press("q")
    assert app.return_code == 0


@app_test
async def test_palette_reaches_every_action(backend: Backend) -> None:
    from sessionlens.tui.commands import SessionLensCommands

    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        for screen_opener in (None, "enter", "compare"):
            if screen_opener == "enter":
                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
            elif screen_opener == "compare":
                await pilot.press("escape", "space", "down", "c")
                await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
            provider = SessionLensCommands(app.screen)
            titles = {c[0] for c in provider._commands()}
            screen_actions = {b.action for b in type(app.screen).BINDINGS} | {
                b.action for b in app.BINDINGS
            }
            helps = {b.tooltip for b in (*type(app.screen).BINDINGS, *app.BINDINGS)}
            assert helps <= titles, helps - titles
            assert screen_actions
        await pilot.press("escape")
        assert isinstance(app.screen, SessionsScreen)
        names = {c[0] for c in SessionLensCommands(app.screen)._commands()}
        wanted = {f"Sort by {name}" for name in SORTABLE if name != "title"}
        assert wanted <= names, wanted - names


@app_test
async def test_table_pages_a_large_store(tmp_path: Path) -> None:
    backend = make_backend("sqlite", tmp_path)
    backend.write(make_record(i) for i in range(2500))
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.screen.table
        assert table.count == 2500
        # only what is near the screen was fetched, and the last pages (read ahead for end)
        assert not any(page in table.pages for page in range(3, 22))
        await pilot.press("end")
        await wait_for(pilot, lambda: sid(0) in "\n".join(table_lines(app)), what="last row")
        assert table.selected.session_id == sid(0)
        for _ in range(30):
            await pilot.press("pageup")
        await wait_for(pilot, lambda: table.selected is not None, what="page loaded")
        assert len(table.pages) <= 40
        index = table.cursor_row
        assert index == 2499 - 30 * table._visible_rows
        assert table.selected.session_id == sid(2499 - index)


@app_test
async def test_compare_lists_files_changed_between_the_two_commits(tmp_path: Path) -> None:
    from sessiontools import commit_all, git, make_repo

    repo = make_repo(tmp_path / "project", {"pipeline.py": "x = 1\n", "conf.yml": "a: 1\n"})
    first = git(repo, "rev-parse", "HEAD")
    (repo / "pipeline.py").write_text("x = 2\ny = 3\n")
    (repo / "new_step.py").write_text("print('hi')\n")
    second = commit_all(repo, "second")
    backend = make_backend("sqlite", tmp_path)
    records = []
    for i, sha in ((0, first), (1, second)):
        record = make_record(i, project_path=str(repo))
        record["git"] = {"commit_sha": sha[:7], "commit_sha_full": sha, "branch": "main"}
        records.append(record)
    backend.write(records)
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("space", "down", "c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare")
        screen: CompareScreen = app.screen
        await wait_for(pilot, lambda: screen.git_done, what="git diff worker")
        assert {f.path for f in screen.changed_files} == {"pipeline.py", "new_step.py"}
        await pilot.press("3")
        text = widget_text(screen.query_one("#compare-git"))
        assert "2 files changed" in text and "new_step.py" in text
        # A is the marked (newer) session: from its commit back to the first, new_step.py goes
        # (-1) and pipeline.py loses two lines and gets one back
        assert f"{second[:12]} → {first[:12]}" in text
        assert "+1 -3" in text


@app_test
async def test_kedro_viz_title_bookmark_and_notes(tmp_path: Path) -> None:
    from sessionlens.stores import open_store

    project = tmp_path / "viz"
    shutil.copytree(KEDRO_SQLITE, project)
    store = open_store(project, read_only=True)
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:  # wide enough for the Title column
        await loaded(pilot)
        table = app.screen.table
        baseline = next(i for i in range(table.count) if table.pages.row(i).bookmark)
        line = table_lines(app)[baseline + 1]
        assert "★" in line and "Baseline run" in line
        table.move_cursor(baseline)
        panel = app.screen.query_one(SessionDetailPanel)
        await wait_for(pilot, lambda: "Notes" in widget_text(panel), what="notes")
        text = widget_text(panel)
        assert "bookmarked" in text and "Baseline run" in text
        assert "first clean run on main" in text
        app.screen.set_filter("bookmark:yes")
        await wait_for(pilot, lambda: table.count == 1, what="bookmark filter")
    store.close()


@app_test
async def test_params_column_tells_sessions_of_one_command_apart(tmp_path: Path) -> None:
    backend = make_backend("sqlite", tmp_path)
    command = {"command": ["python", "pipeline.py"]}
    records = [
        make_record(i, run={**make_record(i)["run"], **command}, cli={"params": {"params": p}})
        for i, p in enumerate(
            [
                {"scale": 2, "seed": 42},
                {"seed": 7, "scale": 10},
                {},
                {"model": "x" * 120, "scale": 1},
            ]
        )
    ]
    backend.write(records)
    app = make_app(backend.open())
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot)
        lines = table_lines(app)
        header = lines[0]
        assert header.index("Command") < header.index("Params") < header.index("User")
        start, end = header.index("Params"), header.index("User")
        cells = [line[start:end].rstrip() for line in lines[1:5]]  # newest first
        assert cells[1:] == ["", "scale=10 seed=7", "scale=2 seed=42"]
        assert cells[0] == "model=" + "x" * (end - start - 8) + "…"  # cut to its width
        assert all("python pipeline.py" in line for line in lines[1:5])  # one command for all
        app.screen.sort_by("params", descending=False)
        await wait_for(pilot, lambda: "Params ▲" in table_lines(app)[0], what="sorted by params")
        await wait_for(pilot, lambda: not app.screen.table.is_loading, what="reload")
        order = [app.screen.table.pages.row(i).params for i in range(4)]
        long = "model=" + "x" * 120 + " scale=1"
        assert order == [long, "scale=10 seed=7", "scale=2 seed=42", None]


@app_test
async def test_a_lost_run_is_listed_lost_in_a_colour_of_its_own(backend: Backend) -> None:
    """A ``running`` record of another host whose heartbeat went stale: ``lost`` in the table,
    the filter, the detail panel and screen, drawn in neither the warning nor the running
    colour, in both themes."""
    from sessionlens.record import STALE_AFTER_S
    from storetools import leave_heartbeat

    lost = make_record(20)
    lost["run"].update(status="running", finished_at=None, duration_s=None, exit_code=None)
    backend.write([lost])
    leave_heartbeat(backend.writer, lost["session_id"], time.time() - 10 * STALE_AFTER_S)
    app = make_app(backend.open())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.screen.table
        assert table.pages.row(0).session_id == lost["session_id"]
        assert table.pages.row(0).status == "lost"
        assert " lost " in table_lines(app)[1]
        colours = []
        for _ in ("dark", "light"):
            colours.append(table._style("status-lost").color)
            assert colours[-1] not in (
                table._style("status-interrupted").color,
                table._style("status-running").color,
                None,
            )
            await pilot.press("t")
            await pilot.pause()
        assert colours[0] != colours[1]  # one readable on each theme
        await wait_for(
            pilot,
            lambda: "lost" in widget_text(app.screen.query_one(SessionDetailPanel)),
            what="the detail panel",
        )
        app.screen.set_filter("status:lost")
        await wait_for(pilot, lambda: app.screen.table.count == 1, what="status:lost")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), what="detail")
        await wait_for(pilot, lambda: app.screen.summary is not None, what="the record")
        assert app.screen.summary.status == "lost"


# -- unreadable records and failing stores (issue 8, item 4) ---------------------------------------
#: a just-written shelve store re-reads its sessions (the 50k-deep pickle among them) while they
#: settle, on every listing: slow on a loaded machine
SLOW = 30.0


@pytest.mark.torture
@app_test
async def test_unreadable_rows_are_shown_with_their_reason_and_the_rest_browses(
    hostile_store: tuple[str, list[str], dict],
) -> None:
    spec, good, bad = hostile_store
    app = make_app(open_store(spec))
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot)
        table = app.screen.table
        assert table.count == len(good) + len(bad)
        rows = {table.pages.row(i).session_id: table.pages.row(i) for i in range(table.count)}
        assert {sid for sid, row in rows.items() if row.status == "unreadable"} == set(bad.values())
        assert all(rows[sid].problem for sid in bad.values())
        assert all(rows[sid].status == "completed" and not rows[sid].problem for sid in good)
        assert "unreadable" in table_lines(app)[1]
        # the selected (newest) row is unreadable: the panel says why
        first = table.selected
        assert first.status == "unreadable"
        panel = app.screen.query_one(SessionDetailPanel)
        await wait_for(
            pilot, lambda: "Problem" in widget_text(panel), SLOW, what="problem in panel"
        )
        assert first.problem[:40] in " ".join(widget_text(panel).split())
        # filtering by status works on them like on any other
        app.screen.set_filter("status:unreadable")
        await wait_for(pilot, lambda: table.count == len(bad), SLOW, what="status:unreadable")
        app.screen.set_filter("-status:unreadable")
        await wait_for(pilot, lambda: table.count == len(good), SLOW, what="-status:unreadable")
        # two good sessions compare as ever
        await pilot.press("space", "down", "c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), SLOW, what="compare")
        await wait_for(pilot, lambda: app.screen.comparison is not None, SLOW, what="comparison")
        await pilot.press("escape")
        # the detail screen of an unreadable session says why
        app.screen.set_filter("status:unreadable")
        await wait_for(pilot, lambda: table.count == len(bad), SLOW, what="status:unreadable again")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), SLOW, what="detail")
        detail: DetailScreen = app.screen
        await wait_for(pilot, lambda: detail.summary is not None, SLOW, what="detail loaded")
        assert detail.summary.status == "unreadable" and detail.record is None
        labels = [str(node.label) for node in detail.query_one(Tree).root.children]
        assert labels and labels[0].startswith("unreadable: ")
        assert "unreadable" in widget_text(detail.query_one("#detail-title"))
        await pilot.press("escape")
        # comparing with an unreadable session says why instead of "Comparing…" for ever
        await pilot.press("space")
        app.screen.set_filter("")
        await wait_for(pilot, lambda: table.count == len(good) + len(bad), SLOW, what="all again")
        await pilot.press("end", "c")
        await wait_for(
            pilot, lambda: isinstance(app.screen, CompareScreen), SLOW, what="compare bad"
        )
        screen: CompareScreen = app.screen
        await wait_for(pilot, lambda: screen.problem is not None, SLOW, what="compare problem")
        assert "is unreadable" in screen.problem
        assert "Cannot compare" in widget_text(screen.query_one("#compare-title"))
        await pilot.press("escape", "q")
    assert app.return_code == 0


class FailingStore(MemoryStore):
    """A memory store whose listing and counting fail while ``failing`` says so."""

    failing = ""

    def list_summaries(self, query=None, *, offset=0, limit=50):
        if "list" in self.failing:
            raise StoreError(f"{self.location}: disk I/O error (list, offset {offset})")
        return super().list_summaries(query, offset=offset, limit=limit)

    def count(self, query=None):
        if "count" in self.failing and query is not None and not query.is_empty:
            raise StoreError(f"{self.location}: disk I/O error (count)")
        return super().count(query)


@app_test
async def test_every_worker_error_of_the_table_is_shown() -> None:
    store = FailingStore()
    store.insert_many([make_record(i) for i in range(1500)])  # more than a reload fetches
    store.failing = "list"
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        header = app.screen.query_one(StoreHeader)
        # the first page cannot be read: the header, the table and a notice say why
        await wait_for(pilot, lambda: "could not load" in widget_text(header), what="header")
        assert "loading" not in widget_text(header) and not app.screen.table.is_loading
        assert "disk I/O error" in table_lines(app)[1]
        assert any("disk I/O error" in n.message for n in app._notifications)
        # it works again: reload shows the sessions
        store.failing = ""
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen.table.count == 1500, what="reload")
        assert "1,500 sessions" in widget_text(header)
        # a page further down fails: its rows say so instead of "…" for ever (the middle: the
        # last rows were read ahead once counted)
        store.failing = "list"
        app.screen.table.move_cursor(750)
        await wait_for(
            pilot,
            lambda: "Could not load these sessions" in "".join(table_lines(app)),
            what="failed page rows",
        )
        assert "could not load" in widget_text(header)
        # a count that fails: the header says so instead of "N+" being counted for ever
        store.failing = "count"
        await pilot.press("home")
        app.screen.set_filter("kedro")
        await wait_for(pilot, lambda: "disk I/O error (count)" in widget_text(header), what="count")
        assert not app.screen.table.is_loading
        await pilot.press("q")
    assert app.return_code == 0


@app_test
async def test_a_reload_while_a_new_filter_loads_keeps_the_filter() -> None:
    """The store changes (or a kedro-viz index finishes) while a filter's rows are still being
    read: the reload loads the filter again, never the rows shown before it (it once dropped
    a filter typed while a big store was being indexed)."""
    import threading

    gate = threading.Event()

    class SlowFilters(MemoryStore):
        def list_summaries(self, query=None, *, offset=0, limit=50):
            if query is not None and not query.is_empty:
                gate.wait(20)
            return super().list_summaries(query, offset=offset, limit=limit)

    store = SlowFilters()
    store.insert_many([make_record(i) for i in range(12)])
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.screen.table
        app.screen.set_filter("user:ana")
        await wait_for(pilot, lambda: table.is_loading, what="the filter to start loading")
        table.reload()  # what a poll does when the store changed
        gate.set()
        await wait_for(pilot, lambda: not table.is_loading, 20, "the reload to finish")
        assert table.shown_query.terms and table.count == 4
        assert "4 of 12 sessions" in widget_text(app.screen.query_one(StoreHeader))


@app_test
async def test_the_last_rows_are_read_ahead_so_end_paints_at_once() -> None:
    """Once a query is counted, the last screen of rows is fetched ahead: ``end`` at the bottom
    of a big store shows rows in the same frame, not "…" until a page arrives."""
    store = MemoryStore()
    store.insert_many([make_record(i) for i in range(600)])
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.screen.table
        assert table.count == 600
        await wait_for(pilot, lambda: table.pages.row(599) is not None, 10, "the last rows")
        assert table.pages.row(300) is not None  # the last three pages
        assert table.pages.row(250) is None  # not the middle
        await pilot.press("end")
        assert table.selected is not None and table.selected.session_id == sid(0)
