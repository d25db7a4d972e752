"""One line on top of the sessions screen: which store, how many sessions match, the order."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from sessionlens.query import Query
from sessionlens.tui.css import css_beside
from sessionlens.tui.palette import PALETTE_CLASSES, palette_of
from sessionlens.tui.text import literal


class StoreHeader(Static):
    """``sessionlens  sqlite /path/session_store.db  8 of 10 sessions  sorted by started ▼``."""

    DEFAULT_CSS = css_beside(__file__)
    COMPONENT_CLASSES: ClassVar[set[str]] = PALETTE_CLASSES

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind = ""
        self.location = ""
        self.count: int | None = None
        self.total: int | None = None
        self.shown_query: Query | None = None
        self.exact = True
        #: why the sessions could not be loaded (shown instead of "loading…")
        self.error: str | None = None
        #: (done, total) while the store's index is being built
        self.indexing: tuple[int, int] | None = None
        #: a filter or sort waits for that index
        self.waiting = False

    def set_store(self, kind: str, location: str) -> None:
        self.kind, self.location = kind, location
        self.count = self.total = None
        self.error = None
        self._redraw()

    def set_indexing(self, progress: tuple[int, int] | None, *, waiting: bool = False) -> None:
        """Sessions indexed so far and how many (None: not indexing); ``waiting``: the rows
        asked for (a filter, a sort) come once it is done."""
        self.indexing, self.waiting = progress, waiting
        self._redraw()

    def set_error(self, message: str) -> None:
        """The store failed to list or count: say so (until counts arrive again)."""
        self.error = message
        self._redraw()

    def set_counts(
        self, count: int, total: int | None, query: Query, *, exact: bool = True
    ) -> None:
        """``exact`` False: ``count`` is a lower bound while the store counts the rest;
        ``total`` None: the store is not counted yet."""
        self.count, self.total, self.shown_query = count, total, query
        self.exact = exact
        self.error = None
        self._redraw()

    def on_mount(self) -> None:
        self._redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.call_later(self._redraw)

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        palette = palette_of(self)
        text = Text()
        text.append("sessionlens ", palette["label"])
        text.append_text(literal(self.kind, palette["accent"]))
        if self.location.rstrip(":") != self.kind:
            text.append(" ")
            text.append_text(literal(self.location))
        text.append("  ")
        if self.error is not None:
            text.append("could not load: ", palette["error"])
            text.append_text(literal(self.error, palette["error"]))
        elif self.count is None:
            text.append("loading…", palette["muted"])
        else:
            counted = f"{self.count:,}" if self.exact else f"{self.count:,}+"
            filtered = self.shown_query is not None and not self.shown_query.is_empty
            if filtered and self.total is not None:
                counted += f" of {self.total:,}"
            one = self.exact and self.count == 1 and not (filtered and self.total is not None)
            text.append(f"{counted} {'session' if one else 'sessions'}", palette["label"])
            if self.shown_query is not None:
                arrow = "▼" if self.shown_query.descending else "▲"
                text.append(f"  sorted by {self.shown_query.sort} {arrow}", palette["muted"])
        if self.indexing is not None:
            done, total = self.indexing
            share = done * 100 // total if total else 100
            what = "filter waits for the index" if self.waiting else "indexing for filters"
            text.append(f"  {what} {share}%", palette["accent"])
        self.update(text)
