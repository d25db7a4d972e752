"""``Y``: what to copy of the selected session: its sha, its command, or the whole record as
JSON. Dismissed with the choice's key, or None."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from sessionlens.tui.text import literal

#: choice -> what the menu says
CHOICES = {
    "sha": "Commit sha (s)",
    "command": "Command line (c)",
    "record": "Whole record as JSON (j)",
}


class CopyMenuScreen(ModalScreen[str | None]):
    """Arrows and enter, or the letter of a choice; ``escape`` cancels."""

    CSS_PATH = "copy_menu.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "choose('sha')", "Sha", tooltip="Copy the commit sha"),
        Binding("c", "choose('command')", "Command", tooltip="Copy the command line"),
        Binding("j", "choose('record')", "JSON", tooltip="Copy the whole record as JSON"),
        Binding("escape", "choose('')", "Cancel", tooltip="Copy nothing"),
    ]

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id

    def compose(self) -> ComposeResult:
        with Vertical(id="copy-dialog"):
            yield Static(literal(f"Copy from {self.session_id}"), id="copy-heading")
            yield OptionList(*(Option(text, id=key) for key, text in CHOICES.items()))

    def action_choose(self, key: str) -> None:
        self.dismiss(key or None)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
