"""dataSourceMetadata on every segment flavour.

Druid facts (docs/querying/datasourcemetadataquery.md, DataSourceMetadataQuery.mergeResults): the
result is ``[{"timestamp", "result": {"maxIngestedEventTime"}}]`` stamped with that same time, the
latest event of the segments queried (a persisted segment's latest stored ``__time``, so truncated by
the query granularity under rollup); nothing to read gives ``[]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from adsdata import ROWS
from flavours import DAY, T0

from grove.common.time import format_timestamp
from grove.errors import InvalidQuery, NotFound

Run = Callable[[dict[str, Any]], list[Any]]


def metadata(datasource: str = "ads", **fields: Any) -> dict[str, Any]:
    return {"queryType": "dataSourceMetadata", "dataSource": datasource, **fields}


def answer(ms: int) -> list[Any]:
    stamp = format_timestamp(ms)
    return [{"timestamp": stamp, "result": {"maxIngestedEventTime": stamp}}]


def test_latest_event(run: Run) -> None:
    assert run(metadata()) == answer(max(r["__time"] for r in ROWS))


def test_filter_is_ignored(run: Run) -> None:
    flt = {"type": "selector", "dimension": "country", "value": "FR"}
    assert run(metadata(filter=flt)) == run(metadata())


def test_rollup_stores_truncated_times(run: Run) -> None:
    assert run(metadata("ads_rollup")) == [
        {
            "timestamp": "2020-01-03T00:00:00.000Z",
            "result": {"maxIngestedEventTime": "2020-01-03T00:00:00.000Z"},
        }
    ]


@pytest.mark.parametrize(
    ("intervals", "day"),
    [
        (["2020-01-01/2020-01-02"], 0),
        (["2020-01-01T05:00:00Z/2020-01-02T01:00:00Z"], 1),
        (["2020-01-03/P1D"], 2),
    ],
)
def test_intervals_pick_segments(run: Run, intervals: list[str], day: int) -> None:
    latest = max(r["__time"] for r in ROWS if (r["__time"] - T0) // DAY <= day)
    assert run(metadata(intervals=intervals)) == answer(latest)


def test_no_segment_in_interval(run: Run) -> None:
    assert run(metadata(intervals=["2021-01-01/2021-02-01"])) == []


def test_bad_input(run: Run) -> None:
    with pytest.raises(NotFound, match=r"\[nope\]"):
        run(metadata("nope"))
    with pytest.raises(InvalidQuery) as info:
        run(metadata(intervals=["2020-01-02/2020-01-01"]))
    assert info.value.path == "intervals"
