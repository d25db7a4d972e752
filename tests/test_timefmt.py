"""Times as people read them: the CLI's ``local_time`` and the app's helpers share one parser."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from sessionlens.timefmt import absolute_time, local_time, parse_time, relative_time

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def in_utc_plus_2() -> Iterator[None]:
    """Local time two hours ahead of UTC (no daylight saving), for the test only."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "XYZ-2"
    time.tzset()
    yield None
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_local_time_shows_utc_in_local_time_and_the_rest_as_written(in_utc_plus_2: None) -> None:
    assert local_time("2026-11-24T14:47:00.123Z") == "2026-11-24 16:47:00"
    assert local_time("2026-11-24T14:47:00+01:00") == "2026-11-24 15:47:00"
    assert local_time("2026-11-24T14:47:00") == "2026-11-24 14:47:00"  # no zone: as written
    assert local_time("yesterday") == "yesterday"  # not a time: shown as the value it is
    assert local_time(None) == "" and local_time("") == ""


def test_the_app_reads_a_time_without_a_zone_as_utc(in_utc_plus_2: None) -> None:
    moment = parse_time("2026-11-24T14:47:00")
    assert moment == datetime(2026, 11, 24, 14, 47, tzinfo=timezone.utc)
    assert absolute_time(moment) == "2026-11-24 16:47:00"
    assert absolute_time(moment, timezone(timedelta(hours=-1))) == "2026-11-24 13:47:00"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (2, "just now"),
        (45, "45s ago"),
        (150, "2m ago"),
        (3 * 3600 + 5, "3h ago"),
        (3 * 86400, "3d ago"),
        (20 * 86400, "2w ago"),
        (100 * 86400, "3mo ago"),
        (800 * 86400, "2y ago"),
        (-600, "in 10m"),
    ],
)
def test_relative_time(seconds: int, expected: str) -> None:
    assert relative_time(NOW - timedelta(seconds=seconds), NOW) == expected


def test_parse_and_absolute_time() -> None:
    moment = parse_time("2026-11-24T14:47:00.000Z")
    assert moment == datetime(2026, 11, 24, 14, 47, tzinfo=timezone.utc)
    assert parse_time("2026-11-24T14:47:00") == moment  # naive means UTC
    assert parse_time("yesterday") is None and parse_time(None) is None
    assert absolute_time(moment, timezone(timedelta(hours=2))) == "2026-11-24 16:47:00"
