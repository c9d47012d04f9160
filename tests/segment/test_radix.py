"""The radix argsort orders exactly like numpy's stable argsort, on every path it can take."""

from __future__ import annotations

import random

import numpy as np
import pytest
from blockgen import FULL_SCHEMA, make_block, random_rows

from grove.segment.columns import NumericColumn, StringColumn
from grove.segment.radix import _nearly_ordered, stable_argsort
from grove.segment.rollup import row_keys, sort_rows


def _keys(name: str) -> np.ndarray:
    rng = np.random.default_rng(7)
    n = 5000
    cases = {
        "empty": np.zeros(0, dtype=np.int64),
        "one row": np.array([42], dtype=np.int64),
        "small, ties": rng.integers(0, 5, 100),
        "all equal": np.full(n, 3, dtype=np.int64),
        "ties": rng.integers(0, 7, n),
        "30 bits": rng.integers(0, 1 << 30, n),
        "one digit": rng.integers(0, 1 << 11, n),
        "uneven digits": rng.integers(0, (1 << 23) + 5, n),
        "62 bits": rng.integers(0, 1 << 62, n),
        "negative": rng.integers(-(1 << 40), 1 << 40, n),
        "full range": np.concatenate(
            [rng.integers(-(1 << 62), 1 << 62, n), [np.iinfo(np.int64).min, np.iinfo(np.int64).max]]
        ),
        "descending": np.arange(n, 0, -1, dtype=np.int64) // 3,
        "nearly ordered": np.arange(n, dtype=np.int64) * 10 + rng.integers(0, 30, n),
        "ordered blocks of random": np.repeat(np.arange(5), n // 5) * (1 << 20) + rng.integers(0, 1 << 20, n),
    }
    return cases[name].astype(np.int64)


@pytest.mark.parametrize(
    "name",
    [
        "empty",
        "one row",
        "small, ties",
        "all equal",
        "ties",
        "30 bits",
        "one digit",
        "uneven digits",
        "62 bits",
        "negative",
        "full range",
        "descending",
        "nearly ordered",
        "ordered blocks of random",
    ],
)
def test_orders_like_numpy_stable_argsort(name: str) -> None:
    keys = _keys(name)
    order = stable_argsort(keys)
    assert order.dtype == np.int64
    assert order.tolist() == np.argsort(keys, kind="stable").tolist()


def test_out_of_order_keys_take_the_radix_path_and_ordered_ones_numpys() -> None:
    assert not _nearly_ordered(_keys("30 bits"))
    assert not _nearly_ordered(_keys("ordered blocks of random"))
    assert _nearly_ordered(_keys("nearly ordered"))


def test_a_strided_view_sorts_like_a_copy() -> None:
    keys = np.random.default_rng(3).integers(0, 1 << 33, 10_000)[::2]
    assert stable_argsort(keys).tolist() == np.argsort(keys, kind="stable").tolist()


def test_sort_rows_orders_like_a_stable_argsort_of_the_row_keys() -> None:
    # Enough rows, out of order, for the radix path; random rows hold nulls and repeated keys (ties).
    block = make_block(FULL_SCHEMA, random_rows(random.Random(11), 4000))
    key = row_keys(block)
    assert not _nearly_ordered(key)
    expected = np.argsort(key, kind="stable")
    got = sort_rows(block, rollup=False, key=key)
    assert got.time.tolist() == block.time[expected].tolist()
    for name, col in block.columns.items():
        reference = col.take(expected)
        if isinstance(col, StringColumn):
            assert got.columns[name].codes.tolist() == reference.codes.tolist(), name
        elif isinstance(col, NumericColumn):
            assert got.columns[name].values.tolist() == reference.values.tolist(), name
