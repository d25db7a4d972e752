"""Git facts for a session record, from ONE ``git status --porcelain=v2 --branch`` call.

This is on the ``sessionlens run`` path, so it spends one subprocess (14-18 ms on a 10k-file
repo) and imports nothing heavy: GitPython costs about 90 ms to import and its ``is_dirty`` up to
39 ms (DESIGN.md section 6). The compare screen, which needs history, uses GitPython lazily in
:mod:`sessionlens.compare`.

Dirty means what Kedro's ``_describe_git`` means: ``git status --short`` prints anything, so
modified, staged, deleted, conflicted **and untracked** files make a tree dirty (ignored files
do not). A folder that is not in a repo, a repo without commits, or a machine without git gives
no git info at all, as in Kedro: never an error.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

#: Kedro stores ``git rev-parse --short HEAD``; its usual length.
SHORT_SHA_LENGTH = 7
#: A stuck git (network filesystem, huge repo) must not hold a run back forever.
GIT_TIMEOUT_S = 10.0


class GitInfo(NamedTuple):
    """A NamedTuple, not a dataclass: ``dataclasses`` costs ``sessionlens run`` ~10 ms."""

    commit_sha_full: str
    #: None on a detached HEAD
    branch: str | None
    dirty: bool

    @property
    def commit_sha(self) -> str:
        return self.commit_sha_full[:SHORT_SHA_LENGTH]

    def to_record(self) -> dict[str, Any]:
        """The record's ``git``: Kedro's keys, ``branch`` (as kedro-viz) and the full sha."""
        data: dict[str, Any] = {"commit_sha": self.commit_sha, "dirty": self.dirty}
        if self.branch is not None:
            data["branch"] = self.branch
        data["commit_sha_full"] = self.commit_sha_full
        return data


def parse_porcelain_v2(output: str) -> GitInfo | None:
    """Read ``git status --porcelain=v2 --branch`` output; None when HEAD has no commit yet."""
    sha: str | None = None
    branch: str | None = None
    dirty = False
    for line in output.splitlines():
        if line.startswith("# branch.oid "):
            value = line[len("# branch.oid ") :].strip()
            sha = None if value == "(initial)" else value
        elif line.startswith("# branch.head "):
            value = line[len("# branch.head ") :].strip()
            branch = None if value == "(detached)" else value
        elif line.startswith("#") or line.startswith("!") or not line:
            continue  # other headers (upstream, ahead/behind, stash), ignored files
        else:
            dirty = True  # "1 "/"2 " changed, "u " unmerged, "? " untracked
    if not sha:
        return None
    return GitInfo(commit_sha_full=sha, branch=branch, dirty=dirty)


class GitProbe:
    """``git status`` started in the background, so it overlaps the rest of a run's start-up
    (imports, opening the store); :meth:`result` collects it. Never raises."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._proc: subprocess.Popen[bytes] | None = None
        self._result: GitInfo | None = None
        self._done = False
        env = dict(os.environ)
        # Never take index.lock: a run must not race with the user's own git commands.
        env["GIT_OPTIONAL_LOCKS"] = "0"
        for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
            env.pop(key, None)
        try:
            self._proc = subprocess.Popen(
                ["git", "status", "--porcelain=v2", "--branch"],
                cwd=self.path,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError):  # git missing, folder missing
            self._done = True

    def result(self) -> GitInfo | None:
        """The git info, or None (no repo, no commit, no git, git failed or took too long)."""
        if self._done:
            return self._result
        self._done = True
        proc = self._proc
        assert proc is not None
        try:
            out, _ = proc.communicate(timeout=GIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return None
        if proc.returncode == 0:
            self._result = parse_porcelain_v2(out.decode("utf-8", "replace"))
        return self._result


def describe(path: str | Path) -> GitInfo | None:
    """Git info for the repo holding ``path``, or None (no repo, no commit, no git, git failed)."""
    return GitProbe(path).result()
