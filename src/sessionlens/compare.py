"""Compare two session records field by field: the CLI's ``diff`` and the app's compare screen.

``flatten`` turns a record into dotted keys (``git.branch``, ``cli.params.params.scale``) so two
records line up row by row whatever keys they have; ``compare`` builds those rows plus a
parameter diff and the duration difference. ``git_changed_files`` lists the files changed between
the two commits when both are in the local repo; it is the only user of GitPython (imported
lazily: it costs ~90 ms) and answers None rather than raising when it cannot tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessionlens.record import KEY_ORDER, Record, format_duration, params_of, to_jsonable


class _Missing:
    """A key the record does not have (different from a key holding None)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys to leaf values; lists stay whole values, an empty dict is a leaf ``{}``."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            out[prefix] = value

    plain = to_jsonable(record)
    for key in _ordered_keys([plain]):
        walk(str(key), plain[key])
    return out


def _ordered_keys(records: list[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for key in KEY_ORDER:
        if any(key in r for r in records):
            seen[key] = None
    for record in records:
        for key in record:
            seen.setdefault(str(key), None)
    return list(seen)


@dataclass(frozen=True)
class Row:
    """One aligned field; ``left``/``right`` are ``MISSING`` where a record lacks the key."""

    key: str
    left: Any
    right: Any
    differs: bool

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "differs": self.differs}
        for side, value in (("left", self.left), ("right", self.right)):
            data[side] = None if value is MISSING else value
            data[f"{side}_missing"] = value is MISSING
        return data


@dataclass(frozen=True)
class ParamChange:
    """One run parameter: ``change`` is ``same``, ``changed``, ``added`` (right only) or
    ``removed`` (left only)."""

    name: str
    left: Any
    right: Any
    change: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "left": None if self.left is MISSING else self.left,
            "right": None if self.right is MISSING else self.right,
            "change": self.change,
        }


@dataclass(frozen=True)
class Comparison:
    left_id: str
    right_id: str
    rows: list[Row]
    params: list[ParamChange]
    #: right minus left, seconds; None when either has no duration
    duration_delta_s: float | None
    left_duration_s: float | None = None
    right_duration_s: float | None = None
    left_sha: str | None = None
    right_sha: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def differing(self) -> list[Row]:
        return [row for row in self.rows if row.differs]

    @property
    def changed_params(self) -> list[ParamChange]:
        return [p for p in self.params if p.change != "same"]

    def to_dict(self, *, all_rows: bool = True) -> dict[str, Any]:
        rows = self.rows if all_rows else self.differing
        return {
            "left": self.left_id,
            "right": self.right_id,
            "rows": [row.to_dict() for row in rows],
            "params": [p.to_dict() for p in self.params],
            "duration_delta_s": self.duration_delta_s,
            "left_duration_s": self.left_duration_s,
            "right_duration_s": self.right_duration_s,
        }


def compare(left: Mapping[str, Any], right: Mapping[str, Any]) -> Comparison:
    """Align two records field by field, diff their parameters and durations."""
    flat_left, flat_right = flatten(left), flatten(right)
    keys = list(flat_left)
    keys += [k for k in flat_right if k not in flat_left]
    keys = _sections_in_order(keys, [to_jsonable(left), to_jsonable(right)])
    rows = []
    for key in keys:
        a, b = flat_left.get(key, MISSING), flat_right.get(key, MISSING)
        rows.append(Row(key, a, b, differs=not _same(a, b)))
    params = _param_changes(to_jsonable(params_of(left)), to_jsonable(params_of(right)))
    dur_a, dur_b = _duration(left), _duration(right)
    delta = None if dur_a is None or dur_b is None else dur_b - dur_a
    return Comparison(
        left_id=str(left.get("session_id", "")),
        right_id=str(right.get("session_id", "")),
        rows=rows,
        params=params,
        duration_delta_s=delta,
        left_duration_s=dur_a,
        right_duration_s=dur_b,
        left_sha=_sha(left),
        right_sha=_sha(right),
    )


def duration_change(before: float | None, after: float | None) -> str | None:
    """``+2.80s, +23%``: how much longer (or shorter) the second run took, the same words in
    ``diff`` and the app; None when either duration is unknown."""
    if before is None or after is None:
        return None
    delta = after - before
    sign = "+" if delta >= 0 else "-"
    text = f"{sign}{format_duration(abs(delta))}"
    if before:
        text += f", {sign}{abs(delta) / before:.0%}"
    return text


