"""Terminal safety (issue 8, item 5): store text never drives the terminal.

Every field of the stores in ``hostile.py`` holds ``ESC ]0;PWN BEL`` (set the window title),
U+202E (right-to-left override), a C1 CSI and Rich markup. The real ``sessionlens`` runs as a
subprocess (the CLI: the raw bytes of stdout and stderr are checked) and in a pseudo-terminal
(the app: every byte it wrote to the terminal is checked); Pilot covers the widgets.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.color import Color
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets._toast import Toast

from hostile import (
    FOLDER,
    HOSTILE,
    SHOWN,
    assert_terminal_safe,
    hostile_id,
    hostile_record,
    make_hostile_shelve,
    make_hostile_sqlite,
    shelve_id,
    terminal_text,
    this_host,
)
from sessionlens.stores import open_store
from sessionlens.stores.base import LogChunk
from sessionlens.stores.sqlite_store import SQLiteSessionStore
from sessiontools import GIT_ENV
from tui_support import WIDE, app_test, loaded, make_app, wait_for, widget_text

#: how the store's folder name is shown
FOLDER_SHOWN = "store ␛]0;PWN␇<U+202E><U+009B>31m[bold]"
P1, P2, P3 = (hostile_id(n)[:19] for n in (1, 2, 3))  # unique id prefixes


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_hostile_sqlite(tmp_path_factory.mktemp("hostile"))


def sl(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """``python -m sessionlens ARGS``; stdout and stderr as the bytes a terminal would get."""
    env = {**os.environ, **GIT_ENV, "COLUMNS": "240"}
    env.pop("SESSIONLENS_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "sessionlens", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def both_safe(proc: subprocess.CompletedProcess[bytes], what: str) -> tuple[str, str]:
    return (
        assert_terminal_safe(proc.stdout, f"{what}: stdout"),
        assert_terminal_safe(proc.stderr, f"{what}: stderr"),
    )


# -- the CLI ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["list"], ["␛]0;PWN␇<U+202E><U+009B>31m", "sessions in sqlite: ", FOLDER_SHOWN]),
        (["list", "--filter", f"x{HOSTILE}"], [f"matching x{SHOWN}"]),
        (["show", P1], [SHOWN, f"feature/{SHOWN}", f"title {SHOWN}", f"notes {SHOWN}"]),
        (["show", P3], [f"viz {SHOWN}", FOLDER_SHOWN]),  # the row kedro-viz wrote
        (["diff", P1, P2, "--all"], [SHOWN, f"A {hostile_id(1)[:25]}{SHOWN}"]),
        (["log", P1], [f"out 1 {SHOWN}\nerr 1 {SHOWN}\n"]),
    ],
    ids=["list", "list-filter", "show", "show-kedro-viz-row", "diff", "log"],
)
def test_human_output_shows_store_text_visibly(
    store_path: Path, args: list[str], shown: list[str]
) -> None:
    proc = sl("--store", str(store_path), *args, cwd=store_path.parent.parent)
    assert proc.returncode == 0, proc.stderr
    out, err = both_safe(proc, " ".join(args[:1]))
    assert err == ""
    for text in shown:
        assert text in out, (text, out)


@pytest.mark.parametrize(
    "args",
    [["list"], ["show", P1], ["diff", P1, P2, "--all"], ["log", P1]],
    ids=["list", "show", "diff", "log"],
)
def test_json_output_escapes_and_round_trips(store_path: Path, args: list[str]) -> None:
    proc = sl("--store", str(store_path), *args, "--json", cwd=store_path.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.isascii()  # ensure_ascii: every control and bidi character escaped
    data = json.loads(proc.stdout)
    assert any(HOSTILE in text for text in _strings(data))  # exactly as stored
    if args[0] == "show":
        assert data["record"]["username"] == HOSTILE
        assert data["user_details"]["title"] == f"title {HOSTILE}"


def _strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [*_strings(list(data)), *_strings(list(data.values()))]
    if isinstance(data, list):
        return [text for item in data for text in _strings(item)]
    return []


def test_log_raw_is_the_one_exact_output(store_path: Path) -> None:
    proc = sl("--store", str(store_path), "log", P1, "--raw", cwd=store_path.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"out 1 {HOSTILE}\nerr 1 {HOSTILE}\n".encode()
    helped = sl("log", "--help", cwd=store_path.parent).stdout.decode()
    assert "--raw" in helped and "the one output" in " ".join(helped.split())


def _reader(stream: object, sink: bytearray) -> threading.Thread:
    def read() -> None:
        while chunk := os.read(stream.fileno(), 65536):  # type: ignore[attr-defined]
            sink.extend(chunk)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_log_follow_shows_new_lines_visibly(tmp_path: Path) -> None:
    path = make_hostile_sqlite(tmp_path)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    running = hostile_record(4)
    running["run"] = {
        "status": "running",
        "started_at": "2026-11-25T09:44:14.880Z",
        "pid": alive.pid,
        "hostname": this_host(),
        "command": ["python", HOSTILE],
    }
    writer = SQLiteSessionStore(path)
    follow = None
    try:
        writer.insert(running)
        writer.append_log(hostile_id(4), f"follow 1 {HOSTILE}\n")
        env = {**os.environ, "COLUMNS": "240"}
        follow = subprocess.Popen(
            [sys.executable, "-m", "sessionlens", "--store", str(path), "log", "-F", P1[:-1] + "4"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        out, err = bytearray(), bytearray()
        readers = [_reader(follow.stdout, out), _reader(follow.stderr, err)]
        _wait(lambda: b"follow 1" in out, 30, "the first line")
        writer.append_log(hostile_id(4), f"follow 2 {HOSTILE}\n", "stderr")
        _wait(lambda: b"follow 2" in out, 30, "a line written while following")
        alive.kill()
        alive.wait()  # the run is over (its process is gone): --follow ends
        assert follow.wait(timeout=30) == 0
        for thread in readers:
            thread.join(timeout=10)
    finally:
        writer.close()
        if alive.poll() is None:
            alive.kill()
            alive.wait()
        if follow is not None and follow.poll() is None:
            follow.kill()
            follow.wait()
    shown = assert_terminal_safe(bytes(out), "log --follow: stdout")
    assert assert_terminal_safe(bytes(err), "log --follow: stderr") == ""
    assert shown == f"follow 1 {SHOWN}\nfollow 2 {SHOWN}\n"


def test_error_lines_on_stderr_show_store_text_visibly(store_path: Path, tmp_path: Path) -> None:
    cases: list[tuple[list[str], str]] = [
        # the store's own folder name, quoted by the unknown-id error
        (["--store", str(store_path), "show", "nope"], FOLDER_SHOWN),
        # what the user typed, quoted by argparse
        (["--store", str(store_path), "list", f"--bogus{HOSTILE}"], f"--bogus{SHOWN}"),
        # a filter term it cannot read, quoting hostile text
        (["--store", str(store_path), "list", "--filter", f"dirty:'{HOSTILE}'"], "expects yes"),
    ]
    shelve = make_hostile_shelve(tmp_path)
    # the restricted unpickler names the module it refused: a pickle chose that name (the
    # session is listed unreadable; comparing it is the error that quotes the reason)
    cases.append(
        (
            ["--store", str(shelve), "diff", shelve_id(2), shelve_id(1)],
            f"refused to unpickle {FOLDER_SHOWN}",
        )
    )
    for args, needle in cases:
        proc = sl(*args, cwd=tmp_path)
        out, err = both_safe(proc, " ".join(args[2:3]))
        assert proc.returncode == 2, (args, proc.stderr)
        assert out == "" and len(err.splitlines()) == 1, err
        assert err.startswith("sessionlens: ") and needle in err, (needle, err)


# -- the app in a pseudo-terminal ---------------------------------------------------------------
def test_app_never_writes_store_text_raw_to_the_terminal(store_path: Path, tmp_path: Path) -> None:
    """Table, detail panel, store header, a notification, the compare screen (fields and logs)
    and the detail screen (record, JSON, log): every byte the app wrote is checked."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200", "LINES": "50"}
    app = subprocess.Popen(
        [sys.executable, "-m", "sessionlens", "--store", str(store_path)],
        cwd=tmp_path,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()

    def press(keys: bytes, *markers: str, timeout: float = 20) -> None:
        start = len(seen)
        if keys:
            os.write(master, keys)
        for marker in map(str.encode, markers):
            _wait(lambda m=marker: m in seen[start:], timeout, f"{marker!r} after {keys!r}")

    try:
        press(b"", "3 sessions", "PWN␇", f"title {'␛]0;PWN␇'}", timeout=30)  # table, header, panel
        press(b" ", "Marked")  # a notification quoting the session id
        press(b"\x1b[B" + b"c", "Fields")  # compare the marked session with the next one
        press(b"4", "out 1 ", "out 2 ")  # both logs
        press(b"\x1b", "3 sessions")  # back to the sessions
        press(b"\r", "JSON")  # the detail screen
        press(b"2", '"username"')
        press(b"3", "err ")
        os.write(master, b"q")
        app.wait(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        os.close(master)
    text = terminal_text(bytes(seen), "the app")
    for shown in ("␛]0;PWN␇", "<U+202E>", "<U+009B>31m", "[bold red]x[/]"):
        assert shown in text, shown


# -- Pilot: the widgets -------------------------------------------------------------------------
def assert_screen_safe(text: str, what: str) -> None:
    assert "\x1b" not in text and "\x07" not in text, what
    terminal_text(text.encode(), what)


@app_test
async def test_screens_show_store_text_visibly_and_markup_literally(store_path: Path) -> None:
    app = make_app(open_store(str(store_path), read_only=True))
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "notes" in widget_text(app.screen), what="the panel")
        sessions = widget_text(app.screen)
        assert_screen_safe(sessions, "sessions screen")
        for shown in (FOLDER_SHOWN, f"title {SHOWN}", f"notes {SHOWN}", f"err 2 {SHOWN}"):
            assert shown in sessions, shown

        await pilot.press("space", "down", "c")
        await wait_for(pilot, lambda: "cli.params" in widget_text(app.screen), what="compare")
        for tab in "1234":
            await pilot.press(tab)
            await pilot.pause()
            assert_screen_safe(widget_text(app.screen), f"compare tab {tab}")
        assert f"out 1 {SHOWN}" in widget_text(app.screen)

        await pilot.press("escape", "enter")
        await wait_for(pilot, lambda: getattr(app.screen, "record", None) is not None)
        texts = []
        for tab in "123":
            await pilot.press(tab)
            await pilot.pause()
            texts.append(widget_text(app.screen))
            assert_screen_safe(texts[-1], f"detail tab {tab}")
        assert f"username: {SHOWN}" in texts[0]
        # JSON escapes C0 itself; C1 and bidi it leaves alone, safe_text shows them
        assert '"username": "\\u001b]0;PWN\\u0007<U+202E><U+009B>31m[bold red]x[/]"' in texts[1]
        assert f"err 1 {SHOWN}" in texts[2]


@app_test
async def test_every_notification_and_title_is_made_safe(store_path: Path) -> None:
    app = make_app(open_store(str(store_path), read_only=True))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await loaded(pilot)
        app.notify(HOSTILE, title=HOSTILE, markup=False)
        app.screen.notify(f"from a widget {HOSTILE}", markup=False)  # Widget.notify
        app.notify(f"with markup {HOSTILE}", severity="error")  # markup on: not an escape
        await wait_for(pilot, lambda: len(app.screen.query(Toast)) == 3, what="the toasts")
        toasts = [toast.render().plain for toast in app.screen.query(Toast)]
        for text in toasts:
            assert_screen_safe(text, "a toast")
        joined = "\n".join(toasts)
        assert f"{SHOWN}\n{SHOWN}" in joined  # title and message
        assert f"from a widget {SHOWN}" in joined
        assert "with markup ␛]0;PWN␇<U+202E><U+009B>31m" in joined
        app.title = f"t {HOSTILE}"
        app.sub_title = HOSTILE
        assert app.title == f"t {SHOWN}" and app.sub_title == SHOWN


class _Harness(App[None]):
    """One widget, made in the app's context."""

    def __init__(self, make: Callable[[], Widget]) -> None:
        super().__init__()
        self.make = make

    def compose(self) -> ComposeResult:
        yield self.make()


@app_test
async def test_run_pane_keeps_colours_and_shows_every_other_control() -> None:
    from sessionlens.tui.widgets.run_log import RunLog

    harness = _Harness(RunLog)
    async with harness.run_test(size=(160, 10)) as pilot:
        log = harness.query_one(RunLog)
        log.write([LogChunk(f"\x1b[31mred\x1b[0m {HOSTILE}\n"), LogChunk("bell\x07\n", "stderr")])
        log.add_note(f"sessionlens: cannot run the command: {HOSTILE}")
        await pilot.pause()
        lines = [log.render_line(y) for y in range(3)]
        texts = [line.text for line in lines]
        for text in texts:
            assert_screen_safe(text, "run pane")
        # the OSC is a sequence: dropped like a cursor move; what a terminal obeys alone, shown
        assert texts[0].startswith(" red <U+202E><U+009B>31m[bold red]x[/]"), texts[0]
        assert "bell␇" in texts[1]
        assert f"sessionlens: cannot run the command: {SHOWN}" in texts[2]
        red = next(s for s in lines[0] if s.text == "red")
        assert red.style is not None and red.style.color == Color.from_ansi(1)


@app_test
async def test_text_boxes_draw_control_characters_visibly_and_keep_the_value() -> None:
    from sessionlens.tui.widgets.safe_input import SafeInput

    harness = _Harness(lambda: SafeInput(f"kedro run {HOSTILE}"))
    async with harness.run_test(size=(120, 5)) as pilot:
        box = harness.query_one(SafeInput)
        await pilot.pause()
        drawn = box.render_line(0).text
        assert_screen_safe(drawn, "text box")
        assert "kedro run ␛]0;PWN␇\ufffd\ufffd31m[bold red]x[/]" in drawn
        assert box.value == f"kedro run {HOSTILE}"  # what runs is what was there


def test_path_completion_never_offers_a_name_with_control_characters(tmp_path: Path) -> None:
    from sessionlens.tui.widgets.path_input import complete_path

    (tmp_path / FOLDER).mkdir()  # "store ␛]0;..." sorts before "storm"
    (tmp_path / "storm").mkdir()
    assert complete_path(str(tmp_path / "sto")) == str(tmp_path / "storm") + "/"
    assert complete_path(str(tmp_path / "store ")) is None
