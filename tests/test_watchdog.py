"""Nothing outlives its owner: SIGKILL of a runner takes its child's whole process group along.

Real runners (``sessionlens run`` and a Python-API script) run a child that starts a grandchild
and prints numbered lines; the runner is SIGKILLed mid-run. Both processes must be gone within
seconds, the store intact, earlier sessions unchanged, the killed session shown ``interrupted``
and its stored log a prefix of what the child printed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import sessionlens
from sessionlens.stores import open_store
from sessionlens.watchdog import TOKEN_VARIABLE, Watchdog
from sessiontools import GIT_ENV, make_repo, pid_alive

PY = sys.executable
#: the code under test: ``python -m sessionlens`` in a project folder must not import an installed
#: (or editable) copy from elsewhere, which may be another tree's half-edited files
SRC = str(Path(sessionlens.__file__).resolve().parents[1])

#: starts a grandchild, writes both pids, then prints numbered lines until killed
CHATTY = """
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open("pids.tmp", "w") as fh:
    fh.write(f"{os.getpid()} {grandchild.pid}")
os.rename("pids.tmp", "pids.txt")
i = 0
while True:
    print(f"line {i}", flush=True)
    i += 1
    time.sleep(0.005)
"""

#: a Python-API runner: one session running the chatty child, echo off
API_RUNNER = """
import sys
from sessionlens.session import Session
from sessionlens.stores import open_store

store = open_store(sys.argv[1], read_only=False, create=True)
with Session.create(".", store) as session:
    session.run([sys.executable, "chatty.py"], echo=False)
