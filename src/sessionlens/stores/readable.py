"""Whether a stored record can be shown, and if not, why: the one place that decides it.

DESIGN.md: one unreadable record is shown as ``unreadable`` with its reason; it never hides the
others. Every backend passes what it read through :func:`load_record` (JSON text or bytes, as
kedro-viz and sessionlens write it; shelve and memory records as the JSON of their values), so a
listing, ``get`` and every view agree on what is readable. A record is unreadable when

- its bytes are not UTF-8, its text is not JSON (kedro-viz's double encoding unwrapped), or it is
  bigger than :data:`MAX_RECORD_BYTES`;
- it nests deeper than :data:`MAX_DEPTH` levels: measured on the text *before* parsing, so a
  50,000-deep blob never reaches ``json.loads`` (nor ``to_jsonable``, ``compare.flatten`` or a
  Rich tree), and no ``RecursionError`` is possible downstream;
- it is not a JSON object;
- a key the views read holds another type than the record layout says (:data:`FIELD_TYPES`).

Only the keys that become typed columns of a session list are checked, typed as every Kedro
(0.17-1.x) and kedro-viz version writes them; all other keys, known or unknown, are kept and
shown whatever they hold. One thing is repaired rather than refused: a lone UTF-16 surrogate in a
JSON string (``"\\ud800"``), which no terminal and no SQLite text column can take, becomes
U+FFFD.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from sessionlens.record import Record

#: containers inside containers; a real record nests a handful of levels
MAX_DEPTH = 100
#: bytes (or characters) of one record's JSON; a real record is a few kilobytes
MAX_RECORD_BYTES = 16 * 1024 * 1024

#: Keys the views read and the JSON type each must hold when present and not null. A container
#: comes before its keys; when it is absent or null its keys are not looked at.
FIELD_TYPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("session_id",), "text"),
    (("username",), "text"),
    (("package_name",), "text"),
    (("git",), "object"),
    (("git", "branch"), "text"),
    (("git", "commit_sha"), "text"),
    (("git", "commit_sha_full"), "text"),
    (("git", "dirty"), "boolean"),
    (("cli",), "object"),
    (("cli", "command_path"), "text"),
    (("run",), "object"),
    (("run", "status"), "text"),
    (("run", "started_at"), "text"),
    (("run", "finished_at"), "text"),
    (("run", "duration_s"), "number"),
    (("run", "exit_code"), "integer"),
    (("run", "pid"), "process id"),
    (("run", "hostname"), "text"),
    (("run", "command"), "list"),
    (("run", "rerun_of"), "text"),
)

_INT64 = 1 << 63
_PID_MAX = 1 << 31  # pid_t: os.kill() takes nothing bigger


class RecordProblem(ValueError):
    """A stored record that cannot be shown; ``str()`` is the one-line reason."""


def load_record(raw: bytes | str | None, what: str = "record") -> Record:
    """The record in ``raw`` (its JSON, or a JSON string holding its JSON, as kedro-viz writes
    it), checked; raises :class:`RecordProblem` saying why it is unreadable. ``what`` names the
    thing in reasons (``blob`` for kedro-viz rows)."""
    if raw is None:
        raise RecordProblem(f"{what} is empty (NULL)")
    if isinstance(raw, bytes | bytearray | memoryview):
        if len(raw) > MAX_RECORD_BYTES:
            raise RecordProblem(_too_big(what, len(raw)))
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordProblem(
                f"{what} is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset "
                f"{exc.start}: {exc.reason})"
            ) from None
    else:
        text = raw
    # a lone surrogate can only come from a \\udXXX escape (at either level of encoding: the
    # outer one shows as \\\\udXXX, which this finds too), or from a str handed in as is
    repair = _ESCAPED_SURROGATE.search(text) is not None or (
        isinstance(raw, str) and _SURROGATE.search(text) is not None
    )
    value = _loads(text, what)
    if isinstance(value, str):  # kedro-viz: a JSON string whose content is the record's JSON
        value = _loads(value, what)
    if repair:
        value = _without_lone_surrogates(value)
    return check_record(value, what)


def saved_text(raw: bytes | None) -> str | None:
    """The record's JSON text in a stored blob (unwrapped from kedro-viz's second encoding)
    when it can be moved to another store as it is: UTF-8, no escaped surrogate to repair.
    None: parse it instead. Whether the JSON is a readable record is the index's to say."""
    if raw is None:
        return None
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _ESCAPED_SURROGATE.search(text) is not None:
        return None
    if text.lstrip()[:1] == '"':
        try:
            text = json.loads(text)
        except ValueError:
            return None
        if not isinstance(text, str):
            return None
    return text if text.lstrip()[:1] == "{" else None


