"""``sessionlens`` entry point: the argument parser, the table of commands, and turning every
error into its exit code (:mod:`~.common` lists them).

Errors meant for users are ``SessionLensError``s; nothing a user can type produces a traceback.
Each command's module is imported only when that command runs (:data:`COMMANDS`), and no module
of the CLI imports this one: what commands share is in :mod:`~.common`. A plain ``run`` line is
read by :mod:`~.run_args` and never imports argparse (it is on the timed ``run`` path). Shell
completion (:mod:`~.completion`, argcomplete) is imported only when the shell asks for one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from sessionlens.cli.common import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    UsageError,
    error,
    exit_now,
    silence_stdout,
)
from sessionlens.errors import SessionLensError

if TYPE_CHECKING:
    import argparse

#: command -> (module, function) that runs it; None: no command (the app). A module is imported
#: only when its command runs: ``list --json`` never imports Rich, ``run`` never Textual.
COMMANDS: dict[str | None, tuple[str, str]] = {
    None: ("sessionlens.cli.browse", "cmd_browse"),
    "list": ("sessionlens.cli.read", "cmd_list"),
    "show": ("sessionlens.cli.read", "cmd_show"),
    "diff": ("sessionlens.cli.read", "cmd_diff"),
    "log": ("sessionlens.cli.read", "cmd_log"),
    "run": ("sessionlens.cli.run", "cmd_run"),
    "demo": ("sessionlens.cli.demo", "cmd_demo"),
    "annotate": ("sessionlens.cli.annotate", "cmd_annotate"),
    "copy": ("sessionlens.cli.copy", "cmd_copy"),
    "archive": ("sessionlens.cli.curate", "cmd_archive"),
    "unarchive": ("sessionlens.cli.curate", "cmd_unarchive"),
    "delete": ("sessionlens.cli.curate", "cmd_delete"),
    "completion": ("sessionlens.cli.completion", "cmd_completion"),
}


def _parser_class() -> type[argparse.ArgumentParser]:
    import argparse  # here, not at the top: a plain ``run`` never imports it

    class _Parser(argparse.ArgumentParser):
        """argparse, but an error is one line on stderr and exit code 2 (no usage dump)."""

        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{message} (see '{self.prog} --help')")

    return _Parser


#: the epilog that stands for the filter language's help (made only when help is shown)
_FILTER_HELP = "{filter language}"


def _filter_help_formatter() -> type[argparse.HelpFormatter]:
    """Help with the filter language written out from ``query.py``'s definitions; made when
    shown, so no other command imports the query module to build the parser."""
    import argparse

    class _FilterHelpFormatter(argparse.RawDescriptionHelpFormatter):
        def add_text(self, text: str | None) -> None:
            if text == _FILTER_HELP:
                from sessionlens.query import filter_help

                text = filter_help()
            super().add_text(text)

    return _FilterHelpFormatter


def _store_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    import argparse

    parser.add_argument(
        "--store",
        metavar="STORE",
        # on subcommands, SUPPRESS keeps a --store given before the subcommand
        default=None if top else argparse.SUPPRESS,
        help="store URI (sqlite:///f.db, shelve:///dir, memory:) or path; default: the store "
        "of the project in the current folder",
    )


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The whole command line; ``prog`` is how help names it (``kedro sessions`` there)."""
    import argparse

    _Parser = _parser_class()
    parser = _Parser(
        prog=prog,
        description="Record, browse, launch and compare the runs of a project. Without a "
        "command: open the app on the project's store.",
    )
    from sessionlens._version import __version__

    parser.add_argument("-V", "--version", action="version", version=f"{prog} {__version__}")
    _store_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "list",
        help="list sessions, newest first",
        epilog=_FILTER_HELP,
        formatter_class=_filter_help_formatter(),
    )
    _store_option(p)
    p.add_argument(
        "--filter",
        "-f",
        default="",
        metavar="TEXT",
        help="filter, e.g. 'branch:main metric.r2>0.9' (the language is below)",
    )
    p.add_argument(
        "--sort",
        default="started",
        metavar="KEY",
        help="sort key: started, duration, metric.NAME... (default: started; all keys below)",
    )
    p.add_argument("--asc", action="store_true", help="ascending order")
    p.add_argument("--limit", "-n", type=int, default=50, metavar="N", help="0 = all (default 50)")
    from sessionlens.cli.columns import columns_help

    p.add_argument("--columns", "-c", metavar="LIST", help=columns_help())
    p.add_argument(
        "--json",
        action="store_true",
        help="JSON output: every field; with --columns those columns (params and metrics as "
        "objects)",
    )
    p.add_argument(
        "--csv",
        action="store_true",
        help="CSV output with the table's columns (params as a k=v line, a column per metric)",
    )
    p.add_argument(
        "--all", action="store_true", help="archived sessions too (hidden unless asked for)"
    )

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
        help="JSON output: {rows, params, metrics, nodes, duration_delta_s, changed_files, ...}",
    )
    p.add_argument(
        "--higher-is-better",
        action="append",
        metavar="NAME",
        help="metric NAME improves when it grows (default: by its name; loss, error, mae, rmse... "
        "are lower-is-better); may be repeated",
    )
    p.add_argument(
        "--lower-is-better",
        action="append",
        metavar="NAME",
        help="metric NAME improves when it shrinks; may be repeated",
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
        usage=f"{prog} run [--store STORE] [--params K=V,...] [-- COMMAND ...]",
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

    p = sub.add_parser(
        "annotate",
        help="set a session's title, notes or bookmark",
        description="Set a session's title, notes or bookmark (only the ones given change; "
        "text is kept as typed). In an SQLite store they go to kedro-viz's user_run_details, "
        "so kedro-viz shows them too. The store is opened read-write for this command only.",
    )
    _store_option(p)
    p.add_argument("session", metavar="ID", help="session id or a unique prefix of one")
    p.add_argument("--title", metavar="T", help="the title ('' clears it)")
    p.add_argument("--notes", metavar="N", help="the notes ('' clears them)")
    p.add_argument(
        "--bookmark",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bookmark the session (--no-bookmark: remove the bookmark)",
    )
    p.add_argument("--json", action="store_true", help="print the details saved, as JSON")

    for name, text in (
        ("archive", "archive sessions: hidden from listings unless asked for (list --all)"),
        ("unarchive", "bring archived sessions back into listings"),
    ):
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        _store_option(p)
        p.add_argument("sessions", nargs="+", metavar="ID", help="session ids or unique prefixes")
        p.add_argument("--quiet", "-q", action="store_true", help="print nothing")

    p = sub.add_parser(
        "delete",
        help="delete sessions for good (record, log, title/notes/bookmark)",
        description="Delete sessions for good: the record, its log and its title, notes and "
        "bookmark (kedro-viz's tables included), in one transaction. Asks first on a terminal; "
        "elsewhere --yes is required.",
    )
    _store_option(p)
    p.add_argument("sessions", nargs="+", metavar="ID", help="session ids or unique prefixes")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing")

    p = sub.add_parser(
        "copy",
        help="copy sessions from one store into another",
        usage=f"{prog} copy SRC DST [--filter TEXT] [--dry-run] [--json]",
        description="Copy sessions (records, logs, title/notes/bookmark) from store SRC into "
        "store DST: any two of SQLite (sessionlens's or kedro-viz's), shelve folders and the "
        "other backends, in either direction. SRC is only read; DST is created when missing. "
        "Sessions already in DST are skipped, so running it again adds nothing, and an "
        "interrupted copy is finished by running it again. Sessions that cannot be read are "
        "named on stderr and skipped.",
        epilog=_FILTER_HELP,
        formatter_class=_filter_help_formatter(),
    )
    p.add_argument("src", metavar="SRC", help="store to copy from (URI or path)")
    p.add_argument("dst", metavar="DST", help="store to copy into (URI or path; made if missing)")
    p.add_argument(
        "--filter", "-f", default="", metavar="TEXT", help="copy only the sessions it matches"
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be copied; write nothing")
    p.add_argument("--json", action="store_true", help="the summary as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser("demo", help="build a demo project with recorded sessions and open it")
    p.add_argument("--dir", metavar="DIR", help="where to build it (default: a per-user folder)")
    p.add_argument("--no-open", action="store_true", help="do not open the app")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if it exists")

    p = sub.add_parser(
        "completion",
        help="print the shell code that completes commands and session ids",
        description="Print the code that makes SHELL complete sessionlens's commands, options "
        'and session ids; e.g. in ~/.bashrc: eval "$(sessionlens completion bash)"',
    )
    p.add_argument(
        "shell", metavar="SHELL", choices=("bash", "zsh", "fish"), help="bash, zsh or fish"
    )
    return parser


def _split_run_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``run ... -- CMD``: everything after the first ``--`` is the command, untouched."""
    if "--" in argv and "run" in argv[: argv.index("--")]:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, None


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Run the CLI; returns the exit code (the console script exits with it). As the program
    itself (``argv`` None), a finished ``run`` ends the process at once: see ``exit_now``."""
    if argv is None and "_ARGCOMPLETE" in os.environ:  # the shell asks what can follow its line
        from sessionlens.cli.completion import answer_and_exit

        answer_and_exit(lambda: build_parser(prog))
    args_list = list(sys.argv[1:] if argv is None else argv)
    _replace_what_cannot_be_shown()
    try:
        return _main(args_list, exit_when_done=argv is None, prog=prog)
    except SessionLensError as exc:
        error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `sessionlens list | head`: the reader left, nothing is wrong
        silence_stdout()
        return EXIT_OK
    except OSError as exc:  # a file the user named cannot be read, the disk is full, ...
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        error(f"{where}{exc.strerror or exc}")
        return EXIT_USAGE
    except Exception as exc:  # a bug: one line, the traceback only on request
        if os.environ.get("SESSIONLENS_DEBUG"):
            raise
        error(
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


def _main(argv: list[str], *, exit_when_done: bool = False, prog: str = PROG) -> int:
    parse_argv, command = _split_run_command(argv)
    probe = _early_git_probe(parse_argv)
    from sessionlens.cli.run_args import parse_run_args

    args = parse_run_args(parse_argv) or build_parser(prog).parse_args(parse_argv)
    if command is not None:
        args.cmd = command
    args.argv_full = argv
    args.git_probe = probe
    code = handler(args.command)(args)
    if exit_when_done and args.command == "run":
        exit_now(code)
    return code


def handler(command: str | None) -> Callable[[argparse.Namespace], int]:
    """The function that runs ``command`` (see :data:`COMMANDS`), its module imported now."""
    module, function = COMMANDS[command]
    # the import statement's machinery (not importlib.import_module): -X importtime lists it
    return getattr(__import__(module, fromlist=[function]), function)  # type: ignore[no-any-return]


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
