"""Pieces shared by the aggregating query types (timeseries, topN, groupBy)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.common.granularity import AllGranularity, Granularity, NoneGranularity
from grove.common.intervals import Interval
from grove.query.aggregation import Aggregation, State
from grove.query.rows import Rows
from grove.query.selection import Selection
from grove.query.view import SegmentView


def selection_of(view: SegmentView, rows: Rows) -> tuple[np.ndarray | None, int]:
    """Selected rows as an index array (None when every row of the view is selected)."""
    if rows.is_full():
        return None, view.size
    idx = rows.indices()
    return idx, len(idx)


ALL_BUCKET = 0
"""The single bucket of granularity ``all``; results stamp it with the earliest interval start."""


def time_buckets(view: SegmentView, rows_idx: np.ndarray | None, granularity: Granularity) -> np.ndarray:
    """The bucket start of each selected row (:data:`ALL_BUCKET` for granularity ``all``)."""
    if isinstance(granularity, AllGranularity):
        n = view.size if rows_idx is None else len(rows_idx)
        return np.full(n, ALL_BUCKET, dtype=np.int64)
    times = view.time() if rows_idx is None else view.segment.time()[rows_idx]
    return granularity.bucket_starts(times)


def data_interval(view: SegmentView) -> Interval | None:
    """The view's interval clipped to the segment's first and last row (None when they miss it).

    Druid's cursors cover only this part of a query interval: a timeseries fills the empty buckets
    inside it, not those "completely outside the data interval" (timeseriesquery.md), and granularity
    ``all`` stamps its one bucket with its start (topN/timeseries timestamps are the first row's time
    when the query starts earlier).
    """
    times = view.segment.time()
    if len(times) == 0:
        return None
    start = max(view.interval.start, int(times[0]))
    end = min(view.interval.end, int(times[-1]) + 1)
    return Interval(start, end) if start < end else None


def data_start(view: SegmentView) -> int | None:
    """Start of :func:`data_interval` (the timestamp of granularity ``all`` for this view)."""
    iv = data_interval(view)
    return None if iv is None else iv.start


def view_buckets(view: SegmentView, granularity: Granularity, limit: int = 1_000_000) -> np.ndarray:
    """Every bucket start of the view's data interval (the buckets a timeseries fills when empty)."""
    data = data_interval(view)
    if data is None or isinstance(granularity, NoneGranularity):
        return np.zeros(0, dtype=np.int64)
    if isinstance(granularity, AllGranularity):
        return np.array([ALL_BUCKET], dtype=np.int64)
    out = []
    for iv in granularity.iterate(data):
        out.append(iv.start)
        if len(out) > limit:
            break
    return np.asarray(out, dtype=np.int64)


def stamp(buckets: np.ndarray, granularity: Granularity, start: int | None) -> np.ndarray:
    """Bucket starts as result timestamps: granularity ``all`` uses the earliest interval start."""
    if isinstance(granularity, AllGranularity):
        return np.full(len(buckets), start if start is not None else 0, dtype=np.int64)
    return buckets


def aggregate_groups(aggs: Sequence[Aggregation], view: SegmentView, sel: Selection) -> list[State]:
    return [agg.aggregate(view, sel) for agg in aggs]


def combine_keyed(
    aggs: Sequence[Aggregation], keys_list: Sequence[pa.Table], states_list: Sequence[Sequence[State]]
) -> tuple[pa.Table, list[State]]:
    """Merge partial results keyed by the rows of Arrow tables (same columns): union the keys, combine."""
    if not keys_list:
        return pa.table({}), [agg.empty(0) for agg in aggs]
    all_keys = pa.concat_tables(keys_list, promote_options="permissive")
    n = all_keys.num_rows
    if all_keys.num_columns == 0:
        ids = np.zeros(n, dtype=np.int64)
        num = 1 if n else 0
        uniq_table = pa.table({})
    else:
        ids, num, first = _dense_ids([all_keys.column(i) for i in range(all_keys.num_columns)])
        uniq_table = all_keys.take(pa.array(first))
    remaps = []
    pos = 0
    for t in keys_list:
        remaps.append(ids[pos : pos + t.num_rows])
        pos += t.num_rows
    states = [agg.combine([s[i] for s in states_list], remaps, num) for i, agg in enumerate(aggs)]
    return uniq_table, states


def _dense_ids(columns: Sequence[pa.ChunkedArray]) -> tuple[np.ndarray, int, np.ndarray]:
    """Dense ids of the distinct value tuples across ``columns`` and the first row of each id."""
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for col in columns:
        enc = pc.dictionary_encode(
            col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col, null_encoding="encode"
        )
        codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        card = max(len(enc.dictionary), 1)
        if size * card >= (1 << 62):
            key = _rank(key)
            size = int(key.max()) + 1 if n else 1
        key = key * card + codes
        size *= card
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.astype(np.int64), len(uniq), first


def _rank(key: np.ndarray) -> np.ndarray:
    _, inverse = np.unique(key, return_inverse=True)
    return inverse.astype(np.int64)


def records(
    names: Sequence[str], columns: Sequence[Sequence[Any]], stamps: Sequence[str] | None = None
) -> list[Any]:
    """Result rows from per-column values: a dict per row (``names`` to values), or with ``stamps``
    groupBy's ``{"version": "v1", "timestamp": stamp, "event": {...}}`` per row."""
    make = _record_maker(tuple(names), stamps is not None)
    if stamps is not None:
        return list(map(make, stamps, *columns))
    if not names:
        return []
    return list(map(make, *columns))


@functools.lru_cache(maxsize=256)
def _record_maker(names: tuple[str, ...], grouped: bool) -> Callable[..., Any]:
    """A function building one row from its values, compiled once per list of names: a dict display
    builds rows about twice as fast as ``dict(zip(names, row))`` over zipped tuples. Names enter the
    source only as ``repr`` literals, so any output name is safe."""
    params = [f"v{i}" for i in range(len(names))]
    event = "{" + ", ".join(f"{name!r}: {p}" for name, p in zip(names, params, strict=True)) + "}"
    if grouped:
        source = f"lambda ts, {', '.join(params)}: {{'version': 'v1', 'timestamp': ts, 'event': {event}}}"
    else:
        source = f"lambda {', '.join(params)}: {event}"
    return cast(Callable[..., Any], eval(compile(source, "<grove result row>", "eval"), {}))
