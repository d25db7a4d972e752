"""The store backends, one entry per kind: how a ``--store`` URI names it and how it is opened.

:func:`sessionlens.stores.open_store` and :mod:`~.locate` choose a backend here and nowhere
else. A new backend is one module holding a :class:`~.base.SessionStore`
subclass, plus its entry in :data:`BACKENDS`. A backend's module is imported only when a store of
its kind is opened: ``sessionlens list`` on an SQLite file never imports the shelve reader, and
nothing here imports more than the standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

from sessionlens.errors import StoreError

if TYPE_CHECKING:
    from sessionlens.stores.base import SessionStore


class Backend(NamedTuple):
    """One kind of store (a NamedTuple: no ``dataclasses`` on the ``run`` path)."""

    kind: str
    #: the ``SessionStore`` subclass as ``"module:Class"``, imported when a store of this kind
    #: is opened; None while the backend is planned but not written yet
    store_class: str | None
    #: URI schemes that name this kind; one ending in ``*`` names every scheme it begins
    schemes: tuple[str, ...]
    #: what the rest of such a URI names: a ``file`` or a ``folder`` (a path, checked and made
    #: absolute), an ``address`` (a server: the URI itself, its password removed), or
    #: ``nothing`` (the store lives in this process)
    names: Literal["file", "folder", "address", "nothing"]
    #: how a person writes such a URI, for messages (None: not offered yet)
    example: str | None
    #: the backend's name in sentences
    title: str

    def has_scheme(self, scheme: str) -> bool:
        scheme = scheme.lower()
        return any(
            scheme.startswith(s[:-1]) if s.endswith("*") else scheme == s for s in self.schemes
        )


#: Every backend, in the order messages list them.
BACKENDS: dict[str, Backend] = {
    b.kind: b
    for b in (
        Backend(
            kind="sqlite",
            store_class="sessionlens.stores.sqlite_store:SQLiteSessionStore",
            schemes=("sqlite",),
            names="file",
            example="sqlite:///path.db",
            title="SQLite",
        ),
        Backend(
            kind="shelve",
            store_class="sessionlens.stores.shelve_store:ShelveSessionStore",
            schemes=("shelve",),
            names="folder",
            example="shelve:///folder",
            title="shelve",
        ),
        Backend(
            kind="memory",
            store_class="sessionlens.stores.memory:MemoryStore",
            schemes=("memory",),
            names="nothing",
            example="memory:",
            title="in-memory",
        ),
        Backend(
            kind="postgresql",
            store_class="sessionlens.stores.postgres_store:PostgresSessionStore",
            schemes=("postgres*",),
            names="address",
            example="postgresql://user@host/db",
            title="PostgreSQL",
        ),
    )
}


def for_scheme(scheme: str) -> Backend | None:
    """The backend a URI scheme names, or None."""
    return next((b for b in BACKENDS.values() if b.has_scheme(scheme)), None)


def uri_examples() -> str:
    """The URI forms people may write, for messages (``sqlite:///path.db, shelve:///folder``...)."""
    return ", ".join(b.example for b in BACKENDS.values() if b.example)


def open_backend(
    kind: str,
    location: str,
    *,
    read_only: bool,
    create: bool,
    busy_timeout: float | None,
) -> SessionStore:
    """Open the store of ``kind`` at ``location`` (as :mod:`~.locate` found it), importing its
    backend now; a one-line ``StoreError`` for a backend that is not available yet."""
    found = BACKENDS.get(kind)
    if found is None:  # pragma: no cover - locate only names registered kinds
        raise StoreError(f"{location}: unknown store kind {kind!r}")
    if found.store_class is None:
        raise StoreError(
            f"{location}: the {found.title} store is not available yet; "
            "use an SQLite store (sqlite:///path/to/sessions.db) for now"
        )
    module, _, name = found.store_class.partition(":")
    # the import statement's machinery (not importlib.import_module): -X importtime lists it
    store_class: type[SessionStore] = getattr(__import__(module, fromlist=[name]), name)
    return store_class.open(location, read_only=read_only, create=create, busy_timeout=busy_timeout)
