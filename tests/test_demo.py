"""``sessionlens demo``: a real project, real git history, real recorded runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.demo import MARKER, DemoError, build_demo
from sessionlens.record import params_of
from sessionlens.stores import open_store
from sessiontools import cli, git


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return build_demo(tmp_path_factory.mktemp("demo") / "project")


def test_demo_records_at_least_twelve_real_sessions(demo) -> None:
    assert not demo.reused
    assert demo.sessions >= 12
    with open_store(demo.store) as store:
        summaries = store.list_summaries(limit=None)
        records = [store.get(s.session_id) for s in summaries]
        logs = {s.session_id: store.read_log(s.session_id) for s in summaries}
    assert len(summaries) == demo.sessions
    statuses = {s.status for s in summaries}
    assert {"success", "failed", "interrupted"} <= statuses
    assert {s.branch for s in summaries} >= {"main", "feature/faster-scale", None}  # None: detached
    assert any(s.dirty for s in summaries) and any(s.dirty is False for s in summaries)
    assert len({s.commit_sha for s in summaries}) >= 3
    assert len({tuple(sorted(params_of(r).items())) for r in records}) >= 5
    assert any(s.rerun_of for s in summaries)
    # every session really ran: its log holds the pipeline's own output
    for record in records:
        assert f"session {record['session_id']}" in logs[record["session_id"]]
        assert record["run"]["pid"] and record["run"]["child_pid"]
    failed = [s for s in summaries if s.status == "failed"]
    assert all("Traceback" in logs[s.session_id] for s in failed)
    assert any("[bold red]not markup[/]" in text for text in logs.values())
    # the store lives in the project and is ignored, so recording did not dirty the tree
    assert git(demo.path, "status", "--porcelain") == ""


def test_demo_is_reused_when_complete(demo) -> None:
    again = build_demo(demo.path)
    assert again.reused
    assert again.sessions == demo.sessions
    assert again.store == demo.store


def test_demo_refuses_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("not a demo")
    with pytest.raises(DemoError, match="not empty and is not a sessionlens demo"):
        build_demo(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "not a demo"
    assert not (tmp_path / MARKER).exists()


def test_demo_command_line(demo) -> None:
    proc = cli("demo", "--dir", str(demo.path), "--no-open")
    assert proc.returncode == 0, proc.stderr
    assert f"reusing demo project {demo.path}" in proc.stderr
    listed = cli("list", "--json", cwd=demo.path)
    assert listed.returncode == 0 and listed.stdout.count('"session_id"') == demo.sessions
