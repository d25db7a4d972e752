"""``?``: the keys of the screen underneath, read from its bindings (never out of date)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from sessionlens.tui.keys import PALETTE_KEY, key_actions

WHERE = {
    "SessionLensApp": "everywhere",
    "SessionsScreen": "sessions",
    "SessionTable": "session table",
    "DetailScreen": "detail",
    "LogView": "log viewer",
    "CompareScreen": "compare",
}


class HelpScreen(ModalScreen[None]):
    """A modal list of keys for ``screen``."""

    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss_help", "Close", show=True),
    ]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.target = screen

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold", padding=(0, 2))
        table.add_column("Key", no_wrap=True, style="bold")
        table.add_column("Action")
        table.add_column("Where", style="dim", no_wrap=True)
        for item in key_actions(self.target, self.app):
            where = WHERE.get(type(item.node).__name__, type(item.node).__name__)
            table.add_row(Text(" / ".join(item.keys)), Text(item.title), Text(where))
        table.add_row(
            Text(self.app.get_key_display(Binding(PALETTE_KEY, ""))),
            Text("Command palette: every action by name"),
            Text("everywhere"),
        )
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Keys"
            body.border_subtitle = "escape to close"
            yield Static(table)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
