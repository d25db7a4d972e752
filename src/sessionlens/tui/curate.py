"""The sessions screen's curating keys: ``n`` title and notes, ``b`` bookmark, ``a`` archive,
``D`` delete, ``y``/``Y`` copy, ``E`` export.

The app browses read-only. A write re-opens the store read-write for that one action (as the
run manager does for a run), writes, closes it, and reloads the table; a store another tool
wrote (kedro-viz's file) is adopted only after the user agreed, once per store, and a store that
cannot be written (a read-only file) says so in a notice. Store calls run in workers; dialogs
show store text literally.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.binding import Binding, BindingType
from textual.worker import get_current_worker

from sessionlens.errors import SessionLensError
from sessionlens.record import SessionSummary, command_line, to_jsonable
from sessionlens.stores.base import SessionStore
from sessionlens.tui.screens.confirm import ConfirmScreen
from sessionlens.tui.workers import error_message
from sessionlens.wording import plural

if TYPE_CHECKING:
    from sessionlens.tui.screens.sessions import SessionsScreen

CURATE_BINDINGS: list[BindingType] = [
    # not in the footer, which keeps quit, keys and open in view at 150 columns: in the help
    # screen (?) and the command palette
    Binding(
        "n",
        "edit_notes",
        "Notes",
        show=False,
        tooltip="Edit the selected session's title and notes",
    ),
    Binding(
        "b",
        "toggle_bookmark",
        "Bookmark",
        show=False,
        tooltip="Bookmark the selected session, or unmark",
    ),
    Binding(
        "a",
        "archive",
        "Archive",
        show=False,
        tooltip="Archive the selected (or marked) sessions; archived ones are brought back",
    ),
    Binding(
        "D",
        "delete",
        "Delete",
        show=False,
        tooltip="Delete the selected (or marked) sessions, after asking",
    ),
    Binding("y", "copy_id", "Copy id", show=False, tooltip="Copy the selected session's id"),
    Binding(
        "Y",
        "copy_menu",
        "Copy…",
        show=False,
        tooltip="Copy the selected session's sha, command or whole record (JSON)",
    ),
    Binding("E", "export_csv", "Export", show=False, tooltip="Export the filtered table to CSV"),
]

#: the table's columns as ``sessionlens.export`` names them (the mark column is not data)
_NOT_EXPORTED = {"mark"}


def _count(n: int) -> str:
    return plural(n, "session")


class CurateActions:
    """Mixed into :class:`SessionsScreen` (its ``table``, ``client``, ``runs``, marks)."""

    # -- which sessions ----------------------------------------------------------------------
    def _selected_or_notify(self: SessionsScreen, what: str) -> SessionSummary | None:
        summary = self.table.selected
        if summary is None:
            self.notify(f"Select a session to {what}", severity="warning")
        return summary

    def _targets(self: SessionsScreen) -> list[str]:
        """The marked sessions, else the selected one."""
        if self.marked_ids:
            return list(self.marked_ids)
        selected = self.table.selected
        return [] if selected is None else [selected.session_id]

    # -- writing -----------------------------------------------------------------------------
    async def _may_write(self: SessionsScreen) -> bool:
        """Ask once per store before the first write to a store another tool wrote."""
        question = await asyncio.to_thread(self.runs.adoption_question)
        if question is None:
            return True
        question = question.replace("Recording this run", "Saving this change")
        dialog = ConfirmScreen("Write to this store?", question, "Write", "Cancel")
        if await self.app.push_screen_wait(dialog):
            self.runs.adopt()
            return True
        self.notify("Nothing was written", markup=False)
        return False

    async def _write(
        self: SessionsScreen, action: Callable[[SessionStore], Any], done: str
    ) -> bool:
        """``action`` on a read-write handle of the browsed store (opened and closed in a
        thread), then the table reloaded; a notice says what happened or why not."""
        if not await self._may_write():
            return False
        store = self.client.store
        try:
            await asyncio.to_thread(_with_writable, store, action)
        except (SessionLensError, OSError) as exc:
            self.notify(
                f"Nothing was written: {error_message(exc)}",
                title="Cannot write to this store",
                severity="error",
                markup=False,
            )
            return False
        self.table.reload()
        self.notify(done, markup=False)
        return True

    # -- n, b --------------------------------------------------------------------------------
    def action_edit_notes(self: SessionsScreen) -> None:
        summary = self._selected_or_notify("edit its title and notes")
        if summary is not None:
            self._edit_notes(summary)

    def _edit_notes(self: SessionsScreen, summary: SessionSummary) -> None:
        async def run() -> None:
            from sessionlens.tui.screens.notes import NotesScreen

            if not self.client.has_user_details:
                self.notify("This store keeps no title or notes", severity="warning")
                return
            dialog = NotesScreen(summary.session_id, summary.title, summary.notes)
            edited = await self.app.push_screen_wait(dialog)
            if edited is None or edited == (None, None):
                return
            title, notes = edited
            await self._write(
                lambda s: s.set_user_details(summary.session_id, title=title, notes=notes),
                f"Saved the title and notes of {summary.session_id}",
            )

        self.run_worker(run(), group="curate", exclusive=True)

    def action_toggle_bookmark(self: SessionsScreen) -> None:
        summary = self._selected_or_notify("bookmark")
        if summary is None:
            return
        on = not summary.bookmark
        done = f"{'Bookmarked' if on else 'Removed the bookmark of'} {summary.session_id}"

        async def run() -> None:
            if not self.client.has_user_details:
                self.notify("This store keeps no bookmarks", severity="warning")
                return
            await self._write(lambda s: s.set_user_details(summary.session_id, bookmark=on), done)

        self.run_worker(run(), group="curate", exclusive=True)

    # -- a, D --------------------------------------------------------------------------------
    def action_archive(self: SessionsScreen) -> None:
        """Archive the sessions (or bring them back when the selected one is archived)."""
        ids = self._targets()
        if not ids:
            self.notify("Select a session to archive", severity="warning")
            return
        selected = self.table.selected
        archived = not (selected is not None and selected.archived and len(ids) == 1)
        if archived:
            done = f"Archived {_count(len(ids))}: hidden unless the filter says archived:yes"
        else:
            done = f"Brought back {_count(len(ids))} from the archive"

        async def run() -> None:
            if await self._write(lambda s: s.archive(ids, archived=archived), done):
                self._forget_marks(ids)

        self.run_worker(run(), group="curate", exclusive=True)

    def action_delete(self: SessionsScreen) -> None:
        ids = self._targets()
        if not ids:
            self.notify("Select a session to delete", severity="warning")
            return

        async def run() -> None:
            named = "\n".join(f"  {sid}" for sid in ids[:12])
            if len(ids) > 12:
                named += f"\n  … and {len(ids) - 12} more"
            question = (
                f"Delete {_count(len(ids))} for good: the record, its log, and its title, notes "
                f"and bookmark. This cannot be undone.\n\n{named}"
            )
            dialog = ConfirmScreen(f"Delete {_count(len(ids))}?", question, "Delete", "Keep")
            if not await self.app.push_screen_wait(dialog):
                return
            if await self._write(lambda s: s.delete(ids), f"Deleted {_count(len(ids))}"):
                self._forget_marks(ids)

        self.run_worker(run(), group="curate", exclusive=True)

    def _forget_marks(self: SessionsScreen, ids: list[str]) -> None:
        self.marked_ids = [sid for sid in self.marked_ids if sid not in ids]
        self.table.marked = set(self.marked_ids)

    # -- y, Y --------------------------------------------------------------------------------
    def action_copy_id(self: SessionsScreen) -> None:
        summary = self._selected_or_notify("copy its id")
        if summary is not None:
            self.app.copy_to_clipboard(summary.session_id)
            self.notify(f"Copied the session id {summary.session_id}", markup=False)

    def action_copy_menu(self: SessionsScreen) -> None:
        summary = self._selected_or_notify("copy from it")
        if summary is None:
            return

        async def run() -> None:
            from sessionlens.tui.screens.copy_menu import CopyMenuScreen

            choice = await self.app.push_screen_wait(CopyMenuScreen(summary.session_id))
            if choice is None:
                return
            try:
                text, what = await asyncio.to_thread(
                    _copied_text, self.client.store, summary, choice
                )
            except SessionLensError as exc:
                self.notify(f"Nothing copied: {error_message(exc)}", severity="error", markup=False)
                return
            if text is None:
                self.notify(f"Session {summary.session_id} has no {what}", severity="warning")
                return
            self.app.copy_to_clipboard(text)
            shown = text if len(text) <= 60 and "\n" not in text else f"{len(text):,} characters"
            self.notify(f"Copied the {what}: {shown}", markup=False)

        self.run_worker(run(), group="curate", exclusive=True)

    # -- E -----------------------------------------------------------------------------------
    def action_export_csv(self: SessionsScreen) -> None:
        query = self.current_query
        columns = [c.name for c in self.table.columns if c.name not in _NOT_EXPORTED]

        async def run() -> None:
            from sessionlens.tui.screens.export_path import ExportPathScreen

            path = await self.app.push_screen_wait(ExportPathScreen(self.table.count))
            if path is None:
                return
            if await asyncio.to_thread(path.exists):
                question = f"{path}\n\nexists already. Replace it with the export?"
                dialog = ConfirmScreen("Replace the file?", question, "Replace", "Cancel")
                if not await self.app.push_screen_wait(dialog):
                    self.notify("Nothing was exported", markup=False)
                    return
            self._export(path, query, columns)

        self.run_worker(run(), group="curate", exclusive=True)

    def _export(self: SessionsScreen, path: Path, query: Any, columns: list[str]) -> None:
        """Every matching row (not only those loaded), written in a thread worker."""
        store = self.client.store

        def export() -> None:
            worker = get_current_worker()
            try:
                n = _write_csv(path, store, query, columns, lambda: worker.is_cancelled)
            except (SessionLensError, OSError) as exc:
                self.app.call_from_thread(
                    self.notify,
                    f"Nothing was exported: {error_message(exc)}",
                    severity="error",
                    markup=False,
                )
                return
            if n is not None:
                self.app.call_from_thread(
                    self.notify, f"Exported {_count(n)} to {path}", markup=False
                )

        self.run_worker(export, thread=True, group="export", exclusive=True)


def _with_writable(store: SessionStore, action: Callable[[SessionStore], Any]) -> Any:
    """``action`` on a read-write handle of ``store``: ``store`` itself when it is writable
    (or lives only in memory), else a new handle closed at once."""
    if not store.capabilities.persistent or not store.read_only:
        return action(store)
    from sessionlens.stores import open_store

    with open_store(store.location, read_only=False, tracking=False) as writable:
        return action(writable)


def _copied_text(
    store: SessionStore, summary: SessionSummary, choice: str
) -> tuple[str | None, str]:
    """The text of a ``Y`` choice (None when the session has none) and what it is called."""
    if choice == "sha":
        return summary.commit_sha, "commit sha"
    record = store.get(summary.session_id)
    if choice == "command":
        return command_line(record), "command line"
    return json.dumps(to_jsonable(record), indent=2, ensure_ascii=False), "record (JSON)"


def _write_csv(
    path: Path,
    store: SessionStore,
    query: Any,
    columns: list[str],
    cancelled: Callable[[], bool],
) -> int | None:
    """The CSV written to a temporary file beside ``path``, renamed onto it when whole; the
    number of rows, None when cancelled (nothing is left behind)."""
    from sessionlens.export import iter_matching, write_csv

    rows = []
    for summary in iter_matching(store, query):
        if cancelled():
            return None
        rows.append(summary)
    with _temporary_beside(path) as out:
        write_csv(out, rows, columns)
    return len(rows)


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Any]:
    """A text file that replaces ``path`` only once written whole."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
