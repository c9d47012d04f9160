"""groupBy on every segment flavour: ordering, limitSpec, having, subtotals, result shape.

Druid facts pinned here (groupbyquery.md, limitspec.md, having.md, DefaultLimitSpec): rows are
``{"version": "v1", "timestamp", "event"}``; without ordering columns rows come by time then
dimensions ascending (nulls first); a limitSpec orders by time first and then by its columns unless
``sortByDimsFirst``; metrics order numerically with nulls first ascending (last descending), whatever
``dimensionOrder`` says; ``offset`` is applied before ``limit``; ``having`` filters before the limit;
each subtotal is a groupBy on a subset of the dimensions; granularity ``all`` is stamped with the
start of the first query interval.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from adsdata import COUNT, DAY, ROWS, T0, Row, groupby

from grove.common.jsonout import dumps
from grove.common.time import format_timestamp, parse_timestamp
from grove.errors import InvalidQuery
from grove.query.types import groupby as groupby_type

Run = Callable[[dict[str, Any]], list[Any]]
CLICKS = {"type": "longSum", "name": "clicks", "fieldName": "clicks"}
SPEND = {"type": "doubleSum", "name": "spend", "fieldName": "spend"}


def events(result: list[Any]) -> list[dict[str, Any]]:
    return [r["event"] for r in result]


def totals(key: Callable[[Row], Any]) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = defaultdict(lambda: {"rows": 0, "clicks": 0})
    for r in ROWS:
        out[key(r)]["rows"] += 1
        out[key(r)]["clicks"] += r["clicks"]
    return dict(out)


def nulls_first(v: Any) -> tuple[Any, ...]:
    return (0, b"") if v is None else (1, v.encode() if isinstance(v, str) else v)


def test_result_shape_and_default_order(run: Run) -> None:
    result = run(groupby(["country", "device"], [COUNT, CLICKS]))
    assert all(set(r) == {"version", "timestamp", "event"} and r["version"] == "v1" for r in result)
    t = totals(lambda r: (r["country"], r["device"]))
    keys = sorted(t, key=lambda k: (nulls_first(k[0]), nulls_first(k[1])))
    assert events(result) == [{"country": c, "device": d, **t[(c, d)]} for c, d in keys]


def test_granularity_all_is_stamped_with_the_query_start(run: Run) -> None:
    result = run(groupby(["device"], [COUNT], intervals=["2019-12-30T06:00/2020-01-05"]))
    assert {r["timestamp"] for r in result} == {"2019-12-30T06:00:00.000Z"}


def test_default_order_is_time_then_dimensions(run: Run) -> None:
    result = run(groupby(["device"], [COUNT], granularity="day"))
    got = [(parse_timestamp(r["timestamp"]), r["event"]["device"]) for r in result]
    assert got == sorted(got)
    t = totals(lambda r: (T0 + (r["__time"] - T0) // DAY * DAY, r["device"]))
    assert {k: r["event"]["rows"] for k, r in zip(got, result, strict=True)} == {
        k: v["rows"] for k, v in t.items()
    }


def test_limit_spec_metric_descending_with_limit_and_offset(run: Run) -> None:
    spec = {
        "type": "default",
        "limit": 4,
        "offset": 2,
        "columns": [{"dimension": "clicks", "direction": "descending"}],
    }
    got = events(run(groupby(["campaign"], [COUNT, CLICKS], limitSpec=spec)))
    t = totals(lambda r: r["campaign"])
    # a stable sort of the default (campaign) order
    ordered = sorted(sorted(t, key=str.encode), key=lambda c: -t[c]["clicks"])
    assert got == [{"campaign": c, **t[c]} for c in ordered[2:6]]


def test_limit_spec_string_columns_and_bare_names(run: Run) -> None:
    spec = {"type": "default", "columns": ["device", {"dimension": "rows", "direction": "ascending"}]}
    got = events(run(groupby(["device", "country"], [COUNT], limitSpec=spec)))
    t = totals(lambda r: (r["device"], r["country"]))
    keys = sorted(t, key=lambda k: (k[0], t[k]["rows"], nulls_first(k[1])))
    assert [(g["device"], g["country"]) for g in got] == keys


def _alnum(v: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", v) if p)


@pytest.mark.parametrize(
    ("order", "key"),
    [("lexicographic", str.encode), ("alphanumeric", _alnum), ("strlen", lambda v: (len(v), v))],
)
def test_dimension_order(run: Run, order: str, key: Callable[[str], Any]) -> None:
    for direction in ("ascending", "descending"):
        spec = {"columns": [{"dimension": "campaign", "direction": direction, "dimensionOrder": order}]}
        got = [e["campaign"] for e in events(run(groupby(["campaign"], [COUNT], limitSpec=spec)))]
        assert got == sorted({r["campaign"] for r in ROWS}, key=key, reverse=direction == "descending")


def test_numeric_dimension_order_on_a_string_column(run: Run) -> None:
    spec = {"columns": [{"dimension": "age_s", "dimensionOrder": "numeric"}]}
    vc = [
        {"type": "expression", "name": "age_s", "expression": "cast(age, 'STRING')", "outputType": "STRING"}
    ]
    got = [e["age_s"] for e in events(run(groupby(["age_s"], [COUNT], limitSpec=spec, virtualColumns=vc)))]
    ages = sorted({r["age"] for r in ROWS if r["age"] is not None})
    assert got == [None] + [str(a) for a in ages]


def test_numeric_order_puts_unparseable_values_before_numbers(run: Run) -> None:
    # sorting-orders.md: "Unparseable values are treated as nulls, and nulls precede numbers";
    # two unparseable values compare lexicographically
    vc = [
        {
            "type": "expression",
            "name": "mixed",
            "expression": "nvl(cast(age, 'STRING'), promo)",
            "outputType": "STRING",
        }
    ]
    spec = {"columns": [{"dimension": "mixed", "dimensionOrder": "numeric"}]}
    got = [e["mixed"] for e in events(run(groupby(["mixed"], [COUNT], limitSpec=spec, virtualColumns=vc)))]
    values = {str(r["age"]) if r["age"] is not None else r["promo"] for r in ROWS}
    words = sorted((v for v in values if v is not None and not v.isdigit()), key=str.encode)
    numbers = sorted((v for v in values if v is not None and v.isdigit()), key=int)
    assert got == [None, *words, *numbers]


def test_lexicographic_order_of_a_long_dimension_compares_text(run: Run) -> None:
    # DefaultLimitSpec compares dimension values as strings with the given comparator
    dim = {"type": "default", "dimension": "impressions", "outputName": "imps", "outputType": "LONG"}
    spec = {"columns": [{"dimension": "imps"}], "limit": 5}
    got = [e["imps"] for e in events(run(groupby([dim], [COUNT], limitSpec=spec)))]
    values = sorted({r["impressions"] for r in ROWS}, key=str)
    assert got == values[:5]
    assert got != sorted(values)[:5]  # "10" sorts before "2"
    spec = {"columns": [{"dimension": "imps", "dimensionOrder": "numeric"}], "limit": 5}
    got = [e["imps"] for e in events(run(groupby([dim], [COUNT], limitSpec=spec)))]
    assert got == sorted(values)[:5]


def test_metrics_order_numerically_nulls_first(run: Run) -> None:
    aggs = [
        COUNT,
        {
            "type": "filtered",
            "name": "us_spend",
            "filter": {"type": "selector", "dimension": "country", "value": "US"},
            "aggregator": SPEND,
        },
    ]
    for direction in ("ascending", "descending"):
        # dimensionOrder is ignored for metrics: they order as numbers
        spec = {
            "columns": [{"dimension": "us_spend", "direction": direction, "dimensionOrder": "alphanumeric"}]
        }
        got = [e["us_spend"] for e in events(run(groupby(["country"], aggs, limitSpec=spec)))]
        numbers = [v for v in got if v is not None]
        assert numbers == sorted(numbers, reverse=direction == "descending")
        nulls = len(got) - len(numbers)
        assert nulls == 5
        assert got[:nulls] == [None] * nulls if direction == "ascending" else got[-nulls:] == [None] * nulls


def test_limit_spec_orders_by_time_first(run: Run) -> None:
    spec = {"columns": [{"dimension": "clicks", "direction": "descending"}], "limit": 5}
    result = run(groupby(["device"], [CLICKS], granularity="day", limitSpec=spec))
    days = [parse_timestamp(r["timestamp"]) for r in result]
    assert days == sorted(days)
    assert len(result) == 5  # the limit applies to the whole result, not per bucket
    first_day = [r["event"]["clicks"] for r in result if parse_timestamp(r["timestamp"]) == T0]
    assert first_day == sorted(first_day, reverse=True) and len(first_day) == 3


def test_sort_by_dims_first(run: Run) -> None:
    spec = {"columns": [{"dimension": "clicks", "direction": "descending"}]}
    result = run(
        groupby(["device"], [CLICKS], granularity="day", limitSpec=spec, context={"sortByDimsFirst": True})
    )
    clicks = [r["event"]["clicks"] for r in result]
    assert clicks == sorted(clicks, reverse=True)


def test_order_by_post_aggregator(run: Run) -> None:
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
    spec = {"columns": [{"dimension": "cpc", "direction": "descending"}], "limit": 3}
    got = events(run(groupby(["campaign"], [CLICKS, SPEND], postAggregations=post, limitSpec=spec)))
    spend: dict[str, float] = defaultdict(float)
    clicks: dict[str, int] = defaultdict(int)
    for r in ROWS:
        spend[r["campaign"]] += r["spend"] or 0.0
        clicks[r["campaign"]] += r["clicks"]
    assert [g["campaign"] for g in got] == sorted(spend, key=lambda c: -spend[c] / clicks[c])[:3]


def test_limit_without_columns_keeps_the_default_order(run: Run) -> None:
    all_rows = events(run(groupby(["campaign", "device"], [COUNT])))
    assert (
        events(run(groupby(["campaign", "device"], [COUNT], limitSpec={"type": "default", "limit": 7})))
        == all_rows[:7]
    )
    assert (
        events(run(groupby(["campaign", "device"], [COUNT], limitSpec={"limit": 7, "offset": 30})))
        == all_rows[30:37]
    )


H_ROWS = {"type": "greaterThan", "aggregation": "rows", "value": 40}


@pytest.mark.parametrize(
    ("having", "pred"),
    [
        (H_ROWS, lambda e: e["rows"] > 40),
        ({"type": "lessThan", "aggregation": "clicks", "value": 150}, lambda e: e["clicks"] < 150),
        ({"type": "equalTo", "aggregation": "rows", "value": 44}, lambda e: e["rows"] == 44),
        (
            {
                "type": "and",
                "havingSpecs": [H_ROWS, {"type": "lessThan", "aggregation": "rows", "value": 50}],
            },
            lambda e: 40 < e["rows"] < 50,
        ),
        (
            {"type": "or", "havingSpecs": [H_ROWS, {"type": "lessThan", "aggregation": "rows", "value": 10}]},
            lambda e: e["rows"] > 40 or e["rows"] < 10,
        ),
        ({"type": "not", "havingSpec": H_ROWS}, lambda e: not e["rows"] > 40),
        ({"type": "dimSelector", "dimension": "device", "value": "phone"}, lambda e: e["device"] == "phone"),
        ({"type": "dimSelector", "dimension": "country", "value": None}, lambda e: e["country"] is None),
        (
            {
                "type": "filter",
                "filter": {
                    "type": "bound",
                    "dimension": "rows",
                    "lower": "30",
                    "upper": "45",
                    "ordering": "numeric",
                },
            },
            lambda e: 30 <= e["rows"] <= 45,
        ),
        (
            {
                "type": "filter",
                "filter": {
                    "type": "and",
                    "fields": [
                        {"type": "selector", "dimension": "device", "value": "tablet"},
                        {"type": "expression", "expression": "clicks > 100"},
                    ],
                },
            },
            lambda e: e["device"] == "tablet" and e["clicks"] > 100,
        ),
        ({"type": "always"}, lambda e: True),
        ({"type": "never"}, lambda e: False),
    ],
    ids=[
        "greaterThan",
        "lessThan",
        "equalTo",
        "and",
        "or",
        "not",
        "dimSelector",
        "dimSelector-null",
        "filter",
        "filter-and-expression",
        "always",
        "never",
    ],
)
def test_having(run: Run, having: dict[str, Any], pred: Callable[[dict[str, Any]], bool]) -> None:
    all_events = events(run(groupby(["country", "device"], [COUNT, CLICKS])))
    got = events(run(groupby(["country", "device"], [COUNT, CLICKS], having=having)))
    assert got == [e for e in all_events if pred(e)]


def test_having_applies_before_the_limit(run: Run) -> None:
    spec = {"columns": [{"dimension": "rows", "direction": "descending"}], "limit": 2}
    got = events(
        run(
            groupby(
                ["country", "device"],
                [COUNT],
                having={"type": "lessThan", "aggregation": "rows", "value": 30},
                limitSpec=spec,
            )
        )
    )
    counts = sorted(
        (v["rows"] for v in totals(lambda r: (r["country"], r["device"])).values() if v["rows"] < 30),
        reverse=True,
    )
    assert [g["rows"] for g in got] == counts[:2]


def test_having_on_a_null_metric(run: Run) -> None:
    aggs = [
        {
            "type": "filtered",
            "name": "us",
            "filter": {"type": "selector", "dimension": "country", "value": "US"},
            "aggregator": CLICKS,
        }
    ]
    got = events(
        run(groupby(["country"], aggs, having={"type": "greaterThan", "aggregation": "us", "value": 0}))
    )
    assert [g["country"] for g in got] == ["US"]


def test_subtotals(run: Run) -> None:
    result = run(
        groupby(["device", "country"], [COUNT, CLICKS], subtotalsSpec=[["device", "country"], ["device"], []])
    )
    blocks: list[list[dict[str, Any]]] = [[], [], []]
    block = 0
    sizes = [len(totals(lambda r: (r["device"], r["country"]))), len(totals(lambda r: r["device"])), 1]
    for i, e in enumerate(events(result)):
        while i >= sum(sizes[: block + 1]):
            block += 1
        blocks[block].append(e)
    assert len(result) == sum(sizes)
    full = totals(lambda r: (r["device"], r["country"]))
    assert {
        (e["device"], e["country"]): {"rows": e["rows"], "clicks": e["clicks"]} for e in blocks[0]
    } == full
    by_device = totals(lambda r: r["device"])
    assert [(e["device"], e.get("country")) for e in blocks[1]] == [(d, None) for d in sorted(by_device)]
    assert {e["device"]: {"rows": e["rows"], "clicks": e["clicks"]} for e in blocks[1]} == by_device
    (grand,) = blocks[2]
    assert (grand.get("device"), grand.get("country")) == (None, None)
    assert (grand["rows"], grand["clicks"]) == (len(ROWS), sum(r["clicks"] for r in ROWS))


def test_subtotals_apply_having_and_limit_per_block(run: Run) -> None:
    spec = {"columns": [{"dimension": "rows", "direction": "descending"}], "limit": 2}
    having = {"type": "greaterThan", "aggregation": "rows", "value": 60}
    result = events(
        run(
            groupby(
                ["country", "device"],
                [COUNT],
                subtotalsSpec=[["country"], ["device"]],
                limitSpec=spec,
                having=having,
            )
        )
    )
    countries = sorted(
        (v["rows"] for v in totals(lambda r: r["country"]).values() if v["rows"] > 60), reverse=True
    )
    devices = sorted(
        (v["rows"] for v in totals(lambda r: r["device"]).values() if v["rows"] > 60), reverse=True
    )
    assert [e["rows"] for e in result] == countries[:2] + devices[:2]


def test_subtotal_dropping_a_multi_value_dimension_counts_rows_once(run: Run) -> None:
    result = events(run(groupby(["tags", "device"], [COUNT], subtotalsSpec=[["device"]])))
    assert {e["device"]: e["rows"] for e in result} == {
        k: v["rows"] for k, v in totals(lambda r: r["device"]).items()
    }


def test_unknown_subtotal_dimension_fails(run: Run) -> None:
    with pytest.raises(InvalidQuery) as info:
        run(groupby(["device"], [COUNT], subtotalsSpec=[["nope"]]))
    assert "subtotalsSpec" in str(info.value)


def test_unknown_order_by_column_fails(run: Run) -> None:
    with pytest.raises(InvalidQuery) as info:
        run(groupby(["device"], [COUNT], limitSpec={"columns": ["nope"]}))
    assert "limitSpec" in str(info.value)


def test_no_dimensions_is_one_row_per_bucket(run: Run) -> None:
    result = run(groupby([], [COUNT], granularity="day"))
    assert [(r["timestamp"], r["event"]) for r in result] == [
        (format_timestamp(T0 + d * DAY), {"rows": sum(1 for r in ROWS if (r["__time"] - T0) // DAY == d)})
        for d in range(3)
    ]


def test_no_rows_gives_no_rows(run: Run) -> None:
    assert run(groupby(["device"], [COUNT], filter={"type": "false"})) == []
    assert run(groupby(["device"], [COUNT], intervals=["2019-01-01/2019-01-02"])) == []


def test_result_as_array(run: Run) -> None:
    result = run(groupby(["device"], [COUNT], context={"resultAsArray": True}))
    t = totals(lambda r: r["device"])
    assert result == [[d, t[d]["rows"]] for d in sorted(t)]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"dimensions": [{"type": "default"}]}, "dimensions[0].dimension"),
        ({"dimensions": "device"}, "dimensions"),
        ({"limitSpec": {"type": "default", "limit": -1}}, "limitSpec.limit"),
        (
            {"limitSpec": {"columns": [{"dimension": "rows", "direction": "sideways"}]}},
            "limitSpec.columns[0].direction",
        ),
        ({"having": {"type": "greaterThan", "aggregation": "rows"}}, "having.value"),
        ({"having": {"type": "moreThan", "aggregation": "rows", "value": 1}}, "having.type"),
        ({"granularity": "fortnight"}, "granularity"),
    ],
)
def test_bad_groupby_names_the_field(run: Run, change: dict[str, Any], path: str) -> None:
    q = groupby(["device"], [COUNT])
    q.update(change)
    with pytest.raises(InvalidQuery) as info:
        run(q)
    assert path in str(info.value)


# Rows are built by a function compiled per list of output names: any name must come out as written.
_ODD_NAMES = ["it's", 'say "hi"', "}{", "a\nb", "__import__('os').getcwd()", "naïve ∑"]


@pytest.mark.parametrize("name", _ODD_NAMES)
def test_any_output_name_is_a_plain_key(run: Run, name: str) -> None:
    result = run(
        groupby(
            [{"type": "default", "dimension": "device", "outputName": name}],
            [{"type": "count", "name": name + "#"}],
        )
    )
    t = totals(lambda r: r["device"])
    assert sorted(events(result), key=lambda e: nulls_first(e[name])) == [
        {name: d, name + "#": t[d]["rows"]} for d in sorted(t, key=nulls_first)
    ]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"aggregations": [{"type": "count", "name": "device"}]}, "aggregations[0].name"),
        (
            {
                "aggregations": [COUNT],
                "postAggregations": [{"type": "constant", "name": "rows", "value": 1}],
            },
            "postAggregations[0].name",
        ),
        (
            {"dimensions": ["device", {"type": "default", "dimension": "country", "outputName": "device"}]},
            "dimensions[1].outputName",
        ),
    ],
)
def test_an_output_name_used_twice_is_refused_naming_the_second(
    run: Run, extra: dict[str, Any], field: str
) -> None:
    query = {**groupby(["device"], [COUNT]), **extra}
    with pytest.raises(InvalidQuery, match="Duplicate output name") as e:
        run(query)
    assert e.value.path == field


@pytest.mark.parametrize("min_rows", [0, 10**9])  # laid out from columns / built as rows and encoded
def test_the_json_written_from_columns_is_the_rows_json(
    run: Run, runner: Any, min_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(groupby_type, "_JSON_COLUMNS_MIN_ROWS", min_rows)
    # Integer metrics (exact in any merge order), string and long dimensions, nulls, post-aggregators,
    # a limit and subtotals: the bytes the server sends equal orjson's encoding of the rows.
    query = groupby(
        ["country", {"type": "default", "dimension": "clicks", "outputName": "c", "outputType": "LONG"}],
        [COUNT, CLICKS],
        granularity="day",
        postAggregations=[
            {
                "type": "arithmetic",
                "name": "twice",
                "fn": "+",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "rows"},
                    {"type": "fieldAccess", "fieldName": "rows"},
                ],
            }
        ],
        limitSpec={
            "type": "default",
            "limit": 40,
            "columns": [{"dimension": "rows", "direction": "descending"}],
        },
        subtotalsSpec=[["country"], ["c"], []],
    )
    assert runner.run_json(query) == dumps(run(query))
    assert runner.run_json({**query, "context": {"resultAsArray": True}}) == dumps(
        run({**query, "context": {"resultAsArray": True}})
    )
