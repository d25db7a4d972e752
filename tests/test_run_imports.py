"""``sessionlens run -- CMD`` is timed (overhead target < 100 ms, DESIGN.md section 6), and most
of what it costs is imports: the modules that only other commands need must not come back onto
its path through an eager import. Each check runs the CLI in a fresh interpreter and lists what
it imported beyond what the interpreter had loaded at start (``site`` loads some modules on
some machines; those are not the run path's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sessiontools import GIT_ENV, make_repo

PY = sys.executable

#: Not on the path of a plain ``run`` line: the CLI parser of the other commands (argparse),
#: ``dataclasses`` (and the ``inspect``/``ast`` it pulls in), TOML without a pyproject.toml,
#: Kedro settings parsing, and anything of the app, the renderer or GitPython.
FORBIDDEN = {
    "argparse",
    "ast",
    "dataclasses",
    "getpass",
    "git",
    "inspect",
    "logging",
    "queue",
    "rich",
    "socket",
    "textual",
    "tomli",
    "tomllib",
}

CHECK = """
import sys
before = set(sys.modules)
from sessionlens.cli.main import main
code = main(sys.argv[1:])
added = sorted(set(sys.modules) - before)
sys.stderr.write("ADDED=" + ",".join(added) + "\\n")
raise SystemExit(code)
"""


def _added_modules(args: list[str], cwd: Path) -> set[str]:
    proc = subprocess.run(
        [PY, "-c", CHECK, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("ADDED="), proc.stderr
    return set(line[len("ADDED=") :].split(","))


def _top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} | modules


def test_a_plain_run_imports_none_of_the_heavy_modules(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    added = _added_modules(["run", "-q", "--store", "s.db", "--", "true"], repo)
    assert "sessionlens.runner" in added  # the check sees the run path's imports
    assert _top_level(added) & FORBIDDEN == set()
    # browsing's parts: the filter language, the index cache of stores browsed read-only
    assert {"sessionlens.query", "sessionlens.stores.sqlite_cache"} & added == set()
    # without --store the project's store is found (Kedro places, settings.py): still lean
    added = _added_modules(["run", "-q", "--", "true"], repo)
    assert _top_level(added) & FORBIDDEN == set()


def test_a_pyproject_brings_tomllib_and_nothing_else_heavy(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"pyproject.toml": '[tool.sessionlens]\nrun = ["true"]\n'})
    added = _added_modules(["run", "-q"], repo)
    toml = "tomllib" if sys.version_info >= (3, 11) else "tomli"
    assert toml in added  # read only when there is a file to read
    assert _top_level(added) & FORBIDDEN == {toml}
