"""Session stores: one interface (``SessionStore``), several backends, one way to open them.

``open_store(spec)`` is what the CLI, the app and the runner call; ``detect_store(spec)`` says what
a spec names without opening it (the app shows the kind first). Spec forms and the places a
project's store is looked for are in :mod:`sessionlens.stores.locate`; the backends, and how each
is opened, in :mod:`sessionlens.stores.registry` (a new backend is one module and one line there):

==========  ================================================  =============================
kind        class                                             on disk
==========  ================================================  =============================
memory      :class:`~.memory.MemoryStore`                     nothing
shelve      :class:`~.shelve_store.ShelveSessionStore`        ``<dir>/<session_id>/store*``
sqlite      :class:`~.sqlite_store.SQLiteSessionStore`        one kedro-viz ``.db`` file
postgresql  :class:`~.postgres_store.PostgresSessionStore`    a database on a server
==========  ================================================  =============================

Browsing opens read-only (the default here) and never writes; pass ``read_only=False`` to record.
"""

from __future__ import annotations

import os

from sessionlens.stores import registry
from sessionlens.stores.base import LogChunk, SessionStore, StoreCapabilities
from sessionlens.stores.locate import (
    StoreSpec,
    default_store_path,
    detect_store,
    is_kedro_project,
)

__all__ = [
    "LogChunk",
    "SessionStore",
    "StoreCapabilities",
    "StoreSpec",
    "default_store_path",
    "detect_store",
    "is_kedro_project",
    "open_store",
]


def open_store(
    spec: str | os.PathLike[str] | StoreSpec,
    *,
    read_only: bool = True,
    create: bool = False,
    busy_timeout: float | None = None,
    tracking: bool = True,
) -> SessionStore:
    """Open the store ``spec`` names (URI, path or project folder; see ``locate``).

    ``create=True`` (with ``read_only=False``) makes the store when it does not exist yet: an
    SQLite file, or a folder for ``shelve:`` URIs. ``busy_timeout`` (seconds, SQLite only) is how
    long a write waits for another writer before a one-line ``StoreError``; default 30 s.
    ``tracking``: read the metrics of Kedro's tracking datasets when the store lies in a Kedro
    project (the run path says False: a run's own metrics are in its record).
    """
    create = create and not read_only
    found = detect_store(spec, create=create)
    store = registry.open_backend(
        found.kind,
        found.address or found.location,
        read_only=read_only,
        create=create,
        busy_timeout=busy_timeout,
    )
    if tracking and store.capabilities.persistent and "://" not in found.location:
        from sessionlens.tracking import TrackingSource

        store.tracking = TrackingSource.for_store(found.location)
    return store
