"""Approximate distinct counts on 1M distinct values: accuracy at default size, and mergeability.

The values ``u0 .. u999999`` are spread over four daily segments (and, in the merged flavour, over
pieces and partitions). At default size every distinct-count aggregator (HLLSketchBuild and
HLLSketchMerge at the default lgK, hyperUnique, cardinality, thetaSketch at the default size) must be
within 2% of the exact count. Merging must lose nothing: the estimate over all segments and time
buckets equals the estimate of one sketch built over all the values at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from flavours import DAY, Dataset, flavour_runners

from grove.query.runner import QueryRunner
from grove.segment.hashing import hash_array
from grove.segment.sketches import (
    HLL_DEFAULT_LGK,
    THETA_DEFAULT_SIZE,
    hll_entries,
    hll_estimate_sparse,
    theta_estimate,
    theta_union_groups,
)

N = 1_000_000
START = 1_590_969_600_000  # 2020-06-01T00:00:00Z
INTERVAL = "2020-06-01/2020-06-05"

Run = Callable[[dict[str, Any]], list[Any]]


def _table() -> pa.Table:
    rng = np.random.default_rng(11)
    times = np.sort(START + rng.integers(0, 4 * DAY, size=N))
    users = pc.binary_join_element_wise("u", pc.cast(pa.array(rng.permutation(N)), pa.string()), "")
    return pa.table({"__time": pa.array(times, pa.int64()), "user": users})


TABLE = _table()

DISTINCT = Dataset(
    "distinct",
    TABLE,
    dimensions=["user"],
    metrics=[
        {"type": "count", "name": "count"},
        {"type": "HLLSketchBuild", "name": "users_hll", "fieldName": "user"},
        {"type": "hyperUnique", "name": "users_hu", "fieldName": "user"},
        {"type": "thetaSketch", "name": "users_theta", "fieldName": "user"},
    ],
    pieces=2,
)

AGGREGATIONS = [
    {"type": "HLLSketchMerge", "name": "hll_merge", "fieldName": "users_hll"},
    {"type": "HLLSketchBuild", "name": "hll_build", "fieldName": "user"},
    {"type": "hyperUnique", "name": "hyper_unique", "fieldName": "users_hu"},
    {"type": "cardinality", "name": "cardinality", "fields": ["user"]},
    {"type": "thetaSketch", "name": "theta_merge", "fieldName": "users_theta"},
    {"type": "thetaSketch", "name": "theta_build", "fieldName": "user"},
]
HLL_NAMES = ("hll_merge", "hll_build", "hyper_unique", "cardinality")
THETA_NAMES = ("theta_merge", "theta_build")


def one_hll(values: pa.Array) -> float:
    hashes, _ = hash_array(values)
    entries = hll_entries(hashes, HLL_DEFAULT_LGK)
    return float(hll_estimate_sparse(np.zeros(len(entries), np.int64), entries, 1, HLL_DEFAULT_LGK)[0])


def one_theta(values: pa.Array) -> float:
    hashes, _ = hash_array(values)
    sketch = theta_union_groups(np.zeros(len(hashes), np.int64), hashes, 1, THETA_DEFAULT_SIZE)
    return float(theta_estimate(sketch)[0])


@pytest.fixture(scope="module")
def distinct_runners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, QueryRunner]]:
    runners = flavour_runners([DISTINCT], tmp_path_factory.mktemp)
    yield runners
    for r in runners.values():
        r.close()


@pytest.fixture
def run(distinct_runners: dict[str, QueryRunner], flavour: str) -> Run:
    return distinct_runners[flavour].run


def query(**extra: Any) -> dict[str, Any]:
    return {
        "queryType": "timeseries",
        "dataSource": "distinct",
        "intervals": [INTERVAL],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "rows"}, *AGGREGATIONS],
        **extra,
    }


def test_within_two_percent_at_default_size(run: Run) -> None:
    (row,) = run(query())
    got = row["result"]
    assert got["rows"] == N
    for name in HLL_NAMES + THETA_NAMES:
        assert abs(got[name] - N) <= 0.02 * N, f"{name}: {got[name]} is not within 2% of {N}"


def test_merged_estimate_equals_one_sketch_over_all_values(run: Run) -> None:
    got = run(query())[0]["result"]
    users = TABLE.column("user").combine_chunks()
    hll, theta = one_hll(users), one_theta(users)
    for name in HLL_NAMES:
        assert got[name] == pytest.approx(hll, rel=1e-12), name
    for name in THETA_NAMES:
        assert got[name] == pytest.approx(theta, rel=1e-12), name


def test_mergeable_across_time_buckets(run: Run) -> None:
    result = run(query(granularity="day", context={"grandTotal": True}))
    assert len(result) == 5
    times = TABLE.column("__time").to_numpy()
    users = TABLE.column("user").combine_chunks()
    for day, row in enumerate(result[:4]):
        inside = pa.array((times >= START + day * DAY) & (times < START + (day + 1) * DAY))
        part = users.filter(inside)
        assert row["result"]["rows"] == len(part)
        for name in HLL_NAMES:
            assert row["result"][name] == pytest.approx(one_hll(part), rel=1e-12), (day, name)
        for name in THETA_NAMES:
            assert row["result"][name] == pytest.approx(one_theta(part), rel=1e-12), (day, name)
    total = result[-1]["result"]
    assert total["hll_merge"] == pytest.approx(one_hll(users), rel=1e-12)
    assert total["theta_merge"] == pytest.approx(one_theta(users), rel=1e-12)
    assert abs(total["hll_merge"] - N) <= 0.02 * N


def test_mergeable_across_groups_and_hours(run: Run) -> None:
    # hourly groups unioned again by the grand total of a timeseries over the same hours
    hourly = run(query(granularity="hour", aggregations=[{"type": "count", "name": "rows"}, AGGREGATIONS[0]]))
    assert sum(r["result"]["rows"] for r in hourly) == N
    assert all(r["result"]["hll_merge"] > 0 for r in hourly)
    unioned = run(
        {
            "queryType": "groupBy",
            "dataSource": "distinct",
            "intervals": [INTERVAL],
            "granularity": "all",
            "dimensions": [],
            "aggregations": [AGGREGATIONS[0], AGGREGATIONS[4]],
        }
    )
    users = TABLE.column("user").combine_chunks()
    assert unioned[0]["event"]["hll_merge"] == pytest.approx(one_hll(users), rel=1e-12)
    assert unioned[0]["event"]["theta_merge"] == pytest.approx(one_theta(users), rel=1e-12)
