"""The plan cache of :class:`~grove.sql.engine.SqlEngine`: a statement sent again reuses its plan (never
its result), bound to the new statement's query id, and plans again when a table or lookup it read
changes, when its parameters or context differ, or when it read the current time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sqldata import StaticCatalogSource

from grove.query.lookups import LookupMap, LookupRegistry, parse_lookup_spec
from grove.sql.catalog import Catalog, ColumnInfo
from grove.sql.engine import PlanCache, SqlEngine, plan_key
from grove.sql.errors import SqlError

# One statement of each plan shape: timeseries (with and without a time floor), topN, groupBy (with
# a limit spec, HAVING, a granularity), scan, exact COUNT(DISTINCT), a subquery, UNION ALL, a system
# table, no FROM, a lifted IN list and a ``?`` parameter.
STATEMENTS: list[tuple[str, list[dict[str, Any]] | None, dict[str, Any] | None]] = [
    ("SELECT COUNT(*), SUM(clicks) FROM ads", None, None),
    ("SELECT FLOOR(__time TO DAY) AS d, SUM(impressions) FROM ads GROUP BY 1", None, None),
    ("SELECT country, SUM(clicks) AS c FROM ads GROUP BY country ORDER BY c DESC LIMIT 3", None, None),
    (
        "SELECT country, device, COUNT(*) AS n FROM ads GROUP BY country, device HAVING COUNT(*) > 1 "
        "ORDER BY n DESC, country, device LIMIT 5",
        None,
        None,
    ),
    ("SELECT country, FLOOR(__time TO HOUR) AS h, SUM(clicks) FROM ads GROUP BY 1, 2", None, None),
    ("SELECT __time, country, clicks FROM ads ORDER BY __time LIMIT 7", None, None),
    (
        'SELECT country, COUNT(DISTINCT "user") FROM ads GROUP BY country',
        None,
        {"useApproximateCountDistinct": False},
    ),
    (
        "SELECT c, n * 2 FROM (SELECT country AS c, COUNT(*) AS n FROM ads GROUP BY country) WHERE n > 1",
        None,
        None,
    ),
    (
        "SELECT country FROM ads WHERE clicks > 3 UNION ALL SELECT device FROM ads WHERE clicks > 4",
        None,
        None,
    ),
    ("SELECT datasource, COUNT(*) FROM sys.segments GROUP BY datasource", None, None),
    ("SELECT 1 + 1, 'x'", None, None),
    ("SELECT country, SUM(clicks) FROM ads WHERE country IN ('US', 'FR', 'DE') GROUP BY country", None, None),
    ("SELECT COUNT(*) FROM ads WHERE clicks > ?", [{"type": "BIGINT", "value": 2}], None),
    ("EXPLAIN PLAN FOR SELECT COUNT(*) FROM ads WHERE country = 'US'", None, None),
]


class ChangingSource:
    """A catalog source over another whose datasources can gain columns or disappear."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self.extra: dict[str, list[ColumnInfo]] = {}
        self.widened: dict[str, ColumnInfo] = {}
        self.dropped: set[str] = set()

    def datasources(self) -> list[str]:
        return [d for d in self.base.datasources() if d not in self.dropped]

    def datasource_columns(self, datasource: str) -> list[ColumnInfo]:
        if datasource in self.dropped:
            return []
        columns = [self.widened.get(c.name, c) for c in self.base.datasource_columns(datasource)]
        return columns + self.extra.get(datasource, [])

    def lookups(self) -> Mapping[str, LookupMap]:
        return self.base.lookups()

    def __getattr__(self, name: str) -> Any:  # the sys table rows
        return getattr(self.base, name)


@pytest.fixture
def source(engine: SqlEngine) -> ChangingSource:
    return ChangingSource(engine.catalog.source)


@pytest.fixture
def cached(engine: SqlEngine, source: ChangingSource) -> SqlEngine:
    """An engine with its own plan cache over the shared runner."""
    return SqlEngine(engine.runner, Catalog(source))


def _answer(engine: SqlEngine, statement: str, parameters: Any, context: Any) -> tuple[Any, ...]:
    # One query id for all, so that EXPLAIN's PLAN (which shows the native context) compares too.
    r = engine.execute(statement, parameters=parameters, context={**(context or {}), "sqlQueryId": "q"})
    return r.columns, r.sql_types, r.druid_types, r.rows, r.native


@pytest.mark.parametrize(("statement", "parameters", "context"), STATEMENTS)
def test_a_reused_plan_answers_as_a_new_one(
    engine: SqlEngine, statement: str, parameters: Any, context: Any
) -> None:
    uncached = SqlEngine(engine.runner, engine.catalog, plan_cache_size=0)
    cached = SqlEngine(engine.runner, engine.catalog)
    expected = _answer(uncached, statement, parameters, context)
    assert len(uncached.plans) == 0
    first = _answer(cached, statement, parameters, context)
    assert len(cached.plans) == 1
    again = _answer(cached, statement, parameters, context)
    assert first == expected
    assert again == expected


def test_a_reused_plan_runs_its_native_query_under_the_new_query_id(cached: SqlEngine) -> None:
    statement = "SELECT country, SUM(clicks) FROM ads GROUP BY country"
    a = cached.execute(statement, context={"sqlQueryId": "a"})
    b = cached.execute(statement, context={"sqlQueryId": "b"})
    c = cached.execute(statement)
    assert len(cached.plans) == 1
    assert (a.query_id, b.query_id) == ("a", "b")
    assert a.native[0]["context"]["queryId"] == a.native[0]["context"]["sqlQueryId"] == "a"
    assert b.native[0]["context"]["queryId"] == b.native[0]["context"]["sqlQueryId"] == "b"
    assert c.native[0]["context"]["queryId"] == c.query_id not in ("a", "b")
    assert a.rows == b.rows == c.rows


