"""The rows an aggregation reads from one segment view, and the group each row falls in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Selection:
    """Rows feeding aggregation: explicit absolute ``rows`` (may repeat, e.g. exploded multi-value
    groups), or when ``rows`` is None the contiguous range ``[lo, hi)``. ``groups[i]`` is the group of
    the i-th selected row; groups are ``0 .. num_groups-1``.
    """

    rows: np.ndarray | None
    lo: int
    hi: int
    groups: np.ndarray
    num_groups: int

    @property
    def size(self) -> int:
        return len(self.groups)

    def row_numbers(self) -> np.ndarray:
        """Absolute row numbers of the selected rows."""
        if self.rows is None:
            return np.arange(self.lo, self.hi, dtype=np.int64)
        return self.rows

    def gather(self, values: np.ndarray, base: int = 0) -> np.ndarray:
        """``values`` at the selected rows (``values[r - base]`` is row r)."""
        if self.rows is None:
            return values[self.lo - base : self.hi - base]
        return values[self.rows - base] if base else values[self.rows]

    def subset(self, keep: np.ndarray) -> Selection:
        """The selected rows where the boolean ``keep`` (aligned with the selection) is true."""
        rows = self.row_numbers()[keep]
        return Selection(rows, self.lo, self.hi, self.groups[keep], self.num_groups)
