"""Kedro's experiment-tracking datasets, read from a project's catalog and the files they wrote.

kedro-viz 4-10 showed the metrics of every ``kedro run`` from *tracking datasets* in the catalog:
``tracking.MetricsDataset`` (numbers) and ``tracking.JSONDataset`` (any JSON), spelled
``...DataSet`` before Kedro 0.19, under any package prefix (``kedro_datasets.``,
``kedro.extras.datasets.``, ours ``sessionlens.kedro.``). ``kedro run`` saves them versioned with
the session id, so a session's file is ``<project>/<filepath>/<session_id>/<basename>``.
The files are read directly (the datasets themselves are write-only), never run as code.

A catalog entry that cannot be resolved here (``${...}`` templating, dataset factories, a remote
``filepath``) is reported once in ``problems``, and the others are read. A missing version is
"no data", not an error. Nothing here imports Kedro; PyYAML is imported only when a project with
a ``conf`` folder is read.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from sessionlens.results import Results, metric_values

#: dataset class names by what kedro-viz made of them
_METRIC_TYPES = ("MetricsDataset", "MetricsDataSet")
_JSON_TYPES = ("JSONDataset", "JSONDataSet")
_PLOT_TYPES = {
    "plotly": ("PlotlyDataset", "PlotlyDataSet", "JSONDataset", "JSONDataSet"),
    "matplotlib": ("MatplotlibWriter",),
}
#: a tracking file larger than this is not read (kedro-viz's are a few hundred bytes)
MAX_FILE_BYTES = 16 * 1024 * 1024
#: the environment ``kedro run`` uses when none is given
DEFAULT_ENV = "local"
_PATTERNS = ("catalog*.yml", "catalog*.yaml", "catalog*/**/*.yml", "catalog*/**/*.yaml")


class TrackedDataset(NamedTuple):
    """One tracking dataset of the catalog: ``kind`` is ``metrics``, ``json`` or ``plot``;
    ``folder`` the versioned ``<project>/<filepath>`` folder."""

    name: str
    kind: str
    folder: Path

    def file_of(self, session_id: str) -> str:
        """``<folder>/<session_id>/<folder's name>``, joined as text: indexing asks it for
        every session, and ``Path`` joins cost more than reading the small file."""
        return os.path.join(self.folder, session_id, self.folder.name)


def dataset_kind(type_name: str) -> str | None:
    """``metrics``, ``json`` or ``plot`` for a catalog ``type``, None for other datasets. Any
    package prefix is accepted; kedro-viz looks at the last module and the class."""
    parts = type_name.strip().split(".")
    if len(parts) < 2:
        return None
    cls = parts[-1]
    modules = parts[:-1]
    ours = modules[0] == "sessionlens" and "kedro" in modules  # sessionlens.kedro[.datasets]
    if "tracking" in modules[-2:] or ours:
        if cls in _METRIC_TYPES:
            return "metrics"
        if cls in _JSON_TYPES:
            return "json"
    for module, classes in _PLOT_TYPES.items():
        if module in modules[-2:] and cls in classes:
            return "plot"
    return None


class TrackingCatalog:
    """The tracking datasets of one project and environment, and what they hold per session.

    Threads: safe to share; the folder listings it caches are built under a lock."""

    def __init__(self, root: Path, datasets: list[TrackedDataset], problems: list[str]) -> None:
        self.root = root
        self.datasets = datasets
        self.problems = problems
        self._lock = threading.Lock()
        self._versions: dict[Path, frozenset[str]] = {}

    @classmethod
    def load(cls, root: str | os.PathLike[str], env: str | None = None) -> TrackingCatalog | None:
        """The catalog of the Kedro project at ``root`` (``conf/base`` then ``conf/<env>``, the
        later file winning per entry as in Kedro), None when it has no ``conf`` folder."""
        root = Path(root)
        conf = root / "conf"
        if not (conf / "base").is_dir():
            return None
        entries: dict[str, Any] = {}
        problems: list[str] = []
        for folder in (conf / "base", conf / (env or DEFAULT_ENV)):
            for path in _catalog_files(folder):
                entries.update(_read_yaml(path, root, problems))
        datasets = []
        for name, entry in entries.items():
            dataset = _tracked(root, name, entry, problems)
            if dataset is not None:
                datasets.append(dataset)
        return cls(root, datasets, problems)

    @property
    def tracks_anything(self) -> bool:
        return bool(self.datasets or self.problems)

    def _has_version(self, dataset: TrackedDataset, session_id: str) -> bool:
        """Whether ``<folder>/<session_id>`` exists, from one listing of the folder (indexing
        asks this for every session of the store)."""
        with self._lock:
            versions = self._versions.get(dataset.folder)
            if versions is None:
                try:
                    versions = frozenset(e.name for e in os.scandir(dataset.folder) if e.is_dir())
                except OSError:
                    versions = frozenset()
                self._versions[dataset.folder] = versions
        return session_id in versions

    def read(self, session_id: str, *, metrics_only: bool = False) -> Results:
        """What the session's tracking files hold. A metric name two metrics datasets share is
        kept as ``dataset.name`` for both. ``metrics_only``: skip JSON data and plots (indexing)."""
        per_dataset: list[tuple[str, dict[str, float]]] = []
        data: dict[str, Any] = {}
        plots: dict[str, str] = {}
        problems: list[str] = []
        for dataset in self.datasets:
            if metrics_only and dataset.kind != "metrics":
                continue
            if not self._has_version(dataset, session_id):
                continue
            path = dataset.file_of(session_id)
            if dataset.kind == "plot":
                if os.path.exists(path):
                    plots[dataset.name] = path
                continue
            value = _read_json(path, problems)
            if value is _MISSING:
                continue
            if dataset.kind == "metrics":
                if isinstance(value, Mapping):
                    per_dataset.append((dataset.name, metric_values(value)))
                else:
                    problems.append(f"{path}: holds {type(value).__name__}, not metrics")
            else:
                data[dataset.name] = value
        return Results(_named(per_dataset), data, plots, (), tuple(problems))


def _named(per_dataset: list[tuple[str, dict[str, float]]]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for _, metrics in per_dataset:
        for name in metrics:
            counts[name] = counts.get(name, 0) + 1
    merged: dict[str, float] = {}
    for dataset, metrics in per_dataset:
        for name, value in metrics.items():
            merged[f"{dataset}.{name}" if counts[name] > 1 else name] = value
    return merged


_MISSING = object()


def _read_json(path: str, problems: list[str]) -> Any:
    """The file's JSON, or ``_MISSING`` (a problem said why, unless the file is absent). Read
    with plain descriptors: a buffered file object per session cost a fifth of indexing."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return _MISSING
    except OSError as exc:
        problems.append(f"{path}: {exc.strerror or exc}")
        return _MISSING
    try:
        pieces = []
        size = 0
        while size <= MAX_FILE_BYTES:
            piece = os.read(fd, 65536)
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
        raw = b"".join(pieces)
    except OSError as exc:
        problems.append(f"{path}: {exc.strerror or exc}")
        return _MISSING
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        problems.append(f"{path}: larger than {MAX_FILE_BYTES:,} bytes, not read")
        return _MISSING
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        problems.append(f"{path}: not JSON ({exc})")
        return _MISSING


