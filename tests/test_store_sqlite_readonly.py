"""SQLite stores, read-only for real: browsing changes no file, and no file is opened by hand while
this process holds a connection to it (that would drop the connection's POSIX locks).

The stores here are made the ways they turn up in practice: written by sessionlens (rollback
journal), written in WAL mode by an older sessionlens whose writer was killed before a checkpoint
(so committed sessions live only in ``-wal``), the same without its ``-shm``, and a rollback
journal left hot by a writer killed mid-transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sessionlens.stores import detect_store, open_store
from sessionlens.stores.sqlite_store import SQLiteSessionStore
from sessiontools import cli
from storetools import make_records

KEDRO_VIZ_DDL = """
CREATE TABLE runs (id VARCHAR NOT NULL, blob JSON, PRIMARY KEY (id));
CREATE INDEX ix_runs_id ON runs (id);
"""


def folder_state(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file in ``folder``: size, mtime and a digest of its bytes."""
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha1(p.read_bytes()).hexdigest())
        for p in sorted(folder.iterdir())
    }


def blob(i: int) -> str:
    record = {"session_id": f"2026-11-25T09.44.{i:02d}.000Z", "username": "viz", "n": i}
    return json.dumps(json.dumps(record))


KILLED_WAL_WRITER = """
import os, signal, sqlite3, sys
path, total, checkpointed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
conn = sqlite3.connect(path, isolation_level=None)
conn.executescript(sys.argv[4])
conn.execute("PRAGMA journal_mode=WAL")
for i in range(total):
    if i == checkpointed:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA wal_autocheckpoint=0")
    row = (f"2026-11-25T09.44.{i:02d}.000Z", sys.argv[5 + i])
    conn.execute("INSERT INTO runs VALUES (?, ?)", row)
os.kill(os.getpid(), signal.SIGKILL)  # killed before any checkpoint: the rest is only in -wal
"""


def killed_wal_writer(path: Path, total: int = 8, checkpointed: int = 3) -> None:
    """A WAL store whose first ``checkpointed`` sessions are in the file, the rest in ``-wal``."""
    args = [str(path), str(total), str(checkpointed), KEDRO_VIZ_DDL]
    args += [blob(i) for i in range(total)]
    proc = subprocess.run([sys.executable, "-c", KILLED_WAL_WRITER, *args], check=False)
    assert proc.returncode == -9
    assert Path(f"{path}-wal").stat().st_size > 0


def browse_everything(path: Path, expected: int) -> None:
    """What browsing does: detect, open, list, count, read every session and its log."""
    assert detect_store(path).kind == "sqlite"
    with open_store(path) as store:
        assert store.count() == expected
        for summary in store.list_summaries(limit=None):
            store.get(summary.session_id)
            store.log_tail(summary.session_id)
        store.change_token()
    listed = cli("list", "--json", "--limit", "0", "--store", str(path))
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == expected
    shown = cli("show", "2026-11-25T09.44.01", "--store", str(path))
    assert shown.returncode == 0, shown.stderr


