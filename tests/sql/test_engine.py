"""Statements end to end: result names and types, null semantics, EXPLAIN, parameters, subqueries,
UNION ALL, context flags and the values Druid's SQL API returns."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqldata import ROWS

from grove.sql.errors import SqlError
from grove.sql.result import SqlResult

Sql = Callable[..., SqlResult]


def count(predicate: Callable[[dict], bool]) -> int:
    return sum(1 for r in ROWS if predicate(r))


# --- names and types ----------------------------------------------------------------------------------


def test_result_names_and_types(sql: Sql) -> None:
    r = sql(
        "SELECT __time, country, age, bid, ratio, country = 'US', clicks * 1.5, TIME_FLOOR(__time, 'PT1H') FROM ads LIMIT 1"
    )
    assert r.columns == ["__time", "country", "age", "bid", "ratio", "EXPR$5", "EXPR$6", "EXPR$7"]
    assert r.sql_types == [
        "TIMESTAMP",
        "VARCHAR",
        "BIGINT",
        "DOUBLE",
        "FLOAT",
        "BOOLEAN",
        "DOUBLE",
        "TIMESTAMP",
    ]
    assert r.druid_types == ["LONG", "STRING", "LONG", "DOUBLE", "FLOAT", "LONG", "DOUBLE", "LONG"]
    row = r.rows[0]
    assert row[0].endswith("Z") and "T" in row[0] and len(row[0]) == 24
    assert isinstance(row[5], bool)
    assert isinstance(row[6], float)


def test_duplicate_output_names_are_made_unique(sql: Sql) -> None:
    r = sql("SELECT country, country, COUNT(*) AS country FROM ads GROUP BY country")
    assert r.columns == ["country", "country0", "country1"]


def test_aggregate_types(sql: Sql) -> None:
    r = sql(
        "SELECT COUNT(*), SUM(clicks), SUM(spend), AVG(clicks), MIN(__time), COUNT(DISTINCT device) FROM ads WHERE age > 0"
    )
    assert r.sql_types == ["BIGINT", "BIGINT", "DOUBLE", "DOUBLE", "TIMESTAMP", "BIGINT"]
    n, clicks, spend, avg, first, distinct = r.rows[0]
    assert (
        isinstance(n, int) and isinstance(clicks, int) and isinstance(spend, float) and isinstance(avg, float)
    )
    assert isinstance(first, str) and distinct == 3


# --- nulls --------------------------------------------------------------------------------------------


def test_three_valued_logic(sql: Sql) -> None:
    def one(statement: str) -> int:
        return int(sql(statement).rows[0][0])

    nulls = count(lambda r: r["country"] is None)
    us = count(lambda r: r["country"] == "US")
    assert one("SELECT COUNT(*) FROM ads WHERE country <> 'US'") == len(ROWS) - us - nulls
    assert one("SELECT COUNT(*) FROM ads WHERE NOT (country = 'US')") == len(ROWS) - us - nulls
    assert one("SELECT COUNT(*) FROM ads WHERE country IS NULL") == nulls
    assert one("SELECT COUNT(*) FROM ads WHERE country = ''") == count(lambda r: r["country"] == "")
    assert one("SELECT COUNT(*) FROM ads WHERE country NOT IN ('US', NULL)") == 0
    assert one("SELECT COUNT(*) FROM ads WHERE country IN ('US', NULL)") == us
    old = count(lambda r: r["age"] is not None and r["age"] > 40)
    assert one("SELECT COUNT(*) FROM ads WHERE NOT (age <= 40)") == old
    assert one("SELECT COUNT(*) FROM ads WHERE NOT (LOWER(country) = 'us')") == len(ROWS) - us - nulls


def test_null_arithmetic_and_functions(sql: Sql) -> None:
    r = sql(
        "SELECT age + 1, CONCAT(country, 'x'), COALESCE(country, 'none'), NULLIF('', ''), UPPER(NULL) "
        "FROM ads WHERE age IS NULL AND country IS NULL LIMIT 1"
    )
    assert r.rows == [[None, None, "none", None, None]]


def test_empty_aggregations(sql: Sql) -> None:
    r = sql(
        "SELECT COUNT(*), SUM(clicks), MAX(age), COUNT(DISTINCT country) FROM ads WHERE country = 'nowhere'"
    )
    assert r.rows == [[0, None, None, 0]]
    assert sql("SELECT country, COUNT(*) FROM ads WHERE country = 'nowhere' GROUP BY country").rows == []
    assert sql("SELECT MAX(__time) FROM ads WHERE country = 'nowhere'").rows == [[None]]


# --- time ---------------------------------------------------------------------------------------------


def test_timestamps_in_results_follow_sql_time_zone(sql: Sql) -> None:
    r = sql("SELECT TIMESTAMP '2020-01-02 00:00:00', TIME_FLOOR(MAX(__time), 'P1D') FROM ads")
    assert r.rows[0][0] == "2020-01-02T00:00:00.000Z"
    shifted = sql(
        "SELECT TIMESTAMP '2020-01-02 00:00:00', FLOOR(MIN(__time) TO DAY) FROM ads",
        context={"sqlTimeZone": "America/Los_Angeles"},
    )
    assert shifted.rows[0] == ["2020-01-02T00:00:00.000-08:00", "2019-12-31T00:00:00.000-08:00"]


def test_current_timestamp_is_fixed_by_context(sql: Sql) -> None:
    r = sql(
        "SELECT CURRENT_TIMESTAMP, CURRENT_TIMESTAMP - INTERVAL '2' HOUR, CURRENT_DATE",
        context={"sqlCurrentTimestamp": "2020-01-03T10:30:00Z"},
    )
    assert r.rows == [["2020-01-03T10:30:00.000Z", "2020-01-03T08:30:00.000Z", "2020-01-03T00:00:00.000Z"]]
    assert r.sql_types == ["TIMESTAMP", "TIMESTAMP", "DATE"]


def test_relative_time_filter(sql: Sql) -> None:
    r = sql(
        "SELECT COUNT(*) FROM ads WHERE __time >= CURRENT_TIMESTAMP - INTERVAL '1' DAY",
        context={"sqlCurrentTimestamp": "2020-01-04T00:00:00Z"},
    )
    assert r.rows == [[count(lambda row: row["__time"] >= 1578009600000)]]


# --- EXPLAIN, parameters, context -------------------------------------------------------------------


def test_explain_returns_the_native_query_without_running_it(sql: Sql) -> None:
    r = sql(
        "EXPLAIN PLAN FOR SELECT country, COUNT(*) FROM ads WHERE __time >= '2020-01-02' GROUP BY 1",
        context={"sqlQueryId": "q1"},
    )
    assert r.columns == ["PLAN", "RESOURCES", "ATTRIBUTES"]
    assert r.sql_types == ["VARCHAR", "VARCHAR", "VARCHAR"]
    plan, resources, attributes = r.rows[0]
    (entry,) = json.loads(plan)
    assert entry["query"]["queryType"] == "groupBy"
    assert entry["query"]["intervals"]["intervals"] == [
        "2020-01-02T00:00:00.000Z/146140482-04-24T15:36:27.903Z"
    ]
    assert entry["query"]["context"]["sqlQueryId"] == "q1"
    assert entry["signature"] == [{"name": "d0", "type": "STRING"}, {"name": "a0", "type": "LONG"}]
    assert entry["columnMappings"] == [
        {"queryColumn": "d0", "outputColumn": "country"},
        {"queryColumn": "a0", "outputColumn": "EXPR$1"},
    ]
    assert json.loads(resources) == [{"name": "ads", "type": "DATASOURCE"}]
    assert json.loads(attributes) == {"statementType": "SELECT"}
    assert r.query_id == "q1"


def test_explain_of_a_system_table(sql: Sql) -> None:
    plan, resources, _ = sql("EXPLAIN PLAN FOR SELECT * FROM sys.segments").rows[0]
    assert json.loads(plan) == []
    assert json.loads(resources) == [{"name": "sys.segments", "type": "SYSTEM_TABLE"}]


def test_parameters_bind_in_order(sql: Sql) -> None:
    r = sql(
        "SELECT COUNT(*) FROM ads WHERE country = ? AND age > ? AND bid < ? AND __time >= ?",
        parameters=[
            {"type": "VARCHAR", "value": "US"},
            {"type": "INTEGER", "value": 30},
            {"type": "DOUBLE", "value": 2.5},
            {"type": "TIMESTAMP", "value": "2020-01-02 00:00:00"},
        ],
    )
    expected = count(
        lambda r: (
            r["country"] == "US"
            and (r["age"] or 0) > 30
            and r["bid"] is not None
            and r["bid"] < 2.5
            and r["__time"] >= 1577923200000
        )
    )
    assert r.rows == [[expected]]
    quoted = sql(
        "SELECT ? || ?", parameters=[{"type": "VARCHAR", "value": "it's"}, {"type": "VARCHAR", "value": "?"}]
    )
    assert quoted.rows == [["it's?"]]


def test_parameter_count_must_match(sql: Sql) -> None:
    with pytest.raises(SqlError, match=r"No value bound for parameter \(position \[2\]\)"):
        sql("SELECT COUNT(*) FROM ads WHERE age > ? AND age < ?", parameters=[{"type": "BIGINT", "value": 1}])


def test_query_id_is_used_for_native_queries(sql: Sql) -> None:
    r = sql("SELECT COUNT(*) FROM ads", context={"sqlQueryId": "abc", "timeout": 10_000})
    assert r.query_id == "abc"
    assert r.native[0]["context"]["sqlQueryId"] == "abc"
    assert r.native[0]["context"]["queryId"] == "abc"
    assert r.native[0]["context"]["timeout"] == 10_000
    assert sql("SELECT 1").query_id


def test_multi_value_strings_are_stringified_unless_asked_not_to(sql: Sql) -> None:
    statement = "SELECT tags FROM ads WHERE __time = TIMESTAMP '2020-01-01 00:06:28.513'"
    assert sql(statement).rows == [['["b","c"]']]
    assert sql(statement, context={"sqlStringifyArrays": False}).rows == [[["b", "c"]]]
    grouped = sql("SELECT tags, COUNT(*) FROM ads GROUP BY tags ORDER BY tags").rows
    assert [t for t, _ in grouped] == [None, "a", "b", "c"]


# --- subqueries and UNION ALL -------------------------------------------------------------------------


def test_subquery_over_a_grouped_result(sql: Sql) -> None:
    r = sql(
        "SELECT device, n FROM (SELECT device, COUNT(*) AS n FROM ads GROUP BY device) AS t "
        "WHERE t.n > 100 ORDER BY n DESC"
    )
    devices: dict[str, int] = {}
    for row in ROWS:
        devices[row["device"]] = devices.get(row["device"], 0) + 1
    assert r.rows == sorted(([d, n] for d, n in devices.items() if n > 100), key=lambda x: -x[1])


def test_union_all_concatenates_and_may_be_ordered(sql: Sql) -> None:
    r = sql("SELECT 'a' AS k, COUNT(*) AS n FROM ads UNION ALL SELECT 'b', COUNT(*) FROM ads WHERE age > 60")
    assert r.columns == ["k", "n"]
    assert r.rows == [["a", len(ROWS)], ["b", count(lambda x: (x["age"] or 0) > 60)]]
    assert len(r.native) == 2
    limited = sql("SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3 ORDER BY x DESC LIMIT 2")
    assert limited.rows == [[3], [2]]


def test_select_without_from(sql: Sql) -> None:
    r = sql("SELECT 1 + 1 AS two, UPPER('x'), CAST('3' AS BIGINT) * 2, 10 / 4, 10.0 / 4")
    assert r.rows == [[2, "X", 6, 2, 2.5]]
    assert r.native == []


# --- approximations -----------------------------------------------------------------------------------


def test_exact_and_approximate_count_distinct(sql: Sql) -> None:
    exact = len({r["user"] for r in ROWS if r["device"] == "phone"})
    statement = "SELECT COUNT(DISTINCT \"user\") FROM ads WHERE device = 'phone'"
    assert sql(statement, context={"useApproximateCountDistinct": False}).rows == [[exact]]
    approx = sql(statement).rows[0][0]
    assert abs(approx - exact) <= 2


def test_any_value_is_one_of_the_values(sql: Sql) -> None:
    rows = sql("SELECT device, ANY_VALUE(campaign), ANY_VALUE(clicks) FROM ads GROUP BY device").rows
    for device, campaign, clicks in rows:
        assert any(r["device"] == device and r["campaign"] == campaign for r in ROWS)
        assert any(r["device"] == device and r["clicks"] == clicks for r in ROWS)


def test_topn_and_group_by_agree(sql: Sql) -> None:
    statement = "SELECT campaign, SUM(clicks) AS c FROM ads GROUP BY 1 ORDER BY c DESC, campaign LIMIT 5"
    top = sql("SELECT campaign, SUM(clicks) AS c FROM ads GROUP BY 1 ORDER BY c DESC LIMIT 5")
    exact = sql(statement, context={"useApproximateTopN": False})
    assert [r[1] for r in top.rows] == [r[1] for r in exact.rows]
    assert top.native[0]["queryType"] == "topN" and exact.native[0]["queryType"] == "groupBy"


def test_thousands_of_ored_time_ranges_become_intervals(sql: Sql, native: Any) -> None:
    """A report over 1,440 separate minutes is one list of intervals, not a recursion per OR."""
    ranges = [
        f"(__time >= TIMESTAMP '2020-01-01 00:00:00' + INTERVAL '{m}' MINUTE"
        f" AND __time < TIMESTAMP '2020-01-01 00:00:30' + INTERVAL '{m}' MINUTE)"
        for m in range(1440)
    ]
    statement = f"SELECT COUNT(*) AS n FROM ads WHERE {' OR '.join(ranges)}"
    query = native(statement)
    assert len(query["intervals"]["intervals"]) == 1440
    assert query["intervals"]["intervals"][1] == "2020-01-01T00:01:00.000Z/2020-01-01T00:01:30.000Z"
    assert "filter" not in query
    in_half_minutes = sql(
        "SELECT COUNT(*) FROM ads WHERE __time < TIMESTAMP '2020-01-02 00:00:00' "
        "AND MOD(TIMESTAMP_TO_MILLIS(__time), 60000) < 30000"
    ).rows
    assert sql(statement).rows == in_half_minutes
