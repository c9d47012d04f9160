"""The data SQL tests run on: the ads rows of the query tests as one segment flavour, a catalog over
them, and the same rows in DuckDB (the oracle).

``ads`` is ingested without rollup (the query tests' ``ADS`` dataset): string dimensions with nulls
and empty strings, a multi-value ``tags``, numeric dimensions ``age`` (long) and ``bid`` (double),
metrics named like their input columns (``impressions``, ``clicks``, ``spend``, ``ratio``, ``count``)
and three sketch metrics. :class:`StaticCatalogSource` reports their columns the way the node's
catalog does (segment schemas merged, sketches as ``COMPLEX<...>``), and fixed rows for ``sys``.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

_QUERY_TESTS = str(Path(__file__).resolve().parents[1] / "query")
if _QUERY_TESTS not in sys.path:
    sys.path.insert(0, _QUERY_TESTS)

from adsdata import ADS, ROWS  # noqa: E402
from flavours import build_segments  # noqa: E402

from grove.query.lookups import LookupMap, LookupRegistry, parse_lookup_spec  # noqa: E402
from grove.query.runner import QueryRunner  # noqa: E402
from grove.query.sources import StaticSegmentSource  # noqa: E402
from grove.segment.segment import Segment  # noqa: E402
from grove.sql.catalog import Catalog, ColumnInfo  # noqa: E402
from grove.sql.engine import SqlEngine  # noqa: E402

_DIMENSION_TYPES = {"string": "STRING", "long": "LONG", "float": "FLOAT", "double": "DOUBLE"}
_SQL_TYPES = {"STRING": "VARCHAR", "LONG": "BIGINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE"}


def columns_of(segments: list[Segment]) -> list[ColumnInfo]:
    """``__time`` then each dimension and metric of the segments' schemas (first segment's order)."""
    out = [ColumnInfo("__time", "TIMESTAMP", "LONG")]
    seen: dict[str, ColumnInfo] = {}
    for seg in segments:
        for d in seg.schema.dimensions:
            native = _DIMENSION_TYPES[d.type]
            old = seen.get(d.name)
            seen[d.name] = ColumnInfo(
                d.name, _SQL_TYPES[native], native, d.multi_value or bool(old and old.multi_value)
            )
        for m in seg.schema.metrics:
            if m.type == "hll":
                kind = "hyperUnique" if m.aggregator.get("type") == "hyperUnique" else "HLLSketch"
                seen.setdefault(m.name, ColumnInfo(m.name, "OTHER", f"COMPLEX<{kind}>"))
            elif m.type == "theta":
                seen.setdefault(m.name, ColumnInfo(m.name, "OTHER", "COMPLEX<thetaSketch>"))
            else:
                native = _DIMENSION_TYPES[m.type]
                seen.setdefault(m.name, ColumnInfo(m.name, _SQL_TYPES[native], native))
    return out + list(seen.values())


SEGMENT_ROWS = [
    {
        "segment_id": "ads_2020-01-01_v1",
        "datasource": "ads",
        "start": "2020-01-01T00:00:00.000Z",
        "end": "2020-01-02T00:00:00.000Z",
        "size": 1000,
        "version": "v1",
        "partition_num": 0,
        "num_replicas": 1,
        "num_rows": 200,
        "is_active": 1,
        "is_published": 1,
        "is_available": 1,
        "is_realtime": 0,
        "is_overshadowed": 0,
        "shard_spec": "{}",
        "dimensions": "[]",
        "metrics": "[]",
        "last_compaction_state": None,
        "replication_factor": 1,
        "namespace": "",
    },
    {
        "segment_id": "ads_2020-01-02_v1",
        "datasource": "ads",
        "start": "2020-01-02T00:00:00.000Z",
        "end": "2020-01-03T00:00:00.000Z",
        "size": 3000,
        "version": "v1",
        "partition_num": 0,
        "num_replicas": 1,
        "num_rows": 200,
        "is_active": 1,
        "is_published": 1,
        "is_available": 1,
        "is_realtime": 0,
        "is_overshadowed": 0,
        "shard_spec": "{}",
        "dimensions": "[]",
        "metrics": "[]",
        "last_compaction_state": None,
        "replication_factor": 1,
        "namespace": "",
    },
    {
        "segment_id": "ads_2020-01-02_v0",
        "datasource": "ads",
        "start": "2020-01-02T00:00:00.000Z",
        "end": "2020-01-03T00:00:00.000Z",
        "size": 0,
        "version": "v0",
        "partition_num": 0,
        "num_replicas": 0,
        "num_rows": 0,
        "is_active": 0,
        "is_published": 1,
        "is_available": 0,
        "is_realtime": 0,
        "is_overshadowed": 1,
        "shard_spec": "{}",
        "dimensions": "[]",
        "metrics": "[]",
        "last_compaction_state": None,
        "replication_factor": 0,
        "namespace": "",
    },
]
SERVER_ROWS = [
    {
        "server": "localhost:8888",
        "host": "localhost",
        "plaintext_port": 8888,
        "tls_port": -1,
        "server_type": "historical",
        "tier": "_default_tier",
        "curr_size": 4000,
        "max_size": 10**9,
        "is_leader": None,
        "start_time": "2020-01-01T00:00:00.000Z",
    },
    {
        "server": "localhost:8888",
        "host": "localhost",
        "plaintext_port": 8888,
        "tls_port": -1,
        "server_type": "broker",
        "tier": None,
        "curr_size": 0,
        "max_size": 0,
        "is_leader": None,
        "start_time": "2020-01-01T00:00:00.000Z",
    },
]
TASK_ROWS = [
    {
        "task_id": "index_ads_1",
        "group_id": "index_ads_1",
        "type": "index_parallel",
        "datasource": "ads",
        "created_time": "2020-01-05T00:00:00.000Z",
        "queue_insertion_time": "2020-01-05T00:00:00.000Z",
        "status": "SUCCESS",
        "runner_status": "NONE",
        "duration": 1234,
        "location": None,
        "host": None,
        "plaintext_port": -1,
        "tls_port": -1,
        "error_msg": None,
    },
    {
        "task_id": "index_ads_2",
        "group_id": "index_ads_2",
        "type": "index_parallel",
        "datasource": "ads",
        "created_time": "2020-01-06T00:00:00.000Z",
        "queue_insertion_time": "2020-01-06T00:00:00.000Z",
        "status": "FAILED",
        "runner_status": "NONE",
        "duration": 99,
        "location": None,
        "host": None,
        "plaintext_port": -1,
        "tls_port": -1,
        "error_msg": "boom",
    },
]


class StaticCatalogSource:
    """A :class:`~grove.sql.catalog.CatalogSource` over segments held in memory and fixed sys rows."""

    def __init__(self, segments: dict[str, list[Segment]], lookups: LookupRegistry | None = None) -> None:
        self._columns = {name: columns_of(segs) for name, segs in segments.items()}
        self.lookup_registry = lookups or LookupRegistry()

    def datasources(self) -> list[str]:
        return sorted(self._columns)

    def datasource_columns(self, datasource: str) -> list[ColumnInfo]:
        return list(self._columns.get(datasource, []))

    def segment_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in SEGMENT_ROWS]

    def server_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in SERVER_ROWS]

    def task_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in TASK_ROWS]

    def lookups(self) -> Mapping[str, LookupMap]:
        return self.lookup_registry.snapshot()


# A registered lookup of the SQL tests' engine, also a DuckDB table ``country_names(k, v)``: one key maps
# to "" (which stays ""), and "DE" is missing (a missing key is null, or the replacement).
COUNTRY_NAMES = {"US": "United States", "FR": "France", "日本": "Japan", "": ""}


def registered_lookups() -> LookupRegistry:
    spec = {"version": "v1", "lookupExtractorFactory": {"type": "map", "map": COUNTRY_NAMES}}
    return LookupRegistry({"country_names": LookupMap.from_spec("country_names", parse_lookup_spec(spec))})


def make_engine(directory: Path, flavour: str = "persisted") -> tuple[SqlEngine, QueryRunner]:
    segments = {ADS.name: build_segments(ADS, flavour, directory)}
    lookups = registered_lookups()
    runner = QueryRunner(StaticSegmentSource(segments), threads=2, lookups=lookups)
    return SqlEngine(runner, Catalog(StaticCatalogSource(segments, lookups))), runner


def duck() -> duckdb.DuckDBPyConnection:
    """The ads rows in DuckDB as table ``ads`` (``__time`` a TIMESTAMP, ``tags`` a ``VARCHAR[]``), nulls
    ordered as Druid orders them."""
    con = duckdb.connect()
    table = ADS.table
    times = pa.array(table.column("__time").to_numpy().astype("datetime64[ms]"))
    table = table.set_column(0, "__time", times)
    con.register("ads_arrow", table)
    con.execute("CREATE TABLE ads AS SELECT * REPLACE (CAST(__time AS TIMESTAMP) AS __time) FROM ads_arrow")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET default_null_order = 'nulls_first_on_asc_last_on_desc'")  # Druid: nulls are smallest
    con.execute("CREATE TABLE country_names (k VARCHAR, v VARCHAR)")
    con.executemany("INSERT INTO country_names VALUES (?, ?)", list(COUNTRY_NAMES.items()))
    return con


# --- comparing rows -----------------------------------------------------------------------------------


def iso(value: dt.datetime) -> str:
    """A naive UTC datetime as Druid writes TIMESTAMP values: ``2020-01-02T03:04:05.006Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def normalise(value: Any) -> Any:
    """A value as both engines can agree on it: timestamps as ISO text, booleans and integral floats as
    integers."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _sort_key(row: list[Any]) -> tuple[Any, ...]:
    return tuple((v is None, str(type(v)), v if not isinstance(v, float) else round(v, 6)) for v in row)


def _same(a: Any, b: Any, rel_tol: float, strict: bool) -> bool:
    if strict and type(a) is not type(b):
        return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=rel_tol)
    return bool(a == b)


def assert_rows_agree(
    got: list[list[Any]],
    want: list[list[Any]],
    *,
    ordered: bool,
    rel_tol: float = 1e-9,
    strict: bool = False,
) -> None:
    """Fails unless ``got`` and ``want`` hold the same rows; compared as sorted multisets unless
    ``ordered``, numbers with relative tolerance ``rel_tol``.

    Loose (``strict`` false, for two engines) values are :func:`normalise`-d first; strict (for one engine
    against its recorded answer) each value must also keep its Python type.
    """
    if not strict:
        got = [[normalise(v) for v in row] for row in got]
        want = [[normalise(v) for v in row] for row in want]
    if not ordered:
        got, want = sorted(got, key=_sort_key), sorted(want, key=_sort_key)
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        assert len(g) == len(w), (g, w)
        assert all(_same(a, b, rel_tol, strict) for a, b in zip(g, w, strict=True)), (g, w)


__all__ = [
    "ROWS",
    "StaticCatalogSource",
    "assert_rows_agree",
    "columns_of",
    "duck",
    "iso",
    "make_engine",
    "normalise",
]
