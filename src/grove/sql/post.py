"""In-memory evaluation for what native queries cannot do, vectorised with pyarrow.

A :class:`Relation` is a small table held column by column (SQL types; TIMESTAMP values as epoch ms).
Native results become relations; so do system tables and subquery results. On a relation grove can
filter, group and aggregate (pyarrow's hash aggregation), project, sort and page. Expressions are the
same Druid expressions the planner writes for native queries, evaluated by grove's vectorised
expression engine over whole columns, so the semantics (three-valued logic, nulls) are the same in
both places and nothing runs per row in Python.

Used for: outer queries over subqueries, UNION ALL, system tables, the outer half of exact
``COUNT(DISTINCT)``, output expressions over grouping keys, and ORDER BY/LIMIT that a native query
cannot push down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.query.expression import Expr, evaluate, parse_expression, truthy_masks
from grove.sql import operand as T
from grove.sql.aggregates import AGGREGATES
from grove.sql.analysis import OrderItem, SelectAnalysis
from grove.sql.catalog import ColumnInfo
from grove.sql.operand import Operand


@dataclass
class Relation:
    """Rows held column-major: ``data[i]`` is the list of values of ``columns[i]``.

    ``exact`` names the numeric columns whose values are known to be of their SQL type already
    (ints for BIGINT, floats for DOUBLE), so that turning them into JSON needs no conversion pass.
    """

    columns: list[ColumnInfo]
    data: list[list[Any]]
    exact: frozenset[str] = frozenset()

    @property
    def num_rows(self) -> int:
        return len(self.data[0]) if self.data else 0

    @staticmethod
    def from_rows(columns: Sequence[ColumnInfo], rows: Sequence[Sequence[Any]]) -> Relation:
        data = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in columns]
        return Relation(list(columns), data)

    def arrays(self) -> dict[str, pa.Array]:
        return {
            c.name: to_array(values, c.sql_type) for c, values in zip(self.columns, self.data, strict=True)
        }


@dataclass
class MemoryAgg:
    """One aggregate over a relation: output name, pyarrow aggregation, input and FILTER condition."""

    name: str
    op: str
    arg: Operand | None
    condition: Operand | None
    type: str
    zero: bool = False  # null (no rows) becomes 0, as for counts


@lru_cache(maxsize=4096)
def _parsed(text: str) -> Expr:
    return parse_expression(text, "sql")


def to_array(values: list[Any], sql_type: str) -> pa.Array:
    """Values of one column as an Arrow array of the SQL type's runtime type."""
    if sql_type in (T.BIGINT, T.TIMESTAMP, T.DATE, T.BOOLEAN):
        if sql_type == T.BOOLEAN or any(isinstance(v, float) for v in values[:1]):
            values = [None if v is None else int(v) for v in values]
        return pa.array(values, pa.int64())
    if sql_type in (T.DOUBLE, T.FLOAT):
        return pa.array(values, pa.float64())
    if sql_type in (T.VARCHAR, T.NULL):
        try:
            return pa.array(values, pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # Multi-value rows: lists of strings, and a plain string where a row holds one value.
            lists = [v if v is None or isinstance(v, list) else [v] for v in values]
            return pa.array(lists, pa.list_(pa.string()))
    return pa.array([None] * len(values), pa.string())


def evaluate_operand(op: Operand, arrays: dict[str, pa.Array], n: int) -> pa.Array:
    """``op`` over the columns ``arrays`` (n rows), as an array of its SQL type's runtime type."""
    if op.column is not None and op.column in arrays:
        out = arrays[op.column]
    else:
        out = evaluate(_parsed(op.expr), arrays, n)
    return _as_type(out, op.type)


def _as_type(arr: pa.Array, sql_type: str) -> pa.Array:
    t = arr.type
    if sql_type in (T.DOUBLE, T.FLOAT) and (pa.types.is_integer(t) or pa.types.is_null(t)):
        return arr.cast(pa.float64())
    if sql_type in (T.BIGINT, T.TIMESTAMP, T.DATE, T.BOOLEAN):
        if pa.types.is_floating(t):
            return pc.trunc(arr).cast(pa.int64(), safe=False)
        if pa.types.is_null(t):
            return arr.cast(pa.int64())
    if sql_type == T.VARCHAR and (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return arr.cast(pa.string())
    return arr


def condition_mask(op: Operand, arrays: dict[str, pa.Array], n: int) -> np.ndarray:
    """Rows where a boolean operand is true (false and unknown rows are dropped, as WHERE does)."""
    if op.is_constant:
        value = op.constant()
        return np.full(n, value not in (None, 0, False, ""))
    true, _ = truthy_masks(evaluate(_parsed(op.expr), arrays, n))
    return np.asarray(true, dtype=bool)


def _take(rel: Relation, mask: np.ndarray) -> Relation:
    if bool(mask.all()):
        return rel
    idx = np.flatnonzero(mask).tolist()
    return Relation(rel.columns, [[col[i] for i in idx] for col in rel.data])


def filter_relation(rel: Relation, condition: Operand | None) -> Relation:
    if condition is None or rel.num_rows == 0:
        return rel
    return _take(rel, condition_mask(condition, rel.arrays(), rel.num_rows))


def aggregate(rel: Relation, keys: Sequence[tuple[str, Operand]], aggs: Sequence[MemoryAgg]) -> Relation:
    """GROUP BY ``keys`` with ``aggs``: columns named by the keys, then the aggregates.

    Without keys the result is one row even when ``rel`` is empty, as SQL's grand total is.
    """
    arrays = rel.arrays()
    n = rel.num_rows
    if any(a.op in ("first", "last") for a in aggs) and "__time" in arrays and n:
        # EARLIEST/LATEST take the first/last value in time order.
        times = arrays["__time"].fill_null(np.iinfo(np.int64).max).to_numpy(zero_copy_only=False)
        order = pa.array(np.argsort(times, kind="stable"))
        arrays = {k: v.take(order) for k, v in arrays.items()}
    table: dict[str, pa.Array] = {}
    for i, (_, op) in enumerate(keys):
        table[f"k{i}"] = evaluate_operand(op, arrays, n)
    specs = []
    for i, agg in enumerate(aggs):
        values = (
            evaluate_operand(agg.arg, arrays, n) if agg.arg is not None else pa.array(np.ones(n, np.int64))
        )
        if agg.condition is not None:
            mask = pa.array(condition_mask(agg.condition, arrays, n))
            values = pc.if_else(mask, values, pa.nulls(n, values.type))
        table[f"v{i}"] = values
        specs.append((f"v{i}", agg.op))
    if not table:
        table["__rows"] = pa.array(np.ones(n, np.int64))
    grouped = (
        pa.table(table).group_by([f"k{i}" for i in range(len(keys))], use_threads=False).aggregate(specs)
    )
    data: list[list[Any]] = []
    columns: list[ColumnInfo] = []
    for i, (name, op) in enumerate(keys):
        columns.append(ColumnInfo(name, op.type, T.native_type(op.type), op.multi_value))
        data.append(grouped.column(f"k{i}").to_pylist())
    for i, agg in enumerate(aggs):
        col = _as_type(grouped.column(f"v{i}_{agg.op}").combine_chunks(), agg.type)
        if agg.op == "count" or agg.op == "count_distinct" or agg.zero:
            col = col.fill_null(0)
        columns.append(ColumnInfo(agg.name, agg.type, T.native_type(agg.type)))
        data.append(col.to_pylist())
    return Relation(columns, data, frozenset(c.name for c in columns))


def finish(
    rel: Relation,
    outputs: Sequence[tuple[str, Operand]],
    having: Operand | None = None,
    order: Sequence[OrderItem] = (),
    offset: int = 0,
    limit: int | None = None,
) -> Relation:
    """HAVING, then outputs and ORDER BY evaluated over ``rel``, then OFFSET/LIMIT."""
    rel = filter_relation(rel, having)
    n = rel.num_rows
    arrays = rel.arrays()
    values = [evaluate_operand(op, arrays, n) if n else pa.array([], pa.null()) for _, op in outputs]
    if order and n > 1:
        perm = sort_permutation(
            [evaluate_operand(o.operand, arrays, n) for o in order], [o.descending for o in order]
        )
        perm = perm[offset : None if limit is None else offset + limit]
        values = [v.take(pa.array(perm)) for v in values]
    elif offset or limit is not None:
        values = [v.slice(offset, limit) for v in values]
    columns = [ColumnInfo(name, op.type, T.native_type(op.type), op.multi_value) for name, op in outputs]
    return Relation(columns, [v.to_pylist() for v in values], frozenset(name for name, _ in outputs))


def sort_permutation(keys: Sequence[pa.Array], descending: Sequence[bool]) -> np.ndarray:
    """Row order by ``keys``; nulls sort first ascending and last descending (nulls are smallest)."""
    table: dict[str, pa.Array] = {}
    sort_keys = []
    for i, (key, desc) in enumerate(zip(keys, descending, strict=True)):
        direction = "descending" if desc else "ascending"
        if key.null_count:
            table[f"n{i}"] = key.is_valid()
            sort_keys.append((f"n{i}", direction))
        table[f"k{i}"] = key
        sort_keys.append((f"k{i}", direction))
    return np.asarray(pc.sort_indices(pa.table(table), sort_keys=sort_keys))


def run_select(analysis: SelectAnalysis, rel: Relation) -> Relation:
    """A whole SELECT over an in-memory relation."""
    tr = analysis.input_tr
    if analysis.where is not None:
        rel = filter_relation(rel, tr.translate(analysis.where))
    outputs = [(o.name, o.operand) for o in analysis.outputs]
    if not analysis.aggregate:
        return finish(rel, outputs, None, analysis.order, analysis.offset, analysis.limit)
    aggs = [
        MemoryAgg(
            call.name,
            "count_distinct" if call.distinct else AGGREGATES[call.fn].memory,
            call.args[0] if call.args else None,
            tr.translate(call.filter) if call.filter is not None else None,
            call.type,
        )
        for call in analysis.aggs
    ]
    grouped = aggregate(rel, [(k.name, k.operand) for k in analysis.keys], aggs)
    if analysis.keys and grouped.num_rows == 0:
        grouped = Relation(grouped.columns, [[] for _ in grouped.columns])
    return finish(grouped, outputs, analysis.having_operand, analysis.order, analysis.offset, analysis.limit)


def concat(relations: Sequence[Relation]) -> Relation:
    """UNION ALL: rows of every relation under the first one's column names and types."""
    first = relations[0]
    data = [list(col) for col in first.data]
    for rel in relations[1:]:
        for i, col in enumerate(rel.data):
            data[i].extend(col)
    return Relation(first.columns, data)
