"""Step 1 of a batch write: timestamps, transforms, the filter and intervals; every dropped row counted."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from ingest_helpers import DAY, HOUR, T0, filtered, task

from grove.ingest.stats import RowStats


def ts_spec(**kw: Any) -> dict[str, Any]:
    return task(timestamp={"column": "ts", "format": kw.pop("format", "auto"), **kw})


def assert_accounted(stats: RowStats, rows_in: int) -> None:
    """Every input row is either processed or dropped for exactly one counted reason."""
    assert stats.rows_read == rows_in
    assert stats.processed + stats.bad_timestamp + stats.filtered + stats.outside_intervals == rows_in


# --- timestamps ---------------------------------------------------------------------------------------


def test_bad_missing_and_empty_timestamps_are_unparseable() -> None:
    table = pa.table(
        {
            "ts": ["2020-01-01T01:00:00Z", None, "garbage", "", "2020-01-01T02:00:00.500Z"],
            "d": ["a", "b", "c", "d", "e"],
        }
    )
    rows, stats = filtered(table, ts_spec(format="iso"))
    assert rows.table.column("d").to_pylist() == ["a", "e"]
    assert rows.times.tolist() == [T0 + HOUR, T0 + 2 * HOUR + 500]
    assert (stats.bad_timestamp, stats.unparseable, stats.processed) == (3, 3, 2)
    assert stats.samples and "[ts]" in stats.samples[0]
    assert_accounted(stats, 5)


def test_missing_value_stands_in_for_null_and_empty_but_not_for_garbage() -> None:
    table = pa.table({"ts": ["2020-01-01T01:00:00Z", None, "garbage", ""], "d": ["a", "b", "c", "d"]})
    rows, stats = filtered(table, ts_spec(format="iso", missingValue="2020-01-02T00:00:00Z"))
    assert rows.table.column("d").to_pylist() == ["a", "b", "d"]
    assert rows.times.tolist() == [T0 + HOUR, T0 + DAY, T0 + DAY]
    assert stats.bad_timestamp == 1
    assert_accounted(stats, 4)


def test_absent_timestamp_column_uses_missing_value_or_drops_every_row() -> None:
    table = pa.table({"other": ["2020-01-01", "2020-01-02"], "d": ["a", "b"]})
    rows, stats = filtered(table, ts_spec(missingValue=T0 + 5))
    assert rows.times.tolist() == [T0 + 5, T0 + 5]
    assert stats.bad_timestamp == 0

    rows, stats = filtered(table, ts_spec())
    assert rows.num_rows == 0
    assert (stats.bad_timestamp, stats.processed) == (2, 0)
    assert_accounted(stats, 2)


@pytest.mark.parametrize(
    ("fmt", "values", "expected"),
    [
        ("millis", [T0, T0 + 1], [T0, T0 + 1]),
        ("posix", [T0 // 1000, T0 // 1000 + 60], [T0, T0 + 60_000]),
        ("auto", ["2020-01-01T00:00:00Z", str(T0 + 7)], [T0, T0 + 7]),
        ("yyyy-MM-dd HH:mm", ["2020-01-01 01:30", "2020-01-02 00:00"], [T0 + 90 * 60_000, T0 + DAY]),
    ],
)
def test_timestamp_formats(fmt: str, values: list[Any], expected: list[int]) -> None:
    rows, stats = filtered(pa.table({"ts": [*values, None]}), ts_spec(format=fmt))
    assert rows.times.tolist() == expected
    assert stats.bad_timestamp == 1


# --- transforms ---------------------------------------------------------------------------------------


def test_transform_replacing_time_moves_rows_and_drops_null_results() -> None:
    spec = task(
        timestamp={"column": "ts", "format": "millis"},
        transform={
            "transforms": [{"type": "expression", "name": "__time", "expression": "timestamp_parse(real)"}]
        },
    )
    table = pa.table(
        {
            "ts": [1, 2, 3, 4],
            "real": ["2020-01-01T00:00:00Z", "not a time", None, "2020-01-03T12:00:00Z"],
            "d": ["a", "b", "c", "d"],
        }
    )
    rows, stats = filtered(table, spec)
    assert rows.times.tolist() == [T0, T0 + 2 * DAY + 12 * HOUR]
    assert rows.table.column("d").to_pylist() == ["a", "d"]
    assert stats.bad_timestamp == 2
    assert_accounted(stats, 4)


def test_transform_shadowing_an_input_column_is_what_the_filter_and_the_output_see() -> None:
    spec = task(
        transform={
            "transforms": [
                {"type": "expression", "name": "page", "expression": "upper(page)"},
                # Transforms read the input row, not each other's output (as in Druid).
                {"type": "expression", "name": "original", "expression": "concat(page, '!')"},
                {"type": "expression", "name": "doubled", "expression": "v * 2"},
            ],
            "filter": {"type": "selector", "dimension": "page", "value": "KEEP"},
        },
    )
    table = pa.table({"ts": [T0, T0 + 1, T0 + 2], "page": ["keep", "drop", "Keep"], "v": [1, 2, 3]})
    rows, stats = filtered(table, spec)
    out = rows.table.to_pydict()
    assert out["page"] == ["KEEP", "KEEP"]
    assert out["original"] == ["keep!", "Keep!"]
    assert out["doubled"] == [2, 6]
    assert stats.filtered == 1
    assert_accounted(stats, 3)


# --- filter -------------------------------------------------------------------------------------------

FILTER_TABLE = pa.table(
    {
        "ts": [T0 + i for i in range(5)],
        "page": ["a", None, "b", "c", "a"],
        "n": [1, None, 3, 4, 5],
    }
)


@pytest.mark.parametrize(
    ("flt", "kept"),
    [
        ({"type": "selector", "dimension": "page", "value": "a"}, [0, 4]),
        ({"type": "expression", "expression": "n > 2"}, [2, 3, 4]),
        # SQL-compatible nulls (Druid's default): NOT of unknown is unknown, so null rows never match.
        ({"type": "not", "field": {"type": "selector", "dimension": "page", "value": "a"}}, [2, 3]),
        ({"type": "not", "field": {"type": "expression", "expression": "n > 2"}}, [0]),
        ({"type": "not", "field": {"type": "in", "dimension": "page", "values": ["a", "b"]}}, [3]),
        ({"type": "not", "field": {"type": "null", "column": "page"}}, [0, 2, 3, 4]),
        ({"type": "selector", "dimension": "page", "value": None}, [1]),
        ({"type": "selector", "dimension": "absent", "value": None}, [0, 1, 2, 3, 4]),
        (
            {
                "type": "or",
                "fields": [
                    {"type": "expression", "expression": "page == 'c'"},
                    {"type": "bound", "dimension": "n", "lower": "0", "upper": "1", "ordering": "numeric"},
                ],
            },
            [0, 3],
        ),
        (
            {
                "type": "interval",
                "dimension": "__time",
                "intervals": ["2020-01-01T00:00:00.001Z/2020-01-01T00:00:00.003Z"],
            },
            [1, 2],
        ),
    ],
)
def test_filter_keeps_matching_rows_and_counts_the_others(flt: dict[str, Any], kept: list[int]) -> None:
    rows, stats = filtered(FILTER_TABLE, task(transform={"filter": flt}))
    assert [t - T0 for t in rows.times.tolist()] == kept
    assert stats.filtered == 5 - len(kept)
    assert_accounted(stats, 5)


# --- intervals ----------------------------------------------------------------------------------------


def test_rows_outside_the_intervals_are_thrown_away_start_inclusive_end_exclusive() -> None:
    spec = task(
        granularity={
            "segmentGranularity": "day",
            "intervals": ["2020-01-01T00:00:00Z/2020-01-01T02:00:00Z", "2020-01-03/2020-01-04"],
        }
    )
    times = [T0 - 1, T0, T0 + 2 * HOUR - 1, T0 + 2 * HOUR, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]
    rows, stats = filtered(pa.table({"ts": times}), spec)
    assert rows.times.tolist() == [T0, T0 + 2 * HOUR - 1, T0 + 2 * DAY]
    assert stats.outside_intervals == 4
    assert stats.thrown_away == 4
    assert_accounted(stats, len(times))


def test_every_reason_at_once_is_counted_separately() -> None:
    spec = task(
        timestamp={"column": "ts", "format": "iso"},
        granularity={"segmentGranularity": "day", "intervals": ["2020-01-01/2020-01-02"]},
        transform={"filter": {"type": "not", "field": {"type": "selector", "dimension": "d", "value": "x"}}},
    )
    table = pa.table(
        {
            "ts": [
                "2020-01-01T01:00:00Z",  # kept
                "bad",  # unparseable
                "2020-01-01T02:00:00Z",  # filtered (d = x)
                "2020-01-01T03:00:00Z",  # filtered (d is null: NOT of unknown)
                "2020-01-05T00:00:00Z",  # outside the interval
            ],
            "d": ["a", "a", "x", None, "a"],
        }
    )
    rows, stats = filtered(table, spec)
    assert rows.num_rows == 1
    assert (stats.processed, stats.bad_timestamp, stats.filtered, stats.outside_intervals) == (1, 1, 2, 1)
    report = stats.to_json()
    assert report["processed"] == 1
    assert report["unparseable"] == 1
    assert report["thrownAway"] == 3
    assert report["dropped"] == {"malformed": 0, "badTimestamp": 1, "filtered": 2, "outsideIntervals": 1}
    assert_accounted(stats, 5)


def test_stats_accumulate_over_batches() -> None:
    spec = ts_spec(format="iso")
    total = RowStats()
    for values in (["2020-01-01T00:00:00Z", "x"], ["y", None, "2020-01-02T00:00:00Z"]):
        _, stats = filtered(pa.table({"ts": values}), spec)
        total.add(stats)
    assert (total.processed, total.bad_timestamp, total.rows_read) == (2, 3, 5)
