"""``sessionlens`` entry point: argument parsing, store opening, and the exit-code contract.

Exit codes: 0 ok, 1 (or the child's own code) when a run fails, 2 for bad input with ONE line on
stderr (unknown id, missing store, corrupt or foreign file, bad filter, bad arguments), 130 when
interrupted. Errors meant for users are ``SessionLensError``s; nothing a user can type produces a
traceback. Each command's module is imported only when that command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from sessionlens.errors import SessionLensError

if TYPE_CHECKING:
    from sessionlens.stores.base import SessionStore

PROG = "sessionlens"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: An unexpected error inside sessionlens (a bug, not bad input): EX_SOFTWARE.
EXIT_INTERNAL = 70


class UsageError(SessionLensError):
    """Bad command-line arguments."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _store_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    parser.add_argument(
        "--store",
        metavar="STORE",
        # on subcommands, SUPPRESS keeps a --store given before the subcommand
        default=None if top else argparse.SUPPRESS,
        help="store URI (sqlite:///f.db, shelve:///dir, memory:) or path; default: the store "
        "of the project in the current folder",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Record, browse, launch and compare the runs of a project. Without a "
        "command: open the app on the project's store.",
    )
    from sessionlens import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _store_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("list", help="list sessions, newest first")
    _store_option(p)
    p.add_argument("--filter", "-f", default="", metavar="TEXT", help="filter, e.g. 'branch:main'")
    p.add_argument("--sort", default="started", metavar="KEY", help="sort key (default: started)")
    p.add_argument("--asc", action="store_true", help="ascending order")
    p.add_argument("--limit", "-n", type=int, default=50, metavar="N", help="0 = all (default 50)")
    p.add_argument("--json", action="store_true", help="JSON output")

    p = sub.add_parser("show", help="one session's whole record")
    _store_option(p)
    p.add_argument("session", metavar="ID", help="session id or a unique prefix of one")
    p.add_argument(
        "--json", action="store_true", help="JSON output: {record, summary, user_details}"
    )
    p.add_argument("--log-lines", type=int, default=20, metavar="N", help="log tail length")

    p = sub.add_parser("diff", help="compare two sessions")
    _store_option(p)
    p.add_argument("left", metavar="A", help="session id or unique prefix")
    p.add_argument("right", metavar="B", help="session id or unique prefix")
    p.add_argument("--all", action="store_true", help="every field, not only differences")
    p.add_argument(
        "--json",
        action="store_true",
        help="JSON output: {rows, params, duration_delta_s, changed_files, ...}",
    )

    p = sub.add_parser("log", help="a session's stored output")
    _store_option(p)
    p.add_argument("session", metavar="ID", help="session id or unique prefix")
    p.add_argument("--follow", "-F", action="store_true", help="keep printing while it runs")
    p.add_argument("--stream", choices=("stdout", "stderr"), help="only this stream")
    p.add_argument(
        "--raw",
        action="store_true",
        help="the exact stored text, escape codes included: the one output that does not show "
        "control characters visibly (for files and pipes; a terminal obeys them)",
    )
    p.add_argument("--json", action="store_true", help="JSON chunks {stream, text}")

    p = sub.add_parser(
        "run",
        help="run a command (default: the project's) as a new recorded session",
        usage=f"{PROG} run [--store STORE] [--params K=V,...] [-- COMMAND ...]",
        description="Run COMMAND (default: [tool.sessionlens] run in pyproject.toml, or "
        "'kedro run' in a Kedro project) as a new session: git and CLI info are recorded, "
        "output is shown and stored, Ctrl-C interrupts it. Exit code: the command's own "
        "(130 when interrupted, 127 when it cannot be found).",
    )
    _store_option(p)
    p.add_argument(
        "--params",
        action="append",
        default=[],
        metavar="K=V,...",
        help="run parameters (key=value or key:value, comma separated); recorded, passed to the "
        "child as SESSIONLENS_PARAMS (JSON) and to 'kedro run' as --params",
    )
    p.add_argument("--env", metavar="ENV", help="Kedro-style environment name to record")
    p.add_argument("--rerun-of", metavar="ID", help="record this run as a re-run of session ID")
    p.add_argument("--quiet", "-q", action="store_true", help="no closing status line")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="COMMAND", help=argparse.SUPPRESS)

    p = sub.add_parser("demo", help="build a demo project with recorded sessions and open it")
    p.add_argument("--dir", metavar="DIR", help="where to build it (default: a per-user folder)")
    p.add_argument("--no-open", action="store_true", help="do not open the app")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if it exists")
    return parser


