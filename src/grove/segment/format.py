"""The segment file: columnar, self-describing, checksummed, opened by memory-mapping.

Layout of ``segment.grove``::

    "GROVESEG" | u32 format version | padding to 64
    buffer, buffer, ...                 each aligned to 64 bytes, raw little-endian arrays
    footer                              JSON: format version, segment info, schema, row count,
                                        min/max time, and per column its type and buffers
                                        (offset, length, dtype, crc32)
    u64 footer length | u32 footer crc32 | "GROVESEG"

Opening reads only the trailer and the footer; a column's buffers become numpy views of the mapped
file on first use, when their CRC32 is checked once. Any mismatch — bad magic, unknown version, a
torn trailer, a buffer whose checksum differs — raises :class:`CorruptSegment` naming the file.

Per column type the buffers are:

* string: ``dict_offsets`` (int64) and ``dict_data`` (utf8) of the sorted dictionary, ``codes``
  (uint8/uint16/int32, code 0 = null), ``offsets`` (int64, multi-value only), and the bitmap index as
  ``bitmap_offsets`` (int64) into ``bitmaps`` (serialized roaring bitmaps, one per code);
* long/float/double: ``values`` and, when some row is null, ``nulls`` (a serialized roaring bitmap);
* hll/theta sketches: ``offsets`` (int64), ``entries`` and for theta optionally ``thetas``.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from pathlib import Path
from typing import Any, cast

import numpy as np
import orjson
import pyarrow as pa
from pyroaring import BitMap

from grove.errors import CorruptSegment
from grove.segment.block import DICTIONARY_TYPE, RowBlock
from grove.segment.columns import (
    BitmapIndex,
    Column,
    ComputedBitmapIndex,
    NumericColumn,
    SketchColumn,
    StringColumn,
)
from grove.segment.schema import SegmentSchema
from grove.segment.segment import Segment, SegmentInfo
from grove.segment.sketches import SketchArray

MAGIC = b"GROVESEG"
FORMAT_VERSION = 1
FILE_NAME = "segment.grove"
_ALIGN = 64
_TRAILER = struct.Struct("<QI8s")
_HEADER = struct.Struct("<8sI")


class _BufferWriter:
    def __init__(self, f: Any) -> None:
        self.f = f
        self.pos = 0

    def raw(self, data: bytes | memoryview) -> None:
        self.f.write(data)
        self.pos += len(data)

    def align(self) -> None:
        pad = -self.pos % _ALIGN
        if pad:
            self.raw(b"\0" * pad)

    def put(self, array: np.ndarray | bytes) -> list[Any]:
        self.align()
        if isinstance(array, bytes | bytearray):
            data = memoryview(array)
            dtype = "uint8"
        else:
            arr = np.ascontiguousarray(array)
            data = arr.data.cast("B")
            dtype = arr.dtype.str
        start = self.pos
        self.raw(data)
        return [start, len(data), dtype, zlib.crc32(data)]


def write_segment(
    path: str | os.PathLike[str],
    info: SegmentInfo,
    block: RowBlock,
    *,
    bitmaps: bool = True,
    durable: bool = True,
) -> int:
    """Write ``block`` (rows already in segment order) as a segment file; returns its size in bytes.

    The file is written under a temporary name and renamed into place, so a crash never leaves a
    partial file under the final name. ``bitmaps=False`` leaves out the bitmap indexes (for the
    intermediate pieces of an ingestion, which are only merged, never queried by index);
    ``durable=False`` skips the fsync for files that need not survive a crash.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    columns_meta: dict[str, Any] = {}
    with open(tmp, "wb") as f:
        w = _BufferWriter(f)
        w.raw(_HEADER.pack(MAGIC, FORMAT_VERSION))
        time = np.ascontiguousarray(block.time, dtype=np.int64)
        columns_meta["__time"] = {"type": "long", "buffers": {"values": w.put(time)}}
        for dim in block.schema.dimensions:
            columns_meta[dim.name] = _write_column(w, block.columns[dim.name], dim.type, bitmaps)
        for met in block.schema.metrics:
            columns_meta[met.name] = _write_column(w, block.columns[met.name], met.type, bitmaps)
        footer = orjson.dumps(
            {
                "formatVersion": FORMAT_VERSION,
                "info": info.to_json(),
                "schema": block.schema.to_json(),
                "numRows": block.num_rows,
                "minTime": int(time[0]) if len(time) else None,
                "maxTime": int(time[-1]) if len(time) else None,
                "columns": columns_meta,
            }
        )
        w.align()
        w.raw(footer)
        w.raw(_TRAILER.pack(len(footer), zlib.crc32(footer), MAGIC))
        f.flush()
        if durable:
            os.fsync(f.fileno())
        size = w.pos
    os.replace(tmp, path)
    return size


