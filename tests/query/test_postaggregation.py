"""Post-aggregators on every segment flavour (post-aggregations.md, datasketches docs).

Arithmetic applies ``fn`` left to right in floating point; ``/`` by zero is 0 (quotient is plain
division); a null operand makes the result null. Ads metrics are post-aggregators and must be exact:
CTR = clicks / impressions, CPC = spend / clicks, CPM = spend * 1000 / impressions, evaluated in that
order over the finalized sums, so they equal the same double arithmetic done by the client.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from adsdata import COUNT, ROWS, Row, groupby, hll_estimate, timeseries

from grove.errors import InvalidInput, InvalidQuery

Run = Callable[[dict[str, Any]], list[Any]]

CLICKS = {"type": "longSum", "name": "clicks", "fieldName": "clicks"}
IMPRESSIONS = {"type": "longSum", "name": "impressions", "fieldName": "impressions"}
SPEND = {"type": "doubleSum", "name": "spend", "fieldName": "spend"}


def field(name: str) -> dict[str, Any]:
    return {"type": "fieldAccess", "fieldName": name}


def const(value: float) -> dict[str, Any]:
    return {"type": "constant", "name": f"c{value}", "value": value}


def arith(name: str, fn: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "arithmetic", "name": name, "fn": fn, "fields": list(fields)}


ADS_METRICS = [
    arith("ctr", "/", field("clicks"), field("impressions")),
    arith("cpc", "/", field("spend"), field("clicks")),
    arith("cpm", "/", arith("spend_k", "*", field("spend"), const(1000)), field("impressions")),
]


def by_key(rows: list[Any], key: str) -> dict[Any, dict[str, Any]]:
    return {r["event"][key]: r["event"] for r in rows}


def test_ads_metrics_are_exact(run: Run) -> None:
    rows = run(groupby(["campaign"], [CLICKS, IMPRESSIONS, SPEND], postAggregations=ADS_METRICS))
    expected: dict[str, list[Row]] = defaultdict(list)
    for r in ROWS:
        expected[r["campaign"]].append(r)
    assert len(rows) == len(expected)
    for e in (r["event"] for r in rows):
        g = expected[e["campaign"]]
        clicks, imps = sum(r["clicks"] for r in g), sum(r["impressions"] for r in g)
        assert (e["clicks"], e["impressions"]) == (clicks, imps)
        # exactly the client's arithmetic over the returned sums
        assert e["ctr"] == (clicks / imps if imps else 0.0)
        assert e["cpc"] == (e["spend"] / clicks if clicks else 0.0)
        assert e["cpm"] == (e["spend"] * 1000 / imps if imps else 0.0)
        spend = sum(r["spend"] for r in g if r["spend"] is not None)
        assert e["cpm"] == pytest.approx(spend * 1000 / imps, rel=1e-12)


def test_division_by_zero_is_zero_and_quotient_is_not(run: Run) -> None:
    f = {"type": "selector", "dimension": "campaign", "value": "c1"}
    result = run(
        timeseries(
            [CLICKS, {"type": "filtered", "name": "zero", "filter": {"type": "false"}, "aggregator": COUNT}],
            filter=f,
            postAggregations=[
                arith("div", "/", field("clicks"), field("zero")),
                arith("zero_by_zero", "/", field("zero"), field("zero")),
                arith("quot", "quotient", field("clicks"), const(4)),
            ],
        )
    )
    got = result[0]["result"]
    clicks = sum(r["clicks"] for r in ROWS if r["campaign"] == "c1")
    assert got["div"] == 0.0
    assert got["zero_by_zero"] == 0.0
    assert got["quot"] == clicks / 4


def test_arithmetic_functions_left_to_right(run: Run) -> None:
    got = run(
        timeseries(
            [CLICKS, IMPRESSIONS],
            postAggregations=[
                arith("plus", "+", field("clicks"), field("impressions"), const(1)),
                arith("minus", "-", field("impressions"), field("clicks"), const(7)),
                arith("times", "*", field("clicks"), const(2.5)),
                arith("chain", "/", field("impressions"), const(2), const(5)),
                arith("pow", "pow", field("clicks"), const(2)),
                arith("nested", "*", arith("r", "/", field("clicks"), field("impressions")), const(100)),
            ],
        )
    )[0]["result"]
    c, i = sum(r["clicks"] for r in ROWS), sum(r["impressions"] for r in ROWS)
    assert got["plus"] == float(c + i + 1)
    assert got["minus"] == float(i - c - 7)
    assert got["times"] == c * 2.5
    assert got["chain"] == i / 2 / 5
    assert got["pow"] == float(c) ** 2
    assert got["nested"] == c / i * 100


def test_null_operands_make_null(run: Run) -> None:
    got = run(
        timeseries(
            [CLICKS, SPEND],
            filter={"type": "null", "column": "spend"},
            postAggregations=[
                arith("sum", "+", field("clicks"), field("spend")),
                arith("div", "/", field("spend"), field("clicks")),
                {"type": "doubleGreatest", "name": "g", "fields": [field("clicks"), field("spend")]},
                {"type": "doubleLeast", "name": "l", "fields": [field("spend"), field("spend")]},
            ],
        )
    )[0]["result"]
    clicks = sum(r["clicks"] for r in ROWS if r["spend"] is None)
    assert got == {"clicks": clicks, "spend": None, "sum": None, "div": None, "g": float(clicks), "l": None}


def test_post_aggregators_refer_to_earlier_post_aggregators(run: Run) -> None:
    got = run(
        timeseries(
            [CLICKS, IMPRESSIONS],
            postAggregations=[
                arith("ctr", "/", field("clicks"), field("impressions")),
                arith("ctr_pct", "*", field("ctr"), const(100)),
                {"type": "expression", "name": "e", "expression": "ctr_pct / 100 - ctr"},
            ],
        )
    )[0]["result"]
    assert got["ctr_pct"] == got["ctr"] * 100
    assert got["e"] == pytest.approx(0.0, abs=1e-15)


def test_constant_and_expression(run: Run) -> None:
    got = run(
        timeseries(
            [CLICKS, IMPRESSIONS, COUNT],
            postAggregations=[
                const(3),
                {"type": "constant", "name": "pi", "value": 3.25},
                {"type": "expression", "name": "ctr", "expression": "clicks / cast(impressions, 'DOUBLE')"},
                {"type": "expression", "name": "avg", "expression": "impressions / rows"},
                {"type": "expression", "name": "flag", "expression": "if(clicks > rows, 1, 0)"},
            ],
        )
    )[0]["result"]
    c, i, n = sum(r["clicks"] for r in ROWS), sum(r["impressions"] for r in ROWS), len(ROWS)
    assert got["c3"] == 3
    assert got["pi"] == 3.25
    assert got["ctr"] == c / i
    assert got["avg"] == i // n  # long / long is integer division in Druid expressions
    assert got["flag"] == (1 if c > n else 0)


def test_greatest_and_least(run: Run) -> None:
    rows = run(
        groupby(
            ["device"],
            [CLICKS, COUNT, {"type": "longMax", "name": "mx", "fieldName": "impressions"}],
            postAggregations=[
                {
                    "type": "doubleGreatest",
                    "name": "dg",
                    "fields": [field("clicks"), field("rows"), field("mx")],
                },
                {
                    "type": "doubleLeast",
                    "name": "dl",
                    "fields": [field("clicks"), field("rows"), field("mx")],
                },
                {"type": "longGreatest", "name": "lg", "fields": [field("clicks"), field("mx")]},
                {"type": "longLeast", "name": "ll", "fields": [field("rows"), field("mx")]},
            ],
        )
    )
    for e in (r["event"] for r in rows):
        values = [e["clicks"], e["rows"], e["mx"]]
        assert e["dg"] == float(max(values))
        assert e["dl"] == float(min(values))
        assert e["lg"] == max(e["clicks"], e["mx"]) and isinstance(e["lg"], int)
        assert e["ll"] == min(e["rows"], e["mx"]) and isinstance(e["ll"], int)


def test_sketch_post_aggregators(run: Run) -> None:
    got = run(
        timeseries(
            [
                {"type": "hyperUnique", "name": "hu", "fieldName": "users_hu"},
                {"type": "hyperUnique", "name": "hu_round", "fieldName": "users_hu", "round": True},
                {"type": "HLLSketchMerge", "name": "hll", "fieldName": "users_hll"},
                {"type": "thetaSketch", "name": "theta", "fieldName": "users_theta"},
                COUNT,
            ],
            postAggregations=[
                {"type": "hyperUniqueCardinality", "name": "huc", "fieldName": "hu"},
                {"type": "hyperUniqueCardinality", "name": "huc_round", "fieldName": "hu_round"},
                {"type": "HLLSketchEstimate", "name": "est", "field": field("hll")},
                {"type": "HLLSketchEstimate", "name": "est_round", "field": field("hll"), "round": True},
                {"type": "thetaSketchEstimate", "name": "theta_est", "field": field("theta")},
                {"type": "finalizingFieldAccess", "name": "fin", "fieldName": "hll"},
                arith("per_row", "/", {"type": "hyperUniqueCardinality", "fieldName": "hu"}, field("rows")),
            ],
        )
    )[0]["result"]
    users = {r["user"] for r in ROWS}
    est = hll_estimate(users)
    assert got["huc"] == pytest.approx(est, rel=1e-12)
    # hyperUniqueCardinality inherits the rounding of the aggregator it references (post-aggregations.md)
    assert got["huc_round"] == round(est)
    assert got["est"] == pytest.approx(est, rel=1e-12)
    assert got["est_round"] == round(est)
    assert got["theta_est"] == len(users)
    assert got["fin"] == pytest.approx(est, rel=1e-12)
    assert got["per_row"] == pytest.approx(est / len(ROWS), rel=1e-12)


def theta_of(name: str, f: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "filtered",
        "name": name,
        "filter": f,
        "aggregator": {"type": "thetaSketch", "name": name, "fieldName": "users_theta"},
    }


def test_theta_set_operations(run: Run) -> None:
    us = {"type": "selector", "dimension": "country", "value": "US"}
    phone = {"type": "selector", "dimension": "device", "value": "phone"}
    got = run(
        timeseries(
            [theta_of("us", us), theta_of("phone", phone)],
            postAggregations=[
                {
                    "type": "thetaSketchEstimate",
                    "name": op.lower(),
                    "field": {
                        "type": "thetaSketchSetOp",
                        "name": op,
                        "func": op,
                        "fields": [field("us"), field("phone")],
                    },
                }
                for op in ("UNION", "INTERSECT", "NOT")
            ],
        )
    )[0]["result"]
    a = {r["user"] for r in ROWS if r["country"] == "US"}
    b = {r["user"] for r in ROWS if r["device"] == "phone"}
    assert got["us"] == len(a) and got["phone"] == len(b)
    assert got["union"] == len(a | b)
    assert got["intersect"] == len(a & b)
    assert got["not"] == len(a - b)


def test_theta_set_operations_per_group(run: Run) -> None:
    tagged_a = {"type": "selector", "dimension": "tags", "value": "a"}
    tagged_b = {"type": "selector", "dimension": "tags", "value": "b"}
    rows = run(
        groupby(
            ["device"],
            [theta_of("a", tagged_a), theta_of("b", tagged_b)],
            postAggregations=[
                {
                    "type": "thetaSketchEstimate",
                    "name": "both",
                    "field": {
                        "type": "thetaSketchSetOp",
                        "func": "INTERSECT",
                        "fields": [field("a"), field("b")],
                    },
                }
            ],
        )
    )
    for e in (r["event"] for r in rows):
        a = {r["user"] for r in ROWS if r["device"] == e["device"] and r["tags"] and "a" in r["tags"]}
        b = {r["user"] for r in ROWS if r["device"] == e["device"] and r["tags"] and "b" in r["tags"]}
        assert e["both"] == len(a & b)


def test_post_aggregators_in_topn_and_grand_total(run: Run) -> None:
    result = run(
        timeseries(
            [CLICKS, IMPRESSIONS],
            granularity="day",
            postAggregations=ADS_METRICS[:1],
            context={"grandTotal": True},
        )
    )
    total = result[-1]["result"]
    assert total["ctr"] == total["clicks"] / total["impressions"]
    assert total["clicks"] == sum(r["result"]["clicks"] for r in result[:-1])


@pytest.mark.parametrize(
    ("post", "path", "error"),
    [
        (
            [{"type": "arithmetic", "name": "x", "fn": "%", "fields": [field("a"), field("b")]}],
            "postAggregations[0].fn",
            InvalidQuery,
        ),
        (
            [{"type": "arithmetic", "name": "x", "fn": "+", "fields": [field("clicks")]}],
            "postAggregations[0].fields",
            InvalidQuery,
        ),
        (
            [{"type": "fieldAcces", "name": "x", "fieldName": "clicks"}],
            "postAggregations[0].type",
            InvalidQuery,
        ),
        (
            [
                {
                    "type": "arithmetic",
                    "name": "x",
                    "fn": "+",
                    "fields": [field("clicks"), {"type": "constant"}],
                }
            ],
            "postAggregations[0].fields[1].value",
            InvalidQuery,
        ),
        ([field("clicks")], "postAggregations[0].name", InvalidQuery),
        ([{"type": "javascript", "name": "x"}], "postAggregations[0].type", InvalidInput),
    ],
)
def test_bad_post_aggregators_name_the_field(
    run: Run, post: list[dict[str, Any]], path: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as info:
        run(timeseries([CLICKS], postAggregations=post))
    assert path in str(info.value)


def test_post_aggregator_on_unknown_field_fails(run: Run) -> None:
    with pytest.raises(InvalidQuery) as info:
        run(timeseries([CLICKS], postAggregations=[arith("x", "+", field("clicks"), field("nope"))]))
    assert "[nope]" in str(info.value)
