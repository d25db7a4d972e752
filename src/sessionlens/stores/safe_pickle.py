"""Unpickling that cannot run code or explode: Kedro's shelve stores hold pickles from other
people's projects.

Two dangers. A pickle names callables (``module.name``) that the loader calls while reading; a
malicious one names ``os.system``. ``SafeUnpickler.find_class`` resolves only plain data types and
``pathlib`` paths, and refuses everything else before anything is called. Paths become *pure*
paths (no I/O, and a ``WindowsPath`` pickled on Windows loads on Linux too); ``to_jsonable``
turns them into str.

And a pickle is a program over a memo of shared objects: 254 bytes of ``x = [x, x]`` forty times
load in microseconds into forty lists, but as a *tree* (what JSON, comparing or showing the record
walks) it has 2**40 nodes; a tuple built that way used as a dict key is hashed by the loader
itself, for ever. So :func:`check_pickle` first runs the pickle's opcodes on stand-ins (sizes,
not objects) and refuses, in one line, a value whose tree would be too big, too deep, cyclic,
hashed at great cost, or allocated from an integer (``bytearray(10**10)``); only a value that
passes is built by the C unpickler. Tree sizes are computed once per shared object (memoised on
the DAG), so the check costs time in proportion to the pickle's length, never to its tree.
"""

from __future__ import annotations

import datetime
import decimal
import io
import pickle
import pickletools
from collections import OrderedDict
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from sessionlens.errors import StoreError, one_line

_PATH_CLASSES: dict[str, type] = {
    "PosixPath": PurePosixPath,
    "PurePosixPath": PurePosixPath,
    "WindowsPath": PureWindowsPath,
    "PureWindowsPath": PureWindowsPath,
    # pickled by an abstract reference on some Pythons; the pure POSIX flavour is the safe reading
    "Path": PurePosixPath,
    "PurePath": PurePosixPath,
}

#: (module, name) -> the object the loader may call. Everything here builds plain values only.
ALLOWED: dict[tuple[str, str], Any] = {
    **{("pathlib", n): c for n, c in _PATH_CLASSES.items()},
    **{("pathlib._local", n): c for n, c in _PATH_CLASSES.items()},  # Python 3.13+
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "date"): datetime.date,
    ("datetime", "time"): datetime.time,
    ("datetime", "timedelta"): datetime.timedelta,
    ("datetime", "timezone"): datetime.timezone,
    ("decimal", "Decimal"): decimal.Decimal,
}

# -- bounds of one unpickled value (a session record is a few kilobytes) ----------------------
#: bytes of one pickled value
MAX_PICKLE_BYTES = 16 * 1024 * 1024
#: objects in the value as a tree: a shared object counts each time it is reached
MAX_TREE_NODES = 200_000
#: characters of text and bytes in the value as a tree (shared ones counted each time)
MAX_TREE_TEXT = 32 * 1024 * 1024
#: containers inside containers (JSON records nest a handful of levels)
MAX_DEPTH = 100
#: work the loader spends hashing dict keys and set members, in objects hashed
MAX_HASH_WORK = 200_000
#: keys of one dict or set whose hash is not randomised (numbers, tuples): colliding ones cost
#: the loader quadratic time
MAX_PLAIN_HASH_KEYS = 1000
#: bits of one integer (JSON cannot even print one of 4300 digits)
MAX_INT_BITS = 4096


class SafeUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only the names in :data:`ALLOWED`."""

    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise StoreError(_refused_name(self.source, module, name)) from None


def _refused_name(source: str, module: str, name: str) -> str:
    return one_line(
        f"{source}: refused to unpickle {module}.{name} "
        "(only plain data and paths are read from shelve stores; nothing was run)"
    )


def safe_loads(data: bytes, source: str) -> Any:
    """Load one pickle with :class:`SafeUnpickler` after :func:`check_pickle`; any failure is a
    one-line ``StoreError``."""
    check_pickle(data, source)
    try:
        return SafeUnpickler(io.BytesIO(data), source).load()
    except StoreError:
        raise
    except Exception as exc:  # truncated or garbage bytes: pickle raises many kinds
        raise StoreError(
            one_line(f"{source}: unreadable pickle ({type(exc).__name__}: {exc})")
        ) from None


# -- the check: the pickle machine run on stand-ins ------------------------------------------
class Refused(Exception):
    """A pickle the loader must not build; ``str()`` says why in a few words."""


class _Obj:
    """What the check knows of one object the pickle would build.

    ``kind``: ``str``, ``bytes``, ``int``, ``scalar`` (other atoms), ``leaf`` (built by an
    allowed constructor), ``global`` (an allowed callable), or a container: ``list``, ``dict``,
    ``set`` (mutable), ``tuple``, ``frozenset``. ``text``: characters or bytes it holds itself.
    ``size``: (objects, characters, depth) as a tree, known at once for immutable objects (None
    for mutable ones, measured at the end). ``hash_work``: objects hashing it visits (None:
    unhashable)."""

    __slots__ = ("children", "hash_work", "kind", "size", "text", "value")

    def __init__(
        self,
        kind: str,
        text: int = 0,
        value: Any = None,
        children: list[_Obj] | None = None,
        hash_work: int | None = 1,
    ) -> None:
        self.kind = kind
        self.text = text
        self.value = value
        self.children = children
        self.hash_work = hash_work
        self.size: tuple[int, int, int] | None = None if kind in _MUTABLE else (1, text, 0)


_MUTABLE = {"list", "dict", "set"}
_RANDOM_HASH = {"str", "bytes"}  # hashes salted per process: no crafted collisions
_TEXTS = {
    "STRING": "str",
    "BINSTRING": "str",
    "SHORT_BINSTRING": "str",
    "UNICODE": "str",
    "SHORT_BINUNICODE": "str",
    "BINUNICODE": "str",
    "BINUNICODE8": "str",
    "BINBYTES": "bytes",
    "SHORT_BINBYTES": "bytes",
    "BINBYTES8": "bytes",
    "BYTEARRAY8": "leaf",
}
_EMPTY = {"EMPTY_LIST": "list", "EMPTY_DICT": "dict", "EMPTY_SET": "set"}
_INTS = ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4")


def check_pickle(data: bytes, source: str) -> None:
    """Raise a one-line ``StoreError`` when loading ``data`` could run code, take long or build
    more than :data:`MAX_TREE_NODES` objects / :data:`MAX_TREE_TEXT` characters as a tree,
    nest deeper than :data:`MAX_DEPTH`, or hold itself; else return, having built nothing."""
    if len(data) > MAX_PICKLE_BYTES:
        raise StoreError(
            f"{source}: refused to unpickle a value of {len(data):,} bytes "
            f"(more than the {MAX_PICKLE_BYTES:,} a session record may hold)"
        )
    try:
        root = _Machine(source).run(data)
        _measure(root)
    except Refused as exc:
        raise StoreError(one_line(f"{source}: refused to unpickle: {exc}")) from None
    except StoreError:
        raise
    except Exception as exc:  # pickletools on truncated or garbage bytes
        raise StoreError(
            one_line(f"{source}: unreadable pickle ({type(exc).__name__}: {exc})")
        ) from None


class _Machine:
    """The pickle virtual machine of ``pickle._Unpickler`` with stand-ins for objects."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.stack: list[_Obj] = []
        self.marks: list[list[_Obj]] = []
        self.memo: dict[int, _Obj] = {}
        self.hash_work = 0

    def run(self, data: bytes) -> _Obj:
        dispatch = _DISPATCH
        stream = io.BytesIO(data)
        next_at = 0  # where the next opcode starts
        try:
            for opcode, arg, _pos in pickletools.genops(stream):
                next_at = stream.tell()
                name = opcode.name
                if name == "STOP":
                    return self.pop()
                handler = dispatch.get(name)
                if handler is None:  # BUILD, INST, OBJ, EXT*, PERSID, buffers: not in ALLOWED
                    raise Refused(f"opcode {name} is not read from shelve stores")
                handler(self, name, arg)
        except UnicodeDecodeError:
            # pickletools reads a GLOBAL's names as ASCII, the unpickler as UTF-8: say which
            # names were refused (none in ALLOWED is beyond ASCII)
            if data[next_at : next_at + 1] != b"c":
                raise
            module, name = (
                part.decode("utf-8", "replace") for part in data[next_at + 1 :].split(b"\n", 2)[:2]
            )
            raise StoreError(_refused_name(self.source, module, name)) from None
        raise Refused("the pickle has no STOP")  # pragma: no cover - genops raises first

    # -- stack ----------------------------------------------------------------------------
    def push(self, obj: _Obj) -> None:
        self.stack.append(obj)  # never bound once: MARK and pop_mark swap the stack

    def pop(self) -> _Obj:
        if not self.stack:
            raise Refused("the pickle pops an empty stack")
        return self.stack.pop()

    def pop_mark(self) -> list[_Obj]:
        if not self.marks:
            raise Refused("the pickle has no MARK where one is needed")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def peek(self, opcode: str) -> _Obj:
        if not self.stack:
            raise Refused(f"{opcode} on an empty stack")
        return self.stack[-1]

    def top(self, kind: str, opcode: str) -> _Obj:
        if not self.stack or self.stack[-1].kind != kind:
            raise Refused(f"{opcode} applied to something that is not a {kind}")
        return self.stack[-1]

    # -- one opcode each: (self, opcode name, argument) ------------------------------------
    def op_ignore(self, name: str, arg: Any) -> None:
        pass

    def op_atom(self, name: str, arg: Any) -> None:
        self.push(_Obj("scalar"))

    def op_int(self, name: str, arg: Any) -> None:
        value = int(arg)
        if value.bit_length() > MAX_INT_BITS:
            raise Refused(f"it holds an integer of {value.bit_length():,} bits")
        self.push(_Obj("int", value=value))

    def op_text(self, name: str, arg: Any) -> None:
        kind, size = _TEXTS[name], len(arg)
        value = arg if kind == "str" and size <= 256 else None
        self.push(_Obj(kind, text=size, value=value, hash_work=None if kind == "leaf" else 1))

    def op_empty(self, name: str, arg: Any) -> None:
        self.push(_Obj(_EMPTY[name], children=[], hash_work=None))

    def op_empty_tuple(self, name: str, arg: Any) -> None:
        self.push(_tuple([]))

    def op_mark(self, name: str, arg: Any) -> None:
        self.marks.append(self.stack)
        self.stack = []

    def op_pop(self, name: str, arg: Any) -> None:
        if self.stack:
            self.stack.pop()
        else:
            self.pop_mark()

    def op_pop_mark(self, name: str, arg: Any) -> None:
        self.pop_mark()

    def op_dup(self, name: str, arg: Any) -> None:
        self.push(self.peek(name))

    def op_put(self, name: str, arg: Any) -> None:
        self.memo[int(arg)] = self.peek(name)

    def op_memoize(self, name: str, arg: Any) -> None:
        self.memo[len(self.memo)] = self.peek(name)

    def op_get(self, name: str, arg: Any) -> None:
        try:
            self.push(self.memo[int(arg)])
        except KeyError:
            raise Refused(f"it refers to memo entry {arg} that does not exist") from None

    def op_tuple(self, name: str, arg: Any) -> None:
        self.push(_tuple(self.pop_mark()))

    def op_tuple_n(self, name: str, arg: Any) -> None:
        count = int(name[-1])
        if len(self.stack) < count:
            raise Refused(f"{name} on a stack of {len(self.stack)}")
        items = self.stack[-count:]
        del self.stack[-count:]
        self.push(_tuple(items))

    def op_list(self, name: str, arg: Any) -> None:
        self.push(_Obj("list", children=self.pop_mark(), hash_work=None))

    def op_dict(self, name: str, arg: Any) -> None:
        items = self.pop_mark()
        obj = _Obj("dict", children=[], hash_work=None)
        self.add_pairs(obj, items)
        self.push(obj)

    def op_frozenset(self, name: str, arg: Any) -> None:
        items = self.pop_mark()
        self.hash_members(items)
        self.push(_tuple(items, "frozenset"))

    def op_append(self, name: str, arg: Any) -> None:
        item = self.pop()
        self.top("list", name).children.append(item)  # type: ignore[union-attr]

    def op_appends(self, name: str, arg: Any) -> None:
        items = self.pop_mark()
        self.top("list", name).children.extend(items)  # type: ignore[union-attr]

    def op_setitem(self, name: str, arg: Any) -> None:
        value, key = self.pop(), self.pop()
        self.add_pairs(self.top("dict", name), [key, value])

    def op_setitems(self, name: str, arg: Any) -> None:
        items = self.pop_mark()
        self.add_pairs(self.top("dict", name), items)

    def op_additems(self, name: str, arg: Any) -> None:
        items = self.pop_mark()
        target = self.top("set", name)
        self.hash_members(items, target)
        target.children.extend(items)  # type: ignore[union-attr]

    def op_global(self, name: str, arg: Any) -> None:
        module, _, attr = str(arg).partition(" ")
        self.push(self.global_(module, attr))

    def op_stack_global(self, name: str, arg: Any) -> None:
        attr, module = self.pop(), self.pop()
        if module.kind != "str" or attr.kind != "str" or None in (module.value, attr.value):
            raise Refused("STACK_GLOBAL without a module and a name")
        self.push(self.global_(module.value, attr.value))

    def op_reduce(self, name: str, arg: Any) -> None:
        args, func = self.pop(), self.pop()
        self.push(self.call(func, args, new=name == "NEWOBJ"))

    def op_newobj_ex(self, name: str, arg: Any) -> None:
        kwargs, args, func = self.pop(), self.pop(), self.pop()
        self.push(self.call(func, _tuple([args, kwargs]), new=True))

    def global_(self, module: str, name: str) -> _Obj:
        if (module, name) not in ALLOWED:
            raise StoreError(_refused_name(self.source, module, name))
        return _Obj("global", value=(module, name))

    def call(self, func: _Obj, args: _Obj, *, new: bool) -> _Obj:
        """An allowed constructor called with ``args``: what it builds, bounded."""
        if func.kind != "global":
            raise Refused("it calls something that is not an allowed class")
        if args.kind != "tuple":
            raise Refused("it calls a constructor without an argument tuple")
        module, name = func.value
        first = args.children[0] if args.children else None  # type: ignore[index]
        if name in ("set", "frozenset") or (module, name) == ("collections", "OrderedDict"):
            kind = {"set": "set", "frozenset": "frozenset"}.get(name, "dict")
            if new or first is None:
                return _tuple([], kind) if kind == "frozenset" else _Obj(kind, children=[])
            if first.kind not in ("list", "tuple", "set", "frozenset", "dict"):
                raise Refused(f"{name}() of something that is not a collection")
            members = _keys_of(first)
            if kind == "dict":  # OrderedDict(pairs): read as a dict of those pairs
                obj = _Obj("dict", children=[], hash_work=None)
                for pair in members:
                    if pair.kind != "tuple" or len(pair.children or []) != 2:
                        raise Refused("OrderedDict() of something that is not pairs")
                    self.add_pairs(obj, list(pair.children or []))
                return obj
            self.hash_members(members)
            return _tuple(members, kind) if kind == "frozenset" else _Obj(kind, children=members)
        if name == "bytearray" and first is not None and first.kind == "int":
            size = abs(first.value)
            if size > MAX_TREE_TEXT:
                raise Refused(f"bytearray({size:,}) would allocate {size:,} bytes")
            obj = _Obj("leaf", text=size, hash_work=None)
            return obj
        # paths, dates, Decimal, complex, bytearray(bytes): as big as their arguments
        if args.size is None:
            raise Refused(f"{module}.{name}() called with a list, dict or set")
        nodes, text, _ = args.size
        return _Obj("leaf", text=text + nodes, hash_work=None if name == "bytearray" else 1)

    # -- hashing --------------------------------------------------------------------------
    def add_pairs(self, target: _Obj, items: list[_Obj]) -> None:
        if len(items) % 2:
            raise Refused("a dict built from an odd number of items")
        self.hash_members(items[0::2], target)
        target.children.extend(items)  # type: ignore[union-attr]

    def hash_members(self, keys: list[_Obj], into: _Obj | None = None) -> None:
        """Keys about to be hashed by the loader: hashable, cheap, and not crafted to collide."""
        plain = 0
        for key in keys:
            if key.hash_work is None:
                raise Refused(f"a {key.kind} used as a dict key or set member")
            self.hash_work += key.hash_work
            if key.kind not in _RANDOM_HASH:
                plain += 1
        if into is not None:
            plain += sum(1 for k in _keys_of(into) if k.kind not in _RANDOM_HASH)
        if plain > MAX_PLAIN_HASH_KEYS:
            raise Refused(f"a dict or set of more than {MAX_PLAIN_HASH_KEYS:,} non-text keys")
        if self.hash_work > MAX_HASH_WORK:
            raise Refused(f"hashing its keys would visit more than {MAX_HASH_WORK:,} objects")


