"""``R``: edit the command and its parameters before a new session runs them.

Also shown by ``r`` when the project has no configured command. The command is typed as a shell
line (split with ``shlex``, never run through a shell); parameters use Kedro's ``--params``
syntax (``scale=3,label=x``). They reach the child as ``SESSIONLENS_PARAMS`` (JSON) and, for
``kedro run``, as ``--params``, exactly as ``sessionlens run --params`` does.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from sessionlens.params import format_params, parse_params
from sessionlens.run_request import RunRequest
from sessionlens.tui.text import literal
from sessionlens.tui.widgets.safe_input import SafeInput
from sessionlens.tui.workers import error_message


def parse_request(command_text: str, params_text: str) -> RunRequest:
    """The form's two lines as a request; ``ValueError`` with a one-line reason."""
    try:
        command = shlex.split(command_text)
    except ValueError as exc:
        raise ValueError(f"command: {exc}") from None
    if not command:
        raise ValueError("type a command to run, e.g. python train.py")
    try:
        params = parse_params(params_text)
    except Exception as exc:
        raise ValueError(error_message(exc)) from None
    return RunRequest(command, params)


class RunFormScreen(ModalScreen[RunRequest | None]):
    """A dialog: command and parameters of the next run; dismissed with the request or None."""

    CSS_PATH = "run_form.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without running"),
    ]

    def __init__(
        self,
        request: RunRequest | None = None,
        *,
        project_root: Path | None = None,
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.request = request or RunRequest([])
        self.project_root = project_root
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="run-form"):
            yield Static("Run a new session", id="run-form-title")
            if self.project_root is not None:
                yield Static(literal(f"in {self.project_root}"), id="run-form-project")
            if self.note:
                yield Static(literal(self.note), id="run-form-note")
            yield Label("Command")
            yield SafeInput(
                shlex.join(self.request.command),
                placeholder="python train.py --epochs 3",
                id="run-form-command",
            )
            yield Label("Parameters")
            yield SafeInput(
                format_params(self.request.params),
                placeholder="scale=3,label=baseline",
                id="run-form-params",
            )
            yield Static(
                "key=value items, comma-separated: the child gets them as SESSIONLENS_PARAMS "
                "(JSON), and kedro run as --params",
                id="run-form-help",
            )
            yield Static("", id="run-form-error")
            with Horizontal(id="run-form-buttons"):
                yield Button("Run", variant="primary", id="run-form-run")
                yield Button("Cancel", id="run-form-cancel")

    def on_mount(self) -> None:
        self.query_one("#run-form-command", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#run-form-run")
    def submit(self) -> None:
        command = self.query_one("#run-form-command", Input).value
        params = self.query_one("#run-form-params", Input).value
        try:
            request = parse_request(command, params)
        except ValueError as exc:
            self.query_one("#run-form-error", Static).update(literal(str(exc)))
            return
        self.dismiss(
            RunRequest(request.command, request.params, self.request.rerun_of, self.request.env)
        )

    @on(Button.Pressed, "#run-form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
