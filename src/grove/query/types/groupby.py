"""groupBy: aggregates per (time bucket, dimension values).

Result rows are ``{"version": "v1", "timestamp": "...", "event": {...}}`` (or arrays with
``context.resultAsArray``). Without a ``limitSpec`` ordering, rows come ordered by time then by the
dimensions in query order, as in Druid. ``having`` filters rows after post-aggregation;
``subtotalsSpec`` adds one block of rows per listed dimension subset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import model_validator

from grove.common.granularity import AllGranularity
from grove.common.jsonout import dumps
from grove.common.models import GranularityField, NonEmptyStr, spec_error
from grove.common.time import format_timestamps
from grove.errors import InvalidQuery
from grove.query import runtotals
from grove.query.aggregation import Aggregation, Finalized, State, build_aggregations
from grove.query.arrow_source import ArrowColumns
from grove.query.base import BaseQuery
from grove.query.common import combine_keyed, data_start, records, selection_of, stamp, time_buckets
from grove.query.expression.values import java_double_strings
from grove.query.fastpath import FastPlan, plan_query, run_fast
from grove.query.filters import FilterEngine
from grove.query.grouping import dimension_codes, group_rows
from grove.query.jsonwriter import (
    JsonColumn,
    constant_column,
    number_column,
    string_column,
    string_pieces,
    write_rows,
)
from grove.query.ordering import sort_keys
from grove.query.postaggregation import apply_post_aggregations, post_aggregator_names
from grove.query.registry import SegmentContext, Toolchest, register
from grove.query.selection import Selection
from grove.query.spec import having as H
from grove.query.spec.aggregators import Aggregator
from grove.query.spec.dimensions import DimensionSpec
from grove.query.spec.filters import SelectorFilter
from grove.query.spec.having import HavingSpec
from grove.query.spec.limit import LimitSpec
from grove.query.spec.postaggregators import PostAggregator
from grove.query.view import SegmentView
from grove.segment.segment import Segment

TIME_KEY = "__time"
# Answers with at least this many rows leave as JSON written from their columns (see finalize_json).
_JSON_COLUMNS_MIN_ROWS = 1000


class GroupByQuery(BaseQuery):
    query_type: Literal["groupBy"]
    granularity: GranularityField = AllGranularity()
    dimensions: tuple[DimensionSpec, ...] = ()
    aggregations: tuple[Aggregator, ...] = ()
    post_aggregations: tuple[PostAggregator, ...] = ()
    limit_spec: LimitSpec | None = None
    having: HavingSpec | None = None
    subtotals_spec: tuple[tuple[NonEmptyStr, ...], ...] | None = None

    @model_validator(mode="after")
    def _check_output_names(self) -> GroupByQuery:
        # Druid refuses a name used twice among dimensions, aggregators and post-aggregators: one column
        # would silently hide the other in every row.
        seen: set[str] = set()
        named: list[tuple[str, str | None]] = [
            (f"dimensions[{i}].outputName", d.output_name) for i, d in enumerate(self.dimensions)
        ]
        named += [
            (f"aggregations[{i}].name", getattr(a, "name", None)) for i, a in enumerate(self.aggregations)
        ]
        named += [
            (f"postAggregations[{i}].name", getattr(p, "name", None))
            for i, p in enumerate(self.post_aggregations)
        ]
        for field, name in named:
            if name is None:
                continue
            if name in seen:
                raise spec_error(f"Duplicate output name [{name}]", field=field)
            seen.add(name)
        return self


@dataclass
class KeyedPartial:
    """Group keys (``__time`` bucket plus one column per dimension output name) and states."""

    keys: pa.Table
    states: list[State]
    start: int | None = None  # earliest interval start seen (the timestamp of granularity "all")
    #: rows already in the default order (time, then the dimensions ascending), as run totals give
    #: them: without a limitSpec, finalize need not sort
    ordered: bool = False


def process_keyed(
    query: Any,
    views: Sequence[SegmentView],
    dims: Sequence[Any],
    aggs: Sequence[Aggregation],
    plan: FastPlan | None = None,
) -> KeyedPartial:
    """Group each view's selected rows by time bucket and ``dims``; aggregate; merge the views.

    With a fast ``plan`` each view is first tried on the fast path (:mod:`grove.query.fastpath`).
    """
    parts = []
    for view in views:
        fast = run_fast(plan, view, query.granularity) if plan is not None else None
        if fast is not None:
            columns = {TIME_KEY: pa.array(fast.buckets[fast.group_bucket], pa.int64())}
            for spec, codes, values in zip(dims, fast.group_codes, fast.dim_values, strict=True):
                columns[spec.output_name] = values.take(pa.array(codes))
            parts.append(KeyedPartial(pa.table(columns), fast.states, data_start(view)))
            continue
        rows_idx, count = selection_of(view, view.select(query.filter))
        if count == 0:
            continue
        base = Selection(rows_idx, view.lo, view.hi, np.zeros(count, dtype=np.int64), 1)
        starts = time_buckets(view, rows_idx, query.granularity)
        buckets, bucket_codes = np.unique(starts, return_inverse=True)
        keys = [dimension_codes(spec, view, base) for spec in dims]
        grouped = group_rows(
            base, keys, bucket=bucket_codes.astype(np.int64), bucket_values=pa.array(buckets)
        )
        columns = {TIME_KEY: grouped.key_values[0].take(pa.array(grouped.key_codes[0]))}
        for spec, codes, values in zip(dims, grouped.key_codes[1:], grouped.key_values[1:], strict=True):
            columns[spec.output_name] = values.take(pa.array(codes))
        states = [agg.aggregate(view, grouped.selection) for agg in aggs]
        parts.append(KeyedPartial(pa.table(columns), states, data_start(view)))
    return merge_keyed(aggs, parts)


def merge_keyed(aggs: Sequence[Aggregation], parts: Sequence[KeyedPartial]) -> KeyedPartial:
    starts = [p.start for p in parts if p.start is not None]
    start = min(starts) if starts else None
    parts = [p for p in parts if p.keys.num_rows]
    if len(parts) == 1:
        return KeyedPartial(parts[0].keys, parts[0].states, start, parts[0].ordered)
    if not parts:
        return KeyedPartial(pa.table({TIME_KEY: pa.array([], pa.int64())}), [a.empty(0) for a in aggs], start)
    buckets = [_buckets(p.keys) for p in parts]
    if sum(len(b) for b in buckets) == len(set().union(*buckets)):
        # Parts of different time buckets (segments of different days for a daily report) share no
        # key: they are put one after the other instead of matched.
        keys = pa.concat_tables([p.keys for p in parts], promote_options="permissive")
        sizes = [p.keys.num_rows for p in parts]
        states = [agg.concat([p.states[i] for p in parts], sizes) for i, agg in enumerate(aggs)]
        return KeyedPartial(keys, states, start)
    keys, states = combine_keyed(aggs, [p.keys for p in parts], [p.states for p in parts])
    return KeyedPartial(keys, states, start)


def _buckets(keys: pa.Table) -> set[int]:
    """The time buckets of a partial's keys."""
    times = keys.column(TIME_KEY)
    return (
        set(np.unique(times.to_numpy()).tolist())
        if times.num_chunks == 1
        else set(pc.unique(times).to_pylist())
    )


