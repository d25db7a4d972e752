"""``n``: edit a session's title and notes in a modal dialog, prefilled with what is stored.

Dismissed with ``(title, notes)``, each None when left as it was (so a stored text holding
control characters, shown here made visible, is never rewritten by merely saving), or None when
cancelled. What the user types is returned exactly as typed.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from sessionlens.tui.text import literal, visible

Edited = tuple[str | None, str | None]


class NotesScreen(ModalScreen[Edited | None]):
    """Title (one line) and notes (several); ``ctrl+s`` saves, ``escape`` cancels."""

    CSS_PATH = "notes.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", tooltip="Save the title and notes"),
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving"),
    ]

    def __init__(self, session_id: str, title: str | None, notes: str | None) -> None:
        super().__init__()
        self.session_id = session_id
        self.old_title, self.old_notes = title or "", notes or ""
        #: what the fields show at first (stored text with control characters made visible)
        self.shown_title = visible(self.old_title)
        self.shown_notes = visible(self.old_notes, keep_newlines=True)

    def compose(self) -> ComposeResult:
        with Vertical(id="notes-dialog"):
            yield Static(literal(f"Title and notes of {self.session_id}"), id="notes-heading")
            yield Label("Title")
            yield Input(self.shown_title, id="notes-title", placeholder="a short title")
            yield Label("Notes")
            yield TextArea(self.shown_notes, id="notes-text", soft_wrap=True, tab_behavior="focus")
            with Horizontal(id="notes-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="notes-save")
                yield Button("Cancel (esc)", id="notes-cancel")

    def on_mount(self) -> None:
        self.query_one("#notes-title", Input).focus()

    def edited(self) -> Edited:
        """The fields the user changed, as typed (None: unchanged)."""
        title = self.query_one("#notes-title", Input).value
        notes = self.query_one("#notes-text", TextArea).text
        return (
            None if title == self.shown_title else title,
            None if notes == self.shown_notes else notes,
        )

    def action_save(self) -> None:
        self.dismiss(self.edited())

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#notes-title")
    def _title_done(self) -> None:
        self.query_one("#notes-text", TextArea).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "notes-save":
            self.action_save()
        else:
            self.action_cancel()
