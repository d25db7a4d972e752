"""sessionlens for Kedro projects: session stores, run hooks, tracking datasets
(``MetricsDataset``, ``JSONDataset``) and the ``kedro sessions`` command.

A Kedro project names a store in its ``settings.py``::

    from sessionlens.kedro import SQLiteStore
    SESSION_STORE_CLASS = SQLiteStore
    SESSION_STORE_ARGS = {"path": str(Path(__file__).parents[2] / ".viz")}

Kedro is an optional extra (``sessionlens[kedro]``): nothing here imports it until a store or the
hooks are used, so ``import sessionlens.kedro`` works without it. With Kedro installed, the store
classes subclass Kedro's ``BaseSessionStore`` (Kedro's settings validation requires it); without
it they keep the same contract on a plain mapping. The hooks and the ``kedro sessions`` command
are registered through Kedro's plugin entry points, so installing the extra is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionlens.kedro.datasets import JSONDataset, MetricsDataset
    from sessionlens.kedro.hooks import SessionLensHooks
    from sessionlens.kedro.store import (
        KedroSessionStore,
        PostgresStore,
        ShelveStore,
        SQLiteStore,
        live_store,
    )

__all__ = [
    "JSONDataset",
    "KedroSessionStore",
    "MetricsDataset",
    "PostgresStore",
    "SQLiteStore",
    "SessionLensHooks",
    "ShelveStore",
    "live_store",
]

_LAZY = {
    "KedroSessionStore": "sessionlens.kedro.store",
    "SQLiteStore": "sessionlens.kedro.store",
    "PostgresStore": "sessionlens.kedro.store",
    "ShelveStore": "sessionlens.kedro.store",
    "live_store": "sessionlens.kedro.store",
    "SessionLensHooks": "sessionlens.kedro.hooks",
    "MetricsDataset": "sessionlens.kedro.datasets",
    "JSONDataset": "sessionlens.kedro.datasets",
}


def __getattr__(name: str) -> Any:
    """Import the store and hook modules (and so Kedro) only when they are first used."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'sessionlens.kedro' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
