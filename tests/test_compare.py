"""Record flattening, field-by-field comparison, and files changed between commits (real git)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from sessionlens.compare import (
    MISSING,
    changed_files_between,
    compare,
    flatten,
    git_changed_files,
    parse_numstat_z,
)
from sessiontools import commit_all, git, make_repo

LEFT = {
    "session_id": "2026-11-25T09.44.11.880Z",
    "project_path": PurePosixPath("/tmp/p"),
    "username": "ana",
    "git": {"commit_sha": "54c4f0d", "dirty": False, "branch": "main"},
    "cli": {
        "args": [],
        "command_name": "run",
        "command_path": "kedro run --params scale:3",
        "params": {"params": {"scale": 3, "offset": 100}, "tags": (), "load_versions": {}},
    },
    "run": {"status": "success", "duration_s": 2.5, "exit_code": 0},
}
RIGHT = {
    "session_id": "2026-11-25T09.44.13.894Z",
    "project_path": "/tmp/p",
    "username": "ana",
    "git": {"commit_sha": "183c327", "dirty": True},
    "cli": {
        "args": [],
        "command_name": "run",
        "command_path": "kedro run --params scale:4,fail:true",
        "params": {"params": {"scale": 4, "fail": True}, "tags": [], "load_versions": {}},
    },
    "run": {"status": "failed", "duration_s": 4.0, "exit_code": 1},
    "exception": {"type": "ValueError", "value": "boom", "traceback": ["  File x\n"]},
    "custom_key": {"nested": 1},
}


def test_flatten_dotted_keys() -> None:
    flat = flatten(LEFT)
    assert flat["git.branch"] == "main"
    assert flat["cli.params.params.scale"] == 3
    assert flat["cli.params.tags"] == []  # tuples from pickles become lists
    assert flat["cli.params.load_versions"] == {}  # an empty dict is a value
    assert flat["cli.args"] == []
    assert flat["project_path"] == "/tmp/p"  # paths become text
    assert flat["run.duration_s"] == 2.5
    assert next(iter(flat)) == "session_id"


def test_compare_rows_align_and_flag_differences() -> None:
    comparison = compare(LEFT, RIGHT)
    rows = {row.key: row for row in comparison.rows}
    assert rows["username"].differs is False
    assert rows["project_path"].differs is False  # a path and its text are the same value
    assert rows["cli.params.tags"].differs is False
    assert rows["git.commit_sha"].differs is True
    assert rows["git.branch"].left == "main" and rows["git.branch"].right is MISSING
    assert rows["git.branch"].differs is True
    assert rows["exception.type"].left is MISSING and rows["exception.type"].right == "ValueError"
    assert rows["custom_key.nested"].right == 1  # unknown keys are kept
    assert rows["cli.params.params.offset"].right is MISSING
    differing = {row.key for row in comparison.differing}
    assert "username" not in differing and "run.status" in differing
    # sections stay together, in reading order
    keys = [row.key for row in comparison.rows]
    sections = [k.split(".")[0] for k in keys]
    assert sections.index("run") < sections.index("git") < sections.index("cli")
    assert sections[-1] == "custom_key"
    assert keys.index("git.commit_sha") < keys.index("git.branch") < keys.index("cli.args")


def test_params_diff_and_duration() -> None:
    comparison = compare(LEFT, RIGHT)
    changes = {p.name: (p.left, p.right, p.change) for p in comparison.params}
    assert changes == {
        "scale": (3, 4, "changed"),
        "offset": (100, MISSING, "removed"),
        "fail": (MISSING, True, "added"),
    }
    assert comparison.duration_delta_s == 1.5
    assert compare(RIGHT, LEFT).duration_delta_s == -1.5


def test_true_and_one_differ_but_int_and_float_do_not() -> None:
    a = {"session_id": "a", "x": 1, "y": 2}
    b = {"session_id": "b", "x": True, "y": 2.0}
    rows = {row.key: row for row in compare(a, b).rows}
    assert rows["x"].differs
    assert not rows["y"].differs


def test_compare_records_without_run_or_params() -> None:
    comparison = compare({"session_id": "a"}, {"session_id": "b", "git": {"dirty": False}})
    assert comparison.duration_delta_s is None
    assert comparison.params == []
    data = comparison.to_dict()
    git_row = next(r for r in data["rows"] if r["key"] == "git.dirty")
    assert git_row["left_missing"] is True and git_row["left"] is None
    assert git_row["right"] is False and git_row["right_missing"] is False


def test_git_changed_files_real_repo(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r", {"keep.txt": "same\n", "edit.txt": "1\n2\n3\n", "old_name.txt": "x\n" * 20}
    )
    first = git(repo, "rev-parse", "HEAD")
    (repo / "edit.txt").write_text("1\nTWO\n3\n4\n")
    (repo / "new.bin").write_bytes(b"\x00\x01\x02binary")
    git(repo, "mv", "old_name.txt", "new name.txt")
    second = commit_all(repo, "change")
    files = git_changed_files(repo, first[:7], second)
    assert files is not None
    by_path = {f.path: f for f in files}
    assert by_path["edit.txt"].insertions == 2 and by_path["edit.txt"].deletions == 1
    assert by_path["new.bin"].insertions is None  # binary
    assert by_path["new name.txt"].old_path == "old_name.txt"
    assert "keep.txt" not in by_path
    assert git_changed_files(repo, second, second) == []
    # a commit this repo does not have, or no repo at all: None, never an error
    assert git_changed_files(repo, first, "0" * 40) is None
    assert git_changed_files(repo, first, "deadbee") is None
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_changed_files(plain, first, second) is None
    assert git_changed_files(repo, None, second) is None


def test_changed_files_between_looks_in_the_sessions_projects_then_elsewhere(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    first = git(repo, "rev-parse", "HEAD")
    (repo / "a.txt").write_text("2\n")
    second = commit_all(repo, "change")
    gone = {"project_path": str(tmp_path / "moved-away")}
    plain = tmp_path / "plain"
    plain.mkdir()
    elsewhere = {"project_path": str(plain)}
    here = {"project_path": str(repo)}
    assert [f.path for f in changed_files_between(gone, here, first, second)] == ["a.txt"]
    assert [f.path for f in changed_files_between(here, gone, first, second)] == ["a.txt"]
    assert changed_files_between(gone, elsewhere, first, second) is None
    found = changed_files_between(gone, elsewhere, first, second, also=(repo,))
    assert [f.path for f in found] == ["a.txt"]
    assert changed_files_between(gone, gone, second, second) == []
    assert changed_files_between(here, here, None, second) is None


def test_parse_numstat_z_rename_and_plain() -> None:
    out = "3\t1\ta.py\x005\t0\t\x00old.py\x00new.py\x00-\t-\timg.png\x00"
    rows = parse_numstat_z(out)
    assert [(r.path, r.old_path, r.insertions, r.deletions) for r in rows] == [
        ("a.py", None, 3, 1),
        ("new.py", "old.py", 5, 0),
        ("img.png", None, None, None),
    ]


def test_duration_change_is_worded_once_for_diff_and_the_app() -> None:
    from sessionlens.compare import duration_change

    assert duration_change(12.3, 15.1) == "+2.80s, +23%"
    assert duration_change(100.0, 40.0) == "-1m00s, -60%"
    assert duration_change(0.0, 1.5) == "+1.50s"
    assert duration_change(None, 3.0) is None
