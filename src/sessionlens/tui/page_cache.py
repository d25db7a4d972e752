"""Pages of session summaries for the session table, and the arithmetic of which rows it fetches.

The table knows only how many rows its query has; the rows themselves come from
``store.list_summaries(query, offset, limit)`` a page at a time and are kept here, least recently
used dropped first, so neither memory nor the cost of a screen grows with the store (1k or 1M
sessions alike). Which pages a screen needs and which rows a reload fetches are plain functions
beside the cache. Nothing here imports Textual or Rich: it is tested without an app.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from sessionlens.record import SessionSummary

#: rows per page: one store call fills one page
PAGE_SIZE = 100
#: pages kept (4,000 rows): enough for any screen and the pages either side of it
MAX_PAGES = 40
#: how far (rows) a reload looks for the selected session when sessions were added
MAX_SHIFT = 500


class PageCache:
    """Pages of summaries for one query generation, least recently used dropped first."""

    def __init__(self, page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES) -> None:
        self.page_size = page_size
        self.max_pages = max_pages
        self._pages: OrderedDict[int, list[SessionSummary]] = OrderedDict()

    def clear(self) -> None:
        self._pages.clear()

    def __contains__(self, page: int) -> bool:
        return page in self._pages

    def __len__(self) -> int:
        return len(self._pages)

    def page_of(self, index: int) -> int:
        """The page that holds row ``index``."""
        return index // self.page_size

    def row(self, index: int) -> SessionSummary | None:
        """Row ``index``, or None when its page is not here (or ends before it). Reading a row
        makes its page the most recently used."""
        page, slot = divmod(index, self.page_size)
        rows = self._pages.get(page)
        if rows is None:
            return None
        self._pages.move_to_end(page)
        return rows[slot] if slot < len(rows) else None

    def put(self, page: int, rows: list[SessionSummary], keep: range = range(0)) -> None:
        """Keep ``rows`` as page ``page``; beyond ``max_pages``, drop the least recently used
        pages that are not in ``keep`` (the pages on screen)."""
        self._pages[page] = rows
        self._pages.move_to_end(page)
        for old in list(self._pages):
            if len(self._pages) <= self.max_pages:
                break
            if old not in keep:
                del self._pages[old]

    def put_rows(self, offset: int, rows: list[SessionSummary]) -> None:
        """Store rows fetched from a page-aligned ``offset`` as whole pages."""
        size = self.page_size
        for start in range(0, len(rows), size):
            self.put((offset + start) // size, rows[start : start + size])
        if not rows:
            self.put(offset // size, [])

    def find(self, session_id: str) -> int | None:
        """The row index of a session among the pages kept, or None."""
        for page, rows in self._pages.items():
            for slot, row in enumerate(rows):
                if row.session_id == session_id:
                    return page * self.page_size + slot
        return None


def visible_pages(top: int, height: int, page_size: int = PAGE_SIZE) -> range:
    """The pages a screen of ``height`` lines from row ``top`` shows, and one page either side
    (fetched before they are scrolled to)."""
    return range(max(0, top // page_size - 1), (top + height) // page_size + 2)


def rows_added(count: int, old_count: int) -> int:
    """How far down the selected session can have moved since the last load: by as many rows as
    were added, at most :data:`MAX_SHIFT` (the reload looks no further)."""
    return min(max(0, count - old_count), MAX_SHIFT)


def reload_window(anchor: int, added: int, page_size: int = PAGE_SIZE) -> tuple[int, int]:
    """``(offset, limit)`` of the rows a reload fetches to find the selected session again: from
    the page before the old cursor row ``anchor`` to the page after the one it can have moved
    to, ``added`` rows further down. The offset is page-aligned (see ``PageCache.put_rows``)."""
    first_page = max(0, anchor // page_size - 1)
    last_page = (anchor + added) // page_size + 1
    return first_page * page_size, (last_page - first_page + 1) * page_size


def index_of(rows: Sequence[SessionSummary], session_id: str | None) -> int | None:
    """Where a session is in ``rows``, or None (also for no session)."""
    if session_id is None:
        return None
    return next((i for i, row in enumerate(rows) if row.session_id == session_id), None)


def reload_cursor(
    rows: Sequence[SessionSummary],
    offset: int,
    keep_id: str | None,
    anchor: int,
    count: int,
) -> int:
    """The cursor row after a reload that fetched ``rows`` from ``offset``: on the session that
    was selected (``keep_id``) if it is among them, else on the same row number as before
    (``anchor``, within the ``count`` rows); row 0 when nothing was selected."""
    if keep_id is None:
        return 0
    found = index_of(rows, keep_id)
    return offset + found if found is not None else min(anchor, max(0, count - 1))
