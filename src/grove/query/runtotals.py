"""Reports on a few values of the first dimension, answered from run totals across all segments at once.

The two reports an ads platform serves most are one advertiser's metrics by day and a page of
advertisers by day: a ``selector``, ``equals`` or ``in`` filter on the first dimension (the advertiser, see
docs/ingestion.md), grouped by time alone (timeseries) or by time and that dimension (groupBy),
summing metrics. In a segment the rows of one (time, first-dimension value) pair are one run
(:meth:`grove.segment.segment.Segment.prefix_runs`), and each run's sum of each metric is kept with
the open segment (:func:`grove.query.fastpath.run_totals`), so such a report adds a few totals per
segment and reads no row.

The per-segment engines (:mod:`grove.query.fastpath`) do that too, but each segment then builds its own
partial result and the partials are merged. Here one compiled pass per segment adds the wanted runs'
totals into accumulators indexed by (time bucket, position of the value in the filter's sorted
values), and the accumulators of all segments become the query's single partial result: no
per-segment partials, no merge. A query or segment that does not fit (another filter, other
aggregators, a metric with nulls, a segment whose first dimension differs or whose runs are not
kept) is answered by the per-segment engines instead, so answers never depend on the path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import numpy as np
import pyarrow as pa

from grove.common.granularity import Granularity, NoneGranularity
from grove.query import kernels as K
from grove.query.aggregation import Aggregation, CountAggregation, NumericAggregation, NumState, State
from grove.query.common import data_interval, data_start
from grove.query.fastpath import SEARCH_STEPS, bucket_bounds, run_totals, time_first_runs
from grove.query.spec import dimensions as D
from grove.query.spec import filters as F
from grove.query.view import TIME, SegmentView
from grove.segment.columns import NumericColumn, StringColumn
from grove.segment.hashing import prefix_keys, utf8_buffers
from grove.segment.segment import Segment

_MAX_CELLS = 1 << 22  # (bucket, value) accumulator cells per segment view before falling back
_LOOKUP_VALUES = 64  # up to this many values are looked up one by one; more walk the sorted dictionary

_NO_LONGS = np.zeros(1, dtype=np.int64)
_NO_DOUBLES = np.zeros(1, dtype=np.float64)


@dataclass(frozen=True)
class RunPlan:
    """A query answered from run totals: its filter's column and values, and what it sums."""

    column: str
    values: tuple[str, ...]  # the filter's values, sorted by UTF-8 bytes and distinct
    value_array: pa.Array  # ``values`` as Arrow strings
    value_keys: np.ndarray  # their prefix keys (see grove.segment.hashing.prefix_keys)
    grouped: bool  # grouped by ``column`` too (one slot per value), or by time alone (one slot)
    aggs: tuple[Aggregation, ...]
    metrics: tuple[tuple[str, bool], ...]  # the summed columns, each with whether summed as doubles
    # Per aggregator: "count", or "long"/"double" and its column among the kernels' long/double sums.
    where: tuple[tuple[str, int], ...]


@dataclass
class RunAnswer:
    """Per (bucket, slot): rows and each aggregator's state, over every segment of the query."""

    buckets: np.ndarray  # sorted bucket starts
    counts: np.ndarray  # (buckets, slots) rows
    states: list[NumState]  # per aggregator, (buckets × slots) flattened bucket-major
    start: int | None  # earliest data start of the views (the timestamp of granularity "all")

    @property
    def has_rows(self) -> np.ndarray:
        """Per bucket: whether any row was added."""
        return np.asarray(self.counts.sum(axis=1) > 0)


def plan_runs(query: Any, dims: Sequence[Any], aggs: Sequence[Aggregation]) -> RunPlan | None:
    """A run plan for a query grouped by ``dims`` (none, or its filter's column) and aggregating
    ``aggs``, or None when the query does not fit."""
    if query.virtual_columns or isinstance(query.granularity, NoneGranularity):
        return None
    f = query.filter
    values: tuple[str, ...]
    # One value or a list of them (what SQL's ``=`` and ``IN`` plan too); null and the empty string,
    # whose matching has its own rules, are left to the per-segment engines.
    if isinstance(f, F.SelectorFilter) and f.extraction_fn is None and f.value:
        column, values = f.dimension, (f.value,)
    elif (
        isinstance(f, F.EqualityFilter)
        and f.match_value_type.upper() == "STRING"
        and isinstance(f.match_value, str)
        and f.match_value
    ):
        column, values = f.column, (f.match_value,)
    elif isinstance(f, F.InFilter) and f.extraction_fn is None and not f.matches_null and "" not in f.values:
        column, values = f.dimension, f.sorted_strings
    else:
        return None
    if column == TIME:
        return None
    if len(dims) > 1 or (
        dims
        and not (
            type(dims[0]) is D.DefaultDimensionSpec
            and dims[0].dimension == column
            and dims[0].output_type == "STRING"
        )
    ):
        return None
    grouped = bool(dims)
    metrics: list[tuple[str, bool]] = []
    where: list[tuple[str, int]] = []
    longs = doubles = 0
    for agg in aggs:
        if isinstance(agg, CountAggregation):
            where.append(("count", 0))
        elif isinstance(agg, NumericAggregation) and agg.op == "sum" and agg.field is not None:
            is_float = agg.kind != "long"
            metrics.append((agg.field, is_float))
            where.append(("double", doubles) if is_float else ("long", longs))
            doubles, longs = doubles + is_float, longs + (not is_float)
        else:
            return None
    value_array = f.sorted_array if isinstance(f, F.InFilter) else pa.array(values, pa.string())
    return RunPlan(
        column,
        values,
        value_array,
        prefix_keys(value_array),
        grouped,
        tuple(aggs),
        tuple(metrics),
        tuple(where),
    )


