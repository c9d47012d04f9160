"""The fast path for the shapes ads reporting asks for most: filter, bucket, group, sum — in one pass.

Most reporting queries filter on a few string dimensions, bucket by time, group by a few string
dimensions and sum, count, min/max or merge reach sketches. For those, instead of materialising
selections, bucket arrays and group ids, one generated kernel (:mod:`grove.query.codegen`) walks the
segment's rows once:

* a filter that is a conjunction of terms on one string column each becomes one lookup table per
  term over that column's dictionary (the filter engine evaluates each term on the distinct values,
  so every filter type and Druid's null semantics carry over unchanged);
* a term that matches few values of an indexed column instead selects rows from its bitmaps, so a
  query for one advertiser touches only that advertiser's rows;
* time buckets come from row boundaries (rows are time-sorted), not from a value per row;
* group ids are mixed-radix combinations of the dimension codes, accumulated in dense per-group
  rows of two matrices.

A segment whose columns do not fit (a multi-value or numeric dimension, a metric stored as strings,
an over-large key space, ...) falls back to the general engine, so answers never depend on the path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa
from pyroaring import BitMap

from grove.common.granularity import AllGranularity, Granularity, NoneGranularity
from grove.query import kernels as K
from grove.query.aggregation import (
    Aggregation,
    CountAggregation,
    HllAggregation,
    HllState,
    NumericAggregation,
    NumState,
    State,
)
from grove.query.codegen import KernelShape, MetricSlot, kernel_for
from grove.query.common import ALL_BUCKET, data_interval
from grove.query.filters import FilterEngine
from grove.query.rows import Rows
from grove.query.spec import dimensions as D
from grove.query.spec import filters as F
from grove.query.view import TIME, SegmentView
from grove.segment.columns import Column, NumericColumn, SketchColumn, StringColumn, bitmap_rows

_MAX_KEYS = 1 << 22  # dense accumulator rows per segment before falling back
_MAX_BUCKETS = 100_000
_BITMAP_CODES = 64  # at most this many matching values to select rows through their bitmaps
_BITMAP_SHARE = 0.05  # ... and only when, together, they keep at most this share of the view's rows
_BITMAP_SHARE_GROUPED = 0.3
_PREFIX_CODES = 4096  # at most this many values of the first dimension for range access
SEARCH_STEPS = 16  # a binary search for a code costs about this many steps of scanning runs
_DENSE_HLL_BYTES = 64 << 20


@dataclass(frozen=True)
class FastPlan:
    """What the fast path does for one query; built once, before any segment."""

    terms: tuple[tuple[str, Any], ...]  # (column, filter over that column only), all must hold
    dims: tuple[tuple[str, str], ...]  # (column, output name)
    aggs: tuple[Aggregation, ...]


def plan_query(query: Any, dims: Sequence[Any], aggs: Sequence[Aggregation]) -> FastPlan | None:
    """A fast plan for the query, or None when its shape needs the general engine."""
    if query.virtual_columns or isinstance(query.granularity, NoneGranularity):
        return None
    terms = _conjunction(query.filter)
    if terms is None:
        return None
    dim_columns = []
    for spec in dims:
        if type(spec) is not D.DefaultDimensionSpec or spec.output_type != "STRING" or spec.dimension == TIME:
            return None
        dim_columns.append((spec.dimension, spec.output_name))
    if len(dim_columns) > 3:
        return None
    for agg in aggs:
        if isinstance(agg, CountAggregation):
            continue
        if isinstance(agg, NumericAggregation) and agg.expression is None and agg.field != TIME:
            continue
        if isinstance(agg, HllAggregation) and len(agg.fields) == 1 and not agg.by_row:
            continue
        return None
    if sum(1 for a in aggs if isinstance(a, NumericAggregation)) > 4:
        return None
    return FastPlan(tuple(terms), tuple(dim_columns), tuple(aggs))


def _conjunction(f: Any) -> list[tuple[str, Any]] | None:
    """Split a filter into terms on one column each (an AND of them), or None when it cannot be."""
    if f is None or isinstance(f, F.TrueFilter):
        return []
    if isinstance(f, F.AndFilter):
        out: list[tuple[str, Any]] = []
        for child in f.fields:
            part = _conjunction(child)
            if part is None:
                return None
            out.extend(part)
        return out
    columns = _single_column(f)
    if columns is None or columns == TIME:
        return None
    return [(columns, f)]


def _single_column(f: Any) -> str | None:
    """The one column a filter tree reads, or None (several columns, expressions, comparisons)."""
    if isinstance(f, F.ExpressionFilter | F.ColumnComparisonFilter | F.TrueFilter | F.FalseFilter):
        return None
    children = list(getattr(f, "fields", ()) or ())
    if isinstance(f, F.NotFilter):
        children = [f.field]
    if children:
        names = {_single_column(c) for c in children}
        return names.pop() if len(names) == 1 and None not in names else None
    required = f.required_columns()
    return next(iter(required)) if len(required) == 1 else None


class _DictionarySource:
    """One string column's dictionary seen as rows (row c holds code c), to evaluate a filter per value."""

    def __init__(self, name: str, column: StringColumn | None) -> None:
        self.name = name
        card = column.cardinality if column is not None else 1
        dictionary = column.dictionary if column is not None else pa.array([], pa.large_string())
        self.col = StringColumn(dictionary, np.arange(card, dtype=np.int32))

    @property
    def num_rows(self) -> int:
        return len(self.col.codes)

    def column(self, name: str) -> Column | None:
        return self.col if name == self.name else None