def evaluate_having(having: Any, columns: dict[str, list[Any]], n: int) -> np.ndarray:
    """Rows passing a having spec, evaluated on the finalized result columns."""
    if isinstance(having, H.AlwaysHaving):
        return np.ones(n, dtype=bool)
    if isinstance(having, H.NeverHaving):
        return np.zeros(n, dtype=bool)
    if isinstance(having, H.AndHaving):
        out = np.ones(n, dtype=bool)
        for h in having.having_specs:
            out &= evaluate_having(h, columns, n)
        return out
    if isinstance(having, H.OrHaving):
        out = np.zeros(n, dtype=bool)
        for h in having.having_specs:
            out |= evaluate_having(h, columns, n)
        return out
    if isinstance(having, H.NotHaving):
        return ~evaluate_having(having.having_spec, columns, n)
    if isinstance(having, H.GreaterThanHaving | H.LessThanHaving | H.EqualToHaving):
        if having.aggregation not in columns:
            raise InvalidQuery(
                f"having refers to unknown column [{having.aggregation}]", "having.aggregation"
            )
        vals = np.array(
            [np.nan if v is None else float(v) for v in columns[having.aggregation]], dtype=np.float64
        )
        with np.errstate(invalid="ignore"):
            if isinstance(having, H.GreaterThanHaving):
                return vals > having.value
            if isinstance(having, H.LessThanHaving):
                return vals < having.value
            return vals == having.value
    if isinstance(having, H.DimSelectorHaving | H.FilterHaving):
        table = pa.table({k: pa.array(v) for k, v in columns.items()}) if columns else pa.table({})
        source = ArrowColumns.of_table(table)
        f = (
            having.filter
            if isinstance(having, H.FilterHaving)
            else SelectorFilter(
                dimension=having.dimension, value=having.value, extraction_fn=having.extraction_fn
            )
        )
        engine = FilterEngine(
            source, expression_matcher=source.expression_matcher("having.filter.expression")
        )
        return engine.rows(f).mask()
    raise InvalidQuery(f"Unsupported having type [{getattr(having, 'type', having)}]")


