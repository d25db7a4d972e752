"""Kedro ShelveStore folders: every dbm backend a writer may have used, safe unpickling, atomic
writes that Kedro's own reader (``shelve``) reads back, and the listing cache."""

from __future__ import annotations

import dbm.dumb
import glob
import json
import os
import pickle
import shelve
import shutil
import subprocess
import sys
import time
from pathlib import Path, PosixPath
from typing import Any

import pytest

import sessionlens
from sessionlens.errors import StoreError, UnknownSessionError, UnreadableSessionError
from sessionlens.query import parse_query
from sessionlens.stores import open_store
from sessionlens.stores.shelve_dbm import BackendMissingError, which_backend
from sessionlens.stores.shelve_store import ShelveSessionStore
from storetools import make_records

SRC = str(Path(sessionlens.__file__).resolve().parents[1])  # the code under test

KEDRO_017_RECORD: dict[str, Any] = {  # kedro 0.17: no username, package_name, tuples in cli
    "session_id": "2021-03-02T10.11.12.345Z",
    "package_name": "iris017",
    "project_path": PosixPath("/home/ana/iris017"),
    "git": {"commit_sha": "abc1234", "dirty": True},
    "cli": {
        "args": (),
        "params": {"tag": ("a", "b"), "params": {"scale": 3}, "node_names": ()},
        "command_name": "run",
        "command_path": "kedro run --params scale:3",
    },
}


def write_kedro_shelve(folder: Path, record: dict[str, Any]) -> Path:
    """What Kedro's ShelveStore does on a Python whose only dbm is ``dbm.dumb``."""
    session_dir = folder / record["session_id"]
    session_dir.mkdir(parents=True)
    with shelve.Shelf(dbm.dumb.open(str(session_dir / "store"), "c"), protocol=4) as shelf:
        shelf.update(record)
    return session_dir


def test_kedro_017_record_without_username(tmp_path: Path) -> None:
    write_kedro_shelve(tmp_path / "sessions", KEDRO_017_RECORD)
    with open_store(tmp_path) as store:  # the project folder: finds sessions/
        assert store.kind == "shelve"
        record = store.get(KEDRO_017_RECORD["session_id"])
        assert "username" not in record
        assert record["project_path"] == "/home/ana/iris017"
        assert record["cli"]["params"]["tag"] == ["a", "b"]
        assert record["cli"]["args"] == []
        [summary] = store.list_summaries()
        assert summary.username is None and summary.status == "completed"
        assert summary.dirty is True and summary.package_name == "iris017"
        assert store.count(parse_query("param.scale:3")) == 1
        assert store.count(parse_query("user:ana")) == 0


# -- other dbm backends, written by a real Python that has them ---------------------------
WRITER = """
import json, pathlib, shelve, sys
module = __import__(sys.argv[1], fromlist=["open"])
record = json.loads(sys.argv[3])
record["project_path"] = pathlib.PosixPath(record["project_path"])
record["cli"]["params"]["tag"] = tuple(record["cli"]["params"]["tag"])
with shelve.Shelf(module.open(sys.argv[2], "c"), protocol=4) as shelf:
    shelf.update(record)
"""


