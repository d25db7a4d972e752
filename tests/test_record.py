"""``sessionlens.record``: session ids, the status a record shows, and the derived values every view
needs, from records shaped as Kedro 0.17-0.19, kedro-viz and sessionlens write them (and worse)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from sessionlens.record import (
    STALE_AFTER_S,
    STATUSES,
    SessionSummary,
    command_line,
    derive_status,
    format_duration,
    hostname,
    is_running,
    is_stale,
    new_session_id,
    next_session_id,
    param_text,
    params_line,
    params_of,
    running_run,
    session_id_time,
    to_jsonable,
)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- session ids --------------------------------------------------------------------------------
def test_session_ids_are_kedros_utc_milliseconds() -> None:
    moment = datetime(2026, 11, 24, 15, 47, 0, 123_999, tzinfo=timezone(timedelta(hours=1)))
    assert new_session_id(moment) == "2026-11-24T14.47.00.123Z"  # UTC, cut not rounded
    assert session_id_time("2026-11-24T14.47.00.123Z") == datetime(
        2026, 11, 24, 14, 47, 0, 123_000, tzinfo=timezone.utc
    )
    assert session_id_time("legacy-run") is None and session_id_time("") is None
    now = new_session_id()
    assert abs(session_id_time(now) - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_the_next_id_is_the_next_millisecond() -> None:
    assert next_session_id("2026-11-24T14.47.00.123Z") == "2026-11-24T14.47.00.124Z"
    assert next_session_id("2026-12-31T23.59.59.999Z") == "2027-01-01T00.00.00.000Z"
    assert next_session_id("legacy-run") is None
    ids = ["2026-11-24T14.47.00.998Z"]
    for _ in range(3):
        ids.append(next_session_id(ids[-1]))
    assert ids == sorted(ids) and len(set(ids)) == 4  # sortable as text


# -- status -------------------------------------------------------------------------------------
def test_recorded_statuses_are_shown_as_recorded() -> None:
    for status in ("success", "failed", "interrupted", "completed"):
        assert derive_status({"run": {"status": status}}) == status


def test_records_without_sessionlens_run_data() -> None:
    assert derive_status({"session_id": "kedro"}) == "completed"
    assert derive_status({"exception": {"type": "KeyError"}}) == "failed"
    assert derive_status({"run": {"status": "lost"}}) == "completed"  # only ever derived
    assert derive_status({"run": {"status": "unreadable"}, "exception": {}}) == "completed"
    assert derive_status({"run": {"status": "exploded"}, "exception": {"x": 1}}) == "failed"
    assert derive_status({"run": ["running"]}) == "completed"


def test_a_running_record_whose_process_is_gone_is_interrupted() -> None:
    here = hostname()
    alive = {"run": {"status": "running", "pid": os.getpid(), "hostname": here}}
    dead = {"run": {"status": "running", "pid": dead_pid(), "hostname": here}}
    elsewhere = {"run": {"status": "running", "pid": dead_pid(), "hostname": f"not-{here}"}}
    assert derive_status(alive) == "running" and is_running(alive)
    assert derive_status(dead) == "interrupted"
    assert derive_status(dead, check_pid=False) == "running"
    assert derive_status(elsewhere) == "running"  # another host's pid says nothing here
    assert derive_status({"run": {"status": "running", "pid": "12"}}) == "running"


def test_a_running_record_whose_heartbeat_went_stale_is_lost() -> None:
    now = time.time()
    other = {"run": {"status": "running", "pid": 1, "hostname": f"not-{hostname()}"}}
    assert derive_status(other, heartbeat=now - 5, now=now) == "running"
    assert derive_status(other, heartbeat=now - STALE_AFTER_S - 1, now=now) == "lost"
    assert derive_status(other) == "running"  # no heartbeat: the pid rule alone
    dead = {"run": {"status": "running", "pid": dead_pid(), "hostname": hostname()}}
    assert derive_status(dead, heartbeat=0.0, now=now) == "interrupted"  # a dead pid wins
    done = {"run": {"status": "success"}}
    assert derive_status(done, heartbeat=0.0, now=now) == "success"
    assert is_stale(now - STALE_AFTER_S - 0.1, now) and not is_stale(now - 1, now)
    assert not is_stale(time.time())


def test_a_new_run_starts_running_here() -> None:
    run = running_run(["kedro", "run"])
    assert run["status"] == "running" and run["pid"] == os.getpid()
    assert run["hostname"] == hostname() and run["command"] == ["kedro", "run"]
    assert run["finished_at"] is None and run["exit_code"] is None
    assert run["started_at"].endswith("Z") and running_run(None, pid=7)["pid"] == 7
    assert is_running({"run": run}) and not is_running({"run": "running"})


# -- command and parameters ---------------------------------------------------------------------
def test_the_command_as_typed() -> None:
    argv = ["python", "train model.py", "--msg", "it's"]
    assert command_line({"run": {"command": argv}}) == shlex.join(argv)
    assert shlex.split(command_line({"run": {"command": argv}})) == argv
    assert command_line({"run": {"command": ("kedro", "run")}}) == "kedro run"
    kedro = {"cli": {"command_path": "kedro run --params scale:3"}}
    assert command_line(kedro) == "kedro run --params scale:3"
    assert command_line({"run": {"command": None}, **kedro}) == "kedro run --params scale:3"
    assert command_line({"cli": {"command_path": ""}}) is None
    assert command_line({}) is None


def test_params_from_kedro_cli_then_runtime_then_extra() -> None:
    cli = {"cli": {"params": {"params": {"scale": 3}}}}
    assert params_of(cli) == {"scale": 3}
    assert params_of({**cli, "runtime_params": {"lr": 0.1}}) == {"scale": 3}
    empty_cli = {"cli": {"params": {"params": {}}}}
    assert params_of({**empty_cli, "runtime_params": {"lr": 0.1}}) == {"lr": 0.1}
    assert params_of({"extra_params": {"seed": 42}}) == {"seed": 42}  # Kedro 0.17
    assert params_of({"runtime_params": {}, "extra_params": {"seed": 1}}) == {"seed": 1}
    assert params_of({"cli": {"params": None}, "runtime_params": None}) == {}
    assert params_of({}) == {}
    params = params_of(cli)
    params["scale"] = 4
    assert cli["cli"]["params"]["params"] == {"scale": 3}  # a copy


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ('Zoë "b" c', 'Zoë "b" c'),
        ("", ""),
        (3, "3"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (0.1, "0.1"),
        (1e20, "1e+20"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        ([1, "x"], '[1, "x"]'),
        ({"z": 1, "a": {}}, '{"a": {}, "z": 1}'),
        (PurePosixPath("/a/b"), '"/a/b"'),
    ],
)
def test_param_text_is_the_json_a_value_is(value: object, text: str) -> None:
    assert param_text(value) == text


def test_params_line() -> None:
    assert params_line({"scale": 3, "Upper": "", "name": "a b", "flag": False}) == (
        "Upper= flag=false name=a b scale=3"
    )
    assert params_line({1: "x", "a": 2}) == "1=x a=2"  # keys sorted as text
    assert params_line({}) is None


# -- summaries ----------------------------------------------------------------------------------
def test_summary_of_a_sessionlens_run_with_kedro_viz_details() -> None:
    record = {
        "session_id": "2026-11-24T14.47.00.000Z",
        "package_name": "spaceflights",
        "username": "ana",
        "git": {"commit_sha": "54c4f0d", "branch": "main", "dirty": 0},
        "run": {
            "status": "success",
            "started_at": "2026-11-24T14:47:00.000Z",
            "finished_at": "2026-11-24T14:47:12.500Z",
            "duration_s": "12.5",
            "exit_code": 0,
            "hostname": "ws-1",
            "rerun_of": "2026-11-20T09.00.00.000Z",
            "command": ["kedro", "run"],
        },
        "cli": {"params": {"params": {"scale": 3}}},
    }
    details = {"title": "Baseline", "bookmark": 1, "notes": "kept"}
    assert SessionSummary.from_record(record, details) == SessionSummary(
        session_id="2026-11-24T14.47.00.000Z",
        status="success",
        started_at="2026-11-24T14:47:00.000Z",
        finished_at="2026-11-24T14:47:12.500Z",
        duration_s=12.5,
        exit_code=0,
        branch="main",
        commit_sha="54c4f0d",
        dirty=False,
        command="kedro run",
        username="ana",
        package_name="spaceflights",
        hostname="ws-1",
        rerun_of="2026-11-20T09.00.00.000Z",
        title="Baseline",
        bookmark=True,
        notes="kept",
        params="scale=3",
    )


def test_summary_of_a_kedro_record_takes_its_start_from_the_id() -> None:
    summary = SessionSummary.from_record(
        {"session_id": "2026-11-24T14.47.00.123Z", "git": {"commit_sha": 1234567}}
    )
    assert summary.status == "completed" and summary.started_at == "2026-11-24T14:47:00.123Z"
    assert summary.commit_sha == "1234567" and summary.dirty is None and summary.branch is None
    assert SessionSummary.from_record({"session_id": "legacy"}).started_at is None
    assert SessionSummary.from_record({}).session_id == ""


def test_values_of_the_wrong_type_are_left_out_not_raised() -> None:
    summary = SessionSummary.from_record(
        {
            "session_id": "odd",
            "git": ["main"],
            "run": {"status": "success", "duration_s": "fast", "exit_code": "0"},
        }
    )
    assert summary.duration_s is None and summary.exit_code is None and summary.branch is None
    assert SessionSummary.from_record({"run": {"duration_s": 10**400}}).duration_s is None
    assert SessionSummary.from_record({"run": {"duration_s": [1]}}).duration_s is None


def test_the_row_of_an_unreadable_record() -> None:
    row = SessionSummary.unreadable(
        "2026-11-24T14.47.00.000Z",
        "cannot read\n  the pickle: \udcff bad",
        {"title": "kept apart", "bookmark": True},
    )
    assert row.status == "unreadable" and row.status in STATUSES
    assert row.problem == "cannot read the pickle: ? bad"  # one line, printable
    assert row.started_at == "2026-11-24T14:47:00.000Z"
    assert row.title == "kept apart" and row.bookmark and row.command is None
    assert SessionSummary.unreadable("legacy", "  ").problem == "?"
    assert SessionSummary.unreadable("legacy", "x").started_at is None
    assert row.to_dict()["problem"] == row.problem


# -- plain JSON ---------------------------------------------------------------------------------
def test_to_jsonable_makes_plain_json_of_what_stores_hold() -> None:
    moment = datetime(2026, 11, 24, 14, 47, tzinfo=timezone.utc)
    value = {
        "tuple": (1, (2, 3)),
        "set": {4},
        "path": Path("/a/b"),
        "windows": PureWindowsPath("C:/x/y"),
        "when": moment,
        1: None,
        "other": object,
        "nested": {"ok": [True, 1.5, "s"]},
    }
    assert to_jsonable(value) == {
        "tuple": [1, [2, 3]],
        "set": [4],
        "path": "/a/b",
        "windows": "C:\\x\\y",
        "when": "2026-11-24T14:47:00+00:00",
        "1": None,
        "other": "<class 'object'>",
        "nested": {"ok": [True, 1.5, "s"]},
    }


def test_durations_for_a_table_cell() -> None:
    assert [format_duration(s) for s in (0.123, 12.34, 245, 3725, -1.5, None)] == [
        "0.12s",
        "12.3s",
        "4m05s",
        "1h02m",
        "-1.50s",
        "",
    ]
