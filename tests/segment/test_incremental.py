"""The incremental index: rollup as rows arrive, consistent snapshots, persist."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import pytest
from blockgen import (
    FULL_SCHEMA,
    block_rows,
    canonical,
    duckdb_rollup,
    make_block,
    random_rows,
    sort_key,
    without,
)

import grove.segment.incremental as incremental
from grove.common.intervals import Interval
from grove.segment.columns import NumericColumn, SketchColumn, StringColumn
from grove.segment.format import MappedSegment
from grove.segment.incremental import IncrementalIndex
from grove.segment.rollup import sort_rows
from grove.segment.schema import DimensionDef, MetricDef, SegmentSchema
from grove.segment.segment import SegmentInfo

INFO = SegmentInfo("wikipedia", Interval(0, 10_000), "v1")


def _batches(seed: int, count: int, max_rows: int = 200) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    return [random_rows(rng, rng.randrange(0, max_rows)) for _ in range(count)]


def test_many_blocks_snapshot_equals_one_shot_rollup() -> None:
    batches = _batches(1, 30)
    index = IncrementalIndex(INFO, FULL_SCHEMA)
    for rows in batches:
        index.add(make_block(FULL_SCHEMA, rows))
    all_rows = [r for rows in batches for r in rows]
    one_shot = sort_rows(make_block(FULL_SCHEMA, all_rows), rollup=True)
    snap = index.snapshot()
    assert block_rows(snap.to_block()) == block_rows(one_shot)
    assert index.num_rows == snap.num_rows == one_shot.num_rows
    assert canonical(without(block_rows(snap.to_block()), ("users", "uniq"))) == canonical(
        duckdb_rollup(all_rows, FULL_SCHEMA)
    )
    assert snap.info == INFO


def test_without_rollup_every_row_is_kept_sorted() -> None:
    schema = SegmentSchema(FULL_SCHEMA.dimensions, FULL_SCHEMA.metrics, rollup=False)
    batches = _batches(2, 12, 100)
    index = IncrementalIndex(INFO, schema)
    for rows in batches:
        index.add(make_block(schema, rows))
    got = block_rows(index.snapshot().to_block())
    all_rows = block_rows(make_block(schema, [r for rows in batches for r in rows]))
    assert len(got) == len(all_rows)
    assert got == sorted(got, key=sort_key(schema))
    assert canonical(got) == canonical(all_rows)


def test_snapshots_are_consistent_views() -> None:
    index = IncrementalIndex(INFO, FULL_SCHEMA)
    rng = random.Random(3)
    index.add(make_block(FULL_SCHEMA, random_rows(rng, 50)))
    first = index.snapshot()
    first_rows = block_rows(first.to_block())
    assert index.snapshot() is first  # cached while nothing changes
    for _ in range(10):  # enough to trigger compaction
        index.add(make_block(FULL_SCHEMA, random_rows(rng, 50)))
    assert block_rows(first.to_block()) == first_rows
    assert index.snapshot() is not first
    assert sum(r["count"] for r in block_rows(index.snapshot().to_block())) == 550


def test_empty_index() -> None:
    index = IncrementalIndex(INFO, FULL_SCHEMA)
    index.add(make_block(FULL_SCHEMA, []))
    snap = index.snapshot()
    assert snap.num_rows == 0 and index.num_rows == 0
    assert snap.min_time is None and snap.max_time is None
    assert isinstance(snap.column("country"), StringColumn)
    assert isinstance(snap.column("tags"), StringColumn)
    assert isinstance(snap.column("user_id"), NumericColumn)
    users = snap.column("users")
    assert isinstance(users, SketchColumn) and users.sketches.param == 12 and len(users) == 0
    assert block_rows(snap.to_block()) == []


def test_persist_writes_a_readable_file_and_empties_the_index(tmp_path: Path) -> None:
    index = IncrementalIndex(INFO, FULL_SCHEMA)
    for rows in _batches(4, 5):
        index.add(make_block(FULL_SCHEMA, rows))
    expected = block_rows(index.snapshot().to_block())
    size = index.persist(tmp_path / "piece-0.grove")
    seg = MappedSegment(tmp_path / "piece-0.grove")
    assert size == (tmp_path / "piece-0.grove").stat().st_size
    assert block_rows(seg.to_block()) == expected and seg.info == INFO
    seg.verify()
    assert index.num_rows == 0 and index.snapshot().num_rows == 0
    # The index keeps working after a persist.
    index.add(make_block(FULL_SCHEMA, random_rows(random.Random(5), 10)))
    assert index.num_rows > 0
    index.persist(tmp_path / "piece-1.grove")
    assert MappedSegment(tmp_path / "piece-1.grove").num_rows > 0
    # Persisting an empty index writes an empty, readable segment.
    index.persist(tmp_path / "piece-2.grove")
    empty = MappedSegment(tmp_path / "piece-2.grove")
    assert empty.num_rows == 0 and empty.schema == FULL_SCHEMA
    empty.verify()


def test_new_dimensions_widen_the_schema() -> None:
    narrow = SegmentSchema((DimensionDef("a"),), (MetricDef("c", "long", "sum"),))
    wide = SegmentSchema((DimensionDef("a"), DimensionDef("b")), (MetricDef("c", "long", "sum"),))
    index = IncrementalIndex(INFO, narrow)
    index.add(make_block(narrow, [{"__time": 0, "a": "x", "c": 1}]))
    index.add(
        make_block(
            wide, [{"__time": 0, "a": "x", "b": "y", "c": 2}, {"__time": 0, "a": "x", "b": None, "c": 4}]
        )
    )
    snap = index.snapshot()
    assert snap.schema.dimension_names == ("a", "b")
    assert block_rows(snap.to_block()) == [
        {"__time": 0, "a": "x", "b": None, "c": 5},
        {"__time": 0, "a": "x", "b": "y", "c": 2},
    ]


def test_rows_added_while_persisting_are_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = IncrementalIndex(INFO, FULL_SCHEMA)
    index.add(make_block(FULL_SCHEMA, random_rows(random.Random(6), 20)))
    late = make_block(FULL_SCHEMA, [{"__time": 9999, "country": "late", "count": 1}])
    real_write = incremental.write_segment
    added = threading.Event()

    def write_while_adding(*args: Any, **kwargs: Any) -> int:
        # Another thread adds rows while the file is being written; wait (bounded) for it.
        threading.Thread(target=lambda: (index.add(late), added.set()), daemon=True).start()
        added.wait(timeout=0.5)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(incremental, "write_segment", write_while_adding)
    index.persist(tmp_path / "piece.grove")
    assert added.wait(timeout=10)
    persisted = block_rows(MappedSegment(tmp_path / "piece.grove").to_block())
    remaining = block_rows(index.snapshot().to_block())
    countries = [r["country"] for r in persisted + remaining]
    assert countries.count("late") == 1
    assert sum(r["count"] for r in persisted + remaining) == 21


def test_a_failed_persist_keeps_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = IncrementalIndex(INFO, FULL_SCHEMA)
    index.add(make_block(FULL_SCHEMA, random_rows(random.Random(7), 30)))
    before = block_rows(index.snapshot().to_block())

    def broken(*args: Any, **kwargs: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(incremental, "write_segment", broken)
    with pytest.raises(OSError):
        index.persist(tmp_path / "piece.grove")
    assert block_rows(index.snapshot().to_block()) == before and index.num_rows == len(before)


def test_persist_without_bitmaps_is_still_readable(tmp_path: Path) -> None:
    index = IncrementalIndex(INFO, FULL_SCHEMA)
    index.add(make_block(FULL_SCHEMA, random_rows(random.Random(8), 300)))
    expected = index.snapshot().to_block()
    index.persist(tmp_path / "piece.grove", bitmaps=False, durable=False)
    seg = MappedSegment(tmp_path / "piece.grove")
    assert block_rows(seg.to_block()) == block_rows(expected)
    country = seg.column("country")
    original = expected.columns["country"]
    assert isinstance(country, StringColumn) and isinstance(original, StringColumn)
    for code in range(country.cardinality):
        assert country.bitmap(code) == original.bitmap(code)
    seg.verify()


@pytest.mark.parametrize("regime", ["rolls_up", "unique", "mixed"])
@pytest.mark.parametrize("batch_rows", [150, 1500])  # 1500: blocks the radix sort orders
def test_snapshot_equals_one_shot_rollup_whether_rollup_pays_or_not(regime: str, batch_rows: int) -> None:
    rng = random.Random(9)
    batches = []
    for i in range(20):
        if regime == "rolls_up" or (regime == "mixed" and i < 10):
            rows = random_rows(
                rng, batch_rows, times=(0, 1), countries=("US", "FR"), tags=("a",), null_rate=1.0
            )
        else:
            rows = random_rows(rng, batch_rows, times=range(i * 1000, i * 1000 + 150))
            for j, r in enumerate(rows):
                r["country"] = f"c{i}-{j}"
        batches.append(rows)
    index = IncrementalIndex(INFO, FULL_SCHEMA)
    for rows in batches:
        index.add(make_block(FULL_SCHEMA, rows))
    all_rows = [r for rows in batches for r in rows]
    expected = block_rows(sort_rows(make_block(FULL_SCHEMA, all_rows), rollup=True))
    assert block_rows(index.snapshot().to_block()) == expected
    assert index.num_rows == len(expected)
    assert index.rollup_pays == (regime == "rolls_up")
