"""Sorting rows into segment order and rolling them up, over whole columns at once.

Segment order is ``(__time, dim_1, ..., dim_n)`` with nulls first, the dimensions in schema order.
Because dictionaries are sorted, each dimension's order is the order of small integer keys; the keys
combine into one int64 composite (re-densified whenever the next factor would overflow), so one
stable argsort orders all rows. Rollup then combines each run of equal keys: sums, minimums and
maximums through ``reduceat``, sketches through a grouped union. Nulls are ignored by aggregation; a
group whose values are all null stays null.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.segment.block import RowBlock
from grove.segment.columns import Column, NumericColumn, SketchColumn, StringColumn
from grove.segment.schema import MetricDef
from grove.segment.sketches import SketchArray, hll_union_groups, theta_union_groups

_LIMIT = 1 << 62


_SAMPLE = 4096


def _dense_rank(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank of each value among the distinct values (order-preserving), and the number of them.

    Hashing first (Arrow's dictionary encoding) and sorting only the distinct values is much faster
    than sorting every value when values repeat, which is the common case for keys. When a sample
    says most values are distinct (row times without rollup, composite keys of many dimensions),
    hashing saves nothing and one sort of all values is cheaper.
    """
    if len(values) > 4 * _SAMPLE:
        sample = values[:: len(values) // _SAMPLE]
        if len(np.unique(sample)) > len(sample) // 2:
            distinct, inverse = np.unique(values, return_inverse=True)
            return inverse.reshape(-1).astype(np.int64, copy=False), len(distinct)
    encoded = pc.dictionary_encode(pa.array(values))
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[np.argsort(distinct, kind="stable")] = np.arange(len(distinct), dtype=np.int64)
    return rank[encoded.indices.to_numpy(zero_copy_only=False)], len(distinct)


def _dimension_key(col: Column) -> tuple[np.ndarray, int]:
    """An int64 key per row whose order is the dimension's sort order, and its range."""
    if isinstance(col, StringColumn):
        if col.offsets is None:
            return col.codes.astype(np.int64), col.cardinality
        return _multi_value_key(col)
    if isinstance(col, NumericColumn):
        rank, n = _dense_rank(col.values)
        rank += 1
        if col.nulls is not None:
            rank[col.nulls] = 0
        return rank, n + 1
    raise TypeError("sketch columns are not dimensions")


def _multi_value_key(col: StringColumn) -> tuple[np.ndarray, int]:
    """Rank rows by their value lists, element by element (shorter prefixes first)."""
    assert col.offsets is not None
    lengths = np.diff(col.offsets)
    n = len(lengths)
    width = int(lengths.max()) if n else 0
    padded = np.full((n, max(width, 1)), -1, dtype=np.int64)
    rows = np.repeat(np.arange(n), lengths)
    pos = np.arange(len(col.codes)) - col.offsets[:-1][rows]
    padded[rows, pos] = col.codes
    _, inverse = np.unique(padded, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    return inverse, int(inverse.max()) + 1 if n else 1


def row_keys(block: RowBlock) -> np.ndarray:
    """One int64 per row whose order is segment order (equal keys = same time and dimensions)."""
    key, size = _dense_rank(block.time)
    for dim in block.schema.dimensions:
        k, r = _dimension_key(block.columns[dim.name])
        if size * r >= _LIMIT:
            key, size = _dense_rank(key)
            if size * r >= _LIMIT:
                raise OverflowError("too many distinct dimension combinations in one block")
        key = key * r + k
        size *= r
    return key


def sort_rows(block: RowBlock, rollup: bool) -> RowBlock:
    """Rows in segment order; with ``rollup``, rows sharing time and dimensions combined into one."""
    if block.num_rows == 0:
        return block
    key = row_keys(block)
    order = np.argsort(key, kind="stable")
    if not rollup:
        return block if _is_identity(order) else block.take(order)
    sorted_key = key[order]
    boundary = np.empty(len(sorted_key), dtype=bool)
    boundary[0] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=boundary[1:])
    starts = np.flatnonzero(boundary)
    if len(starts) == block.num_rows:
        return block if _is_identity(order) else block.take(order)
    first_rows = order[starts]
    group_of_sorted = np.cumsum(boundary) - 1
    group = np.empty(len(order), dtype=np.int64)
    group[order] = group_of_sorted
    columns: dict[str, Column] = {}
    for dim in block.schema.dimensions:
        columns[dim.name] = block.columns[dim.name].take(first_rows)
    for met in block.schema.metrics:
        columns[met.name] = combine_metric(met, block.columns[met.name], order, starts, group)
    return RowBlock(block.schema, block.time[first_rows], columns)


def _is_identity(order: np.ndarray) -> bool:
    return bool(np.all(order[1:] > order[:-1])) if len(order) > 1 else True


def combine_metric(
    met: MetricDef, col: Column, order: np.ndarray, starts: np.ndarray, group: np.ndarray
) -> Column:
    """Combine a metric column by group (rows sorted by ``order``; groups begin at ``starts``)."""
    num_groups = len(starts)
    if isinstance(col, SketchColumn):
        sk = col.sketches
        parents = sk.parents()
        if met.combine == "hll":
            return SketchColumn(hll_union_groups(group[parents], sk.entries, num_groups, sk.param))
        thetas = None
        if sk.thetas is not None:
            thetas = np.full(num_groups, np.iinfo(np.uint64).max, dtype=np.uint64)
            np.minimum.at(thetas, group, sk.thetas)
        union: SketchArray = theta_union_groups(group[parents], sk.entries, num_groups, sk.param, thetas)
        return SketchColumn(union)
    assert isinstance(col, NumericColumn)
    values = col.values[order]
    nulls = col.nulls[order] if col.nulls is not None else None
    if nulls is not None:
        fill = 0 if met.combine == "sum" else _identity(values.dtype, met.combine)
        values = np.where(nulls, fill, values)
    if met.combine == "sum":
        out = np.add.reduceat(values, starts)
    elif met.combine == "min":
        out = np.minimum.reduceat(values, starts)
    elif met.combine == "max":
        out = np.maximum.reduceat(values, starts)
    else:
        raise ValueError(f"unknown combine [{met.combine}]")
    out_nulls = None
    if nulls is not None:
        non_null = np.add.reduceat((~nulls).astype(np.int64), starts)
        out_nulls = non_null == 0
    return NumericColumn(col.kind, out.astype(col.values.dtype, copy=False), out_nulls)


def _identity(dtype: np.dtype, combine: str) -> int | float:
    if dtype.kind == "f":
        return np.inf if combine == "min" else -np.inf
    info = np.iinfo(dtype)
    return int(info.max) if combine == "min" else int(info.min)
