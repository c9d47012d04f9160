"""Table resolution, INFORMATION_SCHEMA and the sys tables (answered from the catalog, in memory)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqldata import SEGMENT_ROWS, TASK_ROWS, StaticCatalogSource

from grove.sql.catalog import SYSTEM_COLUMNS, Catalog, DatasourceTable, SystemTable
from grove.sql.errors import SqlError
from grove.sql.result import SqlResult

Sql = Callable[..., SqlResult]


def catalog() -> Catalog:
    return Catalog(StaticCatalogSource({}))


def test_datasources_resolve_bare_or_in_the_druid_schema(sql: Sql) -> None:
    assert sql("SELECT COUNT(*) FROM ads").rows == sql("SELECT COUNT(*) FROM druid.ads").rows
    assert sql('SELECT COUNT(*) FROM "druid"."ads" AS a WHERE a.country = \'US\'').rows[0][0] > 0


def test_unknown_tables_are_named(sql: Sql) -> None:
    with pytest.raises(SqlError, match="Object 'nope' not found"):
        sql("SELECT * FROM nope")
    with pytest.raises(SqlError, match="Object 'nope' not found within 'sys'"):
        sql("SELECT * FROM sys.nope")
    with pytest.raises(SqlError, match="Object 'ADS' not found"):
        sql("SELECT * FROM ADS")  # datasource names are case-sensitive, as in Druid


def test_system_tables_resolve_regardless_of_case() -> None:
    c = catalog()
    assert isinstance(c.resolve(("sys", "segments")), SystemTable)
    assert isinstance(c.resolve(("SYS", "SEGMENTS")), SystemTable)
    assert c.resolve(("information_schema", "tables")).name == "TABLES"  # type: ignore[union-attr]
    with pytest.raises(SqlError):
        c.resolve(("lookup", "x"))


def test_schemata(sql: Sql) -> None:
    r = sql("SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA ORDER BY SCHEMA_NAME")
    assert [row[0] for row in r.rows] == ["INFORMATION_SCHEMA", "druid", "lookup", "sys", "view"]
    assert sql("SELECT * FROM INFORMATION_SCHEMA.SCHEMATA").columns == [
        c.name for c in SYSTEM_COLUMNS[("INFORMATION_SCHEMA", "SCHEMATA")]
    ]


def test_tables(sql: Sql) -> None:
    r = sql(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IS_JOINABLE, IS_BROADCAST FROM INFORMATION_SCHEMA.TABLES "
        "WHERE TABLE_SCHEMA IN ('druid', 'sys') ORDER BY 1, 2"
    )
    assert r.rows == [
        ["druid", "ads", "TABLE", "NO", "NO"],
        ["sys", "segments", "SYSTEM_TABLE", "NO", "NO"],
        ["sys", "servers", "SYSTEM_TABLE", "NO", "NO"],
        ["sys", "tasks", "SYSTEM_TABLE", "NO", "NO"],
    ]


def test_columns(sql: Sql) -> None:
    r = sql(
        "SELECT COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, IS_NULLABLE, JDBC_TYPE FROM INFORMATION_SCHEMA.COLUMNS "
        "WHERE TABLE_SCHEMA = 'druid' AND TABLE_NAME = 'ads' ORDER BY ORDINAL_POSITION"
    )
    by_name = {row[0]: row for row in r.rows}
    assert r.rows[0] == ["__time", 1, "TIMESTAMP", "NO", 93]
    assert by_name["country"][2:] == ["VARCHAR", "YES", 12]
    assert by_name["age"][2:] == ["BIGINT", "YES", -5]
    assert by_name["bid"][2] == "DOUBLE"
    assert by_name["ratio"][2] == "FLOAT"
    assert by_name["users_hll"][2:] == ["OTHER", "YES", 1111]
    assert [row[1] for row in r.rows] == list(range(1, len(r.rows) + 1))
    assert len(sql("SELECT * FROM INFORMATION_SCHEMA.COLUMNS LIMIT 1").columns) == 17


def test_sys_segments(sql: Sql) -> None:
    r = sql("SELECT * FROM sys.segments")
    assert r.columns == [c.name for c in SYSTEM_COLUMNS[("sys", "segments")]]
    assert len(r.rows) == len(SEGMENT_ROWS)
    # Druid's documented example: size per datasource over active segments.
    stats = sql(
        'SELECT datasource, SUM("size") AS total_size, '
        'CASE WHEN SUM("size") = 0 THEN 0 ELSE SUM("size") / (COUNT(*) FILTER(WHERE "size" > 0)) END AS avg_size, '
        "COUNT(*) AS num_segments FROM sys.segments WHERE is_active = 1 GROUP BY 1 ORDER BY 2 DESC"
    )
    assert stats.rows == [["ads", 4000, 2000, 2]]
    assert stats.sql_types == ["VARCHAR", "BIGINT", "BIGINT", "BIGINT"]


def test_sys_servers_and_tasks(sql: Sql) -> None:
    servers = sql(
        "SELECT server, server_type, tier, curr_size FROM sys.servers WHERE server_type = 'historical'"
    )
    assert servers.rows == [["localhost:8888", "historical", "_default_tier", 4000]]
    failed = sql("SELECT task_id, error_msg FROM sys.tasks WHERE status = 'FAILED'")
    assert failed.rows == [[t["task_id"], t["error_msg"]] for t in TASK_ROWS if t["status"] == "FAILED"]
    ordered = sql("SELECT task_id FROM sys.tasks ORDER BY created_time DESC LIMIT 1 OFFSET 1")
    assert ordered.rows == [["index_ads_1"]]


def test_datasource_table_carries_columns() -> None:
    table = Catalog(StaticCatalogSource({})).resolve(("sys", "tasks"))
    assert not isinstance(table, DatasourceTable)
    assert [c.name for c in table.columns][:3] == ["task_id", "group_id", "type"]
