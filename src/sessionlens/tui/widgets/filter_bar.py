"""The filter box: free text and field terms of ``query.py``, applied as you type.

A term that cannot be understood is shown next to the box (one line, e.g. "did you mean
status?"); the table keeps the last good query. Dates are read in the time zone the table shows
(the app's clock), relative ones (``since:2h``) from the moment the text was typed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from sessionlens.query import Query, QueryError, parse_query
from sessionlens.tui.css import css_beside
from sessionlens.tui.text import Clock, literal
from sessionlens.tui.widgets.safe_input import SafeInput

PLACEHOLDER = (
    "/ to filter: words  branch:main  status:failed  dirty:yes  param.scale:3  since:2026-11-01"
)


class FilterBar(Horizontal):
    """An ``Input`` that posts a parsed query on every change, and an inline error label."""

    DEFAULT_CSS = css_beside(__file__)

    class Changed(Message):
        """The filter text now parses to ``query`` (default sort)."""

        def __init__(self, bar: FilterBar, query: Query) -> None:
            super().__init__()
            self.bar = bar
            self.query = query

        @property
        def control(self) -> FilterBar:
            return self.bar

    class Done(Message):
        """Enter or escape in the box: hand the focus back."""

    def __init__(self, clock: Clock | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock or Clock()

    def compose(self) -> ComposeResult:
        yield SafeInput(placeholder=PLACEHOLDER, id="filter-input", select_on_focus=False)
        yield Static(id="filter-error")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    def on_mount(self) -> None:
        #: the parse error shown, None when the text parses
        self.error: str | None = None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        label = self.query_one("#filter-error", Static)
        try:
            query = parse_query(event.value, now=self.clock.now(), tz=self.clock.tz)
        except QueryError as error:
            self.error = str(error)
            label.update(literal(self.error))
            label.display = True
            self.add_class("-invalid")
            return
        self.error = None
        label.display = False
        self.remove_class("-invalid")
        self.post_message(self.Changed(self, query))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Done())

    def key_escape(self) -> None:
        self.post_message(self.Done())
