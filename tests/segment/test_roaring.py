"""Bitmap indexes built in compiled kernels: rows grouped by code, serialized roaring bitmaps."""

from __future__ import annotations

import numpy as np
import pytest
from pyroaring import BitMap

from grove.segment.columns import ComputedBitmapIndex
from grove.segment.roaring import rows_by_code, serialize_bitmaps, serialize_code_bitmaps


@pytest.mark.parametrize(("dtype", "cardinality"), [(np.uint8, 3), (np.uint16, 4000), (np.int32, 70_000)])
def test_rows_by_code_is_a_stable_sort_by_code(dtype: type, cardinality: int) -> None:
    codes = np.random.default_rng(5).integers(0, cardinality, 50_000).astype(dtype)
    codes[:10] = cardinality - 1  # the last code is used; some codes are not
    positions, starts = rows_by_code(codes, cardinality)
    assert positions.tolist() == np.argsort(codes, kind="stable").tolist()
    assert np.diff(starts).tolist() == np.bincount(codes, minlength=cardinality).tolist()
    codes.flags.writeable = False  # as memory-mapped from a segment file
    again, _ = rows_by_code(codes, cardinality)
    assert again.tolist() == positions.tolist()


def test_serialized_bitmaps_read_back_as_the_rows_of_each_code() -> None:
    codes = np.array([2, 0, 2, 1, 2, 0], dtype=np.uint8)
    index = ComputedBitmapIndex(codes, None, 4)
    offsets, blob = index.all_serialized()
    rows = [list(BitMap.deserialize(blob[offsets[c] : offsets[c + 1]].tobytes())) for c in range(4)]
    assert rows == [[1, 5], [3], [0, 2, 4], []]
    positions, starts = rows_by_code(codes, 4)
    assert serialize_bitmaps(positions, starts)[1].tobytes() == blob.tobytes()


@pytest.mark.parametrize(
    ("n", "cardinality"),
    [(0, 1), (0, 3), (1, 1), (10, 3), (70_000, 2), (200_000, 3), (150_000, 4000), (100_000, 300_000)],
)
def test_bitmaps_from_codes_match_bitmaps_from_rows_sorted_by_code(n: int, cardinality: int) -> None:
    # Every container kind: arrays, bitsets (a code on more than 4096 rows of 65536), several keys,
    # unused codes; and a cardinality past the (code, container) table's bound (sorted by code then).
    rng = np.random.default_rng(n + cardinality)
    codes = rng.integers(0, cardinality, n)
    if n >= 70_000:
        codes[60_000:70_000] = cardinality - 1
    for dtype in (np.uint8, np.uint16, np.int32):
        if cardinality > np.iinfo(dtype).max + 1:
            continue
        typed = codes.astype(dtype)
        offsets, blob = serialize_code_bitmaps(typed, cardinality)
        want_offsets, want_blob = serialize_bitmaps(*rows_by_code(typed, cardinality))
        assert offsets.tolist() == want_offsets.tolist()
        assert blob.tobytes() == want_blob.tobytes()
        typed.flags.writeable = False  # as memory-mapped from a segment file
        assert serialize_code_bitmaps(typed, cardinality)[1].tobytes() == want_blob.tobytes()
