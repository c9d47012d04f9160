"""Step 4 of a batch write: merge each chunk's persisted pieces into its final segments.

Dynamic partitioning fills partitions up to ``maxRowsPerSegment`` rows; hashed partitioning splits
the chunk into shards by partition hash, the shard count fixed here (``numShards``, or the chunk's
rows over ``targetRowsPerSegment``). Appends continue the partition numbers of the chunk's existing
version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grove.common.intervals import Interval
from grove.ingest.plan import PARTITION_HASH, IngestPlan
from grove.segment.block import RowBlock
from grove.segment.columns import NumericColumn
from grove.segment.format import MappedSegment
from grove.segment.merger import merge_pieces
from grove.segment.segment import SegmentInfo
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.segment_id import SegmentId
from grove.timeline.shard import ShardSpec


@dataclass(frozen=True, slots=True)
class AppendTarget:
    """Where appended rows go in an existing chunk: its version and partition numbering."""

    version: str
    next_partition: int
    core_partitions: int


@dataclass(frozen=True, slots=True)
class BuiltSegment:
    """A finished segment on local disk, described but not yet pushed or published."""

    descriptor: SegmentDescriptor
    directory: Path


def merge_chunk(
    plan: IngestPlan,
    chunk: Interval,
    pieces: list[Path],
    version: str,
    out_dir: Path,
    append: AppendTarget | None = None,
    slice_rows: int | None = None,
) -> list[BuiltSegment]:
    """Merge the pieces of one chunk; returns the built segments in partition order.

    Each segment is fsynced here, in the worker, while other workers still merge: local deep storage
    links the file and must find it on disk (its own fsync at the push is then nearly free).
    """
    segments = [MappedSegment(p) for p in pieces]
    total = sum(s.num_rows for s in segments)
    if append is not None:
        version = append.version
    base = append.next_partition if append is not None else 0

    def info(partition: int) -> SegmentInfo:
        return SegmentInfo(plan.datasource, chunk, version, plan.namespace, base + partition)

    slice_rows = slice_rows or max(min(plan.max_rows_in_memory, 500_000), 1)
    if plan.hashed:
        num_shards = plan.num_shards or max(
            1, math.ceil(total / (plan.target_rows_per_segment or total or 1))
        )

        def shard_of(block: RowBlock) -> np.ndarray:
            col = block.columns[PARTITION_HASH]
            assert isinstance(col, NumericColumn)
            return (col.values.view(np.uint64) % np.uint64(num_shards)).astype(np.int64)

        merged = merge_pieces(
            segments,
            out_dir,
            info,
            slice_rows=slice_rows,
            shard_fn=shard_of,
            num_shards=num_shards,
            drop_columns=(PARTITION_HASH,),
            durable=True,
        )
        specs = {
            m.partition: ShardSpec(m.partition, num_shards, "hashed", plan.partition_dimensions)
            for m in merged
        }
    else:
        merged = merge_pieces(
            segments,
            out_dir,
            info,
            max_rows_per_segment=plan.max_rows_per_segment,
            slice_rows=slice_rows,
            durable=True,
        )
        core = append.core_partitions if append is not None else len(merged)
        specs = {m.partition: ShardSpec(base + m.partition, core) for m in merged}
    out = []
    for m in merged:
        seg = MappedSegment(m.path)
        seg_id = SegmentId(plan.datasource, chunk, version, base + m.partition, plan.namespace)
        descriptor = SegmentDescriptor(
            id=seg_id,
            shard_spec=specs[m.partition],
            dimensions=seg.schema.dimension_names,
            metrics=seg.schema.metric_names,
            num_rows=m.num_rows,
            size=m.size,
        )
        out.append(BuiltSegment(descriptor, m.path.parent))
    return out
