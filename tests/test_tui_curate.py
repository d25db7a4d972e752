"""The app's curating keys (``n``, ``b``, ``a``, ``D``, ``y``, ``Y``, ``E``) through Pilot, at
80x24 and 150x40, on real stores opened read-only as the app browses them."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from sessionlens.query import parse_query
from sessionlens.stores import open_store
from sessionlens.tui.screens.confirm import ConfirmScreen
from sessionlens.tui.screens.copy_menu import CopyMenuScreen
from sessionlens.tui.screens.export_path import ExportPathScreen
from sessionlens.tui.screens.notes import NotesScreen
from sessionlens.tui.screens.sessions import SessionsScreen
from tui_support import (
    KEDRO_SQLITE,
    Backend,
    app_test,
    fill,
    loaded,
    make_app,
    make_backend,
    make_record,
    sid,
    wait_for,
    widget_text,
)

SIZES = [(80, 24), (150, 40)]
TYPED = "[bold]Tuned[/] \x1b[31mred"


@pytest.fixture(params=["sqlite", "shelve"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    made = make_backend(request.param, tmp_path)
    fill(made, 6)
    yield made
    made.writer.close()


def shown_ids(app) -> list[str]:
    table = app.screen.table
    return [table.pages.row(i).session_id for i in range(table.count)]


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def notice(pilot, needle: str) -> None:
    await wait_for(pilot, lambda: any(needle in m for m in notices(pilot.app)), what=needle)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "150x40"])
@app_test
async def test_n_edits_title_and_notes_as_typed(backend: Backend, size: tuple[int, int]) -> None:
    store = backend.open()
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        newest = sid(5)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NotesScreen), what="notes dialog")
        dialog = app.screen
        assert newest in widget_text(dialog)
        dialog.query_one("#notes-title", Input).value = TYPED
        dialog.query_one("#notes-text", TextArea).text = "line 1\n[red]line 2"
        await pilot.press("ctrl+s")
        await notice(pilot, f"Saved the title and notes of {newest}")
        assert isinstance(app.screen, SessionsScreen)
        await wait_for(pilot, lambda: app.screen.table.selected.title == TYPED, what="title")
        assert store.read_only  # browsing stays read-only
    with open_store(backend.spec) as reader:
        assert reader.user_details(newest) == {
            "title": TYPED,
            "bookmark": False,
            "notes": "line 1\n[red]line 2",
        }


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "150x40"])
@app_test
async def test_notes_dialog_prefilled_and_cancelled_writes_nothing(
    backend: Backend, size: tuple[int, int]
) -> None:
    backend.writer.set_user_details(sid(5), title="old", notes="kept\nnotes")
    app = make_app(backend.open())
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NotesScreen), what="notes dialog")
        assert app.screen.query_one("#notes-title", Input).value == "old"
        assert app.screen.query_one("#notes-text", TextArea).text == "kept\nnotes"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen), what="closed")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NotesScreen), what="notes dialog")
        await pilot.press("ctrl+s")  # nothing changed: nothing written
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen), what="closed")
        await pilot.pause(0.1)
        assert not any("Saved" in m for m in notices(app))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "150x40"])
@app_test
async def test_b_toggles_the_bookmark(backend: Backend, size: tuple[int, int]) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("b")
        await notice(pilot, f"Bookmarked {sid(5)}")
        await wait_for(pilot, lambda: app.screen.table.selected.bookmark, what="bookmark")
        await pilot.press("b")
        await notice(pilot, f"Removed the bookmark of {sid(5)}")
        await wait_for(pilot, lambda: not app.screen.table.selected.bookmark, what="unmarked")
    with open_store(backend.spec) as reader:
        assert reader.user_details(sid(5))["bookmark"] is False


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "150x40"])
@app_test
async def test_a_archives_the_marked_sessions_and_brings_them_back(
    backend: Backend, size: tuple[int, int]
) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("space", "down", "space")  # mark the two newest
        await pilot.press("a")
        await notice(pilot, "Archived 2 sessions")
        await wait_for(pilot, lambda: sid(5) not in shown_ids(app), what="hidden")
        assert shown_ids(app) == [sid(i) for i in (3, 2, 1, 0)]
        assert not app.screen.marked_ids
        app.screen.set_filter("archived:yes")
        await wait_for(pilot, lambda: shown_ids(app) == [sid(5), sid(4)], what="archived")
        await pilot.press("a")  # the selected one is archived: brought back
        await notice(pilot, "Brought back 1 session")
        await wait_for(pilot, lambda: shown_ids(app) == [sid(4)], what="unarchived")
    with open_store(backend.spec) as reader:
        assert [s.session_id for s in reader.list_summaries(parse_query("archived:yes"))] == [
            sid(4)
        ]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "150x40"])
@app_test
async def test_shift_d_deletes_after_a_confirmation_naming_the_sessions(
    backend: Backend, size: tuple[int, int]
) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert sid(5) in app.screen.message
        await pilot.press("n")  # kept
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen), what="closed")
        assert sid(5) in shown_ids(app)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await notice(pilot, "Deleted 1 session")
        await wait_for(pilot, lambda: sid(5) not in shown_ids(app), what="deleted")
    with open_store(backend.spec) as reader:
        assert reader.count(parse_query("archived:any")) == 5


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "150x40"])
@app_test
async def test_y_and_shift_y_copy_to_the_clipboard(backend: Backend, size: tuple[int, int]) -> None:
    app = make_app(backend.open())
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("y")
        await notice(pilot, f"Copied the session id {sid(5)}")
        assert app.clipboard == sid(5)
        await pilot.press("Y")
        await wait_for(pilot, lambda: isinstance(app.screen, CopyMenuScreen), what="menu")
        await pilot.press("s")
        await notice(pilot, "Copied the commit sha")
        assert app.clipboard == make_record(5)["git"]["commit_sha"]
        await pilot.press("Y")
        await wait_for(pilot, lambda: isinstance(app.screen, CopyMenuScreen), what="menu")
        await pilot.press("c")
        await notice(pilot, "Copied the command line")
        assert app.clipboard == "kedro run --params scale:2"
        await pilot.press("Y")
        await wait_for(pilot, lambda: isinstance(app.screen, CopyMenuScreen), what="menu")
        await pilot.press("j")
        await notice(pilot, "Copied the record (JSON)")
        assert '"session_id": "' + sid(5) in app.clipboard


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "150x40"])
@app_test
async def test_shift_e_exports_every_matching_row_and_asks_before_replacing(
    backend: Backend, size: tuple[int, int], tmp_path: Path
) -> None:
    target = tmp_path / "out" / "export.csv"
    target.parent.mkdir()
    app = make_app(backend.open())
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        app.screen.set_filter("-status:failed")
        await wait_for(pilot, lambda: sid(2) not in shown_ids(app), what="filtered")
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportPathScreen), what="prompt")
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await notice(pilot, f"Exported 5 sessions to {target}")
        rows = list(csv.DictReader(target.open(newline="")))
        assert [r["id"] for r in rows] == [sid(i) for i in (5, 4, 3, 1, 0)]
        assert rows[0]["branch"] == make_record(5)["git"]["branch"]
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportPathScreen), what="prompt")
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="replace?")
        await pilot.press("n")
        await notice(pilot, "Nothing was exported")
    assert len(list(csv.DictReader(target.open(newline="")))) == 5


@app_test
async def test_kedro_viz_reads_the_annotations_written_from_the_app(tmp_path: Path) -> None:
    """The app writes kedro-viz's own ``user_run_details`` (read back with plain sqlite3), after
    the user agreed to add sessionlens's tables to a file kedro-viz wrote."""
    shutil.copytree(KEDRO_SQLITE, tmp_path / "project")
    db = tmp_path / "project" / ".viz" / "session_store.db"
    app = make_app(open_store(f"sqlite://{db}", read_only=True))
    async with app.run_test(size=(150, 40)) as pilot:
        await loaded(pilot)
        selected = app.screen.table.selected.session_id
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="adopt?")
        await pilot.press("n")  # not agreed: nothing written
        await notice(pilot, "Nothing was written")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NotesScreen), what="notes")
        app.screen.query_one("#notes-title", Input).value = TYPED
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="adopt?")
        await pilot.press("y")
        await notice(pilot, "Saved the title and notes")
        await pilot.press("b")  # asked once per store
        await notice(pilot, f"Bookmarked {selected}")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT bookmark, title, typeof(bookmark) FROM user_run_details WHERE run_id = ?",
            (selected,),
        ).fetchone()
    finally:
        conn.close()
    assert row == (1, TYPED, "integer")


@app_test
async def test_a_store_that_cannot_be_written_gives_a_notice(tmp_path: Path) -> None:
    backend = make_backend("sqlite", tmp_path)
    fill(backend, 3)
    backend.writer.close()
    app = make_app(backend.open())
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        (tmp_path / "session_store.db").rename(tmp_path / "moved.db")  # gone for a writer
        await pilot.press("b")
        await notice(pilot, "Nothing was written")
        assert any("Cannot write" in n.title for n in app._notifications)
        assert isinstance(app.screen, SessionsScreen)
