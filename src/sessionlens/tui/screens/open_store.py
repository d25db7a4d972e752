"""``o``: open another store. The detected kind is shown as you type, before anything is opened.

Detection and opening run in workers (a network or a big folder must not freeze the app); a bad
path is a one-line notice and the current store stays open. Stores are opened read-only.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from sessionlens.stores.base import SessionStore
from sessionlens.tui.palette import PALETTE_CLASSES, palette_of
from sessionlens.tui.text import literal
from sessionlens.tui.widgets.path_input import PathInput
from sessionlens.tui.workers import ReportsWorkerErrors, error_message

HINT = "A project folder, an SQLite file, a folder of Kedro shelve stores, or a URI"


class OpenStoreScreen(ReportsWorkerErrors, ModalScreen[SessionStore | None]):
    """Dismissed with the opened store, or None when cancelled."""

    CSS_PATH = "open_store.tcss"
    COMPONENT_CLASSES: ClassVar[set[str]] = PALETTE_CLASSES
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without opening a store"),
    ]

    class Detected(Message):
        def __init__(self, value: str, kind: str | None, detail: str) -> None:
            super().__init__()
            self.value = value
            self.kind = kind
            self.detail = detail

    class OpenFailed(Message):
        def __init__(self, value: str, error: str) -> None:
            super().__init__()
            self.value = value
            self.error = error

    class Opened(Message):
        def __init__(self, store: SessionStore) -> None:
            super().__init__()
            self.store = store

    def __init__(self, value: str = "") -> None:
        super().__init__()
        self.initial = value
        #: what the last detection found: (kind or None, location or error)
        self.detected: tuple[str | None, str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="open-dialog") as dialog:
            dialog.border_title = "Open a session store"
            dialog.border_subtitle = "enter: open · tab: complete · escape: cancel"
            yield PathInput(
                self.initial,
                placeholder="path or URI (sqlite:///x.db, shelve:///dir)",
                id="store-path",
            )
            yield Static(Text(HINT), id="store-kind")

    def on_mount(self) -> None:
        self.query_one(PathInput).focus()
        if self.initial:
            self._detect(self.initial)

    @on(Input.Changed, "#store-path")
    def _changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self._detect(event.value)
        else:
            self.detected = None
            self.query_one("#store-kind", Static).update(Text(HINT))

    @work(thread=True, exclusive=True, exit_on_error=False, group="detect")
    def _detect(self, value: str) -> None:
        from sessionlens.stores import detect_store

        try:
            spec = detect_store(value)
        except Exception as error:  # any failure is a message here, never a crash
            self.post_message(self.Detected(value, None, error_message(error)))
        else:
            self.post_message(self.Detected(value, spec.kind, spec.location))

    def on_open_store_screen_detected(self, message: Detected) -> None:
        if message.value != self.query_one(PathInput).value:
            return  # an older answer
        self.detected = (message.kind, message.detail)
        palette = palette_of(self)
        text = Text()
        if message.kind is None:
            text.append("✗ ", palette["error"])
            text.append_text(literal(message.detail))
        else:
            text.append("✓ ", palette["success"])
            text.append(message.kind, palette["label"])
            text.append(" store at ")
            text.append_text(literal(message.detail))
        self.query_one("#store-kind", Static).update(text)

    @on(Input.Submitted, "#store-path")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._open(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def _open(self, value: str) -> None:
        from sessionlens.stores import open_store

        try:
            store = open_store(value, read_only=True)
        except Exception as error:
            self.post_message(self.OpenFailed(value, error_message(error)))
        else:
            self.post_message(self.Opened(store))

    def on_open_store_screen_open_failed(self, message: OpenFailed) -> None:
        self.app.notify(message.error, title="Cannot open store", severity="error", markup=False)

    def on_open_store_screen_opened(self, message: Opened) -> None:
        self.dismiss(message.store)

    def action_cancel(self) -> None:
        self.dismiss(None)
