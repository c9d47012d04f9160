"""timeBoundary: the earliest and latest event times of a datasource, optionally under a filter.

Result: ``[{"timestamp": ..., "result": {"minTime": ..., "maxTime": ...}}]`` with ISO-8601 times; the
timestamp is ``minTime`` (``maxTime`` when ``bound`` is ``maxTime``). ``bound`` ``minTime`` or
``maxTime`` (any case, as Druid compares it) keeps only that side; any other value returns both. No
matching row (an empty datasource or interval, or a filter that selects nothing) gives ``[]``.
``intervals`` defaults to all of time.

Without a filter no row is read: a segment's bounds come from its metadata (the footer of persisted
segments) whenever the query interval covers them, and otherwise from the first and last row of the
interval's row range. With a filter, the first and last selected row of each segment give the bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from grove.common.intervals import Interval
from grove.common.models import Str
from grove.common.time import format_timestamp
from grove.query.base import BaseQuery, Intervals
from grove.query.registry import SegmentContext, Toolchest, register
from grove.query.rows import Rows
from grove.query.view import SegmentView
from grove.segment.segment import Segment

MIN_TIME = "minTime"
MAX_TIME = "maxTime"


class TimeBoundaryQuery(BaseQuery):
    """Druid's timeBoundary query."""

    query_type: Literal["timeBoundary"]
    intervals: Intervals = (Interval.eternity(),)
    bound: Str | None = None

    @property
    def wants_min(self) -> bool:
        return (self.bound or "").lower() != MAX_TIME.lower()

    @property
    def wants_max(self) -> bool:
        return (self.bound or "").lower() != MIN_TIME.lower()


@dataclass(frozen=True)
class TimeBounds:
    """Earliest and latest time seen (epoch ms), None when no row was seen."""

    min: int | None = None
    max: int | None = None

    def union(self, other: TimeBounds) -> TimeBounds:
        lows = [t for t in (self.min, other.min) if t is not None]
        highs = [t for t in (self.max, other.max) if t is not None]
        return TimeBounds(min(lows) if lows else None, max(highs) if highs else None)


def view_bounds(segment: Segment, views: Sequence[SegmentView]) -> TimeBounds:
    """Bounds of all rows of ``views`` (one segment), from metadata where the views cover them."""
    low, high = segment.min_time, segment.max_time
    if low is None or high is None:
        return TimeBounds()
    bounds = TimeBounds()
    for view in views:
        if view.size == 0:
            continue
        first = low if view.interval.contains_instant(low) else int(segment.time()[view.lo])
        last = high if view.interval.contains_instant(high) else int(segment.time()[view.hi - 1])
        bounds = bounds.union(TimeBounds(first, last))
    return bounds


def _selected_bounds(view: SegmentView, rows: Rows) -> TimeBounds:
    if rows.is_empty():
        return TimeBounds()
    if rows.is_bitmap and rows.lo <= rows.bitmap().min() and rows.bitmap().max() < rows.hi:
        first, last = int(rows.bitmap().min()), int(rows.bitmap().max())
    elif rows.is_bitmap:
        idx = rows.indices()
        first, last = int(idx[0]), int(idx[-1])
    else:
        mask = rows.mask()
        first = rows.lo + int(np.argmax(mask))
        last = rows.lo + len(mask) - 1 - int(np.argmax(mask[::-1]))
    time = view.segment.time()
    return TimeBounds(int(time[first]), int(time[last]))


class TimeBoundaryToolchest(Toolchest[TimeBoundaryQuery]):
    """Partials are :class:`TimeBounds`."""

    query_type = "timeBoundary"
    model = TimeBoundaryQuery

    def process(
        self, query: TimeBoundaryQuery, views: Sequence[SegmentView], ctx: SegmentContext
    ) -> TimeBounds:
        if query.filter is None:
            return view_bounds(ctx.segment, views)
        bounds = TimeBounds()
        for view in views:
            bounds = bounds.union(_selected_bounds(view, view.select(query.filter)))
        return bounds

    def merge(self, query: TimeBoundaryQuery, partials: Sequence[TimeBounds]) -> TimeBounds:
        out = TimeBounds()
        for part in partials:
            out = out.union(part)
        return out

    def needs_rows(self, query: TimeBoundaryQuery) -> bool:
        return query.filter is not None

    def finalize(self, query: TimeBoundaryQuery, merged: TimeBounds) -> list[Any]:
        if merged.min is None or merged.max is None:
            return []
        result: dict[str, str] = {}
        if query.wants_min:
            result[MIN_TIME] = format_timestamp(merged.min)
        if query.wants_max:
            result[MAX_TIME] = format_timestamp(merged.max)
        stamp = merged.max if not query.wants_min else merged.min
        return [{"timestamp": format_timestamp(stamp), "result": result}]


register(TimeBoundaryToolchest())
