"""Integer metrics combined over runs of sorted rows match numpy's gather-then-reduceat."""

from __future__ import annotations

import numpy as np
import pytest

from grove.segment.columns import NumericColumn
from grove.segment.rollup import combine_metric
from grove.segment.runs import reduce_runs
from grove.segment.schema import MetricDef

_REDUCE = {"sum": np.add, "min": np.minimum, "max": np.maximum}


def _runs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n).astype(np.int64)
    cuts = np.flatnonzero(rng.random(n) < 0.3)
    starts = np.unique(np.concatenate([[0], cuts])).astype(np.int64) if n else np.zeros(0, np.int64)
    return order, starts


@pytest.mark.parametrize("combine", ["sum", "min", "max"])
@pytest.mark.parametrize("n", [0, 1, 2, 1000])
def test_matches_gather_then_reduceat(combine: str, n: int) -> None:
    order, starts = _runs(n, n)
    values = np.random.default_rng(1).integers(-(10**12), 10**12, n)
    got = reduce_runs(values, order, starts, combine)
    want = _REDUCE[combine].reduceat(values[order], starts) if n else np.zeros(0, np.int64)
    assert got.dtype == np.int64
    assert got.tolist() == want.tolist()


def test_one_run_per_row_and_one_run_for_all() -> None:
    values = np.array([5, -3, 7, 7], dtype=np.int64)
    order = np.array([3, 1, 0, 2], dtype=np.int64)
    assert reduce_runs(values, order, np.arange(4, dtype=np.int64), "sum").tolist() == [7, -3, 5, 7]
    assert reduce_runs(values, order, np.zeros(1, dtype=np.int64), "sum").tolist() == [16]
    assert reduce_runs(values, order, np.zeros(1, dtype=np.int64), "min").tolist() == [-3]


def test_sums_wrap_around_as_numpy_does() -> None:
    top = np.iinfo(np.int64).max
    values = np.array([top, 1, top, top], dtype=np.int64)
    order = np.arange(4, dtype=np.int64)
    starts = np.array([0, 2], dtype=np.int64)
    with np.errstate(over="ignore"):
        want = np.add.reduceat(values, starts)
    assert reduce_runs(values, order, starts, "sum").tolist() == want.tolist()


@pytest.mark.parametrize("combine", ["sum", "min", "max"])
def test_combine_metric_takes_the_kernel_for_longs_without_nulls_and_numpy_otherwise(combine: str) -> None:
    order, starts = _runs(3000, 3)
    values = np.random.default_rng(2).integers(-1000, 1000, 3000)
    met = MetricDef("m", "long", combine)
    plain = combine_metric(met, NumericColumn("long", values), order, starts)
    assert isinstance(plain, NumericColumn) and plain.nulls is None
    assert plain.values.tolist() == _REDUCE[combine].reduceat(values[order], starts).tolist()
    nulls = np.zeros(3000, dtype=bool)
    nulls[::7] = True
    with_nulls = combine_metric(met, NumericColumn("long", values, nulls), order, starts)
    assert isinstance(with_nulls, NumericColumn)
    fill = {"sum": 0, "min": np.iinfo(np.int64).max, "max": np.iinfo(np.int64).min}[combine]
    want = _REDUCE[combine].reduceat(np.where(nulls, fill, values)[order], starts)
    all_null = np.add.reduceat((~nulls)[order].astype(np.int64), starts) == 0
    got_nulls = with_nulls.nulls if with_nulls.nulls is not None else np.zeros(len(starts), bool)
    assert got_nulls.tolist() == all_null.tolist()
    assert with_nulls.values[~all_null].tolist() == want[~all_null].tolist()