@dataclass(frozen=True)
class _Prepared:
    """What a plan reads of one segment, gathered the first time and kept with the open segment
    (:meth:`grove.segment.segment.Segment.derived`; the arrays it refers to are counted there)."""

    column: StringColumn
    runs: tuple[np.ndarray, np.ndarray]
    longs: tuple[np.ndarray, ...]  # run totals of the long sums (a placeholder when none)
    doubles: tuple[np.ndarray, ...]  # ... and of the double sums
    # The same per code of the first dimension over the whole segment: rows, longs, doubles.
    by_code: tuple[np.ndarray, tuple[np.ndarray, ...], tuple[np.ndarray, ...]]


def _prepared(plan: RunPlan, segment: Segment) -> _Prepared | None:
    """The segment as the plan reads it, or None when it does not fit: its first dimension is not the
    plan's column or not a single-value string column, a metric is absent, has nulls or is a long
    sum over floats, or its totals cannot be kept."""
    key = ("run totals plan", plan.column, plan.metrics)
    return cast("_Prepared | None", segment.derived(key, lambda: _prepare(plan, segment)))


def _prepare(plan: RunPlan, segment: Segment) -> _Prepared | None:
    dims = segment.schema.dimensions
    col = segment.column(plan.column)
    if not dims or dims[0].name != plan.column or not isinstance(col, StringColumn) or col.multi_value:
        return None
    runs = segment.prefix_runs()
    if runs is None:
        return None
    longs: list[np.ndarray] = []
    doubles: list[np.ndarray] = []
    for name, is_float in plan.metrics:
        num = segment.column(name)
        if not isinstance(num, NumericColumn) or num.nulls is not None:
            return None
        if not is_float and num.values.dtype.kind == "f":
            return None
        totals = run_totals(segment, name, num.values, is_float)
        if totals is None:
            return None
        (doubles if is_float else longs).append(totals)

    def per_code(what: Any, run_values: np.ndarray) -> np.ndarray | None:
        def compute() -> np.ndarray:
            out = np.zeros(col.cardinality, dtype=run_values.dtype)
            K.code_totals(runs[1], run_values, out)
            return out

        return cast("np.ndarray | None", segment.derived(("code totals", plan.column, what), compute))

    names = [m for m in plan.metrics if not m[1]] + [m for m in plan.metrics if m[1]]
    rows = per_code("rows", np.diff(runs[0]))
    code_totals = [per_code(m, t) for m, t in zip(names, [*longs, *doubles], strict=True)]
    if rows is None or any(t is None for t in code_totals):
        return None
    by_longs = tuple(cast("list[np.ndarray]", code_totals[: len(longs)]))
    by_doubles = tuple(cast("list[np.ndarray]", code_totals[len(longs) :]))
    return _Prepared(
        col,
        runs,
        tuple(longs) or (_NO_LONGS,),
        tuple(doubles) or (_NO_DOUBLES,),
        (rows, by_longs or (_NO_LONGS,), by_doubles or (_NO_DOUBLES,)),
    )


def answer(
    plan: RunPlan, segments: Iterable[tuple[Segment, Sequence[SegmentView]]], granularity: Granularity
) -> RunAnswer | None:
    """The query's accumulated answer over ``segments`` (each with its views: the query intervals
    inside it), or None as soon as one segment does not fit (the caller then runs the per-segment
    engines)."""
    slots = len(plan.values) if plan.grouped else 1
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    starts: list[int] = []
    n_longs = sum(1 for _, is_float in plan.metrics if not is_float)
    n_doubles = len(plan.metrics) - n_longs
    for segment, views in segments:
        prep = _prepared(plan, segment)
        if prep is None:
            return None
        wanted, wanted_slots = _slots(plan, prep.column)
        for view in views:
            if view.size == 0 and data_interval(view) is None:
                continue  # no row, and no empty bucket of the segment's data to fill
            whole = view.lo == 0 and view.hi == segment.num_rows
            if whole:
                # The view's buckets depend on the segment and the granularity alone.
                found = segment.derived(("buckets", granularity), partial(bucket_bounds, view, granularity))
                bucket_starts, bounds = found if found is not None else bucket_bounds(view, granularity)
            else:
                bucket_starts, bounds = bucket_bounds(view, granularity)
            if bucket_starts is None or bounds is None or len(bucket_starts) * slots > _MAX_CELLS:
                return None
            nb = len(bucket_starts)
            acc_i = np.zeros((nb, slots, 1 + n_longs), dtype=np.int64)
            acc_f = np.zeros((nb, slots, n_doubles), dtype=np.float64)
            if len(wanted) and view.size:
                if whole and nb == 1:
                    # One bucket over the whole segment (a daily report on day segments): each
                    # value's totals over the segment, one addition per value.
                    rows, longs, doubles = prep.by_code
                    K.fold_codes(wanted, wanted_slots, 0, rows, longs, doubles, acc_i, acc_f)
                else:
                    _fold_runs(segment, view, prep, bounds, wanted, wanted_slots, acc_i, acc_f)
            parts.append((bucket_starts, acc_i, acc_f))
            start = int(segment.time()[0]) if whole else data_start(view)
            if start is not None:
                starts.append(start)
    if not parts:
        return None
    return _combine(plan, parts, min(starts) if starts else None)