def order_rows(
    columns: _Columns, times: np.ndarray, query: GroupByQuery, n: int, ordered: bool = False
) -> np.ndarray:
    """Row order as Druid's DefaultLimitSpec sorts: time first (the limitSpec columns first with
    ``context.sortByDimsFirst``), then the limitSpec columns, stably over the default order (time,
    then the dimensions ascending). Dimensions compare as text under their ``dimensionOrder``;
    aggregators and post-aggregators compare as numbers, nulls first (last when descending).
    ``ordered``: the rows are in the default order already.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if ordered and (query.limit_spec is None or not query.limit_spec.columns):
        return np.arange(n, dtype=np.int64)
    dims = {spec.output_name for spec in query.dimensions}
    limit_cols: list[np.ndarray] = []
    limit = query.limit_spec
    if limit is not None:
        for col in limit.columns:
            if col.dimension not in columns:
                raise InvalidQuery(
                    f"limitSpec orders by unknown column [{col.dimension}]", "limitSpec.columns"
                )
            values = columns.arrow(col.dimension)
            descending = col.direction == "descending"
            if col.dimension in dims:
                limit_cols.append(sort_keys(_as_text(values), col.dimension_order, descending=descending))
            else:
                numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
                ordering = "numeric" if numeric or pa.types.is_null(values.type) else "lexicographic"
                limit_cols.append(sort_keys(values, ordering, descending=descending))
    if query.context_bool("sortByDimsFirst"):
        sort_cols = [*limit_cols, times]
    else:
        sort_cols = [times, *limit_cols]
    for spec in query.dimensions:
        sort_cols.append(sort_keys(columns.arrow(spec.output_name), "lexicographic"))
    return np.lexsort(tuple(reversed(sort_cols)))


def _as_text(values: pa.Array) -> pa.Array:
    """Dimension values as the strings Druid's limitSpec compares (numbers in Java's notation)."""
    if pa.types.is_floating(values.type):
        return java_double_strings(values)
    if pa.types.is_integer(values.type):
        return values.cast(pa.large_string())
    return values


class GroupByToolchest(Toolchest[GroupByQuery]):
    query_type = "groupBy"
    splittable = True
    model = GroupByQuery

    def process(
        self, query: GroupByQuery, views: Sequence[SegmentView], ctx: SegmentContext
    ) -> list[KeyedPartial]:
        """One keyed partial per result block: the query's dimensions, or each subtotal's subset.

        Each subtotal groups the segment's rows afresh, so a row with several values of a
        multi-value dimension that a subtotal leaves out still counts once there.
        """
        aggs, plans, _ = ctx.prepared if ctx.prepared is not None else self.prepare(query)
        return [
            process_keyed(query, views, dims, aggs, plan)
            for dims, plan in zip(_blocks(query), plans, strict=True)
        ]

    def prepare(
        self, query: GroupByQuery
    ) -> tuple[list[Aggregation], list[FastPlan | None], runtotals.RunPlan | None]:
        aggs = build_aggregations(query.aggregations)
        plans = [plan_query(query, dims, aggs) for dims in _blocks(query)]
        single = len(plans) == 1  # no subtotals
        return aggs, plans, runtotals.plan_runs(query, query.dimensions, aggs) if single else None

    def process_all(
        self,
        query: GroupByQuery,
        prepared: tuple[list[Aggregation], list[FastPlan | None], runtotals.RunPlan | None],
        segments: Iterable[tuple[Segment, Sequence[SegmentView]]],
    ) -> list[KeyedPartial] | None:
        plan = prepared[2]
        found = runtotals.answer(plan, segments, query.granularity) if plan is not None else None
        if found is None or plan is None:
            return None
        # The groups are the (bucket, value) cells that hold rows, in time then value order.
        cells = np.flatnonzero(found.counts.reshape(-1))
        slots = found.counts.shape[1]
        columns = {TIME_KEY: pa.array(found.buckets[cells // slots], pa.int64())}
        if plan.grouped:
            columns[query.dimensions[0].output_name] = runtotals.value_array(plan, cells % slots)
        return [
            KeyedPartial(pa.table(columns), runtotals.take_states(found, cells), found.start, ordered=True)
        ]

    def merge(self, query: GroupByQuery, partials: Sequence[list[KeyedPartial]]) -> list[KeyedPartial]:
        aggs = build_aggregations(query.aggregations)
        blocks = _blocks(query)
        return [merge_keyed(aggs, [p[i] for p in partials]) for i in range(len(blocks))]

    def finalize(self, query: GroupByQuery, merged: list[KeyedPartial]) -> list[Any]:
        aggs = build_aggregations(query.aggregations)
        post_aggregator_names(query.post_aggregations)
        out: list[Any] = []
        for part in merged:
            out.extend(self._rows(query, self._frame(query, aggs, _with_all_dimensions(query, part))))
        return out

    def finalize_json(self, query: GroupByQuery, merged: list[KeyedPartial]) -> bytes | memoryview | None:
        """The answer as JSON bytes: a block of 1,000 rows or more is written from its columns
        (:mod:`grove.query.jsonwriter`), a smaller one (or one with a column the writer does not
        take, such as objects) is built as rows and encoded. None with ``resultAsArray``, whose rows
        the caller encodes from ``finalize``."""
        if query.context_bool("resultAsArray"):
            return None
        aggs = build_aggregations(query.aggregations)
        post_aggregator_names(query.post_aggregations)
        blocks = []
        for part in merged:
            frame = self._frame(query, aggs, _with_all_dimensions(query, part))
            # A few rows are quicker to build and encode than to lay out from columns.
            text = _frame_json(query, frame) if len(frame.order) >= _JSON_COLUMNS_MIN_ROWS else None
            blocks.append(text if text is not None else dumps(self._rows(query, frame)))
        if len(blocks) == 1:
            return blocks[0]
        return b"[" + b",".join(b[1:-1] for b in blocks if len(b) > 2) + b"]"

    def _rows(self, query: GroupByQuery, frame: _Frame) -> list[Any]:
        order, times, names = frame.order, frame.times, frame.names
        stamps = format_timestamps(times[order], query.granularity.tz) if len(order) else []
        # Rows are assembled column-wise: reorder each column once, then zip (per-row work in C).
        picked = [frame.columns.ordered(name, order) for name in names]
        if query.context_bool("resultAsArray"):
            if not isinstance(query.granularity, AllGranularity):
                picked.insert(0, times[order].tolist())
            return [list(row) for row in zip(*picked, strict=True)] if picked else [[] for _ in order]
        return records(names, picked, stamps)

    def _frame(self, query: GroupByQuery, aggs: Sequence[Aggregation], part: KeyedPartial) -> _Frame:
        """The block's result columns, and the order (with having, offset and limit applied) of its rows."""
        n = part.keys.num_rows
        times = part.keys.column(TIME_KEY).to_numpy() if n else np.zeros(0, np.int64)
        # groupBy stamps granularity "all" with the start of its first interval (Druid's
        # "universal timestamp"), unlike timeseries/topN, which use the first row's time.
        times = stamp(times, query.granularity, query.condensed_intervals[0].start)
        finals = apply_post_aggregations(aggs, part.states, query.post_aggregations, n)
        columns = _Columns(part.keys, [d.output_name for d in query.dimensions], finals, n)
        keep = np.ones(n, dtype=bool)
        if query.having is not None:
            keep = evaluate_having(query.having, columns.lists(), n)
        order = order_rows(columns, times, query, n, part.ordered)
        order = order[keep[order]]
        limit = query.limit_spec
        if limit is not None:
            order = order[limit.offset :]
            if limit.limit is not None:
                order = order[: limit.limit]
        names = [d.output_name for d in query.dimensions] + list(finals)
        return _Frame(part, times, finals, columns, order, names)


