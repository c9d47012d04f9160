"""Combining integer metrics over runs of sorted rows, in a compiled kernel.

Rollup sums (or takes the minimum or maximum of) a metric over each run of rows sharing a key. With
numpy that is a gather into sorted order (a copy of the column) and then ``reduceat`` over the copy;
here each run is combined straight from the unsorted column. Integer arithmetic is exact in any
order (sums wrap around on overflow as numpy's do), so the result is numpy's to the bit; floating
point columns stay with numpy, whose summation order the segments already follow.
"""

from __future__ import annotations

import numba
import numpy as np

_SUM, _MIN, _MAX = 0, 1, 2
_OPS = {"sum": _SUM, "min": _MIN, "max": _MAX}


@numba.njit(cache=True, nogil=True)
def _reduce_runs(values: np.ndarray, order: np.ndarray, starts: np.ndarray, op: int, out: np.ndarray) -> None:
    runs = starts.shape[0]
    n = order.shape[0]
    for g in range(runs):
        lo = starts[g]
        hi = starts[g + 1] if g + 1 < runs else n
        acc = values[order[lo]]
        for j in range(lo + 1, hi):
            v = values[order[j]]
            if op == _SUM:
                acc += v
            elif op == _MIN:
                acc = min(acc, v)
            else:
                acc = max(acc, v)
        out[g] = acc


def reduce_runs(values: np.ndarray, order: np.ndarray, starts: np.ndarray, combine: str) -> np.ndarray:
    """``np.<combine>.reduceat(values[order], starts)`` for an integer ``values`` column, without
    the sorted copy: ``starts`` are the strictly increasing, non-empty runs' first positions in
    ``order`` (the first is 0). ``combine`` is ``sum``, ``min`` or ``max``."""
    out = np.empty(len(starts), dtype=values.dtype)
    if len(starts):
        _reduce_runs(values, np.ascontiguousarray(order, dtype=np.int64), starts, _OPS[combine], out)
    return out
