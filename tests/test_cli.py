"""The ``sessionlens`` CLI as a real process: run, list, show, diff, log, errors, imports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessionlens.stores.sqlite_store import SQLiteSessionStore
from sessiontools import GIT_ENV, assert_one_line_error, cli, cli_json, git, make_repo, pid_alive

PY = sys.executable
MARKUP = "[bold red]ALERT[/]"
ANSI = "\x1b[31mred\x1b[0m"

JOB = f"""
import json, os, sys
params = json.loads(os.environ.get("SESSIONLENS_PARAMS") or "{{}}")
print("job starting", params)
print("progress to stderr", file=sys.stderr)
if params.get("label"):
    print("label:", params["label"])
    print({MARKUP!r}, {ANSI!r})
if params.get("fail"):
    raise SystemExit("job failed on purpose")
print("job done")
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with four sessions recorded by ``sessionlens run`` (oldest first)."""
    root = make_repo(
        tmp_path_factory.mktemp("cli") / "proj",
        {
            "pyproject.toml": "[tool.sessionlens]\n"
            'package_name = "clidemo"\n'
            f"run = {json.dumps([PY, 'job.py'])}\n"
            'store = "runs.db"\n',
            "job.py": JOB,
        },
    )
    runs = [
        (cli("run", cwd=root), 0),
        (cli("run", "--params", f"scale=3,label={MARKUP} {ANSI}", cwd=root), 0),
        (cli("run", "--params", "fail:true", cwd=root), 1),
        (cli("run", "--", "sh", "-c", f"exit 3 # {MARKUP} {ANSI}", cwd=root), 3),
    ]
    for proc, code in runs:
        assert proc.returncode == code, proc.stderr
    return root


def ids(project: Path) -> list[str]:
    """Session ids oldest first."""
    return [s["session_id"] for s in reversed(cli_json("list", cwd=project))]


def test_run_echoes_output_and_reports(project: Path) -> None:
    proc = cli("run", "--store", "extra.db", "--params", "scale=2", cwd=project)
    assert proc.returncode == 0
    assert "job starting {'scale': 2}" in proc.stdout
    assert "job done" in proc.stdout
    assert "progress to stderr" in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("sessionlens: session ") and " success (exit 0" in last
    session_id = last.split()[2]
    with SQLiteSessionStore(project / "extra.db", read_only=True) as store:
        record = store.get(session_id)
    assert record["cli"]["params"]["params"] == {"scale": 2}
    assert record["cli"]["params"]["store"] == "extra.db"
    assert record["cli"]["command_name"] == "run"
    assert record["cli"]["command_path"] == "sessionlens run --store extra.db --params scale=2"
    assert record["run"]["command"] == [PY, "job.py"]
    assert record["package_name"] == "clidemo"
    assert record["git"]["branch"] == "main"
    assert record["git"]["dirty"] is False  # *.db is ignored by .gitignore


def test_list_json(project: Path) -> None:
    sessions = cli_json("list", cwd=project)
    assert len(sessions) == 4
    assert [s["status"] for s in sessions] == ["failed", "failed", "success", "success"]
    assert [s["exit_code"] for s in sessions] == [3, 1, 0, 0]
    assert sessions == sorted(sessions, key=lambda s: s["started_at"], reverse=True)
    assert all(s["branch"] == "main" and len(s["commit_sha"]) == 7 for s in sessions)
    assert cli_json("list", "--limit", "2", cwd=project) == sessions[:2]
    failed = cli_json("list", "--filter", "status:failed", cwd=project)
    assert [s["session_id"] for s in failed] == [s["session_id"] for s in sessions[:2]]
    scaled = cli_json("list", "--filter", "param.scale:3", cwd=project)
    assert [s["session_id"] for s in scaled] == [sessions[2]["session_id"]]
    oldest_first = cli_json("list", "--sort", "started", "--asc", cwd=project)
    assert oldest_first == list(reversed(sessions))
    # the parameters as an object, as recorded (issue 13: not a line of text)
    assert [s["params"] for s in sessions] == [
        {},
        {"fail": True},
        {"label": f"{MARKUP} {ANSI}", "scale": 3},
        {},
    ]
    by_params = cli_json("list", "--sort", "params", "--asc", cwd=project)
    labelled = {"label": f"{MARKUP} {ANSI}", "scale": 3}
    assert [s["params"] for s in by_params] == [{"fail": True}, labelled, {}, {}]


def test_list_human_shows_text_literally(project: Path) -> None:
    proc = cli("list", cwd=project)
    assert proc.returncode == 0, proc.stderr
    for session_id in ids(project):
        assert session_id in proc.stdout
    assert "\x1b" not in proc.stdout
    # in the command column, as typed: markup not applied, escape codes visible
    assert f"exit 3 # {MARKUP} ␛[31mred␛[0m" in proc.stdout
    header = next(line for line in proc.stdout.splitlines() if "started" in line)
    assert header.split() == [
        "started", "id", "status", "duration", "branch", "sha", "dirty", "command", "params",
        "user",
    ]  # fmt: skip
    # the params column, literally too
    assert "fail=true" in proc.stdout
    assert f"label={MARKUP} ␛[31mred␛[0m scale=3" in proc.stdout
    assert "4 of 4 sessions" in proc.stdout


def test_show_json_by_prefix(project: Path) -> None:
    second = ids(project)[1]
    data = cli_json("show", second[:-2], cwd=project)
    record = data["record"]
    assert record["session_id"] == second
    assert record["cli"]["params"]["params"] == {"scale": 3, "label": f"{MARKUP} {ANSI}"}
    assert data["summary"]["status"] == "success"
    assert record["environment"]["python"]


def test_show_human(project: Path) -> None:
    second = ids(project)[1]
    proc = cli("show", second, cwd=project)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for heading in ("Run", "Git", "Parameters", "CLI", "Environment", "Log (last lines)"):
        assert heading in out
    assert "\x1b" not in out
    assert f"{MARKUP} ␛[31mred␛[0m" in out  # log tail and parameter, literally
    assert "scale" in out and "main" in out and "clidemo" in out


def test_diff(project: Path) -> None:
    first, second, third, _ = ids(project)
    data = cli_json("diff", first, third, cwd=project)
    keys = {row["key"] for row in data["rows"]}
    assert "run.status" in keys and "session_id" in keys
    assert all(row["differs"] for row in data["rows"])
    params = {p["name"]: p for p in data["params"]}
    assert params["fail"]["change"] == "added" and params["fail"]["right"] is True
    assert data["changed_files"] == []  # same commit
    assert isinstance(data["duration_delta_s"], float)
    every = cli_json("diff", first, third, "--all", cwd=project)
    assert len(every["rows"]) > len(data["rows"])
    assert any(row["key"] == "git.branch" and not row["differs"] for row in every["rows"])

    proc = cli("diff", first, second, cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "cli.params.params.scale" in proc.stdout
    assert "(absent)" in proc.stdout
    assert "\x1b" not in proc.stdout and MARKUP in proc.stdout


def test_diff_lists_files_changed_between_commits(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "p", {"a.txt": "1\n"})
    assert cli("run", "--store", "s.db", "-q", "--", PY, "-c", "pass", cwd=root).returncode == 0
    (root / "a.txt").write_text("1\n2\n")
    git(root, "commit", "-q", "-am", "two")
    assert cli("run", "--store", "s.db", "-q", "--", PY, "-c", "pass", cwd=root).returncode == 0
    a, b = (s["session_id"] for s in cli_json("list", "--store", "s.db", "--asc", cwd=root))
    data = cli_json("diff", "--store", "s.db", a, b, cwd=root)
    assert data["changed_files"] == [
        {"path": "a.txt", "old_path": None, "insertions": 1, "deletions": 0}
    ]
    human = cli("diff", "--store", "s.db", a, b, cwd=root).stdout
    assert "Files changed between" in human and "+1 -0" in human and "a.txt" in human


def test_log(project: Path) -> None:
    second = ids(project)[1]
    raw = cli("log", second, "--raw", cwd=project)
    assert raw.returncode == 0
    assert f"{MARKUP} {ANSI}\n" in raw.stdout
    assert "job done\n" in raw.stdout and "progress to stderr\n" in raw.stdout
    shown = cli("log", second, cwd=project).stdout
    assert "\x1b" not in shown and f"{MARKUP} ␛[31mred␛[0m" in shown
    err = cli("log", second, "--stream", "stderr", cwd=project).stdout
    assert err == "progress to stderr\n"
    chunks = cli_json("log", second, cwd=project)
    assert {c["stream"] for c in chunks} == {"stdout", "stderr"}
    assert "".join(c["text"] for c in chunks if c["stream"] == "stderr") == err


def test_log_follow_until_the_run_ends(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "f")
    code = "import time\nfor i in range(4):\n    print('tick', i, flush=True); time.sleep(0.4)\n"
    run = subprocess.Popen(
        [PY, "-m", "sessionlens", "run", "--store", "s.db", "-q", "--", PY, "-c", code],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **GIT_ENV},
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (root / "s.db").exists():
                listed = cli("list", "--store", "s.db", "--json", cwd=root)
                if listed.returncode == 0 and json.loads(listed.stdout):
                    break
            time.sleep(0.05)
        session_id = json.loads(listed.stdout)[0]["session_id"]
        followed = cli("log", "--store", "s.db", session_id, "--follow", cwd=root, timeout=30)
        assert followed.returncode == 0
        assert followed.stdout == "".join(f"tick {i}\n" for i in range(4))
    finally:
        run.wait(timeout=30)


# -- errors: one line, exit 2 -------------------------------------------------------------------
def test_unknown_and_ambiguous_ids(project: Path) -> None:
    assert_one_line_error(cli("show", "1999-01-01", cwd=project), "no session", "1999-01-01")
    assert_one_line_error(cli("log", "nope", cwd=project), "no session")
    assert_one_line_error(cli("diff", "nope", ids(project)[0], cwd=project), "no session")
    assert_one_line_error(cli("show", "20", cwd=project), "matches several sessions")


def test_missing_corrupt_and_foreign_stores(tmp_path: Path) -> None:
    assert_one_line_error(cli("list", "--store", str(tmp_path / "nope.db")), "nope.db")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + os.urandom(3000))
    assert_one_line_error(cli("list", "--store", str(corrupt)), "corrupt.db")
    foreign = tmp_path / "notes.db"
    foreign.write_text("these are my notes, not a database\n")
    assert_one_line_error(cli("list", "--store", str(foreign)), "notes.db")
    assert_one_line_error(cli("show", "x", "--store", f"sqlite:///{tmp_path}/gone.db"), "gone.db")


def test_bad_input_is_one_line(project: Path, tmp_path: Path) -> None:
    assert_one_line_error(cli("list", "--filter", "dirty:maybe", cwd=project), "dirty")
    assert_one_line_error(cli("list", "--sort", "colour", cwd=project), "colour")
    assert_one_line_error(cli("list", "--limit", "x", cwd=project), "--limit")
    assert_one_line_error(cli("run", "--params", "oops", cwd=project), "oops")
    assert_one_line_error(cli("frobnicate", cwd=project), "frobnicate")
    bare = make_repo(tmp_path / "bare")
    assert_one_line_error(cli("run", "--store", "s.db", cwd=bare), "no command to run")
    (bare / "pyproject.toml").write_text("[tool.sessionlens\n")
    assert_one_line_error(cli("run", "--store", "s.db", cwd=bare), "pyproject.toml")


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("stauts:failed", ["unknown filter field 'stauts'", "did you mean status?"]),
        ("status:bogus", ["status:bogus", "statuses: running"]),
        ("exit:abc", ["exit:abc", "whole number"]),
        ("since:2026-13-45", ["since:2026-13-45", "not a date"]),
        ('"unterminated', ['unbalanced "']),
        ("param.scale:", ["param.scale: needs a value"]),
        ("dirty:maybe", ["dirty", "yes or no"]),
        ("branch>3", ["compares numbers"]),
    ],
)
def test_a_filter_that_cannot_be_read_is_exit_2_and_one_line(
    project: Path, text: str, needles: list[str]
) -> None:
    assert_one_line_error(cli("list", "--filter", text, cwd=project), *needles)


def test_filters_that_used_to_find_nothing(project: Path) -> None:
    everything = cli_json("list", cwd=project)
    assert cli_json("list", "--filter", "since:yesterday", cwd=project) == everything
    assert cli_json("list", "--filter", "branch:MA", cwd=project) == everything  # a prefix
    assert cli_json("list", "--filter", "until:yesterday", cwd=project) == []
    failed = cli_json("list", "--filter", "exit!=0 command:*job*", cwd=project)
    assert [s["exit_code"] for s in failed] == [1]


def test_the_count_line_says_how_many_of_the_store_match(project: Path) -> None:
    proc = cli("list", "--filter", "exit>0", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "2 of 4 sessions in " in proc.stdout and "matching exit>0" in proc.stdout
    limited = cli("list", "--limit", "1", cwd=project)
    assert "4 of 4 sessions in " in limited.stdout
    assert "(the first 1 shown; --limit 0 shows all)" in limited.stdout


def test_list_help_lists_the_filter_language(project: Path) -> None:
    from sessionlens.query import FIELDS, SORT_KEYS

    proc = cli("list", "--help", cwd=project)
    assert proc.returncode == 0, proc.stderr
    for word in (*FIELDS, "param.NAME", ":=", "> >= < <=", "since:7d", *SORT_KEYS):
        assert word in proc.stdout, word


def test_command_that_cannot_start(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "p")
    proc = cli("run", "--store", "s.db", "--", "no-such-command-xyz", cwd=root)
    assert proc.returncode == 127
    assert "cannot run" in proc.stderr and "Traceback" not in proc.stderr
    (session,) = cli_json("list", "--store", "s.db", cwd=root)
    assert session["status"] == "failed" and session["exit_code"] == 127


def test_kedro_project_runs_kedro_run_with_params(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kedro"
    fake.write_text('#!/bin/sh\necho "fake kedro: $*"\n')
    fake.chmod(0o755)
    root = make_repo(tmp_path / "k", {"pyproject.toml": '[tool.kedro]\npackage_name = "kp"\n'})
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = cli("run", "--store", "s.db", "--params", "scale:3,fail:false", cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "fake kedro: run --params scale=3,fail=false" in proc.stdout
    data = cli_json("show", "2", "--store", "s.db", cwd=root)
    assert data["record"]["run"]["command"] == ["kedro", "run", "--params", "scale=3,fail=false"]
    assert data["record"]["cli"]["params"]["params"] == {"scale": 3, "fail": False}
    assert data["record"]["package_name"] == "kp"


def test_ctrl_c_interrupts_the_child(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "p")
    code = (
        "import subprocess, sys, time\n"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('pids', c.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [PY, "-m", "sessionlens", "run", "--store", "s.db", "--", PY, "-c", code],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **GIT_ENV},
    )
    line = proc.stdout.readline()
    assert line.startswith("pids"), line
    grandchild = int(line.split()[1])
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    # the child's own KeyboardInterrupt traceback is echoed; sessionlens ends with its report
    last = err.strip().splitlines()[-1]
    assert last.startswith("sessionlens: session ") and " interrupted " in last
    (session,) = cli_json("list", "--store", "s.db", cwd=root)
    assert session["status"] == "interrupted"
    deadline = time.monotonic() + 5
    while pid_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(grandchild)


# -- imports -------------------------------------------------------------------------------------
HEAVY = ("rich", "textual", "git")

IMPORT_CHECK = """
import sys
from sessionlens.cli.main import main
code = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(%r))
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
raise SystemExit(code)
"""


def _heavy_imports(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(
        [PY, "-c", IMPORT_CHECK % (HEAVY,), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.strip().splitlines()[-1]


def test_json_and_run_paths_import_no_rich_textual_or_gitpython(project: Path) -> None:
    assert _heavy_imports(["list", "--json"], project) == "HEAVY="
    assert _heavy_imports(["show", ids(project)[0], "--json"], project) == "HEAVY="
    assert _heavy_imports(["run", "-q", "--", PY, "-c", "pass"], project) == "HEAVY="
    assert _heavy_imports(["list"], project) == "HEAVY=rich"


def test_default_store_is_created_and_ignored_by_git(tmp_path: Path) -> None:
    """No store configured: the first run creates .sessionlens/ (ignored), later runs are clean."""
    root = make_repo(tmp_path / "plain", {"a.txt": "a\n"})
    (root / ".gitignore").unlink()
    git(root, "commit", "-q", "-am", "no ignore file")
    for _ in range(2):
        assert cli("run", "-q", "--", PY, "-c", "pass", cwd=root).returncode == 0
    assert (root / ".sessionlens" / "session_store.db").is_file()
    sessions = cli_json("list", cwd=root)
    assert [s["dirty"] for s in sessions] == [False, False]
    assert git(root, "status", "--porcelain") == ""
    # from a subfolder the project's store is found too
    (root / "sub").mkdir()
    assert len(cli_json("list", cwd=root / "sub")) == 2


# -- real Kedro / kedro-viz stores ----------------------------------------------------------------
KEDRO_DATA = Path(__file__).parent / "data" / "kedro"
EXPECTED = json.loads((KEDRO_DATA / "expected.json").read_text())["fixtures"]


@pytest.mark.parametrize("fixture", EXPECTED, ids=[f["name"] for f in EXPECTED])
def test_cli_reads_real_kedro_stores_from_the_project_folder(fixture: dict) -> None:
    folder = KEDRO_DATA / fixture["name"]
    expected = {s["session_id"]: s for s in fixture["sessions"]}
    listed = cli_json("list", cwd=folder)  # found from the folder, as in a Kedro project
    assert {s["session_id"] for s in listed} == set(expected)
    for summary in listed:
        want = expected[summary["session_id"]]
        assert summary["status"] == ("completed" if want["success"] else "failed")
        assert summary["commit_sha"] == want["git_sha"]
        assert summary["dirty"] == want["git_dirty"]
        assert summary["branch"] == want["git_branch_stored"]
        assert summary["command"] == want["command_path"]

    failed = next(s for s in fixture["sessions"] if s["exception_type"] == "ValueError")
    shown = cli("show", failed["session_id"], cwd=folder)
    assert shown.returncode == 0, shown.stderr
    assert f"ValueError: {failed['exception_value']}" in shown.stdout
    assert "Traceback" not in shown.stderr

    first, second = fixture["sessions"][0], fixture["sessions"][1]
    diff = cli_json("diff", first["session_id"], second["session_id"], cwd=folder)
    changes = {p["name"]: p["change"] for p in diff["params"]}
    assert changes == {name: "added" for name in second["cli_params_params"]}
    assert diff["changed_files"] == []  # same commit

    for session in fixture["sessions"]:
        details = session.get("user_run_details")
        if details:
            data = cli_json("show", session["session_id"], cwd=folder)
            assert data["summary"]["title"] == details["title"]
            assert data["summary"]["bookmark"] == details["bookmark"]
            human = cli("show", session["session_id"], cwd=folder).stdout
            assert details["notes"] in human


def test_a_run_whose_heartbeat_went_stale_is_lost(tmp_path: Path) -> None:
    """A ``running`` record of another host, its heartbeat an hour old: ``list`` and ``show``
    say ``lost``, ``status:lost`` finds it, and ``log --follow`` ends instead of waiting for
    ever on it."""
    from sessionlens.record import STALE_AFTER_S
    from storetools import leave_heartbeat

    session_id = "2026-12-01T10.00.00.000Z"
    run = {"status": "running", "pid": 4242, "hostname": "elsewhere", "command": ["train"]}
    with SQLiteSessionStore(tmp_path / "s.db", create=True) as store:
        store.insert({"session_id": session_id, "run": run})
        store.append_log(session_id, "epoch 1\n")
        leave_heartbeat(store, session_id, time.time() - 60 * STALE_AFTER_S)
    listed = cli_json("list", "--store", "s.db", "--filter", "status:lost", cwd=tmp_path)
    assert [(s["session_id"], s["status"]) for s in listed] == [(session_id, "lost")]
    shown = cli("show", "--store", "s.db", session_id, cwd=tmp_path)
    assert shown.returncode == 0 and "lost" in shown.stdout
    followed = cli("log", "--store", "s.db", session_id, "--follow", cwd=tmp_path, timeout=20)
    assert followed.returncode == 0 and followed.stdout == "epoch 1\n"


# -- hostile stores: one bad record never hides the rest (issue 8, items 4 and 6) ----------------
def assert_clean(proc: subprocess.CompletedProcess[str]) -> None:
    """Exit 0, nothing on stderr."""
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr


@pytest.mark.torture
def test_a_hostile_store_lists_shows_and_diffs(hostile_store: tuple[str, list[str], dict]) -> None:
    spec, good, bad = hostile_store
    listed = cli_json("list", "--store", spec, "--limit", "0")
    by_id = {row["session_id"]: row for row in listed}
    assert set(by_id) == set(good) | set(bad.values())
    for label, session_id in bad.items():
        row = by_id[session_id]
        assert row["status"] == "unreadable", label
        assert row["problem"] and "\n" not in row["problem"], label
    assert all(by_id[s]["status"] == "completed" and by_id[s]["problem"] is None for s in good)
    assert [r["session_id"] for r in listed][-len(good) :] == list(reversed(good))
    unreadable = cli_json("list", "--store", spec, "--filter", "status:unreadable")
    assert {r["session_id"] for r in unreadable} == set(bad.values())
    readable = cli_json("list", "--store", spec, "--filter", "-status:unreadable branch:main")
    assert [r["session_id"] for r in readable] == list(reversed(good))

    proc = cli("list", "--store", spec)
    assert_clean(proc)
    lines = {sid: line for line in proc.stdout.splitlines() for sid in by_id if sid in line}
    assert set(lines) == set(by_id)
    assert all(" unreadable " in lines[sid] for sid in bad.values())
    assert not any("unreadable" in lines[sid] for sid in good)

    proc = cli("show", "--store", spec, good[0])
    assert_clean(proc)
    assert "kedro run --params n=0" in proc.stdout
    shown = cli_json("show", "--store", spec, good[1])
    assert shown["summary"]["status"] == "completed" and shown["record"]["username"] == "viz"

    for label, session_id in bad.items():
        shown = cli_json("show", "--store", spec, session_id)
        assert shown["record"] is None, label
        assert shown["summary"]["status"] == "unreadable", label
        assert shown["summary"]["problem"] == by_id[session_id]["problem"], label
    proc = cli("show", "--store", spec, bad["not-json" if "not-json" in bad else "bomb"])
    assert_clean(proc)
    assert "unreadable" in proc.stdout and "Unreadable record" in proc.stdout

    proc = cli("diff", "--store", spec, good[0], good[1])
    assert_clean(proc)
    assert "n: 0 -> 1" in proc.stdout
    for session_id in list(bad.values())[:3]:
        proc = cli("diff", "--store", spec, good[0], session_id)
        assert_one_line_error(proc, session_id, "is unreadable")
    proc = cli("log", "--store", spec, next(iter(bad.values())))
    assert_clean(proc)


def test_a_garbled_log_line_does_not_hide_the_record_it_belongs_to(tmp_path: Path) -> None:
    """A session whose log file has a line that is not a log chunk (edited by hand, another
    tool): ``show`` still shows the record and says the log cannot be read (it showed
    nothing, exit 2); ``log`` prints what it can and names the problem in one line."""
    from sessionlens.stores.shelve_store import ShelveSessionStore

    sid = "2026-11-25T09.44.02.000Z"
    with ShelveSessionStore(tmp_path / "s", create=True) as store:
        store.insert({"session_id": sid, "username": "ana"})
        store.append_log(sid, "ok\n")
    with open(tmp_path / "s" / ".sessionlens" / "logs" / f"{sid}.jsonl", "ab") as fh:
        fh.write(b"{not json\n")
    proc = cli("show", "--store", str(tmp_path / "s"), sid)
    assert proc.returncode == 0, proc.stderr
    assert "ana" in proc.stdout and "line 2 is not a log chunk" in proc.stdout
    proc = cli("log", "--store", str(tmp_path / "s"), sid)
    assert proc.stdout == "ok\n"
    assert_one_line_error(proc, "line 2 is not a log chunk")


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_terminal_that_is_not_utf8_gets_replacements_not_an_internal_error(
    tmp_path: Path, encoding: str
) -> None:
    """A stdout whose encoding cannot show a character (``PYTHONIOENCODING=ascii``, a Latin-1
    locale) made ``list`` and ``show`` exit 70: the table's ellipsis, the control pictures
    (``␛``) and a user's name alike. Such characters are replaced; exit 0."""
    sid = "2026-11-25T09.44.02.000Z"
    record = {
        "session_id": sid,
        "username": "Zoë ✓ \x1b]0;PWN\x07",
        "cli": {"command_path": "kedro run " + "--params x=1 " * 30},
    }
    with SQLiteSessionStore(tmp_path / "s.db", create=True) as store:
        store.insert(record)
    env = {**os.environ, **GIT_ENV, "PYTHONIOENCODING": encoding, "COLUMNS": "120"}
    for args in (["list"], ["show", sid], ["diff", sid, sid]):
        proc = subprocess.run(
            [sys.executable, "-m", "sessionlens", "--store", str(tmp_path / "s.db"), *args],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stderr == b""
        assert b"\x1b" not in proc.stdout
        assert args[0] == "diff" or b"?" in proc.stdout  # what could not be shown