def test_the_plan_is_kept_never_the_result(cached: SqlEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    statement = "SELECT COUNT(*) FROM ads"
    cached.execute(statement)
    runs: list[Any] = []
    original = cached.runner.run_kept

    def counting(kept: Any, context: Any) -> list[Any]:
        runs.append(context)
        return original(kept, context)

    monkeypatch.setattr(cached.runner, "run_kept", counting)
    first = cached.execute(statement)
    second = cached.execute(statement)
    # The native query runs each time (its parse is kept with the plan), with each statement's id.
    assert [r["queryId"] for r in runs] == [first.query_id, second.query_id]


def test_a_new_column_makes_the_statement_plan_again(cached: SqlEngine, source: ChangingSource) -> None:
    statement = "SELECT * FROM ads LIMIT 2"
    before = cached.execute(statement)
    assert "region" not in before.columns
    source.extra["ads"] = [ColumnInfo("region", "VARCHAR", "STRING")]  # a new segment brought a column
    after = cached.execute(statement)
    assert after.columns == [*before.columns, "region"]
    assert [row[-1] for row in after.rows] == [None, None]
    assert len(cached.plans) == 1


def test_a_widened_column_makes_the_statement_plan_again(cached: SqlEngine, source: ChangingSource) -> None:
    statement = "SELECT SUM(clicks) AS s FROM ads"
    assert cached.execute(statement).sql_types == ["BIGINT"]
    source.widened["clicks"] = ColumnInfo("clicks", "DOUBLE", "DOUBLE")  # a segment stored doubles
    r = cached.execute(statement)
    assert r.sql_types == ["DOUBLE"]
    assert r.native[0]["aggregations"][0]["type"] == "doubleSum"


def test_a_dropped_datasource_is_not_found_again(cached: SqlEngine, source: ChangingSource) -> None:
    statement = "SELECT COUNT(*) FROM ads"
    cached.execute(statement)
    source.dropped.add("ads")
    with pytest.raises(SqlError, match="Object 'ads' not found"):
        cached.execute(statement)
    assert len(cached.plans) == 0


def test_parameters_and_context_are_part_of_the_key(cached: SqlEngine) -> None:
    statement = "SELECT COUNT(*) FROM ads WHERE clicks > ?"
    low = cached.execute(statement, parameters=[{"type": "BIGINT", "value": 0}]).rows
    high = cached.execute(statement, parameters=[{"type": "BIGINT", "value": 1000}]).rows
    assert low != high and high == [[0]]
    grouped = "SELECT FLOOR(__time TO DAY), COUNT(*) FROM ads GROUP BY 1"
    utc = cached.execute(grouped).rows
    tokyo = cached.execute(grouped, context={"sqlTimeZone": "Asia/Tokyo"}).rows
    assert utc != tokyo
    assert len(cached.plans) == 4


def test_a_plan_that_read_the_current_time_is_not_kept(cached: SqlEngine) -> None:
    statement = "SELECT COUNT(*) FROM ads WHERE __time < CURRENT_TIMESTAMP"
    cached.execute(statement)
    assert len(cached.plans) == 0
    fixed = {"sqlCurrentTimestamp": "2020-01-02T00:00:00Z"}
    cached.execute(statement, context=fixed)
    cached.execute(statement, context=fixed)
    assert len(cached.plans) == 1
    cached.execute("SELECT COUNT(*) FROM ads")  # no CURRENT_TIMESTAMP: kept
    assert len(cached.plans) == 2


def test_a_changed_lookup_makes_the_statement_plan_again(engine: SqlEngine) -> None:
    def lookup(table: dict[str, str], version: str) -> dict[str, LookupMap]:
        spec = parse_lookup_spec(
            {"version": version, "lookupExtractorFactory": {"type": "map", "map": table}}
        )
        return {"regions": LookupMap.from_spec("regions", spec)}

    registry = LookupRegistry(lookup({"US": "North America"}, "v1"))
    sql_engine = SqlEngine(engine.runner, Catalog(StaticCatalogSource({}, registry)))
    statement = "SELECT LOOKUP('US', 'regions')"  # a constant key is looked up while planning
    assert sql_engine.execute(statement).rows == [["North America"]]
    registry.replace(lookup({"US": "Americas"}, "v2"))
    assert sql_engine.execute(statement).rows == [["Americas"]]


def test_the_cache_keeps_the_most_recently_used_plans(engine: SqlEngine) -> None:
    small = SqlEngine(engine.runner, engine.catalog, plan_cache_size=2)
    for n in (1, 2, 1, 3):
        small.execute(f"SELECT COUNT(*) + {n} FROM ads")
    keys = [plan_key(f"SELECT COUNT(*) + {n} FROM ads", None, {}) for n in (1, 2, 3)]
    assert [small.plans.get(k) is not None for k in keys if k is not None] == [True, False, True]


def test_a_context_that_is_not_json_is_not_cached() -> None:
    assert plan_key("SELECT 1", None, {"x": object()}) is None
    assert plan_key("SELECT 1", None, {"sqlQueryId": "a"}) == plan_key("SELECT 1", None, {"queryId": "b"})
    assert PlanCache(0).size == 0
