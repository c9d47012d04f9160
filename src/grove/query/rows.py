"""Row sets: which rows of a segment range a filter selects, as a roaring bitmap or a boolean mask.

Filters on indexed string columns produce bitmaps straight from the bitmap index (no row is touched);
other filters produce masks computed over the columns. :class:`Rows` hides which one it holds and
combines them with set algebra, staying in bitmaps while both sides are bitmaps. Row numbers are
absolute segment rows; a mask covers the rows ``[lo, hi)`` of the range being filtered.
"""

from __future__ import annotations

import numpy as np
from pyroaring import BitMap

from grove.segment.columns import bitmap_from_rows, bitmap_rows


class Rows:
    """A set of rows within ``[lo, hi)``; exactly one of ``bitmap`` / ``mask`` is set.

    A bitmap must hold only rows inside ``[lo, hi)``.
    """

    __slots__ = ("_bitmap", "_mask", "hi", "lo")

    def __init__(
        self, lo: int, hi: int, *, bitmap: BitMap | None = None, mask: np.ndarray | None = None
    ) -> None:
        self.lo = lo
        self.hi = hi
        self._bitmap = bitmap
        self._mask = mask

    @staticmethod
    def all(lo: int, hi: int) -> Rows:
        return Rows(lo, hi, bitmap=_range_bitmap(lo, hi))

    @staticmethod
    def none(lo: int, hi: int) -> Rows:
        return Rows(lo, hi, bitmap=BitMap())

    @staticmethod
    def from_mask(lo: int, hi: int, mask: np.ndarray) -> Rows:
        return Rows(lo, hi, mask=mask)

    @property
    def is_bitmap(self) -> bool:
        return self._bitmap is not None

    def bitmap(self) -> BitMap:
        if self._bitmap is None:
            assert self._mask is not None
            self._bitmap = bitmap_from_rows(np.flatnonzero(self._mask) + self.lo)
        return self._bitmap

    def mask(self) -> np.ndarray:
        """Boolean mask over ``[lo, hi)``."""
        if self._mask is None:
            assert self._bitmap is not None
            mask = np.zeros(self.hi - self.lo, dtype=bool)
            rows = bitmap_rows(self._bitmap)
            if self.lo or (len(rows) and rows[-1] >= self.hi):
                rows = rows[(rows >= self.lo) & (rows < self.hi)]
            mask[rows - self.lo] = True
            self._mask = mask
        return self._mask

    def indices(self) -> np.ndarray:
        """Sorted absolute row numbers."""
        if self._bitmap is not None:
            rows = bitmap_rows(self._bitmap)
            if len(rows) and (rows[0] < self.lo or rows[-1] >= self.hi):
                rows = rows[(rows >= self.lo) & (rows < self.hi)]
            return rows
        assert self._mask is not None
        return np.flatnonzero(self._mask) + self.lo

    def count(self) -> int:
        if self._bitmap is not None:
            return len(self._bitmap)
        assert self._mask is not None
        return int(np.count_nonzero(self._mask))

    def is_empty(self) -> bool:
        return self.count() == 0

    def is_full(self) -> bool:
        return self.count() == self.hi - self.lo

    def __and__(self, other: Rows) -> Rows:
        if self._bitmap is not None and other._bitmap is not None:
            return Rows(self.lo, self.hi, bitmap=self._bitmap & other._bitmap)
        return Rows(self.lo, self.hi, mask=self.mask() & other.mask())

    def __or__(self, other: Rows) -> Rows:
        if self._bitmap is not None and other._bitmap is not None:
            return Rows(self.lo, self.hi, bitmap=self._bitmap | other._bitmap)
        return Rows(self.lo, self.hi, mask=self.mask() | other.mask())

    def __sub__(self, other: Rows) -> Rows:
        if self._bitmap is not None and other._bitmap is not None:
            return Rows(self.lo, self.hi, bitmap=self._bitmap - other._bitmap)
        return Rows(self.lo, self.hi, mask=self.mask() & ~other.mask())

    def invert(self) -> Rows:
        """The rows of ``[lo, hi)`` not in this set."""
        if self._bitmap is not None:
            return Rows(self.lo, self.hi, bitmap=_range_bitmap(self.lo, self.hi) - self._bitmap)
        assert self._mask is not None
        return Rows(self.lo, self.hi, mask=~self._mask)


def _range_bitmap(lo: int, hi: int) -> BitMap:
    bm = BitMap()
    if hi > lo:
        bm.add_range(lo, hi)
    return bm