def _catalog_files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    seen: set[Path] = set()
    for pattern in _PATTERNS:
        for path in sorted(folder.glob(pattern)):
            if path.is_file() and path not in seen:
                seen.add(path)
                yield path


def _read_yaml(path: Path, root: Path, problems: list[str]) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            content = yaml.safe_load(fh)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        where = path.relative_to(root) if path.is_relative_to(root) else path
        problems.append(f"{where}: cannot be read ({' '.join(str(exc).split())})")
        return {}
    if not isinstance(content, Mapping):
        return {}
    # keys starting with "_" are YAML anchors in Kedro catalogs, not datasets
    return {str(k): v for k, v in content.items() if not str(k).startswith("_")}


def _tracked(root: Path, name: str, entry: Any, problems: list[str]) -> TrackedDataset | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("type"), str):
        return None
    kind = dataset_kind(entry["type"])
    if kind is None:
        return None
    if "{" in name:
        problems.append(f"catalog entry {name!r}: a dataset factory, not resolved here")
        return None
    filepath = entry.get("filepath")
    if not isinstance(filepath, str) or not filepath:
        problems.append(f"catalog entry {name!r}: no filepath")
        return None
    if "${" in filepath or "{" in filepath:
        problems.append(f"catalog entry {name!r}: filepath {filepath!r} uses templating")
        return None
    if "://" in filepath and not filepath.startswith("file://"):
        problems.append(f"catalog entry {name!r}: {filepath} is not on this machine")
        return None
    path = Path(filepath.removeprefix("file://")).expanduser()
    return TrackedDataset(name, kind, path if path.is_absolute() else root / path)