class _Columns:
    """A block's output columns (dimensions, then aggregators and post-aggregators), before ordering:
    as Python lists (for having and for building rows) or Arrow arrays (for ordering), each made when
    first asked for, so that an answer written as JSON never builds the lists."""

    def __init__(self, keys: pa.Table, dims: list[str], finals: dict[str, Finalized], n: int) -> None:
        self.keys = keys
        self.dims = dims
        self.finals = finals
        self.n = n
        self._lists: dict[str, list[Any]] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.finals or name in self.dims

    def py(self, name: str) -> list[Any]:
        found = self._lists.get(name)
        if found is None:
            fin = self.finals.get(name)
            if fin is not None:
                found = fin.to_list()
            elif name in self.keys.column_names:
                found = self.keys.column(name).to_pylist()
            else:
                found = [None] * self.n
            self._lists[name] = found
        return found

    def ordered(self, name: str, order: np.ndarray) -> list[Any]:
        """Column ``name`` as a Python list in ``order``: numbers reordered as arrays, before they
        become Python objects."""
        fin = self.finals.get(name)
        if name not in self._lists and fin is not None and isinstance(fin.values, np.ndarray):
            return fin.take(order).to_list()
        return _reorder(self.py(name), order)

    def arrow(self, name: str) -> pa.Array:
        fin = self.finals.get(name)
        if fin is None and name in self.keys.column_names:
            return self.keys.column(name).combine_chunks()
        if fin is not None and isinstance(fin.values, np.ndarray) and fin.values.dtype.kind in "iuf":
            return pa.array(fin.values, mask=fin.nulls)
        return pa.array(self.py(name))

    def lists(self) -> dict[str, list[Any]]:
        return {name: self.py(name) for name in [*self.dims, *self.finals]}


