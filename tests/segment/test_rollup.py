"""Sorting into segment order and rollup, checked against DuckDB GROUP BY; concatenating blocks."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from blockgen import (
    FULL_SCHEMA,
    block_rows,
    canonical,
    duckdb_rollup,
    make_block,
    python_rollup_sketches,
    random_rows,
    sort_key,
    without,
)

from grove.segment.block import RowBlock, unify_dictionaries, union_schema
from grove.segment.columns import NumericColumn, StringColumn
from grove.segment.encode import encode_strings
from grove.segment.rollup import _dense_rank, _hash_rank, _run_rank, row_keys, sort_rows
from grove.segment.schema import DimensionDef, MetricDef, SegmentSchema

SKETCHES = ("users", "uniq")


@pytest.mark.parametrize(("seed", "n"), [(1, 1), (2, 10), (3, 500), (4, 5000)])
def test_rollup_matches_duckdb_group_by(seed: int, n: int) -> None:
    rows = random_rows(random.Random(seed), n)
    block = make_block(FULL_SCHEMA, rows)
    rolled = sort_rows(block, rollup=True)
    got = block_rows(rolled)
    # Every (time, dimensions) key once, in segment order.
    key = sort_key(FULL_SCHEMA)
    keys = [key(r) for r in got]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    # Numeric aggregates equal DuckDB's GROUP BY (nulls ignored, all-null groups null).
    assert canonical(without(got, SKETCHES)) == canonical(duckdb_rollup(rows, FULL_SCHEMA))
    # Sketches equal the sketch of each group's items.
    expected_sketches = python_rollup_sketches(rows, FULL_SCHEMA)
    assert {key(r): {s: r[s] for s in SKETCHES} for r in got} == expected_sketches
    assert sum(r["count"] for r in got) == n


def test_rollup_keeps_all_null_groups_null() -> None:
    schema = SegmentSchema(
        (DimensionDef("d"),),
        (
            MetricDef("s", "long", "sum"),
            MetricDef("lo", "double", "min"),
            MetricDef("hi", "float", "max"),
            MetricDef("lo_l", "long", "min"),
        ),
    )
    rows = [
        {"__time": 0, "d": "a", "s": None, "lo": None, "hi": None, "lo_l": None},
        {"__time": 0, "d": "a", "s": None, "lo": None, "hi": None, "lo_l": None},
        {"__time": 0, "d": "b", "s": 5, "lo": None, "hi": -2.5, "lo_l": 9},
        {"__time": 0, "d": "b", "s": None, "lo": 1.5, "hi": None, "lo_l": None},
        {"__time": 0, "d": "c", "s": -3, "lo": -1.0, "hi": -7.0, "lo_l": -4},
    ]
    got = block_rows(sort_rows(make_block(schema, rows), rollup=True))
    assert got == [
        {"__time": 0, "d": "a", "s": None, "lo": None, "hi": None, "lo_l": None},
        {"__time": 0, "d": "b", "s": 5, "lo": 1.5, "hi": -2.5, "lo_l": 9},
        {"__time": 0, "d": "c", "s": -3, "lo": -1.0, "hi": -7.0, "lo_l": -4},
    ]
    assert canonical(got) == canonical(duckdb_rollup(rows, schema))


def test_rollup_extremes_do_not_leak_identity_values() -> None:
    # min/max fill nulls with the type's extremes internally; real extremes must survive.
    schema = SegmentSchema((), (MetricDef("lo", "long", "min"), MetricDef("hi", "long", "max")))
    big, small = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    rows = [
        {"__time": 0, "lo": big, "hi": small},
        {"__time": 0, "lo": None, "hi": None},
        {"__time": 1, "lo": None, "hi": small},
    ]
    got = block_rows(sort_rows(make_block(schema, rows), rollup=True))
    assert got == [{"__time": 0, "lo": big, "hi": small}, {"__time": 1, "lo": None, "hi": small}]


def test_numeric_dimensions_sort_with_nulls_first() -> None:
    schema = SegmentSchema(
        (DimensionDef("n", "long"), DimensionDef("x", "double")), (MetricDef("c", "long", "sum"),)
    )
    rows = [
        {"__time": 5, "n": 3, "x": None, "c": 1},
        {"__time": 5, "n": None, "x": 2.0, "c": 1},
        {"__time": 5, "n": -7, "x": -1.0, "c": 1},
        {"__time": 5, "n": None, "x": None, "c": 1},
        {"__time": 1, "n": 100, "x": 0.0, "c": 1},
        {"__time": 5, "n": 0, "x": 0.0, "c": 1},
        {"__time": 5, "n": None, "x": 2.0, "c": 1},
    ]
    got = block_rows(sort_rows(make_block(schema, rows), rollup=True))
    assert [(r["__time"], r["n"], r["x"], r["c"]) for r in got] == [
        (1, 100, 0.0, 1),
        (5, None, None, 1),
        (5, None, 2.0, 2),
        (5, -7, -1.0, 1),
        (5, 0, 0.0, 1),
        (5, 3, None, 1),
    ]


def test_multi_value_keys_roll_up_by_their_whole_list() -> None:
    schema = SegmentSchema((DimensionDef("tags", multi_value=True),), (MetricDef("c", "long", "sum"),))
    rows = [
        {"__time": 0, "tags": ["b", "a"], "c": 1},
        {"__time": 0, "tags": ["a", "b"], "c": 2},  # same list after SORTED_ARRAY
        {"__time": 0, "tags": ["a"], "c": 4},
        {"__time": 0, "tags": [], "c": 8},
        {"__time": 0, "tags": None, "c": 16},  # null and empty are the same row value
        {"__time": 0, "tags": ["a", "b", "b"], "c": 32},
        {"__time": 0, "tags": [""], "c": 64},
    ]
    got = block_rows(sort_rows(make_block(schema, rows), rollup=True))
    assert [(r["tags"], r["c"]) for r in got] == [
        (None, 24),
        (("",), 64),
        (("a",), 4),
        (("a", "b"), 3),
        (("a", "b", "b"), 32),
    ]


@pytest.mark.parametrize("seed", [5, 6])
def test_without_rollup_every_row_is_kept_in_segment_order(seed: int) -> None:
    rows = random_rows(random.Random(seed), 800)
    block = make_block(FULL_SCHEMA, rows)
    out = sort_rows(block, rollup=False)
    assert out.num_rows == block.num_rows
    # Exactly a stable sort of the input rows by (time, dimensions).
    assert block_rows(out) == sorted(block_rows(block), key=sort_key(FULL_SCHEMA))


def test_already_sorted_and_distinct_blocks_are_returned_as_is() -> None:
    rows = [{"__time": t, "country": c} for t, c in ((0, "a"), (0, "b"), (1, None), (2, "a"))]
    schema = SegmentSchema((DimensionDef("country"),), ())
    block = make_block(schema, rows)
    assert sort_rows(block, rollup=True) is block
    assert sort_rows(block, rollup=False) is block
    empty = RowBlock.empty(FULL_SCHEMA)
    assert sort_rows(empty, rollup=True).num_rows == 0


@pytest.mark.parametrize(("n", "times"), [(6000, 3000), (40_000, 10**9)])
def test_row_keys_survive_overflowing_key_products(n: int, times: int) -> None:
    # Six dimensions of ~4000 values each: the composite key must be re-densified, not wrap around.
    # The larger block has nearly unique times, so ranks come from one sort rather than hashing.
    rng = np.random.default_rng(12)
    dims = tuple(DimensionDef(f"d{i}") for i in range(6))
    schema = SegmentSchema(dims, (MetricDef("c", "long", "sum"),))
    columns = {}
    raw = {}
    for d in dims:
        values = [f"{v:05d}" for v in rng.integers(0, 4000, n)]
        raw[d.name] = values
        columns[d.name] = encode_strings(pa.array(values))
    columns["c"] = NumericColumn("long", np.ones(n, dtype=np.int64))
    time = rng.integers(0, times, n).astype(np.int64)
    block = RowBlock(schema, time, columns)
    keys = row_keys(block)
    tuples = [(int(time[i]), *(raw[d.name][i] for d in dims)) for i in range(n)]
    order = np.argsort(keys, kind="stable")
    assert [tuples[i] for i in order] == sorted(tuples)
    # Equal keys exactly for equal rows.
    by_key: dict[int, tuple] = {}
    for k, t in zip(keys.tolist(), tuples, strict=True):
        assert by_key.setdefault(k, t) == t
    assert len(set(keys.tolist())) == len(set(tuples))


@pytest.mark.parametrize("nearly_sorted", [False, True])
def test_row_keys_of_nested_dimensions_rank_early_and_keep_segment_order(nearly_sorted: bool) -> None:
    """Nested dimensions (advertiser > campaign > ad group > pin) have few distinct combinations but
    a huge product of cardinalities: they are re-ranked before overflowing, by hashing. Millisecond
    times are nearly distinct and arrive nearly in order: ranked by one stable sort."""
    rng = np.random.default_rng(3)
    n = 60_000
    pin = rng.integers(0, 30_000, n)
    levels = {"adv": pin // 2000, "cmp": pin // 200, "grp": pin // 20, "pin": pin}
    levels |= {"country": rng.integers(0, 40, n), "user": rng.integers(0, 40_000, n)}
    dims = tuple(DimensionDef(name) for name in levels)
    raw = {name: [f"{name}{v:06d}" for v in values] for name, values in levels.items()}
    columns: dict[str, Any] = {name: encode_strings(pa.array(values)) for name, values in raw.items()}
    columns["c"] = NumericColumn("long", np.ones(n, dtype=np.int64))
    time = np.sort(rng.integers(0, 10**8, n)) if nearly_sorted else rng.integers(0, 50, n) * 3_600_000
    if nearly_sorted:
        swaps = rng.integers(0, n - 1, n // 10)
        time[swaps], time[swaps + 1] = time[swaps + 1], time[swaps].copy()
    block = RowBlock(SegmentSchema(dims, (MetricDef("c", "long", "sum"),)), time.astype(np.int64), columns)
    keys = row_keys(block)
    tuples = [(int(time[i]), *(raw[d.name][i] for d in dims)) for i in range(n)]
    order = np.argsort(keys, kind="stable")
    assert order.tolist() == sorted(range(n), key=lambda i: tuples[i])
    assert len(set(keys.tolist())) == len(set(tuples))


# --- concatenation, the step before every cross-block rollup ----------------------------------------


def test_slice_is_a_view_equal_to_taking_the_rows() -> None:
    rows = random_rows(random.Random(8), 300)
    block = make_block(FULL_SCHEMA, rows)
    part = block.slice(40, 170)
    assert block_rows(part) == block_rows(block.take(np.arange(40, 170)))
    assert np.shares_memory(part.time, block.time)
    assert block_rows(block.slice(7, 7)) == []


def test_concat_unifies_dictionaries_and_fills_missing_dimensions_with_null() -> None:
    a_schema = SegmentSchema((DimensionDef("x"), DimensionDef("y", "long")), (MetricDef("c", "long", "sum"),))
    b_schema = SegmentSchema(
        (DimensionDef("z"), DimensionDef("x", multi_value=True)), (MetricDef("c", "long", "sum"),)
    )
    a = make_block(
        a_schema, [{"__time": 1, "x": "q", "y": 5, "c": 1}, {"__time": 2, "x": None, "y": None, "c": 2}]
    )
    b = make_block(
        b_schema,
        [{"__time": 3, "z": "zz", "x": ["b", "a"], "c": 3}, {"__time": 4, "z": None, "x": [], "c": 4}],
    )
    schema = union_schema([a_schema, b_schema])
    assert schema.dimension_names == ("x", "y", "z")
    assert schema.dimension("x") == DimensionDef("x", "string", True)
    joined = RowBlock.concat([a, RowBlock.empty(a_schema), b], schema)
    assert block_rows(joined) == [
        {"__time": 1, "x": ("q",), "y": 5, "z": None, "c": 1},
        {"__time": 2, "x": None, "y": None, "z": None, "c": 2},
        {"__time": 3, "x": ("a", "b"), "y": None, "z": "zz", "c": 3},
        {"__time": 4, "x": None, "y": None, "z": None, "c": 4},
    ]
    x = joined.columns["x"]
    assert isinstance(x, StringColumn) and x.dictionary.to_pylist() == ["a", "b", "q"]
    assert RowBlock.concat([a, b]).schema.dimension_names == ("x", "y", "z")
    assert RowBlock.concat([RowBlock.empty(a_schema)], a_schema).num_rows == 0


def test_unify_dictionaries() -> None:
    d1 = pa.array(["a", "c"], pa.large_string())
    d2 = pa.array(["b", "c", "d"], pa.large_string())
    merged, remaps = unify_dictionaries([d1, d2, pa.array([], pa.large_string())])
    assert merged.to_pylist() == ["a", "b", "c", "d"]
    assert (
        remaps[0].tolist() == [0, 1, 3] and remaps[1].tolist() == [0, 2, 3, 4] and remaps[2].tolist() == [0]
    )
    same, same_remaps = unify_dictionaries([d1, d1])
    assert same is d1 and same_remaps[1].tolist() == [0, 1, 2]


def test_rollup_of_concatenated_blocks_equals_rollup_of_all_rows() -> None:
    rng = random.Random(77)
    parts = [random_rows(rng, rng.randrange(0, 300), countries=("x", "y", None, f"c{i}")) for i in range(6)]
    blocks = [sort_rows(make_block(FULL_SCHEMA, p), rollup=True) for p in parts]
    once = sort_rows(RowBlock.concat(blocks), rollup=True)
    all_rows = [r for p in parts for r in p]
    assert block_rows(once) == block_rows(sort_rows(make_block(FULL_SCHEMA, all_rows), rollup=True))
    assert canonical(without(block_rows(once), SKETCHES)) == canonical(duckdb_rollup(all_rows, FULL_SCHEMA))


@pytest.mark.parametrize(
    "values",
    [
        np.repeat(np.array([5, -3, 5, 9, -3], dtype=np.int64), [400, 300, 200, 100, 50]),  # values recur
        np.repeat(np.arange(24, dtype=np.int64) * 3_600_000, 500),  # hours in order
        np.repeat(np.array([2, 1, 0], dtype=np.uint16), 1000),
        np.array([7, 7], dtype=np.int64),
    ],
)
def test_integers_in_runs_rank_like_hashing_them(values: np.ndarray) -> None:
    assert _run_rank(values) is not None
    ranks, count = _dense_rank(values)
    want, want_count = _hash_rank(values)
    assert count == want_count
    assert ranks.tolist() == want.tolist()


def test_integers_that_change_often_are_not_ranked_by_run() -> None:
    assert _run_rank(np.random.default_rng(1).integers(0, 100, 5000)) is None
    assert _run_rank(np.arange(5000, dtype=np.int64)) is None
    assert _run_rank(np.repeat(np.array([0.5, 1.5]), 100)) is None  # floats: NaNs never equal themselves
