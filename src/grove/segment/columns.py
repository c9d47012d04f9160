"""Column values shared by every segment flavour (in memory, memory-mapped, merged).

* :class:`StringColumn`: dictionary-encoded strings. Code 0 always means null; code ``c > 0`` is
  ``dictionary[c - 1]``, the dictionary holding the distinct non-null values sorted by UTF-8 bytes.
  Single-value columns hold one code per row; multi-value columns hold ``offsets`` (int64, rows+1)
  into a flat code array, and a row with no values holds the single code 0. Empty strings are values,
  distinct from null.
* :class:`NumericColumn`: long, float or double values with an optional null mask.
* :class:`SketchColumn`: one sparse sketch per row (see :mod:`grove.segment.sketches`).

Bitmap indexes (one roaring bitmap of rows per dictionary code) come from a :class:`BitmapIndex`:
stored in the segment file for persisted segments, built on first use for in-memory ones.
"""

from __future__ import annotations

import array
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from pyroaring import BitMap

from grove.segment.hashing import hash_strings, prefix_keys
from grove.segment.roaring import rows_by_code, serialize_bitmaps, serialize_code_bitmaps
from grove.segment.sketches import SketchArray


def code_dtype(cardinality: int) -> np.dtype:
    """The narrowest unsigned integer type holding codes ``0 .. cardinality-1``."""
    if cardinality <= 1 << 8:
        return np.dtype(np.uint8)
    if cardinality <= 1 << 16:
        return np.dtype(np.uint16)
    return np.dtype(np.int32)


def bitmap_from_rows(rows: np.ndarray) -> BitMap:
    return BitMap(array.array("I", np.ascontiguousarray(rows, dtype=np.uint32).tobytes()))


def bitmap_rows(bm: BitMap) -> np.ndarray:
    """The rows of a bitmap as a sorted int64 array."""
    return np.frombuffer(bm.to_array(), dtype=np.uint32).astype(np.int64)


class BitmapIndex(ABC):
    """Rows per dictionary code."""

    @abstractmethod
    def get(self, code: int) -> BitMap:
        """The rows holding ``code`` (an empty bitmap for codes out of range)."""


class ComputedBitmapIndex(BitmapIndex):
    """Bitmaps built from the codes on first use: one counting sort, then one slice per code."""

    def __init__(self, codes: np.ndarray, rows: np.ndarray | None, cardinality: int) -> None:
        self._codes = codes
        self._rows = rows  # row of each code for multi-value columns
        self._cardinality = cardinality
        self._cache: dict[int, BitMap] = {}
        self._order: np.ndarray | None = None
        self._starts: np.ndarray | None = None

    def _prepare(self) -> tuple[np.ndarray, np.ndarray]:
        if self._order is None or self._starts is None:
            order, self._starts = rows_by_code(self._codes, self._cardinality)
            self._order = order if self._rows is None else self._rows[order]
        return self._order, self._starts

    def get(self, code: int) -> BitMap:
        bm = self._cache.get(code)
        if bm is None:
            if not 0 <= code < self._cardinality:
                return BitMap()
            order, starts = self._prepare()
            bm = self._cache[code] = bitmap_from_rows(order[starts[code] : starts[code + 1]])
        return bm

    def all_serialized(self) -> tuple[np.ndarray, np.ndarray]:
        """Every bitmap serialized back to back, with int64 offsets (cardinality+1) into the blob."""
        if self._rows is None and self._order is None:
            return serialize_code_bitmaps(self._codes, self._cardinality)
        order, starts = self._prepare()
        return serialize_bitmaps(order, starts)


