"""Aggregators at query time on every segment flavour (aggregations.md, hll-old.md, datasketches).

Expectations come from ``adsdata.ROWS``. Nulls follow SQL-compatible mode: aggregators skip null
inputs, a group without non-null input is null, ``count`` is never null. Sketch estimates are compared
with the estimate of one sketch built directly over the exact distinct values: merging sketches
(across rows, segments, pieces and partitions) must give exactly the estimate of one sketch over all
values, so every flavour returns the same figure.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from adsdata import COUNT, DAY, ROWS, T0, Row, groupby, hll_estimate, timeseries, where

from grove.errors import InvalidInput, InvalidQuery
from grove.segment.sketches import HLL_DEFAULT_LGK

Run = Callable[[dict[str, Any]], list[Any]]


def one(run: Run, aggs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    result = run(timeseries(aggs, **extra))
    assert len(result) == 1
    return dict(result[0]["result"])


def by_device(run: Run, aggs: list[dict[str, Any]], **extra: Any) -> dict[str, dict[str, Any]]:
    rows = run(groupby(["device"], aggs, **extra))
    return {r["event"].pop("device"): r["event"] for r in rows}


def groups(key: Callable[[Row], Any], rows: list[Row] | None = None) -> dict[Any, list[Row]]:
    out: dict[Any, list[Row]] = defaultdict(list)
    for r in ROWS if rows is None else rows:
        out[key(r)].append(r)
    return out


def sql_sum(rows: list[Row], f: str) -> Any:
    vals = [r[f] for r in rows if r[f] is not None]
    return sum(vals) if vals else None


def sql_min(rows: list[Row], f: str) -> Any:
    vals = [r[f] for r in rows if r[f] is not None]
    return min(vals) if vals else None


def sql_max(rows: list[Row], f: str) -> Any:
    vals = [r[f] for r in rows if r[f] is not None]
    return max(vals) if vals else None


def agg(type_: str, name: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    out = {"type": type_, "name": name, **extra}
    if field is not None:
        out["fieldName"] = field
    return out


# --- exact aggregators ---------------------------------------------------------------------------


def test_count_and_sums(run: Run) -> None:
    got = by_device(
        run,
        [
            COUNT,
            agg("longSum", "clicks", "clicks"),
            agg("doubleSum", "spend", "spend"),
            agg("floatSum", "ratio", "ratio"),
            agg("longSum", "imps", "impressions"),
        ],
    )
    expected = groups(lambda r: r["device"])
    assert set(got) == set(expected)
    for device, rows in expected.items():
        g = got[device]
        assert g["rows"] == len(rows)
        assert g["clicks"] == sum(r["clicks"] for r in rows)
        assert g["imps"] == sum(r["impressions"] for r in rows)
        assert g["spend"] == pytest.approx(sql_sum(rows, "spend"), rel=1e-12)
        assert g["ratio"] == sum(r["ratio"] for r in rows)  # quarters and halves: exact in float32
        assert isinstance(g["rows"], int) and isinstance(g["clicks"], int)


def test_min_max_over_metrics_and_dimensions(run: Run) -> None:
    got = by_device(
        run,
        [
            agg("longMin", "imp_min", "imp_min"),
            agg("longMax", "imp_max", "imp_max"),
            agg("doubleMin", "spend_min", "spend_min"),
            agg("doubleMax", "spend_max", "spend_max"),
            agg("longMin", "age_min", "age"),
            agg("longMax", "age_max", "age"),
            agg("doubleMin", "bid_min", "bid"),
            agg("doubleMax", "bid_max", "bid"),
            agg("floatMin", "ratio_min", "ratio"),
            agg("floatMax", "ratio_max", "ratio"),
        ],
    )
    for device, rows in groups(lambda r: r["device"]).items():
        g = got[device]
        assert g["imp_min"] == sql_min(rows, "impressions")
        assert g["imp_max"] == sql_max(rows, "impressions")
        assert g["spend_min"] == sql_min(rows, "spend")
        assert g["spend_max"] == sql_max(rows, "spend")
        assert g["age_min"] == sql_min(rows, "age")
        assert g["age_max"] == sql_max(rows, "age")
        assert g["bid_min"] == sql_min(rows, "bid")
        assert g["bid_max"] == sql_max(rows, "bid")
        assert g["ratio_min"] == sql_min(rows, "ratio")
        assert g["ratio_max"] == sql_max(rows, "ratio")


def test_float_aggregators_answer_java_floats(run: Run) -> None:
    # Druid's floatSum/floatMin/floatMax return a Java float, printed in its shortest form
    got = by_device(
        run,
        [agg("floatSum", "s", "bid"), agg("floatMin", "mn", "bid"), agg("floatMax", "mx", "bid")],
    )
    for device, rows in groups(lambda r: r["device"]).items():
        g = got[device]
        for value in g.values():
            assert value == float(str(np.float32(value))), value
        assert g["s"] == pytest.approx(sql_sum(rows, "bid"), rel=1e-6)
        assert g["mn"] == float(str(np.float32(sql_min(rows, "bid"))))
        assert g["mx"] == float(str(np.float32(sql_max(rows, "bid"))))


def test_sums_of_negative_and_large_longs_are_exact(run: Run) -> None:
    big = 2**45 + 1  # sums pass 2**53, where doubles lose integers
    got = one(run, [agg("longSum", "x", expression=f"clicks * {big} - impressions")])
    assert got["x"] == sum(r["clicks"] * big - r["impressions"] for r in ROWS)


def test_all_null_inputs_give_null_and_count_stays(run: Run) -> None:
    got = one(
        run,
        [
            COUNT,
            agg("doubleSum", "spend", "spend"),
            agg("doubleMin", "mn", "spend"),
            agg("doubleMax", "mx", "spend"),
        ],
        filter={"type": "null", "column": "spend"},
    )
    assert got == {"rows": sum(1 for r in ROWS if r["spend"] is None), "spend": None, "mn": None, "mx": None}


def test_null_inputs_are_skipped_per_group(run: Run) -> None:
    got = by_device(run, [agg("longSum", "age", "age"), agg("doubleSum", "bid", "bid")])
    for device, rows in groups(lambda r: r["device"]).items():
        assert got[device]["age"] == sql_sum(rows, "age")
        assert got[device]["bid"] == pytest.approx(sql_sum(rows, "bid"), rel=1e-12)


def test_missing_column_aggregates_to_null(run: Run) -> None:
    got = one(run, [COUNT, agg("longSum", "s", "nope"), agg("doubleMax", "m", "nope")])
    assert got == {"rows": len(ROWS), "s": None, "m": None}


def test_expression_inputs_and_virtual_columns(run: Run) -> None:
    got = one(
        run,
        [
            agg("longSum", "twice", expression="clicks * 2"),
            agg("doubleSum", "cpc_sum", "cost_per_click"),
            agg("longMax", "longest", expression="strlen(campaign)"),
        ],
        virtualColumns=[
            {
                "type": "expression",
                "name": "cost_per_click",
                "expression": "if(clicks > 0, spend / clicks, 0)",
                "outputType": "DOUBLE",
            }
        ],
    )
    assert got["twice"] == 2 * sum(r["clicks"] for r in ROWS)
    expected_cpc = sum(
        r["spend"] / r["clicks"] if r["clicks"] > 0 else 0
        for r in ROWS
        if r["spend"] is not None or r["clicks"] == 0
    )
    assert got["cpc_sum"] == pytest.approx(expected_cpc, rel=1e-12)
    assert got["longest"] == 3


def test_numeric_aggregation_parses_string_columns(run: Run) -> None:
    got = one(
        run,
        [agg("longSum", "age", "age_s"), agg("doubleMax", "bid", "bid_s")],
        virtualColumns=[
            {
                "type": "expression",
                "name": "age_s",
                "expression": "cast(age, 'STRING')",
                "outputType": "STRING",
            },
            {
                "type": "expression",
                "name": "bid_s",
                "expression": "cast(bid, 'STRING')",
                "outputType": "STRING",
            },
        ],
    )
    assert got == {"age": sql_sum(ROWS, "age"), "bid": sql_max(ROWS, "bid")}


def test_aggregating_rolled_up_metrics_re_aggregates(run: Run) -> None:
    aggs = [
        agg("longSum", "n", "count"),
        agg("longSum", "clicks", "clicks"),
        agg("doubleSum", "spend", "spend"),
        agg("longMin", "imp_min", "imp_min"),
        agg("longMax", "imp_max", "imp_max"),
        agg("doubleMax", "spend_max", "spend_max"),
    ]
    rows = run(groupby(["country"], aggs, dataSource="ads_rollup", granularity="day"))
    expected = groups(lambda r: (T0 + (r["__time"] - T0) // DAY * DAY, r["country"]))
    assert len(rows) == len(expected)
    from grove.common.time import parse_timestamp

    for row in rows:
        e = row["event"]
        g = expected[(parse_timestamp(row["timestamp"]), e["country"])]
        assert e["n"] == len(g)
        assert e["clicks"] == sum(r["clicks"] for r in g)
        assert e["spend"] == pytest.approx(sql_sum(g, "spend"), rel=1e-12)
        assert (e["imp_min"], e["imp_max"]) == (sql_min(g, "impressions"), sql_max(g, "impressions"))
        assert e["spend_max"] == sql_max(g, "spend")


def test_count_on_rolled_up_rows_counts_stored_rows(run: Run) -> None:
    got = one(run, [COUNT, agg("longSum", "events", "count")], dataSource="ads_rollup")
    day = lambda r: (r["__time"] - T0) // DAY  # noqa: E731
    stored = {(day(r), r["country"], tuple(sorted(r["tags"])) if r["tags"] else None) for r in ROWS}
    assert got == {"rows": len(stored), "events": len(ROWS)}


# --- first / last --------------------------------------------------------------------------------


def _first(rows: list[Row], f: str, last: bool = False) -> Any:
    candidates = [r for r in rows if r[f] is not None]
    if not candidates:
        return None
    pick = max if last else min
    return pick(candidates, key=lambda r: r["__time"])[f]


def test_first_last(run: Run) -> None:
    got = by_device(
        run,
        [
            agg("longFirst", "lf", "clicks"),
            agg("longLast", "ll", "clicks"),
            agg("doubleFirst", "df", "impressions"),
            agg("doubleLast", "dl", "impressions"),
            agg("floatFirst", "ff", "ratio"),
            agg("floatLast", "fl", "ratio"),
            agg("stringFirst", "sf", "campaign"),
            agg("stringLast", "sl", "campaign"),
        ],
    )
    for device, rows in groups(lambda r: r["device"]).items():
        g = got[device]
        assert g["lf"] == _first(rows, "clicks")
        assert g["ll"] == _first(rows, "clicks", last=True)
        assert g["df"] == float(_first(rows, "impressions"))
        assert g["dl"] == float(_first(rows, "impressions", last=True))
        assert g["ff"] == _first(rows, "ratio")
        assert g["fl"] == _first(rows, "ratio", last=True)
        assert g["sf"] == _first(rows, "campaign")
        assert g["sl"] == _first(rows, "campaign", last=True)


def test_first_last_across_segments_and_buckets(run: Run) -> None:
    rows = run(
        groupby(
            ["device"],
            [agg("longFirst", "f", "impressions"), agg("longLast", "l", "impressions")],
            granularity="day",
        )
    )
    expected = groups(lambda r: ((r["__time"] - T0) // DAY, r["device"]))
    from grove.common.time import parse_timestamp

    for row in rows:
        g = expected[((parse_timestamp(row["timestamp"]) - T0) // DAY, row["event"]["device"])]
        assert row["event"]["f"] == _first(g, "impressions")
        assert row["event"]["l"] == _first(g, "impressions", last=True)


def test_string_first_truncates_to_max_string_bytes(run: Run) -> None:
    got = one(run, [agg("stringFirst", "p", "campaign", maxStringBytes=2)])
    assert got["p"] == _first(ROWS, "campaign")[:2]


def test_first_last_of_no_rows_is_null(run: Run) -> None:
    got = one(
        run, [agg("longFirst", "f", "clicks"), agg("stringLast", "s", "campaign")], filter={"type": "false"}
    )
    assert got == {"f": None, "s": None}


def test_first_over_a_long_time_column(run: Run) -> None:
    # timeColumn: the value at the smallest ``impressions`` (a LONG column) instead of __time
    got = one(
        run,
        [agg("longFirst", "f", "clicks", timeColumn="impressions")],
        filter={"type": "selector", "dimension": "device", "value": "tablet"},
    )
    rows = where(lambda r: r["device"] == "tablet")
    least = min(r["impressions"] for r in rows)
    assert got["f"] in {r["clicks"] for r in rows if r["impressions"] == least}


# --- filtered --------------------------------------------------------------------------------------


def test_filtered_aggregators(run: Run) -> None:
    got = by_device(
        run,
        [
            COUNT,
            {
                "type": "filtered",
                "name": "us",
                "filter": {"type": "selector", "dimension": "country", "value": "US"},
                "aggregator": COUNT,
            },
            {
                "type": "filtered",
                "filter": {
                    "type": "not",
                    "field": {"type": "selector", "dimension": "country", "value": "US"},
                },
                "aggregator": agg("longSum", "not_us_clicks", "clicks"),
            },
            {
                "type": "filtered",
                "name": "tag_a_spend",
                "filter": {"type": "selector", "dimension": "tags", "value": "a"},
                "aggregator": agg("doubleSum", "x", "spend"),
            },
            {
                "type": "filtered",
                "name": "none",
                "filter": {"type": "false"},
                "aggregator": agg("longSum", "y", "clicks"),
            },
        ],
    )
    for device, rows in groups(lambda r: r["device"]).items():
        g = got[device]
        assert g["rows"] == len(rows)
        assert g["us"] == sum(1 for r in rows if r["country"] == "US")
        assert g["not_us_clicks"] == sum(r["clicks"] for r in rows if r["country"] not in ("US", None))
        assert g["tag_a_spend"] == pytest.approx(
            sql_sum([r for r in rows if r["tags"] and "a" in r["tags"]], "spend"), rel=1e-12
        )
        assert g["none"] is None


def test_filtered_count_of_no_rows_is_zero(run: Run) -> None:
    got = one(run, [{"type": "filtered", "name": "c", "filter": {"type": "false"}, "aggregator": COUNT}])
    assert got == {"c": 0}


# --- approximate distinct counts ------------------------------------------------------------------


def test_sketches_over_stored_metrics_merge_exactly(run: Run) -> None:
    got = by_device(
        run,
        [
            agg("HLLSketchMerge", "hll", "users_hll"),
            agg("hyperUnique", "hu", "users_hu"),
            agg("thetaSketch", "theta", "users_theta"),
        ],
    )
    for device, rows in groups(lambda r: r["device"]).items():
        users = {r["user"] for r in rows}
        g = got[device]
        assert g["hll"] == pytest.approx(hll_estimate(users), rel=1e-12)
        assert g["hu"] == pytest.approx(hll_estimate(users), rel=1e-12)
        assert g["theta"] == len(users)  # exact below the sketch size
        assert abs(g["hll"] - len(users)) <= 3 * 1.04 / math.sqrt(2**HLL_DEFAULT_LGK) * len(users) + 1


def test_sketches_built_at_query_time(run: Run) -> None:
    got = one(
        run,
        [
            agg("HLLSketchBuild", "hll", "user"),
            agg("HLLSketchBuild", "hll10", "user", lgK=10),
            agg("thetaSketch", "theta", "user"),
            agg("HLLSketchBuild", "ages", "age"),
            agg("thetaSketch", "bids", "bid"),
            agg("HLLSketchBuild", "tags", "tags"),
        ],
    )
    users = {r["user"] for r in ROWS}
    assert got["hll"] == pytest.approx(hll_estimate(users), rel=1e-12)
    assert got["hll10"] == pytest.approx(hll_estimate(users, 10), rel=1e-12)
    assert got["theta"] == len(users)
    assert got["ages"] == pytest.approx(hll_estimate({r["age"] for r in ROWS}), rel=1e-12)
    assert got["bids"] == len({r["bid"] for r in ROWS if r["bid"] is not None})
    assert got["tags"] == pytest.approx(hll_estimate({t for r in ROWS for t in r["tags"] or ()}), rel=1e-12)


def test_hll_merge_at_smaller_lgk_downsamples(run: Run) -> None:
    got = one(run, [agg("HLLSketchMerge", "u", "users_hll", lgK=10)])
    assert got["u"] == pytest.approx(hll_estimate({r["user"] for r in ROWS}, 10), rel=1e-12)


def test_sketch_rounding_and_unfinalized(run: Run) -> None:
    got = one(
        run,
        [
            agg("HLLSketchMerge", "r", "users_hll", round=True),
            agg("hyperUnique", "hu", "users_hu", round=True),
            agg("cardinality", "c", None, fields=["user"], round=True),
        ],
    )
    expected = round(hll_estimate({r["user"] for r in ROWS}))
    assert got == {"r": expected, "hu": expected, "c": expected}
    assert all(isinstance(v, int) for v in got.values())


def test_cardinality_by_value_and_by_row(run: Run) -> None:
    got = by_device(
        run,
        [
            agg("cardinality", "users", None, fields=["user"]),
            agg("cardinality", "values", None, fields=["country", "campaign"]),
            agg("cardinality", "combos", None, fields=["country", "campaign"], byRow=True),
            agg("cardinality", "tags", None, fields=["tags"]),
        ],
    )
    for device, rows in groups(lambda r: r["device"]).items():
        g = got[device]
        users = {r["user"] for r in rows}
        assert g["users"] == pytest.approx(hll_estimate(users), rel=1e-12)
        # by value: the union of both columns' values, nulls skipped (COUNT(DISTINCT) of a UNION)
        values = {r["country"] for r in rows if r["country"] is not None} | {r["campaign"] for r in rows}
        assert g["values"] == pytest.approx(hll_estimate(values), rel=1e-12)
        # by row: distinct combinations, a null taking part like a value (GROUP BY then COUNT(*))
        combos = {(r["country"], r["campaign"]) for r in rows}
        assert abs(g["combos"] - len(combos)) <= 0.03 * len(combos) + 1
        tag_values = {t for r in rows for t in r["tags"] or ()}
        assert g["tags"] == pytest.approx(hll_estimate(tag_values), rel=1e-12)


def test_cardinality_over_extraction_dimension(run: Run) -> None:
    got = one(
        run,
        [
            agg(
                "cardinality",
                "firsts",
                None,
                fields=[
                    {
                        "type": "extraction",
                        "dimension": "campaign",
                        "outputName": "c",
                        "extractionFn": {"type": "substring", "index": 0, "length": 2},
                    }
                ],
            )
        ],
    )
    assert got["firsts"] == pytest.approx(hll_estimate({r["campaign"][:2] for r in ROWS}), rel=1e-12)


def test_sketches_of_no_rows_are_zero(run: Run) -> None:
    got = one(
        run,
        [
            agg("HLLSketchMerge", "h", "users_hll"),
            agg("thetaSketch", "t", "users_theta"),
            agg("cardinality", "c", None, fields=["user"]),
        ],
        filter={"type": "false"},
    )
    assert got == {"h": 0.0, "t": 0.0, "c": 0.0}


def test_sketches_across_time_buckets_and_grand_total(run: Run) -> None:
    result = run(
        timeseries(
            [agg("HLLSketchMerge", "h", "users_hll"), agg("thetaSketch", "t", "users_theta")],
            granularity="day",
            context={"grandTotal": True},
        )
    )
    assert len(result) == 4
    for day, row in enumerate(result[:3]):
        users = {r["user"] for r in ROWS if (r["__time"] - T0) // DAY == day}
        assert row["result"]["h"] == pytest.approx(hll_estimate(users), rel=1e-12)
        assert row["result"]["t"] == len(users)
    users = {r["user"] for r in ROWS}
    assert result[3]["result"]["h"] == pytest.approx(hll_estimate(users), rel=1e-12)
    assert result[3]["result"]["t"] == len(users)


def test_hll_on_rolled_up_segments(run: Run) -> None:
    got = one(
        run,
        [agg("HLLSketchMerge", "h", "users_hll"), agg("thetaSketch", "t", "users_theta")],
        dataSource="ads_rollup",
    )
    users = {r["user"] for r in ROWS}
    assert got["h"] == pytest.approx(hll_estimate(users), rel=1e-12)
    assert got["t"] == len(users)


# --- bad aggregators --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aggs", "path", "error"),
    [
        (
            [COUNT, {"type": "longSumm", "name": "x", "fieldName": "clicks"}],
            "aggregations[1].type",
            InvalidQuery,
        ),
        ([{"type": "longSum", "name": "x"}], "aggregations[0].fieldName", InvalidQuery),
        ([{"type": "longSum", "fieldName": "clicks"}], "aggregations[0].name", InvalidQuery),
        ([{"name": "x", "fieldName": "clicks"}], "aggregations[0].type", InvalidQuery),
        ([COUNT, COUNT], "aggregations", InvalidQuery),
        (
            [{"type": "HLLSketchBuild", "name": "x", "fieldName": "user", "lgK": 30}],
            "aggregations[0].lgK",
            InvalidQuery,
        ),
        (
            [{"type": "thetaSketch", "name": "x", "fieldName": "user", "size": 1000}],
            "aggregations[0].size",
            InvalidQuery,
        ),
        ([{"type": "filtered", "name": "x", "aggregator": COUNT}], "aggregations[0].filter", InvalidQuery),
        ([{"type": "longSum", "name": "x", "fieldName": 3}], "aggregations[0].fieldName", InvalidQuery),
        (
            [{"type": "quantilesDoublesSketch", "name": "x", "fieldName": "y"}],
            "aggregations[0].type",
            InvalidInput,
        ),
        ([{"type": "javascript", "name": "x"}], "aggregations[0].type", InvalidInput),
    ],
)
def test_bad_aggregators_name_the_field(
    run: Run, aggs: list[dict[str, Any]], path: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as info:
        run(timeseries(aggs))
    assert path in str(info.value)


def _java_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def test_long_division_by_zero_counts_only_on_rows_the_query_reads(run: Run) -> None:
    """Druid evaluates an expression only on the rows the filter selects and only in the branch of an
    ``if`` a row takes: a zero divisor elsewhere is no error (per-click figures of ads with clicks)."""
    assert any(r["clicks"] == 0 for r in ROWS)
    per_click = [
        {
            "type": "expression",
            "name": "per_click",
            "expression": "impressions / clicks",
            "outputType": "LONG",
        }
    ]
    clicked = [r for r in ROWS if r["clicks"] and r["impressions"] is not None]
    expected = sum(_java_div(r["impressions"], r["clicks"]) for r in clicked)
    with_clicks = {
        "type": "range",
        "column": "clicks",
        "matchValueType": "LONG",
        "lower": 0,
        "lowerOpen": True,
    }
    got = one(run, [agg("longSum", "s", "per_click")], virtualColumns=per_click, filter=with_clicks)
    assert got["s"] == expected
    guarded = one(run, [agg("longSum", "s", expression="if(clicks > 0, impressions / clicks, 0)")])
    assert guarded["s"] == expected
    # A row the query reads divides by zero: the query fails, as in Druid.
    with pytest.raises(InvalidQuery, match=r"Division by zero in long operator \[/\]"):
        one(run, [agg("longSum", "s", "per_click")], virtualColumns=per_click)
    with pytest.raises(InvalidQuery, match=r"Division by zero in long operator \[/\]"):
        one(
            run, [agg("longSum", "s", expression="nvl(impressions / clicks, 0) + 0 * (impressions / clicks)")]
        )