def python_with(module: str) -> str | None:
    """An interpreter on this machine that has ``module`` (this one first)."""
    candidates = [sys.executable, "/usr/bin/python3", shutil.which("python3") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    for python in dict.fromkeys(c for c in candidates if c and os.path.exists(c)):
        probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
        if probe.returncode == 0:
            return python
    return None


@pytest.mark.parametrize(
    ("module", "files"),
    [("dbm.gnu", ["store"]), ("dbm.ndbm", None), ("dbm.sqlite3", ["store"])],
)
def test_shelve_written_by_another_dbm_backend(
    tmp_path: Path, module: str, files: list[str] | None
) -> None:
    python = python_with(module)
    if python is None:
        pytest.skip(f"no Python on this machine has {module} to write the test store")
    record = json.loads(json.dumps(KEDRO_017_RECORD, default=str))
    session_dir = tmp_path / "sessions" / record["session_id"]
    session_dir.mkdir(parents=True)
    subprocess.run(
        [python, "-c", WRITER, module, str(session_dir / "store"), json.dumps(record)],
        check=True,
    )
    if files is not None:
        assert sorted(os.listdir(session_dir)) == files
    assert which_backend(session_dir) == module
    try:
        __import__(module)
        readable = True
    except ImportError:
        readable = module == "dbm.sqlite3"  # read with plain sqlite3 on any Python
    if not readable:
        with pytest.raises(BackendMissingError) as info:
            open_store(tmp_path / "sessions")
        message = str(info.value)
        assert module in message and str(session_dir) in message and "\n" not in message
        return
    with open_store(tmp_path / "sessions") as store:
        got = store.get(record["session_id"])
        assert got["project_path"] == record["project_path"]
        assert got["cli"] == record["cli"]
        assert store.count() == 1


def test_gdbm_file_on_a_python_without_gdbm_names_file_and_backend(tmp_path: Path) -> None:
    try:
        import dbm.gnu  # noqa: F401

        pytest.skip("this Python has dbm.gnu; the missing-backend path cannot happen here")
    except ImportError:
        pass
    session_dir = tmp_path / "2026-01-01T00.00.00.000Z"
    session_dir.mkdir()
    # a GDBM header (magic 0x13579ace, little-endian) - what whichdb looks at
    (session_dir / "store").write_bytes(bytes.fromhex("ce9a5713") + bytes(508))
    with pytest.raises(BackendMissingError) as info:
        ShelveSessionStore(tmp_path, read_only=True)
    assert str(info.value) == (
        f"{session_dir / 'store'}: written with dbm.gnu, which this Python lacks "
        "(no _gdbm module); read it with a Python that has dbm.gnu"
    )


# -- safe unpickling ------------------------------------------------------------------------
class CreatesAFile:
    """Unpickling this with plain ``pickle`` would create ``target``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.target), "w"))


class RunsAShellCommand:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.target}",))


@pytest.mark.parametrize("payload", [CreatesAFile, RunsAShellCommand])
def test_a_malicious_pickle_is_refused_and_nothing_runs(tmp_path: Path, payload: type) -> None:
    target = tmp_path / "pwned"
    sessions = tmp_path / "sessions"
    good = write_kedro_shelve(sessions, {**KEDRO_017_RECORD})
    bad = write_kedro_shelve(
        sessions, {"session_id": "2021-03-02T10.11.13.000Z", "git": payload(target)}
    )
    assert pickle.loads(pickle.dumps(payload(tmp_path / "proof"))) is not None  # it really runs
    assert (tmp_path / "proof").exists()
    with open_store(sessions) as store:
        with pytest.raises(UnreadableSessionError) as info:
            store.get(bad.name)
        message = str(info.value)
        assert "refused to unpickle" in message and "store.dat (key 'git')" in message
        assert bad.name in message and str(sessions) in message and "\n" not in message
        # browsing goes on: the bad session is listed unreadable with the reason, the good one
        listed = {s.session_id: s for s in store.list_summaries()}
        assert listed[good.name].status == "completed"
        assert listed[bad.name].status == "unreadable"
        assert listed[bad.name].problem == info.value.problem
        assert "refused to unpickle" in store.problems[bad.name]
    assert not target.exists()


def test_truncated_pickle_is_a_one_line_error(tmp_path: Path) -> None:
    session_dir = write_kedro_shelve(tmp_path, KEDRO_017_RECORD)
    with dbm.dumb.open(str(session_dir / "store"), "w") as db:
        db[b"git"] = pickle.dumps({"commit_sha": "x" * 50}, protocol=4)[:20]
    with open_store(tmp_path) as store:
        with pytest.raises(StoreError) as info:
            store.get(session_dir.name)
        assert "unreadable pickle" in str(info.value) and "\n" not in str(info.value)
        # the only session is unreadable: it is listed as such, with the reason
        [row] = store.list_summaries()
        assert (row.session_id, row.status) == (session_dir.name, "unreadable")
        assert "unreadable pickle" in row.problem


# -- writing -------------------------------------------------------------------------------
def test_written_sessions_read_back_with_kedros_reader(tmp_path: Path) -> None:
    records = make_records(6)
    with open_store(f"shelve://{tmp_path / 's'}", read_only=False, create=True) as store:
        store.insert_many(records)
        records[0]["run"]["status"] = "success"
        store.update(records[0])  # replace: a finished run
    for record in records:
        # Kedro's ShelveStore.read(): shelve.open on <dir>/<id>/store with the default dbm
        with shelve.open(str(tmp_path / "s" / record["session_id"] / "store"), "r") as shelf:
            assert dict(shelf) == json.loads(json.dumps(record))
    leftovers = [p.name for p in (tmp_path / "s").iterdir() if p.name.startswith(".")]
    assert leftovers == [".sessionlens"]  # the logs folder; no temporary or set-aside copies
    assert which_backend(tmp_path / "s" / records[0]["session_id"]) in (
        "dbm.dumb",
        "dbm.gnu",
        "dbm.ndbm",
        "dbm.sqlite3",
    )


def test_crash_between_renames_is_recovered(tmp_path: Path) -> None:
    record = make_records(1)[0]
    with ShelveSessionStore(tmp_path, read_only=False) as store:
        store.insert(record)
    # a writer died after moving the old copy aside and before moving the new one in
    final = tmp_path / record["session_id"]
    aside = tmp_path / f".old-{record['session_id']}-deadbeef"
    final.rename(aside)
    with ShelveSessionStore(tmp_path, read_only=True) as reader:  # browsing: still readable
        assert reader.get(record["session_id"])["git"] == record["git"]
    old = time.time() - 3600
    os.utime(aside, (old, old))
    with ShelveSessionStore(tmp_path, read_only=False) as store:  # a writer puts it back
        assert final.is_dir() and not aside.exists()
        assert store.count() == 1


def test_a_failing_write_keeps_the_old_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = make_records(1)[0]
    with ShelveSessionStore(tmp_path, read_only=False) as store:
        store.insert(record)
        real_setitem = shelve.Shelf.__setitem__

        def disk_full(self: shelve.Shelf, key: str, value: Any) -> None:
            if key == "run":
                raise OSError(28, "No space left on device")
            real_setitem(self, key, value)

        monkeypatch.setattr(shelve.Shelf, "__setitem__", disk_full)
        with pytest.raises(StoreError) as info:
            store.update({**record, "git": {"changed": True}})
        assert "No space left" in str(info.value) and "\n" not in str(info.value)
        monkeypatch.undo()
        assert store.get(record["session_id"])["git"] == record["git"]
        assert sorted(p.name for p in tmp_path.iterdir()) == [".sessionlens", record["session_id"]]


def test_listing_sees_sessions_written_in_place_by_kedro(tmp_path: Path) -> None:
    store = ShelveSessionStore(tmp_path, read_only=True)
    assert store.count() == 0
    token = store.change_token()
    first = write_kedro_shelve(tmp_path, KEDRO_017_RECORD)
    assert store.change_token() != token
    assert [s.session_id for s in store.list_summaries()] == [first.name]
    # Kedro creates the folder first and fills the store after: list in between
    second = tmp_path / "2021-03-02T10.11.14.000Z"
    second.mkdir()
    assert store.count() == 1
    token = store.change_token()
    with shelve.Shelf(dbm.dumb.open(str(second / "store"), "c"), protocol=4) as shelf:
        shelf.update({"session_id": second.name, "username": "bob"})
    assert store.change_token() != token
    assert [s.session_id for s in store.list_summaries()] == [second.name, first.name]
    assert store.list_summaries()[0].username == "bob"
    shutil.rmtree(first)
    assert store.count() == 1


def test_not_a_folder_or_missing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    for path, problem in ((tmp_path / "file", "not a folder"), (tmp_path / "nope", "no such")):
        with pytest.raises(StoreError) as info:
            ShelveSessionStore(path, read_only=True)
        assert problem in str(info.value) and str(path) in str(info.value)


def test_session_ids_cannot_escape_the_folder(tmp_path: Path) -> None:
    with ShelveSessionStore(tmp_path, read_only=False) as store:
        for sid in ("../x", ".hidden", "a/b"):
            with pytest.raises(StoreError):
                store.insert({"session_id": sid})
            with pytest.raises(StoreError):
                store.append_log(sid, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


RESAVER = """
import sys, time
from sessionlens.stores import open_store
spec, sid, until = sys.argv[1], sys.argv[2], float(sys.argv[3])
saves = 0
with open_store(spec, read_only=False) as store:
    while time.time() < until:
        for tag in "AB":
            keys = {f"k{i}": tag * 200 for i in range(60)}
            store.update({"session_id": sid, "tag": tag, "keys": keys})
            saves += 1
print(saves)
"""


@pytest.mark.torture
def test_a_reader_sees_the_old_record_or_the_new_one_never_a_mix(tmp_path: Path) -> None:
    """One process re-saves a session as fast as it can, alternating two versions of 60 keys;
    this process reads it meanwhile (and lists the store): every read is one version, whole."""
    spec = f"shelve://{tmp_path / 's'}"
    sid = "2026-11-25T09.44.11.880Z"
    versions = {
        tag: {"session_id": sid, "tag": tag, "keys": {f"k{i}": tag * 200 for i in range(60)}}
        for tag in "AB"
    }
    with open_store(spec, read_only=False, create=True) as store:
        store.insert(versions["A"])
    until = time.time() + 4
    writer = subprocess.Popen(
        [sys.executable, "-c", RESAVER, spec, sid, str(until)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reads, problems = 0, []
    with open_store(spec) as reader:
        while time.time() < until:
            try:
                record = reader.get(sid)
                assert reader.count() == 1
            except StoreError as exc:
                problems.append(str(exc))
                continue
            reads += 1
            if record != versions.get(record.get("tag")):
                problems.append(f"a mix of versions: tag {record.get('tag')!r}")
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert int(out) > 20 and reads > 50
    assert problems == [], f"{len(problems)} bad reads of {reads + len(problems)}: {problems[:3]}"


# -- hostile and foreign session folders (torture) --------------------------------------------
def write_dbm_sqlite3(session_dir: Path, record: dict[str, Any], *, checkpoint: bool) -> None:
    """What Python 3.13's ``dbm.sqlite3`` writes: an SQLite file in WAL mode, table ``Dict``.
    Without ``checkpoint`` the writer is killed first, so the rows are only in ``store-wal``."""
    script = (
        "import os, pickle, signal, sqlite3, sys, json\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA journal_mode = wal')\n"
        "c.execute('CREATE TABLE IF NOT EXISTS Dict (key BLOB UNIQUE NOT NULL, "
        "value BLOB NOT NULL)')\n"
        "if sys.argv[3] == 'kill':\n"
        "    c.execute('PRAGMA wal_autocheckpoint=0')\n"
        "for k, v in json.loads(sys.argv[2]).items():\n"
        "    c.execute('INSERT INTO Dict VALUES (?, ?)', (k.encode(), pickle.dumps(v, 4)))\n"
        "if sys.argv[3] == 'kill':\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "c.close()\n"
    )
    session_dir.mkdir(parents=True)
    how = "close" if checkpoint else "kill"
    subprocess.run(
        [sys.executable, "-c", script, str(session_dir / "store"), json.dumps(record), how],
        check=False,
    )


@pytest.mark.parametrize("checkpoint", [True, False], ids=["closed", "writer-killed"])
def test_browsing_a_python_313_shelve_changes_no_file(tmp_path: Path, checkpoint: bool) -> None:
    """Python 3.13's default dbm writes WAL-mode SQLite files. Reading one in place, even
    ``mode=ro``, creates ``store-shm`` and ``store-wal`` in the session folder; browsing must
    change no file, and still see the rows a killed writer left only in ``store-wal``."""
    sid = "2026-11-25T09.44.01.000Z"
    session_dir = tmp_path / "sessions" / sid
    write_dbm_sqlite3(session_dir, {"session_id": sid, "username": "ana"}, checkpoint=checkpoint)
    before = {p.name: p.read_bytes() for p in session_dir.iterdir()}
    assert ("store-wal" in before) is not checkpoint
    with open_store(tmp_path / "sessions") as store:
        [row] = store.list_summaries()
        assert (row.status, row.username) == ("completed", "ana")
        assert store.get(sid)["username"] == "ana"
    assert {p.name: p.read_bytes() for p in session_dir.iterdir()} == before


def dumb_index_bomb(session_dir: Path, keys: int, size: int) -> None:
    """A ``dbm.dumb`` store whose ``.dir`` (a few KB) names ``keys`` values, each the same
    ``size`` bytes of a sparse ``.dat`` file that costs no disk."""
    session_dir.mkdir(parents=True)
    with open(session_dir / "store.dat", "wb") as fh:
        fh.truncate(size)
    with open(session_dir / "store.dir", "w", encoding="latin-1") as fh:
        fh.writelines(f"'k{i}', (0, {size})\n" for i in range(keys))


@pytest.mark.torture
def test_a_dbm_index_bomb_is_refused_before_its_values_are_read(tmp_path: Path) -> None:
    """Forty index lines of a few bytes each point at the same 16 MB: reading every value before
    adding up the sizes costs 640 MB (and 2,000 lines would take 32 GB) for a session that is
    refused anyway. The sizes the index declares are checked before anything is read."""
    sessions = tmp_path / "sessions"
    with ShelveSessionStore(sessions, read_only=False, create=True) as store:
        store.insert({"session_id": "2026-11-25T09.44.02.000Z", "username": "ana"})
    bomb = sessions / "2026-11-25T09.44.01.000Z"
    dumb_index_bomb(bomb, keys=40, size=16 << 20)
    assert (bomb / "store.dir").stat().st_size < 2000
    script = f"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
sys.path[:0] = [{SRC!r}]
from sessionlens.stores import open_store
with open_store({str(sessions)!r}) as store:
    rows = {{r.session_id: [r.status, r.problem] for r in store.list_summaries(limit=None)}}
print(json.dumps({{"peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rows": rows}}))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    rows = result["rows"]
    assert rows["2026-11-25T09.44.02.000Z"][0] == "completed"
    status, problem = rows[bomb.name]
    assert status == "unreadable" and "bytes of values" in problem
    assert result["peak_kib"] < 150 * 1024


def test_a_folder_of_unrecognised_files_says_so_not_that_writers_raced(tmp_path: Path) -> None:
    """A session folder whose files no dbm recognises is listed unreadable because of that, not
    as 'replaced by writers again and again' (nothing was being written); ``show`` of the row
    says the same, not that there is no such session."""
    session_dir = tmp_path / "2026-11-25T09.44.01.000Z"
    session_dir.mkdir()
    (session_dir / "store.dat").write_bytes(b"\x00" * 64)
    (session_dir / "store.dir").write_text("(not, a dumb index)\n")
    with open_store(tmp_path) as store:
        [row] = store.list_summaries()
        with pytest.raises(UnreadableSessionError) as info:  # as listed: not "unknown"
            store.get(session_dir.name)
    assert row.status == "unreadable"
    assert "replaced by writers" not in row.problem
    assert info.value.problem == row.problem


@pytest.mark.parametrize("name", ["store", "store.dir", "store.dat"])
def test_a_fifo_in_a_session_folder_is_listed_unreadable_not_waited_on(
    tmp_path: Path, name: str
) -> None:
    """Opening a FIFO for reading blocks until someone writes to it: a hostile folder with one
    made ``list`` (and the app's table) wait for ever. It is refused without being opened."""
    with ShelveSessionStore(tmp_path, read_only=False) as store:
        store.insert({"session_id": "2026-11-25T09.44.02.000Z", "username": "ana"})
    session_dir = tmp_path / "2026-11-25T09.44.01.000Z"
    session_dir.mkdir()
    if name != "store":  # beside a real dumb index, so the other files are as Kedro left them
        write_kedro_shelve(tmp_path / "k", {**KEDRO_017_RECORD, "session_id": session_dir.name})
        for path in (tmp_path / "k" / session_dir.name).iterdir():
            path.rename(session_dir / path.name)
        (session_dir / name).unlink()
    os.mkfifo(session_dir / name)
    proc = subprocess.run(
        [sys.executable, "-m", "sessionlens", "list", "--json", "--store", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=10,
        env={**os.environ, "PYTHONPATH": SRC},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {row["session_id"]: row for row in json.loads(proc.stdout)}
    assert rows["2026-11-25T09.44.02.000Z"]["status"] == "completed"
    assert rows[session_dir.name]["status"] == "unreadable"
    assert "not a regular file" in rows[session_dir.name]["problem"]


def test_a_fifo_as_a_session_log_is_refused_not_waited_on(tmp_path: Path) -> None:
    sid = "2026-11-25T09.44.02.000Z"
    with ShelveSessionStore(tmp_path, read_only=False) as store:
        store.insert({"session_id": sid, "username": "ana"})
    os.mkfifo(tmp_path / ".sessionlens" / "logs" / f"{sid}.jsonl")
    for command in ("log", "show"):
        proc = subprocess.run(
            [sys.executable, "-m", "sessionlens", command, sid, "--store", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=10,
            env={**os.environ, "PYTHONPATH": SRC},
            check=False,
        )
        assert proc.returncode in (0, 2), (command, proc.stderr)
        assert "internal error" not in proc.stderr and len(proc.stderr.splitlines()) <= 1


def test_an_id_with_glob_characters_never_finds_another_sessions_aside_copy(
    tmp_path: Path,
) -> None:
    """A writer that crashed between its two renames leaves ``.old-<id>-*`` (read while the
    session's folder is missing). Looking that up with the id as a glob pattern made ``get('*')``
    return that other session, and an id holding ``[`` miss its own copy."""
    records = [{"session_id": sid, "username": sid} for sid in ("2026-11-25T09.44.01.000Z", "a[1]")]
    with ShelveSessionStore(tmp_path, read_only=False) as store:
        store.insert_many(records)
    for record in records:
        sid = record["session_id"]
        (tmp_path / sid).rename(tmp_path / f".old-{sid}-deadbeef")
    with ShelveSessionStore(tmp_path, read_only=True) as reader:
        with pytest.raises(UnknownSessionError):
            reader.get("*")
        assert reader.get("a[1]")["username"] == "a[1]"


FULL_DISK_INSERT = """
import gc, resource, sys
from sessionlens.errors import StoreError
from sessionlens.stores.shelve_store import ShelveSessionStore
store = ShelveSessionStore(sys.argv[1], read_only=False, create=True)
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))  # every write past 2000 bytes fails
# values land 512 bytes apart in store.dat, the long keys in store.dir: both writes fail
record = {"session_id": "2026-11-25T09.44.01.000Z", **{f"k{i}" + "x" * 800: i for i in range(8)}}
try:
    store.insert(record)
except StoreError as exc:
    print("refused:", exc)
gc.collect()
print("done")
"""


def test_a_write_that_fills_the_disk_leaves_no_traceback_behind(tmp_path: Path) -> None:
    """The disk fills while a session is written: the save is refused in one line, and nothing
    else reaches stderr. The half-written dbm used to be left to its ``__del__``, which tried to
    commit into the temporary folder already removed: an 'Exception ignored' traceback per
    attempt (seven of them after ``sessionlens run`` on a full disk)."""
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK_INSERT, str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.stdout.startswith("refused:") and proc.stdout.endswith("done\n"), proc
    assert proc.stderr == ""
    leftovers = [p.name for p in (tmp_path / "s").iterdir() if p.name != ".sessionlens"]
    assert leftovers == []  # nor the claimed folder, nor the temporary one


def test_a_folder_made_by_another_process_at_the_same_moment_is_the_same_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers creating a new store at once: the one that finds the folder made between
    its check and its mkdir opens it (under load this once failed "cannot create (File
    exists)")."""
    from sessionlens.stores.shelve_store import ShelveSessionStore

    root = tmp_path / "sessions"
    real_exists = Path.exists

    def exists_then_made(self: Path) -> bool:  # the other process wins the race right here
        if self == root and not real_exists(self):
            root.mkdir()
            return False
        return real_exists(self)

    monkeypatch.setattr(Path, "exists", exists_then_made)
    store = ShelveSessionStore(root, create=True)
    store.close()
    assert root.is_dir()