def _fold_runs(
    segment: Segment,
    view: SegmentView,
    prep: _Prepared,
    bounds: np.ndarray,
    wanted: np.ndarray,
    wanted_slots: np.ndarray,
    acc_i: np.ndarray,
    acc_f: np.ndarray,
) -> None:
    """Add the wanted runs of the view's buckets (row ``bounds``) from their run totals."""
    runs = prep.runs
    time_rows = segment.time_runs()
    first_runs = time_first_runs(segment, runs)
    lo_run = int(first_runs[np.searchsorted(time_rows, view.lo)])
    hi_run = int(first_runs[np.searchsorted(time_rows, view.hi)])
    search = (len(time_rows) - 1) * len(wanted) * SEARCH_STEPS < hi_run - lo_run
    slot_of_code = _NO_LONGS
    if not search:
        slot_of_code = np.full(prep.column.cardinality, -1, dtype=np.int64)
        slot_of_code[wanted] = wanted_slots
    K.fold_picked_runs(
        bounds, time_rows, first_runs, runs[0], runs[1], wanted, wanted_slots, slot_of_code, search,
        prep.longs, prep.doubles, acc_i, acc_f,
    )  # fmt: skip


def _slots(plan: RunPlan, col: StringColumn) -> tuple[np.ndarray, np.ndarray]:
    """The segment's codes of the plan's values (ascending, as the values are) and each one's slot."""
    if len(plan.values) > _LOOKUP_VALUES:
        # Both sorted: one walk through the dictionary, in order (see match_sorted_strings).
        found = np.empty(len(plan.values), dtype=np.int64)
        K.match_sorted_strings(
            *utf8_buffers(col.dictionary), col.dictionary_keys(),
            *utf8_buffers(plan.value_array), plan.value_keys, found,
        )  # fmt: skip
        found += 1  # code c is dictionary[c - 1]
    elif len(plan.values) == 1:
        code = col.lookup(plan.values[0])
        found = np.array([code], dtype=np.int64)
    else:
        found = col.lookup_many(plan.values)
    slots = np.flatnonzero(found > 0)
    return found[slots], slots if plan.grouped else np.zeros(len(slots), dtype=np.int64)


def _combine(
    plan: RunPlan, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], start: int | None
) -> RunAnswer:
    """Every view's accumulators as one answer: views of distinct buckets side by side, shared
    buckets (granularity ``all``, weeks over day segments) added together."""
    starts = np.concatenate([p[0] for p in parts])
    acc_i = np.concatenate([p[1] for p in parts])
    acc_f = np.concatenate([p[2] for p in parts])
    buckets = starts
    if len(starts) > 1 and not bool((starts[1:] > starts[:-1]).all()):
        # Views sharing buckets, or out of order.
        buckets, inverse = np.unique(starts, return_inverse=True)
        into_i = np.zeros((len(buckets), *acc_i.shape[1:]), dtype=np.int64)
        into_f = np.zeros((len(buckets), *acc_f.shape[1:]), dtype=np.float64)
        np.add.at(into_i, inverse, acc_i)
        np.add.at(into_f, inverse, acc_f)
        acc_i, acc_f = into_i, into_f
    counts = acc_i[:, :, 0]
    flat_counts = counts.reshape(-1)
    states: list[NumState] = []
    for agg, (kind, column) in zip(plan.aggs, plan.where, strict=True):
        if kind == "count":
            states.append(NumState(flat_counts.copy(), np.ones(len(flat_counts), dtype=np.int64)))
            continue
        assert isinstance(agg, NumericAggregation)
        values = acc_f[:, :, column] if kind == "double" else acc_i[:, :, 1 + column]
        states.append(NumState(values.reshape(-1).astype(agg.dtype()), flat_counts.copy()))
    return RunAnswer(buckets, counts, states, start)


def take_states(answer: RunAnswer, cells: np.ndarray) -> list[State]:
    """The answer's states at ``cells`` (flat bucket-major (bucket, slot) indexes)."""
    return [NumState(s.values[cells], s.counts[cells]) for s in answer.states]


def value_array(plan: RunPlan, slots: np.ndarray) -> pa.Array:
    """The plan's values at ``slots``, as the group keys of a groupBy."""
    return plan.value_array.take(pa.array(slots, pa.int64()))