def test_browsing_a_store_sessionlens_wrote_changes_no_file(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    records = make_records(6)
    for i, record in enumerate(records):
        record["session_id"] = f"2026-11-25T09.44.{i:02d}.000Z"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(records)
        store.append_log(records[1]["session_id"], "a line\n")
    before = folder_state(tmp_path)
    assert list(before) == ["session_store.db"]  # no -wal, no -shm left by the writer either
    browse_everything(path, 6)
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("shm", [True, False], ids=["with-shm", "without-shm"])
def test_a_wal_store_left_by_a_killed_writer_is_read_whole_and_untouched(
    tmp_path: Path, shm: bool
) -> None:
    """All 8 sessions (5 only in -wal) are shown; -wal and -shm are neither created, rewritten
    nor removed; the store says it was read from a private copy."""
    path = tmp_path / "session_store.db"
    killed_wal_writer(path)
    if not shm:
        Path(f"{path}-shm").unlink()
    before = folder_state(tmp_path)
    browse_everything(path, 8)
    with open_store(path) as store:
        assert store.notice is not None and "private copy" in store.notice
    listed = cli("list", "--store", str(path))
    assert listed.returncode == 0 and "note: read from a private copy" in listed.stderr
    assert folder_state(tmp_path) == before


def test_a_wal_store_is_followed_while_a_writer_adds_sessions(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    killed_wal_writer(path, total=4, checkpointed=2)
    with open_store(path) as reader:
        assert reader.count() == 4
        token = reader.change_token()
        with open_store(path, read_only=False) as writer:  # converts it back to a journal
            writer.insert(make_records(1)[0])
        assert reader.change_token() != token
        assert reader.count() == 5
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_a_hot_journal_left_by_a_killed_writer_is_read_untouched(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    conn = sqlite3.connect(path)
    conn.executescript(KEDRO_VIZ_DDL)
    conn.executemany(
        "INSERT INTO runs VALUES (?, ?)",
        [(f"2026-11-25T09.44.{i:02d}.000Z", blob(i)) for i in range(3)],
    )
    conn.commit()
    conn.close()
    killer = (
        "import os, signal, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA cache_size=1')\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "c.executemany('INSERT INTO runs VALUES (?, ?)', "
        "[(f'x{i}', 'y' * 2000) for i in range(500)])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert subprocess.run([sys.executable, "-c", killer, str(path)]).returncode == -9
    assert Path(f"{path}-journal").stat().st_size > 0
    before = folder_state(tmp_path)
    browse_everything(path, 3)
    assert folder_state(tmp_path) == before
    with open_store(path, read_only=False) as writer:  # the next writer rolls it back
        assert writer.count() == 3
    assert not Path(f"{path}-journal").exists()


LOCK_PROBE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
try:
    conn.execute("BEGIN EXCLUSIVE")
except sqlite3.OperationalError:
    print("locked")
else:
    conn.execute("ROLLBACK")
    print("free")
"""


def other_process_sees(path: Path) -> str:
    out = subprocess.run([sys.executable, "-c", LOCK_PROBE, str(path)], capture_output=True)
    return out.stdout.decode().strip()


def test_no_file_is_opened_by_hand_while_a_connection_holds_it(tmp_path: Path) -> None:
    """A read transaction holds a shared lock; detecting and opening the same store again (as
    the app does for ``o`` and for a run's writer) must not drop it, or another process could
    write under the read (in WAL mode: delete the WAL under live connections)."""
    project = tmp_path / "project"
    (project / ".viz").mkdir(parents=True)
    path = project / ".viz" / "session_store.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(make_records(3))
    assert other_process_sees(path) == "free"
    reader = SQLiteSessionStore(path, read_only=True)
    reader._conn.execute("BEGIN")
    reader._conn.execute("SELECT count(*) FROM main.runs").fetchone()  # now holds SHARED
    assert other_process_sees(path) == "locked"
    detect_store(path)
    detect_store(project)
    open_store(path).close()
    with open_store(project, read_only=False) as writer:
        assert writer.count() == 3
    assert other_process_sees(path) == "locked"  # our shared lock survived all of it
    reader._conn.execute("COMMIT")
    assert other_process_sees(path) == "free"
    reader.close()


MID_TRANSACTION_KILLER = (
    "import os, signal, sqlite3, sys\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "c.execute('PRAGMA cache_size=1')\n"
    "c.execute('BEGIN IMMEDIATE')\n"
    "c.executemany('INSERT INTO runs VALUES (?, ?)', "
    "[(f'x{i}', 'y' * 2000) for i in range(500)])\n"
    "os.kill(os.getpid(), signal.SIGKILL)\n"
)


def test_a_writer_killed_mid_write_while_a_store_is_browsed_leaves_it_readable(
    tmp_path: Path,
) -> None:
    """The app (or ``log --follow``) has the store open when a writer dies mid-transaction: the
    hot journal is read from a private copy then too, as it is at open, instead of every read
    failing with 'read-only' until some writer comes along; and the folder stays untouched."""
    path = tmp_path / "session_store.db"
    records = make_records(3)
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(records)
        store.append_log(records[0]["session_id"], "a line\n")
    with open_store(path) as reader:
        assert reader.count() == 3 and reader.notice is None
        proc = subprocess.run([sys.executable, "-c", MID_TRANSACTION_KILLER, str(path)])
        assert proc.returncode == -9
        assert Path(f"{path}-journal").stat().st_size > 0
        before = folder_state(tmp_path)
        reader.change_token()
        assert reader.count() == 3
        assert {s.session_id for s in reader.list_summaries(limit=None)} == {
            r["session_id"] for r in records
        }
        assert reader.get(records[0]["session_id"])["session_id"] == records[0]["session_id"]
        assert reader.read_log(records[0]["session_id"]) == "a line\n"
        assert reader.notice is not None and "private copy" in reader.notice
    assert folder_state(tmp_path) == before


WRITER = """
import sys
from sessionlens.stores import open_store
with open_store(sys.argv[1], read_only=False) as store:
    store.append_log(sys.argv[2], "more\\n")
"""


def test_a_store_read_from_a_copy_is_read_in_place_again_once_it_can_be(tmp_path: Path) -> None:
    """A copy is for a hot journal (or WAL) only while it lasts: once a writer rolled the
    journal back, reading goes back in place, instead of copying the whole store again after
    every change another process makes (a log append every second: the whole file each time)."""
    path = tmp_path / "session_store.db"
    records = make_records(3)
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(records)
    sid = records[0]["session_id"]
    with open_store(path) as reader:
        assert subprocess.run([sys.executable, "-c", MID_TRANSACTION_KILLER, str(path)]).returncode
        assert reader.count() == 3 and reader.notice is not None
        subprocess.run([sys.executable, "-c", WRITER, str(path), sid], check=True)
        assert not Path(f"{path}-journal").exists()  # rolled back by that writer
        reader.change_token()
        assert reader.count() == 3 and reader.read_log(sid) == "more\n"
        assert reader.notice is None
        assert [p.name for p in tmp_path.iterdir()] == ["session_store.db"]
