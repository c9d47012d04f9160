"""A timeseries statement's rows written straight from the native result (``NativePlan.json_rows``)
are exactly the rows read into columns and converted back (``finish`` then ``json_rows``), for every
statement that takes that path; the statements it must not take fall back to the columns."""

from __future__ import annotations

from typing import Any

import pytest

from grove.sql.engine import SqlEngine
from grove.sql.planner import NativeNode
from grove.sql.values import json_rows

DAYS = "__time >= TIMESTAMP '2020-01-01' AND __time < TIMESTAMP '2020-01-04'"

STRAIGHT = [
    f"SELECT FLOOR(__time TO DAY) AS d, SUM(impressions) AS i, COUNT(*) AS n FROM ads WHERE {DAYS} GROUP BY 1",
    f"SELECT TIME_FLOOR(__time, 'PT6H') AS h, SUM(spend) AS s, MIN(clicks) AS m FROM ads WHERE {DAYS} GROUP BY 1",
    f"SELECT SUM(impressions) AS i, SUM(ratio) AS r FROM ads WHERE {DAYS}",
    f"SELECT FLOOR(__time TO DAY) AS d, SUM(clicks) AS c FROM ads WHERE device = 'phone' AND {DAYS} GROUP BY 1",
    f"SELECT SUM(clicks) AS c, FLOOR(__time TO DAY) AS d FROM ads WHERE {DAYS} GROUP BY FLOOR(__time TO DAY)",
]
# Timeseries statements whose rows need converting or computing: they go through the columns.
THROUGH_COLUMNS = [
    f"SELECT TIME_FLOOR(__time, 'P1D', NULL, 'America/New_York') AS d, COUNT(*) AS n FROM ads WHERE {DAYS} "
    "GROUP BY 1",
    f"SELECT FLOOR(__time TO DAY) AS d, SUM(impressions) * 2 AS i2 FROM ads WHERE {DAYS} GROUP BY 1",
    f"SELECT FLOOR(__time TO DAY) AS d, AVG(impressions) AS a FROM ads WHERE {DAYS} GROUP BY 1",
]


def _node(engine: SqlEngine, statement: str, **context: Any) -> NativeNode:
    node, _, _, _ = engine.plan(statement, context=context)
    assert isinstance(node, NativeNode), statement
    return node


@pytest.mark.parametrize("statement", STRAIGHT)
def test_straight_rows_are_the_converted_rows(engine: SqlEngine, statement: str) -> None:
    node = _node(engine, statement)
    assert node.plan.query["queryType"] == "timeseries"
    result = node.plan.run(engine.runner)
    straight = node.plan.json_rows(result, "UTC")
    assert straight is not None, "this statement should be written straight from the result"
    assert straight == json_rows(node.plan.finish(result), "UTC")
    assert engine.execute(statement).rows == straight
    # In another zone the timestamps are the zone's: through the columns.
    tokyo = _node(engine, statement, sqlTimeZone="Asia/Tokyo")
    assert tokyo.plan.json_rows(tokyo.plan.run(engine.runner), "Asia/Tokyo") is None


@pytest.mark.parametrize("statement", THROUGH_COLUMNS)
def test_statements_that_need_converting_go_through_the_columns(engine: SqlEngine, statement: str) -> None:
    node = _node(engine, statement)
    assert node.plan.query["queryType"] == "timeseries"
    result = node.plan.run(engine.runner)
    assert node.plan.json_rows(result, "UTC") is None
    assert engine.execute(statement).rows == json_rows(node.plan.finish(result), "UTC")
