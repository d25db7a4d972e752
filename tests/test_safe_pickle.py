"""The restricted unpickler of shelve stores: it runs no code and bounds what it builds.

Hostile pickles are written opcode by opcode where pickling them would itself hang or recurse.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path, PosixPath, PurePosixPath
from typing import Any

import pytest

import sessionlens
from sessionlens.errors import StoreError
from sessionlens.stores.safe_pickle import MAX_DEPTH, safe_loads
from storetools import bomb_pickle, deep_pickle, hash_bomb_pickle, hostile_shelve_store

SRC = str(Path(sessionlens.__file__).resolve().parents[1])  # the code under test
TESTS = str(Path(__file__).resolve().parent)


def refused(data: bytes) -> str:
    """The one-line refusal of ``data``, which must come in well under a second."""
    started = time.perf_counter()
    with pytest.raises(StoreError) as info:
        safe_loads(data, "store.dat (key 'git')")
    assert time.perf_counter() - started < 1.0
    message = str(info.value)
    assert "\n" not in message and message.startswith("store.dat (key 'git'): ")
    return message


@pytest.mark.torture
def test_the_pickle_bomb_is_refused_in_one_line_at_once() -> None:
    data = bomb_pickle()
    assert len(data) < 300
    message = refused(data)
    assert "more than 200,000 objects" in message and "shared references" in message


@pytest.mark.torture
def test_a_tuple_bomb_used_as_a_dict_key_is_refused_before_the_loader_hashes_it() -> None:
    assert "refused to unpickle" in refused(hash_bomb_pickle())


def test_cycles_are_refused() -> None:
    looped: list[Any] = []
    looped.append(looped)
    assert "contains itself" in refused(pickle.dumps(looped, protocol=4))
    mapping: dict[str, Any] = {}
    mapping["me"] = [1, {"again": mapping}]
    assert "contains itself" in refused(pickle.dumps(mapping, protocol=4))


@pytest.mark.torture
def test_deep_nesting_is_refused_without_recursion() -> None:
    assert f"deeper than {MAX_DEPTH} levels" in refused(deep_pickle(50_000))
    tuples = b"\x80\x04" + b"(" * 50_000 + b")" + b"t" * 50_000 + b"."  # MARK...TUPLE
    assert f"deeper than {MAX_DEPTH} levels" in refused(tuples)
    fine: list[Any] = []
    for _ in range(MAX_DEPTH - 1):
        fine = [fine]
    assert safe_loads(pickle.dumps(fine, protocol=4), "x") == fine


def test_constructors_that_allocate_from_an_integer_are_bounded() -> None:
    ten_gb = (
        b"\x80\x04\x8c\x08builtins\x8c\tbytearray\x93"  # STACK_GLOBAL builtins.bytearray
        b"\x8a\x05\x00\xe4\x0bT\x02\x85R."  # LONG1 10**10, TUPLE1, REDUCE
    )
    assert "bytearray(10,000,000,000)" in refused(ten_gb)
    # the same name with a small size, or with bytes, is plain data
    small = ten_gb.replace(b"\x8a\x05\x00\xe4\x0bT\x02", b"K\x03")
    assert safe_loads(small, "x") == bytearray(3)


def test_numbers_with_colliding_hashes_cannot_make_the_loader_quadratic() -> None:
    modulus = sys.hash_info.modulus  # hash(k * modulus) == 0 for every k
    keys = {k * modulus: k for k in range(1, 1500)}
    assert "non-text keys" in refused(pickle.dumps(keys, protocol=4))


def test_huge_integers_are_refused() -> None:
    assert "integer of" in refused(pickle.dumps([1 << 100_000], protocol=4))


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_plain_data_and_paths_load_as_before(protocol: int) -> None:
    value = {
        "project_path": PosixPath("/home/ana/proj"),
        "cli": {"args": (), "params": {"tag": ("a", "b"), "params": {"scale": 3}}},
        "od": collections.OrderedDict(b=1, a=2),
        "set": {1, 2},
        "frozen": frozenset({"x"}),
        "bytes": bytearray(b"xy"),
        "complex": complex(1, 2),
        "when": datetime.datetime(2026, 11, 25, 9, 44, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2026, 11, 25),
        "took": datetime.timedelta(seconds=3),
        "price": decimal.Decimal("1.50"),
        "tuple_keys": {(1, 2): "x"},
        "shared": [[1, 2]] * 3,
    }
    loaded = safe_loads(pickle.dumps(value, protocol=protocol), "x")
    assert loaded == {**value, "project_path": PurePosixPath("/home/ana/proj")}


def test_code_is_still_refused_by_name() -> None:
    message = refused(pickle.dumps(os.system, protocol=4))
    assert "refused to unpickle posix.system" in message or "nt.system" in message


def test_a_class_named_beyond_ascii_is_refused_by_its_name() -> None:
    """pickletools reads GLOBAL names as ASCII, the unpickler as UTF-8: the refusal still names
    the module and class the pickle chose (shown to people, so it must say what it refused)."""
    with pytest.raises(StoreError) as info:
        safe_loads("cmödule\nKläss\n.".encode(), "src")
    assert "refused to unpickle mödule.Kläss" in str(info.value)


@pytest.mark.torture
def test_listing_a_shelve_store_with_the_bomb_is_fast_and_small(tmp_path: Path) -> None:
    """Before: ``list`` grew past 1.1 GB in 30 s and never finished. Now, in a process whose
    address space is capped at 512 MiB, the whole store lists in well under a second."""
    good, bad = hostile_shelve_store(tmp_path / "sessions")
    script = f"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
sys.path[:0] = [{SRC!r}, {TESTS!r}]
from sessionlens.stores import open_store
started = time.perf_counter()
with open_store({str(tmp_path / "sessions")!r}) as store:
    rows = store.list_summaries(limit=None)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"elapsed": elapsed, "peak_kib": peak,
                  "rows": {{r.session_id: [r.status, r.problem] for r in rows}}}}))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    import json

    result = json.loads(proc.stdout)
    assert result["elapsed"] < 1.0
    assert result["peak_kib"] < 200 * 1024
    rows = result["rows"]
    assert len(rows) == len(good) + len(bad)
    assert rows[bad["bomb"]][0] == "unreadable" and "200,000 objects" in rows[bad["bomb"]][1]
    assert all(rows[sid][0] == "completed" for sid in good)
