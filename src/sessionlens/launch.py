"""Launching a new session's run: what to run, and the one call that records and starts it.

``sessionlens run``, the app's ``r``/``R``/``e`` keys and the demo all go through :func:`launch`
(project command, parameters, git, a new session, its child started; the runner closes the
session when the run ends). What a person asks to run, and turning a stored record back into
that, live in :mod:`sessionlens.run_request` (a dataclass: kept off the ``sessionlens run``
path, where importing ``dataclasses`` alone costs ~10 ms). Textual-free: the app's form and
controller build on it.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionlens.errors import SessionLensError
from sessionlens.params import command_with_params, format_params

if TYPE_CHECKING:  # the runner is imported when a run starts: the app imports this at start-up
    from sessionlens.gitinfo import GitProbe
    from sessionlens.project import ProjectConfig
    from sessionlens.runner import BytesCallback, FinishCallback, OutputCallback, RunningSession
    from sessionlens.stores.base import SessionStore


class NoCommandError(SessionLensError):
    """Nothing to run: no command given and none configured for the project."""


def launch(
    command: Sequence[str] | None = None,
    *,
    project_path: str | Path | None = None,
    params: Mapping[str, Any] | None = None,
    store: SessionStore | str | None = None,
    rerun_of: str | None = None,
    env_name: str | None = None,
    command_path: str | None = None,
    on_output: OutputCallback | None = None,
    on_bytes: BytesCallback | None = None,
    on_finish: FinishCallback | None = None,
    project: ProjectConfig | None = None,
    git_probe: GitProbe | None = None,
    run_extra: Mapping[str, Any] | None = None,
    **options: Any,
) -> RunningSession:
    """Everything ``sessionlens run`` does, in one call: a new session, started.

    ``command`` defaults to the project's (``[tool.sessionlens] run`` or ``kedro run``);
    ``params`` are recorded in ``cli.params.params``, passed as ``SESSIONLENS_PARAMS`` and, to
    ``kedro run``, as ``--params``. ``store`` is a *writable* store or a spec (default: the
    project's store, created when missing). The session is closed by the runner when the run
    ends; ``on_finish(running)`` is called after that, on the reader thread. ``options`` go to
    :class:`RunningSession` (``queue_output``, ``grace_period``, ``stdin``, ``env``...).
    ``project``/``git_probe``: already loaded/started by the caller (the CLI starts ``git
    status`` before importing this module). ``run_extra``: more fields for the record's
    ``run`` (a re-run's ``rerun_source``). Raises ``NoCommandError``, ``StoreError`` or
    ``SessionError``, with one-line messages.
    """
    from sessionlens.project import load_project
    from sessionlens.runner import RunningSession
    from sessionlens.session import Session

    if project is None:  # loaded once: its command here, its root and name in the session
        project = load_project(project_path, search_parents=project_path is None)
    base = list(command) if command else project.default_command()
    if not base:
        raise NoCommandError(
            "no command to run: give one or set [tool.sessionlens] run = [...] in "
            f"{project.root / 'pyproject.toml'}"
        )
    params = dict(params or {})
    spec = store if isinstance(store, str) else None
    cli = cli_record(
        base, params, store=spec, env=env_name, rerun_of=rerun_of, command_path=command_path
    )
    session = Session.create(
        project=project, store=store, cli=cli, env=env_name, rerun_of=rerun_of, git_probe=git_probe
    )
    session.run_extra.update(run_extra or {})
    running = RunningSession(
        session,
        command_with_params(base, params),
        on_output=on_output,
        on_bytes=on_bytes,
        on_finish=on_finish,
        close_session=True,
        **options,
    )
    try:
        return running.start()
    except BaseException:
        if running.started and not running.done:  # e.g. Ctrl-C while the child was starting
            running.interrupt()
            running.wait()  # the runner closes the session
        else:
            session.close()
        raise


# -- the record's ``cli`` ---------------------------------------------------------------------
def cli_record(
    command: Sequence[str],
    params: Mapping[str, Any] | None = None,
    *,
    store: str | None = None,
    env: str | None = None,
    rerun_of: str | None = None,
    command_path: str | None = None,
) -> dict[str, Any]:
    """Kedro's ``cli`` shape for a ``sessionlens run``: ``params.params`` holds the run
    parameters (where :func:`sessionlens.record.params_of` finds them), ``args`` the command.

    ``command_path`` defaults to the equivalent ``sessionlens run`` line, so a session launched
    from the app records how to launch it again from a shell.
    """

    params = dict(params or {})
    if command_path is None:
        line = ["sessionlens", "run"]
        if store:
            line += ["--store", store]
        if params:
            line += ["--params", format_params(params)]
        if env:
            line += ["--env", env]
        if rerun_of:
            line += ["--rerun-of", rerun_of]
        command_path = shlex.join([*line, "--", *command])
    return {
        "command_name": "run",
        "command_path": command_path,
        "args": list(command),
        "params": {"store": store, "env": env, "rerun_of": rerun_of, "params": params},
    }
