"""Launching runs from the app: real child processes in a real git project, the real app headless.

Each test writes small Python scripts into a temporary git project whose pyproject.toml sets
``[tool.sessionlens] run``, opens the app read-only on the project's SQLite store (as the CLI
does) and drives it with Pilot. Children that must stay alive wait for a ``release`` file, so
no test depends on timing; pids are checked with ``/proc`` after the run.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from rich.color import Color
from textual.widgets import Input

from sessionlens.errors import SessionError
from sessionlens.stores import open_store
from sessionlens.stores.base import SessionStore
from sessionlens.stores.memory import MemoryStore
from sessionlens.tui.app import SessionLensApp
from sessionlens.tui.screens.compare import CompareScreen
from sessionlens.tui.screens.confirm import ConfirmScreen
from sessionlens.tui.screens.run_form import RunFormScreen
from sessionlens.tui.widgets.run_log import STDERR, STDOUT
from sessionlens.tui.widgets.run_pane import RunPane
from sessiontools import make_repo, pid_alive
from tui_support import KEDRO_SQLITE, app_test, loaded, table_lines, wait_for

SIZE = (140, 40)
PY = sys.executable

#: prints colours, stderr, its parameters, then exits with the code in argv[1] (default 0)
HELLO = """
import json, os, sys
print("hello \\x1b[31mred\\x1b[0m world")
print("a warning", file=sys.stderr)
print("params", json.dumps(json.loads(os.environ["SESSIONLENS_PARAMS"]), sort_keys=True))
for i in range(5):
    print(f"line {i}")
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""

#: writes its pid (and a grandchild's), prints, then waits for ``release`` (at most 60 s)
WAIT = """
import os, signal, subprocess, sys, time
if "--stubborn" in sys.argv:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open("pids.txt", "w") as fh:
    fh.write(f"{os.getpid()} {child.pid}")
print("waiting", flush=True)
end = time.monotonic() + 60
while not os.path.exists("release") and time.monotonic() < end:
    time.sleep(0.02)
child.kill()
print("released")
"""

#: prints N numbered lines as fast as it can
FLOOD = """
import sys
n = int(sys.argv[1])
out = sys.stdout
out.write("".join(f"line {i}\\n" for i in range(n)))
out.flush()
"""

CONTROLS = """
import sys
w = sys.stdout.write
w("\\x1b[2J\\x1b[H\\x1b]0;a window title\\x07title gone\\n")
w("bell\\x07 and back\\x08space and \\x1b[5;10Hcursor\\x1b[K moves\\n")
w("progress 10%\\rprogress 50%\\rprogress 100%\\n")
w("\\x1b[1;38;5;196mbold 256\\x1b[22m not bold\\x1b[38;2;10;200;30m rgb\\n")
w("still rgb on the next line\\x1b[0m\\n")
w("\\x1b[?25l\\x1b[?1049h\\x1bPdcs junk\\x1b\\\\after dcs\\n")
w("tab\\there\\n")
w("partial at the end")
sys.stdout.flush()
"""

GITIGNORE = ".viz/\nrelease\npids.txt\n__pycache__/\n"


def make_project(
    root: Path, run: list[str] | None = ("hello.py",), extra: dict[str, str] | None = None
) -> Path:
    """A git project with the scripts, ``[tool.sessionlens] run`` and an empty SQLite store."""
    tool = '[tool.sessionlens]\npackage_name = "demo"\n'
    if run is not None:
        argv = ", ".join(f'"{a}"' for a in [PY, *run])
        tool += f"run = [{argv}]\n"
    files = {
        ".gitignore": GITIGNORE,
        "pyproject.toml": tool,
        "hello.py": HELLO,
        "wait.py": WAIT,
        "flood.py": FLOOD,
        "controls.py": CONTROLS,
        **(extra or {}),
    }
    make_repo(root, {k: textwrap.dedent(v).lstrip() for k, v in files.items()})
    store = open_store(str(root / ".viz" / "session_store.db"), read_only=False, create=True)
    store.close()
    return root