def _write_column(w: _BufferWriter, col: Column, kind: str, bitmaps: bool) -> dict[str, Any]:
    if isinstance(col, StringColumn):
        dictionary = col.dictionary.cast(DICTIONARY_TYPE)
        bufs = dictionary.buffers()
        n = len(dictionary)
        offsets = (
            np.frombuffer(bufs[1], dtype=np.int64)[dictionary.offset : dictionary.offset + n + 1]
            if n
            else np.zeros(1, np.int64)
        )
        data = (
            np.frombuffer(bufs[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
            if n and bufs[2] is not None
            else np.zeros(0, np.uint8)
        )
        buffers = {
            "dict_offsets": w.put(offsets - offsets[0]),
            "dict_data": w.put(data),
            "codes": w.put(col.codes),
        }
        if bitmaps:
            index = col.bitmaps
            if not isinstance(index, ComputedBitmapIndex):
                index = ComputedBitmapIndex(
                    col.codes, col.value_rows() if col.multi_value else None, col.cardinality
                )
            bm_offsets, bm_blob = index.all_serialized()
            buffers["bitmap_offsets"] = w.put(bm_offsets)
            buffers["bitmaps"] = w.put(bm_blob)
        if col.offsets is not None:
            buffers["offsets"] = w.put(col.offsets.astype(np.int64))
        return {
            "type": "string",
            "multiValue": col.multi_value,
            "cardinality": col.cardinality,
            "hasNulls": bool(np.any(col.codes == 0)),
            "minValue": dictionary[0].as_py() if n else None,
            "maxValue": dictionary[n - 1].as_py() if n else None,
            "buffers": buffers,
        }
    if isinstance(col, NumericColumn):
        buffers = {"values": w.put(col.values)}
        if col.nulls is not None:
            buffers["nulls"] = w.put(col.null_bitmap().serialize())
        valid = col.values if col.nulls is None else col.values[~col.nulls]
        return {
            "type": col.kind,
            "hasNulls": col.nulls is not None,
            "minValue": valid.min().item() if len(valid) else None,
            "maxValue": valid.max().item() if len(valid) else None,
            "buffers": buffers,
        }
    assert isinstance(col, SketchColumn)
    sk = col.sketches
    buffers = {"offsets": w.put(sk.offsets.astype(np.int64)), "entries": w.put(sk.entries)}
    if sk.thetas is not None:
        buffers["thetas"] = w.put(sk.thetas.astype(np.uint64))
    return {"type": kind, "param": sk.param, "buffers": buffers}


class _StoredBitmapIndex(BitmapIndex):
    def __init__(self, offsets: np.ndarray, blob: memoryview) -> None:
        self._offsets = offsets
        self._blob = blob
        self._cache: dict[int, BitMap] = {}

    def get(self, code: int) -> BitMap:
        bm = self._cache.get(code)
        if bm is None:
            if not 0 <= code < len(self._offsets) - 1:
                return BitMap()
            bm = BitMap.deserialize(
                cast(bytes, self._blob[int(self._offsets[code]) : int(self._offsets[code + 1])])
            )
            self._cache[code] = bm
        return bm


class MappedSegment(Segment):
    """A segment file opened by memory-mapping; columns load (and are verified) on first use."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            self.path = self.path / FILE_NAME
        try:
            with open(self.path, "rb") as f:
                self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise CorruptSegment(
                f"Cannot open segment file [{self.path}]: {getattr(e, 'strerror', None) or e}"
            ) from None
        self._view = memoryview(self._mm)
        footer = self._read_footer()
        self._footer = footer
        self.info = SegmentInfo.from_json(footer["info"])
        self.schema = SegmentSchema.from_json(footer["schema"])
        self._num_rows = int(footer["numRows"])
        self._columns: dict[str, Column] = {}
        self._verified: set[tuple[str, str]] = set()
        self._time: np.ndarray | None = None

    def _corrupt(self, why: str) -> CorruptSegment:
        return CorruptSegment(f"Corrupt segment file [{self.path}]: {why}")

    def _read_footer(self) -> dict[str, Any]:
        size = len(self._mm)
        if size < _HEADER.size + _TRAILER.size:
            raise self._corrupt("file too short")
        magic, version = _HEADER.unpack_from(self._mm, 0)
        if magic != MAGIC:
            raise self._corrupt("bad magic number")
        if version != FORMAT_VERSION:
            raise self._corrupt(f"unsupported format version {version}")
        length, crc, end_magic = _TRAILER.unpack_from(self._mm, size - _TRAILER.size)
        if end_magic != MAGIC or length > size - _TRAILER.size:
            raise self._corrupt("bad trailer (truncated file?)")
        self._footer_start = size - _TRAILER.size - length
        raw = self._view[self._footer_start : size - _TRAILER.size]
        if zlib.crc32(raw) != crc:
            raise self._corrupt("footer checksum mismatch")
        try:
            footer: dict[str, Any] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise self._corrupt("unreadable footer") from None
        return footer

    def _buffer(self, column: str, name: str) -> np.ndarray:
        offset, length, dtype, crc = self._footer["columns"][column]["buffers"][name]
        raw = self._view[offset : offset + length]
        if (column, name) not in self._verified:
            if zlib.crc32(raw) != crc:
                raise self._corrupt(f"checksum mismatch in column [{column}] buffer [{name}]")
            self._verified.add((column, name))
        return np.frombuffer(raw, dtype=np.dtype(dtype))

    def _raw(self, column: str, name: str) -> memoryview:
        arr = self._buffer(column, name)
        return arr.data.cast("B")

    @property
    def num_rows(self) -> int:
        return self._num_rows

    @property
    def size_bytes(self) -> int:
        return len(self._mm)

    @property
    def min_time(self) -> int | None:
        v = self._footer.get("minTime")
        return int(v) if v is not None else None

    @property
    def max_time(self) -> int | None:
        v = self._footer.get("maxTime")
        return int(v) if v is not None else None

    def column_meta(self, name: str) -> dict[str, Any] | None:
        meta: dict[str, Any] | None = self._footer["columns"].get(name)
        return meta

    def time(self) -> np.ndarray:
        if self._time is None:
            self._time = self._buffer("__time", "values")
        return self._time

    def column(self, name: str) -> Column | None:
        if name == "__time":
            return self.time_column()
        col = self._columns.get(name)
        if col is None:
            meta = self._footer["columns"].get(name)
            if meta is None:
                return None
            col = self._columns[name] = self._load(name, meta)
        return col

    def _load(self, name: str, meta: dict[str, Any]) -> Column:
        kind = meta["type"]
        bufs = meta["buffers"]
        if kind == "string":
            dict_offsets = self._buffer(name, "dict_offsets")
            n = len(dict_offsets) - 1
            dictionary = pa.Array.from_buffers(
                DICTIONARY_TYPE,
                n,
                [None, pa.py_buffer(dict_offsets), pa.py_buffer(self._buffer(name, "dict_data"))],
            )
            offsets = self._buffer(name, "offsets") if "offsets" in bufs else None
            index = None
            if "bitmaps" in bufs:
                index = _StoredBitmapIndex(self._buffer(name, "bitmap_offsets"), self._raw(name, "bitmaps"))
            return StringColumn(dictionary, self._buffer(name, "codes"), offsets, index)
        if kind in ("long", "float", "double"):
            values = self._buffer(name, "values")
            nulls = None
            if "nulls" in bufs:
                rows = np.frombuffer(
                    BitMap.deserialize(cast(bytes, self._raw(name, "nulls"))).to_array(), dtype=np.uint32
                )
                nulls = np.zeros(len(values), dtype=bool)
                nulls[rows] = True
            return NumericColumn(kind, values, nulls)
        if kind in ("hll", "theta"):
            thetas = self._buffer(name, "thetas") if "thetas" in bufs else None
            sketches = SketchArray(
                kind, int(meta["param"]), self._buffer(name, "offsets"), self._buffer(name, "entries"), thetas
            )
            return SketchColumn(sketches)
        raise self._corrupt(f"unknown column type [{kind}] for column [{name}]")

    def verify(self) -> None:
        """Check every byte now (used when a segment is loaded from deep storage).

        Buffers are checked against their CRC32 and the alignment padding between them must be zero,
        so that a flipped byte anywhere in the file is caught. Raises CorruptSegment naming the file.
        """
        spans = []
        for column, meta in self._footer["columns"].items():
            for name, (offset, length, _, _) in meta["buffers"].items():
                self._buffer(column, name)
                spans.append((int(offset), int(offset) + int(length)))
        cursor = _HEADER.size
        for start, end in [*sorted(spans), (self._footer_start, self._footer_start)]:
            if start < _HEADER.size or end > self._footer_start:
                raise self._corrupt("buffer outside the data area")
            if start > cursor and self._view[cursor:start].tobytes().count(0) != start - cursor:
                raise self._corrupt(f"non-zero padding at offset {cursor}")
            cursor = max(cursor, end)


def open_segment(path: str | os.PathLike[str]) -> MappedSegment:
    return MappedSegment(path)
