"""What the app remembers per store between runs: the metric columns shown and the metric
directions overridden in compare. One small JSON file in the user config dir.

``$SESSIONLENS_CONFIG_DIR`` overrides the folder (tests, several profiles). The file is written
atomically (a temporary file beside it, then ``os.replace``), so a crash mid-write leaves the old
one. A file that cannot be read or is not what we wrote is ignored: :attr:`Settings.problem` says
why (the app shows it once as a notice) and the next save replaces it. Settings are a
convenience: failing to save them is a notice too, never an error. Nothing here imports Textual.

Layout::

    {"version": 1, "stores": {"sqlite:/abs/path.db": {"metric_columns": ["accuracy"],
                                                      "directions": {"score": "lower"}}}}
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

VERSION = 1
FILE_NAME = "settings.json"
DIRECTIONS = ("lower", "higher")


def config_dir() -> Path:
    """``$SESSIONLENS_CONFIG_DIR``, else the user config dir (platformdirs)."""
    configured = os.environ.get("SESSIONLENS_CONFIG_DIR")
    if configured:
        return Path(configured)
    import platformdirs  # only when the app first reads its settings

    return Path(platformdirs.user_config_dir("sessionlens"))


def store_key(kind: str, location: str) -> str | None:
    """The key a store's settings are kept under: its kind and real path (None for a store
    that lives only in this process, whose settings last as long as it does)."""
    if kind == "memory":
        return None
    if "://" not in location:
        with contextlib.suppress(OSError, ValueError):
            location = os.path.realpath(location)
    return f"{kind}:{location}"


def _names(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def _directions(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and v in DIRECTIONS}


class Settings:
    """The settings of one store, read once and written on each change."""

    def __init__(self, key: str | None, path: Path | None = None) -> None:
        self.key = key
        self.path = path or config_dir() / FILE_NAME
        #: why the file was ignored or could not be written (shown once), else None
        self.problem: str | None = None
        self.metric_columns: list[str] = []
        self.directions: dict[str, str] = {}
        if key is not None:
            mine = self._read_all().get("stores", {}).get(key, {})
            if isinstance(mine, Mapping):
                self.metric_columns = _names(mine.get("metric_columns"))
                self.directions = _directions(mine.get("directions"))

    @classmethod
    def for_store(cls, kind: str, location: str) -> Settings:
        return cls(store_key(kind, location))

    def _read_all(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            self.problem = f"Could not read the settings in {self.path}: {exc}; using defaults"
            return {}
        try:
            data = json.loads(text)
        except ValueError as exc:
            self.problem = f"Ignored the settings in {self.path}: not JSON ({exc})"
            return {}
        if not isinstance(data, dict) or not isinstance(data.get("stores", {}), dict):
            self.problem = f"Ignored the settings in {self.path}: not a sessionlens settings file"
            return {}
        return data

    def set_metric_columns(self, names: list[str]) -> str | None:
        """Remember ``names``; what went wrong saving them, else None."""
        self.metric_columns = list(names)
        return self.save()

    def set_direction(self, name: str, direction: str | None) -> str | None:
        """``lower``/``higher``, or None to go back to the direction the name implies."""
        if direction is None:
            self.directions.pop(name, None)
        else:
            self.directions[name] = direction
        return self.save()

    def save(self) -> str | None:
        """Write this store's settings, keeping the other stores' (best effort): None, or
        why they could not be written."""
        if self.key is None:
            return None
        problem = self.problem
        data = self._read_all()
        self.problem = problem  # a file ignored again is not news
        stores = data.get("stores") if isinstance(data.get("stores"), dict) else {}
        stores[self.key] = {
            "metric_columns": self.metric_columns,
            "directions": dict(sorted(self.directions.items())),
        }
        data = {"version": VERSION, "stores": stores}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out, indent=2, ensure_ascii=False)
                    out.write("\n")
                os.replace(temp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError as exc:
            return f"Could not save the settings to {self.path}: {exc}"
        return None