def _keys_of(container: _Obj) -> list[_Obj]:
    """The members of a set, list or tuple; the keys of a dict."""
    children = container.children or []
    return children[0::2] if container.kind == "dict" else list(children)


def _tuple(items: list[_Obj], kind: str = "tuple") -> _Obj:
    """A tuple (or frozenset): immutable, so its size as a tree and what hashing it visits are
    known now, from its items' (unless an item is mutable)."""
    obj = _Obj(kind, children=list(items), hash_work=None)
    sizes = [item.size for item in items]
    if None not in sizes:
        nodes = 1 + sum(s[0] for s in sizes)  # type: ignore[index]
        text = sum(s[1] for s in sizes)  # type: ignore[index]
        depth = 1 + max((s[2] for s in sizes), default=0)  # type: ignore[index]
        obj.size = (nodes, text, depth)
        _check_size(nodes, text, depth)
    works = [item.hash_work for item in items]
    if None not in works:
        obj.hash_work = len(items) + 1 if kind == "frozenset" else 1 + sum(works)  # type: ignore[arg-type]
    return obj


def _check_size(nodes: int, text: int, depth: int) -> None:
    if nodes > MAX_TREE_NODES:
        raise Refused(
            f"it expands to more than {MAX_TREE_NODES:,} objects (shared references counted "
            "each time they are reached)"
        )
    if text > MAX_TREE_TEXT:
        raise Refused(f"it expands to more than {MAX_TREE_TEXT:,} characters")
    if depth > MAX_DEPTH:
        raise Refused(f"it nests deeper than {MAX_DEPTH} levels")