def project_of_store(location: str | os.PathLike[str]) -> Path | None:
    """The Kedro project a file store lives in: the nearest folder at or above it with a
    ``conf/base`` folder (``.viz/session_store.db``, ``data/session_store.db``, ``sessions/``)."""
    here = Path(location).expanduser().resolve()
    start = here if here.is_dir() else here.parent
    for folder in (start, *start.parents):
        if (folder / "conf" / "base").is_dir():
            return folder
        if (folder / ".git").exists():
            return None
    return None


def tracking_version(record: Mapping[str, Any], session_id: str) -> str | None:
    """The version a session's tracking files were saved under, None when it has none to read.

    ``kedro run`` saves them under its session id: the record's own for a session Kedro or
    kedro-viz recorded, ``kedro_session_id`` for a Kedro run that joined a ``sessionlens run``
    session. A session sessionlens ran otherwise (a ``run`` in its record) keeps its results in
    its record, and nothing is looked up for it (the run path never reads a catalog)."""
    kedro_id = record.get("kedro_session_id")
    if isinstance(kedro_id, str) and kedro_id:
        return kedro_id
    return None if isinstance(record.get("run"), Mapping) else session_id


class TrackingSource:
    """The tracking catalogs of one project, per Kedro environment, found and loaded when first
    asked (a store keeps one; it costs nothing until a record without results is read)."""

    def __init__(self, root: Path | None = None, *, store: str | os.PathLike[str] | None = None):
        self._root = root
        self._store = store
        self._lock = threading.Lock()
        self._catalogs: dict[str | None, TrackingCatalog | None] = {}

    @classmethod
    def for_store(cls, location: str | os.PathLike[str]) -> TrackingSource:
        return cls(store=location)

    @property
    def root(self) -> Path | None:
        """The Kedro project's folder (found from the store's place on first use), or None."""
        if self._root is None and self._store is not None:
            self._root, self._store = project_of_store(self._store), None
        return self._root

    def catalog(self, env: str | None = None) -> TrackingCatalog | None:
        root = self.root
        if root is None:
            return None
        env = env or None
        with self._lock:
            if env not in self._catalogs:
                self._catalogs[env] = TrackingCatalog.load(root, env)
            return self._catalogs[env]

    def read(
        self, record: Mapping[str, Any], session_id: str, *, metrics_only: bool = False
    ) -> Results:
        """What the tracking files of the session hold, in the record's Kedro environment
        (see :func:`tracking_version` for which sessions have any)."""
        version = tracking_version(record, session_id)
        if version is None:
            return Results({}, {}, {}, ())
        env = record.get("env") if isinstance(record.get("env"), str) else None
        catalog = self.catalog(env)
        if catalog is None or not catalog.datasets:
            problems = tuple(catalog.problems) if catalog is not None else ()
            return Results({}, {}, {}, (), problems)
        found = catalog.read(version, metrics_only=metrics_only)
        return found._replace(problems=tuple(catalog.problems) + found.problems)

    def signature(self) -> str:
        """What the default catalog tracks, as text: an index built from it is rebuilt when
        this changes."""
        catalog = self.catalog()
        if catalog is None:
            return ""
        return ";".join(f"{d.name}={d.kind}:{d.folder}" for d in catalog.datasets)
