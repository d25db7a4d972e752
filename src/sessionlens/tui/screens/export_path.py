"""``E``: where to write the filtered table as CSV. Dismissed with the path typed (``~``
expanded, relative to the current folder), or None. Overwriting is asked by the caller."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from sessionlens.tui.text import literal


class ExportPathScreen(ModalScreen[Path | None]):
    """One input; ``enter`` exports, ``escape`` cancels."""

    CSS_PATH = "export_path.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Export nothing"),
    ]

    def __init__(self, count: int, default: str = "sessions.csv") -> None:
        super().__init__()
        self.count = count
        self.default = default

    def compose(self) -> ComposeResult:
        noun = "session" if self.count == 1 else "sessions"
        with Vertical(id="export-dialog"):
            yield Static(
                literal(f"Export the {self.count:,} {noun} of the filter to CSV"),
                id="export-heading",
            )
            yield Input(self.default, id="export-path", placeholder="file.csv")
            yield Static("enter: export   esc: cancel", id="export-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.notify("Type the path of the CSV file", severity="warning")
            return
        self.dismiss(Path(text).expanduser().absolute())

    def action_cancel(self) -> None:
        self.dismiss(None)
