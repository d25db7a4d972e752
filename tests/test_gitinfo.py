"""``sessionlens.gitinfo``: a session's git facts from one ``git status`` call, on real repos
(``sessiontools.make_repo``) and, for what a real git cannot be made to do on cue (hang, fail),
a stand-in ``git`` script on ``PATH``. Never an error: no repo, no commit, no git give None."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from sessionlens import gitinfo
from sessionlens.gitinfo import GitInfo, GitProbe, describe, parse_porcelain_v2
from sessiontools import commit_all, git, make_repo, pid_alive


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "proj",
        {
            "pyproject.toml": '[tool.sessionlens]\npackage_name = "demo_pkg"\n',
            "src/a.py": "x = 1\n",
            "a.txt": "a\n",
        },
    )


def fake_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Put first on PATH an executable ``git`` that runs ``script`` (sh)."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    (folder / "git").write_text("#!/bin/sh\n" + script)
    (folder / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


# -- real repos ---------------------------------------------------------------------------------
def test_a_clean_repo_gives_its_commit_and_branch(repo: Path) -> None:
    full_sha = git(repo, "rev-parse", "HEAD")
    info = describe(repo)
    assert info == GitInfo(commit_sha_full=full_sha, branch="main", dirty=False)
    assert (
        info.commit_sha
        == full_sha[: gitinfo.SHORT_SHA_LENGTH]
        == git(repo, "rev-parse", "--short=7", "HEAD")
    )
    # Kedro's keys first, then kedro-viz's branch, then the full sha
    assert list(info.to_record()) == ["commit_sha", "dirty", "branch", "commit_sha_full"]
    assert describe(repo / "src") == info  # from a folder inside the work tree


def test_detached_head_has_no_branch(repo: Path) -> None:
    (repo / "a.txt").write_text("second\n")
    commit_all(repo, "second")
    first = git(repo, "rev-parse", "HEAD~1")
    git(repo, "checkout", "-q", "--detach", first)
    record = describe(repo).to_record()
    assert "branch" not in record
    assert record["commit_sha_full"] == first
    assert record["commit_sha"] == first[:7]


def test_branch_name_with_slash(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/offset-20")
    assert describe(repo).to_record()["branch"] == "feature/offset-20"


def test_branch_name_that_is_not_ascii(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/ünïcode-β")
    assert describe(repo).branch == "feature/ünïcode-β"


@pytest.mark.parametrize(
    ("change", "dirty"),
    [
        ("modify", True),
        ("stage", True),
        ("delete", True),
        ("untracked", True),  # Kedro's `git status --short` counts untracked files
        ("ignored", False),
        ("nothing", False),
    ],
)
def test_dirty_detection(repo: Path, change: str, dirty: bool) -> None:
    if change == "modify":
        (repo / "a.txt").write_text("changed\n")
    elif change == "stage":
        (repo / "new.txt").write_text("n\n")
        git(repo, "add", "new.txt")
    elif change == "delete":
        (repo / "a.txt").unlink()
    elif change == "untracked":
        (repo / "scratch.txt").write_text("s\n")
    elif change == "ignored":
        (repo / "ignored.txt").write_text("i\n")
    assert describe(repo).to_record()["dirty"] is dirty


def test_a_merge_conflict_is_dirty(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.txt").write_text("theirs\n")
    commit_all(repo, "theirs")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text("ours\n")
    commit_all(repo, "ours")
    with pytest.raises(subprocess.CalledProcessError):  # git exits 1 on a conflict
        git(repo, "merge", "-q", "other")
    assert git(repo, "status", "--porcelain") == "UU a.txt"
    info = describe(repo)
    assert info is not None and info.dirty and info.branch == "main"


def test_repo_without_commits_has_no_git_info(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    assert describe(fresh) is None


def test_no_repo_and_no_folder_give_none(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert describe(plain) is None
    assert describe(tmp_path / "missing") is None


def test_the_callers_git_environment_does_not_redirect_the_probe(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_repo(tmp_path / "other", {"b.txt": "b\n"}, branch="elsewhere")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    info = describe(repo)
    assert info is not None and info.branch == "main"
    assert info.commit_sha_full == git(repo, "--git-dir", str(repo / ".git"), "rev-parse", "HEAD")


# -- git missing, failing, stuck ----------------------------------------------------------------
def test_git_missing_from_path_gives_none(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    assert describe(repo) is None


def test_the_probe_runs_one_status_without_optional_locks(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls"
    script = (
        f'echo "$*" >> {calls}\n'
        'printf "# branch.oid %s\\n# branch.head locks-%s\\n" abcdef0123 "$GIT_OPTIONAL_LOCKS"\n'
    )
    fake_git(tmp_path, monkeypatch, script)
    probe = GitProbe(repo)
    assert probe.result() == GitInfo("abcdef0123", "locks-0", False)  # never takes index.lock
    assert probe.result() == GitInfo("abcdef0123", "locks-0", False)  # asked once, kept
    assert calls.read_text() == "status --porcelain=v2 --branch\n"


def test_a_failing_git_gives_none_whatever_it_printed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = 'printf "# branch.oid abcdef0123\\n# branch.head main\\n"\nexit 128\n'
    fake_git(tmp_path, monkeypatch, script)
    assert describe(repo) is None


def test_a_stuck_git_is_given_up_and_killed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    fake_git(tmp_path, monkeypatch, f"echo $$ > {pid_file}\nexec sleep 60\n")
    monkeypatch.setattr(gitinfo, "GIT_TIMEOUT_S", 0.5)
    started = time.monotonic()
    assert describe(repo) is None
    assert time.monotonic() - started < 10
    assert not pid_alive(int(pid_file.read_text()))


# -- the porcelain v2 parser --------------------------------------------------------------------
def test_parse_porcelain_v2_reads_the_headers_and_any_change() -> None:
    sha = "54c4f0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3"
    clean = (
        f"# branch.oid {sha}\n# branch.head main\n# branch.upstream origin/main\n"
        "# branch.ab +1 -2\n# stash 3\n! build/ignored.bin\n"
    )
    assert parse_porcelain_v2(clean) == GitInfo(sha, "main", False)
    changes = [
        "1 .M N... 100644 100644 100644 aaaa aaaa a.txt",
        "2 R. N... 100644 100644 100644 aaaa aaaa R100 new.txt\told.txt",
        "u UU N... 100644 100644 100644 100644 aaaa bbbb cccc a.txt",
        "? scratch.txt",
    ]
    for change in changes:
        assert parse_porcelain_v2(f"{clean}{change}\n") == GitInfo(sha, "main", True), change
    detached = f"# branch.oid {sha}\n# branch.head (detached)\n"
    assert parse_porcelain_v2(detached) == GitInfo(sha, None, False)
    assert parse_porcelain_v2("# branch.oid (initial)\n# branch.head main\n? new.txt\n") is None
    assert parse_porcelain_v2("") is None
