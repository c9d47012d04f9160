"""Build RowBlocks from plain Python rows for the segment tests, and read them back as Python rows.

Rows are dicts keyed by column name plus ``__time``. String dimensions take ``str | None`` (or a list for
multi-value ones), numeric columns ``int | float | None``, and sketch metrics a list of items to add
(``[]`` or None for an empty sketch). :func:`random_rows` makes seeded random rows with many nulls,
empty strings, repeated keys and multi-value lists, so that rollup really combines rows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from grove.segment.block import RowBlock
from grove.segment.columns import Column, NumericColumn, SketchColumn, StringColumn
from grove.segment.encode import encode_numeric, encode_strings
from grove.segment.hashing import hash_array
from grove.segment.schema import DimensionDef, MetricDef, SegmentSchema
from grove.segment.sketches import hll_entries, hll_union_groups, theta_union_groups

Row = dict[str, Any]

HLL_LGK = 12
THETA_SIZE = 32

FULL_SCHEMA = SegmentSchema(
    dimensions=(
        DimensionDef("country"),
        DimensionDef("tags", multi_value=True),
        DimensionDef("user_id", "long"),
        DimensionDef("score", "double"),
        DimensionDef("ratio", "float"),
    ),
    metrics=(
        MetricDef("count", "long", "sum", {"type": "count", "name": "count"}),
        MetricDef("added", "double", "sum", {"type": "doubleSum", "name": "added", "fieldName": "added"}),
        MetricDef("weight", "float", "sum"),
        MetricDef("low", "long", "min"),
        MetricDef("high", "long", "max"),
        MetricDef("low_d", "double", "min"),
        MetricDef("high_f", "float", "max"),
        MetricDef("users", "hll", "hll", params={"lgK": HLL_LGK}),
        MetricDef("uniq", "theta", "theta", params={"size": THETA_SIZE}),
    ),
)


def item_hashes(items: Sequence[Any]) -> np.ndarray:
    """The 64-bit hashes sketches use for items (strings or integers)."""
    if not items:
        return np.zeros(0, dtype=np.uint64)
    hashes, _ = hash_array(pa.array(list(items)))
    return hashes


def sketch_column(kind: str, param: int, values: Sequence[Sequence[Any] | None]) -> SketchColumn:
    """One sketch per row holding the given items."""
    groups = np.concatenate(
        [np.full(len(v or ()), i, dtype=np.int64) for i, v in enumerate(values)] or [np.zeros(0, np.int64)]
    )
    items = [x for v in values for x in (v or ())]
    hashes = item_hashes(items)
    if kind == "hll":
        return SketchColumn(hll_union_groups(groups, hll_entries(hashes, param), len(values), param))
    return SketchColumn(theta_union_groups(groups, hashes, len(values), param))


def make_column(kind: str, values: Sequence[Any], *, multi: bool = False, param: int = 0) -> Column:
    if kind == "string":
        t = pa.large_list(pa.large_string()) if multi else pa.large_string()
        return encode_strings(pa.array(list(values), t))
    if kind in ("hll", "theta"):
        return sketch_column(kind, param, values)
    arrow_type = {"long": pa.int64(), "float": pa.float32(), "double": pa.float64()}[kind]
    col, failed = encode_numeric(pa.array(list(values), arrow_type), kind)
    assert not failed.any()
    return col


def make_block(schema: SegmentSchema, rows: Sequence[Row]) -> RowBlock:
    columns: dict[str, Column] = {}
    for d in schema.dimensions:
        columns[d.name] = make_column(d.type, [r.get(d.name) for r in rows], multi=d.multi_value)
    for m in schema.metrics:
        param = m.params.get("lgK" if m.type == "hll" else "size", 0)
        columns[m.name] = make_column(m.type, [r.get(m.name) for r in rows], param=param)
    time = np.array([r["__time"] for r in rows], dtype=np.int64)
    return RowBlock(schema, time, columns)


def sketch_value(col: SketchColumn, row: int) -> tuple[tuple[int, ...], int | None]:
    sk = col.sketches
    entries = sk.entries[sk.offsets[row] : sk.offsets[row + 1]]
    theta = None if sk.thetas is None else int(sk.thetas[row])
    if theta == int(np.iinfo(np.uint64).max):
        theta = None
    return tuple(sorted(int(e) for e in entries)), theta


def column_values(col: Column) -> list[Any]:
    """Python values of a column: str/None, tuple/None for multi-value, numbers/None, sketch tuples."""
    if isinstance(col, StringColumn):
        values = col.to_arrow().to_pylist()
        return [tuple(v) if isinstance(v, list) else v for v in values]
    if isinstance(col, NumericColumn):
        out = col.values.tolist()
        if col.nulls is not None:
            out = [None if null else v for v, null in zip(out, col.nulls.tolist(), strict=True)]
        return out
    return [sketch_value(col, i) for i in range(len(col))]


def block_rows(block: RowBlock) -> list[Row]:
    """Rows of a block as Python dicts (column order: time, dimensions, metrics)."""
    names = list(block.schema.dimension_names) + list(block.schema.metric_names)
    values = {n: column_values(block.columns[n]) for n in names}
    return [{"__time": int(t), **{n: values[n][i] for n in names}} for i, t in enumerate(block.time.tolist())]


def random_rows(
    rng: random.Random,
    n: int,
    *,
    times: Sequence[int] = (0, 1000, 2000, 3000),
    countries: Sequence[str | None] = ("US", "FR", "", None, "DE", "日本"),
    tags: Sequence[str] = ("a", "b", "", "c"),
    null_rate: float = 0.2,
) -> list[Row]:
    """Seeded random rows for FULL_SCHEMA with plenty of duplicate keys."""
    rows = []
    for _ in range(n):

        def maybe(v: Any) -> Any:
            return None if rng.random() < null_rate else v

        tag_list: list[str] | None
        r = rng.random()
        if r < 0.15:
            tag_list = None
        elif r < 0.25:
            tag_list = []
        else:
            tag_list = sorted(rng.choice(tags) for _ in range(rng.randrange(1, 3)))
        rows.append(
            {
                "__time": rng.choice(times),
                "country": rng.choice(countries),
                "tags": tag_list,
                "user_id": maybe(rng.randrange(-2, 3)),
                "score": maybe(rng.choice([-1.5, 0.0, 2.25])),
                "ratio": maybe(rng.choice([0.5, 1.0])),
                "count": 1,
                "added": maybe(float(rng.randrange(-100, 100))),
                "weight": maybe(rng.choice([0.25, 0.5, 1.5])),
                "low": maybe(rng.randrange(-1000, 1000)),
                "high": maybe(rng.randrange(-1000, 1000)),
                "low_d": maybe(rng.uniform(-1, 1)),
                "high_f": maybe(rng.choice([0.5, -0.5, 8.0])),
                "users": [f"u{rng.randrange(50)}" for _ in range(rng.randrange(0, 3))],
                "uniq": [rng.randrange(100) for _ in range(rng.randrange(0, 3))],
            }
        )
    return rows


def assert_blocks_equal(a: RowBlock, b: RowBlock) -> None:
    assert a.schema.dimension_names == b.schema.dimension_names
    assert a.schema.metric_names == b.schema.metric_names
    assert block_rows(a) == block_rows(b)


_ARROW_TYPES = {"long": pa.int64(), "float": pa.float32(), "double": pa.float64()}
_SQL_AGG = {"sum": "SUM", "min": "MIN", "max": "MAX"}


def duckdb_rollup(rows: Sequence[Row], schema: SegmentSchema) -> list[Row]:
    """The rollup of ``rows`` computed by DuckDB: GROUP BY time and dimensions, SUM/MIN/MAX metrics.

    Sketch metrics are left out (see :func:`python_rollup_sketches`). Multi-value rows are grouped by
    their value list, with an empty list meaning null, as grove stores them.
    """
    data: dict[str, pa.Array] = {"__time": pa.array([r["__time"] for r in rows], pa.int64())}
    for d in schema.dimensions:
        values = [r.get(d.name) for r in rows]
        if d.multi_value:
            data[d.name] = pa.array([v if v else None for v in values], pa.list_(pa.string()))
        elif d.type == "string":
            data[d.name] = pa.array(values, pa.string())
        else:
            data[d.name] = pa.array(values, _ARROW_TYPES[d.type])
    numeric = [m for m in schema.metrics if not m.is_sketch]
    for m in numeric:
        data[m.name] = pa.array([r.get(m.name) for r in rows], _ARROW_TYPES[m.type])
    table = pa.table(data)
    keys = ["__time", *schema.dimension_names]
    sql_types = {"long": "BIGINT", "float": "FLOAT", "double": "DOUBLE"}
    aggs = [f'CAST({_SQL_AGG[m.combine]}("{m.name}") AS {sql_types[m.type]}) AS "{m.name}"' for m in numeric]
    columns = ", ".join([*(f'"{k}"' for k in keys), *aggs])
    sql = f"SELECT {columns} FROM t GROUP BY ALL"
    con = duckdb.connect()
    con.register("t", table)
    result = con.sql(sql).to_arrow_table().to_pylist()
    return [{k: (tuple(v) if isinstance(v, list) else v) for k, v in r.items()} for r in result]


def without(rows: Sequence[Row], names: Sequence[str]) -> list[Row]:
    return [{k: v for k, v in r.items() if k not in names} for r in rows]


def canonical(rows: Sequence[Row]) -> list[str]:
    """A sortable, order-free form of a list of rows (for multiset comparison)."""
    return sorted(repr(sorted(r.items())) for r in rows)


def sort_key(schema: SegmentSchema) -> Any:
    """Python sort key of segment order: time, then dimensions in schema order, nulls first."""

    def key(row: Row) -> tuple[Any, ...]:
        out: list[Any] = [row["__time"]]
        for d in schema.dimensions:
            v = row[d.name]
            if v is None:
                out.append((0,))
            elif isinstance(v, tuple):
                out.append((1, tuple(x.encode() for x in v)))
            elif isinstance(v, str):
                out.append((1, v.encode()))
            else:
                out.append((1, v))
        return tuple(out)

    return key


def python_rollup_sketches(rows: Sequence[Row], schema: SegmentSchema) -> dict[tuple[Any, ...], Row]:
    """Per rollup key, each sketch metric built from the union of the group's items."""
    key = sort_key(schema)
    items: dict[tuple[Any, ...], dict[str, list[Any]]] = {}
    for r in rows:
        norm = dict(r)
        for d in schema.dimensions:
            if d.multi_value:
                v = r.get(d.name)
                norm[d.name] = tuple(v) if v else None
        k = key(norm)
        bucket = items.setdefault(k, {m.name: [] for m in schema.metrics if m.is_sketch})
        for name in bucket:
            bucket[name].extend(r.get(name) or ())
    out: dict[tuple[Any, ...], Row] = {}
    for k, bucket in items.items():
        out[k] = {}
        for m in schema.metrics:
            if m.is_sketch:
                param = m.params.get("lgK" if m.type == "hll" else "size", 0)
                col = sketch_column(m.type, param, [bucket[m.name]])
                out[k][m.name] = sketch_value(col, 0)
    return out


def rows_holding(rows: Sequence[Row], name: str, value: str | None) -> list[int]:
    """Indexes of the rows whose column ``name`` holds ``value`` (for multi-value: among its values)."""
    out = []
    for i, r in enumerate(rows):
        v = r[name]
        if value is None:
            hit = v is None
        elif isinstance(v, tuple):
            hit = value in v
        else:
            hit = v == value
        if hit:
            out.append(i)
    return out
