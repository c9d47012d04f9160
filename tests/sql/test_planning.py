"""Which native query each statement becomes, and its shape (no query is run here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from grove.sql.engine import SqlEngine
from grove.sql.errors import SqlUnsupported

ETERNITY = ["-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z"]
Plan = Callable[..., dict[str, Any]]


def intervals(q: dict[str, Any]) -> list[str]:
    return q["intervals"]["intervals"]


# --- query types ----------------------------------------------------------------------------------------


def test_min_max_of_time_is_a_time_boundary(native: Plan) -> None:
    q = native("SELECT MIN(__time), MAX(__time) FROM ads")
    assert q["queryType"] == "timeBoundary"
    assert "bound" not in q
    assert native("SELECT MAX(__time) AS latest FROM ads WHERE country = 'US'")["bound"] == "maxTime"
    assert native("SELECT MIN(__time) FROM druid.ads")["bound"] == "minTime"


def test_time_boundary_planning_can_be_turned_off(native: Plan) -> None:
    q = native("SELECT MAX(__time) FROM ads", context={"enableTimeBoundaryPlanning": False})
    assert q["queryType"] == "timeseries"
    assert q["aggregations"] == [{"type": "longMax", "name": "a0", "fieldName": "__time"}]


def test_grand_total_is_a_timeseries_with_granularity_all(native: Plan) -> None:
    q = native("SELECT COUNT(*), SUM(clicks) FROM ads")
    assert q["queryType"] == "timeseries"
    assert q["granularity"] == {"type": "all"}
    assert intervals(q) == ETERNITY
    assert q["aggregations"] == [
        {"type": "count", "name": "a0"},
        {"type": "longSum", "name": "a1", "fieldName": "clicks"},
    ]


def test_grouping_on_a_floor_of_time_is_a_timeseries(engine: SqlEngine, native: Plan) -> None:
    for floor in ("FLOOR(__time TO DAY)", "TIME_FLOOR(__time, 'P1D')", "DATE_TRUNC('day', __time)"):
        q = native(f"SELECT {floor} AS d, SUM(impressions) FROM ads GROUP BY 1")
        assert q["queryType"] == "timeseries", floor
        assert q["granularity"] == {"type": "period", "period": "P1D", "timeZone": "UTC"}
    node, _, _, _ = engine.plan(
        "SELECT FLOOR(__time TO HOUR), COUNT(*) FROM ads GROUP BY 1 ORDER BY 1 DESC LIMIT 5"
    )
    q = node.natives()[0].query
    assert q["granularity"]["period"] == "PT1H"
    assert q["descending"] is True
    assert q["limit"] == 5
    assert q["context"]["skipEmptyBuckets"] is True


def test_one_dimension_ordered_by_an_aggregate_with_a_limit_is_a_topn(native: Plan) -> None:
    q = native("SELECT country, SUM(clicks) AS c FROM ads GROUP BY country ORDER BY c DESC LIMIT 3")
    assert q["queryType"] == "topN"
    assert q["dimension"] == {
        "type": "default",
        "dimension": "country",
        "outputName": "d0",
        "outputType": "STRING",
    }
    assert q["metric"] == {"type": "numeric", "metric": "a0"}
    assert q["threshold"] == 3
    ascending = native("SELECT country, SUM(clicks) FROM ads GROUP BY 1 ORDER BY 2 LIMIT 3")
    assert ascending["metric"] == {"type": "inverted", "metric": {"type": "numeric", "metric": "a0"}}
    by_dim = native("SELECT device, COUNT(*) FROM ads GROUP BY device ORDER BY device DESC LIMIT 2")
    assert by_dim["metric"] == {
        "type": "inverted",
        "metric": {"type": "dimension", "ordering": "lexicographic"},
    }
    numeric_dim = native("SELECT age, COUNT(*) FROM ads GROUP BY age ORDER BY age LIMIT 2")
    assert numeric_dim["metric"] == {"type": "dimension", "ordering": "numeric"}
    assert numeric_dim["dimension"]["outputType"] == "LONG"


def test_topn_ordered_by_a_ratio_of_aggregates_uses_a_post_aggregator(native: Plan) -> None:
    q = native(
        "SELECT campaign, SUM(clicks) * 1.0 / SUM(impressions) AS ctr FROM ads GROUP BY 1 ORDER BY ctr DESC LIMIT 5"
    )
    assert q["queryType"] == "topN"
    assert q["postAggregations"] == [
        {"type": "expression", "name": "p0", "expression": '(("a0" * 1.0) / "a1")'}
    ]
    assert q["metric"] == {"type": "numeric", "metric": "p0"}


def test_use_approximate_topn_false_plans_a_group_by(native: Plan) -> None:
    q = native(
        "SELECT country, SUM(clicks) FROM ads GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
        context={"useApproximateTopN": False},
    )
    assert q["queryType"] == "groupBy"
    assert q["limitSpec"] == {
        "type": "default",
        "columns": [{"dimension": "a0", "direction": "descending", "dimensionOrder": "numeric"}],
        "limit": 3,
    }


def test_topn_needs_a_limit_and_no_offset_or_having(native: Plan) -> None:
    assert native("SELECT country, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC")["queryType"] == "groupBy"
    assert (
        native("SELECT country, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC LIMIT 2 OFFSET 1")["queryType"]
        == "groupBy"
    )
    q = native("SELECT country, COUNT(*) FROM ads GROUP BY 1 HAVING COUNT(*) > 3 ORDER BY 2 DESC LIMIT 2")
    assert q["queryType"] == "groupBy"


def test_group_by_with_having_limit_offset(native: Plan) -> None:
    q = native(
        "SELECT country, device, COUNT(*) AS n FROM ads GROUP BY country, device "
        "HAVING COUNT(*) > 10 AND country <> '' ORDER BY n DESC, country LIMIT 4 OFFSET 2"
    )
    assert q["queryType"] == "groupBy"
    assert [d["dimension"] for d in q["dimensions"]] == ["country", "device"]
    assert [d["outputName"] for d in q["dimensions"]] == ["d0", "d1"]
    assert q["having"] == {
        "type": "filter",
        "filter": {
            "type": "and",
            "fields": [
                {"type": "range", "column": "a0", "matchValueType": "LONG", "lower": 10, "lowerOpen": True},
                {
                    "type": "not",
                    "field": {"type": "selector", "dimension": "d0", "value": ""},
                },
            ],
        },
    }
    assert q["limitSpec"] == {
        "type": "default",
        "columns": [
            {"dimension": "a0", "direction": "descending", "dimensionOrder": "numeric"},
            {"dimension": "d0", "direction": "ascending", "dimensionOrder": "lexicographic"},
        ],
        "limit": 4,
        "offset": 2,
    }


def test_group_by_expression_uses_a_virtual_column(native: Plan) -> None:
    q = native("SELECT UPPER(device) AS d, COUNT(*) FROM ads GROUP BY UPPER(device)")
    assert q["virtualColumns"] == [
        {"type": "expression", "name": "v0", "expression": 'upper("device")', "outputType": "STRING"}
    ]
    assert q["dimensions"] == [
        {"type": "default", "dimension": "v0", "outputName": "d0", "outputType": "STRING"}
    ]


def test_group_by_names_ordinals_aliases_and_expressions_agree(native: Plan) -> None:
    by_name = native("SELECT device, COUNT(*) FROM ads GROUP BY device")
    assert native("SELECT device, COUNT(*) FROM ads GROUP BY 1") == by_name
    assert native('SELECT "device", COUNT(*) FROM ads GROUP BY ads.device') == by_name
    aliased = native("SELECT LOWER(device) AS d, COUNT(*) FROM ads GROUP BY d")
    assert aliased == native("SELECT LOWER(device) AS d, COUNT(*) FROM ads GROUP BY LOWER(device)")


def test_time_floor_among_other_keys_becomes_the_granularity(engine: SqlEngine, native: Plan) -> None:
    q = native("SELECT FLOOR(__time TO DAY), country, COUNT(*) FROM ads GROUP BY 1, 2")
    assert q["queryType"] == "groupBy"
    assert q["granularity"] == {"type": "period", "period": "P1D", "timeZone": "UTC"}
    assert [d["dimension"] for d in q["dimensions"]] == ["country"]
    node, _, _, _ = engine.plan(
        "SELECT FLOOR(__time TO DAY), country, COUNT(*) FROM ads GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5"
    )
    ordered = node.natives()[0].query
    assert ordered["context"]["sortByDimsFirst"] is True
    assert ordered["limitSpec"]["columns"] == [
        {"dimension": "a0", "direction": "descending", "dimensionOrder": "numeric"}
    ]
    # Ordered by time descending first: the time key must be a (virtual column) dimension.
    q = native(
        "SELECT FLOOR(__time TO DAY) AS d, country, COUNT(*) FROM ads GROUP BY 1, 2 ORDER BY d DESC, 3 LIMIT 5"
    )
    assert q["granularity"] == {"type": "all"}
    assert q["virtualColumns"][0]["expression"] == "timestamp_floor(\"__time\", 'P1D', null, 'UTC')"
    assert q["dimensions"][0] == {
        "type": "default",
        "dimension": "v0",
        "outputName": "d0",
        "outputType": "LONG",
    }


def test_select_distinct_is_a_group_by(native: Plan) -> None:
    q = native("SELECT DISTINCT device, country FROM ads")
    assert q["queryType"] == "groupBy"
    assert q["aggregations"] == []
    assert [d["dimension"] for d in q["dimensions"]] == ["device", "country"]


def test_scan_columns_order_limit_offset(native: Plan) -> None:
    q = native(
        "SELECT __time, country, clicks * 2 AS c2 FROM ads WHERE device = 'phone' ORDER BY __time DESC LIMIT 5 OFFSET 10"
    )
    assert q["queryType"] == "scan"
    assert q["columns"] == ["__time", "country", "v0"]
    assert q["virtualColumns"] == [
        {"type": "expression", "name": "v0", "expression": '("clicks" * 2)', "outputType": "LONG"}
    ]
    assert (q["order"], q["limit"], q["offset"]) == ("descending", 5, 10)
    assert q["resultFormat"] == "compactedList"
    assert q["filter"] == {"type": "selector", "dimension": "device", "value": "phone"}


def test_select_star_lists_every_column_but_sketches(native: Plan) -> None:
    q = native("SELECT * FROM ads LIMIT 1")
    assert q["columns"][0] == "__time"
    assert "country" in q["columns"] and "spend" in q["columns"]
    assert not {"users_hll", "users_hu", "users_theta"} & set(q["columns"])


# --- conditions -----------------------------------------------------------------------------------------


def test_comparisons_become_equals_range_null_and_like_filters(native: Plan) -> None:
    q = native(
        "SELECT COUNT(*) FROM ads WHERE age >= 30 AND bid < 2.5 AND country IS NOT NULL AND promo LIKE '50%' "
        "AND device BETWEEN 'a' AND 'q' AND NOT (campaign = 'c1')"
    )
    assert q["filter"] == {
        "type": "and",
        "fields": [
            {"type": "range", "column": "age", "matchValueType": "LONG", "lower": 30},
            {"type": "range", "column": "bid", "matchValueType": "DOUBLE", "upper": 2.5, "upperOpen": True},
            {"type": "not", "field": {"type": "null", "column": "country"}},
            {"type": "like", "dimension": "promo", "pattern": "50%"},
            {"type": "range", "column": "device", "matchValueType": "STRING", "lower": "a", "upper": "q"},
            {
                "type": "not",
                "field": {"type": "selector", "dimension": "campaign", "value": "c1"},
            },
        ],
    }


def test_in_list_stays_one_in_filter(native: Plan) -> None:
    values = ", ".join(f"'u{i}'" for i in range(500))
    q = native(f'SELECT COUNT(*) FROM ads WHERE "user" IN ({values})')
    assert q["filter"] == {"type": "in", "dimension": "user", "values": [f"u{i}" for i in range(500)]}
    numbers = native("SELECT COUNT(*) FROM ads WHERE age IN (20, 30, 30)")
    assert numbers["filter"] == {"type": "in", "dimension": "age", "values": ["20", "30"]}
    negated = native("SELECT COUNT(*) FROM ads WHERE country NOT IN ('US', 'FR')")
    assert negated["filter"] == {
        "type": "not",
        "field": {"type": "in", "dimension": "country", "values": ["US", "FR"]},
    }


def test_ors_of_equalities_on_one_column_merge_into_one_in_filter(native: Plan) -> None:
    q = native("SELECT COUNT(*) FROM ads WHERE country = 'US' OR country = 'FR' OR country IN ('DE')")
    assert q["filter"] == {"type": "in", "dimension": "country", "values": ["US", "FR", "DE"]}


def test_in_list_with_null_never_matches_when_negated(native: Plan) -> None:
    assert native("SELECT COUNT(*) FROM ads WHERE country NOT IN ('US', NULL)")["filter"] == {"type": "false"}
    assert native("SELECT COUNT(*) FROM ads WHERE country IN ('US', NULL)")["filter"]["values"] == ["US"]
    assert native("SELECT COUNT(*) FROM ads WHERE country = NULL")["filter"] == {"type": "false"}


def test_expression_conditions_use_virtual_columns_or_expression_filters(native: Plan) -> None:
    q = native("SELECT COUNT(*) FROM ads WHERE LOWER(country) = 'us'")
    assert q["virtualColumns"][0]["expression"] == 'lower("country")'
    assert q["filter"] == {"type": "selector", "dimension": "v0", "value": "us"}
    q = native("SELECT COUNT(*) FROM ads WHERE clicks > impressions / 10")
    assert q["filter"] == {"type": "expression", "expression": '("clicks" > ("impressions" / 10))'}


def test_time_conditions_become_intervals(native: Plan) -> None:
    q = native(
        "SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-02 00:00:00' "
        "AND __time < TIMESTAMP '2020-01-03 00:00:00' AND country = 'US'"
    )
    assert intervals(q) == ["2020-01-02T00:00:00.000Z/2020-01-03T00:00:00.000Z"]
    assert q["filter"] == {"type": "selector", "dimension": "country", "value": "US"}
    between = native("SELECT COUNT(*) FROM ads WHERE __time BETWEEN '2020-01-01' AND '2020-01-02'")
    assert intervals(between) == ["2020-01-01T00:00:00.000Z/2020-01-02T00:00:00.001Z"]
    ors = native(
        "SELECT COUNT(*) FROM ads WHERE (__time >= TIMESTAMP '2020-01-01' AND __time < TIMESTAMP '2020-01-02') "
        "OR __time >= TIMESTAMP '2020-01-03'"
    )
    assert intervals(ors) == [
        "2020-01-01T00:00:00.000Z/2020-01-02T00:00:00.000Z",
        "2020-01-03T00:00:00.000Z/146140482-04-24T15:36:27.903Z",
    ]
    day = native("SELECT COUNT(*) FROM ads WHERE FLOOR(__time TO DAY) = TIMESTAMP '2020-01-02 00:00:00'")
    assert intervals(day) == ["2020-01-02T00:00:00.000Z/2020-01-03T00:00:00.000Z"]
    assert "filter" not in day
    parsed = native("SELECT COUNT(*) FROM ads WHERE __time < TIME_PARSE('2020-01-02T12:00:00Z')")
    assert intervals(parsed) == ["-146136543-09-08T08:23:32.096Z/2020-01-02T12:00:00.000Z"]
    negated = native("SELECT COUNT(*) FROM ads WHERE NOT (__time < TIMESTAMP '2020-01-02')")
    assert intervals(negated) == ["2020-01-02T00:00:00.000Z/146140482-04-24T15:36:27.903Z"]


def test_relative_time_conditions_use_the_current_timestamp(native: Plan) -> None:
    q = native(
        "SELECT COUNT(*) FROM ads WHERE __time >= CURRENT_TIMESTAMP - INTERVAL '1' DAY",
        context={"sqlCurrentTimestamp": "2020-01-03T12:00:00Z"},
    )
    assert intervals(q) == ["2020-01-02T12:00:00.000Z/146140482-04-24T15:36:27.903Z"]
    months = native(
        "SELECT COUNT(*) FROM ads WHERE __time >= CURRENT_TIMESTAMP - INTERVAL '1' MONTH",
        context={"sqlCurrentTimestamp": "2020-03-31T00:00:00Z"},
    )
    assert intervals(months) == ["2020-02-29T00:00:00.000Z/146140482-04-24T15:36:27.903Z"]


def test_contradictory_time_conditions_select_nothing(native: Plan) -> None:
    q = native(
        "SELECT COUNT(*) FROM ads WHERE __time < TIMESTAMP '2020-01-01' AND __time > TIMESTAMP '2020-02-01'"
    )
    assert intervals(q) == ["1970-01-01T00:00:00.000Z/1970-01-01T00:00:00.000Z"]


def test_time_conditions_mixed_with_other_columns_stay_filters(native: Plan) -> None:
    q = native("SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-02' OR country = 'US'")
    assert intervals(q) == ETERNITY
    assert q["filter"]["type"] == "or"
    assert q["filter"]["fields"][0] == {
        "type": "range",
        "column": "__time",
        "matchValueType": "LONG",
        "lower": 1577923200000,
    }


# --- aggregators ----------------------------------------------------------------------------------------


def test_aggregators(native: Plan) -> None:
    q = native(
        "SELECT COUNT(age), AVG(spend), MIN(bid), MAX(ratio), SUM(clicks) FILTER (WHERE device = 'phone'), "
        "COUNT(*) FILTER (WHERE country = 'US') FROM ads"
    )
    assert q["aggregations"] == [
        {
            "type": "filtered",
            "name": "a0",
            "aggregator": {"type": "count", "name": "a0"},
            "filter": {"type": "not", "field": {"type": "null", "column": "age"}},
        },
        {"type": "doubleSum", "name": "a1:sum", "fieldName": "spend"},
        {
            "type": "filtered",
            "name": "a1:count",
            "aggregator": {"type": "count", "name": "a1:count"},
            "filter": {"type": "not", "field": {"type": "null", "column": "spend"}},
        },
        {"type": "doubleMin", "name": "a2", "fieldName": "bid"},
        {"type": "floatMax", "name": "a3", "fieldName": "ratio"},
        {
            "type": "filtered",
            "name": "a4",
            "aggregator": {"type": "longSum", "name": "a4", "fieldName": "clicks"},
            "filter": {"type": "selector", "dimension": "device", "value": "phone"},
        },
        {
            "type": "filtered",
            "name": "a5",
            "aggregator": {"type": "count", "name": "a5"},
            "filter": {"type": "selector", "dimension": "country", "value": "US"},
        },
    ]
    assert q["postAggregations"] == [
        {
            "type": "arithmetic",
            "name": "a1",
            "fn": "quotient",
            "fields": [
                {"type": "fieldAccess", "fieldName": "a1:sum"},
                {"type": "fieldAccess", "fieldName": "a1:count"},
            ],
        }
    ]


def test_sum_of_an_expression_is_an_inline_expression(native: Plan) -> None:
    q = native("SELECT SUM(clicks * 2) FROM ads")
    assert q["aggregations"] == [{"type": "longSum", "name": "a0", "expression": '("clicks" * 2)'}]
    assert "virtualColumns" not in q


def test_distinct_count_aggregators(native: Plan) -> None:
    q = native(
        'SELECT COUNT(DISTINCT "user"), APPROX_COUNT_DISTINCT(country), APPROX_COUNT_DISTINCT_DS_HLL("user"), '
        'APPROX_COUNT_DISTINCT_DS_THETA("user", 1024), APPROX_COUNT_DISTINCT_DS_HLL(users_hll), '
        "APPROX_COUNT_DISTINCT(users_hu), APPROX_COUNT_DISTINCT_DS_THETA(users_theta) FROM ads"
    )
    user = {"type": "default", "dimension": "user", "outputName": "user", "outputType": "STRING"}
    assert q["aggregations"] == [
        {"type": "cardinality", "name": "a0", "fields": [user], "byRow": False, "round": True},
        {
            "type": "cardinality",
            "name": "a1",
            "fields": [{**user, "dimension": "country", "outputName": "country"}],
            "byRow": False,
            "round": True,
        },
        {"type": "HLLSketchBuild", "name": "a2", "fieldName": "user", "round": True},
        {
            "type": "thetaSketch",
            "name": "a3",
            "fieldName": "user",
            "isInputThetaSketch": False,
            "shouldFinalize": True,
            "size": 1024,
        },
        {"type": "HLLSketchMerge", "name": "a4", "fieldName": "users_hll", "round": True},
        {"type": "hyperUnique", "name": "a5", "fieldName": "users_hu", "round": True},
        {
            "type": "thetaSketch",
            "name": "a6",
            "fieldName": "users_theta",
            "isInputThetaSketch": True,
            "shouldFinalize": True,
        },
    ]


def test_earliest_latest_any_value(native: Plan) -> None:
    q = native(
        "SELECT EARLIEST(country, 64), LATEST(clicks), ANY_VALUE(spend), EARLIEST_BY(device, __time) FROM ads"
    )
    assert q["aggregations"] == [
        {"type": "stringFirst", "name": "a0", "fieldName": "country", "maxStringBytes": 64},
        {"type": "longLast", "name": "a1", "fieldName": "clicks"},
        {"type": "doubleAny", "name": "a2", "fieldName": "spend"},
        {"type": "stringFirst", "name": "a3", "fieldName": "device", "timeColumn": "__time"},
    ]


def test_identical_aggregates_are_computed_once(native: Plan) -> None:
    q = native("SELECT SUM(clicks), SUM(clicks) * 2, COUNT(*) FROM ads HAVING SUM(clicks) > 0")
    assert [a["name"] for a in q["aggregations"]] == ["a0", "a1"]


def test_exact_count_distinct_is_a_nested_grouping(engine: SqlEngine) -> None:
    node, _, _, _ = engine.plan(
        'SELECT country, COUNT(DISTINCT "user"), SUM(clicks) FROM ads GROUP BY country',
        context={"useApproximateCountDistinct": False},
    )
    (inner,) = [p.query for p in node.natives()]
    assert inner["queryType"] == "groupBy"
    assert [d["dimension"] for d in inner["dimensions"]] == ["country", "user"]
    assert inner["aggregations"] == [{"type": "longSum", "name": "p0", "fieldName": "clicks"}]


# --- naming and big statements --------------------------------------------------------------------------------


def test_unaliased_expressions_are_named_expr_and_their_position(engine: SqlEngine) -> None:
    node, _, _, _ = engine.plan(
        "SELECT country, COUNT(*), SUM(clicks) AS s, MAX(age) FROM ads GROUP BY country"
    )
    assert [c.name for c in node.columns] == ["country", "EXPR$1", "s", "EXPR$3"]


def test_a_10000_value_in_list_plans_as_one_in_filter(engine: SqlEngine) -> None:
    # How long planning takes is bench/sql.py's business (its IN-list case); here only the plan's shape.
    values = ", ".join(f"'user-{i}'" for i in range(10_000))
    statement = f'SELECT country, SUM(clicks) FROM ads WHERE "user" IN ({values}) GROUP BY country'
    for _ in range(2):  # planned, then from the plan cache
        node, _, _, _ = engine.plan(statement)
        query = node.natives()[0].query
        assert query["filter"]["type"] == "in" and len(query["filter"]["values"]) == 10_000


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT country FROM ads ORDER BY country",
        "SELECT country FROM ads ORDER BY country LIMIT 5",
        "SELECT __time, country FROM ads ORDER BY __time, country LIMIT 5",
    ],
)
def test_scan_ordered_by_a_non_time_column_is_refused_as_in_druid(engine: SqlEngine, statement: str) -> None:
    with pytest.raises(SqlUnsupported, match=r"requires ordering a table by non-time column \[\["):
        engine.plan(statement)


def test_numeric_equality_is_a_typed_equals_filter(native: Plan) -> None:
    q = native("SELECT COUNT(*) FROM ads WHERE age = 30 AND bid = 1.5 AND age = '31'")
    assert q["filter"]["fields"] == [
        {"type": "equals", "column": "age", "matchValueType": "LONG", "matchValue": 30},
        {"type": "equals", "column": "bid", "matchValueType": "DOUBLE", "matchValue": 1.5},
        {"type": "equals", "column": "age", "matchValueType": "LONG", "matchValue": 31},
    ]


def test_time_in_interval_becomes_intervals(native: Plan) -> None:
    q = native("SELECT COUNT(*) FROM ads WHERE TIME_IN_INTERVAL(__time, '2020-01-02/P1D')")
    assert intervals(q) == ["2020-01-02T00:00:00.000Z/2020-01-03T00:00:00.000Z"]
    assert "filter" not in q


def test_grand_total_spellings(native: Plan) -> None:
    assert native("SELECT SUM(clicks) FROM ads GROUP BY ()")["queryType"] == "timeseries"
    having = native("SELECT COUNT(*) FROM ads HAVING COUNT(*) > 1")
    assert having["queryType"] == "groupBy" and having["dimensions"] == []


def test_ordering_by_an_expression_over_keys_is_done_after_the_query(engine: SqlEngine) -> None:
    node, _, _, _ = engine.plan(
        "SELECT country, COUNT(*) FROM ads GROUP BY 1 ORDER BY LENGTH(country) DESC LIMIT 2"
    )
    (plan,) = node.natives()
    assert plan.query["queryType"] == "groupBy" and "limitSpec" not in plan.query
    assert plan.limit == 2 and len(plan.order) == 1


def test_outputs_over_keys_are_computed_after_the_query(engine: SqlEngine) -> None:
    node, _, _, _ = engine.plan("SELECT UPPER(country) AS u, COUNT(*) * 2 AS n FROM ads GROUP BY country")
    (plan,) = node.natives()
    assert "virtualColumns" not in plan.query
    assert plan.query["postAggregations"] == [
        {"type": "expression", "name": "p0", "expression": '("a0" * 2)'}
    ]
    assert [op.expr for _, op in plan.outputs] == ['upper("d0")', '"p0"']