@dataclass
class _Frame:
    part: KeyedPartial
    times: np.ndarray  # bucket start of each row (before ordering)
    finals: dict[str, Finalized]
    columns: _Columns
    order: np.ndarray  # the rows to write, in order
    names: list[str]


def _frame_json(query: GroupByQuery, frame: _Frame) -> bytes | memoryview | None:
    order = frame.order
    n = len(order)
    keys = frame.part.keys
    names = frame.names
    # What follows each value in a row: the next output name's key, or the end of the row.
    after = iter([*(b"," + orjson.dumps(name) + b":" for name in names[1:]), b"}}"])
    columns: list[JsonColumn] = []
    try:
        for spec in query.dimensions:
            name = spec.output_name
            suffix = next(after)
            if name not in keys.column_names:
                columns.append(constant_column(b"null" + suffix, n))
                continue
            values = keys.column(name).take(pa.array(order))
            if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                columns.append(string_column(values, suffix))
            elif pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
                nulls = values.is_null().to_numpy(zero_copy_only=False) if values.null_count else None
                filled = values.fill_null(0) if values.null_count else values
                columns.append(number_column(filled.to_numpy(zero_copy_only=False), nulls, suffix))
            else:
                return None
        for fin in frame.finals.values():
            if isinstance(fin.values, list):
                return None
            nulls = fin.nulls[order] if fin.nulls is not None else None
            columns.append(number_column(fin.values[order], nulls, next(after)))
    except TypeError:  # a column of values orjson writes differently (objects): the row path
        return None
    bucket_starts, bucket_of_row = np.unique(frame.times[order], return_inverse=True)
    stamps = format_timestamps(bucket_starts, query.granularity.tz) if n else []
    event = b',"event":{' + (orjson.dumps(names[0]) + b":" if names else b"}}")
    stamp_column = JsonColumn(string_pieces(stamps, event), bucket_of_row.astype(np.int64))
    return write_rows(b'{"version":"v1","timestamp":', [stamp_column, *columns], n)


def _reorder(values: list[Any], order: np.ndarray) -> list[Any]:
    if len(order) == len(values) and (len(order) == 0 or bool((order == np.arange(len(order))).all())):
        return values
    getter = values.__getitem__
    return list(map(getter, order.tolist()))


def _blocks(query: GroupByQuery) -> list[list[Any]]:
    """The dimension specs of each result block, in query order."""
    if query.subtotals_spec is None:
        return [list(query.dimensions)]
    known = {d.output_name for d in query.dimensions}
    blocks = []
    for i, sub in enumerate(query.subtotals_spec):
        for name in sub:
            if name not in known:
                raise InvalidQuery(
                    f"subtotalsSpec names unknown dimension [{name}] at subtotalsSpec[{i}]",
                    f"subtotalsSpec[{i}]",
                )
        wanted = set(sub)
        blocks.append([d for d in query.dimensions if d.output_name in wanted])
    return blocks


def _with_all_dimensions(query: GroupByQuery, part: KeyedPartial) -> KeyedPartial:
    """Dimensions a subtotal leaves out appear as null columns."""
    missing = [d.output_name for d in query.dimensions if d.output_name not in part.keys.column_names]
    if not missing:
        return part
    keys = part.keys
    for name in missing:
        keys = keys.append_column(name, pa.nulls(keys.num_rows, pa.large_string()))
    return KeyedPartial(keys, part.states, part.start)


register(GroupByToolchest())
