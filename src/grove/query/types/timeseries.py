"""timeseries: aggregates per time bucket.

Result: ``[{"timestamp": "...", "result": {name: value, ...}}, ...]`` in time order (or reversed with
``descending``). Empty buckets inside the data interval are filled with each aggregator's empty value
(null for sums, 0 for counts) unless ``context.skipEmptyBuckets``; ``context.grandTotal`` appends a
row without timestamp that aggregates every bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from grove.common.granularity import AllGranularity
from grove.common.models import GranularityField, PositiveInt
from grove.common.time import format_timestamps
from grove.query import runtotals
from grove.query.aggregation import Aggregation, State, build_aggregations
from grove.query.base import BaseQuery, LenientBool
from grove.query.common import ALL_BUCKET, data_start, selection_of, stamp, time_buckets, view_buckets
from grove.query.fastpath import FastPlan, plan_query, run_fast
from grove.query.postaggregation import apply_post_aggregations, post_aggregator_names
from grove.query.registry import SegmentContext, Toolchest, register
from grove.query.selection import Selection
from grove.query.spec.aggregators import Aggregator
from grove.query.spec.postaggregators import PostAggregator
from grove.query.view import SegmentView
from grove.segment.segment import Segment


class TimeseriesQuery(BaseQuery):
    query_type: Literal["timeseries"]
    granularity: GranularityField = AllGranularity()
    descending: LenientBool = False
    aggregations: tuple[Aggregator, ...] = ()
    post_aggregations: tuple[PostAggregator, ...] = ()
    limit: PositiveInt | None = None


@dataclass
class TimeseriesPartial:
    """Buckets (sorted starts), per-aggregator states over them, and which buckets had rows."""

    buckets: np.ndarray
    states: list[State]
    has_rows: np.ndarray
    start: int | None = None  # earliest interval start seen (the timestamp of granularity "all")


class TimeseriesToolchest(Toolchest[TimeseriesQuery]):
    query_type = "timeseries"
    splittable = True
    model = TimeseriesQuery

    def process(
        self, query: TimeseriesQuery, views: Sequence[SegmentView], ctx: SegmentContext
    ) -> TimeseriesPartial:
        aggs, plan, _ = ctx.prepared if ctx.prepared is not None else self.prepare(query)
        parts = []
        for view in views:
            fast = run_fast(plan, view, query.granularity, all_groups=True) if plan is not None else None
            if fast is not None:
                parts.append(TimeseriesPartial(fast.buckets, fast.states, fast.has_rows, data_start(view)))
                continue
            rows_idx, _ = selection_of(view, view.select(query.filter))
            starts = time_buckets(view, rows_idx, query.granularity)
            filled = view_buckets(view, query.granularity)
            all_buckets = np.union1d(filled, starts) if len(starts) else filled
            groups = np.searchsorted(all_buckets, starts)
            sel = Selection(rows_idx, view.lo, view.hi, groups.astype(np.int64), len(all_buckets))
            states = [agg.aggregate(view, sel) for agg in aggs]
            has_rows = np.bincount(groups, minlength=len(all_buckets)) > 0
            parts.append(TimeseriesPartial(all_buckets, states, has_rows, data_start(view)))
        return self.merge(query, parts)

    def prepare(
        self, query: TimeseriesQuery
    ) -> tuple[list[Aggregation], FastPlan | None, runtotals.RunPlan | None]:
        aggs = build_aggregations(query.aggregations)
        plan = plan_query(query, [], aggs)
        return aggs, plan, runtotals.plan_runs(query, [], aggs)

    def process_all(
        self,
        query: TimeseriesQuery,
        prepared: tuple[list[Aggregation], FastPlan | None, runtotals.RunPlan | None],
        segments: Iterable[tuple[Segment, Sequence[SegmentView]]],
    ) -> TimeseriesPartial | None:
        plan = prepared[2]
        found = runtotals.answer(plan, segments, query.granularity) if plan is not None else None
        if found is None:
            return None
        return TimeseriesPartial(found.buckets, list(found.states), found.has_rows, found.start)

    def merge(self, query: TimeseriesQuery, partials: Sequence[TimeseriesPartial]) -> TimeseriesPartial:
        if len(partials) == 1:
            return partials[0]
        aggs = build_aggregations(query.aggregations)
        if not partials:
            return TimeseriesPartial(np.zeros(0, np.int64), [a.empty(0) for a in aggs], np.zeros(0, bool))
        buckets = np.unique(np.concatenate([p.buckets for p in partials]))
        remaps = [np.searchsorted(buckets, p.buckets) for p in partials]
        states = [
            agg.combine([p.states[i] for p in partials], remaps, len(buckets)) for i, agg in enumerate(aggs)
        ]
        has_rows = np.zeros(len(buckets), dtype=bool)
        for p, remap in zip(partials, remaps, strict=True):
            np.logical_or.at(has_rows, remap, p.has_rows)
        starts = [p.start for p in partials if p.start is not None]
        return TimeseriesPartial(buckets, states, has_rows, min(starts) if starts else None)

    def finalize(self, query: TimeseriesQuery, merged: TimeseriesPartial) -> list[Any]:
        aggs = build_aggregations(query.aggregations)
        post_aggregator_names(query.post_aggregations)
        skip_empty = query.context_bool("skipEmptyBuckets")
        if isinstance(query.granularity, AllGranularity) and len(merged.buckets) == 0 and not skip_empty:
            # Like Druid, granularity "all" answers one row of empty aggregates even when no segment
            # has rows, stamped with the start of the first interval (so COUNT(*) is 0, not nothing).
            merged = TimeseriesPartial(
                np.array([ALL_BUCKET], dtype=np.int64),
                [agg.empty(1) for agg in aggs],
                np.zeros(1, dtype=bool),
                query.condensed_intervals[0].start,
            )
        keep = np.arange(len(merged.buckets))
        if skip_empty:
            keep = keep[merged.has_rows]
        if query.descending:
            keep = keep[::-1]
        if query.limit is not None:
            keep = keep[: query.limit]
        states = [agg.take(st, keep) for agg, st in zip(aggs, merged.states, strict=True)]
        columns = apply_post_aggregations(aggs, states, query.post_aggregations, len(keep))
        values = {name: col.to_list() for name, col in columns.items()}
        stamps = format_timestamps(
            stamp(merged.buckets[keep], query.granularity, merged.start), query.granularity.tz
        )
        out: list[Any] = [
            {"timestamp": stamps[i], "result": {name: vals[i] for name, vals in values.items()}}
            for i in range(len(keep))
        ]
        if query.context_bool("grandTotal"):
            total = [
                agg.combine([st], [np.zeros(len(merged.buckets), dtype=np.int64)], 1)
                for agg, st in zip(aggs, merged.states, strict=True)
            ]
            cols = apply_post_aggregations(aggs, total, query.post_aggregations, 1)
            out.append({"timestamp": None, "result": {name: col.to_list()[0] for name, col in cols.items()}})
        return out


register(TimeseriesToolchest())