def _matching_codes(name: str, column: StringColumn, f: Any) -> tuple[np.ndarray, np.ndarray]:
    """The codes for which the filter is true, and its lookup table (:func:`_lut`)."""
    if isinstance(f, F.SelectorFilter) and f.extraction_fn is None:
        # One value, the most common report filter: its code straight from the dictionary, without
        # scanning a table as long as the dictionary (tens of thousands of advertisers).
        code = column.lookup(f.value)
        hits = np.array([code] if code >= 0 else [], dtype=np.int64)
        lut = np.zeros(column.cardinality, dtype=np.uint8)
        lut[hits] = 1
        return hits, lut
    lut = _lut(name, column, f)
    return np.flatnonzero(lut), lut


def _lut(name: str, column: StringColumn | None, f: Any) -> np.ndarray:
    """uint8 per code: 1 where the filter is true for rows holding that code."""
    if column is not None and getattr(f, "extraction_fn", None) is None:
        # Equality and in filters straight from the column's value index (selectors never get
        # here: :func:`_matching_codes` looks their one value up itself).
        if (
            isinstance(f, F.EqualityFilter)
            and f.match_value_type.upper() == "STRING"
            and f.match_value is not None
        ):
            # What SQL plans for ``column = 'value'``: a selector that never matches null.
            lut = np.zeros(column.cardinality, dtype=np.uint8)
            code = column.lookup(str(f.match_value))
            if code > 0:
                lut[code] = 1
            return lut
        if isinstance(f, F.InFilter):
            lut = np.zeros(column.cardinality, dtype=np.uint8)
            if len(f.values) > 64 and len(column.dictionary):
                # Many values: the dictionary probed against their set (built once per query), by
                # the dictionary's hashes (worked out once per segment).
                lut[1:] = f.string_set.members(column.dictionary, column.dictionary_hashes())
                lut[0] = f.matches_null
                return lut
            codes = column.lookup_many(list(f.values))
            lut[codes[codes >= 0]] = 1
            return lut
    source = _DictionarySource(name, column)
    return FilterEngine(source).rows(f).mask().astype(np.uint8)


@dataclass
class FastResult:
    """A segment view's answer from the fast path: per present (bucket, dims) group, its keys and
    aggregator states; ``buckets`` lists every bucket start of the view (for timeseries filling)."""

    buckets: np.ndarray
    group_bucket: np.ndarray  # bucket index of each group
    group_codes: list[np.ndarray]  # per dimension: code of each group
    dim_values: list[pa.Array]  # per dimension: values indexed by code
    states: list[State]
    has_rows: np.ndarray  # per bucket


