"""Granularities: simple names, periods in a time zone, origins, durations; vectorised and scalar agree.

DuckDB's ``date_trunc``/``time_bucket`` are the independent oracle for UTC calendar buckets and for
day-and-longer buckets in a zone.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pytest

from grove.common.granularity import (
    SIMPLE_GRANULARITIES,
    AllGranularity,
    DurationGranularity,
    Granularity,
    NoneGranularity,
    PeriodGranularity,
)
from grove.common.intervals import Interval
from grove.common.time import MAX_INSTANT, MIN_INSTANT, format_timestamp, parse_timestamp
from grove.errors import InvalidInput

HOUR = 3_600_000
DAY = 24 * HOUR
LA = ZoneInfo("America/Los_Angeles")
SAMPLE = parse_timestamp("2015-09-12T13:47:31.123Z")  # a Saturday


def utc(text: str) -> int:
    return parse_timestamp(text)


def la(text: str) -> int:
    return parse_timestamp(text, LA)


EXPECTED_SIMPLE = {
    "second": "2015-09-12T13:47:31.000Z",
    "minute": "2015-09-12T13:47:00.000Z",
    "five_minute": "2015-09-12T13:45:00.000Z",
    "ten_minute": "2015-09-12T13:40:00.000Z",
    "fifteen_minute": "2015-09-12T13:45:00.000Z",
    "thirty_minute": "2015-09-12T13:30:00.000Z",
    "hour": "2015-09-12T13:00:00.000Z",
    "six_hour": "2015-09-12T12:00:00.000Z",
    "eight_hour": "2015-09-12T08:00:00.000Z",
    "day": "2015-09-12T00:00:00.000Z",
    "week": "2015-09-07T00:00:00.000Z",
    "month": "2015-09-01T00:00:00.000Z",
    "quarter": "2015-07-01T00:00:00.000Z",
    "year": "2015-01-01T00:00:00.000Z",
}
EXPECTED_NEXT = {
    "second": "2015-09-12T13:47:32.000Z",
    "minute": "2015-09-12T13:48:00.000Z",
    "five_minute": "2015-09-12T13:50:00.000Z",
    "ten_minute": "2015-09-12T13:50:00.000Z",
    "fifteen_minute": "2015-09-12T14:00:00.000Z",
    "thirty_minute": "2015-09-12T14:00:00.000Z",
    "hour": "2015-09-12T14:00:00.000Z",
    "six_hour": "2015-09-12T18:00:00.000Z",
    "eight_hour": "2015-09-12T16:00:00.000Z",
    "day": "2015-09-13T00:00:00.000Z",
    "week": "2015-09-14T00:00:00.000Z",
    "month": "2015-10-01T00:00:00.000Z",
    "quarter": "2015-10-01T00:00:00.000Z",
    "year": "2016-01-01T00:00:00.000Z",
}


def test_every_simple_name_is_covered() -> None:
    assert set(EXPECTED_SIMPLE) == set(SIMPLE_GRANULARITIES)


@pytest.mark.parametrize("name", sorted(EXPECTED_SIMPLE))
def test_simple_granularities(name: str) -> None:
    for spelling in (name, name.upper(), {"type": name}):
        g = Granularity.parse(spelling)
        start = g.truncate(SAMPLE)
        assert format_timestamp(start) == EXPECTED_SIMPLE[name]
        assert format_timestamp(g.increment(start)) == EXPECTED_NEXT[name]
        assert g.bucket_starts(np.array([SAMPLE], dtype=np.int64)).tolist() == [start]
        assert g.to_json() == name
        assert Granularity.parse(g.to_json()) == g


def test_all_and_none() -> None:
    g_all = Granularity.parse("all")
    assert isinstance(g_all, AllGranularity) and g_all == Granularity.parse({"type": "all"})
    assert g_all.truncate(SAMPLE) == MIN_INSTANT and g_all.increment(MIN_INSTANT) == MAX_INSTANT
    assert g_all.bucket_starts(np.array([1, SAMPLE], dtype=np.int64)).tolist() == [MIN_INSTANT] * 2
    iv = Interval(utc("2015-09-01"), utc("2015-10-01"))
    assert list(g_all.iterate(iv)) == [iv]
    g_none = Granularity.parse("NONE")
    assert isinstance(g_none, NoneGranularity)
    assert g_none.truncate(SAMPLE) == SAMPLE and g_none.increment(SAMPLE) == SAMPLE + 1
    assert list(g_none.iterate(Interval(5, 8))) == [Interval(5, 6), Interval(6, 7), Interval(7, 8)]
    arr = np.array([3, 1, 2], dtype=np.int64)
    out = g_none.bucket_starts(arr)
    assert out.tolist() == [3, 1, 2] and out is not arr
    assert g_all.to_json() == "all" and g_none.to_json() == "none"


def test_week_starts_on_monday_everywhere() -> None:
    for spec in (
        "week",
        {"type": "period", "period": "P1W"},
        {"type": "period", "period": "P1W", "timeZone": "America/Los_Angeles"},
    ):
        g = Granularity.parse(spec)
        rng = random.Random(1)
        for _ in range(200):
            ms = rng.randrange(utc("1960-01-01"), utc("2040-01-01"))
            start = g.truncate(ms)
            local = datetime.fromtimestamp(start / 1000, g.tz)
            assert local.weekday() == 0 and (local.hour, local.minute) == (0, 0)
            assert start <= ms < g.increment(start)


def test_day_in_los_angeles_starts_at_local_midnight_across_dst() -> None:
    g = Granularity.parse({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"})
    assert g.truncate(la("2015-03-08T12:00:00")) == la("2015-03-08")
    assert g.truncate(la("2015-03-08T01:59:59.999")) == la("2015-03-08")
    assert g.truncate(la("2015-03-08T03:00:00")) == la("2015-03-08")
    assert g.increment(la("2015-03-08")) - la("2015-03-08") == 23 * HOUR
    assert g.increment(la("2015-11-01")) - la("2015-11-01") == 25 * HOUR
    assert g.truncate(la("2015-11-01T23:59:59.999")) == la("2015-11-01")
    assert g.truncate(la("2015-11-02")) == la("2015-11-02")
    assert g.truncate(utc("2015-09-12T06:59:59.999Z")) == utc("2015-09-11T07:00:00Z")
    assert g.truncate(utc("2015-09-12T07:00:00Z")) == utc("2015-09-12T07:00:00Z")
    buckets = list(g.iterate(Interval(la("2015-03-07"), la("2015-03-10"))))
    assert [b.duration for b in buckets] == [24 * HOUR, 23 * HOUR, 24 * HOUR]
    buckets = list(g.iterate(Interval(la("2015-10-31T12:00:00"), la("2015-11-02T00:00:01"))))
    assert [b.duration for b in buckets] == [24 * HOUR, 25 * HOUR, 24 * HOUR]
    assert g.to_json() == {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"}


def test_hours_in_los_angeles_across_dst() -> None:
    g = Granularity.parse({"type": "period", "period": "PT1H", "timeZone": "America/Los_Angeles"})
    # Spring forward: the local day has 23 hour buckets, each one real hour long.
    day = list(g.iterate(Interval(la("2015-03-08"), la("2015-03-09"))))
    assert len(day) == 23 and all(b.duration == HOUR for b in day)
    # Fall back: 25 hour buckets, the repeated 01:00 hour is two buckets (one per offset).
    day = list(g.iterate(Interval(la("2015-11-01"), la("2015-11-02"))))
    assert len(day) == 25 and all(b.duration == HOUR for b in day)
    first_one = utc("2015-11-01T08:00:00Z")  # 01:00 PDT
    second_one = utc("2015-11-01T09:00:00Z")  # 01:00 PST
    assert g.truncate(first_one + 30 * 60_000) == first_one
    assert g.truncate(second_one + 30 * 60_000) == second_one
    assert g.increment(first_one) == second_one
    # Los Angeles offsets are whole hours, so its hour buckets are UTC's hour buckets.
    rng = np.random.default_rng(3)
    times = rng.integers(utc("2014-01-01"), utc("2017-01-01"), 5000)
    assert (g.bucket_starts(times) == times - times % HOUR).all()


def test_hours_in_a_half_hour_zone() -> None:
    g = Granularity.parse({"type": "period", "period": "PT1H", "timeZone": "Asia/Kolkata"})
    assert g.truncate(utc("2015-09-12T10:10:00Z")) == utc("2015-09-12T09:30:00Z")
    assert g.truncate(utc("2015-09-12T10:40:00Z")) == utc("2015-09-12T10:30:00Z")
    g = Granularity.parse({"type": "period", "period": "P1D", "timeZone": "+05:30"})
    assert g.truncate(utc("2015-09-12T10:10:00Z")) == utc("2015-09-11T18:30:00Z")


def test_day_when_local_midnight_does_not_exist() -> None:
    # Sao Paulo moved its clocks from 00:00 to 01:00 on 2018-11-04: that day starts at 01:00 local.
    g = Granularity.parse({"type": "period", "period": "P1D", "timeZone": "America/Sao_Paulo"})
    day_start = utc("2018-11-04T03:00:00Z")  # 01:00 -02:00
    assert g.truncate(day_start + 5 * HOUR) == day_start
    assert g.truncate(day_start - 1) == utc("2018-11-03T03:00:00Z")
    assert g.increment(day_start) == utc("2018-11-05T02:00:00Z")
    assert g.increment(utc("2018-11-03T03:00:00Z")) == day_start


def test_origin() -> None:
    g = Granularity.parse({"type": "period", "period": "P1D", "origin": "2015-01-01T06:00:00Z"})
    assert g.truncate(utc("2015-09-12T05:00:00Z")) == utc("2015-09-11T06:00:00Z")
    assert g.truncate(utc("2015-09-12T06:00:00Z")) == utc("2015-09-12T06:00:00Z")
    assert g.truncate(utc("2014-06-01T07:00:00Z")) == utc("2014-06-01T06:00:00Z")  # before the origin
    g = Granularity.parse({"type": "period", "period": "PT1H", "origin": "1970-01-01T00:30:00Z"})
    assert g.truncate(utc("2015-09-12T10:10:00Z")) == utc("2015-09-12T09:30:00Z")
    g = Granularity.parse({"type": "period", "period": "P1M", "origin": "2015-01-15"})
    assert g.truncate(utc("2015-09-12")) == utc("2015-08-15")
    assert g.increment(utc("2015-08-15")) == utc("2015-09-15")
    g = Granularity.parse({"type": "period", "period": "P1W", "origin": "2015-09-10"})  # a Thursday
    assert g.truncate(utc("2015-09-12")) == utc("2015-09-10")
    g = Granularity.parse({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles", "origin": 0})
    # The origin is 16:00 local on 1969-12-31, and calendar days keep that local time of day.
    assert g.truncate(utc("2015-09-12T12:00:00Z")) == la("2015-09-11T16:00:00")
    assert g.increment(la("2015-11-01T16:00:00")) == la("2015-11-02T16:00:00")
    assert Granularity.parse(g.to_json()) == g


def test_duration_granularity() -> None:
    g = Granularity.parse({"type": "duration", "duration": HOUR})
    assert isinstance(g, DurationGranularity)
    assert g.truncate(SAMPLE) == utc("2015-09-12T13:00:00Z") and g.increment(0) == HOUR
    assert g.truncate(-1) == -HOUR
    g = Granularity.parse({"type": "duration", "duration": 7, "origin": 3})
    assert [g.truncate(t) for t in (-5, 2, 3, 9, 10, 11)] == [-11, -4, 3, 3, 10, 10]
    g = Granularity.parse({"type": "duration", "duration": DAY, "origin": "2015-01-01T06:00:00Z"})
    assert g.truncate(utc("2015-09-12T05:00:00Z")) == utc("2015-09-11T06:00:00Z")
    assert g.to_json() == {"type": "duration", "duration": DAY, "origin": utc("2015-01-01T06:00:00Z")}
    assert Granularity.parse(g.to_json()) == g
    assert Granularity.parse({"type": "duration", "duration": 60000}).to_json() == {
        "type": "duration",
        "duration": 60000,
    }


@pytest.mark.parametrize(
    "spec",
    [
        "bogus",
        "",
        12,
        None,
        True,
        ["day"],
        {},
        {"type": 3},
        {"type": "bogus"},
        {"type": "period"},
        {"type": "period", "period": "P0D"},
        {"type": "period", "period": "1D"},
        {"type": "period", "period": 86400000},
        {"type": "period", "period": "P1D", "timeZone": "Mars/Olympus"},
        {"type": "period", "period": "P1D", "timeZone": 5},
        {"type": "period", "period": "P1D", "origin": "yesterday"},
        {"type": "period", "period": "P1D", "origin": True},
        {"type": "duration"},
        {"type": "duration", "duration": 0},
        {"type": "duration", "duration": -5},
        {"type": "duration", "duration": True},
        {"type": "duration", "duration": "3600000"},
        {"type": "duration", "duration": 5, "origin": [1]},
    ],
)
def test_parse_rejects_bad_specs(spec: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        Granularity.parse(spec, "query.granularity")
    assert err.value.path is not None and err.value.path.startswith("query.granularity")


def test_equality_and_hash() -> None:
    a = Granularity.parse({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"})
    b = Granularity.parse({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Granularity.parse("day")
    assert Granularity.parse("day") == Granularity.parse("DAY")
    assert Granularity.parse(a) is a
    assert "P1D" in repr(a)


def test_is_aligned() -> None:
    day = Granularity.parse("day")
    assert day.is_aligned(Interval(utc("2015-09-12"), utc("2015-09-14")))
    assert not day.is_aligned(Interval(utc("2015-09-12"), utc("2015-09-13T01:00:00Z")))
    assert Granularity.parse("none").is_aligned(Interval(3, 7))


# --- property tests: vectorised bucket_starts, truncate, increment and iterate agree ----------------

PROPERTY_SPECS: list[Any] = [
    *sorted(SIMPLE_GRANULARITIES),
    {"type": "period", "period": "PT1S", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "PT15M", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "PT1H", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "PT6H", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "PT8H", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "PT7H", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "P2D", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "P1DT12H", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "P1W", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "P1M", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "P3M", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "P1Y", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "PT1H", "timeZone": "Asia/Kolkata"},
    {"type": "period", "period": "P1D", "timeZone": "+05:30"},
    {"type": "period", "period": "PT1H", "timeZone": "Australia/Lord_Howe"},
    {"type": "period", "period": "PT30M", "timeZone": "Australia/Lord_Howe"},
    {"type": "period", "period": "P1D", "timeZone": "Australia/Lord_Howe"},
    {"type": "period", "period": "P1D", "timeZone": "America/Sao_Paulo"},
    {"type": "period", "period": "PT1H", "timeZone": "America/Sao_Paulo"},
    {"type": "period", "period": "P2W"},
    {"type": "period", "period": "P2M"},
    {"type": "period", "period": "PT90M"},
    {"type": "period", "period": "P1DT12H"},
    {"type": "period", "period": "P1D", "origin": "2015-01-01T06:00:00Z"},
    {"type": "period", "period": "PT1H", "origin": "2015-01-01T00:30:00Z"},
    {"type": "period", "period": "P1W", "origin": "2015-09-10T00:00:00Z"},
    {"type": "period", "period": "P1M", "origin": "2015-01-15T00:00:00Z"},
    {"type": "period", "period": "P1M", "origin": "2012-01-31T00:00:00Z"},
    {"type": "period", "period": "P1Y", "origin": "2012-02-29T12:00:00Z"},
    {"type": "period", "period": "P3M", "timeZone": "America/Los_Angeles", "origin": "2015-02-01T00:00:00Z"},
    {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles", "origin": "2015-01-01T03:00:00Z"},
    {"type": "period", "period": "PT1H", "timeZone": "America/Los_Angeles", "origin": "2015-01-01T00:20:00Z"},
    {"type": "duration", "duration": HOUR},
    {"type": "duration", "duration": 7, "origin": 3},
    {"type": "duration", "duration": 5 * DAY, "origin": "2015-01-01T06:00:00Z"},
]

# Instants near daylight saving changes, around the epoch, long before and long after it.
ANCHORS = [
    "2015-03-08T10:00:00Z",
    "2015-11-01T09:00:00Z",
    "2015-04-05T15:00:00Z",
    "2015-10-03T15:30:00Z",
    "2018-11-04T03:00:00Z",
    "1970-01-01T00:00:00Z",
    "1969-12-29T00:00:00Z",
    "1901-06-15T00:00:00Z",
    "2099-02-28T00:00:00Z",
]


def _approx_bucket(g: Granularity) -> int:
    start = g.truncate(utc("2015-06-15T12:00:00Z"))
    return max(g.increment(start) - start, 1)


@pytest.mark.parametrize("spec", PROPERTY_SPECS, ids=str)
def test_bucket_starts_agrees_with_truncate_and_increment(spec: Any) -> None:
    g = Granularity.parse(spec)
    rng = random.Random(hash(str(spec)) % 1000 + 17)
    width = _approx_bucket(g) * 300
    times = []
    for anchor in ANCHORS:
        base = utc(anchor)
        times += [base + rng.randrange(-width, width) for _ in range(60)]
        times += [base + k for k in range(-2, 3)]
    arr = np.array(times, dtype=np.int64)
    vectorised = g.bucket_starts(arr)
    scalar = np.array([g.truncate(int(t)) for t in arr], dtype=np.int64)
    mismatch = np.flatnonzero(vectorised != scalar)
    assert not len(mismatch), [
        (
            format_timestamp(int(arr[i])),
            format_timestamp(int(vectorised[i])),
            format_timestamp(int(scalar[i])),
        )
        for i in mismatch[:5]
    ]
    for t, start in zip(times, scalar.tolist(), strict=True):
        nxt = g.increment(start)
        assert start <= t < nxt, (format_timestamp(t), format_timestamp(start), format_timestamp(nxt))
        assert g.truncate(start) == start
        assert g.truncate(nxt) == nxt
        assert g.truncate(nxt - 1) == start
    # Unsorted input with duplicates, and the empty array.
    shuffled = arr[::-1].copy()
    assert (g.bucket_starts(shuffled) == scalar[::-1]).all()
    assert g.bucket_starts(np.zeros(0, dtype=np.int64)).tolist() == []


@pytest.mark.parametrize("spec", PROPERTY_SPECS, ids=str)
def test_iterate_is_contiguous_and_consistent(spec: Any) -> None:
    g = Granularity.parse(spec)
    rng = random.Random(23)
    width = _approx_bucket(g) * 40
    for anchor in ANCHORS[:5]:
        lo = utc(anchor) + rng.randrange(-width, width)
        hi = lo + rng.randrange(1, width)
        buckets = list(g.iterate(Interval(lo, hi)))
        assert buckets[0].start == g.truncate(lo)
        assert buckets[-1].start <= hi - 1 < buckets[-1].end
        for left, right in itertools.pairwise(buckets):
            assert left.end == right.start
        for b in buckets:
            assert g.truncate(b.start) == b.start and g.increment(b.start) == b.end
        starts = g.boundaries(lo, hi - 1)
        assert starts.tolist() == [b.start for b in buckets]
    assert list(g.iterate(Interval(5, 5))) == []


# --- DuckDB as the oracle ----------------------------------------------------------------------------

DUCKDB_UTC = {
    "second": "date_trunc('second', ts)",
    "minute": "date_trunc('minute', ts)",
    "five_minute": "time_bucket(INTERVAL '5 minutes', ts, TIMESTAMP '1970-01-01')",
    "ten_minute": "time_bucket(INTERVAL '10 minutes', ts, TIMESTAMP '1970-01-01')",
    "fifteen_minute": "time_bucket(INTERVAL '15 minutes', ts, TIMESTAMP '1970-01-01')",
    "thirty_minute": "time_bucket(INTERVAL '30 minutes', ts, TIMESTAMP '1970-01-01')",
    "hour": "date_trunc('hour', ts)",
    "six_hour": "time_bucket(INTERVAL '6 hours', ts, TIMESTAMP '1970-01-01')",
    "eight_hour": "time_bucket(INTERVAL '8 hours', ts, TIMESTAMP '1970-01-01')",
    "day": "date_trunc('day', ts)",
    "week": "date_trunc('week', ts)",
    "month": "date_trunc('month', ts)",
    "quarter": "date_trunc('quarter', ts)",
    "year": "date_trunc('year', ts)",
}


def _random_instants(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(utc("1800-01-01"), utc("2200-01-01"), n, dtype=np.int64)


@pytest.mark.parametrize("name", sorted(DUCKDB_UTC))
def test_utc_calendar_granularities_match_duckdb(name: str) -> None:
    times = _random_instants(len(name), 20_000)
    con = duckdb.connect()
    con.register("t", pd.DataFrame({"ms": times}))
    sql = f"SELECT epoch_ms({DUCKDB_UTC[name]}) FROM (SELECT epoch_ms(ms) AS ts, ms FROM t)"
    expected = np.array([r[0] for r in con.execute(sql).fetchall()], dtype=np.int64)
    g = Granularity.parse(name)
    assert (g.bucket_starts(times) == expected).all()
    sample = times[:500]
    assert [g.truncate(int(t)) for t in sample] == expected[:500].tolist()


@pytest.mark.parametrize("unit", ["day", "week", "month", "quarter", "year"])
def test_zoned_calendar_granularities_match_duckdb(unit: str) -> None:
    period = {"day": "P1D", "week": "P1W", "month": "P1M", "quarter": "P3M", "year": "P1Y"}[unit]
    g = Granularity.parse({"type": "period", "period": period, "timeZone": "America/Los_Angeles"})
    rng = np.random.default_rng(41)
    times = np.concatenate(
        [
            rng.integers(utc("1990-01-01"), utc("2030-01-01"), 3000, dtype=np.int64),
            # Dense around the 2015 changes in Los Angeles.
            rng.integers(utc("2015-03-07"), utc("2015-03-10"), 500, dtype=np.int64),
            rng.integers(utc("2015-10-31"), utc("2015-11-03"), 500, dtype=np.int64),
        ]
    )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/Los_Angeles'")
    con.register("t", pd.DataFrame({"ms": times}))
    sql = f"SELECT epoch_ms(date_trunc('{unit}', make_timestamptz(ms * 1000))) FROM t"
    expected = np.array([r[0] for r in con.execute(sql).fetchall()], dtype=np.int64)
    assert (g.bucket_starts(times) == expected).all()
    assert [g.truncate(int(t)) for t in times[:300]] == expected[:300].tolist()


def test_zoned_day_matches_local_midnights_computed_by_zoneinfo() -> None:
    g = Granularity.parse({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"})
    rng = random.Random(8)
    for _ in range(2000):
        ms = rng.randrange(utc("1950-01-01"), utc("2050-01-01"))
        local_date = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).astimezone(LA).date()
        midnight = datetime(local_date.year, local_date.month, local_date.day, tzinfo=LA)
        assert g.truncate(ms) == round(midnight.timestamp() * 1000)


def test_period_granularity_defaults() -> None:
    g = PeriodGranularity(Granularity.parse("day").period)  # type: ignore[attr-defined]
    assert g.to_json() == {"type": "period", "period": "P1D"}
    assert g.truncate(SAMPLE) == utc("2015-09-12")
