"""``e`` on a session recorded at an older commit: the app says which commit runs, and the
source commit runs in a temporary git worktree that is gone afterwards (a real git repo)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from sessionlens.launch import launch
from sessionlens.stores import open_store
from sessionlens.tui.screens.rerun_choice import RerunChoiceScreen
from sessionlens.worktree import SourceWorktree, WorktreeError, rerun_plan
from sessiontools import commit_all, git
from test_tui_run import SIZE, browse, make_app, make_project, notices, pane_of, run_ended
from tui_support import app_test, loaded, wait_for

VERSION = 'import sys\nprint("version {n}")\nsys.exit({code})\n'


def old_session(tmp_path: Path) -> tuple[Path, str, str]:
    """A project whose session ran ver.py at commit 1 (exit 3); HEAD has moved to commit 2."""
    root = make_project(
        tmp_path / "proj", run=["ver.py"], extra={"ver.py": VERSION.format(n=1, code=3)}
    )
    first = git(root, "rev-parse", "HEAD")
    store = open_store(str(root / ".viz" / "session_store.db"), read_only=False)
    running = launch(None, project_path=root, store=store)
    running.wait()
    session_id = running.session_id
    store.close()
    (root / "ver.py").write_text(VERSION.format(n=2, code=0))
    commit_all(root, "second")
    return root, first, session_id


def worktrees(root: Path) -> list[str]:
    out = git(root, "worktree", "list", "--porcelain")
    return [line for line in out.splitlines() if line.startswith("worktree ")]


async def rerun(tmp_path: Path, key: str) -> tuple[Path, str, str, dict, list[str]]:
    root, first, source = old_session(tmp_path)
    app = make_app(browse(root))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: app.sessions_screen.table.selected is not None)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, RerunChoiceScreen), what="choice")
        message = str(app.screen.query_one("#rerun-message").render())
        assert f"ran at commit {first[:7]}" in message
        await pilot.press(key)
        pane = await run_ended(pilot)
        lines = pane.log_view.lines()
        said = notices(app)
        assert pane_of(app).rerun_of == source
    store = browse(root)
    record = store.get(pane.session_id)
    store.close()
    return root, first, source, record, [*lines, *said]


@app_test
async def test_rerun_in_a_worktree_runs_the_old_code_and_leaves_nothing(tmp_path: Path) -> None:
    root, first, _source, record, seen = await rerun(tmp_path, "w")
    assert "version 1" in seen and "version 2" not in seen
    assert any(f"at its commit {first[:7]}" in s for s in seen)
    assert record["run"]["rerun_source"] == "worktree"
    assert record["run"]["rerun_commit"] == first
    assert record["run"]["exit_code"] == 3  # a failed run still removes its worktree
    assert record["git"]["commit_sha_full"] == first
    assert record["project_path"] == str(root)
    assert len(worktrees(root)) == 1  # only the project's own
    assert not list(Path(tempfile.gettempdir()).glob("sessionlens-rerun-*"))


@app_test
async def test_rerun_at_head_still_runs_the_current_code(tmp_path: Path) -> None:
    root, first, _source, record, seen = await rerun(tmp_path, "h")
    assert "version 2" in seen and "version 1" not in seen
    assert record["run"]["rerun_source"] == "head"
    assert "rerun_commit" not in record["run"]
    assert record["git"]["commit_sha_full"] != first
    assert len(worktrees(root)) == 1


def test_plan_for_a_session_at_head_does_not_ask(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    head = git(root, "rev-parse", "HEAD")
    plan = rerun_plan({"git": {"commit_sha": head[:7], "dirty": False}}, root)
    assert not plan.differs and plan.available
    assert rerun_plan({"git": {"commit_sha": head[:7], "dirty": True}}, root).differs
    unknown = rerun_plan({"git": {"commit_sha": "0123456", "dirty": False}}, root)
    assert unknown.differs and not unknown.available
    assert "not in this repository" in unknown.describe()
    assert not rerun_plan({}, root).differs  # no git info: nothing to compare


def test_the_worktree_goes_when_the_run_raises(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    head = git(root, "rev-parse", "HEAD")
    tree = SourceWorktree(root, head)
    with pytest.raises(KeyboardInterrupt), tree as inside:
        assert (inside / "hello.py").is_file()
        made = tree.temp
        raise KeyboardInterrupt
    assert made is not None and not made.exists()
    assert len(worktrees(root)) == 1
    with pytest.raises(WorktreeError, match="cannot check out"):
        SourceWorktree(root, "0" * 40).create()
    assert len(worktrees(root)) == 1
