"""Many writer processes into one PostgreSQL store at once, half through the Python API
(``Session``) and half as ``sessionlens --store postgresql://... run -- python -c ...``, some
of whose commands fail: every session stored, none lost, no error, each with the status its
command earned. And a ``sessionlens run`` killed with SIGKILL mid-run: its record stays
readable and shows ``interrupted`` (this host, a dead pid).

The always-on tests are small (16 writers under CPU load of 3 sessions each); the issue's
16 x 100 under CPU load runs in a long torture run (``-m torture``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessionlens.query import parse_query
from sessionlens.stores import open_store
from test_store_postgres import wait_for
from torture import cpu_load, make_project, many_writers

PY = sys.executable

#: ``n`` runs of ``sessionlens run``, one in three failing (exit 3); prints each one's exit code
CLI_WRITER = """
import subprocess, sys, time
spec, n, start, worker = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
while time.time() < start:
    time.sleep(0.0005)
for k in range(n):
    code = 3 if k % 3 == 2 else 0
    child = f"print('cli {worker} run {k}'); raise SystemExit({code})"
    done = subprocess.run([sys.executable, "-m", "sessionlens", "--store", spec, "run", "-q",
                           "--", sys.executable, "-c", child], capture_output=True, text=True)
    if done.returncode != code:
        sys.exit(f"run {k}: exit {done.returncode}, wanted {code}: {done.stderr.strip()}")
print("ok")
"""


@pytest.fixture
def store_uri(pg_database: str) -> str:
    open_store(pg_database, read_only=False).close()  # sets the tables up
    return pg_database


def mixed_writers(
    project: Path, spec: str, api: int, cli: int, per_writer: int
) -> tuple[list[int], list[str], list[str]]:
    """``api`` Session writers and ``cli`` ``sessionlens run`` writers of ``per_writer``
    sessions each, all at once; the exit codes, the API's session ids and every stderr."""
    start = time.time() + 1.0 + (api + cli) * 0.05
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLI_WRITER, spec, str(per_writer), str(start), str(w)],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(cli)
    ]
    try:
        codes, ids, errors = many_writers(project, spec, api, per_writer, start=start)
    finally:
        outputs = [p.communicate(timeout=900) for p in procs]
    codes += [p.returncode for p in procs]
    errors += [err for _, err in outputs if err.strip()]
    return codes, ids, errors


def check_store(spec: str, api: int, cli: int, per_writer: int, api_ids: list[str]) -> None:
    """Every session there, distinct, with its status; every CLI run's log."""
    failing = cli * (per_writer // 3)
    with open_store(spec) as store:
        listed = {s.session_id: s for s in store.list_summaries(limit=None)}
        assert len(listed) == store.count() == (api + cli) * per_writer
        assert set(api_ids) <= listed.keys()
        assert len(api_ids) == len(set(api_ids)) == api * per_writer
        assert store.count(parse_query("status:failed")) == failing
        assert store.count(parse_query("status:success")) == len(listed) - failing
        cli_runs = [s for s in listed.values() if s.session_id not in set(api_ids)]
        assert all((s.exit_code == 3) == (s.status == "failed") for s in cli_runs)
        logs = {store.read_log(s.session_id) for s in cli_runs}
    assert logs == {f"cli {w} run {k}\n" for w in range(cli) for k in range(per_writer)}


def test_api_and_cli_writers_at_once_store_every_session(store_uri: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    codes, ids, errors = mixed_writers(project, store_uri, api=2, cli=2, per_writer=6)
    assert codes == [0] * 4, errors
    assert errors == []
    check_store(store_uri, 2, 2, 6, ids)


@pytest.mark.torture
@pytest.mark.parametrize("per_writer", [3, pytest.param(100, marks=pytest.mark.torture(long=True))])
def test_sixteen_api_and_cli_writers_under_load(
    store_uri: str, tmp_path: Path, per_writer: int
) -> None:
    """8 API and 8 ``sessionlens run`` processes at once while a busy loop loads the CPU: all
    stored, distinct, statuses right, no error. Always 3 sessions each; the issue's target,
    100 each (1,600, about 5 minutes on 2 cores), in a long torture run (``-m torture``)."""
    project = make_project(tmp_path / "project")
    with cpu_load(1):
        codes, ids, errors = mixed_writers(project, store_uri, 8, 8, per_writer)
    assert codes == [0] * 16, errors
    assert errors == []
    check_store(store_uri, 8, 8, per_writer, ids)


TICKING = (
    "import time\nfor n in range(10**6):\n    print('tick', n, flush=True)\n    time.sleep(0.01)"
)


def test_a_sessionlens_run_killed_mid_run_shows_interrupted(store_uri: str, tmp_path: Path) -> None:
    """SIGKILL to ``sessionlens run`` (and its child) while the child prints: the record stays
    readable, its log holds what was written, and it shows ``interrupted`` (same host, pid gone)."""
    project = make_project(tmp_path / "project")
    proc = subprocess.Popen(
        [PY, "-m", "sessionlens", "--store", store_uri, "run", "--", PY, "-c", TICKING],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"tick 0")
        with open_store(store_uri) as store:
            assert wait_for(lambda: "tick 1\n" in _only_log(store), 10.0)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    with open_store(store_uri) as store:
        (summary,) = store.list_summaries(limit=None)
        assert summary.status == "interrupted"
        assert store.get(summary.session_id)["run"]["status"] == "running"
        assert store.count(parse_query("status:interrupted")) == 1
        assert store.read_log(summary.session_id).startswith("tick 0\ntick 1\n")


def _only_log(store: object) -> str:
    summaries = store.list_summaries(limit=None)  # type: ignore[attr-defined]
    return store.read_log(summaries[0].session_id) if summaries else ""  # type: ignore[attr-defined]