"""


def _child_env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, **GIT_ENV, "PYTHONPATH": path, **extra}


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def _earlier_sessions(spec: str, repo: Path) -> dict[str, dict]:
    """Two finished sessions recorded before the one that gets killed."""
    from sessionlens.session import Session

    with open_store(spec, read_only=False, create=True) as store:
        for code in (0, 3):
            with Session.create(repo, store) as session:
                session.run([PY, "-c", f"print('earlier'); raise SystemExit({code})"], echo=False)
        return {s.session_id: store.get(s.session_id) for s in store.list_summaries(limit=None)}


def _log_text(spec: str, session_id: str) -> str:
    with open_store(spec) as store:
        return store.read_log(session_id)


def _new_session(spec: str, known: dict[str, dict]) -> str | None:
    with open_store(spec) as store:
        fresh = [s.session_id for s in store.list_summaries(limit=None)]
    fresh = [session_id for session_id in fresh if session_id not in known]
    return fresh[0] if fresh else None


def _assert_prefix(log: str) -> None:
    lines = log.split("\n")
    complete, last = lines[:-1], lines[-1]
    assert complete == [f"line {i}" for i in range(len(complete))], complete[:5]
    assert f"line {len(complete)}".startswith(last)  # a line cut short at most


def test_the_runners_started_here_run_the_code_under_test(tmp_path: Path) -> None:
    """A runner started in a project folder imports the sessionlens these tests import, not an
    installed or editable copy elsewhere: a relative ``PYTHONPATH=src`` does not reach it there,
    and a copy being edited at the same moment made a runner fail with exit 70 on its own."""
    found = subprocess.run(
        [PY, "-c", "import sessionlens; print(sessionlens.__file__)"],
        cwd=tmp_path,
        env=_child_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(found).resolve() == Path(sessionlens.__file__).resolve()


@pytest.mark.parametrize(
    ("runner", "kind"),
    [("cli", "sqlite"), ("cli", "shelve"), ("api", "sqlite")],
    ids=["cli-sqlite", "cli-shelve", "api-sqlite"],
)
def test_sigkill_of_the_runner_takes_child_and_grandchild(
    tmp_path: Path, runner: str, kind: str
) -> None:
    repo = make_repo(
        tmp_path / "proj",
        {"chatty.py": textwrap.dedent(CHATTY), "api_runner.py": textwrap.dedent(API_RUNNER)},
    )
    spec = f"sqlite://{tmp_path / 's.db'}" if kind == "sqlite" else f"shelve://{tmp_path / 'sh'}"
    earlier = _earlier_sessions(spec, repo)
    if runner == "cli":
        argv = [PY, "-m", "sessionlens", "run", "--store", spec, "--", PY, "chatty.py"]
    else:
        argv = [PY, "api_runner.py", spec]
    env = _child_env()
    proc = subprocess.Popen(
        argv, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    pids = repo / "pids.txt"
    child = grandchild = 0
    try:
        _wait(pids.exists, 30, "the child to start its grandchild")
        child, grandchild = map(int, pids.read_text().split())
        session_id: list[str] = []

        def some_log_stored() -> bool:
            if not session_id:
                found = _new_session(spec, earlier)
                if found is None:
                    return False
                session_id.append(found)
            return _log_text(spec, session_id[0]).count("\n") >= 20

        _wait(some_log_stored, 30, "the first log lines to be stored")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        _wait(
            lambda: not pid_alive(child) and not pid_alive(grandchild),
            10,
            "the child and the grandchild to die with their runner",
        )
    finally:
        proc.kill()
        proc.wait()
        for pid in (child, grandchild):
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
    if kind == "sqlite":
        conn = sqlite3.connect(f"file:{tmp_path / 's.db'}?mode=ro", uri=True)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    with open_store(spec) as store:
        summaries = {s.session_id: s for s in store.list_summaries(limit=None)}
        assert set(summaries) == {*earlier, session_id[0]}
        for earlier_id, record in earlier.items():
            assert store.get(earlier_id) == record
        assert summaries[session_id[0]].status == "interrupted"
        assert store.get(session_id[0])["run"]["status"] == "running"  # as the runner left it
        _assert_prefix(store.read_log(session_id[0]))


def test_a_disarmed_watchdog_leaves_the_group_alone_and_exits() -> None:
    """A run that ended normally may leave daemons behind on purpose: ``done`` means hands off."""
    sleeper = subprocess.Popen([PY, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        watchdog = Watchdog.start()
        assert watchdog is not None
        watchdog.arm(sleeper.pid)
        watchdog.disarm()
        _wait(lambda: not pid_alive(watchdog.pid), 10, "the watchdog to exit")
        assert sleeper.poll() is None
        watchdog.reap()
    finally:
        sleeper.kill()
        sleeper.wait()


#: arms a watchdog on the process group in argv[1], says so, then waits to be killed
OWNER = """
import sys, time
from sessionlens.watchdog import Watchdog
watchdog = Watchdog.start()
watchdog.arm(int(sys.argv[1]))
print(watchdog.pid, flush=True)
time.sleep(60)
"""


def test_an_orphaned_watchdog_kills_the_group_term_then_kill() -> None:
    """The owner dies (end of file without ``done``): SIGTERM to the group, then SIGKILL for a
    group that ignores SIGTERM."""
    stubborn = subprocess.Popen(
        [
            PY,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    owner = subprocess.Popen(
        [PY, "-c", OWNER, str(stubborn.pid)], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
        assert owner.stdout is not None
        shell = int(owner.stdout.readline())
        owner.kill()
        owner.wait()
        assert stubborn.wait(timeout=20) == -signal.SIGKILL
        _wait(lambda: not pid_alive(shell), 10, "the watchdog to exit after the kill")
    finally:
        for proc in (stubborn, owner):
            proc.kill()
            proc.wait()


@pytest.mark.torture
def test_kill_9_of_runners_and_children_at_random_moments(
    tmp_path: Path, long_torture: bool
) -> None:
    """``sessionlens run`` or its child SIGKILLed at random moments, 10 times into one store (16
    in a long torture run, ``-m torture``; the first 10 kill each of them 0.1-0.3 s to 1.4 s in):
    from before the store is opened to deep into the run. Each time: no process of the run
    left, the store intact, every earlier session unchanged, the killed one shown
    ``interrupted`` (a killed runner leaves it ``running`` with a dead pid; a killed child is
    recorded so), its log a prefix of what the child printed. A round that fails shows what
    the runner wrote on stderr (a traceback, when it failed on its own before the kill)."""
    import random

    rng = random.Random(99)
    repo = make_repo(tmp_path / "proj", {"chatty.py": textwrap.dedent(CHATTY)})
    spec = f"sqlite://{tmp_path / 's.db'}"
    known = _earlier_sessions(spec, repo)
    for round_ in range(16 if long_torture else 10):
        victim, delay = rng.choice(["runner", "child"]), rng.uniform(0.0, 1.5)
        stderr = tmp_path / f"stderr-{round_}.txt"
        try:
            _kill_one_run(spec, repo, victim, delay, stderr, known)
        except (AssertionError, subprocess.TimeoutExpired) as exc:
            said = stderr.read_text(errors="replace") if stderr.exists() else ""
            raise AssertionError(
                f"round {round_}: the {victim} killed after {delay:.2f} s: {exc}\n"
                f"the runner's stderr:\n{said}"
            ) from exc


def _kill_one_run(
    spec: str, repo: Path, victim: str, delay: float, stderr: Path, known: dict[str, dict]
) -> None:
    """One round of the test above: run, kill ``victim`` after ``delay``, check the store;
    the session recorded is added to ``known``. The runner's stderr goes to ``stderr``."""
    # a runner that fails on its own must say why: its traceback, not just exit code 70
    env = _child_env(SESSIONLENS_DEBUG="1")
    argv = [PY, "-m", "sessionlens", "run", "--store", spec, "--", PY, "chatty.py"]
    (repo / "pids.txt").unlink(missing_ok=True)
    with open(stderr, "wb") as err:
        proc = subprocess.Popen(argv, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        if victim == "child":
            _wait(lambda: (repo / "pids.txt").exists(), 30, "the child to start")
        time.sleep(delay)
        if victim == "runner":
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
        else:
            os.kill(int((repo / "pids.txt").read_text().split()[0]), signal.SIGKILL)
            assert proc.wait(timeout=30) == 128 + signal.SIGKILL
        if (repo / "pids.txt").exists():
            pids = [int(p) for p in (repo / "pids.txt").read_text().split()]
            _wait(
                lambda pids=pids: not any(map(pid_alive, pids)),
                10,
                f"the run's processes ({victim})",
            )
    finally:
        proc.kill()
        proc.wait()
    with open_store(spec) as store:  # browsing first: a killed writer's journal or not
        summaries = {s.session_id: s for s in store.list_summaries(limit=None)}
        for session_id, record in known.items():
            assert store.get(session_id) == record
        fresh = set(summaries) - set(known)
        assert len(fresh) <= 1
        for session_id in fresh:  # none when the runner died before it saved anything
            assert summaries[session_id].status == "interrupted", victim
            _assert_prefix(store.read_log(session_id))
            known[session_id] = store.get(session_id)
    # a runner killed mid-write leaves a hot journal, which the next writer rolls back:
    # the file is checked as that writer sees it
    conn = sqlite3.connect(spec.removeprefix("sqlite://"))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_watchdog_whose_owner_died_before_arming_it_finds_the_child_by_its_token() -> None:
    """The runner killed between starting its child and sending the child's pid (a window the
    width of an ``exec``, wide under load: seen orphaning children): the watchdog finds the
    child by the token in its environment and ends its group, grandchildren included."""
    if not os.path.exists("/proc/self/environ"):
        pytest.skip("no /proc: the window stays open here")
    watchdog = Watchdog.start()
    assert watchdog is not None
    env = {**os.environ, TOKEN_VARIABLE: watchdog.token}
    child = subprocess.Popen(
        [PY, "-c", GRANDPARENT],
        env=env,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())
        assert pid_alive(grandchild)
        os.close(watchdog._fd)  # the owner dies without arming: its end of the pipe closes
        watchdog._fd = None
        assert child.wait(timeout=30) in (-signal.SIGTERM, -signal.SIGKILL)
        _wait(lambda: not pid_alive(grandchild), 20, "the grandchild to go")
        _wait(lambda: not pid_alive(watchdog.pid), 20, "the watchdog to exit")
    finally:
        child.kill()
        child.wait()


#: starts a grandchild in its own group's keeping (same group), prints its pid, waits
GRANDPARENT = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(grandchild.pid, flush=True)
time.sleep(60)
"""
