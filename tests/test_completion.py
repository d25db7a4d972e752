"""Shell completion (``sessionlens completion SHELL`` and the ``_ARGCOMPLETE`` requests the
shell's snippet makes), driven as real processes: the protocol argcomplete speaks, and bash
itself running the snippet ``sessionlens completion bash`` prints."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import sessionlens
from conftest import SQLITE_FIXTURE
from sessionlens.stores import open_store
from sessiontools import assert_one_line_error, cli
from storetools import make_records

PY = sys.executable
#: what the ``sessionlens`` console script runs
ENTRY = "import sys; from sessionlens.cli.main import main; sys.exit(main())"
SRC = str(Path(sessionlens.__file__).resolve().parents[1])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("_ARGCOMPLETE", "COMP_"))}
    env.pop("SESSIONLENS_DEBUG", None)
    env.pop("_ARC_DEBUG", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH")) if p)
    return {**env, **extra}


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, list[str]]:
    """An SQLite store of 12 sessions, and their ids newest first."""
    path = tmp_path / "store" / "s.db"
    path.parent.mkdir()
    with open_store(str(path), read_only=False, create=True) as writable:
        writable.insert_many(make_records(12))
    with open_store(str(path)) as readable:
        ids = [s.session_id for s in readable.list_summaries(limit=None)]
    return path, ids


def _complete(line: str, tmp_path: Path, cwd: Path | None = None) -> tuple[list[str], str]:
    """Ask as the shell does (argcomplete's protocol, the answer in the file it names): the
    completions offered for ``line`` with the cursor at its end, and stderr."""
    answer = tmp_path / "answer.txt"
    answer.unlink(missing_ok=True)
    proc = subprocess.run(
        [PY, "-c", ENTRY],
        cwd=cwd or tmp_path,
        env=_env(
            _ARGCOMPLETE="1",
            _ARGCOMPLETE_IFS="\n",
            _ARGCOMPLETE_SHELL="bash",
            _ARGCOMPLETE_STDOUT_FILENAME=str(answer),
            COMP_LINE=line,
            COMP_POINT=str(len(line)),
            COMP_TYPE="9",
        ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    text = answer.read_text(encoding="utf-8")
    return [w.strip() for w in text.split("\n") if w.strip()], proc.stderr


# -- the snippet ---------------------------------------------------------------------------------
def test_bash_snippet_is_valid_bash_naming_sessionlens() -> None:
    proc = cli("completion", "bash")
    assert proc.returncode == 0, proc.stderr
    assert "sessionlens" in proc.stdout and "_ARGCOMPLETE" in proc.stdout
    check = subprocess.run(
        ["bash", "-n"], input=proc.stdout, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_snippets(shell: str) -> None:
    proc = cli("completion", shell)
    assert proc.returncode == 0, proc.stderr
    assert "sessionlens" in proc.stdout
    if shutil.which(shell):
        check = subprocess.run(
            [shell, "-n"], input=proc.stdout, capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stderr


def test_unknown_shell_is_one_line_exit_2() -> None:
    proc = cli("completion", "tcshell")
    assert_one_line_error(proc, "tcshell")
    assert proc.stdout == ""


# -- completing ----------------------------------------------------------------------------------
def test_subcommands_and_options(tmp_path: Path) -> None:
    assert _complete("sessionlens sh", tmp_path)[0] == ["show"]
    assert set(_complete("sessionlens a", tmp_path)[0]) == {"annotate", "archive"}
    assert _complete("sessionlens show --js", tmp_path)[0] == ["--json"]
    assert _complete("sessionlens completion z", tmp_path)[0] == ["zsh"]
    # a bare Tab: the commands, not the options (those come once a "-" is typed)
    bare = _complete("sessionlens ", tmp_path)[0]
    assert {"list", "show", "completion"} <= set(bare)
    assert not [w for w in bare if w.startswith("-")]
    assert {"--store", "--version"} <= set(_complete("sessionlens -", tmp_path)[0])


def test_ids_with_the_prefix_newest_first(store: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, ids = store
    prefix = "2026-11-02"
    wanted = [i for i in ids if i.startswith(prefix)]
    assert len(wanted) >= 2
    offered, err = _complete(f"sessionlens --store sqlite:///{path} show {prefix}", tmp_path)
    assert offered == wanted and err == ""
    # --store after the command, a plain path; every command that takes ids, at each id
    for command, before in (
        ("show", ""),
        ("log", ""),
        ("annotate", ""),
        ("archive", ""),
        ("unarchive", ""),
        ("delete", ""),
        ("diff", ""),
        ("diff", ids[0]),
        ("delete", ids[0]),
        ("run", "--rerun-of"),
    ):
        line = f"sessionlens {command} --store {path} {before} {prefix}"
        offered, err = _complete(line, tmp_path)
        assert offered == wanted, line
        assert err == ""
    # no prefix: every id, newest first
    assert _complete(f"sessionlens --store {path} show ", tmp_path)[0] == ids


def test_at_most_the_limit_newest_first(store: tuple[Path, list[str]]) -> None:
    from sessionlens.cli.completion import session_ids

    path, ids = store
    assert session_ids(str(path), "", limit=3) == ids[:3]
    assert session_ids(str(path), "2026-11-0", limit=2) == ids[:2]


def test_a_kedro_viz_store_never_browsed(kedro_copy: Callable[[str], Path], tmp_path: Path) -> None:
    """A store sessionlens never indexed: the ids come from its newest page, nothing waits for
    an index and nothing is written into the file kedro-viz owns."""
    path = kedro_copy(SQLITE_FIXTURE) / ".viz" / "session_store.db"
    before = path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))
    offered, err = _complete(f"sessionlens --store {path} show 20", tmp_path)
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))) == before
    assert err == ""
    with open_store(str(path)) as readable:  # (browsing it indexes it: after completing)
        ids = [s.session_id for s in readable.list_summaries(limit=None)]
    assert ids and offered == ids


def test_default_store_of_the_project_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".sessionlens").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n", encoding="utf-8")
    with open_store(
        str(project / ".sessionlens" / "session_store.db"), read_only=False, create=True
    ) as writable:
        writable.insert_many(make_records(5))
    offered, _ = _complete("sessionlens show 2026-11-03", tmp_path, cwd=project)
    assert offered == ["2026-11-03T12.02.14.002Z"]


def test_completing_never_writes_the_store(store: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, ids = store
    before = path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))
    for line in (
        f"sessionlens --store {path} show 2026",
        f"sessionlens --store {path} archive {ids[0][:4]}",
        f"sessionlens --store {path} delete ",
    ):
        assert _complete(line, tmp_path)[0]
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))) == before


def test_missing_or_corrupt_store_offers_nothing_quietly(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    offered, err = _complete(f"sessionlens --store {missing} show 2026", tmp_path)
    assert offered == [] and err == ""
    assert not missing.exists()  # not created
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    before = corrupt.read_bytes(), corrupt.stat().st_mtime_ns
    offered, err = _complete(f"sessionlens --store {corrupt} show 2026", tmp_path)
    assert offered == [] and err == ""
    assert (corrupt.read_bytes(), corrupt.stat().st_mtime_ns) == before
    offered, err = _complete("sessionlens --store shelve:///nowhere/at/all show ", tmp_path)
    assert offered == [] and err == ""


def test_bash_itself_completes_through_the_snippet(
    store: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """The snippet evaluated by bash, its completion function called as bash calls it on Tab:
    the ``sessionlens`` found on PATH answers on fd 8."""
    path, ids = store
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "sessionlens"
    script.write_text(f'#!/bin/sh\nexec "{PY}" -c "{ENTRY}" "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    tab = """
eval "$(sessionlens completion bash)"
tab() {
    COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; COMP_TYPE=9
    read -ra COMP_WORDS <<< "$COMP_LINE"
    [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    _python_argcomplete sessionlens
    printf '%s\\n' "${COMPREPLY[@]}"
    echo ---
}
tab "sessionlens sh"
tab "sessionlens --store $STORE show 2026-11-05"
"""
    env = _env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", STORE=str(path))
    proc = subprocess.run(
        ["bash", "-c", tab],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    first, second, _ = proc.stdout.split("---\n")
    assert first.split() == ["show"]
    assert second.split() == [i for i in ids if i.startswith("2026-11-05")]


# -- imported only when completing ---------------------------------------------------------------
IMPORTS = (
    "import sys\nfrom sessionlens.cli.main import main\ncode = main()\n"
    "sys.stderr.write('COMPLETION=%s\\n' % sorted(m for m in sys.modules "
    "if m == 'argcomplete' or m == 'sessionlens.cli.completion'))\n"
    "raise SystemExit(code)\n"
)


def test_list_json_never_imports_argcomplete(store: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, _ = store
    proc = subprocess.run(
        [PY, "-c", IMPORTS, "--store", str(path), "list", "--json"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "COMPLETION=[]"
    assert proc.stdout.startswith("[")
