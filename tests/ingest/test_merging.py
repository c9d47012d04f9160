"""Step 4 of a batch write: a chunk's pieces merged into final, numbered or hashed, segments."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from ingest_helpers import DAY, T0, filtered, plan_of, segment_table, task

from grove.common.intervals import Interval
from grove.ingest.indexing import IndexBuilder, to_block
from grove.ingest.merging import AppendTarget, BuiltSegment, merge_chunk
from grove.ingest.partitioning import ChunkMapper, partition_hashes
from grove.segment.format import FILE_NAME, MappedSegment

CHUNK = Interval(T0, T0 + DAY)


def spec_with(partitions: dict[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
    return task(
        namespace=namespace,
        dimensions=["d", "e"],
        metrics=[{"type": "count", "name": "count"}, {"type": "longSum", "name": "v", "fieldName": "v"}],
        granularity={"segmentGranularity": "day", "queryGranularity": "none", "rollup": True},
        tuning={"partitionsSpec": partitions, "maxRowsInMemory": 10},
    )


def pieces_of(tmp_path: Path, spec: dict[str, Any], n: int, *, repeat: int = 1) -> list[Path]:
    """Pieces holding ``n`` distinct rows (each read ``repeat`` times, in separate blocks)."""
    plan = plan_of(spec)
    builder = IndexBuilder(plan, "v1", ChunkMapper(plan.segment_granularity), tmp_path / "pieces", 0)
    (tmp_path / "pieces").mkdir(exist_ok=True)
    for _ in range(repeat):
        for lo in range(0, n, 5):
            ids = range(lo, min(lo + 5, n))
            table = pa.table(
                {
                    "ts": [T0 + 1000 * (i % 13) for i in ids],
                    "d": [f"d{i % 6}" for i in ids],
                    "e": [f"e{i}" for i in ids],
                    "v": [i for i in ids],
                }
            )
            rows, stats = filtered(table, spec)
            builder.add(to_block(rows, plan, stats))
    builder.persist_all()
    assert len(builder.pieces) > 1 or n * repeat <= 10  # the merge has several pieces to combine
    return [p.path for p in builder.pieces]


def merge(
    tmp_path: Path, spec: dict[str, Any], n: int, append: AppendTarget | None = None, **kw: Any
) -> list[BuiltSegment]:
    pieces = pieces_of(tmp_path, spec, n, **kw)
    return merge_chunk(plan_of(spec), CHUNK, pieces, "v1", tmp_path / "out", append)


def rows_of(built: BuiltSegment) -> list[dict[str, Any]]:
    return segment_table(MappedSegment(built.directory)).to_pylist()


def check_segment_files(built: list[BuiltSegment]) -> None:
    for b in built:
        seg = MappedSegment(b.directory)
        assert (b.directory / FILE_NAME).is_file()
        assert seg.num_rows == b.descriptor.num_rows
        assert b.descriptor.size == (b.directory / FILE_NAME).stat().st_size
        assert seg.info.interval == CHUNK and seg.info.partition == b.descriptor.partition
        times = seg.time()
        assert np.all(times[1:] >= times[:-1])
        assert b.descriptor.dimensions == ("d", "e")
        assert b.descriptor.metrics == ("count", "v")
        assert b.descriptor.load_spec == {}  # not pushed yet


# --- dynamic ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "max_rows"), [(40, 7), (42, 7), (5, 7), (40, 40), (40, 1)])
def test_dynamic_partitions_hold_exactly_max_rows_per_segment(
    tmp_path: Path, rows: int, max_rows: int
) -> None:
    spec = spec_with({"type": "dynamic", "maxRowsPerSegment": max_rows})
    built = merge(tmp_path, spec, rows)
    expected = [max_rows] * (rows // max_rows) + ([rows % max_rows] if rows % max_rows else [])
    assert [b.descriptor.num_rows for b in built] == expected
    n = len(built)
    assert [b.descriptor.partition for b in built] == list(range(n))
    for b in built:
        shard = b.descriptor.shard_spec
        assert (shard.kind, shard.partition_num, shard.partitions) == ("numbered", b.descriptor.partition, n)
        assert b.descriptor.version == "v1" and b.descriptor.interval == CHUNK
    check_segment_files(built)
    merged = [r for b in built for r in rows_of(b)]
    assert sorted(r["e"] for r in merged) == sorted(f"e{i}" for i in range(rows))
    # Partitions are consecutive in segment order: each starts where the previous one ended.
    keys = [(r["__time"], r["d"], r["e"]) for r in merged]
    assert keys == sorted(keys)


def test_merge_rolls_up_equal_rows_across_pieces(tmp_path: Path) -> None:
    spec = spec_with({"type": "dynamic", "maxRowsPerSegment": 7})
    built = merge(tmp_path, spec, 20, repeat=3)
    merged = [r for b in built for r in rows_of(b)]
    assert len(merged) == 20
    assert all(r["count"] == 3 for r in merged)
    assert sorted(r["v"] for r in merged) == [3 * i for i in range(20)]


def test_legacy_max_rows_per_segment_applies_to_dynamic_partitions(tmp_path: Path) -> None:
    spec = spec_with({"type": "dynamic"})
    spec["spec"]["tuningConfig"]["maxRowsPerSegment"] = 9
    assert [b.descriptor.num_rows for b in merge(tmp_path, spec, 20)] == [9, 9, 2]


def test_namespace_is_part_of_every_built_segment(tmp_path: Path) -> None:
    spec = spec_with({"type": "dynamic", "maxRowsPerSegment": 10}, namespace="clicks")
    built = merge(tmp_path, spec, 15)
    assert [b.descriptor.namespace for b in built] == ["clicks", "clicks"]
    assert all(MappedSegment(b.directory).info.namespace == "clicks" for b in built)


# --- hashed -------------------------------------------------------------------------------------------


def check_hashed(tmp_path: Path, built: list[BuiltSegment], shards: int, rows: int, dims: list[str]) -> None:
    assert [b.descriptor.partition for b in built] == list(range(shards))
    for b in built:
        shard = b.descriptor.shard_spec
        assert (shard.kind, shard.partition_num, shard.partitions) == (
            "hashed",
            b.descriptor.partition,
            shards,
        )
        assert shard.partition_dimensions == tuple(dims)
        assert "__partition_hash" not in MappedSegment(b.directory).schema.metric_names
    check_segment_files(built)
    # Every row is in exactly one shard, and it is the shard its partition hash names.
    seen: Counter[str] = Counter()
    for b in built:
        seg = MappedSegment(b.directory)
        for r in rows_of(b):
            seen[r["e"]] += 1
        if seg.num_rows:
            expected = partition_hashes(seg.to_block(), dims) % np.uint64(shards)
            assert set(expected.tolist()) == {b.descriptor.partition}
    assert seen == Counter({f"e{i}": 1 for i in range(rows)})


def test_hashed_with_num_shards(tmp_path: Path) -> None:
    built = merge(tmp_path, spec_with({"type": "hashed", "numShards": 3}), 40)
    check_hashed(tmp_path, built, 3, 40, [])


def test_hashed_on_partition_dimensions_keeps_each_value_in_one_shard(tmp_path: Path) -> None:
    spec = spec_with({"type": "hashed", "numShards": 4, "partitionDimensions": ["d"]})
    built = merge(tmp_path, spec, 40)
    check_hashed(tmp_path, built, 4, 40, ["d"])
    shards_of_value: dict[str, set[int]] = {}
    for b in built:
        for r in rows_of(b):
            shards_of_value.setdefault(r["d"], set()).add(b.descriptor.partition)
    assert all(len(s) == 1 for s in shards_of_value.values())


def test_hashed_with_more_shards_than_keys_still_writes_every_shard(tmp_path: Path) -> None:
    spec = spec_with({"type": "hashed", "numShards": 16, "partitionDimensions": ["d"]})
    built = merge(tmp_path, spec, 30)
    check_hashed(tmp_path, built, 16, 30, ["d"])
    assert sum(1 for b in built if b.descriptor.num_rows == 0) >= 10  # only six values of d


@pytest.mark.parametrize(("rows", "target"), [(40, 7), (40, 40), (40, 100), (41, 8)])
def test_hashed_with_target_rows_per_segment(tmp_path: Path, rows: int, target: int) -> None:
    built = merge(tmp_path, spec_with({"type": "hashed", "targetRowsPerSegment": target}), rows)
    check_hashed(tmp_path, built, math.ceil(rows / target), rows, [])


# --- append -------------------------------------------------------------------------------------------


def test_append_continues_the_partition_numbers_of_the_existing_version(tmp_path: Path) -> None:
    spec = spec_with({"type": "dynamic", "maxRowsPerSegment": 8})
    target = AppendTarget(version="v0", next_partition=3, core_partitions=2)
    built = merge(tmp_path, spec, 20, target)
    assert [b.descriptor.partition for b in built] == [3, 4, 5]
    assert [b.descriptor.num_rows for b in built] == [8, 8, 4]
    for b in built:
        assert b.descriptor.version == "v0"  # the chunk's existing version, not the write's
        shard = b.descriptor.shard_spec
        assert (shard.kind, shard.partition_num, shard.partitions) == ("numbered", b.descriptor.partition, 2)
        assert not shard.is_core()
        info = MappedSegment(b.directory).info
        assert (info.version, info.partition) == ("v0", b.descriptor.partition)
    assert [str(b.descriptor.id) for b in built] == [
        f"t_2020-01-01T00:00:00.000Z_2020-01-02T00:00:00.000Z_v0_{p}" for p in (3, 4, 5)
    ]