def browse(root: Path) -> SessionStore:
    """The app's store, opened read-only like ``sessionlens`` does."""
    return open_store(str(root / ".viz" / "session_store.db"), read_only=True)


def make_app(store: SessionStore, **kwargs: Any) -> SessionLensApp:
    app = SessionLensApp(store, poll_interval=0.2, **kwargs)
    app.runs.quit_grace = 0.5
    return app


def pane_of(app: SessionLensApp) -> RunPane:
    pane = app.sessions_screen.run_pane
    assert pane is not None
    return pane


async def run_ended(pilot: Any, timeout: float = 30) -> RunPane:
    app = pilot.app
    await wait_for(
        pilot,
        lambda: (
            app.sessions_screen.run_pane is not None
            and app.sessions_screen.run_pane.record is not None
        ),
        timeout,
        "the run to end",
    )
    return pane_of(app)


async def running(pilot: Any, root: Path) -> tuple[int, int]:
    """Wait until the WAIT script runs; its pid and its grandchild's."""
    app = pilot.app
    await wait_for(
        pilot,
        lambda: (
            (root / "pids.txt").exists()
            and len((root / "pids.txt").read_text().split()) == 2
            and "waiting" in pane_of(app).log_view.lines()
        ),
        15,
        "the child to start",
    )
    pid, grandchild = map(int, (root / "pids.txt").read_text().split())
    return pid, grandchild


def notices(app: SessionLensApp) -> list[str]:
    return [n.message for n in app._notifications]


def rendered(pane: RunPane) -> list[str]:
    view = pane.log_view
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


