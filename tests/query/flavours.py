"""The same rows as every segment flavour a query can meet: incremental, persisted and merged.

A :class:`Dataset` is rows (an Arrow table with ``__time`` in epoch ms) plus the Druid ``dimensionsSpec``
entries and ``metricsSpec`` they are ingested with, and whether rollup is on. :func:`build_segments`
encodes the rows exactly as batch ingestion does (``IngestPlan`` and ``to_block``), one segment per
``segmentGranularity`` chunk (several segments per datasource), and returns them as

* ``incremental`` — an ``IncrementalIndex`` fed in several blocks, queried through ``snapshot()``;
* ``persisted`` — the index persisted to a segment file and opened with ``MappedSegment``;
* ``merged`` — several persisted pieces per chunk merged by ``merge_pieces`` (two output partitions
  when the chunk is big enough), each opened with ``MappedSegment``.

:func:`make_runner` serves datasets through ``QueryRunner(StaticSegmentSource(...))``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from grove.common.intervals import Interval
from grove.ingest.filtering import FilteredRows
from grove.ingest.indexing import to_block
from grove.ingest.plan import IngestPlan
from grove.ingest.spec import IngestionSpec
from grove.ingest.stats import RowStats
from grove.query.runner import QueryRunner
from grove.query.sources import StaticSegmentSource
from grove.segment.format import MappedSegment
from grove.segment.incremental import IncrementalIndex
from grove.segment.merger import merge_pieces
from grove.segment.segment import Segment, SegmentInfo

FLAVOURS = ("incremental", "persisted", "merged")

HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_577_836_800_000  # 2020-01-01T00:00:00Z


@dataclass
class Dataset:
    """Rows and how they are ingested (Druid dimensionsSpec entries and metricsSpec)."""

    name: str
    table: pa.Table
    dimensions: Sequence[Any]
    metrics: Sequence[Mapping[str, Any]]
    rollup: bool = False
    query_granularity: str = "none"
    segment_granularity: str = "day"
    pieces: int = 3
    extra: dict[str, Any] = field(default_factory=dict)


def ingestion_spec(ds: Dataset) -> IngestionSpec:
    return IngestionSpec.parse(
        {
            "type": "index_parallel",
            "spec": {
                "dataSchema": {
                    "dataSource": ds.name,
                    "timestampSpec": {"column": "__time", "format": "millis"},
                    "dimensionsSpec": {"dimensions": list(ds.dimensions)},
                    "metricsSpec": [dict(m) for m in ds.metrics],
                    "granularitySpec": {
                        "segmentGranularity": ds.segment_granularity,
                        "queryGranularity": ds.query_granularity,
                        "rollup": ds.rollup,
                    },
                },
                "ioConfig": {
                    "type": "index_parallel",
                    "inputSource": {"type": "inline", "data": ""},
                    "inputFormat": {"type": "json"},
                },
            },
        }
    )


def _chunks(plan: IngestPlan, times: np.ndarray) -> list[tuple[Interval, np.ndarray]]:
    starts = plan.segment_granularity.bucket_starts(times)
    out = []
    for start in np.unique(starts).tolist():
        rows = np.flatnonzero(starts == start)
        out.append((Interval(start, plan.segment_granularity.increment(start)), rows))
    return out


def _block(plan: IngestPlan, table: pa.Table, rows: np.ndarray) -> Any:
    part = table.take(pa.array(rows))
    times = part.column("__time").to_numpy().astype(np.int64)
    return to_block(FilteredRows(part.drop_columns(["__time"]), times), plan, RowStats())


def _splits(n: int, parts: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Rows 0..n-1 shuffled into ``parts`` non-empty groups (fewer when n is small)."""
    order = rng.permutation(n)
    parts = max(1, min(parts, n))
    return [np.sort(p) for p in np.array_split(order, parts) if len(p)]


def build_segments(ds: Dataset, flavour: str, directory: Path) -> list[Segment]:
    """The dataset's rows as segments of one flavour (files go under ``directory``)."""
    plan = IngestPlan.from_spec(ingestion_spec(ds))
    times = ds.table.column("__time").to_numpy().astype(np.int64)
    rng = np.random.default_rng(7)
    segments: list[Segment] = []
    for chunk, rows in _chunks(plan, times):
        info = SegmentInfo(ds.name, chunk, "v1")
        schema = _block(plan, ds.table, rows[:1]).schema
        if flavour == "incremental":
            index = IncrementalIndex(info, schema)
            for part in _splits(len(rows), ds.pieces, rng):
                index.add(_block(plan, ds.table, rows[part]))
            segments.append(index.snapshot())
            continue
        chunk_dir = directory / ds.name / str(chunk.start)
        chunk_dir.mkdir(parents=True, exist_ok=True)
        if flavour == "persisted":
            index = IncrementalIndex(info, schema)
            for part in _splits(len(rows), ds.pieces, rng):
                index.add(_block(plan, ds.table, rows[part]))
            path = chunk_dir / "segment.bin"
            index.persist(path, durable=False)
            segments.append(MappedSegment(path))
            continue
        assert flavour == "merged", flavour
        pieces: list[Segment] = []
        for i, part in enumerate(_splits(len(rows), ds.pieces, rng)):
            index = IncrementalIndex(info, schema)
            index.add(_block(plan, ds.table, rows[part]))
            path = chunk_dir / f"piece-{i}.bin"
            index.persist(path, bitmaps=False, durable=False)
            pieces.append(MappedSegment(path))
        # Two output partitions for bigger chunks, so queries also meet several partitions per chunk.
        max_rows = max(len(rows) // 2 + 1, 1) if len(rows) >= 200 else 5_000_000
        merged = merge_pieces(
            pieces,
            chunk_dir / "merged",
            lambda p, info=info: SegmentInfo(info.datasource, info.interval, info.version, "", p),
            max_rows_per_segment=max_rows,
            slice_rows=max(len(rows) // 3, 50),
        )
        segments.extend(MappedSegment(m.path) for m in merged)
    return segments


def make_runner(datasets: Sequence[Dataset], flavour: str, directory: Path, threads: int = 2) -> QueryRunner:
    """A runner over ``datasets``, every one built as ``flavour``."""
    source = {ds.name: build_segments(ds, flavour, directory) for ds in datasets}
    return QueryRunner(StaticSegmentSource(source), threads=threads)


def flavour_runners(datasets: Sequence[Dataset], mktemp: Callable[[str], Path]) -> dict[str, QueryRunner]:
    """A runner per flavour over ``datasets`` (``mktemp`` makes a fresh folder, like pytest's)."""
    name = "-".join(d.name for d in datasets)
    return {f: make_runner(datasets, f, mktemp(f"{name}-{f}")) for f in FLAVOURS}


def table_of(rows: Sequence[Mapping[str, Any]], types: Mapping[str, pa.DataType]) -> pa.Table:
    """An Arrow table from Python rows, with explicit column types (``__time`` is int64)."""
    columns = {"__time": pa.array([r["__time"] for r in rows], pa.int64())}
    for name, t in types.items():
        columns[name] = pa.array([r.get(name) for r in rows], t)
    return pa.table(columns)
