"""Instants: ISO-8601 parsing and formatting, zones, Druid's eternity bounds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from grove.common.time import (
    MAX_INSTANT,
    MAX_INSTANT_TEXT,
    MIN_INSTANT,
    MIN_INSTANT_TEXT,
    format_timestamp,
    format_timestamps,
    from_datetime,
    is_utc,
    now_ms,
    parse_timestamp,
    to_datetime,
    zone,
)
from grove.errors import InvalidInput

SEPT_12 = 1442016000000  # 2015-09-12T00:00:00Z
LA = ZoneInfo("America/Los_Angeles")


def utc_ms(*args: int) -> int:
    """Independent oracle: epoch millis of a UTC wall-clock time, through datetime.timestamp()."""
    return round(datetime(*args, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-09-12", SEPT_12),
        ("2015-09", utc_ms(2015, 9, 1)),
        ("2015", utc_ms(2015, 1, 1)),
        ("+2015-09-12", SEPT_12),
        ("2015-09-12T00:00:00Z", SEPT_12),
        ("2015-09-12T00:00:00.000Z", SEPT_12),
        ("2015-09-12T10", utc_ms(2015, 9, 12, 10)),
        ("2015-09-12T10:20", utc_ms(2015, 9, 12, 10, 20)),
        ("2015-09-12T1020", utc_ms(2015, 9, 12, 10, 20)),
        ("2015-09-12T10:20:30", utc_ms(2015, 9, 12, 10, 20, 30)),
        ("2015-09-12T102030", utc_ms(2015, 9, 12, 10, 20, 30)),
        ("2015-09-12 10:20:30", utc_ms(2015, 9, 12, 10, 20, 30)),
        ("2015-09-12T10:20:30.1Z", utc_ms(2015, 9, 12, 10, 20, 30) + 100),
        ("2015-09-12T10:20:30.12Z", utc_ms(2015, 9, 12, 10, 20, 30) + 120),
        ("2015-09-12T10:20:30.123Z", utc_ms(2015, 9, 12, 10, 20, 30) + 123),
        ("2015-09-12T10:20:30,123Z", utc_ms(2015, 9, 12, 10, 20, 30) + 123),
        # Sub-millisecond digits are dropped (truncated), never rounded up into the next millisecond.
        ("2015-09-12T10:20:30.1239Z", utc_ms(2015, 9, 12, 10, 20, 30) + 123),
        ("2015-09-12T10:20:30.123456789Z", utc_ms(2015, 9, 12, 10, 20, 30) + 123),
        ("2015-09-12T00:00:00+00:00", SEPT_12),
        ("2015-09-12T00:00:00-00:00", SEPT_12),
        ("2015-09-12T00:00:00+05:30", SEPT_12 - 330 * 60_000),
        ("2015-09-12T00:00:00+0530", SEPT_12 - 330 * 60_000),
        ("2015-09-12T00:00:00+05", SEPT_12 - 5 * 3_600_000),
        ("2015-09-12T00:00:00-08:00", SEPT_12 + 8 * 3_600_000),
        ("2015-09-12T00:00:00-0800", SEPT_12 + 8 * 3_600_000),
        ("2015-09-12T00:00:00.500-08", SEPT_12 + 8 * 3_600_000 + 500),
        ("  2015-09-12T00:00:00Z  ", SEPT_12),
        ("1969-12-31T23:59:59.999Z", -1),
        ("1970-01-01T00:00:00.000Z", 0),
        ("0001-01-01T00:00:00.000Z", -62135596800000),
        ("9999-12-31T23:59:59.999Z", 253402300799999),
        ("2016-02-29", utc_ms(2016, 2, 29)),
    ],
)
def test_parse_common_forms(text: str, expected: int) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "2015-13-01",
        "2015-00-10",
        "2015-02-30",
        "2015-02-29",
        "2015-09-12T25:00",
        "2015-09-12T24:00:00Z",
        "2015-09-12T10:60",
        "2015-09-12T10:20:61",
        "2015-09-12T10:20:30.Z",
        "2015-9-12",
        "15-09-12",
        "0000-01-01",
        "2015-09-12T00:00:00+5",
        "2015-09-12T00:00:00+25:00",
        "2015-09-12T00:00:00+24:00",
        "2015-09-12T00:00:00+05:99",
        "2015-09-12T00:00:00 UTC",
        "2015-09-12T00:00:00ZZ",
        "2015-09-12/2015-09-13",
        "1442016000000",
    ],
)
def test_parse_rejects_bad_input(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_timestamp(text)
    assert err.value.status == 400


def test_parse_without_offset_reads_the_given_zone() -> None:
    # Midnight in Los Angeles in September is 07:00 UTC (PDT, -07:00), in December 08:00 UTC (PST).
    assert parse_timestamp("2015-09-12", LA) == SEPT_12 + 7 * 3_600_000
    assert parse_timestamp("2015-12-12T00:00:00", LA) == utc_ms(2015, 12, 12, 8)
    # An explicit offset wins over the zone argument.
    assert parse_timestamp("2015-09-12T00:00:00Z", LA) == SEPT_12
    assert parse_timestamp("2015-09-12T00:00:00+01:00", LA) == SEPT_12 - 3_600_000
    assert parse_timestamp("2015-09-12", zone("+05:30")) == SEPT_12 - 330 * 60_000


def test_parse_agrees_with_fromisoformat_on_random_instants() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        ms = rng.randrange(utc_ms(1, 1, 2), utc_ms(9999, 12, 30))
        minutes = rng.randrange(-23 * 60 - 59, 23 * 60 + 60)
        tz = timezone(timedelta(minutes=minutes))
        dt = to_datetime(ms, tz)
        text = dt.isoformat(timespec="milliseconds")
        assert parse_timestamp(text) == ms, text
        assert from_datetime(datetime.fromisoformat(text)) == ms


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (SEPT_12, "2015-09-12T00:00:00.000Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (SEPT_12 + 45_296_789, "2015-09-12T12:34:56.789Z"),
        (-62135596800000, "0001-01-01T00:00:00.000Z"),
        (253402300799999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_format_utc(ms: int, text: str) -> None:
    assert format_timestamp(ms) == text
    assert format_timestamps(np.array([ms], dtype=np.int64)) == [text]
    assert parse_timestamp(text) == ms


def test_format_parse_round_trip_random() -> None:
    rng = random.Random(11)
    values = [rng.randrange(utc_ms(1, 1, 1), utc_ms(9999, 12, 31)) for _ in range(3000)]
    texts = format_timestamps(np.array(values, dtype=np.int64))
    for ms, text in zip(values, texts, strict=True):
        assert text == format_timestamp(ms)
        assert text.endswith("Z") and len(text) == 24
        assert parse_timestamp(text) == ms
        d = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
        assert text == (
            f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}."
            f"{d.microsecond // 1000:03d}Z"
        )


def test_eternity_bounds_round_trip() -> None:
    # Druid prints its eternity interval as exactly these two instants.
    assert MIN_INSTANT == -(2**62) and MAX_INSTANT == 2**62 - 1
    assert format_timestamp(MIN_INSTANT) == MIN_INSTANT_TEXT == "-146136543-09-08T08:23:32.096Z"
    assert format_timestamp(MAX_INSTANT) == MAX_INSTANT_TEXT == "146140482-04-24T15:36:27.903Z"
    assert parse_timestamp(MIN_INSTANT_TEXT) == MIN_INSTANT
    assert parse_timestamp(MAX_INSTANT_TEXT) == MAX_INSTANT
    # Beyond the bounds prints as the bounds; zoned formatting does the same.
    assert format_timestamp(MIN_INSTANT - 5) == MIN_INSTANT_TEXT
    assert format_timestamp(MAX_INSTANT, LA) == MAX_INSTANT_TEXT
    arr = np.array([MIN_INSTANT, SEPT_12, MAX_INSTANT], dtype=np.int64)
    assert format_timestamps(arr) == [MIN_INSTANT_TEXT, "2015-09-12T00:00:00.000Z", MAX_INSTANT_TEXT]


@pytest.mark.parametrize(
    ("tz", "ms", "text"),
    [
        ("America/Los_Angeles", SEPT_12, "2015-09-11T17:00:00.000-07:00"),
        ("America/Los_Angeles", utc_ms(2015, 12, 12), "2015-12-11T16:00:00.000-08:00"),
        ("Asia/Kolkata", SEPT_12 + 123, "2015-09-12T05:30:00.123+05:30"),
        ("+05:30", SEPT_12, "2015-09-12T05:30:00.000+05:30"),
        ("-0800", SEPT_12, "2015-09-11T16:00:00.000-08:00"),
        ("UTC", SEPT_12, "2015-09-12T00:00:00.000Z"),
        ("Etc/UTC", SEPT_12, "2015-09-12T00:00:00.000Z"),
        ("+00:00", SEPT_12, "2015-09-12T00:00:00.000Z"),
        ("Europe/London", utc_ms(2015, 1, 1), "2015-01-01T00:00:00.000Z"),
        ("Europe/London", utc_ms(2015, 7, 1), "2015-07-01T01:00:00.000+01:00"),
    ],
)
def test_zoned_formatting(tz: str, ms: int, text: str) -> None:
    z = zone(tz)
    assert format_timestamp(ms, z) == text
    assert format_timestamps(np.array([ms, ms], dtype=np.int64), z) == [text, text]
    assert parse_timestamp(text) == ms


def test_zoned_formatting_across_dst_change_round_trips() -> None:
    # Every 15 minutes through the 2015 fall-back night in Los Angeles: the repeated hour prints with
    # two different offsets, and every text parses back to its own instant.
    start = utc_ms(2015, 11, 1, 6)
    values = np.arange(start, start + 6 * 3_600_000, 15 * 60_000, dtype=np.int64)
    texts = format_timestamps(values, LA)
    assert len(set(texts)) == len(texts)
    assert "2015-11-01T01:30:00.000-07:00" in texts and "2015-11-01T01:30:00.000-08:00" in texts
    assert [parse_timestamp(t) for t in texts] == values.tolist()


def test_zone_lookup() -> None:
    assert zone(None) is UTC and zone("UTC") is UTC and zone("Z") is UTC and zone("GMT") is UTC
    assert zone("+05:30").utcoffset(None) == timedelta(hours=5, minutes=30)
    assert zone("-0800").utcoffset(None) == timedelta(hours=-8)
    assert zone("+05").utcoffset(None) == timedelta(hours=5)
    assert zone("America/Los_Angeles") == LA
    assert is_utc(zone("UTC")) and is_utc(zone("+00:00")) and not is_utc(LA) and not is_utc(zone("+01:00"))
    for bad in ("Mars/Olympus", "", "+25:00", "+24:00", "+05:60", "12:00", "../etc/passwd"):
        with pytest.raises(InvalidInput):
            zone(bad)


def test_datetime_conversions() -> None:
    assert from_datetime(datetime(2015, 9, 12)) == SEPT_12  # naive means UTC
    assert from_datetime(datetime(2015, 9, 12, tzinfo=UTC)) == SEPT_12
    assert from_datetime(datetime(2015, 9, 11, 17, tzinfo=LA)) == SEPT_12
    assert from_datetime(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1
    rng = random.Random(3)
    for _ in range(500):
        ms = rng.randrange(utc_ms(1, 1, 2), utc_ms(9999, 12, 30))
        assert from_datetime(to_datetime(ms)) == ms
        assert from_datetime(to_datetime(ms, LA)) == ms
    assert to_datetime(SEPT_12, LA).hour == 17


def test_now_is_close_to_the_clock() -> None:
    before = round(datetime.now(UTC).timestamp() * 1000)
    now = now_ms()
    after = round(datetime.now(UTC).timestamp() * 1000)
    assert before - 1 <= now <= after + 1