def sqlite_tables(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    finally:
        conn.close()


def reader(root: Path) -> SessionStore:
    return browse(root)


# -- r: run, stream, record ---------------------------------------------------------------
@app_test
async def test_r_runs_the_configured_command_and_streams_it(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", run=["hello.py", "3"])
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        pane = await run_ended(pilot)
        session_id = pane.session_id
        lines = pane.log_view.lines()
        assert "line 4" in lines and "a warning" in lines
        assert "params {}" in lines
        kinds = dict(zip(pane.log_view.lines(), pane.log_view.kinds(), strict=True))
        assert kinds["a warning"] == STDERR and kinds["line 0"] == STDOUT
        # the status line: id, command, final status and exit code
        header = pane.header_text().plain
        for words in (session_id, "hello.py 3", "failed", "exit 3", "lines"):
            assert words in header, (words, header)
        # ANSI colours are colours: "red" is drawn red and the escape codes are gone
        screen_lines = rendered(pane)
        hello = next(y for y, text in enumerate(screen_lines) if "hello" in text)
        assert "hello red world" in screen_lines[hello] and "\x1b" not in screen_lines[hello]
        segments = list(pane.log_view.render_line(hello))
        red = [s for s in segments if s.text == "red"]
        assert red and red[0].style is not None and red[0].style.color is not None
        assert red[0].style.color.triplet != segments[-1].style.color.triplet  # not plain text
        # stderr is marked in the gutter
        warning = next(y for y, text in enumerate(screen_lines) if "a warning" in text)
        assert screen_lines[warning].startswith("▎")
        assert not screen_lines[hello].startswith("▎")
        # the new session is in the table, with its final status
        await wait_for(
            pilot,
            lambda: any(session_id in line and "failed" in line for line in table_lines(app)),
            what="the session in the table",
        )
    store = reader(root)
    record = store.get(session_id)
    run = record["run"]
    assert run["status"] == "failed" and run["exit_code"] == 3
    assert run["command"] == [PY, "hello.py", "3"] and run["rerun_of"] is None
    assert record["git"]["branch"] == "main"
    log = store.read_log(session_id)
    assert "hello \x1b[31mred\x1b[0m world\n" in log and "a warning\n" in log
    store.close()


@app_test
async def test_control_sequences_cannot_break_the_screen(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", run=["controls.py"])
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        pane = await run_ended(pilot)
        shown = [line.rstrip() for line in rendered(pane)]
        body = [line[1:] for line in shown if line.strip()]
        assert body[:8] == [
            "title gone",
            "bell␇ and back␈space and cursor moves",  # shown, as the log viewer shows them
            "progress 100%",
            "bold 256 not bold rgb",
            "still rgb on the next line",
            "after dcs",
            "tab     here",
            "partial at the end",
        ], body
        for line in shown:
            assert all(ch.isprintable() for ch in line), repr(line)
        # colour state carries over a line break: the next line is still rgb
        y = next(y for y, text in enumerate(shown) if "still rgb" in text)
        style = next(s.style for s in pane.log_view.render_line(y) if "still" in s.text)
        assert style.color is not None and style.color.triplet == (10, 200, 30)
        y = next(y for y, text in enumerate(shown) if "bold 256" in text)
        styles = {s.text.strip(): s.style for s in pane.log_view.render_line(y) if s.text.strip()}
        assert styles["bold 256"].bold and styles["bold 256"].color == Color.from_ansi(196)
        assert not styles["not bold"].bold


# -- the single-run rule -----------------------------------------------------------------------
@app_test
async def test_second_launch_is_refused_naming_the_running_session(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", run=["wait.py"])
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        pid, _ = await running(pilot, root)
        session_id = pane_of(app).session_id
        # live status in the table while it runs
        await wait_for(
            pilot,
            lambda: any(session_id in line and "running" in line for line in table_lines(app)),
            what="the running session in the table",
        )
        for key in ("r", "R", "e"):
            app._notifications.clear()
            await pilot.press("escape", key)  # from the table
            await wait_for(pilot, lambda: bool(notices(app)), what=f"a notice for {key}")
            assert session_id in notices(app)[-1] and "still running" in notices(app)[-1]
            assert not isinstance(app.screen, RunFormScreen)
        # "run again" in the pane is refused too, naming it
        pane_of(app).log_view.focus()
        app._notifications.clear()
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(notices(app)))
        assert session_id in notices(app)[-1]
        assert pane_of(app).session_id == session_id and pid_alive(pid)
        (root / "release").write_text("")
        pane = await run_ended(pilot)
        assert pane.status == "success" and pane.exit_code == 0
    store = reader(root)
    assert store.count() == 1
    store.close()


@app_test
async def test_run_again_is_refused_by_the_core_and_offers_a_new_session(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        first = await run_ended(pilot)
        # the core itself refuses a second run of the session
        assert first.session is not None
        with pytest.raises(SessionError, match="only one run"):
            first.session.run([PY, "hello.py"])
        first.log_view.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        message = app.screen.message
        assert first.session_id in message and "already run" in message
        assert "new session" in message
        await pilot.press("y")
        await wait_for(pilot, lambda: pane_of(app) is not first, what="a new pane")
        second = await run_ended(pilot)
        assert second.session_id != first.session_id and second.rerun_of == first.session_id
    store = reader(root)
    assert store.get(second.session_id)["run"]["rerun_of"] == first.session_id
    assert store.count() == 2
    store.close()


# -- interrupting and quitting ------------------------------------------------------------------
@app_test
async def test_ctrl_c_interrupts_and_leaves_no_process(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", run=["wait.py"])
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        pid, grandchild = await running(pilot, root)
        await pilot.press("ctrl+c")
        pane = await run_ended(pilot)
        assert pane.status == "interrupted"
        assert any("Interrupting" in n for n in notices(app))
        assert "interrupted" in pane.header_text().plain
    assert not pid_alive(pid) and not pid_alive(grandchild)
    store = reader(root)
    record = store.get(pane.session_id)
    assert record["run"]["status"] == "interrupted"
    store.close()


@app_test
async def test_quit_with_a_run_asks_then_stops_the_child(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", run=["wait.py", "--stubborn"])
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        pid, grandchild = await running(pilot, root)
        session_id = pane_of(app).session_id
        await pilot.press("escape", "q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert session_id in app.screen.message
        await pilot.press("n")  # keep running
        await pilot.pause(0.2)
        assert app.is_running and pid_alive(pid) and pane_of(app).active
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        # SIGINT and SIGTERM are ignored: SIGKILL ends it, and the app exits
        deadline = time.monotonic() + 15
        while app.is_running and time.monotonic() < deadline:
            await pilot.pause(0.05)
    assert not pid_alive(pid) and not pid_alive(grandchild)
    store = reader(root)
    assert store.get(session_id)["run"]["status"] == "interrupted"
    store.close()


@app_test
async def test_an_app_that_exits_anyway_kills_its_child(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", run=["wait.py", "--stubborn"])
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        pid, grandchild = await running(pilot, root)
        app.exit()  # not through q: e.g. an error elsewhere
    assert not pid_alive(pid) and not pid_alive(grandchild)


# -- R, e, compare ---------------------------------------------------------------------------
@app_test
async def test_edit_form_then_rerun_links_the_source_and_c_compares(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, RunFormScreen))
        form = app.screen
        assert form.query_one("#run-form-command", Input).value.endswith("hello.py")
        form.query_one("#run-form-command", Input).value += " 0"
        params = form.query_one("#run-form-params", Input)
        params.value = "no equals sign"
        params.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, RunFormScreen)  # refused, with the reason shown
        assert "key=value" in str(form.query_one("#run-form-error").render())
        params.value = "scale=3,label=base line"
        await pilot.press("enter")
        source = await run_ended(pilot)
        assert 'params {"label": "base line", "scale": 3}' in source.log_view.lines()
        assert source.rerun_of is None
        # select the finished session and re-run it with e
        await wait_for(
            pilot,
            lambda: (
                app.sessions_screen.table.selected is not None
                and app.sessions_screen.table.selected.session_id == source.session_id
            ),
        )
        await pilot.press("escape", "e")
        await wait_for(pilot, lambda: pane_of(app) is not source, what="the re-run")
        rerun = await run_ended(pilot)
        assert rerun.rerun_of == source.session_id
        assert 'params {"label": "base line", "scale": 3}' in rerun.log_view.lines()
        assert any("Press c" in n and source.session_id in n for n in notices(app))
        rerun.log_view.focus()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare")
        assert {app.screen.left_id, app.screen.right_id} == {source.session_id, rerun.session_id}
    store = reader(root)
    record = store.get(rerun.session_id)
    assert record["run"]["rerun_of"] == source.session_id
    assert record["run"]["command"] == [PY, "hello.py", "0"]
    assert record["cli"]["params"]["params"] == {"scale": 3, "label": "base line"}
    store.close()


@app_test
async def test_no_configured_command_asks_for_one(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", run=None)
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunFormScreen))
        assert "No run command is configured" in (app.screen.note or "")
        await pilot.press("enter")  # empty: refused
        assert isinstance(app.screen, RunFormScreen)
        app.screen.query_one("#run-form-command", Input).value = f"{PY} hello.py 0"
        await pilot.press("enter")
        pane = await run_ended(pilot)
        assert pane.status == "success" and "line 4" in pane.log_view.lines()
        # a command that does not exist: recorded failed (127) and said in the pane
        await pilot.press("escape", "R")
        await wait_for(pilot, lambda: isinstance(app.screen, RunFormScreen))
        app.screen.query_one("#run-form-command", Input).value = "no-such-program-xyz --flag"
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane_of(app) is not pane)
        missing = await run_ended(pilot)
        assert missing.status == "failed" and missing.exit_code == 127
        assert any("cannot run" in line for line in missing.log_view.lines())


# -- stores -----------------------------------------------------------------------------------
@app_test
async def test_memory_store_is_shared_with_the_runner(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    store = MemoryStore()
    app = make_app(store, project=root)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        pane = await run_ended(pilot)
        await wait_for(pilot, lambda: any(pane.session_id in s for s in table_lines(app)))
    assert store.get(pane.session_id)["run"]["status"] == "success"
    assert "line 4\n" in store.read_log(pane.session_id)


@app_test
async def test_log_is_in_the_store_while_the_run_goes_on(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", run=["wait.py"])
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await running(pilot, root)
        session_id = pane_of(app).session_id
        other = reader(root)  # another reader, as another instance of the app would be
        try:
            await wait_for(
                pilot, lambda: "waiting\n" in other.read_log(session_id), 5, "the stored log"
            )
            assert other.get(session_id)["run"]["status"] == "running"
        finally:
            other.close()
        # ctrl+c from the session table stops the run too
        await pilot.press("escape", "ctrl+c")
        pane = await run_ended(pilot)
        assert pane.status == "interrupted"


# -- the flood -----------------------------------------------------------------------------------
@app_test
async def test_a_flood_is_stored_whole_and_the_pane_stays_bounded(tmp_path: Path) -> None:
    lines = 200_000
    root = make_project(tmp_path / "proj", run=["flood.py", str(lines)])
    app = make_app(browse(root))
    app.runs.max_lines = 5_000
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: pane_of(app).log_view.line_count > 0, 15)
        # keys are answered during the flood
        await pilot.press("escape", "question_mark")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "HelpScreen")
        await pilot.press("escape")
        pane = await run_ended(pilot, timeout=60)
        view = pane.log_view
        assert pane.status == "success"
        assert view.line_count == lines
        kept = view.lines()
        assert len(kept) == 5_000 and kept[-1] == f"line {lines - 1}"
        assert kept[0] == f"line {lines - 5_000}"
        # the pane followed the end: the last line is on screen
        await pilot.pause(0.1)
        shown = [line.strip() for line in rendered(pane) if line.strip()]
        assert shown[-1] == f"line {lines - 1}", shown[-3:]
        assert f"{lines:,} lines" in pane.header_text().plain
    store = reader(root)
    log = store.read_log(pane.session_id)
    store.close()
    assert log.count("\n") == lines
    assert log == "".join(f"line {i}\n" for i in range(lines))


# -- without the app: the core's guarantee ---------------------------------------------------------
def test_grandchild_is_gone_after_interrupt_even_if_it_ignores_signals(tmp_path: Path) -> None:
    """The core's guarantee the pane relies on: ``interrupt`` kills the whole group."""
    from sessionlens.session import Session

    root = make_project(tmp_path / "proj", run=["wait.py", "--stubborn"])
    store = MemoryStore()
    session = Session.create(project_path=root, store=store)
    running_session = session.start([PY, "wait.py", "--stubborn"], grace_period=0.2, kill_after=0.2)
    pids = root / "pids.txt"
    deadline = time.monotonic() + 15
    # the child writes its pid and its grandchild's: wait for both, not just for the file
    while not (pids.exists() and len(pids.read_text().split()) == 2):
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.02)
    pid, grandchild = map(int, pids.read_text().split())
    running_session.interrupt()
    record = running_session.wait(timeout=15)
    session.close()
    assert record["run"]["status"] == "interrupted"
    assert record["run"]["signal"] == signal.Signals.SIGKILL.name
    assert not pid_alive(pid) and not pid_alive(grandchild)
    assert os.getpid() != pid


@app_test
async def test_scrolling_up_pauses_following_and_keeps_the_lines_in_view() -> None:
    from textual.app import App, ComposeResult

    from sessionlens.stores.base import LogChunk
    from sessionlens.tui.widgets.run_log import RunLog

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield RunLog(max_lines=200)

    def batch(start: int, count: int) -> list[LogChunk]:
        return [LogChunk("".join(f"line {i}\n" for i in range(start, start + count)))]

    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(RunLog)
        view.focus()
        view.write(batch(0, 100))
        await pilot.pause()
        assert view.follow and "line 99" in view.render_line(view.size.height - 1).text
        await pilot.press("up", "up", "up")
        assert not view.follow
        top = view.render_line(0).text
        view.write(batch(100, 150))  # 50 old lines drop out of the pane
        await pilot.pause()
        assert view.render_line(0).text == top  # the same lines are still in view
        assert view.lines()[0] == "line 50"
        await pilot.press("end")
        view.write(batch(250, 5))
        await pilot.pause()
        assert view.follow and "line 254" in view.render_line(view.size.height - 1).text


# -- the opened store's own project -------------------------------------------------------------
async def open_with_o(pilot: Any, where: Path) -> None:
    app = pilot.app
    await pilot.press("o")
    modal = app.screen
    modal.query_one(Input).value = str(where)
    await wait_for(pilot, lambda: modal.detected is not None, what="detection")
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.store.location != "", what="the other store")
    await wait_for(pilot, lambda: not isinstance(app.screen, type(modal)), what="dismiss")
    await loaded(pilot)


@app_test
async def test_after_o_r_runs_the_other_project_into_its_store_and_asks_first(
    tmp_path: Path,
) -> None:
    """Project A's app opens Kedro project B's kedro-viz store: ``r`` runs B's command in B's
    folder into B's store, after asking before adding sessionlens's tables to it."""
    a = make_project(tmp_path / "a", run=["hello.py", "0"])
    b = tmp_path / "b"
    shutil.copytree(KEDRO_SQLITE, b)
    (b / "hello.py").write_text(textwrap.dedent(HELLO).lstrip())
    (b / "pyproject.toml").write_text(
        f'[tool.kedro]\npackage_name = "b"\n\n[tool.sessionlens]\nrun = ["{PY}", "hello.py", "5"]\n'
    )
    db = b / ".viz" / "session_store.db"
    viz_tables = sorted(sqlite_tables(db))
    app = make_app(browse(a))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await open_with_o(pilot, b)
        assert app.store.location == str(db)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "kedro-viz" in app.screen.message
        await pilot.press("n")  # no: nothing runs, the file is left as kedro-viz wrote it
        await pilot.pause(0.3)
        assert app.sessions_screen.run_pane is None and sorted(sqlite_tables(db)) == viz_tables
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        pane = await run_ended(pilot)
    with open_store(db) as store:
        record = store.get(pane.session_id)
        assert record["project_path"] == str(b.resolve())
        assert record["run"]["command"] == [PY, "hello.py", "5"]
        assert record["run"]["exit_code"] == 5 and "line 4" in store.read_log(pane.session_id)
        assert store.count() == 9  # kedro-viz's 8 and ours
    with browse(a) as store:
        assert store.count() == 0  # nothing landed in project A's store


@app_test
async def test_r_refuses_for_a_store_in_no_project(tmp_path: Path) -> None:
    a = make_project(tmp_path / "a", run=["hello.py", "0"])
    loose = tmp_path / "loose"
    shutil.copytree(KEDRO_SQLITE / ".viz", loose)
    app = make_app(browse(a))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await open_with_o(pilot, loose / "session_store.db")
        await pilot.press("r")
        await wait_for(pilot, lambda: any("no project" in n for n in notices(app)), what="why")
        assert app.sessions_screen.run_pane is None
    assert sorted(sqlite_tables(loose / "session_store.db")) == ["runs", "user_run_details"]


ENV_PRINT = """
import os
for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS", "LINES"):
    print(f"{name}={os.environ.get(name)}")
"""


@app_test
async def test_a_child_writes_for_the_pane_as_for_a_terminal_of_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Colours forced and the pane's width and height: Kedro's rich logs fill the pane instead
    of wrapping at 80 columns. With ``NO_COLOR`` set, no colour is forced."""
    root = make_project(tmp_path / "proj", run=["env_print.py"], extra={"env_print.py": ENV_PRINT})
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(browse(root))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        pane = await run_ended(pilot)
        shown = dict(line.split("=", 1) for line in pane.log_view.lines() if "=" in line)
    assert shown["FORCE_COLOR"] == "1" and shown["TTY_COMPATIBLE"] == "1"
    assert 140 <= int(shown["COLUMNS"]) <= 160 and 5 <= int(shown["LINES"]) <= 45
    from sessionlens.tui.run_manager import pane_env

    assert "FORCE_COLOR" not in pane_env(120, 30, {"NO_COLOR": "1"})
    assert pane_env(120, 30, {})["COLUMNS"] == "119"