def check_record(value: Any, what: str = "record") -> Record:
    """``value`` if it is a record the views can show (raises :class:`RecordProblem` if not)."""
    if not isinstance(value, dict):
        raise RecordProblem(f"{what} is {_describe(value)}, not a JSON object")
    for key, kind in _TOP_FIELDS:
        field = value.get(key)
        if field is not None and not _is(kind, field):
            raise RecordProblem(f"{key} is {_describe(field)}, not {_a(kind)}")
    for name, fields in _NESTED_FIELDS:
        inner = value.get(name)
        if inner is None:
            continue
        if not isinstance(inner, Mapping):
            raise RecordProblem(f"{name} is {_describe(inner)}, not an object")
        for key, kind in fields:
            field = inner.get(key)
            if field is not None and not _is(kind, field):
                raise RecordProblem(f"{name}.{key} is {_describe(field)}, not {_a(kind)}")
    return value


# FIELD_TYPES grouped as check_record walks it: top-level keys, then each container's keys
_FIRST_LEVEL = tuple((path[0], kind) for path, kind in FIELD_TYPES if len(path) == 1)
_TOP_FIELDS = tuple((key, kind) for key, kind in _FIRST_LEVEL if kind != "object")
_NESTED_FIELDS = tuple(
    (
        name,
        tuple((path[1], kind) for path, kind in FIELD_TYPES if len(path) == 2 and path[0] == name),
    )
    for name, kind in _FIRST_LEVEL
    if kind == "object"
)


def _loads(text: str, what: str) -> Any:
    if len(text) > MAX_RECORD_BYTES:
        raise RecordProblem(_too_big(what, len(text)))
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise RecordProblem(f"{what} nests {depth:,} levels deep (at most {MAX_DEPTH} are read)")
    try:
        value = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and ints past Python's 4300-digit limit
        message = " ".join(str(exc).split())[:120]
        raise RecordProblem(f"{what} is not JSON ({message})") from None
    except RecursionError:  # pragma: no cover - nesting_depth refused it already
        raise RecordProblem(f"{what} nests too deep") from None
    return value


# JSON strings (escapes included), and everything but brackets once strings are gone
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def nesting_depth(text: str) -> int:
    """How deep the arrays and objects of JSON ``text`` nest, at C speed: counting brackets
    answers for nearly every record; otherwise strings are cut out and the brackets left are
    summed (no parsing, no recursion)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return min(text.count("[") + text.count("{"), MAX_DEPTH)
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings and keys replaced by U+FFFD (depth is
    bounded by :data:`MAX_DEPTH` here, so recursion is safe)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_SURROGATE.sub("\ufffd", k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def _is(kind: str, value: Any) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "boolean":
        return value is True or value is False
    if kind == "object":
        return isinstance(value, Mapping)
    if kind == "list":
        return isinstance(value, list | tuple)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if kind == "number":
        try:
            return math.isfinite(float(value))
        except OverflowError:
            return False
    if not isinstance(value, int):
        return False
    if kind == "integer":
        return -_INT64 <= value < _INT64
    return 0 < value < _PID_MAX  # process id


def _a(kind: str) -> str:
    return {
        "text": "text",
        "object": "an object",
        "list": "a list",
        "boolean": "true or false",
        "number": "a finite number",
        "integer": "a 64-bit integer",
        "process id": "a process id",
    }[kind]


def _describe(value: Any) -> str:
    """``a number (1700000000)``, ``text ('x')``, ``a list``: what a value is, briefly."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        shown = repr(value) if len(repr(value)) <= 24 else f"{repr(value)[:20]}..."
        return f"a number ({shown})"
    if isinstance(value, str):
        shown = value if len(value) <= 24 else f"{value[:20]}..."
        return f"text ({json.dumps(shown)})"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return "null" if value is None else f"a {type(value).__name__}"


def _too_big(what: str, size: int) -> str:
    return f"{what} is {size:,} bytes (at most {MAX_RECORD_BYTES:,} are read)"
