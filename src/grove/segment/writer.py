"""Streaming segment writer: rows appended in segment order, spilled to disk, finished into a file.

Memory stays bounded by the block being appended, not by the segment: each column spills to its own
file as blocks arrive. String values get codes in order of arrival; ``finish`` sorts the dictionary,
remaps the codes (reading the spilled codes back through a memory map) and writes the final segment
file with its bitmap indexes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.segment.block import DICTIONARY_TYPE, RowBlock
from grove.segment.columns import Column, NumericColumn, SketchColumn, StringColumn, code_dtype
from grove.segment.format import FILE_NAME, write_segment
from grove.segment.schema import NUMPY_DTYPES, SegmentSchema
from grove.segment.segment import SegmentInfo
from grove.segment.sketches import SketchArray

_SKETCH_DTYPES = {"hll": np.uint32, "theta": np.uint64}


class _Spill:
    """An append-only raw array file."""

    def __init__(self, path: Path, dtype: np.dtype) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self._f: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in read()
        self.count = 0

    def write(self, arr: np.ndarray) -> None:
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        self._f.write(arr.data.cast("B"))
        self.count += len(arr)

    def read(self) -> np.ndarray:
        if not self._f.closed:
            self._f.close()
        if self.count == 0:
            return np.zeros(0, dtype=self.dtype)
        return np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.count,))


class _StringSpill:
    def __init__(self, directory: Path, name: str, multi: bool) -> None:
        self.codes = _Spill(directory / f"{name}.codes", np.dtype(np.int32))
        self.lengths = _Spill(directory / f"{name}.lengths", np.dtype(np.int32)) if multi else None
        self.values: list[pa.Array] = []
        self._known = pa.array([], DICTIONARY_TYPE)
        self.count = 0

    def append(self, col: StringColumn, rows: int) -> None:
        # Only the values some row of this block holds: a block may carry a wider dictionary.
        used = (
            np.bincount(col.codes, minlength=col.cardinality)[1:] > 0 if len(col.codes) else np.zeros(0, bool)
        )
        dictionary = col.dictionary.cast(DICTIONARY_TYPE)
        used_idx = np.flatnonzero(used)
        values = dictionary.take(pa.array(used_idx)) if len(used_idx) < len(dictionary) else dictionary
        # Map the used values to arrival codes, adding values not seen before.
        idx = (
            pc.index_in(values, value_set=self._known)
            .fill_null(-1)
            .to_numpy(zero_copy_only=False)
            .astype(np.int64)
        )
        missing = np.flatnonzero(idx < 0)
        if len(missing):
            new_values = values.take(pa.array(missing))
            idx[missing] = len(self._known) + np.arange(len(missing))
            self.values.append(new_values)
            self._known = pa.concat_arrays([self._known, new_values])
        remap = np.zeros(len(dictionary) + 1, dtype=np.int64)
        remap[used_idx + 1] = idx + 1
        self.codes.write(remap[col.codes])
        if self.lengths is not None:
            off = col.offsets if col.offsets is not None else np.arange(rows + 1, dtype=np.int64)
            self.lengths.write(np.diff(off))
        self.count += rows

    def finish(self) -> StringColumn:
        known = self._known
        order = pc.array_sort_indices(known).to_numpy() if len(known) else np.zeros(0, np.int64)
        rank = np.empty(len(known) + 1, dtype=np.int64)
        rank[0] = 0
        rank[order + 1] = np.arange(1, len(known) + 1)
        codes = rank[self.codes.read()].astype(code_dtype(len(known) + 1))
        offsets = None
        if self.lengths is not None:
            offsets = np.zeros(self.count + 1, dtype=np.int64)
            np.cumsum(self.lengths.read(), out=offsets[1:])
        return StringColumn(known.take(pa.array(order)) if len(known) else known, codes, offsets)


class StreamingSegmentWriter:
    """Append RowBlocks in segment order; ``finish`` writes ``directory/segment.grove`` (fsynced unless
    ``durable=False``)."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        info: SegmentInfo,
        schema: SegmentSchema,
        *,
        durable: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.durable = durable
        self.spill_dir = self.directory / "spill"
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        self.info = info
        self.schema = schema
        self.num_rows = 0
        self._time = _Spill(self.spill_dir / "__time", np.dtype(np.int64))
        self._strings: dict[str, _StringSpill] = {}
        self._numbers: dict[str, tuple[_Spill, _Spill]] = {}
        self._sketches: dict[str, tuple[_Spill, _Spill, _Spill | None]] = {}
        for i, dim in enumerate(schema.dimensions):
            key = f"d{i}"
            if dim.type == "string":
                self._strings[dim.name] = _StringSpill(self.spill_dir, key, dim.multi_value)
            else:
                self._numbers[dim.name] = self._numeric_spill(key, dim.type)
        for i, met in enumerate(schema.metrics):
            key = f"m{i}"
            if met.is_sketch:
                thetas = (
                    _Spill(self.spill_dir / f"{key}.thetas", np.dtype(np.uint64))
                    if met.type == "theta"
                    else None
                )
                self._sketches[met.name] = (
                    _Spill(self.spill_dir / f"{key}.lengths", np.dtype(np.int64)),
                    _Spill(self.spill_dir / f"{key}.entries", np.dtype(_SKETCH_DTYPES[met.type])),
                    thetas,
                )
            else:
                self._numbers[met.name] = self._numeric_spill(key, met.type)

    def _numeric_spill(self, key: str, kind: str) -> tuple[_Spill, _Spill]:
        return (
            _Spill(self.spill_dir / f"{key}.values", np.dtype(NUMPY_DTYPES[kind])),
            _Spill(self.spill_dir / f"{key}.nulls", np.dtype(np.bool_)),
        )

    def append(self, block: RowBlock) -> None:
        n = block.num_rows
        if n == 0:
            return
        self._time.write(block.time)
        for name, spill in self._strings.items():
            col = block.columns[name]
            assert isinstance(col, StringColumn)
            spill.append(col, n)
        for name, (values, nulls) in self._numbers.items():
            num = block.columns[name]
            assert isinstance(num, NumericColumn)
            values.write(num.values)
            nulls.write(num.nulls if num.nulls is not None else np.zeros(n, dtype=bool))
        for name, (lengths, entries, thetas) in self._sketches.items():
            sk_col = block.columns[name]
            assert isinstance(sk_col, SketchColumn)
            sk = sk_col.sketches
            lengths.write(sk.lengths())
            entries.write(sk.entries)
            if thetas is not None:
                thetas.write(
                    sk.thetas
                    if sk.thetas is not None
                    else np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)
                )
        self.num_rows += n

    def finish(self) -> tuple[Path, int]:
        """Write the segment file; returns its path and size. The spill files are removed."""
        columns: dict[str, Column] = {}
        for dim in self.schema.dimensions:
            if dim.name in self._strings:
                columns[dim.name] = self._strings[dim.name].finish()
            else:
                columns[dim.name] = self._finish_numeric(dim.name, dim.type)
        for met in self.schema.metrics:
            if met.is_sketch:
                lengths, entries, thetas = self._sketches[met.name]
                offsets = np.zeros(self.num_rows + 1, dtype=np.int64)
                np.cumsum(lengths.read(), out=offsets[1:])
                theta_values = thetas.read() if thetas is not None else None
                if theta_values is not None and bool((theta_values == np.iinfo(np.uint64).max).all()):
                    theta_values = None
                param = met.params.get("lgK" if met.type == "hll" else "size", 0)
                columns[met.name] = SketchColumn(
                    SketchArray(met.type, param, offsets, entries.read(), theta_values)
                )
            else:
                columns[met.name] = self._finish_numeric(met.name, met.type)
        block = RowBlock(self.schema, self._time.read(), columns)
        path = self.directory / FILE_NAME
        size = write_segment(path, self.info, block, durable=self.durable)
        del block, columns
        shutil.rmtree(self.spill_dir, ignore_errors=True)
        return path, size

    def _finish_numeric(self, name: str, kind: str) -> NumericColumn:
        values, nulls = self._numbers[name]
        mask = nulls.read()
        return NumericColumn(kind, values.read(), np.asarray(mask) if mask.any() else None)
