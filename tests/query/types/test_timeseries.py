"""timeseries on every segment flavour: granularities, empty buckets, grand totals, order and limit.

Druid facts pinned here (timeseriesquery.md, granularities.md): result ``[{"timestamp", "result"}]``
with ISO timestamps in the granularity's time zone; empty buckets inside the data interval are filled
(count 0, other aggregators null in SQL-compatible mode) unless ``skipEmptyBuckets``; buckets
completely outside the data are not; ``grandTotal`` appends a row without timestamp, last even when
``descending``; granularity ``all`` is stamped with the first row's time when the query starts
earlier, and answers one row even when nothing matches.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from adsdata import COUNT, DAY, HOUR, INTERVAL, ROWS, T0, timeseries
from flavours import Dataset, flavour_runners, table_of

from grove.common.time import format_timestamp, parse_timestamp
from grove.query.runner import QueryRunner

Run = Callable[[dict[str, Any]], list[Any]]
CLICKS = {"type": "longSum", "name": "clicks", "fieldName": "clicks"}
SPEND = {"type": "doubleSum", "name": "spend", "fieldName": "spend"}

# Rows on day 1 between 05:30 and 08:10 and one on day 3; no segment for day 2.
SPARSE = Dataset(
    "sparse",
    table_of(
        [
            {"__time": T0 + 5 * HOUR + 30 * 60_000, "d": "a", "v": 1},
            {"__time": T0 + 8 * HOUR + 10 * 60_000, "d": "b", "v": 2},
            {"__time": T0 + 2 * DAY + 12 * HOUR, "d": "a", "v": 4},
        ],
        {"d": pa.string(), "v": pa.int64()},
    ),
    dimensions=["d"],
    metrics=[{"type": "count", "name": "count"}, {"type": "longSum", "name": "v", "fieldName": "v"}],
)


@pytest.fixture(scope="module")
def sparse_runners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, QueryRunner]]:
    runners = flavour_runners([SPARSE], tmp_path_factory.mktemp)
    yield runners
    for r in runners.values():
        r.close()


@pytest.fixture
def sparse(sparse_runners: dict[str, QueryRunner], flavour: str) -> Run:
    return sparse_runners[flavour].run


def iso(ms: int, tz: str | None = None) -> str:
    return format_timestamp(ms, ZoneInfo(tz)) if tz else format_timestamp(ms)


def counts_by(bucket: Callable[[int], int]) -> dict[int, int]:
    return dict(Counter(bucket(r["__time"]) for r in ROWS))


def utc_trunc(unit: str) -> Callable[[int], int]:
    def f(ms: int) -> int:
        d = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
        if unit == "week":
            d = (d - dt.timedelta(days=d.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        elif unit == "month":
            d = d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        elif unit == "quarter":
            d = d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
        elif unit == "year":
            d = d.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return int(d.timestamp() * 1000)

    return f


def fixed(size_ms: int, origin: int = 0) -> Callable[[int], int]:
    return lambda ms: ms - (ms - origin) % size_ms


@pytest.mark.parametrize(
    ("granularity", "bucket"),
    [
        ("none", lambda ms: ms),
        ("second", fixed(1000)),
        ("minute", fixed(60_000)),
        ("fifteen_minute", fixed(15 * 60_000)),
        ("thirty_minute", fixed(30 * 60_000)),
        ("hour", fixed(HOUR)),
        ("six_hour", fixed(6 * HOUR)),
        ("day", fixed(DAY)),
        ("week", utc_trunc("week")),
        ("month", utc_trunc("month")),
        ("quarter", utc_trunc("quarter")),
        ("year", utc_trunc("year")),
        ({"type": "period", "period": "PT6H", "origin": "2020-01-01T03:00:00Z"}, fixed(6 * HOUR, 3 * HOUR)),
        ({"type": "duration", "duration": 7_200_000}, fixed(2 * HOUR)),
        (
            {"type": "duration", "duration": 5_400_000, "origin": "2020-01-01T00:10:00Z"},
            fixed(90 * 60_000, T0 + 10 * 60_000),
        ),
    ],
    ids=lambda g: g if isinstance(g, str) else None,
)
def test_granularities(run: Run, granularity: Any, bucket: Callable[[int], int]) -> None:
    result = run(timeseries([COUNT], granularity=granularity, context={"skipEmptyBuckets": True}))
    got = {parse_timestamp(r["timestamp"]): r["result"]["rows"] for r in result}
    assert got == counts_by(bucket)
    assert [r["timestamp"] for r in result] == sorted(r["timestamp"] for r in result)


def test_period_granularity_with_time_zone(run: Run) -> None:
    tz = ZoneInfo("America/Los_Angeles")

    def local_day(ms: int) -> int:
        d = dt.datetime.fromtimestamp(ms / 1000, tz).replace(hour=0, minute=0, second=0, microsecond=0)
        return int(d.timestamp() * 1000)

    g = {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"}
    result = run(timeseries([COUNT], granularity=g))
    expected = counts_by(local_day)
    assert [r["timestamp"] for r in result] == [iso(b, "America/Los_Angeles") for b in sorted(expected)]
    assert result[0]["timestamp"] == "2019-12-31T00:00:00.000-08:00"
    assert [r["result"]["rows"] for r in result] == [expected[b] for b in sorted(expected)]


def test_period_with_time_zone_and_origin(run: Run) -> None:
    g = {
        "type": "period",
        "period": "PT12H",
        "timeZone": "Asia/Kolkata",
        "origin": "2020-01-01T02:00:00+05:30",
    }
    result = run(timeseries([COUNT], granularity=g, context={"skipEmptyBuckets": True}))
    origin = T0 + 2 * HOUR - (5 * HOUR + 30 * 60_000)
    assert {parse_timestamp(r["timestamp"]): r["result"]["rows"] for r in result} == counts_by(
        fixed(12 * HOUR, origin)
    )
    assert all(r["timestamp"].endswith("+05:30") for r in result)


def test_granularity_all_is_one_row_stamped_with_the_first_row(run: Run) -> None:
    result = run(timeseries([COUNT, CLICKS], intervals=["2019-12-25/2020-02-01"]))
    assert result == [
        {
            "timestamp": iso(ROWS[0]["__time"]),
            "result": {"rows": len(ROWS), "clicks": sum(r["clicks"] for r in ROWS)},
        }
    ]


def test_granularity_all_starting_inside_the_data(run: Run) -> None:
    start = T0 + DAY + 2 * HOUR
    result = run(timeseries([COUNT], intervals=[f"{iso(start)}/{iso(T0 + 3 * DAY)}"]))
    assert result == [
        {"timestamp": iso(start), "result": {"rows": sum(1 for r in ROWS if r["__time"] >= start)}}
    ]


def test_granularity_all_without_rows_still_answers(run: Run) -> None:
    assert run(timeseries([COUNT, CLICKS], intervals=["2019-01-01/2019-01-02"])) == [
        {"timestamp": "2019-01-01T00:00:00.000Z", "result": {"rows": 0, "clicks": None}}
    ]
    assert (
        run(timeseries([COUNT], intervals=["2019-01-01/2019-01-02"], context={"skipEmptyBuckets": True}))
        == []
    )
    filtered = run(timeseries([COUNT, CLICKS], filter={"type": "false"}))
    assert [r["result"] for r in filtered] == [{"rows": 0, "clicks": None}]


def test_empty_buckets_inside_the_data_are_filled(run: Run) -> None:
    # day 2 has no rows between 10:00 and 14:00
    result = run(
        timeseries(
            [COUNT, CLICKS, SPEND],
            granularity="hour",
            intervals=[f"{iso(T0 + DAY + 8 * HOUR)}/{iso(T0 + DAY + 16 * HOUR)}"],
        )
    )
    assert [r["timestamp"] for r in result] == [iso(T0 + DAY + h * HOUR) for h in range(8, 16)]
    for r in result:
        hour = (parse_timestamp(r["timestamp"]) - T0 - DAY) // HOUR
        if 10 <= hour < 14:
            assert r["result"] == {"rows": 0, "clicks": None, "spend": None}
        else:
            assert r["result"]["rows"] > 0


def test_skip_empty_buckets(run: Run) -> None:
    iv = f"{iso(T0 + DAY + 8 * HOUR)}/{iso(T0 + DAY + 16 * HOUR)}"
    result = run(
        timeseries([COUNT], granularity="hour", intervals=[iv], context={"skipEmptyBuckets": "true"})
    )
    assert [parse_timestamp(r["timestamp"]) for r in result] == [T0 + DAY + h * HOUR for h in (8, 9, 14, 15)]


def test_buckets_outside_the_data_are_not_filled(sparse: Run) -> None:
    result = sparse(
        {
            "queryType": "timeseries",
            "dataSource": "sparse",
            "intervals": ["2019-12-31/2020-01-05"],
            "granularity": "hour",
            "aggregations": [COUNT, {"type": "longSum", "name": "v", "fieldName": "v"}],
        }
    )
    hours = [T0 + h * HOUR for h in (5, 6, 7, 8)] + [T0 + 2 * DAY + 12 * HOUR]
    assert [r["timestamp"] for r in result] == [iso(h) for h in hours]
    assert [r["result"] for r in result] == [
        {"rows": 1, "v": 1},
        {"rows": 0, "v": None},
        {"rows": 0, "v": None},
        {"rows": 1, "v": 2},
        {"rows": 1, "v": 4},
    ]


def test_day_buckets_follow_segments(sparse: Run) -> None:
    q = {
        "queryType": "timeseries",
        "dataSource": "sparse",
        "intervals": ["2019-12-31/2020-01-05"],
        "granularity": "day",
        "aggregations": [COUNT],
    }
    assert [(r["timestamp"], r["result"]["rows"]) for r in sparse(q)] == [
        ("2020-01-01T00:00:00.000Z", 2),
        ("2020-01-03T00:00:00.000Z", 1),
    ]


def test_descending_and_limit(run: Run) -> None:
    asc = run(timeseries([COUNT, CLICKS], granularity="day"))
    desc = run(timeseries([COUNT, CLICKS], granularity="day", descending=True))
    assert desc == asc[::-1]
    assert run(timeseries([COUNT], granularity="day", limit=2)) == [
        {"timestamp": r["timestamp"], "result": {"rows": r["result"]["rows"]}} for r in asc[:2]
    ]
    assert (
        run(timeseries([COUNT], granularity="day", descending="true", limit=1))[0]["timestamp"]
        == asc[-1]["timestamp"]
    )


def test_grand_total(run: Run) -> None:
    post = [
        {
            "type": "arithmetic",
            "name": "cpc",
            "fn": "/",
            "fields": [
                {"type": "fieldAccess", "fieldName": "spend"},
                {"type": "fieldAccess", "fieldName": "clicks"},
            ],
        }
    ]
    for descending in (False, True):
        result = run(
            timeseries(
                [COUNT, CLICKS, SPEND],
                granularity="day",
                descending=descending,
                postAggregations=post,
                context={"grandTotal": True},
            )
        )
        assert len(result) == 4
        total = result[-1]
        assert total["timestamp"] is None
        assert total["result"]["rows"] == len(ROWS)
        assert total["result"]["clicks"] == sum(r["clicks"] for r in ROWS)
        assert total["result"]["spend"] == pytest.approx(sum(r["spend"] or 0 for r in ROWS), rel=1e-12)
        assert total["result"]["cpc"] == total["result"]["spend"] / total["result"]["clicks"]


def test_several_intervals(run: Run) -> None:
    ivs = [f"{iso(T0 + 2 * DAY)}/{iso(T0 + 2 * DAY + 6 * HOUR)}", f"{iso(T0)}/{iso(T0 + 6 * HOUR)}"]
    result = run(timeseries([COUNT], granularity="day", intervals=ivs))
    inside = [r for r in ROWS if (r["__time"] - T0) % DAY < 6 * HOUR and (r["__time"] - T0) // DAY in (0, 2)]
    assert [(r["timestamp"], r["result"]["rows"]) for r in result] == [
        (iso(T0), sum(1 for r in inside if r["__time"] < T0 + DAY)),
        (iso(T0 + 2 * DAY), sum(1 for r in inside if r["__time"] >= T0 + DAY)),
    ]


def test_interval_end_is_exclusive(run: Run) -> None:
    t = ROWS[10]["__time"]
    assert run(timeseries([COUNT], intervals=[f"{iso(t - 1)}/{iso(t)}"]))[0]["result"]["rows"] == 0
    assert run(timeseries([COUNT], intervals=[f"{iso(t)}/{iso(t + 1)}"]))[0]["result"]["rows"] == 1


def test_union_datasource(run: Run) -> None:
    q = timeseries([CLICKS], dataSource={"type": "union", "dataSources": ["ads", "ads_rollup"]})
    assert run(q)[0]["result"]["clicks"] == 2 * sum(r["clicks"] for r in ROWS)
    table = timeseries([CLICKS], dataSource={"type": "table", "name": "ads"})
    assert run(table)[0]["result"]["clicks"] == sum(r["clicks"] for r in ROWS)


def test_interval_spec_object(run: Run) -> None:
    q = timeseries([COUNT], intervals={"type": "intervals", "intervals": [INTERVAL]})
    assert run(q)[0]["result"]["rows"] == len(ROWS)
