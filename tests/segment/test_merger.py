"""Merging persisted pieces: equal to one rollup of everything (checked with DuckDB), partitioning,
time slices that never split a timestamp, and bounded memory."""

from __future__ import annotations

import os
import random
import resource
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from blockgen import (
    FULL_SCHEMA,
    block_rows,
    canonical,
    duckdb_rollup,
    make_block,
    random_rows,
    sort_key,
    without,
)

import grove.segment.merger as merger
from grove.common.intervals import Interval
from grove.segment.block import RowBlock
from grove.segment.columns import StringColumn
from grove.segment.format import MappedSegment, write_segment
from grove.segment.hashing import hash_array
from grove.segment.merger import MergedSegment, merge_pieces, slice_bounds
from grove.segment.rollup import sort_rows
from grove.segment.schema import DimensionDef, MetricDef, SegmentSchema
from grove.segment.segment import InMemorySegment, Segment, SegmentInfo

SKETCHES = ("users", "uniq")


def info(partition: int) -> SegmentInfo:
    return SegmentInfo("ads", Interval(0, 1_000_000), "v1", "", partition)


def persist_pieces(
    tmp_path: Path, parts: list[list[dict[str, Any]]], schema: SegmentSchema = FULL_SCHEMA
) -> list[Segment]:
    pieces: list[Segment] = []
    for i, rows in enumerate(parts):
        block = sort_rows(make_block(schema, rows), schema.rollup)
        path = tmp_path / f"piece-{i}.grove"
        write_segment(path, info(0), block)
        pieces.append(MappedSegment(path))
    return pieces


def merged_rows(results: list[MergedSegment]) -> list[dict[str, Any]]:
    return [r for m in results for r in block_rows(MappedSegment(m.path).to_block())]


def random_parts(seed: int, count: int, rows: int, times: range) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    return [random_rows(rng, rng.randrange(0, rows), times=times) for _ in range(count)]


@pytest.mark.parametrize(("seed", "count"), [(1, 1), (2, 3), (3, 8)])
def test_merge_equals_rollup_of_the_concatenation(tmp_path: Path, seed: int, count: int) -> None:
    parts = random_parts(seed, count, 600, range(0, 50_000, 997))
    pieces = persist_pieces(tmp_path, parts)
    results = merge_pieces(pieces, tmp_path / "out", info, slice_rows=150)
    all_rows = [r for p in parts for r in p]
    got = merged_rows(results)
    expected = block_rows(sort_rows(make_block(FULL_SCHEMA, all_rows), rollup=True))
    assert got == expected
    assert canonical(without(got, SKETCHES)) == canonical(duckdb_rollup(all_rows, FULL_SCHEMA))
    assert [m.partition for m in results] == [0]
    assert results[0].num_rows == len(expected) and results[0].size == results[0].path.stat().st_size
    out = MappedSegment(results[0].path)
    assert out.info == info(0)
    out.verify()


def test_one_slice_is_written_at_once_as_streaming_would_write_it(tmp_path: Path) -> None:
    parts = random_parts(9, 3, 400, range(0, 30_000, 991))
    pieces = persist_pieces(tmp_path, parts)
    [whole] = merge_pieces(pieces, tmp_path / "whole", info, slice_rows=10**6)
    [streamed] = merge_pieces(pieces, tmp_path / "streamed", info, slice_rows=50)
    assert whole.path.read_bytes() == streamed.path.read_bytes()
    assert whole.num_rows == streamed.num_rows and whole.size == streamed.size


def test_a_single_finished_piece_is_moved_not_rewritten(tmp_path: Path) -> None:
    rows = random_rows(random.Random(10), 500, times=range(0, 9000, 7))
    block = sort_rows(make_block(FULL_SCHEMA, rows), rollup=True)
    write_segment(tmp_path / "finished.grove", info(0), block)
    write_segment(tmp_path / "bare.grove", info(0), block, bitmaps=False)
    [moved] = merge_pieces([MappedSegment(tmp_path / "finished.grove")], tmp_path / "a", info)
    [rewritten] = merge_pieces([MappedSegment(tmp_path / "bare.grove")], tmp_path / "b", info)
    assert not (tmp_path / "finished.grove").exists() and (tmp_path / "bare.grove").exists()
    assert moved.path.read_bytes() == rewritten.path.read_bytes()
    assert moved.num_rows == rewritten.num_rows == block.num_rows and moved.size == rewritten.size
    # A piece of another partition or version is rewritten under the right name.
    write_segment(tmp_path / "other.grove", info(3), block)
    [renamed] = merge_pieces([MappedSegment(tmp_path / "other.grove")], tmp_path / "c", info)
    assert MappedSegment(renamed.path).info == info(0) and (tmp_path / "other.grove").exists()