def _split_run_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``run ... -- CMD``: everything after the first ``--`` is the command, untouched."""
    if "--" in argv and "run" in argv[: argv.index("--")]:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    _replace_what_cannot_be_shown()
    try:
        return _main(args_list)
    except SessionLensError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `sessionlens list | head`: the reader left, nothing is wrong
        _silence_stdout()
        return EXIT_OK
    except OSError as exc:  # a file the user named cannot be read, the disk is full, ...
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        _error(f"{where}{exc.strerror or exc}")
        return EXIT_USAGE
    except Exception as exc:  # a bug: one line, the traceback only on request
        if os.environ.get("SESSIONLENS_DEBUG"):
            raise
        _error(
            f"internal error: {type(exc).__name__}: {exc} (set SESSIONLENS_DEBUG=1 to see the "
            "traceback)"
        )
        return EXIT_INTERNAL


def _early_git_probe(argv: list[str]) -> Any:
    """For ``run``: start ``git status`` before anything else (it overlaps parsing, imports and
    opening the store; DESIGN.md section 6 times this path)."""
    words = iter(argv)
    for word in words:
        if word == "--store":
            next(words, None)
        elif word == "run":
            from sessionlens.gitinfo import GitProbe
            from sessionlens.project import find_project_root

            return GitProbe(find_project_root() or os.getcwd())
        elif not word.startswith("-"):
            return None
    return None


def _main(argv: list[str]) -> int:
    parse_argv, command = _split_run_command(argv)
    probe = _early_git_probe(parse_argv)
    args = build_parser().parse_args(parse_argv)
    if command is not None:
        args.cmd = command
    args.argv_full = argv
    args.git_probe = probe
    name = args.command
    if name in ("list", "show", "diff", "log"):
        from sessionlens.cli import read

        return getattr(read, f"cmd_{name}")(args)
    if name == "run":
        from sessionlens.cli import run

        return run.cmd_run(args)
    if name == "demo":
        from sessionlens.cli import demo

        return demo.cmd_demo(args)
    return open_app(args.store)


def open_app(spec: str | None) -> int:
    """No subcommand: the app on the store, or the list table when the app is not installed."""
    import importlib.util

    store = open_read_store(spec)
    try:
        if importlib.util.find_spec("sessionlens.tui.app") is not None:
            from sessionlens.tui.app import run_app

            return int(run_app(store) or 0)
        from sessionlens.cli import read

        return read.print_list(store, read.list_query("", "started", False), limit=50)
    finally:
        store.close()


# -- stores -------------------------------------------------------------------------------
def default_store_spec() -> str:
    """Where a read command looks without ``--store``: the current folder when a store is found
    there (e.g. a Kedro project folder with ``sessions/``), else the project it belongs to
    (nearest pyproject.toml or git work tree), in which the usual places are searched."""
    from sessionlens.errors import StoreError
    from sessionlens.project import find_project_root
    from sessionlens.stores import detect_store

    here = os.getcwd()
    try:
        return detect_store(here).location
    except StoreError:
        pass
    return str(find_project_root(here) or here)


def open_read_store(spec: str | None) -> SessionStore:
    """Open a store for browsing (read-only); StoreError with one line when it cannot."""
    from sessionlens.stores import open_store

    store = open_store(spec or default_store_spec(), read_only=True)
    if store.notice:
        _error(f"note: {store.notice}")
    return store


def _error(message: str) -> None:
    """One line on stderr; store text and what the user typed are shown, never obeyed."""
    from sessionlens.textsafe import safe_text

    line = safe_text(" ".join(message.split()))
    try:
        sys.stderr.write(f"{PROG}: {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _replace_what_cannot_be_shown() -> None:
    """A terminal whose encoding is not UTF-8 (``PYTHONIOENCODING=ascii``, a Latin-1 locale)
    cannot show a table's ellipsis, the control pictures of ``safe_text`` or a user's name:
    such characters become ``?`` instead of ending the command with an internal error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or getattr(stream, "errors", None) != "strict":
            continue  # not a real stream, or one that replaces already (stderr does)
        if not str(getattr(stream, "encoding", "")).lower().startswith("utf"):
            with contextlib.suppress(OSError, ValueError):
                reconfigure(errors="replace")


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at devnull so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