def _measure(root: _Obj) -> tuple[int, int, int]:
    """(objects, characters, depth) of ``root`` as a tree, each shared object measured once;
    raises ``Refused`` past a bound or at a cycle. Iterative: no recursion on deep input."""
    done: dict[int, tuple[int, int, int]] = {}
    path: set[int] = set()  # containers being measured: reaching one again is a cycle
    todo: list[tuple[_Obj, bool]] = [(root, False)]
    while todo:
        obj, children_done = todo.pop()
        key = id(obj)
        if not children_done:
            if key in done:
                continue
            if obj.size is not None or not obj.children:
                done[key] = obj.size or (1, obj.text, 0)
                continue
            path.add(key)
            if len(path) > MAX_DEPTH:
                raise Refused(f"it nests deeper than {MAX_DEPTH} levels")
            todo.append((obj, True))
            for child in obj.children:
                if id(child) in path:
                    raise Refused("it contains itself (a cycle)")
                if id(child) not in done:
                    todo.append((child, False))
            continue
        path.discard(key)
        nodes, text, depth = 1, obj.text, 0
        for child in obj.children:  # type: ignore[union-attr]
            n, t, d = done[id(child)]
            nodes, text, depth = nodes + n, text + t, max(depth, d)
        _check_size(nodes, text, depth + 1)
        done[key] = (nodes, text, depth + 1)
    return done[id(root)]


