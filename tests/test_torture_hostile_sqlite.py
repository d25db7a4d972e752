"""Torture: sessionlens's own tables of an SQLite store, edited by hand into shapes its writer
never makes (a log chunk stored as a BLOB, a heartbeat that is not a number, an index row of the
wrong types, an unreadable meta value). Through the real CLI every read command ends with exit
code 0 or 2 and one line, never "internal error" (70); the sessions still list; and the next
writer opens the store.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sessionlens.stores import open_store
from sessiontools import cli

pytestmark = pytest.mark.torture

RUNNING = "2026-11-25T09.44.01.000Z"  # a run of another host, with a heartbeat and a log
DONE = "2026-11-25T09.44.02.000Z"

#: each case: SQL run on the store behind sessionlens's back
EDITS = {
    "log-chunk-as-blob": [
        "INSERT INTO sessionlens_logs VALUES (?, 1, 'stdout', x'626164ff0a')",
        "INSERT INTO sessionlens_logs VALUES (?, 2, x'ff', 'more\n')",
    ],
    "heartbeat-text": ["UPDATE sessionlens_heartbeats SET at = 'soon' WHERE session_id = ?"],
    "heartbeat-blob": ["UPDATE sessionlens_heartbeats SET at = x'ff00' WHERE session_id = ?"],
    "meta-indexed-rowid": [
        "UPDATE sessionlens_meta SET value = 'many' WHERE key = 'indexed_rowid'"
    ],
    "index-row-types": [
        "UPDATE sessionlens_sessions SET duration_s = 'long', exit_code = 'x', dirty = 'maybe', "
        "started_at = 42, branch = x'ff41'",
        "UPDATE sessionlens_sessions SET status = 'pwned' WHERE session_id = ?",
    ],
}


def hostile_store(folder: Path, edits: list[str]) -> Path:
    path = folder / "s.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(
            [
                {
                    "session_id": RUNNING,
                    "run": {"status": "running", "pid": 1, "hostname": "elsewhere"},
                },
                {"session_id": DONE, "run": {"status": "success", "duration_s": 3.0}},
            ]
        )
        store.append_log(RUNNING, "good line\n")
    conn = sqlite3.connect(path)
    with conn:
        for sql in edits:
            conn.execute(sql, (RUNNING,) if "?" in sql else ())
    conn.close()
    return path


@pytest.mark.parametrize("case", sorted(EDITS))
def test_hand_edited_sessionlens_tables_never_make_an_internal_error(
    tmp_path: Path, case: str
) -> None:
    path = hostile_store(tmp_path, EDITS[case])
    commands = [
        ["list"],
        ["list", "--json"],
        ["list", "--filter", "status:lost"],
        ["list", "--sort", "duration"],
        ["show", RUNNING],
        ["show", DONE],
        ["show", "--json", RUNNING],
        ["log", RUNNING],
        ["log", "--json", RUNNING],
        ["diff", RUNNING, DONE],
    ]
    for args in commands:
        proc = cli("--store", str(path), *args)
        assert proc.returncode in (0, 2), (args, proc.returncode, proc.stderr)
        assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, args
        assert len(proc.stderr.splitlines()) <= 1, (args, proc.stderr)
    listed = cli("--store", str(path), "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {row["session_id"] for row in json.loads(listed.stdout)} == {RUNNING, DONE}
    with open_store(path, read_only=False) as writer:  # the next run's writer opens it
        assert writer.count() == 2
        writer.insert({"session_id": "2026-11-25T09.44.03.000Z"})
        assert writer.count() == 3