def _sections_in_order(keys: list[str], records: list[Record]) -> list[str]:
    """Keep each top-level section together, sections in ``KEY_ORDER`` then first-seen order."""
    order = {name: i for i, name in enumerate(_ordered_keys(records))}
    position = {key: i for i, key in enumerate(keys)}
    return sorted(keys, key=lambda k: (order.get(k.split(".", 1)[0], len(order)), position[k]))


def _same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    # 1 == True in Python; a record that says true is not the same as one that says 1
    if type(a) is type(b):
        return bool(a == b)
    return _number(a) and _number(b) and a == b


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _param_changes(left: Mapping[str, Any], right: Mapping[str, Any]) -> list[ParamChange]:
    names = list(left) + [k for k in right if k not in left]
    changes = []
    for name in names:
        a, b = left.get(name, MISSING), right.get(name, MISSING)
        if a is MISSING:
            change = "added"
        elif b is MISSING:
            change = "removed"
        else:
            change = "same" if _same(a, b) else "changed"
        changes.append(ParamChange(name, a, b, change))
    return changes


def _duration(record: Mapping[str, Any]) -> float | None:
    run = record.get("run")
    if not isinstance(run, Mapping):
        return None
    value = run.get("duration_s")
    if _number(value):
        return float(value)
    return None


def _sha(record: Mapping[str, Any]) -> str | None:
    git = record.get("git")
    if not isinstance(git, Mapping):
        return None
    sha = git.get("commit_sha_full") or git.get("commit_sha")
    return str(sha) if sha else None


# -- git history ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ChangedFile:
    """A ``git diff --stat`` row; ``insertions``/``deletions`` are None for binary files."""

    path: str
    insertions: int | None
    deletions: int | None
    old_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "old_path": self.old_path,
            "insertions": self.insertions,
            "deletions": self.deletions,
        }


def git_changed_files(
    repo_path: str | Path, sha_a: str | None, sha_b: str | None
) -> list[ChangedFile] | None:
    """Files changed from ``sha_a`` to ``sha_b`` (``git diff --numstat -M``), or None when
    either commit is not in the repo at ``repo_path`` (or there is no repo, or no git)."""
    if not sha_a or not sha_b:
        return None
    try:
        import git  # GitPython, lazily: it costs ~90 ms to import
    except Exception:  # not installed, or no git executable
        return None
    try:
        repo = git.Repo(str(repo_path), search_parent_directories=True)
    except Exception:
        return None
    try:
        a = repo.commit(sha_a).hexsha
        b = repo.commit(sha_b).hexsha
        output = repo.git.diff("--numstat", "-z", "-M", a, b)
    except Exception:  # unknown commit, ambiguous short sha, git failed
        return None
    finally:
        repo.close()
    return parse_numstat_z(output)


def changed_files_between(
    left: Mapping[str, Any],
    right: Mapping[str, Any],
    sha_a: str | None,
    sha_b: str | None,
    *,
    also: tuple[str | Path, ...] = (),
) -> list[ChangedFile] | None:
    """Files changed between two sessions' commits, from the first local repo that has both:
    the sessions' own project folders, then ``also``; None when no repo here has them."""
    if not sha_a or not sha_b:
        return None
    if sha_a == sha_b:
        return []
    places: list[str] = []
    for record in (left, right):
        path = record.get("project_path")
        if isinstance(path, str) and path not in places and Path(path).is_dir():
            places.append(path)
    places.extend(str(p) for p in also)
    for place in places:
        files = git_changed_files(place, sha_a, sha_b)
        if files is not None:
            return files
    return None


def parse_numstat_z(output: str) -> list[ChangedFile]:
    """Parse ``git diff --numstat -z``: ``add\\tdel\\tpath\\0`` or, for a rename,
    ``add\\tdel\\t\\0old\\0new\\0``."""
    rows: list[ChangedFile] = []
    parts = output.split("\0")
    i = 0
    while i < len(parts):
        head = parts[i]
        i += 1
        if not head.strip():
            continue
        fields = head.split("\t", 2)
        if len(fields) != 3:
            continue
        added, deleted, path = fields
        old_path = None
        if path == "":  # a rename or copy: the two paths follow as their own fields
            old_path = parts[i] if i < len(parts) else ""
            path = parts[i + 1] if i + 1 < len(parts) else ""
            i += 2
        rows.append(
            ChangedFile(
                path=path,
                insertions=int(added) if added.isdigit() else None,
                deletions=int(deleted) if deleted.isdigit() else None,
                old_path=old_path,
            )
        )
    return rows
