"""Step 3 of a batch write: rows to one-row aggregates, then incremental indexes persisted as pieces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from ingest_helpers import DAY, HOUR, T0, filtered, plan_of, segment_table, task

from grove.ingest.indexing import IndexBuilder, to_block
from grove.ingest.partitioning import ChunkMapper
from grove.ingest.stats import RowStats
from grove.segment.block import RowBlock
from grove.segment.columns import NumericColumn, SketchColumn, StringColumn
from grove.segment.format import MappedSegment

NUMERIC_METRICS = [
    {"type": "count", "name": "count"},
    {"type": "longSum", "name": "long_sum", "fieldName": "v"},
    {"type": "doubleSum", "name": "double_sum", "fieldName": "v"},
    {"type": "floatSum", "name": "float_sum", "fieldName": "v"},
    {"type": "longMin", "name": "long_min", "fieldName": "v"},
    {"type": "longMax", "name": "long_max", "fieldName": "v"},
    {"type": "doubleMin", "name": "double_min", "fieldName": "v"},
    {"type": "doubleMax", "name": "double_max", "fieldName": "v"},
    {"type": "floatMin", "name": "float_min", "fieldName": "v"},
    {"type": "floatMax", "name": "float_max", "fieldName": "v"},
    {"type": "longSum", "name": "from_expression", "expression": "w * 10"},
    {"type": "doubleSum", "name": "absent", "fieldName": "not_in_the_input"},
]


def block_and_stats(spec: dict[str, Any], columns: dict[str, list[Any]]) -> tuple[RowBlock, RowStats]:
    n = len(next(iter(columns.values())))
    table = pa.table({"ts": columns.pop("ts", [T0 + i for i in range(n)]), **columns})
    rows, stats = filtered(table, spec)
    return to_block(rows, plan_of(spec), stats), stats


def values(block: RowBlock, name: str) -> list[Any]:
    col = block.columns[name]
    assert not isinstance(col, SketchColumn)
    return col.to_arrow().to_pylist()


# --- metrics ------------------------------------------------------------------------------------------


def test_numeric_metrics_take_each_rows_value_with_nulls_and_count_unparseable_rows() -> None:
    spec = task(dimensions=["d"], metrics=NUMERIC_METRICS)
    block, stats = block_and_stats(
        spec,
        {
            "d": ["a", "b", "c", "d", "e"],
            "v": ["2.5", "oops", None, "7", " -3 "],
            "w": [1, 2, None, 4, 5],
        },
    )
    assert values(block, "count") == [1, 1, 1, 1, 1]
    assert values(block, "long_sum") == [2, None, None, 7, -3]
    assert values(block, "double_sum") == [2.5, None, None, 7.0, -3.0]
    assert values(block, "float_sum") == [2.5, None, None, 7.0, -3.0]
    for name in ("long_min", "long_max"):
        assert values(block, name) == [2, None, None, 7, -3]
    for name in ("double_min", "double_max", "float_min", "float_max"):
        assert values(block, name) == [2.5, None, None, 7.0, -3.0]
    assert values(block, "from_expression") == [10, 20, None, 40, 50]
    assert values(block, "absent") == [None] * 5
    col = block.columns["float_sum"]
    assert isinstance(col, NumericColumn) and col.values.dtype == np.float32
    # One row had an unparseable number (in ten metrics): it is ingested, with errors, once.
    assert (stats.processed, stats.processed_with_error) == (5, 1)
    assert stats.parse_exceptions == 1


def test_rows_with_several_bad_values_count_once() -> None:
    spec = task(
        dimensions=[{"name": "n", "type": "long"}],
        metrics=[
            {"type": "longSum", "name": "a", "fieldName": "a"},
            {"type": "longSum", "name": "b", "fieldName": "b"},
        ],
    )
    _, stats = block_and_stats(spec, {"n": ["x", "1", "2"], "a": ["y", "z", "3"], "b": ["1", "w", "2"]})
    assert stats.processed_with_error == 2


def test_rollup_combines_metrics_ignoring_nulls(tmp_path: Path) -> None:
    spec = task(
        dimensions=["d"],
        metrics=NUMERIC_METRICS[:10],
        granularity={"segmentGranularity": "day", "queryGranularity": "hour", "rollup": True},
    )
    block, _ = block_and_stats(
        spec,
        {
            "ts": [T0, T0 + 10, T0 + 20, T0 + 30, T0 + HOUR],
            "d": ["a", "a", "a", "b", "a"],
            "v": ["1", None, "5", None, "2"],
        },
    )
    builder = IndexBuilder(plan_of(spec), "v1", ChunkMapper(plan_of(spec).segment_granularity), tmp_path, 0)
    builder.add(block)
    builder.persist_all()
    [piece] = builder.pieces
    rows = segment_table(MappedSegment(piece.path)).to_pylist()
    assert [(r["__time"], r["d"], r["count"]) for r in rows] == [
        (T0, "a", 3),
        (T0, "b", 1),
        (T0 + HOUR, "a", 1),
    ]
    first, only_null, later = rows
    assert (first["long_sum"], first["long_min"], first["long_max"]) == (6, 1, 5)
    assert (first["double_sum"], first["double_min"], first["double_max"]) == (6.0, 1.0, 5.0)
    assert (first["float_sum"], first["float_min"], first["float_max"]) == (6.0, 1.0, 5.0)
    assert all(only_null[m["name"]] is None for m in NUMERIC_METRICS[1:10])
    assert later["long_sum"] == 2


@pytest.mark.parametrize("kind", ["HLLSketchBuild", "hyperUnique", "thetaSketch"])
def test_sketch_metrics_hold_each_rows_distinct_values(kind: str) -> None:
    metrics = [
        {"type": kind, "name": "users", "fieldName": "user"},
        {"type": kind, "name": "tag_set", "fieldName": "tags"},
    ]
    spec = task(dimensions=["d"], metrics=metrics)
    block, stats = block_and_stats(
        spec,
        {
            "d": ["a", "b", "c", "d"],
            "user": ["u1", None, "u2", "u1"],
            "tags": [["x", "y", "x"], [], None, ["z"]],
        },
    )
    users = block.columns["users"]
    tags = block.columns["tag_set"]
    assert isinstance(users, SketchColumn) and isinstance(tags, SketchColumn)
    assert users.sketches.lengths().tolist() == [1, 0, 1, 1]
    assert np.round(users.sketches.estimates()).tolist() == [1, 0, 1, 1]
    assert np.round(tags.sketches.estimates()).tolist() == [2, 0, 0, 1]
    if kind == "thetaSketch":
        # A theta sketch is a set: the repeated "x" is stored once.
        assert tags.sketches.lengths().tolist() == [2, 0, 0, 1]
    # The same value gives the same sketch entry in every row.
    entries = users.sketches.entries.tolist()
    assert entries[0] == entries[2] and entries[0] != entries[1]
    assert stats.processed_with_error == 0


def test_sketch_parameters_come_from_the_spec() -> None:
    spec = task(
        dimensions=["d"],
        metrics=[
            {"type": "HLLSketchBuild", "name": "h", "fieldName": "u", "lgK": 10},
            {"type": "thetaSketch", "name": "t", "fieldName": "u", "size": 64},
        ],
    )
    block, _ = block_and_stats(spec, {"d": ["a"], "u": ["x"]})
    h, t = block.columns["h"], block.columns["t"]
    assert isinstance(h, SketchColumn) and isinstance(t, SketchColumn)
    assert (h.sketches.kind, h.sketches.param) == ("hll", 10)
    assert (t.sketches.kind, t.sketches.param) == ("theta", 64)


# --- dimensions ---------------------------------------------------------------------------------------

MULTI = [["b", "a", "b"], [], None, ["c"], ["", "x"]]


@pytest.mark.parametrize(
    ("handling", "expected"),
    [
        ("SORTED_ARRAY", [["a", "b", "b"], None, None, ["c"], ["", "x"]]),
        ("sorted_set", [["a", "b"], None, None, ["c"], ["", "x"]]),
        ("ARRAY", [["b", "a", "b"], None, None, ["c"], ["", "x"]]),
    ],
)
def test_multi_value_dimensions_follow_multi_value_handling(handling: str, expected: list[Any]) -> None:
    spec = task(dimensions=[{"name": "tags", "multiValueHandling": handling}], metrics=[])
    block, _ = block_and_stats(spec, {"tags": MULTI})
    [dim] = block.schema.dimensions
    assert dim.multi_value and dim.multi_value_handling == handling.upper()
    col = block.columns["tags"]
    assert isinstance(col, StringColumn) and col.multi_value
    assert values(block, "tags") == expected


def test_numeric_dimensions_are_typed_and_bad_values_become_null_with_errors() -> None:
    spec = task(
        dimensions=[
            "s",
            {"name": "l", "type": "long"},
            {"name": "f", "type": "float"},
            {"name": "x", "type": "double"},
        ],
        metrics=[],
    )
    block, stats = block_and_stats(
        spec,
        {"s": [1, 2, None], "l": ["10", "eleven", None], "f": [1.5, None, 2], "x": ["0.25", "1e3", "nan?"]},
    )
    assert values(block, "s") == ["1", "2", None]
    assert values(block, "l") == [10, None, None]
    assert values(block, "f") == [1.5, None, 2.0]
    assert values(block, "x") == [0.25, 1000.0, None]
    kinds = {d.name: d.type for d in block.schema.dimensions}
    assert kinds == {"s": "string", "l": "long", "f": "float", "x": "double"}
    assert stats.processed_with_error == 2


def test_declared_dimensions_missing_from_the_input_are_null() -> None:
    spec = task(dimensions=["d", "absent"], metrics=[])
    block, _ = block_and_stats(spec, {"d": ["a", "b"]})
    assert values(block, "absent") == [None, None]


def test_schemaless_discovery_skips_timestamp_exclusions_metric_inputs_and_internal_columns() -> None:
    spec = task(
        dimensions=[],
        exclusions=["secret"],
        metrics=[
            {"type": "count", "name": "count"},
            {"type": "longSum", "name": "total", "fieldName": "v"},
            {"type": "HLLSketchBuild", "name": "users", "fieldName": "user"},
        ],
    )
    block, _ = block_and_stats(
        spec,
        {
            "page": ["p", "q"],
            "secret": ["s1", "s2"],
            "v": [1, 2],
            "user": ["u1", "u2"],
            "__internal": [1, 2],
            "num": [1, 2],
            "tags": [["a"], ["b", "c"]],
            "nested": [{"k": 1}, {"k": 2}],
        },
    )
    dims = {d.name: (d.type, d.multi_value) for d in block.schema.dimensions}
    assert dims == {"page": ("string", False), "num": ("string", False), "tags": ("string", True)}
    assert values(block, "num") == ["1", "2"]
    assert block.schema.metric_names == ("count", "total", "users")


# --- time ---------------------------------------------------------------------------------------------


def test_query_granularity_truncates_row_times() -> None:
    spec = task(granularity={"segmentGranularity": "day", "queryGranularity": "hour"}, metrics=[])
    block, _ = block_and_stats(
        spec, {"ts": [T0 + 59 * 60_000, T0 + HOUR, T0 + DAY + HOUR + 1], "d": ["a"] * 3}
    )
    assert block.time.tolist() == [T0, T0 + HOUR, T0 + DAY + HOUR]


# --- IndexBuilder ---------------------------------------------------------------------------------------


def build(
    tmp_path: Path, max_rows_in_memory: int, blocks: list[dict[str, list[Any]]], rollup: bool = True
) -> IndexBuilder:
    spec = task(
        dimensions=["d"],
        metrics=[{"type": "count", "name": "count"}],
        granularity={"segmentGranularity": "day", "queryGranularity": "none", "rollup": rollup},
        tuning={"maxRowsInMemory": max_rows_in_memory},
    )
    plan = plan_of(spec)
    tmp_path.mkdir(parents=True, exist_ok=True)
    builder = IndexBuilder(plan, "v1", ChunkMapper(plan.segment_granularity), tmp_path, 3)
    for columns in blocks:
        block, _ = block_and_stats(spec, dict(columns))
        builder.add(block)
        assert builder.rows_in_memory < max_rows_in_memory  # never more held after an add
    builder.persist_all()
    return builder


def two_day_block(i: int) -> dict[str, list[Any]]:
    """Four distinct rows: two in each of two days."""
    return {
        "ts": [T0 + i, T0 + i + 1, T0 + DAY + i, T0 + DAY + i + 1],
        "d": [f"a{i}", f"b{i}", f"c{i}", f"d{i}"],
    }


def test_index_builder_persists_every_chunk_whenever_memory_fills(tmp_path: Path) -> None:
    # 4 rows per block, limit 10: persists after blocks 3 and 6 (12 rows each time), then the rest.
    builder = build(tmp_path, 10, [two_day_block(10 * i) for i in range(7)])
    pieces = builder.pieces
    assert len(pieces) == 6  # three persists × two day chunks
    assert [p.num_rows for p in pieces] == [6, 6, 6, 6, 2, 2]
    assert sorted({p.chunk.start for p in pieces}) == [T0, T0 + DAY]
    assert all(p.path.parent == tmp_path and p.path.exists() for p in pieces)
    assert len({p.path for p in pieces}) == 6
    assert all("w3" in p.path.name for p in pieces)
    for p in pieces:
        seg = MappedSegment(p.path)
        assert seg.num_rows == p.num_rows
        assert p.chunk.start <= seg.time().min() and seg.time().max() < p.chunk.end
    assert sum(p.num_rows for p in pieces) == 28
    # A chunk's first piece is written as a finished segment (bitmap indexes): when no other piece
    # shares its chunk, the merge moves it into place. Later pieces are only merged.
    with_index = [MappedSegment(p.path).column_meta("d")["buffers"].keys() >= {"bitmaps"} for p in pieces]
    assert with_index == [True, True, False, False, False, False]


def test_index_builder_cuts_time_ordered_blocks_into_chunks_without_reordering(tmp_path: Path) -> None:
    ordered = {"ts": [T0, T0 + 5, T0 + DAY, T0 + DAY + 1, T0 + 2 * DAY], "d": ["z", "a", "y", "b", "x"]}
    shuffled = {"ts": [T0 + DAY, T0, T0 + 2 * DAY, T0 + 5, T0 + DAY + 1], "d": ["y", "z", "x", "a", "b"]}
    for name, block in (("ordered", ordered), ("shuffled", shuffled)):
        builder = build(tmp_path / name, 100, [block])
        got = [segment_table(MappedSegment(p.path)).to_pylist() for p in builder.pieces]
        assert sorted([(r["__time"], r["d"]) for r in rows] for rows in got) == [
            [(T0, "z"), (T0 + 5, "a")],
            [(T0 + DAY, "y"), (T0 + DAY + 1, "b")],
            [(T0 + 2 * DAY, "x")],
        ]


def test_index_builder_counts_rows_after_rollup(tmp_path: Path) -> None:
    same: dict[str, list[Any]] = {"ts": [T0] * 5, "d": ["a"] * 5}
    builder = build(tmp_path, 3, [same] * 4)
    # Each block of five equal rows rolls up to one row on arrival, so rows in memory count rows after
    # rollup: 20 rows read leave at most one row per block.
    assert 1 <= sum(p.num_rows for p in builder.pieces) <= 4
    counts = [segment_table(MappedSegment(p.path)).column("count").to_pylist() for p in builder.pieces]
    assert sum(map(sum, counts)) == 20


def test_index_builder_without_rollup_keeps_every_row(tmp_path: Path) -> None:
    same: dict[str, list[Any]] = {"ts": [T0] * 5, "d": ["a"] * 5}
    builder = build(tmp_path, 7, [same] * 3, rollup=False)
    assert [p.num_rows for p in builder.pieces] == [10, 5]


def test_index_builder_with_nothing_added_persists_nothing(tmp_path: Path) -> None:
    assert build(tmp_path, 10, []).pieces == []