def run_fast(
    plan: FastPlan, view: SegmentView, granularity: Granularity, *, all_groups: bool = False
) -> FastResult | None:
    """Answer one view on the fast path, or None when this segment's columns need the general engine.

    With ``all_groups`` (timeseries) every bucket is returned, rows or not; otherwise only groups
    holding rows.
    """
    if view.size == 0:
        return None
    segment = view.segment
    first_dim = segment.schema.dimensions[0].name if segment.schema.dimensions else None
    # 1. Filter terms become lookup tables over dictionaries. Terms on the first sort dimension with
    #    few values select row ranges (binary search inside each time run); selective indexed terms
    #    select rows through their bitmaps; the rest are tested row by row in the kernel.
    luts: list[tuple[np.ndarray, np.ndarray]] = []
    candidates: list[tuple[int, StringColumn, np.ndarray, np.ndarray]] = []
    prefix: tuple[StringColumn, np.ndarray, np.ndarray] | None = None
    for name, f in plan.terms:
        col = view.column(name)
        if col is None:
            lut = _lut(name, None, f)
            if not lut[0]:
                return _empty(plan, view, granularity, all_groups)
            continue
        if not isinstance(col, StringColumn) or col.multi_value:
            return None
        hits, lut = _matching_codes(name, col, f)
        if len(hits) == 0:
            return _empty(plan, view, granularity, all_groups)
        if len(hits) == col.cardinality:
            continue
        if name == first_dim and prefix is None and _prefix_pays(segment, view, len(hits)):
            prefix = (col, hits, lut)
            continue
        if col.has_index and len(hits) <= _BITMAP_CODES:
            estimate = sum(len(col.bitmap(int(c))) for c in hits)
            candidates.append((estimate, col, hits, lut))
            continue
        luts.append((col.codes, lut))
    share = 1.0
    for estimate, *_ in candidates:
        share *= min(estimate / max(view.size, 1), 1.0)
    # Gathering selected rows costs several times a sequential, vectorised scan per row; grouped
    # aggregation scatters anyway, so bitmaps pay at a higher share there.
    if prefix is not None or share > (_BITMAP_SHARE_GROUPED if plan.dims else _BITMAP_SHARE):
        luts.extend((c.codes, lut) for _, c, _, lut in candidates)
        candidates = []
    rows: np.ndarray | None = None
    if candidates:
        bm: BitMap | None = None
        for _, c, hits, _ in sorted(candidates, key=lambda item: item[0]):
            part = (
                BitMap.union(*(c.bitmap(int(h)) for h in hits)) if len(hits) > 1 else c.bitmap(int(hits[0]))
            )
            bm = part if bm is None else bm & part
        assert bm is not None
        if view.lo > 0 or view.hi < view.num_rows:
            bm = bm & Rows.all(view.lo, view.hi).bitmap()
        rows = bitmap_rows(bm)
        if len(rows) == 0:
            return _empty(plan, view, granularity, all_groups)
    if len(luts) > 3:
        return None
    terms, term_args = _term_tests(luts)
    # 2. Time buckets as row boundaries.
    bucket_starts, bounds = bucket_bounds(view, granularity)
    if bucket_starts is None or bounds is None:
        return None
    nb = len(bucket_starts)
    # 3. Group dimensions: plain codes, mixed radix.
    dim_cols: list[StringColumn] = []
    for name, _ in plan.dims:
        col = view.column(name)
        if col is None or not isinstance(col, StringColumn) or col.multi_value:
            return None
        dim_cols.append(col)
    strides = []
    space = 1
    for col in reversed(dim_cols):
        strides.append(space)
        space *= col.cardinality
    strides.reverse()
    keys = nb * space
    if keys > _MAX_KEYS:
        return None
    # 4. Metric slots.
    slots: list[MetricSlot] = []
    fields: list[str] = []
    values: list[Any] = []
    where: list[tuple[str, int, int]] = []  # per aggregation: (kind, value column, seen column)
    next_i, next_f = 1, 0
    hll: list[tuple[int, HllAggregation, SketchColumn]] = []
    for index, agg in enumerate(plan.aggs):
        if isinstance(agg, CountAggregation):
            where.append(("count", 0, 0))
            continue
        if isinstance(agg, HllAggregation):
            sketch = view.column(agg.fields[0])
            if (
                not isinstance(sketch, SketchColumn)
                or sketch.sketches.kind != "hll"
                or sketch.sketches.param != agg.lgk
            ):
                return None
            hll.append((index, agg, sketch))
            where.append(("hll", 0, 0))
            continue
        assert isinstance(agg, NumericAggregation)
        num = view.column(agg.field) if agg.field is not None else None
        if num is None:
            where.append(("null", 0, 0))
            continue
        if not isinstance(num, NumericColumn) or (agg.kind == "long" and num.values.dtype.kind == "f"):
            return None
        is_float = agg.kind != "long"
        has_nulls = num.nulls is not None
        value_col = next_f if is_float else next_i
        if is_float:
            next_f += 1
        else:
            next_i += 1
        seen_col = 0
        if has_nulls or agg.op != "sum":
            seen_col = next_i
            next_i += 1
        slots.append(MetricSlot(agg.op, is_float, value_col, has_nulls, seen_col))
        fields.append(agg.field or "")
        values.append(num.values)
        if has_nulls:
            values.append(num.nulls)
        where.append(("float" if is_float else "long", value_col, seen_col))
    # 5. The row source: row ranges of the first dimension's values, a row list, or bucket ranges.
    kernel_dims = list(zip(dim_cols, strides, strict=True))
    acc_i = np.zeros((keys, next_i), dtype=np.int64)
    acc_f = np.zeros((keys, max(next_f, 1)), dtype=np.float64)
    folded = 0
    if prefix is not None:
        col, hits, lut = prefix
        runs = segment.prefix_runs()
        if runs is not None:
            run_ids = _picked_runs(segment, view, runs, hits, lut)
            stride = next((s for c, s in kernel_dims if c is col), 0)
            totals = (
                _slot_totals(segment, slots, fields, values)
                if len(kernel_dims) == (1 if stride else 0)
                and not terms
                and not hll
                and all(m.op == "sum" and not m.has_nulls for m in slots)
                else None
            )
            if totals is not None:
                # Every row of a run lands in one group and only sums are asked: add the runs'
                # totals instead of their rows. Runs cut by the edges of the view go to the kernel.
                folded = _fold_whole_runs(
                    view, runs, run_ids, bounds, space, stride, slots, totals, acc_i, acc_f
                )
                run_ids = _cut_runs(view, runs, run_ids)
            starts, stops, codes = _run_ranges(view, runs, run_ids)
        else:
            starts, stops, codes = _prefix_ranges(view, col, hits)
        if len(starts) == 0 and not folded:
            return _empty(plan, view, granularity, all_groups)
        base = (np.searchsorted(bounds, starts, side="right") - 1) * space
        for k, (dcol, dstride) in enumerate(kernel_dims):
            if dcol is col:
                # Every row of a range holds its value: fold that dimension into the range's group.
                base = base + codes * dstride
                kernel_dims.pop(k)
                break
        mode = "ranges"
        head: list[Any] = [starts, stops, base]
        n_rows = int((stops - starts).sum())
    else:
        mode = "rows" if rows is not None else "range"
        row_list = rows if rows is not None else _NO_ROWS
        row_bounds = np.searchsorted(rows, bounds) if rows is not None else bounds
        head = [row_list, row_bounds, bounds, space]
        n_rows = len(rows) if rows is not None else view.size
    # Sketches need each passing row's group: written out by the kernel, unless buckets are the only
    # groups and every row of the selection passes, when the sketch pass walks the buckets itself.
    emit = bool(hll) and (bool(dim_cols) or bool(luts) or mode == "ranges")
    passed = 0
    if n_rows or not folded:
        shape = KernelShape(terms, len(kernel_dims), tuple(slots), mode, emit, (False,) * len(kernel_dims))
        kernel = kernel_for(shape)
        out_rows = np.empty(n_rows if emit else 1, dtype=np.int64)
        out_groups = np.empty(n_rows if emit else 1, dtype=np.int64)
        args: list[Any] = [*head, *term_args]
        for col, stride in kernel_dims:
            args += [col.codes, stride]
        args += values
        args += [acc_i, acc_f, out_rows, out_groups]
        passed = kernel(*args)
    counts = acc_i[:, 0]
    present = np.arange(keys) if all_groups else np.flatnonzero(counts)
    # 6. Sketches: a second pass over the passing rows, straight from the stored sketch entries.
    hll_states: dict[int, HllState] = {}
    if hll:
        groups = None
        if emit:
            dense = np.full(keys, -1, dtype=np.int64)
            dense[present] = np.arange(len(present))
            groups = dense[out_groups[:passed]]
        for index, agg, sketch in hll:
            if len(present) * (1 << agg.lgk) > _DENSE_HLL_BYTES:
                return None
            registers = np.zeros((len(present), 1 << agg.lgk), dtype=np.uint8)
            sk = sketch.sketches
            if groups is not None:
                K.hll_rows(sk.offsets, sk.entries, out_rows[:passed], groups, registers)
            else:
                # One group per bucket, all of them present (timeseries) or only those with rows.
                full = np.zeros((nb, 1 << agg.lgk), dtype=np.uint8) if len(present) != nb else registers
                K.hll_buckets(sk.offsets, sk.entries, mode == "rows", head[0], head[1], full)
                registers = full if full is registers else full[present]
            hll_states[index] = HllState(agg.lgk, registers=registers)
    states: list[State] = []
    for index, (agg, (kind, value_col, seen_col)) in enumerate(zip(plan.aggs, where, strict=True)):
        n = len(present)
        if kind == "count":
            states.append(NumState(counts[present].copy(), np.ones(n, dtype=np.int64)))
        elif kind == "hll":
            states.append(hll_states[index])
        elif kind == "null":
            states.append(agg.empty(n))
        else:
            acc = acc_f if kind == "float" else acc_i
            seen = acc_i[present, seen_col] if seen_col else counts[present]
            assert isinstance(agg, NumericAggregation)
            vals = acc[present, value_col]
            states.append(NumState(vals.astype(agg.dtype(), copy=False), seen.copy()))
    group_bucket = present // space
    rest = present % space
    group_codes = []
    for stride, col in zip(strides, dim_cols, strict=True):
        group_codes.append((rest // stride) % col.cardinality)
    has_rows = np.bincount(group_bucket[counts[present] > 0], minlength=nb) > 0
    return FastResult(
        bucket_starts, group_bucket, group_codes, [c.values_with_null() for c in dim_cols], states, has_rows
    )


def _prefix_pays(segment: Any, view: SegmentView, values: int) -> bool:
    """Whether range access by the first dimension beats scanning: few time runs and few values."""
    runs = len(segment.time_runs()) - 1
    return values <= _PREFIX_CODES and runs * 16 <= view.size


def _run_span(view: SegmentView, runs: tuple[np.ndarray, np.ndarray]) -> tuple[int, int]:
    """The first run holding a row of the view, and one past the last."""
    bounds = runs[0]
    first = int(np.searchsorted(bounds, view.lo, side="right")) - 1
    return first, int(np.searchsorted(bounds, view.hi, side="left"))


def _picked_runs(
    segment: Any, view: SegmentView, runs: tuple[np.ndarray, np.ndarray], hits: np.ndarray, lut: np.ndarray
) -> np.ndarray:
    """The segment's (time, first dimension) runs (:meth:`Segment.prefix_runs`) inside the view
    whose code is one of ``hits``, in row order: a few codes by binary search inside each time run,
    many by the lookup table, one step per run of the view."""
    first, last = _run_span(view, runs)
    time_runs = time_first_runs(segment, runs)
    searches = (len(time_runs) - 1) * len(hits)
    if searches * SEARCH_STEPS < last - first:
        out = np.empty(searches, dtype=np.int64)  # each code is at most one run per time run
        n = K.search_runs(time_runs, runs[1], hits, first, last, out)
    else:
        out = np.empty(max(last - first, 0), dtype=np.int64)
        n = K.pick_runs(runs[1], lut, first, last, out)
    return out[:n]


def time_first_runs(segment: Any, runs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per time run of the segment (:meth:`Segment.time_runs`, and its end), the index of its first
    (time, first dimension) run: time run t spans runs ``[out[t], out[t + 1])``. Kept with the
    open segment."""
    return cast(
        np.ndarray,
        segment.derived(
            "time runs in runs", lambda: np.searchsorted(runs[0], segment.time_runs()), always=True
        ),
    )


def _run_ranges(
    view: SegmentView, runs: tuple[np.ndarray, np.ndarray], run_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each run's rows inside the view ``[start, stop)`` and its code."""
    bounds, run_codes = runs
    starts = np.maximum(bounds[run_ids], view.lo)
    stops = np.minimum(bounds[run_ids + 1], view.hi)
    return starts, stops, run_codes[run_ids].astype(np.int64)


def _cut_runs(view: SegmentView, runs: tuple[np.ndarray, np.ndarray], run_ids: np.ndarray) -> np.ndarray:
    """The runs among ``run_ids`` (in row order) that the view's edges cut: at most the first and
    the last."""
    bounds = runs[0]
    if not len(run_ids):
        return run_ids
    ends = sorted({int(run_ids[0]), int(run_ids[-1])})
    return np.array([i for i in ends if bounds[i] < view.lo or bounds[i + 1] > view.hi], dtype=np.int64)


def _prefix_ranges(
    view: SegmentView, col: StringColumn, hits: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row ranges ``[start, stop)`` inside the view holding the ``hits`` codes of the first
    dimension, and each range's code, by binary search inside each time run (for segments whose
    runs are too short to keep, see :meth:`Segment.prefix_runs`)."""
    time_runs = view.segment.time_runs()
    starts, stops, codes = (np.empty((len(time_runs) - 1) * len(hits), dtype=np.int64) for _ in range(3))
    wanted = hits.astype(col.codes.dtype)
    n = K.prefix_ranges(time_runs, view.lo, view.hi, col.codes, wanted, starts, stops, codes)
    return starts[:n], stops[:n], codes[:n]


def _fold_whole_runs(
    view: SegmentView,
    runs: tuple[np.ndarray, np.ndarray],
    run_ids: np.ndarray,
    bucket_bounds: np.ndarray,
    space: int,
    stride: int,
    slots: Sequence[MetricSlot],
    totals: Sequence[np.ndarray],
    acc_i: np.ndarray,
    acc_f: np.ndarray,
) -> int:
    """Fold the runs lying wholly inside the view into the accumulators from their ``totals`` (one
    array per slot; :func:`grove.query.kernels.fold_whole_runs`); returns the rows they hold."""
    # Numba wants a tuple of one array type each: a placeholder stands in for an empty kind.
    ti = tuple(t for t, m in zip(totals, slots, strict=True) if not m.is_float) or (_NO_ROWS,)
    tf = tuple(t for t, m in zip(totals, slots, strict=True) if m.is_float) or (_NO_DOUBLES,)
    cols_i = np.array([m.col for m in slots if not m.is_float], dtype=np.int64)
    cols_f = np.array([m.col for m in slots if m.is_float], dtype=np.int64)
    return int(
        K.fold_whole_runs(
            run_ids, runs[0], runs[1], view.lo, view.hi, bucket_bounds, space, stride,
            ti, cols_i, tf, cols_f, acc_i, acc_f,
        )
    )  # fmt: skip


def _slot_totals(
    segment: Any, slots: Sequence[MetricSlot], fields: Sequence[str], values: Sequence[np.ndarray]
) -> list[np.ndarray] | None:
    """Per slot, :func:`run_totals` of its metric; None when one is not kept."""
    out = []
    for slot, name, vals in zip(slots, fields, values, strict=True):
        totals = run_totals(segment, name, vals, slot.is_float)
        if totals is None:
            return None
        out.append(totals)
    return out


def run_totals(segment: Any, name: str, values: np.ndarray, is_float: bool) -> np.ndarray | None:
    """The sum of metric ``name`` (whose values are ``values``) over each (time, first dimension) run
    of the segment, as doubles or longs: worked out the first time a query asks and kept with the
    open segment (8 bytes per run; runs are at most a quarter of the rows). None when the segment
    cannot keep them (its memory for derived values is spent, see
    :class:`grove.segment.segment.DerivedMemory`)."""

    def compute() -> np.ndarray:
        runs = segment.prefix_runs()
        assert runs is not None
        totals = np.zeros(len(runs[1]), dtype=np.float64 if is_float else np.int64)
        K.run_totals(runs[0], values, totals)
        return totals

    return cast("np.ndarray | None", segment.derived(("run totals", name, is_float), compute))


_NO_ROWS = np.zeros(1, dtype=np.int64)
_NO_DOUBLES = np.zeros(1, dtype=np.float64)


def _term_tests(luts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[tuple[str, ...], list[Any]]:
    """Each lookup table as the cheapest test: one code, a contiguous code range, or the table."""
    kinds: list[str] = []
    args: list[Any] = []
    for codes, lut in luts:
        hits = np.flatnonzero(lut)
        scalar = codes.dtype.type
        if len(hits) == 1:
            kinds.append("eq")
            args += [codes, scalar(hits[0])]
        elif int(hits[-1]) - int(hits[0]) + 1 == len(hits) and int(hits[-1]) + 1 <= np.iinfo(codes.dtype).max:
            kinds.append("range")
            args += [codes, scalar(hits[0]), scalar(hits[-1] + 1)]
        else:
            kinds.append("lut")
            args += [codes, lut]
    return tuple(kinds), args


def bucket_bounds(view: SegmentView, granularity: Granularity) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Bucket starts of the view and the row boundaries between them (clipped to [lo, hi])."""
    if isinstance(granularity, AllGranularity):
        return np.array([ALL_BUCKET], dtype=np.int64), np.array([view.lo, view.hi], dtype=np.int64)
    data = data_interval(view)
    if data is None:
        return None, None
    starts = []
    for iv in granularity.iterate(data):
        starts.append(iv.start)
        if len(starts) > _MAX_BUCKETS:
            return None, None
    bounds = np.empty(len(starts) + 1, dtype=np.int64)
    bounds[0], bounds[-1] = view.lo, view.hi
    if len(starts) > 1:
        inner = np.searchsorted(view.segment.time(), np.asarray(starts[1:], dtype=np.int64), side="left")
        np.minimum(np.maximum(inner, view.lo), view.hi, out=bounds[1:-1])
    return np.asarray(starts, dtype=np.int64), bounds


def _empty(plan: FastPlan, view: SegmentView, granularity: Granularity, all_groups: bool) -> FastResult:
    """No row passes the filter: every bucket empty (returned for timeseries), no groups otherwise."""
    starts, _ = bucket_bounds(view, granularity)
    buckets = starts if starts is not None else np.zeros(0, dtype=np.int64)
    n = len(buckets) if all_groups else 0
    return FastResult(
        buckets,
        np.arange(n, dtype=np.int64),
        [np.zeros(n, dtype=np.int64) for _ in plan.dims],
        [pa.nulls(1, pa.large_string()) for _ in plan.dims],
        [agg.empty(n) for agg in plan.aggs],
        np.zeros(len(buckets), dtype=bool),
    )
