"""Step 3 of a batch write: rows become incremental indexes, persisted whenever memory fills.

:func:`to_block` encodes the kept rows of a batch: time truncated to ``queryGranularity``, dimensions
dictionary-encoded (declared, or discovered from the input's columns), each metric computed from its
input field as a one-row aggregate (count = 1, sums/min/max = the value, sketches = the value's hash).
:class:`IndexBuilder` routes blocks to one :class:`IncrementalIndex` per time chunk, where rollup
happens, and persists every index to a piece file once the rows held reach ``maxRowsInMemory``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.common.intervals import Interval
from grove.ingest.filtering import TIME, FilteredRows
from grove.ingest.partitioning import ChunkMapper, partition_hashes
from grove.ingest.plan import PARTITION_HASH, IngestPlan, MetricPlan
from grove.ingest.stats import RowStats
from grove.query.expression import evaluate
from grove.segment.block import RowBlock
from grove.segment.columns import Column, NumericColumn, SketchColumn
from grove.segment.encode import StringEncoder, encode_numeric
from grove.segment.hashing import hash_array
from grove.segment.incremental import IncrementalIndex
from grove.segment.schema import DimensionDef
from grove.segment.segment import SegmentInfo
from grove.segment.sketches import SketchArray, hll_entries, theta_union_groups

_NUMERIC_TYPES = {"long", "float", "double"}


def discover_dimensions(table: pa.Table, plan: IngestPlan) -> tuple[DimensionDef, ...]:
    """Dimensions of a batch: the declared ones, or every input column not excluded (as strings)."""
    if plan.dimensions is not None:
        out = []
        for d in plan.dimensions:
            multi = (
                d.type == "string"
                and d.name in table.column_names
                and _is_list(table.schema.field(d.name).type)
            )
            out.append(DimensionDef(d.name, d.type, multi, d.multi_value_handling))
        return tuple(out)
    found = []
    for field in table.schema:
        if field.name in plan.exclusions or field.name == TIME or field.name.startswith("__"):
            continue
        if pa.types.is_struct(field.type) or pa.types.is_map(field.type):
            continue  # nested objects are not dimensions unless flattened
        found.append(DimensionDef(field.name, "string", _is_list(field.type)))
    return tuple(found)


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def _column(table: pa.Table, name: str) -> pa.Array | None:
    if name not in table.column_names:
        return None
    col = table.column(name)
    return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)


def to_block(rows: FilteredRows, plan: IngestPlan, stats: RowStats) -> RowBlock:
    """Encode kept rows as a RowBlock of one-row aggregates (not yet sorted or rolled up)."""
    return BlockEncoder(plan).encode(rows, stats)


class BlockEncoder:
    """:func:`to_block` for the batches of one build, one after the other.

    String dimensions keep a :class:`StringEncoder` each, so that batches carrying the same input
    dictionary (Parquet dictionary pages) sort it once and share it.
    """

    def __init__(self, plan: IngestPlan) -> None:
        self.plan = plan
        self._strings: dict[str, StringEncoder] = {}

    def encode(self, rows: FilteredRows, stats: RowStats) -> RowBlock:
        """Encode kept rows as a RowBlock of one-row aggregates (not yet sorted or rolled up)."""
        plan = self.plan
        table = rows.table
        n = rows.num_rows
        dims = discover_dimensions(table, plan)
        columns: dict[str, Column] = {}
        errors = np.zeros(n, dtype=bool)
        for d in dims:
            arr = _column(table, d.name)
            if arr is None:
                arr = pa.nulls(n, pa.large_string())
            if d.type == "string":
                columns[d.name] = self._string_encoder(d).encode(arr)
            else:
                numeric, failed = encode_numeric(arr, d.type)
                columns[d.name] = numeric
                errors |= failed
        for mp in plan.metrics:
            col, failed = _metric_values(mp, table, n)
            columns[mp.metric.name] = col
            errors |= failed
        bad = int(errors.sum())
        if bad:
            stats.processed_with_error += bad
            stats.note(f"{bad} row(s) had values that are not numbers where numbers were expected")
        time = plan.query_granularity.bucket_starts(rows.times)
        block = RowBlock(plan.schema(dims), time, columns)
        if plan.hashed:
            block.columns[PARTITION_HASH] = NumericColumn(
                "long", partition_hashes(block, plan.partition_dimensions).view(np.int64)
            )
        return block

    def _string_encoder(self, d: DimensionDef) -> StringEncoder:
        encoder = self._strings.get(d.name)
        if encoder is None or encoder.multi_value_handling != d.multi_value_handling:
            encoder = self._strings[d.name] = StringEncoder(d.multi_value_handling)
        return encoder


def _metric_values(mp: MetricPlan, table: pa.Table, n: int) -> tuple[Column, np.ndarray]:
    met = mp.metric
    no_errors = np.zeros(n, dtype=bool)
    if met.type == "long" and mp.field is None and mp.expression is None:  # count
        return NumericColumn("long", np.ones(n, dtype=np.int64)), no_errors
    if mp.expression is not None:
        arr: pa.Array | None = evaluate(mp.expression, lambda c: _column(table, c), n)
    else:
        arr = _column(table, mp.field) if mp.field is not None else None
    if met.type in _NUMERIC_TYPES:
        if arr is None:
            return NumericColumn(
                met.type, np.zeros(n, dtype=_dtype(met.type)), np.ones(n, dtype=bool)
            ), no_errors
        col, failed = encode_numeric(arr, met.type)
        return col, failed
    return SketchColumn(_sketch_values(met.type, met.params, arr, n)), no_errors


def _dtype(kind: str) -> type:
    return {"long": np.int64, "float": np.float32, "double": np.float64}[kind]


def _sketch_values(kind: str, params: dict[str, int], arr: pa.Array | None, n: int) -> SketchArray:
    """One sketch per row holding that row's value(s); null values contribute nothing."""
    if arr is None:
        empty = np.zeros(0, dtype=np.uint32 if kind == "hll" else np.uint64)
        return SketchArray(
            kind, params.get("lgK", params.get("size", 0)), np.zeros(n + 1, dtype=np.int64), empty
        )
    offsets = np.zeros(n + 1, dtype=np.int64)
    if _is_list(arr.type):
        parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False).astype(np.int64)
        hashes, valid = hash_array(pc.list_flatten(arr))
        parents, hashes = parents[valid], hashes[valid]
        np.cumsum(np.bincount(parents, minlength=n), out=offsets[1:])
        if kind == "theta":
            # A theta sketch is a sorted set: a multi-value row's repeated values count once.
            return theta_union_groups(parents, hashes, n, params["size"])
    else:
        hashes, valid = hash_array(arr)
        if not valid.all():
            hashes = hashes[valid]
        np.cumsum(valid, out=offsets[1:])  # one value per non-null row
    if kind == "hll":
        lgk = params["lgK"]
        return SketchArray("hll", lgk, offsets, hll_entries(hashes, lgk))
    return SketchArray("theta", params["size"], offsets, hashes)


