"""A stable argsort of int64 keys by least-significant-digit radix sort, in a compiled kernel.

Rollup keys are dense-ish integers of a few tens of bits whose rows arrive in no useful order (times
are ordered, the dimensions under them are not), where numpy's stable argsort (timsort for 64-bit
integers) compares its way through every row. A radix sort touches each row once per 11-bit digit of
the key's range: for a 30-bit key, three passes instead of ~18 comparisons a row. Keys that arrive
nearly in order (row times without rollup) are left to numpy, whose timsort runs through them faster.
"""

from __future__ import annotations

import numba
import numpy as np

_DIGIT_BITS = 11
_SMALL = 1024  # below this many rows numpy's sort is as fast and needs no scratch arrays
_SAMPLE_STEP = 64
_ORDERED = 0.1  # at most this share of descents between sampled keys: nearly in order


@numba.njit(cache=True, nogil=True)
def _radix_argsort(keys: np.ndarray, low: int, bits: int) -> np.ndarray:
    n = keys.shape[0]
    passes = max(1, (bits + _DIGIT_BITS - 1) // _DIGIT_BITS)
    width = (bits + passes - 1) // passes  # digits of equal width: fewer buckets, same passes
    mask = (1 << width) - 1
    # Where each digit's rows start, for every pass, from one reading of the keys.
    starts = np.zeros((passes, mask + 2), dtype=np.int64)
    for i in range(n):
        v = keys[i] - low
        for p in range(passes):
            starts[p, ((v >> (p * width)) & mask) + 1] += 1
    for p in range(passes):
        for d in range(mask + 1):
            starts[p, d + 1] += starts[p, d]
    order = np.empty(n, dtype=np.int64)
    shifted = np.empty(n, dtype=np.int64)
    first = starts[0]
    for i in range(n):
        v = keys[i] - low
        d = v & mask
        q = first[d]
        first[d] = q + 1
        order[q] = i
        shifted[q] = v
    next_order = np.empty(n, dtype=np.int64)
    next_shifted = np.empty(n, dtype=np.int64)
    for p in range(1, passes):
        at = starts[p]
        shift = p * width
        last = p == passes - 1
        for i in range(n):
            v = shifted[i]
            d = (v >> shift) & mask
            q = at[d]
            at[d] = q + 1
            next_order[q] = order[i]
            if not last:
                next_shifted[q] = v
        order, next_order = next_order, order
        shifted, next_shifted = next_shifted, shifted
    return order


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """The int64 positions that sort ``keys`` (a 1-d array), equal keys in position order: exactly
    ``np.argsort(keys, kind="stable")``, by radix sort for integers unless numpy's is as fast."""
    n = len(keys)
    integers = keys.dtype.kind == "i" or (keys.dtype.kind == "u" and keys.dtype.itemsize < 8)
    if not integers or n < _SMALL or _nearly_ordered(keys):
        return np.argsort(keys, kind="stable")
    low, high = int(keys.min()), int(keys.max())
    if high - low >= 1 << 63:
        return np.argsort(keys, kind="stable")  # the range itself would overflow int64
    return _radix_argsort(np.ascontiguousarray(keys, dtype=np.int64), low, (high - low).bit_length())


def _nearly_ordered(keys: np.ndarray) -> bool:
    sample = keys[::_SAMPLE_STEP]
    descents = np.count_nonzero(sample[1:] < sample[:-1])
    return bool(descents <= _ORDERED * (len(sample) - 1))
