"""Stores written by the real tools (kedro 0.18.14 ShelveStore, kedro-viz 10.2.0 SQLiteStore) read
field by field against ``tests/data/kedro/expected.json``, without changing a byte of them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import SHELVE_FIXTURE, SQLITE_FIXTURE
from sessionlens.query import parse_query
from sessionlens.record import params_of
from sessionlens.stores import SessionStore, detect_store, open_store
from sessionlens.stores.shelve_dbm import which_backend


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _specs(data: Path, name: str, fixture: dict[str, Any]) -> list[str]:
    """The ways a user can point at the fixture: project folder, direct path, URI."""
    direct = data / fixture["path"]
    kind = "sqlite" if name == SQLITE_FIXTURE else "shelve"
    return [str(data / name), str(direct), f"{kind}://{direct}"]


@pytest.mark.parametrize("name", [SHELVE_FIXTURE, SQLITE_FIXTURE])
def test_detection_finds_the_store_in_the_project_folder(
    kedro_data: Path, kedro_expected: dict[str, Any], name: str
) -> None:
    fixture = kedro_expected[name]
    spec = detect_store(kedro_data / name)
    assert spec.kind == ("sqlite" if name == SQLITE_FIXTURE else "shelve")
    assert Path(spec.location) == kedro_data / fixture["path"]
    assert spec.found_by == (".viz/session_store.db" if name == SQLITE_FIXTURE else "sessions/")
    assert detect_store(kedro_data / fixture["path"]).location == spec.location


@pytest.mark.parametrize("name", [SHELVE_FIXTURE, SQLITE_FIXTURE])
def test_every_session_field_by_field(
    kedro_data: Path, kedro_expected: dict[str, Any], name: str
) -> None:
    fixture = kedro_expected[name]
    before = _snapshot(kedro_data)
    for spec in _specs(kedro_data, name, fixture):
        with open_store(spec) as store:
            assert store.read_only
            _check_fixture(store, fixture)
    assert _snapshot(kedro_data) == before


def _check_fixture(store: SessionStore, fixture: dict[str, Any]) -> None:
    sessions = fixture["sessions"]
    assert store.count() == len(sessions)
    listed = store.list_summaries(limit=None)
    assert [s.session_id for s in listed] == sorted(
        (e["session_id"] for e in sessions), reverse=True
    )
    for expected in sessions:
        sid = expected["session_id"]
        record = store.get(sid)
        assert record["session_id"] == sid
        assert sorted(record) == sorted(expected["stored_keys"])
        assert ("package_name" in record) == expected["package_name_present"]
        assert record.get("package_name") == expected["package_name"]
        assert record["project_path"] == expected["project_path"]
        assert isinstance(record["project_path"], str)
        assert record.get("username") == expected["username"]
        for key in ("env", "extra_params", "runtime_params", "git", "cli"):
            assert record.get(key) == expected[key], key
        cli = record.get("cli") or {}
        assert cli.get("command_name") == expected["command_name"]
        assert cli.get("command_path") == expected["command_path"]
        if expected["cli_params_params"] is not None:
            assert cli["params"].get("params", {}) == expected["cli_params_params"]
            assert params_of(record) == expected["cli_params_params"]
        exception = record.get("exception")
        if expected["success"]:
            assert exception is None
        else:
            assert exception["type"] == expected["exception_type"]
            assert exception["value"] == expected["exception_value"]
            assert isinstance(exception["traceback"], list)
            assert len(exception["traceback"]) == expected["exception_traceback_lines"]
            assert all(isinstance(line, str) for line in exception["traceback"])

        details = expected.get("user_run_details")
        assert dict(store.user_details(sid)) == (details or {})
        summary = store.get_summary(sid)
        assert summary == next(s for s in listed if s.session_id == sid)
        assert summary.status == ("completed" if expected["success"] else "failed")
        assert summary.branch == expected["git_branch_stored"]
        assert summary.commit_sha == expected["git_sha"]
        assert summary.dirty == expected["git_dirty"]
        assert summary.command == expected["command_path"]
        assert summary.username == expected["username"]
        assert summary.package_name == expected["package_name"]
        assert summary.started_at is not None
        assert summary.started_at.replace(":", ".").replace("-", "") == sid.replace("-", "")
        assert summary.title == (details or {}).get("title")
        assert summary.bookmark == bool((details or {}).get("bookmark"))
        assert summary.notes == (details or {}).get("notes")
        assert store.read_log(sid) == ""
    # a few filters on real data
    failed = {e["session_id"] for e in sessions if not e["success"]}
    assert {s.session_id for s in store.list_summaries(parse_query("status:failed"))} == failed
    dirty = {e["session_id"] for e in sessions if e["git_dirty"]}
    assert {s.session_id for s in store.list_summaries(parse_query("dirty:yes"))} == dirty
    scale3 = {
        e["session_id"] for e in sessions if e["cli_params_params"] == {"scale": 3, "offset": 100}
    }
    assert {s.session_id for s in store.list_summaries(parse_query("param.scale:3"))} == scale3
    feature = {e["session_id"] for e in sessions if e["git_sha"] == sessions[3]["git_sha"]}
    sha = sessions[3]["git_sha"][:4]
    assert {s.session_id for s in store.list_summaries(parse_query(f"sha:{sha}"))} == feature


def test_shelve_files_and_backend(kedro_data: Path, kedro_expected: dict[str, Any]) -> None:
    fixture = kedro_expected[SHELVE_FIXTURE]
    folder = kedro_data / fixture["path"]
    for expected in fixture["sessions"]:
        session_dir = folder / expected["session_id"]
        assert sorted(os.listdir(session_dir)) == expected["files"]
        assert which_backend(session_dir) == expected["dbm_whichdb"] == fixture["dbm_backend"]


def test_sqlite_user_run_details_are_filterable(kedro_data: Path) -> None:
    with open_store(kedro_data / SQLITE_FIXTURE) as store:
        assert [s.title for s in store.list_summaries(parse_query("bookmark:yes"))] == [
            "Baseline run"
        ]
        for text in ("title:intent", "title:*failure", "title:='intentional FAILURE'"):
            assert [s.title for s in store.list_summaries(parse_query(text))] == [
                "Intentional failure"
            ], text
        assert store.list_summaries(parse_query("title:failure")) == []  # a prefix
        assert [s.notes for s in store.list_summaries(parse_query("baseline"))] == [
            "first clean run on main"
        ]
        assert store.count(parse_query("-bookmark:yes")) == 7


@pytest.mark.parametrize("name", [SHELVE_FIXTURE, SQLITE_FIXTURE])
def test_read_only_copy_like_the_shared_fixtures(
    tmp_path: Path, kedro_data: Path, kedro_expected: dict[str, Any], name: str
) -> None:
    """The shared fixtures have no write bits at all; reading them must still work."""
    project = tmp_path / name
    shutil.copytree(kedro_data / name, project)
    paths = [*sorted(project.rglob("*"), reverse=True), project]
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        before = _snapshot(project)
        with open_store(project) as store:
            _check_fixture(store, kedro_expected[name])
        assert _snapshot(project) == before
        assert sorted(p.name for p in project.rglob("*")) == sorted(p.name for p in paths[:-1])
    finally:
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)
