"""Hostile stores for the terminal-safety tests: every field holds what a terminal would obey.

``HOSTILE`` sets the window title (``ESC ]0;PWN BEL``), reverses the text after it (U+202E),
starts a one-character CSI on 8-bit terminals (U+009B) and looks like Rich markup. It goes into
every field sessionlens shows: the session id, branch, command, user, host, parameter names and
values, the exception, log lines, kedro-viz's title and notes, and the store's own folder name.
``assert_terminal_safe`` checks the bytes a process wrote to a terminal.
"""

from __future__ import annotations

import dbm.dumb
import json
import pickle
import socket
import sqlite3
from pathlib import Path
from typing import Any

from sessionlens.stores.shelve_store import ShelveSessionStore
from sessionlens.stores.sqlite_store import SQLiteSessionStore

HOSTILE = "\x1b]0;PWN\x07\u202e\x9b31m[bold red]x[/]"
#: how ``safe_text`` shows it
SHOWN = "␛]0;PWN␇<U+202E><U+009B>31m[bold red]x[/]"
#: a folder name cannot hold ``/``
FOLDER = "store \x1b]0;PWN\x07\u202e\x9b31m[bold]"

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
C1 = [chr(c) for c in range(0x80, 0xA0)]


def hostile_id(n: int) -> str:
    return f"2026-11-25T09.44.1{n}.880Z {HOSTILE}"


def shelve_id(n: int) -> str:
    """A hostile id that can be a folder name (a shelve session is a folder)."""
    return f"2026-11-25T09.44.1{n}.880Z {FOLDER}"


def hostile_record(n: int, **changes: Any) -> dict[str, Any]:
    """Session ``n`` with ``HOSTILE`` in every text field (a failed run)."""
    session_id = hostile_id(n)
    record: dict[str, Any] = {
        "session_id": session_id,
        "package_name": HOSTILE,
        "project_path": f"/srv/{HOSTILE}",
        "username": HOSTILE,
        "env": HOSTILE,
        "cli": {
            "command_name": "run",
            "command_path": f"kedro run {HOSTILE}",
            "args": [HOSTILE],
            "params": {"params": {HOSTILE: HOSTILE, "scale": n}},
        },
        "git": {"commit_sha": "54c4f0d", "branch": f"feature/{HOSTILE}", "dirty": True},
        "run": {
            "status": "failed",
            "started_at": f"2026-11-25T09:44:1{n}.880Z",
            "finished_at": f"2026-11-25T09:45:1{n}.880Z",
            "duration_s": 60.0 + n,
            "exit_code": 1,
            "pid": 4242,
            "hostname": HOSTILE,
            "command": ["python", "train.py", HOSTILE],
        },
        "exception": {"type": HOSTILE, "value": HOSTILE, "traceback": [f"line {HOSTILE}\n"]},
        "environment": {"python": HOSTILE},
        HOSTILE: HOSTILE,
    }
    record.update(changes)
    return record


def make_hostile_sqlite(parent: Path) -> Path:
    """An SQLite store in a folder named ``FOLDER``: two hostile sessions written through the
    store API (with logs), kedro-viz ``user_run_details`` for both, and a third row written the
    way kedro-viz writes (behind sessionlens's back, no ``run``). Returns the file."""
    folder = parent / FOLDER
    folder.mkdir(parents=True)
    path = folder / "session_store.db"
    store = SQLiteSessionStore(path, create=True)
    try:
        store.insert_many([hostile_record(1), hostile_record(2)])
        for n in (1, 2):
            store.append_log(hostile_id(n), f"out {n} {HOSTILE}\n", "stdout")
            store.append_log(hostile_id(n), f"err {n} {HOSTILE}\n", "stderr")
    finally:
        store.close()
    conn = sqlite3.connect(path)
    with conn:
        for n in (1, 2):
            conn.execute(
                "INSERT INTO user_run_details (run_id, bookmark, title, notes) VALUES (?, ?, ?, ?)",
                (hostile_id(n), 1, f"title {HOSTILE}", f"notes {HOSTILE}"),
            )
        viz = hostile_record(3, username=f"viz {HOSTILE}")
        viz.pop("run")
        conn.execute(
            "INSERT INTO runs (id, blob) VALUES (?, ?)",
            (viz["session_id"], json.dumps(json.dumps(viz))),
        )
    conn.close()
    return path


def make_hostile_shelve(parent: Path) -> Path:
    """A Kedro shelve store: one good hostile session, and one whose pickle names a module
    called ``HOSTILE`` (the restricted unpickler refuses it and says what it refused)."""
    folder = parent / FOLDER
    store = ShelveSessionStore(folder, create=True)
    try:
        store.insert(hostile_record(1, session_id=shelve_id(1)))
    finally:
        store.close()
    bad = folder / shelve_id(2)
    bad.mkdir()
    with dbm.dumb.open(str(bad / "store"), "c") as db:
        db["session_id"] = pickle.dumps(shelve_id(2), protocol=4)
        # a GLOBAL opcode: module and name, each one line of text
        db["git"] = b"c" + FOLDER.encode() + b"\nname\n."
    return folder


def terminal_text(data: bytes, where: str) -> str:
    """``data`` as the terminal would get it, checked: valid UTF-8, and no byte or character a
    terminal obeys that can only have come from the store."""
    assert b"\x1b]0;PWN" not in data, f"{where}: the title escape reached the terminal"
    assert b"PWN\x07" not in data, f"{where}: a BEL from the store reached the terminal"
    text = data.decode("utf-8")  # a raw surrogate or a stray byte would fail here
    for char in (*BIDI, *C1):
        assert char not in text, f"{where}: U+{ord(char):04X} reached the terminal"
    return text


def assert_terminal_safe(data: bytes, where: str) -> str:
    """For plain output (the CLI): no ESC, no BEL at all, besides ``terminal_text``'s checks."""
    text = terminal_text(data, where)
    assert "\x1b" not in text, f"{where}: ESC reached the terminal"
    assert "\x07" not in text, f"{where}: BEL reached the terminal"
    return text


def this_host() -> str:
    return socket.gethostname()