_DISPATCH: dict[str, Any] = {
    **dict.fromkeys(("PROTO", "FRAME"), _Machine.op_ignore),
    **dict.fromkeys(("NONE", "NEWTRUE", "NEWFALSE", "FLOAT", "BINFLOAT"), _Machine.op_atom),
    **dict.fromkeys(
        ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"), _Machine.op_int
    ),
    **dict.fromkeys(_TEXTS, _Machine.op_text),
    **dict.fromkeys(_EMPTY, _Machine.op_empty),
    "EMPTY_TUPLE": _Machine.op_empty_tuple,
    "MARK": _Machine.op_mark,
    "POP": _Machine.op_pop,
    "POP_MARK": _Machine.op_pop_mark,
    "DUP": _Machine.op_dup,
    **dict.fromkeys(("PUT", "BINPUT", "LONG_BINPUT"), _Machine.op_put),
    "MEMOIZE": _Machine.op_memoize,
    **dict.fromkeys(("GET", "BINGET", "LONG_BINGET"), _Machine.op_get),
    "TUPLE": _Machine.op_tuple,
    **dict.fromkeys(("TUPLE1", "TUPLE2", "TUPLE3"), _Machine.op_tuple_n),
    "LIST": _Machine.op_list,
    "DICT": _Machine.op_dict,
    "FROZENSET": _Machine.op_frozenset,
    "APPEND": _Machine.op_append,
    "APPENDS": _Machine.op_appends,
    "SETITEM": _Machine.op_setitem,
    "SETITEMS": _Machine.op_setitems,
    "ADDITEMS": _Machine.op_additems,
    "GLOBAL": _Machine.op_global,
    "STACK_GLOBAL": _Machine.op_stack_global,
    **dict.fromkeys(("REDUCE", "NEWOBJ"), _Machine.op_reduce),
    "NEWOBJ_EX": _Machine.op_newobj_ex,
}
