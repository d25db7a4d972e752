"""Re-running a session at the commit it ran: which commit will run, and a temporary
``git worktree`` of the session's source commit (removed after the run, however it ends).

A re-run at HEAD of a session recorded at another commit (or with a dirty tree) would silently
run other code; :func:`rerun_plan` says what differs, and :class:`SourceWorktree` checks the
source commit out in a temp folder so the re-run reproduces the original. Standard library
only, and plain ``git`` subprocesses: this is on the run path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from sessionlens.errors import SessionLensError
from sessionlens.gitinfo import GIT_TIMEOUT_S, GitInfo, describe

#: what the new session records in ``run.rerun_source``
HEAD = "head"
WORKTREE = "worktree"


class WorktreeError(SessionLensError):
    """The source commit could not be checked out in a temporary worktree."""


class RerunPlan(NamedTuple):
    """What a re-run at HEAD would run, against what the session ran."""

    #: the session's commit (full sha when recorded, else Kedro's short one); None: unknown
    source: str | None
    source_dirty: bool
    head: GitInfo | None
    #: the source commit is in this repo, so a worktree of it can be made
    available: bool

    @property
    def differs(self) -> bool:
        """A re-run at HEAD would not run what the session ran (as far as git can tell)."""
        if self.source is None or self.head is None:
            return False
        same = self.head.commit_sha_full.startswith(self.source)
        return not same or self.source_dirty or self.head.dirty

    def describe(self) -> str:
        """The difference in words, for the question asked before the run."""
        head = self.head
        assert head is not None and self.source is not None
        lines = [
            f"The session ran at commit {self.source[:7]}"
            + (" with uncommitted changes" if self.source_dirty else "")
            + ".",
            f"HEAD is {head.commit_sha}"
            + (f" on {head.branch}" if head.branch else "")
            + (" with uncommitted changes" if head.dirty else "")
            + ".",
        ]
        if not self.available:
            lines.append(f"Commit {self.source[:7]} is not in this repository: only HEAD can run.")
        elif self.source_dirty:
            lines.append(
                "A worktree of the source commit has its committed files only: the session's "
                "uncommitted changes were not recorded."
            )
        return "\n".join(lines)


def source_commit(record: Mapping[str, Any]) -> tuple[str | None, bool]:
    """The commit a record's run used (full sha if recorded) and whether its tree was dirty."""
    git = record.get("git")
    if not isinstance(git, Mapping):
        return None, False
    sha = git.get("commit_sha_full") or git.get("commit_sha")
    if not isinstance(sha, str) or not sha.strip():
        return None, bool(git.get("dirty"))
    return sha.strip(), bool(git.get("dirty"))


def rerun_plan(record: Mapping[str, Any], project_root: str | Path) -> RerunPlan:
    """Compare the record's commit with the project's HEAD (two quick git calls)."""
    source, dirty = source_commit(record)
    head = describe(project_root)
    available = source is not None and head is not None and commit_exists(project_root, source)
    return RerunPlan(source, dirty, head, available)


def _git(cwd: str | Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
    return subprocess.run(
        ["git", *args],
        cwd=str(cwd),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_S * 6,
        check=False,
    )


def commit_exists(repo: str | Path, sha: str) -> bool:
    """``sha`` names a commit of the repo holding ``repo``."""
    try:
        return _git(repo, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class SourceWorktree:
    """A detached ``git worktree`` of ``commit`` under a new temp folder; :meth:`remove` (or
    leaving the ``with`` block) deletes it and prunes git's record of it. Never left behind:
    removal runs on success, failure and interruption alike (the caller's ``finally``)."""

    def __init__(self, project_root: str | Path, commit: str) -> None:
        self.project_root = Path(project_root).resolve()
        self.commit = commit
        self.temp: Path | None = None
        self.path: Path | None = None
        self.commit_full: str | None = None

    def create(self) -> Path:
        """Check the commit out; the project's folder inside it (same place as in the repo)."""
        try:
            top = _git(self.project_root, "rev-parse", "--show-toplevel")
            if top.returncode != 0:
                raise WorktreeError(f"{self.project_root} is not in a git work tree")
            relative = self.project_root.relative_to(Path(top.stdout.strip()).resolve())
            self.temp = Path(tempfile.mkdtemp(prefix="sessionlens-rerun-"))
            self.path = self.temp / "source"
            made = _git(
                self.project_root, "worktree", "add", "--detach", str(self.path), self.commit
            )
            if made.returncode != 0:
                reason = (made.stderr.strip().splitlines() or ["git worktree add failed"])[-1]
                raise WorktreeError(f"cannot check out {self.commit[:7]}: {reason}")
            full = _git(self.path, "rev-parse", "HEAD")
            self.commit_full = full.stdout.strip() or self.commit
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            self.remove()
            raise WorktreeError(f"cannot check out {self.commit[:7]}: {exc}") from None
        except WorktreeError:
            self.remove()
            raise
        return self.path / relative

    def remove(self) -> None:
        """Delete the worktree and its temp folder (idempotent, never raises)."""
        if self.path is not None:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                _git(self.project_root, "worktree", "remove", "--force", str(self.path))
        if self.temp is not None:
            shutil.rmtree(self.temp, ignore_errors=True)
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                _git(self.project_root, "worktree", "prune")
        self.path = None
        self.temp = None

    def __enter__(self) -> Path:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.remove()
