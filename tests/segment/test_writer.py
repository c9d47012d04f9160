"""The streaming segment writer: appended blocks become one segment file, dictionaries re-sorted."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from blockgen import FULL_SCHEMA, block_rows, make_block, random_rows, rows_holding, sort_key

from grove.common.intervals import Interval
from grove.segment.block import RowBlock
from grove.segment.columns import SketchColumn, StringColumn, bitmap_rows
from grove.segment.format import FILE_NAME, MappedSegment
from grove.segment.rollup import sort_rows
from grove.segment.schema import DimensionDef, MetricDef, SegmentSchema
from grove.segment.segment import SegmentInfo
from grove.segment.writer import StreamingSegmentWriter

INFO = SegmentInfo("ads", Interval(0, 100_000), "v2", "spend", 1)


def _sorted_blocks(seed: int, count: int) -> list[RowBlock]:
    """Blocks in segment order across blocks: each block has its own time range and dictionaries."""
    rng = random.Random(seed)
    blocks = []
    for i in range(count):
        times = range(i * 1000, i * 1000 + 5)
        countries = ("US", None, "", f"only-in-{i}", "ZZ" if i % 2 else "AA")
        rows = random_rows(rng, rng.randrange(0, 400), times=times, countries=countries)
        blocks.append(sort_rows(make_block(FULL_SCHEMA, rows), rollup=True))
    return blocks


def test_appended_blocks_become_one_segment(tmp_path: Path) -> None:
    blocks = _sorted_blocks(1, 7)
    writer = StreamingSegmentWriter(tmp_path / "out", INFO, FULL_SCHEMA)
    for b in blocks:
        writer.append(b)
    assert writer.num_rows == sum(b.num_rows for b in blocks)
    path, size = writer.finish()
    assert path == tmp_path / "out" / FILE_NAME and size == path.stat().st_size
    assert not (tmp_path / "out" / "spill").exists()
    seg = MappedSegment(path)
    seg.verify()
    expected = [r for b in blocks for r in block_rows(b)]
    got = block_rows(seg.to_block())
    assert got == expected
    assert got == sorted(got, key=sort_key(FULL_SCHEMA))
    assert seg.info == INFO and seg.schema == FULL_SCHEMA
    # One sorted dictionary per column, null code 0, bitmaps matching the rows.
    for name in ("country", "tags"):
        col = seg.column(name)
        assert isinstance(col, StringColumn)
        values = col.dictionary.to_pylist()
        assert values == sorted(set(values), key=str.encode)
        for code in range(col.cardinality):
            value = None if code == 0 else values[code - 1]
            assert bitmap_rows(col.bitmap(code)).tolist() == rows_holding(got, name, value)
    country = seg.column("country")
    assert isinstance(country, StringColumn)
    assert {f"only-in-{i}" for i in range(7)} & set(country.dictionary.to_pylist())


def test_sketch_parameters_and_thetas_survive(tmp_path: Path) -> None:
    rng = random.Random(2)
    rows = random_rows(rng, 3000, times=(0, 1))
    for r in rows:
        r.update(country=None, tags=None, user_id=None, score=None, ratio=None)
    estimating = sort_rows(make_block(FULL_SCHEMA, rows), rollup=True)
    exact = sort_rows(make_block(FULL_SCHEMA, random_rows(rng, 5, times=(5,))), rollup=True)
    uniq = estimating.columns["uniq"]
    assert isinstance(uniq, SketchColumn) and uniq.sketches.thetas is not None
    writer = StreamingSegmentWriter(tmp_path, INFO, FULL_SCHEMA)
    writer.append(estimating)
    writer.append(exact)
    seg = MappedSegment(writer.finish()[0])
    assert block_rows(seg.to_block()) == block_rows(estimating) + block_rows(exact)
    users = seg.column("users")
    assert isinstance(users, SketchColumn) and users.sketches.param == 12
    written = seg.column("uniq")
    assert isinstance(written, SketchColumn) and written.sketches.param == 32


def test_empty_writer_and_empty_blocks(tmp_path: Path) -> None:
    writer = StreamingSegmentWriter(tmp_path, INFO, FULL_SCHEMA)
    writer.append(RowBlock.empty(FULL_SCHEMA))
    path, _ = writer.finish()
    seg = MappedSegment(path)
    assert seg.num_rows == 0 and block_rows(seg.to_block()) == []
    seg.verify()


def test_single_value_blocks_into_a_multi_value_column(tmp_path: Path) -> None:
    multi = SegmentSchema((DimensionDef("t", multi_value=True),), (MetricDef("c", "long", "sum"),))
    single = SegmentSchema((DimensionDef("t"),), (MetricDef("c", "long", "sum"),))
    writer = StreamingSegmentWriter(tmp_path, INFO, multi)
    writer.append(make_block(single, [{"__time": 0, "t": "b", "c": 1}, {"__time": 1, "t": None, "c": 1}]))
    writer.append(make_block(multi, [{"__time": 2, "t": ["a", "c"], "c": 1}, {"__time": 3, "t": [], "c": 1}]))
    seg = MappedSegment(writer.finish()[0])
    assert [r["t"] for r in block_rows(seg.to_block())] == [("b",), None, ("a", "c"), None]


def test_many_small_blocks_with_growing_dictionaries(tmp_path: Path) -> None:
    schema = SegmentSchema((DimensionDef("page"),), (MetricDef("c", "long", "sum"),))
    rng = np.random.default_rng(3)
    writer = StreamingSegmentWriter(tmp_path, INFO, schema)
    expected: list[str | None] = []
    for i in range(60):
        values = [None if v < 0 else f"p{v}" for v in rng.integers(-5, 10 * (i + 1), 50).tolist()]
        values.sort(key=lambda v: (v is not None, (v or "").encode()))
        writer.append(make_block(schema, [{"__time": i, "page": v, "c": 1} for v in values]))
        expected += values
    seg = MappedSegment(writer.finish()[0])
    col = seg.column("page")
    assert isinstance(col, StringColumn)
    assert col.to_arrow().to_pylist() == expected
    assert col.codes.dtype == np.uint16  # more than 255 distinct values
