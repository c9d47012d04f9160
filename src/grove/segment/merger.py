"""Merging persisted pieces of one time chunk into final segments, with bounded memory.

Pieces are segments whose rows are each in segment order. The merge walks time in slices cut at
distinct ``__time`` values, so that rows that could roll up together are always in the same slice and
a slice holds about ``slice_rows`` rows. Each slice is concatenated across pieces, rolled up again and
streamed to the output partition writers: one per shard when a sharding function is given (hashed
partitioning), otherwise new partitions as each fills to ``max_rows_per_segment`` (dynamic). Rows
that fit in one slice and one output are written at once instead, and a chunk persisted as a single
piece that is already a finished segment is moved into place, not rewritten.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grove.segment.block import RowBlock, exact_dictionaries, union_schema
from grove.segment.columns import NumericColumn, StringColumn
from grove.segment.format import FILE_NAME, MappedSegment, write_segment
from grove.segment.rollup import sort_rows
from grove.segment.schema import SegmentSchema
from grove.segment.segment import Segment, SegmentInfo
from grove.segment.writer import StreamingSegmentWriter

ShardFn = Callable[[RowBlock], np.ndarray]


@dataclass(frozen=True, slots=True)
class MergedSegment:
    """A finished output partition: its index among the outputs, file, row count and size."""

    partition: int
    path: Path
    num_rows: int
    size: int


def slice_bounds(times: Sequence[np.ndarray], slice_rows: int) -> list[tuple[int, int]]:
    """Time ranges ``[lo, hi)`` covering all rows, cut only between distinct times, ~slice_rows each."""
    present = [t for t in times if len(t)]
    if present and sum(len(t) for t in present) <= slice_rows:
        return [(min(int(t[0]) for t in present), max(int(t[-1]) for t in present) + 1)]
    uniq_parts, count_parts = [], []
    for t in times:
        if len(t):
            u, c = _runs(t)
            uniq_parts.append(u)
            count_parts.append(c)
    if not uniq_parts:
        return []
    u = np.concatenate(uniq_parts)
    c = np.concatenate(count_parts)
    uniq, inverse = np.unique(u, return_inverse=True)
    counts = np.bincount(inverse, weights=c).astype(np.int64)
    # Slice of each distinct time: how many slice_rows fit in the rows before it.
    slice_of = (np.cumsum(counts) - counts) // max(slice_rows, 1)
    first = np.flatnonzero(np.concatenate([[True], slice_of[1:] != slice_of[:-1]]))
    lows = uniq[first]
    highs = np.concatenate([uniq[first[1:] - 1], uniq[-1:]]) + 1
    return [(int(lo), int(hi)) for lo, hi in zip(lows, highs, strict=True)]


def _runs(sorted_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    change = np.flatnonzero(np.diff(sorted_times)) + 1
    starts = np.concatenate([[0], change])
    counts = np.diff(np.concatenate([starts, [len(sorted_times)]]))
    return sorted_times[starts], counts


def merge_pieces(
    pieces: Sequence[Segment],
    out_dir: str | os.PathLike[str],
    info: Callable[[int], SegmentInfo],
    *,
    schema: SegmentSchema | None = None,
    max_rows_per_segment: int = 5_000_000,
    slice_rows: int = 500_000,
    shard_fn: ShardFn | None = None,
    num_shards: int = 1,
    drop_columns: Sequence[str] = (),
    durable: bool = True,
) -> list[MergedSegment]:
    """Merge ``pieces`` into final segments under ``out_dir/<partition>/``.

    ``info(partition)`` names each output. With ``shard_fn`` every row goes to shard
    ``shard_fn(block)[row]`` (one output per shard ``0 .. num_shards-1``, empty ones included); otherwise outputs
    are filled in order up to ``max_rows_per_segment`` rows. ``drop_columns`` are metrics used only
    during the merge (such as a partition hash) and left out of the outputs. ``durable=False`` skips
    the fsync of outputs that are only copied elsewhere. A single piece that is already a finished
    segment (bitmap indexes, exact dictionaries, the first output's info) is moved into place, not
    rewritten.
    """
    out_dir = Path(out_dir)
    base = schema or union_schema([p.schema for p in pieces])
    out_schema = SegmentSchema(
        base.dimensions,
        tuple(m for m in base.metrics if m.name not in drop_columns),
        base.rollup,
        base.query_granularity,
    )
    writers: dict[int, StreamingSegmentWriter] = {}
    finished: dict[int, MergedSegment] = {}

    def finish(partition: int) -> None:
        w = writers.pop(partition)
        path, size = w.finish()
        finished[partition] = MergedSegment(partition, path, w.num_rows, size)

    def writer(partition: int) -> StreamingSegmentWriter:
        w = writers.get(partition)
        if w is None:
            w = writers[partition] = StreamingSegmentWriter(
                out_dir / str(partition), info(partition), out_schema, durable=durable
            )
        return w

    if len(pieces) == 1 and shard_fn is None and schema is None:
        return _rewrite_single(pieces[0], out_dir, info, max_rows_per_segment, durable)
    if shard_fn is not None:
        for shard in range(num_shards):
            writer(shard)  # every shard gets a segment, empty or not, so the partition set is complete
    slices = list(_slices(pieces, base, slice_rows))
    if shard_fn is None and len(slices) == 1:
        block = _merge_slice(pieces, slices[0], base)
        if block.num_rows <= max_rows_per_segment:
            # One slice and one output: written at once, not spilled and read back first.
            directory = out_dir / "0"
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / FILE_NAME
            out = exact_dictionaries(_strip(block, out_schema))
            size = write_segment(path, info(0), out, durable=durable)
            return [MergedSegment(0, path, block.num_rows, size)]
    current = 0
    for ranges in slices:
        block = _merge_slice(pieces, ranges, base)
        if shard_fn is not None:
            shards = shard_fn(block)
            for shard in np.unique(shards):
                writer(int(shard)).append(_strip(block.take(np.flatnonzero(shards == shard)), out_schema))
            continue
        block = _strip(block, out_schema)
        pos = 0
        while pos < block.num_rows:
            w = writer(current)
            room = max_rows_per_segment - w.num_rows
            if room <= 0:
                # A full partition gets no more rows: finish it now, so that its spill files are
                # closed (a merge into many partitions must not hold every writer's files open).
                finish(current)
                current += 1
                continue
            take = min(room, block.num_rows - pos)
            w.append(block.slice(pos, pos + take) if (pos, take) != (0, block.num_rows) else block)
            pos += take
    for partition in sorted(writers):
        finish(partition)
    return [finished[p] for p in sorted(finished)]


def _merge_slice(
    pieces: Sequence[Segment], ranges: list[tuple[int, int, int]], schema: SegmentSchema
) -> RowBlock:
    """The rows of ``ranges`` sorted (and rolled up) as one block.

    Each piece is sorted and rolled up already, so only the times that several pieces hold need
    sorting: pieces built from consecutive input (two workers' halves of a day) overlap in an hour or
    none. Rows before that window come from one piece each, pieces in time order, and so do the rows
    after it; rows at different times never roll up together.
    """
    spans = []
    for i, a, b in ranges:
        t = pieces[i].time()
        spans.append((int(t[a]), int(t[b - 1]), i, a, b))
    spans.sort()
    window: tuple[int, int] | None = None
    for x in range(len(spans)):
        for y in range(x + 1, len(spans)):
            lo, hi = max(spans[x][0], spans[y][0]), min(spans[x][1], spans[y][1])
            if lo <= hi:
                window = (lo, hi) if window is None else (min(window[0], lo), max(window[1], hi))
    blocks = {i: pieces[i].to_block() for _, _, i, _, _ in spans}
    if window is None:
        return RowBlock.concat([blocks[i].slice(a, b) for _, _, i, a, b in spans], schema)
    before, middle, after = [], [], []
    for _, _, i, a, b in spans:
        t = pieces[i].time()
        m = max(a, min(b, int(np.searchsorted(t, window[0], side="left"))))
        n = max(m, min(b, int(np.searchsorted(t, window[1], side="right"))))
        if m > a:
            before.append(blocks[i].slice(a, m))
        if n > m:
            middle.append(blocks[i].slice(m, n))
        if b > n:
            after.append(blocks[i].slice(n, b))
    sorted_middle = sort_rows(RowBlock.concat(middle, schema), schema.rollup)
    return RowBlock.concat([*before, sorted_middle, *after], schema)


def _strip(block: RowBlock, schema: SegmentSchema) -> RowBlock:
    if len(schema.metrics) == len(block.schema.metrics):
        return RowBlock(schema, block.time, block.columns)
    keep = set(schema.dimension_names) | set(schema.metric_names)
    return RowBlock(schema, block.time, {k: v for k, v in block.columns.items() if k in keep})


def _slices(
    pieces: Sequence[Segment], schema: SegmentSchema, slice_rows: int
) -> Iterator[list[tuple[int, int, int]]]:
    """Row ranges ``(piece, start, stop)`` of each merge slice, about ``slice_rows`` rows each.

    Slices are cut between distinct times; a single time holding far more rows than a slice (a
    coarse queryGranularity) is cut further between distinct values of the first dimension. Rows
    that could roll up together share time and every dimension, so they never straddle a cut.
    """
    for lo, hi in slice_bounds([p.time() for p in pieces], slice_rows):
        ranges = []
        for i, piece in enumerate(pieces):
            t = piece.time()
            a, b = int(np.searchsorted(t, lo)), int(np.searchsorted(t, hi))
            if b > a:
                ranges.append((i, a, b))
        total = sum(b - a for _, a, b in ranges)
        if hi - lo == 1 and total > 2 * slice_rows and schema.dimensions:
            yield from _cut_by_first_dimension(pieces, schema.dimensions[0].name, ranges, slice_rows)
        else:
            yield ranges


def _cut_by_first_dimension(
    pieces: Sequence[Segment], name: str, ranges: list[tuple[int, int, int]], slice_rows: int
) -> Iterator[list[tuple[int, int, int]]]:
    """Split rows of one time by values of the first dimension (sorted within a time, nulls first).

    Work here is per distinct value, not per row.
    """
    keys = [_FirstDimension.of(pieces[i].column(name), a, b) for i, a, b in ranges]
    present = [k for k in keys if k is not None]
    if len(present) != len(keys):
        yield ranges  # a multi-value or sketch first dimension: no cheap cut
        return
    nulls = sum(k.nulls for k in present)
    values = np.concatenate([k.values for k in present])
    counts = np.concatenate([k.counts for k in present])
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    if len(values) == 0:
        yield ranges
        return
    first = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    totals = np.add.reduceat(counts, first)
    # Each cut goes before the first value of a new share of about slice_rows rows (nulls lead).
    before = nulls + np.cumsum(totals) - totals
    share = before // max(slice_rows, 1)
    cut_at = np.flatnonzero(np.concatenate([[share[0] > 0], share[1:] != share[:-1]]))
    cuts = values[first][cut_at]
    bounds = [
        np.concatenate([[a], k.positions(cuts), [b]]) for (_, a, b), k in zip(ranges, present, strict=True)
    ]
    for s in range(len(cuts) + 1):
        part = [(i, int(bd[s]), int(bd[s + 1])) for (i, _, _), bd in zip(ranges, bounds, strict=True)]
        yield [r for r in part if r[2] > r[1]]


class _FirstDimension:
    """One piece's first dimension over rows [a, b) of one time: null rows (they sort first), the
    distinct non-null values with their row counts, and where cut values fall."""

    def __init__(
        self, nulls: int, values: np.ndarray, counts: np.ndarray, locate: Callable[[Any], int]
    ) -> None:
        self.nulls = nulls
        self.values = values
        self.counts = counts
        self._locate = locate

    def positions(self, cuts: np.ndarray) -> np.ndarray:
        return np.asarray([self._locate(v) for v in cuts.tolist()], dtype=np.int64)

    @staticmethod
    def of(col: Any, a: int, b: int) -> _FirstDimension | None:
        if isinstance(col, StringColumn) and col.offsets is None:
            codes = col.codes[a:b].astype(np.int64)
            distinct, counts = np.unique(codes, return_counts=True)
            nulls = int(counts[0]) if len(distinct) and distinct[0] == 0 else 0
            if nulls:
                distinct, counts = distinct[1:], counts[1:]
            dictionary = np.asarray(col.dictionary.to_pylist(), dtype=object)

            def locate(value: Any) -> int:
                code = int(np.searchsorted(dictionary, value, side="left")) + 1
                return a + int(np.searchsorted(codes, code, side="left"))

            return _FirstDimension(nulls, dictionary[distinct - 1], counts, locate)
        if isinstance(col, NumericColumn):
            nulls = int(col.nulls[a:b].sum()) if col.nulls is not None else 0
            numbers = col.values[a + nulls : b]
            distinct, counts = np.unique(numbers, return_counts=True)

            def locate_number(value: Any) -> int:
                return a + nulls + int(np.searchsorted(numbers, value, side="left"))

            return _FirstDimension(nulls, distinct, counts, locate_number)
        return None


def _rewrite_single(
    piece: Segment, out_dir: Path, info: Callable[[int], SegmentInfo], max_rows: int, durable: bool
) -> list[MergedSegment]:
    """A chunk persisted in one piece is already sorted and rolled up: write it out as final
    segments (with bitmap indexes), cut every ``max_rows`` rows, without sorting it again."""
    if isinstance(piece, MappedSegment) and piece.num_rows <= max_rows and _is_finished(piece, info(0)):
        directory = out_dir / "0"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILE_NAME
        if durable:
            with open(piece.path, "rb") as f:
                os.fsync(f.fileno())
        os.replace(piece.path, path)
        return [MergedSegment(0, path, piece.num_rows, piece.size_bytes)]
    block = piece.to_block()
    out = []
    for partition, start in enumerate(range(0, max(block.num_rows, 1), max_rows)):
        part = (
            block.slice(start, min(start + max_rows, block.num_rows)) if block.num_rows > max_rows else block
        )
        directory = out_dir / str(partition)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILE_NAME
        size = write_segment(path, info(partition), exact_dictionaries(part), durable=durable)
        out.append(MergedSegment(partition, path, part.num_rows, size))
    return out


def _is_finished(piece: MappedSegment, info: SegmentInfo) -> bool:
    """Whether the piece file is what rewriting it as segment ``info`` would write: the same info,
    and bitmap indexes (its dictionaries are exact, as every segment's are)."""
    if piece.info != info:
        return False
    for dim in piece.schema.dimensions:
        meta = piece.column_meta(dim.name)
        if meta is None or (meta["type"] == "string" and "bitmaps" not in meta["buffers"]):
            return False
    return True