def test_merge_without_rollup_keeps_every_row(tmp_path: Path) -> None:
    schema = SegmentSchema(FULL_SCHEMA.dimensions, FULL_SCHEMA.metrics, rollup=False)
    parts = random_parts(4, 4, 300, range(0, 20))
    pieces = persist_pieces(tmp_path, parts, schema)
    got = merged_rows(merge_pieces(pieces, tmp_path / "out", info, slice_rows=100))
    assert len(got) == sum(len(p) for p in parts)
    assert got == sorted(got, key=sort_key(schema))
    assert canonical(got) == canonical(block_rows(make_block(schema, [r for p in parts for r in p])))


def test_in_memory_and_mapped_pieces_merge_alike(tmp_path: Path) -> None:
    parts = random_parts(5, 4, 200, range(0, 30))
    mapped = persist_pieces(tmp_path, parts)
    memory: list[Segment] = [
        InMemorySegment(info(0), sort_rows(make_block(FULL_SCHEMA, rows), rollup=True)) for rows in parts
    ]
    a = merged_rows(merge_pieces(mapped, tmp_path / "a", info, slice_rows=64))
    b = merged_rows(merge_pieces(memory, tmp_path / "b", info, slice_rows=64))
    assert a == b


@pytest.mark.parametrize(("max_rows", "piece_rows"), [(1, 12), (7, 40), (100, 300), (10_000, 300)])
def test_dynamic_partitioning_respects_max_rows_exactly(
    tmp_path: Path, max_rows: int, piece_rows: int
) -> None:
    parts = random_parts(6, 5, piece_rows, range(0, 40_000, 101))
    pieces = persist_pieces(tmp_path, parts)
    expected = block_rows(sort_rows(make_block(FULL_SCHEMA, [r for p in parts for r in p]), rollup=True))
    results = merge_pieces(pieces, tmp_path / "out", info, max_rows_per_segment=max_rows, slice_rows=37)
    sizes = [m.num_rows for m in results]
    total = len(expected)
    assert sizes == [max_rows] * (total // max_rows) + ([total % max_rows] if total % max_rows else [])
    assert [m.partition for m in results] == list(range(len(results)))
    for m in results:
        seg = MappedSegment(m.path)
        assert seg.num_rows == m.num_rows and seg.info.partition == m.partition
        assert m.path.parent.name == str(m.partition)
    assert merged_rows(results) == expected


def test_full_partitions_release_their_files(tmp_path: Path) -> None:
    # Each partition writer spills every column to its own files; a merge into many partitions must
    # not keep them all open. Run it under a small open-file limit.
    parts = random_parts(10, 4, 200, range(0, 40_000, 101))
    pieces = persist_pieces(tmp_path, parts)
    open_now = len(os.listdir("/proc/self/fd"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (open_now + 120, hard))
    try:
        results = merge_pieces(pieces, tmp_path / "out", info, max_rows_per_segment=10, slice_rows=50)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert len(results) > 20  # far more spill files in total than the limit allows open at once
    assert sum(m.num_rows for m in results) == len(
        block_rows(sort_rows(make_block(FULL_SCHEMA, [r for p in parts for r in p]), rollup=True))
    )


def _country_shards(num_shards: int) -> merger.ShardFn:
    def shard_fn(block: RowBlock) -> np.ndarray:
        col = block.columns["country"]
        assert isinstance(col, StringColumn)
        hashes, valid = hash_array(col.to_arrow())
        return np.where(valid, hashes % np.uint64(num_shards), 0).astype(np.int64)

    return shard_fn


def test_sharding_puts_every_key_in_exactly_one_shard(tmp_path: Path) -> None:
    parts = random_parts(7, 6, 400, range(0, 10_000, 250))
    pieces = persist_pieces(tmp_path, parts)
    results = merge_pieces(
        pieces, tmp_path / "out", info, shard_fn=_country_shards(5), num_shards=5, slice_rows=90
    )
    assert [m.partition for m in results] == [0, 1, 2, 3, 4]
    key = sort_key(FULL_SCHEMA)
    shard_of_key: dict[Any, int] = {}
    shard_of_country: dict[Any, int] = {}
    for m in results:
        rows = block_rows(MappedSegment(m.path).to_block())
        assert rows == sorted(rows, key=key) and len(rows) == m.num_rows
        for r in rows:
            assert shard_of_key.setdefault(key(r), m.partition) == m.partition
            assert shard_of_country.setdefault(r["country"], m.partition) == m.partition
    expected = block_rows(sort_rows(make_block(FULL_SCHEMA, [r for p in parts for r in p]), rollup=True))
    assert len(shard_of_key) == len(expected)
    assert canonical(merged_rows(results)) == canonical(expected)


def test_empty_shards_still_get_a_segment(tmp_path: Path) -> None:
    parts = [[{"__time": 1, "country": "US", "count": 1}]]
    pieces = persist_pieces(tmp_path, parts)
    results = merge_pieces(
        pieces, tmp_path / "out", info, shard_fn=lambda b: np.full(b.num_rows, 2), num_shards=4
    )
    assert [(m.partition, m.num_rows) for m in results] == [(0, 0), (1, 0), (2, 1), (3, 0)]
    assert all(MappedSegment(m.path).num_rows == m.num_rows for m in results)


def test_drop_columns_removes_the_metric(tmp_path: Path) -> None:
    schema = SegmentSchema(
        (DimensionDef("country"),),
        (MetricDef("count", "long", "sum"), MetricDef("__hash", "long", "max")),
    )
    parts = [
        [
            {"__time": t, "country": c, "count": 1, "__hash": hash(c) % 7}
            for t in (0, 1)
            for c in ("a", "b", None)
        ]
        for _ in range(3)
    ]
    pieces = persist_pieces(tmp_path, parts, schema)
    for kwargs in ({}, {"shard_fn": lambda b: b.columns["__hash"].values % 2, "num_shards": 2}):  # type: ignore[union-attr]
        out = tmp_path / f"out-{len(kwargs)}"
        results = merge_pieces(pieces, out, info, drop_columns=["__hash"], **kwargs)  # type: ignore[arg-type]
        for m in results:
            seg = MappedSegment(m.path)
            assert seg.schema.metric_names == ("count",) and seg.column("__hash") is None
            assert seg.column_meta("__hash") is None
        got = merged_rows(results)
        assert sorted((r["__time"], r["country"] or "", r["count"]) for r in got) == sorted(
            (t, c, 3) for t in (0, 1) for c in ("a", "b", "")
        )


def test_pieces_with_different_dimensions_merge_into_their_union(tmp_path: Path) -> None:
    a_schema = SegmentSchema((DimensionDef("a"),), (MetricDef("c", "long", "sum"),))
    b_schema = SegmentSchema((DimensionDef("a"), DimensionDef("b", "long")), (MetricDef("c", "long", "sum"),))
    pieces = persist_pieces(tmp_path, [[{"__time": 0, "a": "x", "c": 1}]], a_schema)
    pieces += persist_pieces(
        tmp_path / "..",
        [[{"__time": 0, "a": "x", "b": None, "c": 2}, {"__time": 0, "a": "x", "b": 4, "c": 4}]],
        b_schema,
    )
    got = merged_rows(merge_pieces(pieces, tmp_path / "out", info))
    assert got == [{"__time": 0, "a": "x", "b": None, "c": 3}, {"__time": 0, "a": "x", "b": 4, "c": 4}]


def test_no_rows_no_output(tmp_path: Path) -> None:
    pieces = persist_pieces(tmp_path, [[], []])
    assert merge_pieces(pieces, tmp_path / "out", info) == []


def test_merge_concatenates_about_slice_rows_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(8)
    schema = SegmentSchema((DimensionDef("k", "long"),), (MetricDef("c", "long", "sum"),))
    pieces: list[Segment] = []
    biggest_run = 0
    for i in range(6):
        n = 20_000
        times = np.sort(rng.integers(0, 50_000, n))
        keys = rng.integers(0, 1_000_000, n)
        rows = [{"__time": int(t), "k": int(k), "c": 1} for t, k in zip(times, keys, strict=True)]
        block = sort_rows(make_block(schema, rows), rollup=True)
        path = tmp_path / f"p{i}.grove"
        write_segment(path, info(0), block)
        pieces.append(MappedSegment(path))
    all_times = np.concatenate([p.time() for p in pieces])
    biggest_run = int(np.bincount(all_times).max())
    seen: list[int] = []
    real_sort_rows = merger.sort_rows

    def recording_sort_rows(block: RowBlock, rollup: bool) -> RowBlock:
        seen.append(block.num_rows)
        return real_sort_rows(block, rollup)

    monkeypatch.setattr(merger, "sort_rows", recording_sort_rows)
    slice_rows = 1000
    results = merge_pieces(pieces, tmp_path / "out", info, slice_rows=slice_rows)
    # Rows only one piece holds at their time skip the sort; overlapping ones are sorted a slice at a time.
    assert sum(seen) <= len(all_times) and len(seen) > 50
    assert max(seen) <= slice_rows + biggest_run - 1
    assert sum(m.num_rows for m in results) == sum(p.num_rows for p in pieces)  # no duplicates to roll up


# --- slice_bounds ------------------------------------------------------------------------------------


def test_slice_bounds_never_split_a_time_and_stay_near_slice_rows() -> None:
    rng = np.random.default_rng(9)
    for _ in range(300):
        arrays = [
            np.sort(rng.integers(-50, rng.integers(1, 400), rng.integers(0, 300)))
            for _ in range(rng.integers(1, 5))
        ]
        slice_rows = int(rng.integers(1, 120))
        bounds = slice_bounds(arrays, slice_rows)
        times = np.concatenate(arrays)
        if not len(times):
            assert bounds == []
            continue
        lows = [lo for lo, _ in bounds]
        highs = [hi for _, hi in bounds]
        assert lows == sorted(lows) and all(lo < hi for lo, hi in bounds)
        assert all(h <= lo for h, lo in zip(highs, lows[1:], strict=False))
        # Every row falls in exactly one slice; a distinct time never straddles two.
        slice_of = np.full(len(times), -1)
        for i, (lo, hi) in enumerate(bounds):
            inside = (times >= lo) & (times < hi)
            assert (slice_of[inside] == -1).all()
            slice_of[inside] = i
        assert (slice_of >= 0).all()
        runs = np.unique(times, return_counts=True)
        for t, count in zip(*runs, strict=True):
            assert len(set(slice_of[times == t].tolist())) == 1
            assert count >= 1
        # A slice holds at most slice_rows plus the rows of its last timestamp, minus one.
        for lo, hi in bounds:
            in_slice = times[(times >= lo) & (times < hi)]
            last = in_slice.max()
            assert len(in_slice) <= slice_rows + int((times == last).sum()) - 1
        # And slices are not needlessly small: no more of them than whole slice_rows fit.
        assert len(bounds) <= -(-len(times) // slice_rows)
    assert slice_bounds([np.array([5, 5, 5, 5])], 2) == [(5, 6)]
    assert slice_bounds([np.arange(6), np.arange(6)], 4) == [(0, 2), (2, 4), (4, 6)]


def test_merge_memory_is_bounded_even_when_all_rows_share_one_timestamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = SegmentSchema((DimensionDef("k", "long"),), (MetricDef("c", "long", "sum"),))
    pieces: list[Segment] = []
    for i in range(4):
        rows = [{"__time": 0, "k": i * 10_000 + j, "c": 1} for j in range(5000)]
        path = tmp_path / f"p{i}.grove"
        write_segment(path, info(0), sort_rows(make_block(schema, rows), rollup=True))
        pieces.append(MappedSegment(path))
    seen: list[int] = []
    real_sort_rows = merger.sort_rows

    def recording_sort_rows(block: RowBlock, rollup: bool) -> RowBlock:
        seen.append(block.num_rows)
        return real_sort_rows(block, rollup)

    monkeypatch.setattr(merger, "sort_rows", recording_sort_rows)
    merge_pieces(pieces, tmp_path / "out", info, slice_rows=1000)
    assert max(seen, default=0) <= 2 * 1000  # here each slice holds one piece's rows: nothing to sort


@pytest.mark.parametrize(
    "spans",
    [
        [(0, 20_000), (20_000, 40_000)],  # consecutive input: no time in common
        [(0, 21_000), (19_000, 40_000)],  # two workers' halves sharing a stretch
        [(0, 30_000), (10_000, 15_000), (25_000, 40_000), (39_000, 50_000)],  # several windows
        [(0, 40_000), (0, 40_000)],  # all in common
    ],
)
def test_only_times_that_pieces_share_are_sorted_and_the_merge_is_exact(
    tmp_path: Path, spans: list[tuple[int, int]]
) -> None:
    rng = random.Random(len(spans) * 7 + spans[1][0])
    parts = [random_rows(rng, 400, times=range(lo, hi, 97)) for lo, hi in spans]
    pieces = persist_pieces(tmp_path, parts)
    results = merge_pieces(pieces, tmp_path / "out", info, slice_rows=10**6)
    all_rows = [r for p in parts for r in p]
    assert merged_rows(results) == block_rows(sort_rows(make_block(FULL_SCHEMA, all_rows), rollup=True))
