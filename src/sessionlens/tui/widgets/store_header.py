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

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        """The count and the sort always show: a long store path is cut on the left (its file
        name stays), then dropped, when the line is narrower than all of it."""
        if not self.is_mounted:
            return
        palette = palette_of(self)
        tail = Text("  ")
        if self.error is not None:
            tail.append("could not load: ", palette["error"])
            tail.append_text(literal(self.error, palette["error"]))
        elif self.count is None:
            tail.append("loading…", palette["muted"])
        else:
            counted = f"{self.count:,}" if self.exact else f"{self.count:,}+"
            filtered = self.shown_query is not None and not self.shown_query.is_empty
            if filtered and self.total is not None:
                counted += f" of {self.total:,}"
            one = self.exact and self.count == 1 and not (filtered and self.total is not None)
            tail.append(f"{counted} {'session' if one else 'sessions'}", palette["label"])
            if self.shown_query is not None:
                arrow = "▼" if self.shown_query.descending else "▲"
                tail.append(f"  sorted by {self.shown_query.sort} {arrow}", palette["muted"])
        if self.indexing is not None:
            done, total = self.indexing
            share = done * 100 // total if total else 100
            what = "filter waits for the index" if self.waiting else "indexing for filters"
            tail.append(f"  {what} {share}%", palette["accent"])
        width = self.content_region.width or 10_000
        text = Text()
        name = "sessionlens "
        kind = literal(self.kind, palette["accent"])
        room = width - tail.cell_len - kind.cell_len
        if room >= len(name) + 8:
            text.append(name, palette["label"])
            room -= len(name)
        text.append_text(kind)
        if self.location.rstrip(":") != self.kind and room > 6:
            location = literal(self.location)
            if location.cell_len + 1 > room:
                location = Text("…") + location[location.cell_len - (room - 3) :]
            text.append(" ")
            text.append_text(location)
        text.append_text(tail)
        self.update(text)
