"""Kedro hooks that record a run's status, timing, git details, node timings and tracked
metrics in its sessionlens store.

Registered through the ``kedro.hooks`` entry point (``sessionlens.kedro.hooks:hooks``), so a
project that installed ``sessionlens[kedro]`` needs no ``HOOKS`` line; a project can turn them
off with ``DISABLE_HOOKS_FOR_PLUGINS = ("sessionlens",)``.

The hooks never store anything themselves: they find the session's store by the run's session
id (:func:`sessionlens.kedro.store.live_store`) and do nothing when the project's
``SESSION_STORE_CLASS`` is not a sessionlens store (or for Kedro 1.x's ``KedroServiceSession``,
which has no store). A failure to save is logged, never raised into the user's pipeline.

Per node (``before_node_run``/``after_node_run``/``on_node_error``) the record's ``nodes`` list
gets its status, start time, duration and a failing node's error, saved at each node's end.
What a *tracking* dataset saves (``after_dataset_saved``; kedro-datasets' ``tracking.*`` or
``sessionlens.kedro.MetricsDataset``/``JSONDataset``, told apart by
:func:`sessionlens.tracking.dataset_kind`) goes to ``metrics`` (numbers, flattened with dots) or
``tracking`` (JSON data, by dataset name).

``ParallelRunner``: in Kedro 1.x each node and its node and dataset hooks run in a worker
process, which has no live store (:func:`live_store` refuses a store inherited by a fork), so
no node timings are recorded there; the metrics and JSON data are read back in the main process
at the pipeline's end from the files the tracking datasets wrote under the run's version.
``SequentialRunner`` and ``ThreadRunner`` run the hooks in the main process: everything is
recorded as it happens (the store's lock serialises the threads).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sessionlens.kedro.store import KedroSessionStore, live_store
from sessionlens.results import metric_values
from sessionlens.tracking import dataset_kind

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


@contextlib.contextmanager
def _quiet(hook: str) -> Iterator[None]:
    """A hook never raises into the user's pipeline: a failure is logged and the run goes on.
    (Not a decorator: pluggy reads the hook's own signature.)"""
    try:
        yield
    except Exception as exc:
        logger.warning("sessionlens: %s failed: %s", hook, exc)


def dataset_type(catalog: Any, name: str) -> str | None:
    """The class path of catalog entry ``name`` (Kedro 1.x ``get_type``, else the dataset)."""
    get_type = getattr(catalog, "get_type", None)
    if callable(get_type):
        found = get_type(name)
        return str(found) if found else None
    dataset = None
    for getter in ("_get_dataset", "__getitem__"):  # Kedro 0.18/0.19
        method = getattr(catalog, getter, None)
        if callable(method):
            try:
                dataset = method(name)
                break
            except Exception:
                continue
    if dataset is None:
        return None
    return f"{type(dataset).__module__}.{type(dataset).__qualname__}"


class _Run:
    """The pipeline run in progress in this process: its store, catalog and which of the
    catalog's entries are tracking datasets (``metrics``/``json``), found once each."""

    def __init__(self, store: KedroSessionStore, catalog: Any, run_id: str) -> None:
        self.store = store
        self.catalog = catalog
        self.run_id = run_id
        self.kinds: dict[str, str | None] = {}
        self.saved: set[str] = set()

    def kind(self, name: str) -> str | None:
        if name not in self.kinds:
            type_name = dataset_type(self.catalog, name) if self.catalog is not None else None
            self.kinds[name] = dataset_kind(type_name) if type_name else None
        return self.kinds[name]

    def keep(self, name: str, data: Any) -> None:
        kind = self.kind(name)
        if kind == "metrics" and isinstance(data, Mapping):
            self.saved.add(name)
            self.store.add_metrics(metric_values(data))
        elif kind == "json":
            self.saved.add(name)
            self.store.add_tracking(name, data)

    def read_back_unseen(self) -> None:
        """Tracking files this run wrote whose save no hook here saw (ParallelRunner workers)."""
        names = self.catalog.keys() if hasattr(self.catalog, "keys") else []
        for name in list(names):
            if name in self.saved or self.kind(name) not in ("metrics", "json"):
                continue
            filepath = getattr(_dataset(self.catalog, name), "_filepath", None)
            if filepath is None:
                continue
            path = Path(str(filepath)) / self.run_id / Path(str(filepath)).name
            try:
                if not path.is_file() or path.stat().st_size > 1024 * 1024:
                    continue
                self.keep(name, json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue


def _dataset(catalog: Any, name: str) -> Any:
    for getter in ("get", "_get_dataset"):
        method = getattr(catalog, getter, None)
        if callable(method):
            try:
                return method(name)
            except Exception:
                continue
    return None


class SessionLensHooks:
    """Pipeline, node and dataset hooks; each takes only the arguments it needs (pluggy
    allows a subset; node hooks take no run id, named ``session_id`` before Kedro 1.0 and
    ``run_id`` since). Kedro runs one pipeline at a time in a process: node and dataset hooks
    belong to the run started last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._run: _Run | None = None
        #: the catalog Kedro made for each session id (its save version), latest few
        self._catalogs: dict[str, Any] = {}

    def _store(self, run_params: Mapping[str, Any]) -> KedroSessionStore | None:
        return live_store(_session_id(run_params))

    def _current(self, run_id: str | None = None) -> _Run | None:
        with self._lock:
            run = self._run
        if run is None or (run_id is not None and str(run_id) != run.run_id):
            return None
        if live_store(run.run_id) is not run.store:  # forked worker, or a closed session
            return None
        return run

    @hook_impl
    def after_catalog_created(self, catalog: Any, save_version: str) -> None:
        """Kept to tell tracking datasets apart (dataset hooks get only a dataset's name)."""
        with self._lock:
            self._catalogs[str(save_version)] = catalog
            while len(self._catalogs) > 4:
                del self._catalogs[next(iter(self._catalogs))]

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        with _quiet("before_pipeline_run"):
            store = self._store(run_params)
            with self._lock:
                catalog = self._catalogs.get(str(_session_id(run_params)))
                self._run = None if store is None else _Run(store, catalog, store.session_id)
            if store is not None:
                store.start_run(run_params)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        with _quiet("after_pipeline_run"):
            self._end_run(run_params, "success")

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        with _quiet("on_pipeline_error"):
            self._end_run(run_params, "failed", error)

    def _end_run(
        self, run_params: Mapping[str, Any], status: str, error: Exception | None = None
    ) -> None:
        run = self._current(_session_id(run_params))
        if run is not None:
            try:
                run.read_back_unseen()
            except Exception as exc:
                logger.warning("sessionlens: could not read the tracking files back: %s", exc)
        with self._lock:
            self._run = None
        store = self._store(run_params)
        if store is not None:
            store.finish_run(status, error)

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        with _quiet("before_node_run"):
            run = self._current()
            if run is not None:
                run.store.record_node(node.name, "running")

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        with _quiet("after_node_run"):
            run = self._current()
            if run is not None:
                run.store.record_node(node.name, "success")

    @hook_impl
    def on_node_error(self, error: Exception, node: Any) -> None:
        with _quiet("on_node_error"):
            run = self._current()
            if run is not None:
                run.store.record_node(node.name, "failed", error)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        with _quiet("after_dataset_saved"):
            run = self._current()
            if run is not None:
                run.keep(dataset_name, data)


#: The instance Kedro registers (hooks are registered as instances).
hooks = SessionLensHooks()
