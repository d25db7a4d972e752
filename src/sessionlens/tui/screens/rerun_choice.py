"""``e`` on a session recorded at another commit (or with a dirty tree): which code to run.

A re-run at HEAD would silently run other code than the session did, so the dialog says which
commit each choice runs: HEAD in the project as it is (``h``), or the session's source commit
checked out in a temporary git worktree, removed after the run (``w``). Dismissed with
``"head"``, ``"worktree"`` or None (cancel).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from sessionlens.tui.text import literal
from sessionlens.worktree import HEAD, WORKTREE, RerunPlan


class RerunChoiceScreen(ModalScreen[str | None]):
    """Run HEAD or the source commit; the worktree choice is offered only when it exists."""

    CSS_PATH = "rerun_choice.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "choose('head')", "HEAD", tooltip="Run the project as it is now"),
        Binding("w", "choose('worktree')", "Source", tooltip="Run the session's own commit"),
        Binding("escape", "choose('')", "Cancel", tooltip="Do not run"),
    ]

    def __init__(self, session_id: str, plan: RerunPlan) -> None:
        super().__init__()
        self.session_id = session_id
        self.plan = plan

    def compose(self) -> ComposeResult:
        plan = self.plan
        head = plan.head.commit_sha if plan.head is not None else "HEAD"
        with Vertical(id="rerun-dialog"):
            yield Static(literal(f"Re-run {self.session_id}: which code?"), id="rerun-title")
            yield Static(literal(plan.describe(), keep_newlines=True), id="rerun-message")
            with Horizontal(id="rerun-buttons"):
                if plan.available and plan.source is not None:
                    yield Button(
                        f"Run {plan.source[:7]} in a temp worktree (w)",
                        variant="primary",
                        id="rerun-worktree",
                    )
                yield Button(f"Run HEAD {head} (h)", variant="warning", id="rerun-head")
                yield Button("Cancel (esc)", id="rerun-cancel")

    def on_mount(self) -> None:
        first = self.query("#rerun-worktree") or self.query("#rerun-head")
        first.first(Button).focus()

    def action_choose(self, choice: str) -> None:
        if choice == WORKTREE and not self.plan.available:
            return
        self.dismiss(choice or None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        choices = {"rerun-worktree": WORKTREE, "rerun-head": HEAD}
        self.dismiss(choices.get(event.button.id or ""))
