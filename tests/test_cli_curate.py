"""``sessionlens archive|unarchive|delete`` and ``list --all/--csv/--json --columns`` as real
processes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sessionlens.stores import open_store
from sessiontools import assert_one_line_error, cli
from storetools import make_records


def _run(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    """The CLI with stdin not a terminal (a pipe or /dev/null)."""
    env = {**os.environ, "COLUMNS": "240"}
    env.pop("SESSIONLENS_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "sessionlens", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture(params=["sqlite", "shelve"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    location = (
        str(tmp_path / "s.db") if request.param == "sqlite" else f"shelve://{tmp_path / 'sess'}"
    )
    with open_store(location, read_only=False, create=True) as store:
        store.insert_many(make_records(6))
    return location


def _ids(spec: str, *extra: str) -> list[str]:
    proc = cli("list", "--store", spec, "--json", "--limit", "0", *extra)
    assert proc.returncode == 0, proc.stderr
    return [s["session_id"] for s in json.loads(proc.stdout)]


def test_archive_unarchive_and_list_all(spec: str) -> None:
    everything = _ids(spec)
    a, b = everything[0], everything[1]
    proc = cli("archive", "--store", spec, a, b[:22])  # a unique prefix is enough
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("2 sessions archived: ")
    assert _ids(spec) == everything[2:]
    assert set(_ids(spec, "-f", "archived:yes")) == {a, b}
    assert _ids(spec, "--all") == everything
    human = cli("list", "--store", spec, "--all")
    assert a in human.stdout
    assert a not in cli("list", "--store", spec).stdout
    proc = cli("unarchive", "--store", spec, a)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1 session unarchived: ")
    assert _ids(spec, "-f", "archived:yes") == [b]
    assert_one_line_error(cli("archive", "--store", spec, a, "2031-01-01"), "2031-01-01")
    assert a in _ids(spec)  # an unknown id archives nothing
    assert_one_line_error(cli("list", "--store", spec, "-f", "archived:maybe"), "archived")


def test_delete_needs_yes_off_a_terminal(spec: str) -> None:
    everything = _ids(spec)
    assert_one_line_error(_run("delete", "--store", spec, everything[0]), "--yes")
    assert _ids(spec) == everything
    proc = _run("delete", "--store", spec, everything[0], everything[1], "--yes")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("2 sessions deleted: ")
    assert _ids(spec, "--all") == everything[2:]
    assert_one_line_error(_run("delete", "--store", spec, everything[0], "--yes"), "no session")


def test_delete_on_a_terminal_asks_naming_the_sessions(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    with open_store(db, read_only=False, create=True) as store:
        store.insert_many(make_records(3))
        first = store.list_summaries(None)[0].session_id
        store.set_user_details(first, title="keep \x1b[31mme")

    def ask(answer: str) -> subprocess.CompletedProcess[str]:
        main, side = os.openpty()
        try:
            os.write(main, answer.encode())
            return _run("delete", "--store", db, first, stdin=side)
        finally:
            os.close(main)
            os.close(side)

    proc = ask("n\n")
    assert proc.returncode == 0, proc.stderr
    assert first in proc.stderr and "keep ␛[31mme" in proc.stderr  # named, shown literally
    assert "nothing was deleted" in proc.stderr
    assert first in _ids(db)
    proc = ask("y\n")
    assert proc.returncode == 0, proc.stderr
    assert first not in _ids(db, "--all")


def test_list_csv_and_json_have_the_table_columns(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    records = make_records(6)
    with open_store(db, read_only=False, create=True) as store:
        store.insert_many(records)
        store.set_user_details(records[0]["session_id"], title='a, "quoted"\nline')
    columns = "id,status,title,params,metric.accuracy,metrics"
    proc = cli("list", "--store", db, "--csv", "--columns", columns, "--limit", "0")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    header = rows[0]
    assert header[:5] == ["id", "status", "title", "params", "metric.accuracy"]
    assert all(h.startswith("metric.") for h in header[5:]) and "metric.val.loss" in header
    assert len(rows) == 7
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    first = by_id[records[0]["session_id"]]
    assert first["title"] == 'a, "quoted"\nline'
    assert first["params"] and "=" in first["params"]
    data = json.loads(cli("list", "--store", db, "--json", "--columns", columns).stdout)
    assert list(data[0]) == ["id", "status", "title", "params", "metric.accuracy", "metrics"]
    as_json = {row["id"]: row for row in data}
    row = as_json[records[0]["session_id"]]
    assert isinstance(row["params"], dict) and isinstance(row["metrics"], dict)
    assert row["title"] == 'a, "quoted"\nline'
    for sid, values in by_id.items():
        metric = as_json[sid]["metric.accuracy"]
        assert values["metric.accuracy"] == ("" if metric is None else str(metric))
    assert_one_line_error(cli("list", "--store", db, "--csv", "--json"), "--csv")
