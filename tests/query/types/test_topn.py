"""topN on every segment flavour: metric specs, threshold, multi-value, granularity, post-aggregators.

grove's topN is exact (it merges every value's aggregates before ranking), so it is compared exactly
with a ranking computed from ``adsdata.ROWS``: metric descending (``inverted``: ascending), ties broken
by dimension value ascending, nulls last for the metric. Dimension metric specs sort by value
(lexicographic, alphanumeric, numeric, strlen), ``previousStop`` keeping only values strictly after it
(topnmetricspec.md). A multi-value dimension counts a row once under each of its values.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from adsdata import COUNT, DAY, ROWS, T0, Row, topn

from grove.common.time import format_timestamp, parse_timestamp
from grove.errors import InvalidQuery

Run = Callable[[dict[str, Any]], list[Any]]
CLICKS = {"type": "longSum", "name": "clicks", "fieldName": "clicks"}
SPEND = {"type": "doubleSum", "name": "spend", "fieldName": "spend"}


def totals(
    keys_of: Callable[[Row], Iterable[Any]], rows: list[Row] | None = None
) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = defaultdict(lambda: {"rows": 0, "clicks": 0})
    for r in ROWS if rows is None else rows:
        for k in keys_of(r):
            out[k]["rows"] += 1
            out[k]["clicks"] += r["clicks"]
    return dict(out)


def ranked(
    t: dict[Any, dict[str, Any]], metric: str, n: int, dim: str, ascending: bool = False
) -> list[dict[str, Any]]:
    def key(item: tuple[Any, dict[str, Any]]) -> tuple[Any, ...]:
        value, aggs = item
        m = aggs[metric]
        return (m if ascending else -m, (0, "") if value is None else (1, value.encode()))

    return [{dim: v, **aggs} for v, aggs in sorted(t.items(), key=key)[:n]]


def single(result: list[Any]) -> list[dict[str, Any]]:
    assert len(result) == 1
    return list(result[0]["result"])


def tags_of(r: Row) -> list[str | None]:
    return list(r["tags"]) if r["tags"] else [None]


def test_numeric_metric_exact_with_ties_by_value(run: Run) -> None:
    got = single(run(topn("campaign", "rows", 5, [COUNT, CLICKS])))
    assert got == ranked(totals(lambda r: [r["campaign"]]), "rows", 5, "campaign")
    got = single(run(topn("campaign", {"type": "numeric", "metric": "clicks"}, 12, [COUNT, CLICKS])))
    assert got == ranked(totals(lambda r: [r["campaign"]]), "clicks", 12, "campaign")


def test_inverted_metric(run: Run) -> None:
    got = single(run(topn("campaign", {"type": "inverted", "metric": "clicks"}, 4, [COUNT, CLICKS])))
    assert got == ranked(totals(lambda r: [r["campaign"]]), "clicks", 4, "campaign", ascending=True)


def test_threshold_beyond_the_values(run: Run) -> None:
    got = single(run(topn("device", "rows", 100, [COUNT, CLICKS])))
    assert got == ranked(totals(lambda r: [r["device"]]), "rows", 100, "device")
    assert len(got) == 3


def test_null_and_empty_values_rank_like_others(run: Run) -> None:
    got = single(run(topn("country", "rows", 10, [COUNT, CLICKS])))
    assert got == ranked(totals(lambda r: [r["country"]]), "rows", 10, "country")
    assert None in [g["country"] for g in got] and "" in [g["country"] for g in got]


def test_multi_value_counts_each_value(run: Run) -> None:
    got = single(run(topn("tags", "clicks", 10, [COUNT, CLICKS])))
    assert got == ranked(totals(tags_of), "clicks", 10, "tags")


def test_multi_value_with_filter_keeps_the_other_values(run: Run) -> None:
    f = {"type": "selector", "dimension": "tags", "value": "c"}
    got = single(run(topn("tags", "rows", 10, [COUNT, CLICKS], filter=f)))
    rows = [r for r in ROWS if r["tags"] and "c" in r["tags"]]
    assert got == ranked(totals(tags_of, rows), "rows", 10, "tags")


def _alnum(v: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", v) if p)


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        ("lexicographic", lambda v: v.encode()),
        ("alphanumeric", _alnum),
        ("strlen", lambda v: (len(v), v)),
    ],
)
def test_dimension_metric(run: Run, ordering: str, key: Callable[[str], Any]) -> None:
    values = sorted({r["campaign"] for r in ROWS}, key=key)
    got = single(run(topn("campaign", {"type": "dimension", "ordering": ordering}, 5, [COUNT])))
    assert [g["campaign"] for g in got] == values[:5]
    inverted = single(
        run(
            topn(
                "campaign",
                {"type": "inverted", "metric": {"type": "dimension", "ordering": ordering}},
                3,
                [COUNT],
            )
        )
    )
    assert [g["campaign"] for g in inverted] == values[::-1][:3]


def test_dimension_metric_numeric_on_numbers(run: Run) -> None:
    ages = sorted({r["age"] for r in ROWS if r["age"] is not None})
    got = single(run(topn("age", {"type": "dimension", "ordering": "numeric"}, 6, [COUNT])))
    # null sorts first, then numbers by value (not as text: 9 before 10)
    assert [g["age"] for g in got] == [None] + [str(a) for a in ages[:5]]


def test_dimension_metric_previous_stop_paginates(run: Run) -> None:
    values = sorted({r["campaign"] for r in ROWS}, key=_alnum)
    seen: list[str] = []
    stop: str | None = None
    while True:
        spec: dict[str, Any] = {"type": "dimension", "ordering": "alphanumeric"}
        if stop is not None:
            spec["previousStop"] = stop
        page = single(run(topn("campaign", spec, 5, [COUNT])))
        if not page:
            break
        seen.extend(g["campaign"] for g in page)
        stop = page[-1]["campaign"]
    assert seen == values


def test_legacy_lexicographic_metric_spec(run: Run) -> None:
    got = single(run(topn("country", {"type": "lexicographic", "previousStop": "DE"}, 10, [COUNT])))
    countries = sorted({r["country"] for r in ROWS if r["country"] is not None}, key=str.encode)
    assert [g["country"] for g in got] == [c for c in countries if c.encode() > b"DE"]


def test_per_time_bucket(run: Run) -> None:
    result = run(topn("device", "clicks", 2, [COUNT, CLICKS], granularity="day"))
    assert [r["timestamp"] for r in result] == [format_timestamp(T0 + d * DAY) for d in range(3)]
    for r in result:
        day = (parse_timestamp(r["timestamp"]) - T0) // DAY
        rows = [x for x in ROWS if (x["__time"] - T0) // DAY == day]
        assert r["result"] == ranked(totals(lambda x: [x["device"]], rows), "clicks", 2, "device")


def test_granularity_all_stamped_with_first_row(run: Run) -> None:
    result = run(topn("device", "rows", 1, [COUNT], intervals=["2019-12-01/2020-02-01"]))
    assert result[0]["timestamp"] == format_timestamp(ROWS[0]["__time"])


def test_rank_by_post_aggregator(run: Run) -> None:
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
    got = single(run(topn("campaign", "cpc", 3, [CLICKS, SPEND], postAggregations=post)))
    assert [g["cpc"] for g in got] == sorted((g["cpc"] for g in got), reverse=True)
    spend: dict[str, float] = defaultdict(float)
    clicks: dict[str, int] = defaultdict(int)
    for r in ROWS:
        spend[r["campaign"]] += r["spend"] or 0.0
        clicks[r["campaign"]] += r["clicks"]
    best = sorted(spend, key=lambda c: -spend[c] / clicks[c])[:3]
    assert [g["campaign"] for g in got] == best
    for g in got:
        assert g["cpc"] == g["spend"] / g["clicks"]


def test_rank_by_sketch_estimate(run: Run) -> None:
    got = single(
        run(
            topn("device", "users", 3, [{"type": "thetaSketch", "name": "users", "fieldName": "users_theta"}])
        )
    )
    expected = {d: len({r["user"] for r in ROWS if r["device"] == d}) for d in {r["device"] for r in ROWS}}
    assert [(g["device"], g["users"]) for g in got] == sorted(
        expected.items(), key=lambda kv: (-kv[1], kv[0])
    )


def test_extraction_dimension_and_output_name(run: Run) -> None:
    dim = {
        "type": "extraction",
        "dimension": "campaign",
        "outputName": "prefix",
        "extractionFn": {"type": "substring", "index": 0, "length": 2},
    }
    got = single(run(topn(dim, "rows", 3, [COUNT, CLICKS])))
    assert got == ranked(totals(lambda r: [r["campaign"][:2]]), "rows", 3, "prefix")


def test_long_dimension_with_output_type(run: Run) -> None:
    dim = {"type": "default", "dimension": "age", "outputName": "age", "outputType": "LONG"}
    got = single(run(topn(dim, "rows", 4, [COUNT, CLICKS])))
    t = totals(lambda r: [r["age"]])
    expected = sorted(t.items(), key=lambda kv: (-kv[1]["rows"], (0, 0) if kv[0] is None else (1, kv[0])))[:4]
    assert got == [{"age": k, **v} for k, v in expected]


def test_filtered_topn_on_rolled_up_data(run: Run) -> None:
    got = single(
        run(
            topn(
                "country",
                "events",
                3,
                [{"type": "longSum", "name": "events", "fieldName": "count"}],
                dataSource="ads_rollup",
                filter={"type": "selector", "dimension": "tags", "value": "b"},
            )
        )
    )
    t: dict[Any, int] = defaultdict(int)
    for r in ROWS:
        if r["tags"] and "b" in r["tags"]:
            t[r["country"]] += 1
    expected = sorted(t.items(), key=lambda kv: (-kv[1], (0, "") if kv[0] is None else (1, kv[0].encode())))[
        :3
    ]
    assert got == [{"country": k, "events": v} for k, v in expected]


def test_no_rows_gives_no_buckets(run: Run) -> None:
    assert run(topn("device", "rows", 3, [COUNT], filter={"type": "false"})) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"threshold": 0}, "threshold"),
        ({"threshold": "ten"}, "threshold"),
        ({"metric": {"type": "numeric"}}, "metric.metric"),
        ({"metric": "nope"}, "metric"),
        ({"dimension": None}, "dimension"),
    ],
)
def test_bad_topn_names_the_field(run: Run, change: dict[str, Any], path: str) -> None:
    q = topn("device", "rows", 3, [COUNT])
    q.update(change)
    if change.get("dimension", 1) is None:
        del q["dimension"]
    with pytest.raises(InvalidQuery) as info:
        run(q)
    assert path in str(info.value)
