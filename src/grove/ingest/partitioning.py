"""Step 2 of a batch write: bucket rows into time chunks and give them a partition key.

Chunks are ``segmentGranularity`` buckets, except that an append lands in the chunks that already
exist where they cover the row. Hashed partitioning hashes each row's partition dimensions (all
dimensions when none are named); rows with equal dimension values always share a hash, so rollup
never spans shards. The shard count is fixed at merge time, when the chunk's row count is known.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grove.common.granularity import Granularity
from grove.common.intervals import Interval
from grove.segment.block import RowBlock
from grove.segment.columns import NumericColumn, SketchColumn, StringColumn
from grove.segment.hashing import hash_numbers, hash_strings

_MIX = np.uint64(0x9E3779B97F4A7C15)
_NULL_HASH = np.uint64(0x5BD1E9955BD1E995)


class ChunkMapper:
    """Maps row times to chunk intervals (granularity buckets, or existing chunks when appending)."""

    def __init__(self, granularity: Granularity, existing: Sequence[Interval] = ()) -> None:
        self.granularity = granularity
        ordered = sorted(existing)
        self._starts = np.array([iv.start for iv in ordered], dtype=np.int64)
        self._ends = np.array([iv.end for iv in ordered], dtype=np.int64)
        self._sorted_ends = np.sort(self._ends)
        self._reach = np.maximum.accumulate(self._ends) if len(ordered) else self._ends
        self._intervals: dict[int, Interval] = {iv.start: iv for iv in ordered}

    def chunk_starts(self, times: np.ndarray) -> np.ndarray:
        """The start of each row's chunk."""
        starts = self.granularity.bucket_starts(times)
        if len(self._starts):
            idx = np.searchsorted(self._starts, times, side="right") - 1
            inside = (idx >= 0) & (times < self._ends[np.maximum(idx, 0)])
            # Visible chunks may overlap (a month chunk partly overshadowed by newer day chunks): a row
            # past the nearest chunk before it can still lie in an earlier, longer one. Step back while
            # some chunk at or before ``idx`` reaches past the row; the latest-starting holder wins.
            todo = ~inside & (idx >= 0) & (times < self._reach[np.maximum(idx, 0)])
            while todo.any():
                idx[todo] -= 1
                inside |= todo & (idx >= 0) & (times < self._ends[np.maximum(idx, 0)])
                todo &= ~inside & (idx >= 0) & (times < self._reach[np.maximum(idx, 0)])
            # A row outside every existing chunk goes to the part of its bucket after the last
            # existing chunk that ends before it (the bucket may hold several such gaps).
            before = np.searchsorted(self._sorted_ends, times, side="right") - 1
            gap_starts = np.maximum(starts, self._sorted_ends[np.maximum(before, 0)])
            starts = np.where(before >= 0, gap_starts, starts)
            starts = np.where(inside, self._starts[np.maximum(idx, 0)], starts)
        return starts

    def interval(self, start: int) -> Interval:
        existing = self._intervals.get(start)
        if existing is not None:
            return existing
        end = self.granularity.increment(self.granularity.truncate(start))
        # A new bucket must not overlap an existing chunk: clip it to the gap it sits in.
        if len(self._starts):
            nxt = np.searchsorted(self._starts, start, side="right")
            if nxt < len(self._starts):
                end = min(end, int(self._starts[nxt]))
        return Interval(start, end)


def partition_hashes(block: RowBlock, dimensions: Sequence[str]) -> np.ndarray:
    """A uint64 hash per row of the values of ``dimensions`` (all of the block's when empty)."""
    names = list(dimensions) or list(block.schema.dimension_names)
    h = np.zeros(block.num_rows, dtype=np.uint64)
    for name in names:
        col = block.columns.get(name)
        if col is None or isinstance(col, SketchColumn):
            part = np.full(block.num_rows, _NULL_HASH, dtype=np.uint64)
        elif isinstance(col, StringColumn):
            by_code = np.concatenate([[_NULL_HASH], hash_strings(col.dictionary)]).astype(np.uint64)
            if col.offsets is None:
                part = by_code[col.codes]
            else:
                per_value = by_code[col.codes]
                part = np.add.reduceat(per_value, col.offsets[:-1]) if len(per_value) else per_value
        else:
            assert isinstance(col, NumericColumn)
            part = hash_numbers(col.values)
            if col.nulls is not None:
                part[col.nulls] = _NULL_HASH
        with np.errstate(over="ignore"):
            h = h * _MIX + part
    return hash_numbers(h.view(np.int64))
