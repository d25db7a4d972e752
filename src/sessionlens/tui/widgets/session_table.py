"""A virtual session table: it renders the visible rows and fetches pages of them on demand.

Textual's ``DataTable`` keeps every row (12 s to show 100k). This table knows only the row count
and a small LRU cache of pages from ``store.list_summaries(query, offset, limit)``
(:mod:`sessionlens.tui.page_cache`); the cost of a screen does not grow with the store. Store
calls run in thread workers and post results back. What each column shows is decided by its
formatter in :mod:`sessionlens.tui.widgets.session_columns`; this widget lays out and paints.

A store call that fails (a locked or corrupt file, a store gone away) never leaves the table
"loading" for ever: the table posts ``LoadFailed`` with the one-line reason (its screen shows
it), and rows of a page that could not be fetched say so in place of the ``…`` placeholder until
the next load.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sessionlens.query import Query, parse_query
from sessionlens.record import SessionSummary
from sessionlens.tui.client import StoreClient
from sessionlens.tui.css import css_beside
from sessionlens.tui.page_cache import (
    PageCache,
    index_of,
    reload_cursor,
    reload_window,
    rows_added,
    visible_pages,
)
from sessionlens.tui.palette import foreground
from sessionlens.tui.text import Clock
from sessionlens.tui.widgets.session_columns import (
    Column,
    column_at,
    column_widths,
    fit,
    fit_columns,
    shown_columns,
    with_metrics,
)
from sessionlens.tui.workers import error_message

#: pages at the end of a counted query read ahead (``end``, then a few ``pageup``)
END_PAGES = 3
#: matches counted first, shown as "10,000+" while all of them are counted
COUNT_CAP = 10_000

#: what every line of a frame shares: base style, content width, columns, their widths
_Frame = tuple[Style, int, tuple[Column, ...], list[int]]


class SessionTable(ScrollView, can_focus=True):
    """Sessions of one query, newest first by default; only visible rows are rendered."""

    DEFAULT_CSS = css_beside(__file__)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "session-table--header",
        "session-table--header-sorted",
        "session-table--cursor",
        "session-table--cursor-blurred",
        "session-table--muted",
        "session-table--mark",
        "session-table--dirty",
        "session-table--placeholder",
        "session-table--status-running",
        "session-table--status-success",
        "session-table--status-failed",
        "session-table--status-interrupted",
        "session-table--status-completed",
        "session-table--status-lost",
        "session-table--status-unreadable",
        "session-table--problem",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, tooltip="Previous session"),
        Binding("down,j", "cursor_down", "Down", show=False, tooltip="Next session"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip="Up one screen of sessions"),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip="Down one screen"),
        Binding("home,g", "first", "First", show=False, tooltip="First session"),
        Binding("end,G", "last", "Last", show=False, tooltip="Last session"),
        Binding(
            "enter", "activate", "Details", tooltip="Open the selected session: record, JSON, log"
        ),
    ]

    class Highlighted(Message):
        """The cursor moved, or the row under it was loaded or changed."""

        def __init__(self, table: SessionTable, index: int, summary: SessionSummary | None):
            super().__init__()
            self.table = table
            self.index = index
            self.summary = summary

        @property
        def control(self) -> SessionTable:
            return self.table

    class Activated(Message):
        """Enter or a double click on a row."""

        def __init__(self, table: SessionTable, summary: SessionSummary) -> None:
            super().__init__()
            self.table = table
            self.summary = summary

        @property
        def control(self) -> SessionTable:
            return self.table

    class Loaded(Message):
        """A query's rows are shown: ``count`` rows match (at least, while ``exact`` is False:
        the count follows in another ``Loaded``), ``total`` in the store (None: not counted
        yet)."""

        def __init__(
            self, table: SessionTable, count: int, total: int | None, *, exact: bool = True
        ) -> None:
            super().__init__()
            self.table = table
            self.count = count
            self.total = total
            self.exact = exact

        @property
        def control(self) -> SessionTable:
            return self.table

    class LoadFailed(Message):
        """The store failed to give the rows or the count of the query: ``message`` says why
        (one line). The rows shown, if any, are those loaded before."""

        def __init__(self, table: SessionTable, message: str) -> None:
            super().__init__()
            self.table = table
            self.message = message

        @property
        def control(self) -> SessionTable:
            return self.table

    class SortRequested(Message):
        """A column header was clicked."""

        def __init__(self, table: SessionTable, sort: str) -> None:
            super().__init__()
            self.table = table
            self.sort = sort

        @property
        def control(self) -> SessionTable:
            return self.table

    class _QueryLoaded(Message):
        def __init__(
            self,
            generation: int,
            query: Query,
            count: int,
            total: int | None,
            offset: int,
            rows: list[SessionSummary],
            cursor: int,
            shift: int,
            exact: bool,
            *,
            reload: bool = False,
        ) -> None:
            super().__init__()
            self.reload = reload
            self.generation = generation
            self.query = query
            self.count = count
            self.total = total
            self.offset = offset
            self.rows = rows
            self.cursor = cursor
            self.shift = shift
            self.exact = exact

    class _Counted(Message):
        def __init__(self, generation: int, count: int, total: int, exact: bool) -> None:
            super().__init__()
            self.generation = generation
            self.count = count
            self.total = total
            self.exact = exact

    class _PageLoaded(Message):
        def __init__(self, generation: int, page: int, rows: list[SessionSummary]) -> None:
            super().__init__()
            self.generation = generation
            self.page = page
            self.rows = rows

    class _Failed(Message):
        """A worker's store call raised: ``pages`` None for the query load or its count."""

        def __init__(self, generation: int, pages: list[int] | None, message: str) -> None:
            super().__init__()
            self.generation = generation
            self.pages = pages
            self.message = message

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.clock = clock or Clock()
        self.client: StoreClient | None = None
        self.shown_query: Query = parse_query("")
        #: a query asked for with show_query whose rows have not come yet
        self._new_query: Query | None = None
        self.count = 0
        self.total = 0
        self.cursor_row = 0
        self.show_title = False
        #: metrics shown as columns (after the fixed columns, before command and params)
        self.metric_columns: tuple[str, ...] = ()
        self._columns = shown_columns(False)
        #: session ids marked for compare
        self.marked: set[str] = set()
        self.pages = PageCache()
        self._generation = 0
        self._loaded_generation = 0
        self._counting = False
        self._total_known = False
        self._pending: set[int] = set()
        #: pages whose fetch failed in this generation -> why (shown in their rows)
        self._failed: dict[int, str] = {}
        #: why the last query load failed (None: it did not)
        self.error: str | None = None
        self._fetch_scheduled = False
        self._last_highlight: tuple[int, str | None] | None = None
        self._frame: _Frame | None = None
        #: column names config.toml asks for (None: all)
        self.config_columns: tuple[str, ...] | None = None
        self._styles: dict[str, Style] = {}

    # -- public API -------------------------------------------------------------------
    @property
    def columns(self) -> tuple[Column, ...]:
        """The table's columns: config.toml's ``columns`` when set (the mark and the metric
        columns always show)."""
        visible = self.config_columns
        if not visible:
            return self._columns
        return tuple(
            c
            for c in self._columns
            if c.name in visible or c.name == "mark" or c.name.startswith("metric.")
        )

    def set_metric_columns(self, names: list[str] | tuple[str, ...]) -> None:
        """Show a column per metric in ``names`` (in that order), none when empty."""
        self.metric_columns = tuple(names)
        self._columns = with_metrics(shown_columns(self.show_title), self.metric_columns)
        self._update_virtual_size()
        self.refresh()

    @property
    def selected(self) -> SessionSummary | None:
        return self.pages.row(self.cursor_row) if self.count else None

    @property
    def is_loading(self) -> bool:
        """A query is being loaded (the rows shown are still those of the previous one) or
        its rows are shown and it is still being counted."""
        return self._generation != self._loaded_generation or self._counting

    def bind_client(self, client: StoreClient) -> None:
        """Show another store: forget everything cached for the previous one."""
        self.client = client
        self.show_title = client.has_user_details
        self._columns = with_metrics(shown_columns(self.show_title), self.metric_columns)
        self._new_query = None
        self.pages.clear()
        self._pending.clear()
        self._failed.clear()
        self.error = None
        self.count = self.total = self.cursor_row = 0
        self._total_known = False
        self.marked.clear()
        self._last_highlight = None
        self._update_virtual_size()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def show_query(self, query: Query) -> None:
        """Load ``query`` from the first row; the old rows stay until the new ones arrive."""
        self._new_query = query
        self._start_load(query, reload=False)

    def reload(self) -> None:
        """Load the same query again (the store changed), keeping the selected session. A new
        query still loading is loaded again instead: reloading the one shown would drop it
        (the reload abandons its load)."""
        if self._new_query is not None:
            self._start_load(self._new_query, reload=False)
        else:
            self._start_load(self.shown_query, reload=True)

    def move_cursor(self, index: int) -> None:
        if not self.count:
            return
        index = max(0, min(index, self.count - 1))
        old = self.cursor_row
        self.cursor_row = index
        self.refresh_line(old + 1)
        self.refresh_line(index + 1)
        self._scroll_cursor_into_view()
        self._post_highlight()

    def refresh_row_of(self, session_id: str) -> None:
        index = self.pages.find(session_id)
        if index is not None:
            self.refresh_line(index + 1)

    # -- loading ----------------------------------------------------------------------
    def _start_load(self, query: Query, *, reload: bool) -> None:
        if self.client is None:
            return
        self.client.interrupt()  # what the last query still reads or counts is not wanted
        self._generation += 1
        selected = self.selected
        visible_row = self.cursor_row - int(self.scroll_y)
        self._load(
            self.client,
            self._generation,
            query,
            selected.session_id if selected else None,
            self.cursor_row if reload else 0,
            self.count if reload else None,
            visible_row,
            self.total if self._total_known and not reload else None,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="session-table-load")
    def _load(
        self,
        client: StoreClient,
        generation: int,
        query: Query,
        keep_id: str | None,
        anchor: int,
        old_count: int | None,
        visible_row: int,
        total: int | None,
    ) -> None:
        """Rows and count of ``query``. A new query (``old_count`` None) shows its first rows
        before anything is counted: counting can scan the store, the first page need not. Then
        the whole store is counted if ``total`` is None, the matches up to :data:`COUNT_CAP`
        (``10,000+``), then all of them. A reload (the store changed) fetches the window around
        the old cursor, to find the selected session again."""
        try:
            page_size = self.pages.page_size
            if old_count is None:
                limit = 2 * page_size
                rows = client.list_summaries(query, 0, limit)
                found = index_of(rows, keep_id)
                exact = len(rows) < limit
                self.post_message(
                    self._QueryLoaded(
                        generation, query, len(rows), total, 0, rows, found or 0, 0, exact
                    )
                )
                if total is None:
                    total = client.count(None)
                    if exact:
                        self.post_message(self._Counted(generation, len(rows), total, True))
                if not exact:
                    if query.is_empty:
                        count = total
                    else:
                        capped = client.count_at_most(query, COUNT_CAP + 1)
                        if capped > COUNT_CAP:
                            self.post_message(self._Counted(generation, COUNT_CAP, total, False))
                        count = client.count(query) if capped > COUNT_CAP else capped
                    self.post_message(self._Counted(generation, count, total, True))
                return
            if total is None:
                total = client.count(None)
            count = total if query.is_empty else client.count(query)
            # the selected session can only have moved down by as many rows as were added
            offset, limit = reload_window(anchor, rows_added(count, old_count), page_size)
            rows = client.list_summaries(query, offset, limit)
            cursor = reload_cursor(rows, offset, keep_id, anchor, count)
            shift = cursor - anchor if keep_id is not None and visible_row >= 0 else 0
            self.post_message(
                self._QueryLoaded(
                    generation, query, count, total, offset, rows, cursor, shift, True, reload=True
                )
            )
        except Exception as exc:  # the table says why instead of loading for ever
            self.post_message(self._Failed(generation, None, error_message(exc)))

    def on_session_table__query_loaded(self, message: _QueryLoaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        was_at_top = self.scroll_y == 0
        cursor, shift = message.cursor, message.shift
        selected = self.selected
        if message.reload and selected is not None:  # moved on while it was loading? keep that
            found = index_of(message.rows, selected.session_id)
            if found is not None:
                cursor = message.offset + found
                shift = cursor - self.cursor_row if shift else 0
        self._loaded_generation = message.generation
        self._counting = not message.exact
        self.shown_query = message.query
        self._new_query = None
        self.count = message.count
        if message.total is not None:  # else counted next (``_Counted``)
            self.total = message.total
        self._total_known = message.total is not None
        self.pages.clear()
        self._pending.clear()
        self._failed.clear()
        self.error = None
        self.pages.put_rows(message.offset, message.rows)
        self.cursor_row = max(0, min(cursor, self.count - 1))
        self._update_virtual_size()
        if shift and not (was_at_top and self._cursor_visible(0)):
            # keep the selected row where it was on screen
            self.scroll_to(y=self.scroll_y + shift, animate=False, immediate=True)
        self._scroll_cursor_into_view()
        self.refresh()
        total = self.total if self._total_known else None
        self.post_message(self.Loaded(self, self.count, total, exact=message.exact))
        if message.exact:
            self._prefetch_end()
        self._last_highlight = None
        self._post_highlight()

    def on_session_table__counted(self, message: _Counted) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._counting = not message.exact
        self.count = message.count
        self.total = message.total
        self._total_known = True
        self.cursor_row = max(0, min(self.cursor_row, self.count - 1))
        self._update_virtual_size()
        self.refresh()
        self.post_message(self.Loaded(self, self.count, self.total, exact=message.exact))
        if message.exact:
            self._prefetch_end()

    def on_session_table__failed(self, message: _Failed) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        if message.pages is None:  # the query (or its count): stop "loading", say why
            self._loaded_generation = message.generation
            self._counting = False
            self.error = message.message
        else:
            for page in message.pages:
                self._pending.discard(page)
                self._failed[page] = message.message
        self.refresh()
        self.post_message(self.LoadFailed(self, message.message))

    def _want(self, page: int) -> None:
        if (
            page in self._pending
            or page in self._failed
            or self._generation != self._loaded_generation
        ):
            return
        self._pending.add(page)
        if not self._fetch_scheduled:
            self._fetch_scheduled = True
            self.call_later(self._fetch_wanted)

    def _fetch_wanted(self) -> None:
        self._fetch_scheduled = False
        wanted = sorted(p for p in self._pending if p not in self.pages)
        if wanted and self.client is not None:
            self._fetch_pages(self.client, self._generation, self.shown_query, wanted)

    def _visible_pages(self) -> range:
        return visible_pages(int(self.scroll_y), self.size.height, self.pages.page_size)

    @work(thread=True, exit_on_error=False, group="session-table-pages")
    def _fetch_pages(
        self, client: StoreClient, generation: int, query: Query, pages: list[int]
    ) -> None:
        size = self.pages.page_size
        for n, page in enumerate(pages):
            if generation != self._generation or page not in self._visible_pages():
                # scrolled past it already: forget it, it is asked for again when needed
                self.post_message(self._PageLoaded(generation, page, []))
                continue
            try:
                rows = client.list_summaries(query, page * size, size)
            except Exception as exc:  # its rows say why instead of "…" for ever
                self.post_message(self._Failed(generation, pages[n:], error_message(exc)))
                return
            self.post_message(self._PageLoaded(generation, page, rows))

    def _prefetch_end(self) -> None:
        """Once counted, read the last pages ahead: ``end`` and the ``pageup``s after it then
        paint at once, even at the bottom of a million sessions."""
        last = self.pages.page_of(max(0, self.count - 1))
        wanted = range(max(0, last - END_PAGES + 1), last + 1)
        missing = [page for page in wanted if page not in self.pages]
        if self.client is not None and missing:
            self._fetch_end(self.client, self._generation, self.shown_query, missing[0])

    @work(thread=True, exclusive=True, exit_on_error=False, group="session-table-end")
    def _fetch_end(self, client: StoreClient, generation: int, query: Query, first: int) -> None:
        size = self.pages.page_size
        try:
            rows = client.list_summaries(query, first * size, self.count - first * size)
        except Exception:  # only ahead of need: the pages are asked for again when shown
            return
        for start in range(0, len(rows), size):
            self.post_message(
                self._PageLoaded(generation, first + start // size, rows[start : start + size])
            )

    def on_session_table__page_loaded(self, message: _PageLoaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._pending.discard(message.page)
        if not message.rows and message.page * self.pages.page_size < self.count:
            return  # skipped, not empty
        self.pages.put(message.page, message.rows, keep=self._visible_pages())
        self.refresh()
        self._post_highlight()

    # -- cursor and scrolling ------------------------------------------------------------
    @property
    def _visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _cursor_visible(self, top: int) -> bool:
        return top <= self.cursor_row < top + self._visible_rows

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + self._visible_rows:
            self.scroll_to(
                y=self.cursor_row - self._visible_rows + 1, animate=False, immediate=True
            )

    def _post_highlight(self) -> None:
        summary = self.selected
        key = (self.cursor_row, summary.session_id if summary else None)
        if key != self._last_highlight:
            self._last_highlight = key
            self.post_message(self.Highlighted(self, self.cursor_row, summary))

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._visible_rows)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._visible_rows)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(self.count - 1)

    def action_activate(self) -> None:
        summary = self.selected
        if summary is not None:
            self.post_message(self.Activated(self, summary))

    def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x + int(self.scroll_x))
            if column is not None and column.sort:
                self.post_message(self.SortRequested(self, column.sort))
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < self.count:
            self.move_cursor(index)
            if event.chain >= 2:
                self.action_activate()

    def on_focus(self) -> None:
        self.refresh_line(self.cursor_row + 1)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor_row + 1)

    def on_resize(self) -> None:
        self._update_virtual_size()

    # -- rendering --------------------------------------------------------------------
    @property
    def shown(self) -> tuple[Column, ...]:
        """The columns that fit the table's width now (low-priority ones dropped)."""
        return fit_columns(self.columns, self.scrollable_content_region.width)

    def _widths(self) -> list[int]:
        return column_widths(self.shown, self.scrollable_content_region.width)

    def _update_virtual_size(self) -> None:
        widths = self._widths()
        self.virtual_size = Size(sum(widths) + len(widths), self.count + 1)

    def _column_at(self, x: int) -> Column | None:
        return column_at(self.shown, self._widths(), x)

    def _style(self, name: str) -> Style:
        """A component style: backgrounds (header, cursor) whole, colours without background
        so they lie on whatever row they are drawn on."""
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"session-table--{name}")
            if name not in ("header", "cursor", "cursor-blurred"):
                style = foreground(style)
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _new_frame(self) -> _Frame:
        """What every line of a frame shares: base style, content width, columns, widths."""
        width = self.scrollable_content_region.width
        columns = fit_columns(self.columns, width)
        self._frame = (self.rich_style, width, columns, column_widths(columns, width))
        return self._frame

    def render_lines(self, crop: Region) -> list[Strip]:
        # computed once per frame rather than per line
        self._new_frame()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        base, width, columns, widths = self._frame or self._new_frame()
        if y == 0:
            strip = self._header_strip(base, columns, widths)
        elif y == 1 and not self.count and self.error:
            text = fit(f"Could not load sessions: {self.error}", width)
            strip = Strip([Segment(text, base + self._style("problem"))])
        else:
            index = scroll_y + y - 1
            strip = (
                self._row_strip(index, base, columns, widths)
                if index < self.count
                else Strip.blank(0)
            )
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header_strip(self, base: Style, columns: tuple[Column, ...], widths: list[int]) -> Strip:
        header = base + self._style("header")
        sorted_style = header + self._style("header-sorted")
        segments = []
        for column, width in zip(columns, widths, strict=True):
            label = column.label
            style = header
            if column.sort and column.sort == self.shown_query.sort:
                arrow = "▼" if self.shown_query.descending else "▲"
                if len(label) + 2 > width:
                    label = label[: max(0, width - 3)] + "…"
                label = f"{label} {arrow}" if column.align == "left" else f"{arrow} {label}"
                style = sorted_style
            segments.append(Segment(fit(label, width, column.align) + " ", style))
        return Strip(segments)

    def _row_strip(
        self, index: int, base: Style, columns: tuple[Column, ...], widths: list[int]
    ) -> Strip:
        summary = self.pages.row(index)
        cursor = None
        if index == self.cursor_row:
            cursor = self._style("cursor" if self.has_focus else "cursor-blurred")
        if summary is None:
            page = self.pages.page_of(index)
            failed = self._failed.get(page)
            if failed is None:
                self._want(page)
            shown = "\u2026" if failed is None else f"Could not load these sessions: {failed}"
            text = fit(shown, sum(widths) + len(widths))
            style = base + self._style("placeholder" if failed is None else "problem")
            return Strip([Segment(text, style + cursor if cursor else style)])
        gap = Segment(" ", base + cursor if cursor else base)
        segments = []
        for column, width in zip(columns, widths, strict=True):
            text, style_name = column.cell(summary, self)
            style = base + self._style(style_name) if style_name else base
            if cursor:
                style += cursor
            segments.append(Segment(fit(text, width, column.align), style))
            segments.append(gap)
        return Strip(segments)
