"""Kedro tracking datasets that keep working after kedro-datasets 7 dropped ``tracking``.

A catalog that said ``type: tracking.MetricsDataset`` (or ``tracking.JSONDataset``) switches to
``type: sessionlens.kedro.MetricsDataset`` and keeps writing the same files, in kedro-datasets
6's layout: ``<filepath>/<version>/<basename of filepath>``, where ``kedro run`` passes its session
id as the save version. Metrics are saved as ``{key: float(value)}`` with ``json.dump(indent=2)``,
the JSON dataset saves any JSON. Unlike kedro-datasets' (write-only) classes, these load back what
they saved. The sessionlens hooks copy what they save into the session's record.

With Kedro installed the classes subclass its ``AbstractVersionedDataset`` (the catalog requires
it, and it wraps ``save``/``load`` with its versioning and errors); without it a small stand-in
with the same path rules keeps them usable from scripts and tests. Only local paths (optionally
``file://``) are supported.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

try:
    from kedro.io.core import AbstractVersionedDataset as _Base
    from kedro.io.core import DatasetError, Version
except ImportError:  # pragma: no cover - exercised by the tests that run without Kedro

    class DatasetError(Exception):  # type: ignore[no-redef]
        """Kedro's ``DatasetError``, for use without Kedro."""

    class Version(NamedTuple):  # type: ignore[no-redef]
        """Kedro's ``Version``: the version to load (None: the latest) and to save."""

        load: str | None
        save: str | None

    class _Base:  # type: ignore[no-redef]
        """The path rules of Kedro's ``AbstractVersionedDataset``, without Kedro."""

        def __init__(self, filepath: PurePosixPath, version: Version | None) -> None:
            self._filepath = filepath
            self._version = version
            self._save_version: str | None = None

        def _get_versioned_path(self, version: str) -> PurePosixPath:
            if not version or version in (".", "..") or "/" in version or "\\" in version:
                raise DatasetError(f"Version string {version!r} is not allowed")
            return self._filepath / version / self._filepath.name

        def _get_load_path(self) -> PurePosixPath:
            if not self._version:
                return self._filepath
            version = self._version.load
            if not version:
                found = sorted(
                    p.parent.name
                    for p in Path(self._filepath).glob(f"*/{self._filepath.name}")
                    if p.exists()
                )
                if not found:
                    raise DatasetError(f"Did not find any versions for {self._filepath}")
                version = found[-1]
            return self._get_versioned_path(version)

        def _get_save_path(self) -> PurePosixPath:
            if not self._version:
                return self._filepath
            if self._save_version is None:
                from sessionlens.record import new_session_id

                self._save_version = self._version.save or new_session_id()
            path = self._get_versioned_path(self._save_version)
            if Path(path).exists():
                raise DatasetError(f"Save path '{path}' must not exist if versioning is enabled.")
            return path

        def exists(self) -> bool:
            return bool(self._exists())  # type: ignore[attr-defined]

        def __str__(self) -> str:
            return f"{type(self).__name__}({self._filepath})"


__all__ = ["DatasetError", "JSONDataset", "MetricsDataset", "Version"]


def _local_path(filepath: str) -> PurePosixPath:
    if "://" in filepath and not filepath.startswith("file://"):
        raise DatasetError(f"{filepath}: sessionlens tracking datasets write local files only")
    return PurePosixPath(os.path.expanduser(filepath.removeprefix("file://")))


class JSONDataset(_Base):
    """Any JSON data, saved versioned (kedro-datasets 6's ``tracking.JSONDataset``); loadable.

    Catalog::

        run_info:
          type: sessionlens.kedro.JSONDataset
          filepath: data/09_tracking/run_info.json
    """

    #: always versioned, as kedro-datasets' tracking datasets (no ``versioned: true`` needed)
    versioned = True
    DEFAULT_SAVE_ARGS: dict[str, Any] = {"indent": 2}

    def __init__(
        self,
        *,
        filepath: str,
        save_args: Mapping[str, Any] | None = None,
        version: Version | None = None,
        credentials: Mapping[str, Any] | None = None,
        fs_args: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(filepath=_local_path(str(filepath)), version=version)
        self._save_args = {**self.DEFAULT_SAVE_ARGS, **(save_args or {})}
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}

    def _exists(self) -> bool:
        try:
            path = self._get_load_path()
        except DatasetError:
            return False
        return Path(path).is_file()

    def prepare(self, data: Any) -> Any:
        """The data as it is written (the metrics dataset makes every value a float)."""
        return data

    def load(self) -> Any:
        with open(Path(self._get_load_path()), encoding="utf-8") as fh:
            return json.load(fh)

    def save(self, data: Any) -> None:
        prepared = self.prepare(data)
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        # written whole or not at all: a reader never sees half a file
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(prepared, fh, **self._save_args)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class MetricsDataset(JSONDataset):
    """Flat metrics ``{name: number}``, saved as floats, versioned (kedro-datasets 6's
    ``tracking.MetricsDataset``); loadable. A value that is not a number is refused."""

    def prepare(self, data: Any) -> dict[str, float]:
        if not isinstance(data, Mapping):
            raise DatasetError(
                f"{type(self).__name__} saves a mapping of name to number, "
                f"not {type(data).__name__}"
            )
        metrics: dict[str, float] = {}
        for key, value in data.items():
            try:
                metrics[key] = float(value)
            except (TypeError, ValueError):
                raise DatasetError(
                    f"{type(self).__name__}: metric {key!r} is {value!r}, not a number"
                ) from None
        return metrics
