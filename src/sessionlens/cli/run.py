"""``sessionlens run [--store S] [--params k=v,...] [-- CMD ...]``: one recorded session.

The terminal consumer of :class:`sessionlens.runner.RunningSession`: output is echoed as it
arrives, Ctrl-C (or SIGTERM/SIGHUP to this process) interrupts the child, a second Ctrl-C
escalates. The exit code is the child's (130 when interrupted, 127/126 when it cannot start).
Standard library only, plus the store backend: this path is timed (DESIGN.md section 6).
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
from typing import Any

from sessionlens.cli.main import PROG, UsageError


def cmd_run(args: argparse.Namespace) -> int:
    from sessionlens.gitinfo import GitProbe
    from sessionlens.project import load_project

    project = load_project()
    # git status runs while the rest is imported and the store opened (DESIGN.md section 6)
    probe = GitProbe(project.root)
    from sessionlens.runner import (
        RunningSession,
        cli_record,
        command_with_params,
        echo_to_terminal,
        parse_params,
    )
    from sessionlens.session import Session, open_session_store

    params: dict[str, Any] = {}
    for text in args.params:
        params.update(parse_params(text))
    command = list(args.cmd or [])
    if not command:
        default = project.default_command()
        if default is None:
            raise UsageError(
                "no command to run: give one after '--' (sessionlens run -- python main.py) or "
                f"set [tool.sessionlens] run = [...] in {project.root / 'pyproject.toml'}"
            )
        command = default
    argv = command_with_params(command, params)
    store_spec = getattr(args, "store", None)
    cli = cli_record(
        command,
        params,
        store=store_spec,
        env=args.env,
        rerun_of=args.rerun_of,
        command_path=shlex.join([PROG, *args.argv_full]),
    )

    store = open_session_store(store_spec, project)
    try:
        session = Session.create(
            project=project,
            store=store,
            cli=cli,
            env=args.env,
            rerun_of=args.rerun_of,
            git_probe=probe,
        )
        running = RunningSession(session, argv, on_output=echo_to_terminal, stdin=None)
        with _forward_signals(running):
            try:
                running.start()
            except KeyboardInterrupt:
                if not running.started:
                    raise
                running.interrupt()
            while True:
                try:
                    running.wait()
                    break
                except KeyboardInterrupt:
                    running.interrupt()
        session.close()
    finally:
        store.close()
    return _report(running, session.session_id, quiet=args.quiet)


def _report(running: Any, session_id: str, *, quiet: bool) -> int:
    from sessionlens.runner import RunningSession

    assert isinstance(running, RunningSession)
    code = running.exit_code
    record = running.session.record
    if running.status == "failed" and record.get("exception") and code in (126, 127):
        exc = record["exception"]
        _line(f"cannot run {shlex.join(running.argv)!r}: {exc.get('value')}")
    if running.error is not None:
        _line(f"could not record session {session_id}: {running.error}")
        return code if code else 2
    if running.log_error is not None:
        _line(f"the log of session {session_id} is incomplete: {running.log_error}")
    if not quiet:
        run = record.get("run") or {}
        duration = run.get("duration_s")
        took = f", {duration:.2f}s" if isinstance(duration, int | float) else ""
        _line(f"session {session_id} {running.status} (exit {code}{took})")
    if running.status == "success":
        return 0
    if running.status == "interrupted":
        return code if code and code >= 128 else 130
    return code if code else 1


def _line(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"{PROG}: {text}\n")
        sys.stderr.flush()


@contextlib.contextmanager
def _forward_signals(running: Any) -> Any:
    """SIGTERM and SIGHUP to this process interrupt the child as Ctrl-C does (main thread only)."""
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        running.interrupt()

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)
