"""``sessionlens run [--store S] [--params k=v,...] [-- CMD ...]``: one recorded session.

The terminal consumer of :func:`sessionlens.launch.launch`: output is echoed as it arrives,
Ctrl-C (or SIGTERM/SIGHUP to this process) interrupts the child, a second Ctrl-C escalates.
The exit code is the child's (130 when interrupted, 127/126 when it cannot start).
Standard library only, plus the store backend: this path is timed (DESIGN.md section 6).
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sessionlens.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    UsageError,
    silence_stdout,
)

if TYPE_CHECKING:
    import argparse

    from sessionlens.runner import RunningSession


def cmd_run(args: argparse.Namespace) -> int:
    from sessionlens.gitinfo import GitProbe
    from sessionlens.project import load_project

    project = load_project()
    # git status runs while the rest is imported and the store opened (DESIGN.md section 6)
    probe = getattr(args, "git_probe", None)
    if probe is None or probe.path != str(project.root):
        probe = GitProbe(project.root)
    from sessionlens.launch import NoCommandError, launch
    from sessionlens.params import parse_params
    from sessionlens.runner import echo_to_terminal

    params: dict[str, Any] = {}
    for text in args.params:
        params.update(parse_params(text))
    holder: list[RunningSession] = []
    with _forward_signals(lambda: holder and holder[0].interrupt()):
        try:
            running = launch(
                args.cmd or None,
                project=project,
                git_probe=probe,
                params=params,
                store=getattr(args, "store", None),
                rerun_of=args.rerun_of,
                env_name=args.env,
                command_path=shlex.join([PROG, *args.argv_full]),
                on_bytes=echo_to_terminal,  # byte for byte: binary output too
                stdin=None,  # the terminal's, so a run can still prompt
            )
        except NoCommandError as exc:
            raise UsageError(
                f"{exc}; or give one after '--' (sessionlens run -- python main.py)"
            ) from None
        holder.append(running)
        if running.session.store.notice:
            _line(running.session.store.notice)
        while True:
            try:
                running.wait()
                break
            except KeyboardInterrupt:
                running.interrupt()
    if "stdout" in running.readers_gone:  # what the copy could not write must not be retried
        silence_stdout()
    return _report(running, quiet=args.quiet)


def _report(running: RunningSession, *, quiet: bool) -> int:
    """One line on stderr about the run (unless ``quiet``, or it could not be recorded: then
    always, with the run's real outcome), and the exit code: the child's."""
    code = running.exit_code
    session_id = running.session_id
    record = running.session.record
    if running.status == "failed" and record.get("exception") and code in (126, 127):
        exc = record["exception"]
        _line(f"cannot run {shlex.join(running.argv)!r}: {exc.get('value')}")
    run = record.get("run") or {}
    duration = run.get("duration_s")
    took = f", {duration:.2f}s" if isinstance(duration, int | float) else ""
    outcome = f"session {session_id} {running.status} (exit {code}{took})"
    if running.error is not None:
        if running.status is None:  # the runner itself broke before the run ended
            _line(f"could not record session {session_id}: {running.error}")
            return code if code else EXIT_USAGE
        _line(f"{outcome}, but it could not be recorded: {running.error}")
    elif running.log_error is not None:
        _line(f"the log of session {session_id} is incomplete: {running.log_error}")
    if not quiet and running.error is None:
        _line(outcome)
    if running.status == "success":
        return EXIT_OK
    if running.status == "interrupted":
        return code if code and code >= 128 else EXIT_INTERRUPTED
    return code if code else EXIT_FAILED


def _line(text: str) -> None:
    """One line on stderr; it may quote the record (an exception's text): shown, never obeyed."""
    from sessionlens.textsafe import safe_text

    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"{PROG}: {safe_text(text)}\n")
        sys.stderr.flush()


@contextlib.contextmanager
def _forward_signals(interrupt: Callable[[], Any]) -> Iterator[None]:
    """SIGTERM and SIGHUP to this process interrupt the child as Ctrl-C does (main thread only)."""
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        interrupt()

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
