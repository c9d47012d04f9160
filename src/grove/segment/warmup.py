"""Loading the segment layer's compiled kernels ahead of use.

numba compiles (or loads from its on-disk cache) each kernel on its first call, a few hundred
milliseconds per process. Worker processes call :func:`warm_kernels` when they start so the first
real batch does not pay for it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from grove.segment.hashing import hash_numbers, hash_strings
from grove.segment.radix import stable_argsort
from grove.segment.roaring import rows_by_code, serialize_bitmaps, serialize_code_bitmaps
from grove.segment.runs import reduce_runs
from grove.segment.sketches import SketchArray, hll_dense_registers, hll_entries, hll_union_runs


def warm_kernels() -> None:
    hashes = hash_strings(pa.array(["a", "b"]))
    hash_numbers(np.arange(2, dtype=np.int64))
    hash_numbers(np.arange(2, dtype=np.float64))
    entries = hll_entries(hashes, 14)
    hll_dense_registers(np.zeros(2, dtype=np.int64), entries, 1, 14)
    sketches = SketchArray("hll", 14, np.array([0, 1, 2], dtype=np.int64), entries)
    hll_union_runs(sketches, np.arange(2, dtype=np.int64), np.zeros(1, dtype=np.int64))
    stable_argsort(np.arange(2048, 0, -1, dtype=np.int64))  # out of order: the radix kernel
    reduce_runs(
        np.arange(2, dtype=np.int64), np.arange(2, dtype=np.int64), np.zeros(1, dtype=np.int64), "sum"
    )
    serialize_bitmaps(np.arange(2, dtype=np.int64), np.array([0, 1, 2], dtype=np.int64))
    for dtype in (np.uint8, np.uint16, np.int32):
        codes = np.zeros(2, dtype=dtype)
        rows_by_code(codes, 1)
        serialize_code_bitmaps(codes, 1)
        codes.flags.writeable = False  # codes of a memory-mapped segment
        rows_by_code(codes, 1)
        serialize_code_bitmaps(codes, 1)
