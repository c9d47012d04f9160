"""Bitmap indexes built in compiled kernels: rows grouped by code, serialized roaring bitmaps."""

from __future__ import annotations

import numpy as np
import pytest
from pyroaring import BitMap

from grove.segment.columns import ComputedBitmapIndex
from grove.segment.roaring import rows_by_code, serialize_bitmaps


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
