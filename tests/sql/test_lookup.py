"""SQL ``LOOKUP(expr, 'name'[, 'replaceMissingValueWith'])`` and the ``lookup`` schema, checked against
DuckDB joining the ads rows with the same map.

``LOOKUP`` plans to Druid's native expression ``lookup(expr, 'name')``; the name is checked against the
catalog while planning (``Lookup [x] not found``); a constant key is looked up at once. A value without
a key, null included, becomes the replacement or null; a key mapped to ``""`` stays ``""``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from adsdata import ADS, ROWS
from flavours import build_segments
from sqldata import StaticCatalogSource, assert_rows_agree, duck

from grove.query.lookups import LookupMap, LookupRegistry, parse_lookup_spec
from grove.query.runner import QueryRunner
from grove.query.sources import StaticSegmentSource
from grove.sql.catalog import Catalog
from grove.sql.engine import SqlEngine
from grove.sql.errors import SqlError

REGIONS = {"US": "North America", "FR": "Europe", "DE": "Europe", "": "", "日本": "Asia"}
DEVICES = {"phone": "mobile", "tablet": "mobile", "desktop": "fixed"}


def registry() -> LookupRegistry:
    maps = {"regions": REGIONS, "devices": DEVICES}
    return LookupRegistry(
        {
            name: LookupMap.from_spec(
                name,
                parse_lookup_spec({"version": "v1", "lookupExtractorFactory": {"type": "map", "map": table}}),
            )
            for name, table in maps.items()
        }
    )


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlEngine]:
    directory: Path = tmp_path_factory.mktemp("sql-lookups")
    segments = {ADS.name: build_segments(ADS, "persisted", directory)}
    lookups = registry()
    runner = QueryRunner(StaticSegmentSource(segments), threads=2, lookups=lookups)
    yield SqlEngine(runner, Catalog(StaticCatalogSource(segments, lookups)))
    runner.close()


@pytest.fixture(scope="module")
def oracle() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duck()
    for name, table in (("regions", REGIONS), ("devices", DEVICES)):
        con.execute(f"CREATE TABLE lk_{name} (k VARCHAR, v VARCHAR)")
        con.executemany(f"INSERT INTO lk_{name} VALUES (?, ?)", list(table.items()))
    yield con
    con.close()


@pytest.fixture
def sql(engine: SqlEngine) -> Callable[[str], list[list[Any]]]:
    return lambda statement: engine.execute(statement).rows


@pytest.mark.parametrize(
    ("grove_sql", "duck_sql"),
    [
        (
            "SELECT LOOKUP(country, 'regions') AS r, COUNT(*) AS n, SUM(clicks) AS c FROM ads GROUP BY 1",
            "SELECT l.v, COUNT(*), SUM(clicks) FROM ads LEFT JOIN lk_regions l ON ads.country = l.k GROUP BY 1",
        ),
        (
            "SELECT LOOKUP(country, 'regions', 'other') AS r, COUNT(*) FROM ads GROUP BY 1",
            "SELECT COALESCE(l.v, 'other'), COUNT(*) FROM ads LEFT JOIN lk_regions l ON ads.country = l.k "
            "GROUP BY 1",
        ),
        (
            "SELECT LOOKUP(country, 'regions'), LOOKUP(device, 'devices'), COUNT(*) FROM ads GROUP BY 1, 2",
            "SELECT r.v, d.v, COUNT(*) FROM ads LEFT JOIN lk_regions r ON ads.country = r.k "
            "LEFT JOIN lk_devices d ON ads.device = d.k GROUP BY 1, 2",
        ),
        (
            "SELECT COUNT(*) FROM ads WHERE LOOKUP(country, 'regions') = 'Europe'",
            "SELECT COUNT(*) FROM ads JOIN lk_regions l ON ads.country = l.k WHERE l.v = 'Europe'",
        ),
        (
            "SELECT UPPER(LOOKUP(country, 'regions', '?')) AS r, SUM(impressions) FROM ads "
            "WHERE device = 'phone' GROUP BY 1",
            "SELECT UPPER(COALESCE(l.v, '?')), SUM(impressions) FROM ads LEFT JOIN lk_regions l "
            "ON ads.country = l.k WHERE device = 'phone' GROUP BY 1",
        ),
        (
            "SELECT campaign, LOOKUP(country, 'regions') FROM ads WHERE clicks > 5",
            "SELECT campaign, l.v FROM ads LEFT JOIN lk_regions l ON ads.country = l.k WHERE clicks > 5",
        ),
    ],
    ids=["group", "replace-missing", "two-lookups", "filter", "nested", "scan"],
)
def test_lookup_agrees_with_duckdb_joining_the_map(
    sql: Callable[[str], list[list[Any]]], oracle: duckdb.DuckDBPyConnection, grove_sql: str, duck_sql: str
) -> None:
    assert_rows_agree(sql(grove_sql), [list(r) for r in oracle.execute(duck_sql).fetchall()], ordered=False)


def test_lookup_to_empty_string_stays_empty(sql: Callable[[str], list[list[Any]]]) -> None:
    rows = dict(
        (r[0], r[1]) for r in sql("SELECT LOOKUP(country, 'regions') AS r, COUNT(*) FROM ads GROUP BY 1")
    )
    assert "" in rows and None in rows


def test_lookup_plans_to_the_native_lookup_expression(engine: SqlEngine) -> None:
    node, _, _, _ = engine.plan("SELECT LOOKUP(country, 'regions', 'x') AS r, COUNT(*) FROM ads GROUP BY 1")
    (plan,) = node.natives()
    (vc,) = plan.query["virtualColumns"]
    assert vc["expression"] == "lookup(\"country\", 'regions', 'x')"


def test_constant_keys_are_looked_up_while_planning(sql: Callable[[str], list[list[Any]]]) -> None:
    assert sql(
        "SELECT LOOKUP('US', 'regions'), LOOKUP('nope', 'regions', 'z'), LOOKUP(NULL, 'regions') FROM ads LIMIT 1"
    ) == [["North America", "z", None]]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT LOOKUP(country, 'nope') FROM ads", r"Lookup \[nope\] not found"),
        ("SELECT LOOKUP(country, device) FROM ads", r"lookup name of LOOKUP must be a literal"),
        ("SELECT LOOKUP(country, 'regions', device) FROM ads", r"replaceMissingValueWith of LOOKUP"),
        ("SELECT k FROM lookup.nope", r"Object 'nope' not found within 'lookup'"),
    ],
)
def test_lookup_errors(engine: SqlEngine, statement: str, message: str) -> None:
    with pytest.raises(SqlError, match=message) as info:
        engine.execute(statement)
    assert info.value.status == 400


def test_lookup_schema_tables(sql: Callable[[str], list[list[Any]]]) -> None:
    assert sorted(map(tuple, sql("SELECT k, v FROM lookup.regions"))) == sorted(REGIONS.items())
    assert sql("SELECT v, COUNT(*) FROM lookup.regions WHERE v = 'Europe' GROUP BY v") == [["Europe", 2]]
    tables = sql(
        "SELECT TABLE_NAME, TABLE_TYPE, IS_JOINABLE, IS_BROADCAST FROM INFORMATION_SCHEMA.TABLES "
        "WHERE TABLE_SCHEMA = 'lookup' ORDER BY TABLE_NAME"
    )
    assert tables == [["devices", "TABLE", "YES", "YES"], ["regions", "TABLE", "YES", "YES"]]
    columns = sql(
        "SELECT COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS "
        "WHERE TABLE_SCHEMA = 'lookup' AND TABLE_NAME = 'regions'"
    )
    assert columns == [["k", "VARCHAR"], ["v", "VARCHAR"]]


def test_lookup_in_an_outer_query_evaluated_by_the_sql_layer(sql: Callable[[str], list[list[Any]]]) -> None:
    rows = sql(
        "SELECT LOOKUP(c, 'regions', '-') AS r, SUM(n) FROM "
        "(SELECT country AS c, COUNT(*) AS n FROM ads GROUP BY 1) GROUP BY 1"
    )
    assert sum(r[1] for r in rows) == len(ROWS)
    assert {r[0] for r in rows} == {"North America", "Europe", "", "Asia", "-"}
