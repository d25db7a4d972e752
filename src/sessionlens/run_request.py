"""What a person asks to run (:class:`RunRequest`), and turning a stored record back into that
(:func:`rerun_request`: a re-run is always a new session, ``rerun_of`` set).

The app's form, run pane and controller use these; :func:`sessionlens.launch.launch` runs one.
Kept apart from :mod:`~sessionlens.launch` so that ``sessionlens run`` never imports
``dataclasses`` (about 10 ms with the ``inspect`` it pulls in).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sessionlens.params import is_kedro_run
from sessionlens.record import params_of


@dataclass(frozen=True)
class RunRequest:
    """What a new session runs: the command, its parameters, the session it re-runs, the
    Kedro-style environment name to record, and the commit to run (None: the work tree)."""

    command: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    rerun_of: str | None = None
    env: str | None = None
    #: run this commit in a temporary git worktree (a re-run that reproduces its source)
    source_commit: str | None = None


def rerun_request(record: Mapping[str, Any]) -> RunRequest | None:
    """What to run to run ``record``'s run again, in a new session (``rerun_of`` set): a
    sessionlens record's ``cli.args``, else its ``run.command``, else a Kedro record's
    ``cli.command_path``; ``kedro run --params`` is lifted out into the parameters. None when
    the record says nothing about how it was launched (a Python-API session)."""
    cli = record.get("cli") if isinstance(record.get("cli"), Mapping) else {}
    run = record.get("run") if isinstance(record.get("run"), Mapping) else {}
    command: list[str] | None = None
    args = cli.get("args")
    if run and isinstance(args, list | tuple) and args:
        command = [str(a) for a in args]
    elif isinstance(run.get("command"), list | tuple) and run.get("command"):
        command = [str(a) for a in run["command"]]
    elif isinstance(cli.get("command_path"), str) and cli["command_path"].strip():
        try:
            command = shlex.split(cli["command_path"])
        except ValueError:
            return None
    if not command:
        return None
    if is_kedro_run(command):
        kept: list[str] = []
        skip = False
        for arg in command:
            if skip:
                skip = False
            elif arg == "--params":
                skip = True
            elif not arg.startswith("--params="):
                kept.append(arg)
        command = kept
    source = record.get("session_id")
    return RunRequest(command, params_of(record), rerun_of=str(source) if source else None)
