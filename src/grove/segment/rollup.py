"""Sorting rows into segment order and rolling them up, over whole columns at once.

Segment order is ``(__time, dim_1, ..., dim_n)`` with nulls first, the dimensions in schema order.
Because dictionaries are sorted, each dimension's order is the order of small integer keys; the keys
combine into one int64 composite (re-densified whenever the next factor would overflow), so one
stable argsort (a radix sort) orders all rows. Rollup then combines each run of equal keys: sums,
minimums and maximums through ``reduceat`` (integers in a compiled kernel), sketches through a
grouped union. Nulls are ignored by aggregation; a group whose values are all null stays null.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.segment.block import RowBlock
from grove.segment.columns import Column, NumericColumn, SketchColumn, StringColumn
from grove.segment.radix import stable_argsort
from grove.segment.runs import reduce_runs
from grove.segment.schema import MetricDef
from grove.segment.sketches import SketchArray, hll_union_runs, theta_union_groups

_LIMIT = 1 << 62


_SAMPLE = 16_384
_FEW_DISTINCT = 0.95  # a sample with at most this share of distinct values is worth hashing
_SPARSE = 64  # a key whose range exceeds the rows this many times over is re-ranked early
_FEW_RUNS = 16  # integers changing at most once in this many rows are ranked by run


def _dense_rank(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank of each value among the distinct values (order-preserving), and the number of them.

    Integers that come in long runs of one value (row times truncated to the hour, in input order)
    are ranked run by run. Otherwise hashing first (Arrow's dictionary encoding) and sorting only the
    distinct values is much faster than sorting every value when values repeat, which is the common
    case for keys. When a sample says nearly all values are distinct (row times without rollup,
    composite keys of many independent dimensions), hashing saves nothing and one stable sort of all
    values is cheaper; it is cheaper still when the values arrive nearly in order, as times usually do.
    """
    ranked = _run_rank(values)
    if ranked is not None:
        return ranked
    return _hash_rank(values) if _few_distinct(values) else _sorted_rank(values)