@dataclass(frozen=True, slots=True)
class Piece:
    """A persisted incremental index: part of one chunk's data."""

    chunk: Interval
    path: Path
    num_rows: int


class IndexBuilder:
    """Per-chunk incremental indexes for one worker, persisted to pieces under ``work_dir``."""

    def __init__(
        self, plan: IngestPlan, version: str, chunks: ChunkMapper, work_dir: Path, worker: int
    ) -> None:
        self.plan = plan
        self.version = version
        self.chunks = chunks
        self.work_dir = Path(work_dir)
        self.worker = worker
        self.indexes: dict[int, IncrementalIndex] = {}
        self.pieces: list[Piece] = []
        self._persists = 0
        # Whether rolling up on arrival pays is learnt once per build, not again for every index.
        self._rollup_pays = True
        self._persisted: set[int] = set()

    @property
    def rows_in_memory(self) -> int:
        return sum(idx.num_rows for idx in self.indexes.values())

    def add(self, block: RowBlock) -> None:
        if block.num_rows == 0:
            return
        ids = self.chunks.chunk_ids(block.time)  # small integers
        uniq = np.flatnonzero(np.bincount(ids))
        if len(uniq) == 1:
            self._add(int(uniq[0]), block)
        elif np.all(ids[1:] >= ids[:-1]):
            # Time-ordered input: each chunk's rows are one run of the block, taken without copying.
            bounds = np.searchsorted(ids, np.append(uniq, uniq[-1] + 1))
            for i, chunk_id in enumerate(uniq):
                self._add(int(chunk_id), block.slice(int(bounds[i]), int(bounds[i + 1])))
        else:
            order = np.argsort(ids, kind="stable")
            bounds = np.searchsorted(ids[order], np.append(uniq, uniq[-1] + 1))
            for i, chunk_id in enumerate(uniq):
                self._add(int(chunk_id), block.take(order[bounds[i] : bounds[i + 1]]))
        if self.rows_in_memory >= self.plan.max_rows_in_memory:
            self.persist_all()

    def _add(self, chunk_id: int, block: RowBlock) -> None:
        idx = self.indexes.get(chunk_id)
        if idx is None:
            interval = self.chunks.interval(chunk_id)
            info = SegmentInfo(self.plan.datasource, interval, self.version, self.plan.namespace)
            idx = IncrementalIndex(info, block.schema, rollup_pays=self._rollup_pays)
            self.indexes[chunk_id] = idx
        idx.add(block)
        self._rollup_pays = self._rollup_pays and idx.rollup_pays

    def persist_all(self) -> None:
        """Write every non-empty index as a piece and free the memory.

        A chunk's first piece gets bitmap indexes, as a finished segment has: when no other piece
        shares its chunk, the merge moves it into place instead of rewriting it. Later pieces of the
        chunk are only ever merged and go without.
        """
        for chunk_id, idx in sorted(self.indexes.items()):
            if idx.num_rows == 0:
                continue
            path = self.work_dir / f"piece-w{self.worker}-{self._persists:05d}-{chunk_id}.grove"
            self._persists += 1
            rows = idx.num_rows
            first = chunk_id not in self._persisted
            idx.persist(path, bitmaps=first, durable=False)
            self._persisted.add(chunk_id)
            self.pieces.append(Piece(idx.info.interval, path, rows))
        self.indexes.clear()
