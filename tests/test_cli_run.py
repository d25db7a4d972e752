"""``sessionlens run`` as a real process: what reaches the terminal, and what is reported."""

from __future__ import annotations

import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessionlens.stores import open_store
from sessiontools import GIT_ENV, make_repo

PY = sys.executable

#: writes the bytes of out.bin to stdout and err.bin to stderr in uneven pieces
EMIT = """
import os, sys
out, err = open("out.bin", "rb").read(), open("err.bin", "rb").read()
i = j = 0
while i < len(out) or j < len(err):
    step = 1 + (i * 7919) % 70_000
    os.write(1, out[i : i + step]); i += step
    os.write(2, err[j : j + 999]); j += 999
"""


def test_the_terminal_copy_is_the_childs_bytes_unchanged(tmp_path: Path) -> None:
    """2 MB of random bytes (mostly invalid UTF-8) through ``sessionlens run > f``: ``f`` holds
    exactly those bytes (it held 3.6 MB of replacement characters); the log decodes them."""
    rng = random.Random(8)
    out = rng.randbytes(2_000_000)
    err = rng.randbytes(50_000) + "é ✓\n".encode()
    root = make_repo(tmp_path / "p", {"emit.py": EMIT})
    (root / "out.bin").write_bytes(out)
    (root / "err.bin").write_bytes(err)
    with open(tmp_path / "f", "wb") as f, open(tmp_path / "e", "wb") as e:
        proc = subprocess.run(
            [PY, "-m", "sessionlens", "run", "-q", "--store", "s.db", "--", PY, "emit.py"],
            cwd=root,
            env={**os.environ, **GIT_ENV},
            stdout=f,
            stderr=e,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, (tmp_path / "e").read_bytes()[-500:]
    assert (tmp_path / "f").read_bytes() == out
    assert (tmp_path / "e").read_bytes() == err
    with open_store(str(root / "s.db")) as store:
        (summary,) = store.list_summaries()
        chunks = list(store.iter_log(summary.session_id))
    assert "".join(c.text for c in chunks if c.stream == "stdout") == out.decode("utf-8", "replace")
    assert "".join(c.text for c in chunks if c.stream == "stderr") == err.decode("utf-8", "replace")


# -- a full disk ------------------------------------------------------------------------------
# Simulated for real without privileges: RLIMIT_FSIZE makes every write past the limit fail
# with EFBIG, as a full disk fails with ENOSPC (Python ignores SIGXFSZ, so the write fails
# rather than killing the process). Set from outside with prlimit(2) on the runner only, so the
# child and the test are not limited.

#: prints, then waits for ``release``, then prints ~1 MB and exits with argv[1]
LATE = """
import os, sys, time
print("started", flush=True)
with open("pid.tmp", "w") as fh:
    fh.write(str(os.getpid()))
os.rename("pid.tmp", "pid.txt")
while not os.path.exists("release"):
    time.sleep(0.01)
for i in range(20000):
    print(f"after {i} " + "y" * 40)
sys.exit(int(sys.argv[1]))
"""


def _limited(argv: list[str], limit: int) -> list[str]:
    """``argv`` exec'd with RLIMIT_FSIZE's soft limit at ``limit`` bytes from the start."""
    setup = (
        "import os, resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.RLIM_INFINITY)); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [PY, "-c", setup, *argv]


def _journal_mode(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_a_new_store_on_a_full_disk_leaves_nothing_behind(tmp_path: Path) -> None:
    """Creating the store fails: one line naming the file, exit 2, and no 0-byte ``.db``, no
    journal, no folder made for it (the next run starts clean)."""
    root = make_repo(tmp_path / "p", {"pyproject.toml": '[tool.sessionlens]\nrun = ["true"]\n'})
    before = sorted(p.name for p in root.iterdir())
    env = {**os.environ, **GIT_ENV}
    for spec in ([], ["--store", "deep/er/new.db"]):
        argv = [PY, "-m", "sessionlens", "run", *spec, "--", "true"]
        proc = subprocess.run(
            _limited(argv, 0), cwd=root, env=env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("sessionlens: "), proc.stderr
        assert ".db" in lines[0]
        assert sorted(p.name for p in root.iterdir()) == before
    # with room again, the same command creates the store and records the run
    ok = subprocess.run(
        [PY, "-m", "sessionlens", "run", "-q", "--", "true"], cwd=root, env=env, timeout=60
    )
    assert ok.returncode == 0


def _store_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ("s.db" in p.name or "sh" in p.parts)]


def _run_then_fill_the_disk(
    root: Path, spec: str, code: int, room: int, earlier: dict[str, dict]
) -> subprocess.CompletedProcess:
    """``sessionlens run -- python late.py CODE``; once its child runs and its first line is
    stored, the runner may write no file of the store more than ``room`` bytes past the
    largest one (0: nothing at all); then the child goes on to print ~1 MB and exit."""
    for name in ("pid.txt", "release"):
        (root / name).unlink(missing_ok=True)
    proc = subprocess.Popen(
        [PY, "-m", "sessionlens", "run", "--store", spec, "--", PY, "late.py", str(code)],
        cwd=root,
        env={**os.environ, **GIT_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (root / "pid.txt").exists() or not _first_line_stored(root, spec, earlier):
            assert time.monotonic() < deadline, "the child did not start"
            time.sleep(0.02)
        sizes = [p.stat().st_size for p in _store_files(root)]
        limit = max(sizes) + room if room else 0
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        (root / "release").touch()
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    if (root / "s.db").exists():
        assert _integrity(root / "s.db") == "ok"
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", stderr)


SPECS = {"sqlite": "sqlite://s.db", "shelve": "shelve://sh"}


def _first_line_stored(root: Path, spec: str, earlier: dict[str, dict]) -> bool:
    with open_store(_where(root, spec)) as store:
        fresh = [s.session_id for s in store.list_summaries() if s.session_id not in earlier]
        return bool(fresh) and store.read_log(fresh[0]) == "started\n"


def _full_disk_project(tmp_path: Path, spec: str) -> tuple[Path, dict[str, dict]]:
    """A project with two sessions recorded before the disk fills up."""
    root = make_repo(tmp_path / "p", {"late.py": LATE})
    env = {**os.environ, **GIT_ENV}
    for code in (0, 1):
        argv = [PY, "-m", "sessionlens", "run", "-q", "--store", spec, "--", "sh", "-c"]
        subprocess.run([*argv, f"echo earlier; exit {code}"], cwd=root, env=env, timeout=60)
    with open_store(_where(root, spec)) as store:
        earlier = {s.session_id: store.get(s.session_id) for s in store.list_summaries()}
    assert len(earlier) == 2
    return root, earlier


def _where(root: Path, spec: str) -> str:
    kind, path = spec.split("://")
    return f"{kind}://{root / path}"


def _the_new_session(root: Path, spec: str, earlier: dict[str, dict]) -> tuple[str, dict, str, str]:
    """Id, stored record, status shown and log of the session recorded after ``earlier``."""
    with open_store(_where(root, spec)) as store:
        listed = {s.session_id: s for s in store.list_summaries(limit=None)}
        for session_id, record in earlier.items():
            assert store.get(session_id) == record  # earlier sessions unchanged
        (new,) = set(listed) - set(earlier)
        return new, store.get(new), listed[new].status, store.read_log(new)


@pytest.mark.parametrize(
    ("kind", "code", "outcome"),
    [("sqlite", 0, "success"), ("sqlite", 3, "failed"), ("shelve", 0, "success")],
)
def test_a_final_save_that_cannot_land_still_reports_what_happened(
    tmp_path: Path, kind: str, code: int, outcome: str
) -> None:
    """Nothing can be written any more when the child ends: the CLI says in one line what
    really happened and why it is not recorded, and exits with the child's code (it exited 2
    and the run showed ``interrupted``, as if it had been stopped)."""
    root, earlier = _full_disk_project(tmp_path, SPECS[kind])
    proc = _run_then_fill_the_disk(root, SPECS[kind], code, 0, earlier)
    session_id, record, shown, log = _the_new_session(root, SPECS[kind], earlier)
    assert proc.returncode == code, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"sessionlens: session {session_id} {outcome} (exit {code}, ")
    assert "could not be recorded" in line
    assert record["run"]["status"] == "running"  # as it was when the disk filled up
    assert shown == "interrupted"  # its runner is gone, and this host knows it
    assert log == "started\n"  # what was stored before the disk filled up


@pytest.mark.parametrize("kind", ["sqlite", "shelve"])
def test_the_record_lands_when_only_the_log_cannot(tmp_path: Path, kind: str) -> None:
    """Room for a small write but not for 1 MB of log: the log is given up (a prefix stays),
    the final record lands and says so."""
    root, earlier = _full_disk_project(tmp_path, SPECS[kind])
    proc = _run_then_fill_the_disk(root, SPECS[kind], 0, 64 * 1024, earlier)
    if kind == "sqlite" and _journal_mode(root / "s.db") == "wal" and "recorded" in proc.stderr:
        pytest.xfail(
            "WAL: the failed log's frames took the room the record needed; a rollback-journal "
            "store (journal_mode=DELETE) rolls them back and the record lands"
        )
    session_id, record, shown, log = _the_new_session(root, SPECS[kind], earlier)
    assert proc.returncode == 0, proc.stderr
    assert f"session {session_id} success (exit 0" in proc.stderr
    assert "log" in proc.stderr and "incomplete" in proc.stderr
    assert shown == record["run"]["status"] == "success" and record["run"]["exit_code"] == 0
    assert record["run"]["log_error"]
    expected = "started\n" + "".join(f"after {i} " + "y" * 40 + "\n" for i in range(20000))
    assert expected.startswith(log) and len(log) < len(expected)


# -- a reader that leaves early (torture) ---------------------------------------------------------
def test_a_pipe_whose_reader_left_ends_the_run_as_it_ends_the_command(tmp_path: Path) -> None:
    """``yes | head -1`` ends at once: ``yes`` dies of SIGPIPE on its next write. Through
    ``sessionlens run -- yes | head -1`` the child's pipe stayed open for ever (the runner
    swallowed the broken pipe and kept logging: 52 MB in 10 s, never ending). Now the child's
    stdout is closed when its copy's reader is gone, so it ends the same way (exit 141, as a
    shell reports it), the session is recorded, and stderr holds no 'Exception ignored'."""
    root = make_repo(tmp_path / "p", {})
    # like ``yes``: SIGPIPE kills it (Python would raise BrokenPipeError, as in a shell too)
    endless = (
        "import signal\nsignal.signal(signal.SIGPIPE, signal.SIG_DFL)\nwhile True: print('y' * 100)"
    )
    runner = subprocess.Popen(
        [PY, "-m", "sessionlens", "run", "-q", "--store", "s.db", "--", PY, "-c", endless],
        cwd=root,
        env={**os.environ, **GIT_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert runner.stdout is not None and runner.stderr is not None
    assert runner.stdout.readline() == b"y" * 100 + b"\n"
    runner.stdout.close()  # head -1 has its line and leaves
    try:
        code = runner.wait(timeout=15)
    finally:
        runner.kill()
        err = runner.stderr.read().decode()
        runner.stderr.close()
    assert code == 141, err
    assert "Exception ignored" not in err and "Traceback" not in err, err
    with open_store(str(root / "s.db")) as store:
        (summary,) = store.list_summaries()
        record = store.get(summary.session_id)
    assert (summary.status, summary.exit_code) == ("failed", 141)
    assert record["run"]["signal"] == "SIGPIPE"
    assert (root / "s.db").stat().st_size < 5_000_000
