"""Step 2 of a batch write: bucket rows into time chunks and give them a partition key.

Chunks are ``segmentGranularity`` buckets, except that an append lands in the visible chunks that
already hold the row's time. Hashed partitioning hashes each row's partition dimensions (all
dimensions when none are named); rows with equal dimension values always share a hash, so rollup
never spans shards. The shard count is fixed at merge time, when the chunk's row count is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.common.granularity import Granularity
from grove.common.intervals import Interval
from grove.segment.block import RowBlock
from grove.segment.columns import NumericColumn, SketchColumn, StringColumn
from grove.segment.hashing import hash_numbers, hash_strings

_MIX = np.uint64(0x9E3779B97F4A7C15)
_NULL_HASH = np.uint64(0x5BD1E9955BD1E995)


class ChunkMapper:
    """Maps row times to chunks: ``segmentGranularity`` buckets, or the visible chunks when appending.

    ``visible`` are the timeline's visible pieces as ``(visible part, chunk interval)`` pairs; the parts
    never overlap, but chunks may (a month chunk partly overshadowed by newer day chunks, or a day chunk
    whose first hours were re-ingested as a six-hour chunk, so two chunks share a start). A row inside a
    visible part goes to that part's chunk; any other row goes to its bucket clipped to the gap between
    visible parts. Chunks are named by small integer ids, because neither starts nor ends are unique.
    """

    def __init__(self, granularity: Granularity, visible: Sequence[tuple[Interval, Interval]] = ()) -> None:
        self.granularity = granularity
        ordered = sorted(visible)
        self._chunks: list[Interval] = []
        self._ids: dict[Interval, int] = {}
        self._starts = np.array([part.start for part, _ in ordered], dtype=np.int64)
        self._ends = np.array([part.end for part, _ in ordered], dtype=np.int64)
        self._piece_chunk = np.array([self._id(chunk) for _, chunk in ordered], dtype=np.int64)

    def _id(self, interval: Interval) -> int:
        got = self._ids.get(interval)
        if got is None:
            got = self._ids[interval] = len(self._chunks)
            self._chunks.append(interval)
        return got

    def chunk_ids(self, times: np.ndarray) -> np.ndarray:
        """The id of each row's chunk; :meth:`interval` gives its interval."""
        starts = self.granularity.bucket_starts(times)
        n = len(self._starts)
        if not n:
            # No visible chunks (not appending): one chunk per bucket.
            buckets = _factorize(starts)
            chunk_of = [
                self._id(Interval(b, self.granularity.increment(self.granularity.truncate(b))))
                for b in buckets.values.tolist()
            ]
            return np.asarray(chunk_of, dtype=np.int64)[buckets.codes]
        idx = np.searchsorted(self._starts, times, side="right") - 1
        inside = (idx >= 0) & (times < self._ends[np.maximum(idx, 0)])
        ids = np.empty(len(times), dtype=np.int64)
        if inside.any():
            ids[inside] = self._piece_chunk[idx[inside]]
        outside = ~inside
        if outside.any():
            # One new chunk per (bucket, gap): the gap after visible part ``idx`` (``-1``: before all).
            # The pairs are factorized by hashing (a handful of distinct pairs among every row of the
            # batch), not by sorting the rows: sorting was most of the cost of a Parquet ingest.
            buckets = _factorize(starts[outside])
            gaps = _factorize(idx[outside])
            pairs = _factorize(buckets.codes * len(gaps.values) + gaps.codes)
            inverse = pairs.codes
            uniq = [
                (int(buckets.values[c // len(gaps.values)]), int(gaps.values[c % len(gaps.values)]))
                for c in pairs.values.tolist()
            ]
            new_ids = np.empty(len(uniq), dtype=np.int64)
            for k, (bucket, gap) in enumerate(uniq):
                lo = max(bucket, int(self._ends[gap])) if gap >= 0 else bucket
                hi = self.granularity.increment(self.granularity.truncate(bucket))
                if gap + 1 < n:
                    hi = min(hi, int(self._starts[gap + 1]))
                new_ids[k] = self._id(Interval(lo, hi))
            ids[outside] = new_ids[inverse]
        return ids

    def interval(self, chunk_id: int) -> Interval:
        return self._chunks[chunk_id]


class _Factorized(NamedTuple):
    codes: np.ndarray  # int64 index into ``values`` per input element
    values: np.ndarray  # the distinct values, in order of first appearance


def _factorize(values: np.ndarray) -> _Factorized:
    """Distinct values and each element's index among them, by hashing (Arrow's dictionary encoding)."""
    encoded = pc.dictionary_encode(pa.array(values))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return _Factorized(codes, encoded.dictionary.to_numpy(zero_copy_only=False))


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
