"""RowBlock: a batch of rows in columnar, dictionary-encoded form — the unit of building segments.

Ingestion turns input batches into RowBlocks, rolls them up, concatenates them and persists them;
merging reads persisted segments back as RowBlocks. Every column has one entry per row; string
columns carry their own sorted dictionary, so concatenating blocks unifies dictionaries first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.segment.columns import Column, NumericColumn, SketchColumn, StringColumn, code_dtype
from grove.segment.schema import NUMPY_DTYPES, DimensionDef, SegmentSchema
from grove.segment.sketches import SketchArray

DICTIONARY_TYPE = pa.large_string()
_SKETCH_DTYPES = {"hll": np.uint32, "theta": np.uint64}


@dataclass
class RowBlock:
    schema: SegmentSchema
    time: np.ndarray
    columns: dict[str, Column]

    @property
    def num_rows(self) -> int:
        return len(self.time)

    @staticmethod
    def empty(schema: SegmentSchema) -> RowBlock:
        columns: dict[str, Column] = {d.name: null_column(d, 0) for d in schema.dimensions}
        for met in schema.metrics:
            if met.is_sketch:
                param = met.params.get("lgK" if met.type == "hll" else "size", 0)
                empty = SketchArray(
                    met.type, param, np.zeros(1, np.int64), np.zeros(0, _SKETCH_DTYPES[met.type])
                )
                columns[met.name] = SketchColumn(empty)
            else:
                columns[met.name] = NumericColumn(met.type, np.zeros(0, NUMPY_DTYPES[met.type]))
        return RowBlock(schema, np.zeros(0, np.int64), columns)

    def take(self, rows: np.ndarray) -> RowBlock:
        return RowBlock(self.schema, self.time[rows], {k: c.take(rows) for k, c in self.columns.items()})

    def slice(self, start: int, stop: int) -> RowBlock:
        """Rows ``[start, stop)``; the columns share memory with this block (blocks are never
        changed in place)."""
        return RowBlock(
            self.schema, self.time[start:stop], {k: c.slice(start, stop) for k, c in self.columns.items()}
        )

    @staticmethod
    def concat(blocks: Sequence[RowBlock], schema: SegmentSchema | None = None) -> RowBlock:
        """Concatenate blocks, unifying string dictionaries; dimensions missing from a block are null.

        ``schema`` (default: the union of the blocks' schemas, dimensions in order of appearance)
        decides the result's columns.
        """
        if schema is None:
            schema = union_schema([b.schema for b in blocks])
        blocks = [b for b in blocks if b.num_rows]
        if not blocks:
            return RowBlock.empty(schema)
        time = np.concatenate([b.time for b in blocks])
        columns: dict[str, Column] = {}
        for dim in schema.dimensions:
            parts = [b.columns.get(dim.name) or null_column(dim, b.num_rows) for b in blocks]
            columns[dim.name] = concat_columns(parts, dim.type)
        for met in schema.metrics:
            columns[met.name] = concat_columns([b.columns[met.name] for b in blocks], met.type)
        return RowBlock(schema, time, columns)


def union_schema(schemas: Sequence[SegmentSchema]) -> SegmentSchema:
    first = schemas[0]
    dims: dict[str, DimensionDef] = {}
    for s in schemas:
        for d in s.dimensions:
            prev = dims.get(d.name)
            if prev is None:
                dims[d.name] = d
            elif d.multi_value and not prev.multi_value:
                dims[d.name] = DimensionDef(d.name, d.type, True, d.multi_value_handling)
    return SegmentSchema(tuple(dims.values()), first.metrics, first.rollup, first.query_granularity)


def null_column(dim: DimensionDef, n: int) -> Column:
    if dim.type == "string":
        return StringColumn(pa.array([], DICTIONARY_TYPE), np.zeros(n, dtype=np.uint8))
    return NumericColumn(dim.type, np.zeros(n, dtype=NUMPY_DTYPES[dim.type]), np.ones(n, dtype=bool))


def unify_dictionaries(dictionaries: Sequence[pa.Array]) -> tuple[pa.Array, list[np.ndarray]]:
    """One sorted dictionary covering all, and per input a remap array ``old code -> new code``."""
    first = dictionaries[0]
    if all(d is first or d.equals(first) for d in dictionaries[1:]):
        remap = np.arange(len(first) + 1, dtype=np.int64)
        return first, [remap] * len(dictionaries)
    merged = pc.unique(pa.chunked_array([d.cast(DICTIONARY_TYPE) for d in dictionaries], DICTIONARY_TYPE))
    merged = merged.take(pc.array_sort_indices(merged))
    remaps = []
    for d in dictionaries:
        idx = pc.index_in(d.cast(DICTIONARY_TYPE), value_set=merged).to_numpy(zero_copy_only=False)
        remaps.append(np.concatenate([[0], idx.astype(np.int64) + 1]))
    return merged, remaps


def concat_columns(parts: Sequence[Column], kind: str) -> Column:
    if len(parts) == 1:
        return parts[0]
    if kind == "string":
        strings = [p for p in parts if isinstance(p, StringColumn)]
        dictionary, remaps = unify_dictionaries([p.dictionary for p in strings])
        from_codes = [remap[p.codes] for p, remap in zip(strings, remaps, strict=True)]
        codes = (
            np.concatenate(from_codes).astype(code_dtype(len(dictionary) + 1))
            if from_codes
            else np.zeros(0, np.uint8)
        )
        if any(p.multi_value for p in strings):
            offsets = [np.zeros(1, dtype=np.int64)]
            base = 0
            for p in strings:
                off = p.offsets if p.offsets is not None else np.arange(len(p.codes) + 1, dtype=np.int64)
                offsets.append(off[1:] + base)
                base += int(off[-1])
            return StringColumn(dictionary, codes, np.concatenate(offsets))
        return StringColumn(dictionary, codes)
    if kind in ("hll", "theta"):
        sketches = [p.sketches for p in parts if isinstance(p, SketchColumn)]
        return SketchColumn(SketchArray.concat(sketches))
    numerics = [p for p in parts if isinstance(p, NumericColumn)]
    values = np.concatenate([p.values for p in numerics])
    nulls = None
    if any(p.nulls is not None for p in numerics):
        nulls = np.concatenate([p.nulls if p.nulls is not None else np.zeros(len(p), bool) for p in numerics])
    return NumericColumn(numerics[0].kind, values, nulls)


def exact_dictionaries(block: RowBlock) -> RowBlock:
    """``block`` with every string dictionary cut to the values some row holds.

    A sliced block, or one encoded from an input dictionary, may carry values no row holds; a
    segment's dictionaries must not. Columns already exact are kept as they are.
    """
    columns: dict[str, Column] = {}
    for name, col in block.columns.items():
        if isinstance(col, StringColumn) and len(col.dictionary):
            used = np.bincount(col.codes, minlength=col.cardinality) > 0
            used[0] = True
            if not used.all():
                keep = np.flatnonzero(used[1:])
                remap = np.zeros(col.cardinality, dtype=code_dtype(len(keep) + 1))
                remap[keep + 1] = np.arange(1, len(keep) + 1)
                col = StringColumn(col.dictionary.take(pa.array(keep)), remap[col.codes], col.offsets)
        columns[name] = col
    return RowBlock(block.schema, block.time, columns)