def _run_rank(values: np.ndarray) -> tuple[np.ndarray, int] | None:
    """:func:`_dense_rank` from the values of the runs of equal integers, or None when the values
    change too often for that to pay (a sample tells most inputs apart without reading them all)."""
    n = len(values)
    if n < 2 or values.dtype.kind not in "iu":
        return None
    sample = values[:: max(1, n // _SAMPLE)]
    if np.count_nonzero(sample[1:] != sample[:-1]) * _FEW_RUNS > len(sample):
        return None
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    if len(change) * _FEW_RUNS > n:
        return None
    starts = np.concatenate([np.zeros(1, dtype=np.int64), change])
    distinct, run_rank = np.unique(values[starts], return_inverse=True)
    lengths = np.diff(np.append(starts, n))
    return np.repeat(run_rank.reshape(-1).astype(np.int64), lengths), len(distinct)


def _few_distinct(values: np.ndarray) -> bool:
    sample = values[:: max(1, len(values) // _SAMPLE)]
    return len(sample) <= 1 or pc.count_distinct(pa.array(sample)).as_py() <= _FEW_DISTINCT * len(sample)


def _hash_rank(values: np.ndarray) -> tuple[np.ndarray, int]:
    encoded = pc.dictionary_encode(pa.array(values))
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[stable_argsort(distinct)] = np.arange(len(distinct), dtype=np.int64)
    return rank[encoded.indices.to_numpy(zero_copy_only=False)], len(distinct)


def _sorted_rank(values: np.ndarray) -> tuple[np.ndarray, int]:
    if values.dtype.kind == "f":
        # np.unique counts every NaN as one value, as the hashing path does.
        distinct, inverse = np.unique(values, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64, copy=False), len(distinct)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.empty(len(values), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    ranks = np.cumsum(new, dtype=np.int64)
    ranks -= 1
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = ranks
    return rank, int(ranks[-1]) + 1 if len(ranks) else 0


def _dimension_key(col: Column) -> tuple[np.ndarray, int]:
    """An integer key per row whose order is the dimension's sort order, and its range."""
    if isinstance(col, StringColumn):
        if col.offsets is None:
            return col.codes, col.cardinality  # unsigned codes widen to int64 when combined
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
    """One int64 per row whose order is segment order (equal keys = same time and dimensions).

    The dimensions are combined first, last dimension least significant, and the time rank goes on
    top. A combined key is re-ranked (made dense again) when the next factor would overflow, and,
    when the whole key cannot fit in 62 bits, also early while its range far exceeds the rows and a
    sample says re-ranking can hash: nested dimensions (ads, campaigns, ad groups) have few distinct
    combinations, so re-ranking them early avoids sorting a nearly distinct key later.
    """
    n = block.num_rows
    dims = [_dimension_key(block.columns[d.name]) for d in block.schema.dimensions]
    time, t = _dense_rank(block.time)
    early = math.prod(r for _, r in dims) * t >= _LIMIT
    key, size = np.zeros(n, dtype=np.int64), 1
    for k, r in dims:
        if early and size > _SPARSE * n:
            if _few_distinct(key):
                key, size = _hash_rank(key)
            else:
                early = False
        key, size = _widen(key, size, r)
        key = key * r + k
        size *= r
    key, size = _widen(key, size, t)
    return time * size + key


def _widen(key: np.ndarray, size: int, factor: int) -> tuple[np.ndarray, int]:
    """``key`` re-ranked when ``size * factor`` would overflow; OverflowError when it still would."""
    if size * factor < _LIMIT:
        return key, size
    key, size = _dense_rank(key)
    if size * factor >= _LIMIT:
        raise OverflowError("too many distinct dimension combinations in one block")
    return key, size


def sort_rows(
    block: RowBlock, rollup: bool, key: np.ndarray | None = None, order: np.ndarray | None = None
) -> RowBlock:
    """Rows in segment order; with ``rollup``, rows sharing time and dimensions combined into one.

    ``key`` is the block's :func:`row_keys` and ``order`` its stable argsort, when the caller has
    them already.
    """
    if block.num_rows == 0:
        return block
    if key is None:
        key = row_keys(block)
    if order is None:
        order = stable_argsort(key)
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
    columns: dict[str, Column] = {}
    for dim in block.schema.dimensions:
        columns[dim.name] = block.columns[dim.name].take(first_rows)
    for met in block.schema.metrics:
        columns[met.name] = combine_metric(met, block.columns[met.name], order, starts)
    return RowBlock(block.schema, block.time[first_rows], columns)


def _is_identity(order: np.ndarray) -> bool:
    return bool(np.all(order[1:] > order[:-1])) if len(order) > 1 else True


def combine_metric(met: MetricDef, col: Column, order: np.ndarray, starts: np.ndarray) -> Column:
    """Combine a metric column by group (rows sorted by ``order``; groups begin at ``starts``)."""
    num_groups = len(starts)
    if isinstance(col, SketchColumn):
        sk = col.sketches
        if met.combine == "hll":
            return SketchColumn(hll_union_runs(sk, order, starts))
        # The group of each row, in row order.
        group = np.empty(len(order), dtype=np.int64)
        group[order] = np.repeat(np.arange(num_groups, dtype=np.int64), np.diff(starts, append=len(order)))
        parents = sk.parents()
        thetas = None
        if sk.thetas is not None:
            thetas = np.full(num_groups, np.iinfo(np.uint64).max, dtype=np.uint64)
            np.minimum.at(thetas, group, sk.thetas)
        union: SketchArray = theta_union_groups(group[parents], sk.entries, num_groups, sk.param, thetas)
        return SketchColumn(union)
    assert isinstance(col, NumericColumn)
    if col.nulls is None and col.values.dtype == np.int64 and met.combine in ("sum", "min", "max"):
        return NumericColumn(col.kind, reduce_runs(col.values, order, starts, met.combine))
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