class StringColumn:
    """A dictionary-encoded string column (see module docstring for the encoding)."""

    kind = "string"

    def __init__(
        self,
        dictionary: pa.Array,
        codes: np.ndarray,
        offsets: np.ndarray | None = None,
        bitmaps: BitmapIndex | None = None,
    ) -> None:
        self.dictionary = dictionary
        self.codes = codes
        self.offsets = offsets
        self._bitmaps = bitmaps
        self._has_index = bitmaps is not None
        self._index: dict[str, int] | None = None
        self._hashes: np.ndarray | None = None
        self._keys: np.ndarray | None = None

    @property
    def multi_value(self) -> bool:
        return self.offsets is not None

    @property
    def cardinality(self) -> int:
        """Number of codes including the null code 0."""
        return len(self.dictionary) + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1 if self.offsets is not None else len(self.codes)

    def value_rows(self) -> np.ndarray:
        """For multi-value columns, the row of every flat code; for single-value, the row numbers."""
        if self.offsets is None:
            return np.arange(len(self.codes), dtype=np.int64)
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets))

    @property
    def has_index(self) -> bool:
        """True when a stored bitmap index came with the column (using it touches no rows)."""
        return self._has_index

    @property
    def bitmaps(self) -> BitmapIndex:
        if self._bitmaps is None:
            rows = self.value_rows() if self.offsets is not None else None
            self._bitmaps = ComputedBitmapIndex(self.codes, rows, self.cardinality)
        return self._bitmaps

    def bitmap(self, code: int) -> BitMap:
        return self.bitmaps.get(code)

    def _value_index(self) -> dict[str, int]:
        """value → code, built once per column object (segments keep their columns open)."""
        index = self._index
        if index is None:
            index = self._index = {v: i + 1 for i, v in enumerate(self.dictionary.to_pylist())}
        return index

    def dictionary_hashes(self) -> np.ndarray:
        """:func:`grove.segment.hashing.hash_strings` of the dictionary, worked out once per column
        object (8 bytes per distinct value), for :class:`grove.segment.hashing.StringSet` probes."""
        hashes = self._hashes
        if hashes is None:
            hashes = self._hashes = hash_strings(self.dictionary)
        return hashes

    def dictionary_keys(self) -> np.ndarray:
        """:func:`grove.segment.hashing.prefix_keys` of the dictionary, worked out once per column
        object (16 bytes per distinct value), to match sorted value lists against it."""
        keys = self._keys
        if keys is None:
            keys = self._keys = prefix_keys(self.dictionary)
        return keys

    def lookup(self, value: str | None) -> int:
        """The code of ``value`` (0 for None), or -1 when the value is absent."""
        if value is None:
            return 0
        return self._value_index().get(value, -1)

    def lookup_many(self, values: Sequence[str | None]) -> np.ndarray:
        """Codes for many values at once (-1 for absent; 0 for None)."""
        index = self._value_index()
        return np.fromiter(
            (0 if v is None else index.get(v, -1) for v in values), dtype=np.int64, count=len(values)
        )

    def decode(self, codes: np.ndarray) -> pa.Array:
        """Strings for codes (null for code 0)."""
        codes = np.asarray(codes, dtype=np.int64)
        idx = pa.array(codes - 1, mask=codes == 0, type=pa.int64())
        return self.dictionary.take(idx)

    def values_with_null(self) -> pa.Array:
        """The dictionary with a leading null, so that ``take(codes)`` decodes directly."""
        return pa.concat_arrays([pa.nulls(1, self.dictionary.type), self.dictionary])

    def to_arrow(self) -> pa.Array:
        """Row values: strings for single-value, list<string> for multi-value (null rows as null)."""
        if self.offsets is None:
            return self.decode(self.codes)
        # Every row holds at least one code, and only an empty row holds the null code.
        flat = self.decode(self.codes)
        null_rows = (np.diff(self.offsets) == 1) & (self.codes[self.offsets[:-1]] == 0)
        return pa.LargeListArray.from_arrays(
            pa.array(self.offsets, pa.int64()), flat, mask=pa.array(null_rows)
        )

    def slice(self, start: int, stop: int) -> StringColumn:
        """Rows ``[start, stop)``, sharing the codes (a view, not a copy)."""
        if self.offsets is None:
            return StringColumn(self.dictionary, self.codes[start:stop])
        lo, hi = int(self.offsets[start]), int(self.offsets[stop])
        return StringColumn(self.dictionary, self.codes[lo:hi], self.offsets[start : stop + 1] - lo)

    def take(self, rows: np.ndarray) -> StringColumn:
        rows = np.asarray(rows, dtype=np.int64)
        if self.offsets is None:
            return StringColumn(self.dictionary, self.codes[rows])
        lengths = np.diff(self.offsets)[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        starts = self.offsets[:-1][rows]
        idx = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1], dtype=np.int64)
        return StringColumn(self.dictionary, self.codes[idx], offsets)


class NumericColumn:
    """Long, float or double values; ``nulls`` is a boolean mask (None when no row is null)."""

    def __init__(self, kind: str, values: np.ndarray, nulls: np.ndarray | None = None) -> None:
        self.kind = kind  # "long" | "float" | "double"
        self.values = values
        self.nulls = nulls if nulls is not None and nulls.any() else None

    def __len__(self) -> int:
        return len(self.values)

    @property
    def has_nulls(self) -> bool:
        return self.nulls is not None

    def null_bitmap(self) -> BitMap:
        return bitmap_from_rows(np.flatnonzero(self.nulls)) if self.nulls is not None else BitMap()

    def slice(self, start: int, stop: int) -> NumericColumn:
        """Rows ``[start, stop)``, sharing the values (a view, not a copy)."""
        return NumericColumn(
            self.kind, self.values[start:stop], self.nulls[start:stop] if self.nulls is not None else None
        )

    def take(self, rows: np.ndarray) -> NumericColumn:
        return NumericColumn(
            self.kind, self.values[rows], self.nulls[rows] if self.nulls is not None else None
        )

    def to_arrow(self) -> pa.Array:
        return pa.array(self.values, mask=self.nulls)


class SketchColumn:
    """One sparse sketch per row."""

    kind = "sketch"

    def __init__(self, sketches: SketchArray) -> None:
        self.sketches = sketches

    def __len__(self) -> int:
        return len(self.sketches)

    def slice(self, start: int, stop: int) -> SketchColumn:
        """Rows ``[start, stop)``, sharing the entries (a view, not a copy)."""
        return SketchColumn(self.sketches.slice(start, stop))

    def take(self, rows: np.ndarray) -> SketchColumn:
        return SketchColumn(self.sketches.take(rows))


Column = StringColumn | NumericColumn | SketchColumn
