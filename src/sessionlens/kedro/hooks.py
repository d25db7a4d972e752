"""Kedro hooks that record a run's status, timing and git details in its sessionlens store.

Registered through the ``kedro.hooks`` entry point (``sessionlens.kedro.hooks:hooks``), so a
project that installed ``sessionlens[kedro]`` needs no ``HOOKS`` line; a project can turn them
off with ``DISABLE_HOOKS_FOR_PLUGINS = ("sessionlens",)``.

The hooks never store anything themselves: they find the session's store by the run's session
id (:func:`sessionlens.kedro.store.live_store`) and do nothing when the project's
``SESSION_STORE_CLASS`` is not a sessionlens store (or for Kedro 1.x's ``KedroServiceSession``,
which has no store). A failure to save is logged, never raised into the user's pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sessionlens.kedro.store import KedroSessionStore, live_store

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

try:
    from kedro.framework.hooks import hook_impl
except ImportError:  # pragma: no cover - without Kedro the hooks are plain methods

    def hook_impl(function: F) -> F:  # type: ignore[no-redef]
        return function


def _session_id(run_params: Mapping[str, Any]) -> str | None:
    """Kedro 1.x calls it ``run_id``; 0.17-0.19 call it ``session_id``."""
    value = run_params.get("run_id") or run_params.get("session_id")
    return str(value) if value else None


class SessionLensHooks:
    """Pipeline hooks; each takes only the arguments it needs (pluggy allows a subset)."""

    def _store(self, run_params: Mapping[str, Any]) -> KedroSessionStore | None:
        return live_store(_session_id(run_params))

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        store = self._store(run_params)
        if store is not None:
            store.start_run(run_params)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        store = self._store(run_params)
        if store is not None:
            store.finish_run("success")

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        store = self._store(run_params)
        if store is not None:
            store.finish_run("failed", error)


#: The instance Kedro registers (hooks are registered as instances).
hooks = SessionLensHooks()
