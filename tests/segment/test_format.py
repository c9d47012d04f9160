"""The segment file: round trips of every column type, lazy memory-mapped reads, corruption detection."""

from __future__ import annotations

import os
import random
import struct
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pytest
from blockgen import FULL_SCHEMA, block_rows, make_block, random_rows, rows_holding

from grove.common.intervals import Interval
from grove.errors import CorruptSegment
from grove.segment.block import RowBlock
from grove.segment.columns import NumericColumn, SketchColumn, StringColumn, bitmap_rows
from grove.segment.encode import encode_strings
from grove.segment.format import FILE_NAME, FORMAT_VERSION, MAGIC, MappedSegment, open_segment, write_segment
from grove.segment.hashing import hash_numbers
from grove.segment.rollup import sort_rows
from grove.segment.schema import DimensionDef, MetricDef, SegmentSchema
from grove.segment.segment import InMemorySegment, SegmentInfo
from grove.segment.sketches import hll_entries, hll_union_groups

INFO = SegmentInfo("wikipedia", Interval(0, 10_000), "v1", "ns1", 3)


def write(tmp_path: Path, block: RowBlock, name: str = FILE_NAME) -> Path:
    path = tmp_path / name
    size = write_segment(path, INFO, block)
    assert size == path.stat().st_size
    return path


def full_block(n: int, seed: int = 1) -> RowBlock:
    return sort_rows(
        make_block(FULL_SCHEMA, random_rows(random.Random(seed), n, times=range(0, 10_000, 7))), False
    )


def large_block(n: int) -> RowBlock:
    """Many rows built straight from numpy (Python row dicts would be slow)."""
    rng = np.random.default_rng(n)
    schema = SegmentSchema(
        (DimensionDef("page"), DimensionDef("tags", multi_value=True), DimensionDef("user", "long")),
        (MetricDef("added", "double", "sum"), MetricDef("users", "hll", "hll", params={"lgK": 12})),
    )
    pages = pa.array(np.char.add("page-", rng.integers(0, 5000, n).astype(str)))
    flat = pa.array(np.char.add("t", rng.integers(0, 50, 2 * n).astype(str)))
    tags = pa.ListArray.from_arrays(pa.array(np.arange(0, 2 * n + 1, 2, dtype=np.int32)), flat)
    user_hashes = hash_numbers(rng.integers(0, 10**6, n))
    columns = {
        "page": encode_strings(pages),
        "tags": encode_strings(tags),
        "user": NumericColumn("long", rng.integers(0, 10**6, n), rng.random(n) < 0.1),
        "added": NumericColumn("double", rng.normal(size=n)),
        "users": SketchColumn(hll_union_groups(np.arange(n), hll_entries(user_hashes, 12), n, 12)),
    }
    return RowBlock(schema, np.sort(rng.integers(0, 10_000, n)), columns)


@pytest.mark.parametrize("n", [0, 1, 2, 1000])
def test_round_trip_of_every_column_type(tmp_path: Path, n: int) -> None:
    block = full_block(n)
    seg = MappedSegment(write(tmp_path, block))
    assert seg.info == INFO and seg.schema == FULL_SCHEMA and seg.num_rows == n
    assert block_rows(seg.to_block()) == block_rows(block)
    assert seg.time().tolist() == block.time.tolist()
    assert seg.min_time == (int(block.time[0]) if n else None)
    assert seg.max_time == (int(block.time[-1]) if n else None)
    assert seg.size_bytes == (tmp_path / FILE_NAME).stat().st_size
    assert seg.column_names == FULL_SCHEMA.dimension_names + FULL_SCHEMA.metric_names
    assert seg.column("missing") is None
    time_col = seg.column("__time")
    assert isinstance(time_col, NumericColumn) and time_col.values.tolist() == block.time.tolist()
    assert not list(tmp_path.glob("*.tmp"))


def test_nulls_and_empty_strings_stay_distinct(tmp_path: Path) -> None:
    schema = SegmentSchema(
        (DimensionDef("s"), DimensionDef("m", multi_value=True)),
        (MetricDef("l", "long", "sum"), MetricDef("f", "float", "sum"), MetricDef("d", "double", "max")),
    )
    rows = [
        {"__time": 1, "s": "", "m": [""], "l": 0, "f": 0.0, "d": None},
        {"__time": 2, "s": None, "m": None, "l": None, "f": None, "d": -0.5},
        {"__time": 3, "s": "x", "m": ["", "x", "x"], "l": -(2**63), "f": 3.5, "d": float("inf")},
        {"__time": 4, "s": None, "m": [], "l": 2**63 - 1, "f": None, "d": None},
    ]
    block = make_block(schema, rows)
    seg = MappedSegment(write(tmp_path, block))
    got = block_rows(seg.to_block())
    assert [r["s"] for r in got] == ["", None, "x", None]
    assert [r["m"] for r in got] == [("",), None, ("", "x", "x"), None]
    assert [r["l"] for r in got] == [0, None, -(2**63), 2**63 - 1]
    assert [r["f"] for r in got] == [0.0, None, 3.5, None]
    assert [r["d"] for r in got] == [None, -0.5, float("inf"), None]
    meta = seg.column_meta("s")
    assert meta is not None and meta["hasNulls"] and meta["cardinality"] == 3
    assert meta["minValue"] == "" and meta["maxValue"] == "x"
    lmeta = seg.column_meta("l")
    assert lmeta is not None and lmeta["minValue"] == -(2**63) and lmeta["hasNulls"]
    assert seg.column_meta("nope") is None


def test_string_columns_dictionary_codes_and_bitmaps(tmp_path: Path) -> None:
    block = full_block(3000, seed=4)
    seg = MappedSegment(write(tmp_path, block))
    for name in ("country", "tags"):
        col = seg.column(name)
        original = block.columns[name]
        assert isinstance(col, StringColumn) and isinstance(original, StringColumn)
        values = col.dictionary.to_pylist()
        assert values == sorted(values, key=str.encode) and len(set(values)) == len(values)
        assert col.multi_value == (name == "tags")
        row_values = block_rows(block)
        for code in range(col.cardinality):
            value = None if code == 0 else values[code - 1]
            expected = rows_holding(row_values, name, value)
            assert bitmap_rows(col.bitmap(code)).tolist() == expected, (name, value)
            assert col.bitmap(code) == original.bitmap(code)
        assert len(col.bitmap(col.cardinality)) == 0 and len(col.bitmap(-1)) == 0
        assert col.lookup(None) == 0


def test_numeric_and_sketch_columns(tmp_path: Path) -> None:
    rows = random_rows(random.Random(5), 2000, times=range(3))
    for i, r in enumerate(rows):
        r.update(country=f"c{i % 2}", tags=None, user_id=None, score=None, ratio=None)
    rolled = sort_rows(make_block(FULL_SCHEMA, rows), rollup=True)
    assert rolled.num_rows == 6
    uniq = rolled.columns["uniq"]
    assert isinstance(uniq, SketchColumn) and uniq.sketches.thetas is not None  # estimation mode
    seg = MappedSegment(write(tmp_path, rolled))
    for name in ("users", "uniq"):
        col, original = seg.column(name), rolled.columns[name]
        assert isinstance(col, SketchColumn) and isinstance(original, SketchColumn)
        assert col.sketches.kind == original.sketches.kind and col.sketches.param == original.sketches.param
        assert np.array_equal(col.sketches.offsets, original.sketches.offsets)
        assert np.array_equal(col.sketches.entries, original.sketches.entries)
        assert np.array_equal(col.sketches.estimates(), original.sketches.estimates())
    weight = seg.column("weight")
    assert isinstance(weight, NumericColumn) and weight.values.dtype == np.float32
    # Loaded arrays are read-only views of the mapped file, not copies.
    assert not weight.values.flags.writeable and not seg.time().flags.writeable


def test_directory_path_and_open_segment(tmp_path: Path) -> None:
    write(tmp_path, full_block(10))
    assert open_segment(tmp_path).num_rows == 10
    assert MappedSegment(str(tmp_path)).path == tmp_path / FILE_NAME


def test_rows_in_and_in_memory_flavour_agree(tmp_path: Path) -> None:
    block = full_block(500, seed=6)
    mapped = MappedSegment(write(tmp_path, block))
    memory = InMemorySegment(INFO, block)
    for iv in (Interval(0, 10_000), Interval(70, 71), Interval(700, 3500), Interval(20_000, 30_000)):
        assert mapped.rows_in(iv) == memory.rows_in(iv)
        lo, hi = mapped.rows_in(iv)
        assert all(iv.contains_instant(int(t)) for t in mapped.time()[lo:hi])
    assert memory.to_block() is block and memory.column("nope") is None
    assert memory.min_time == mapped.min_time and memory.max_time == mapped.max_time


# --- laziness and corruption ---------------------------------------------------------------------------


def _footer(path: Path) -> dict:
    data = path.read_bytes()
    length, _, _ = struct.unpack("<QI8s", data[-20:])
    return orjson.loads(data[-20 - length : -20])


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5A]))


def test_opening_reads_only_the_footer(tmp_path: Path) -> None:
    block = large_block(1_000_000)
    path = write(tmp_path, block)
    assert path.stat().st_size > 20_000_000
    footer = _footer(path)
    # Corrupt every column buffer: opening still works, and so does everything the footer answers.
    for column in footer["columns"].values():
        for offset, length, _, _ in column["buffers"].values():
            if length:
                _flip(path, offset + length // 2)
    seg = MappedSegment(path)
    assert (
        seg.num_rows == 1_000_000
        and seg.min_time == int(block.time[0])
        and seg.max_time == int(block.time[-1])
    )
    assert seg.schema == block.schema and seg.column_meta("page") is not None
    for name in seg.column_names:
        with pytest.raises(CorruptSegment) as err:
            seg.column(name)
        assert str(path) in err.value.message and f"[{name}]" in err.value.message
    with pytest.raises(CorruptSegment):
        seg.time()


def test_a_corrupt_column_leaves_the_others_readable(tmp_path: Path) -> None:
    block = full_block(1000, seed=8)
    path = write(tmp_path, block)
    offset, length, _, _ = _footer(path)["columns"]["added"]["buffers"]["values"]
    _flip(path, offset + length - 1)
    seg = MappedSegment(path)
    assert seg.num_rows == 1000
    with pytest.raises(CorruptSegment):
        seg.column("added")
    col = seg.column("count")
    assert isinstance(col, NumericColumn) and int(col.values.sum()) == 1000
    with pytest.raises(CorruptSegment):
        seg.verify()


def test_verify_catches_a_flipped_byte_anywhere(tmp_path: Path) -> None:
    schema = SegmentSchema(
        (DimensionDef("s"), DimensionDef("m", multi_value=True), DimensionDef("n", "long")),
        (
            MetricDef("c", "long", "sum"),
            MetricDef("u", "hll", "hll", params={"lgK": 4}),
            MetricDef("t", "theta", "theta", params={"size": 2}),
        ),
    )
    rows = [
        {"__time": 5, "s": "a", "m": ["x", "y"], "n": None, "c": 1, "u": ["p"], "t": [1, 2, 3]},
        {"__time": 9, "s": None, "m": None, "n": 3, "c": 2, "u": [], "t": []},
    ]
    path = write(tmp_path, make_block(schema, rows))
    pristine = path.read_bytes()
    MappedSegment(path).verify()
    for offset in range(len(pristine)):
        _flip(path, offset)
        with pytest.raises(CorruptSegment) as err:
            MappedSegment(path).verify()
        assert str(path) in err.value.message, offset
        path.write_bytes(pristine)


def test_truncated_files(tmp_path: Path) -> None:
    path = write(tmp_path, full_block(300))
    pristine = path.read_bytes()
    for keep in (0, 5, 19, 40, len(pristine) // 2, len(pristine) - 30, len(pristine) - 1):
        path.write_bytes(pristine[:keep])
        with pytest.raises(CorruptSegment) as err:
            MappedSegment(path).verify()
        assert str(path) in err.value.message
    # Extra bytes after the trailer are a torn file, too.
    path.write_bytes(pristine + b"\0" * 7)
    with pytest.raises(CorruptSegment):
        MappedSegment(path)


def test_bad_magic_version_and_footer(tmp_path: Path) -> None:
    path = write(tmp_path, full_block(50))
    pristine = path.read_bytes()
    cases = {
        "bad magic": b"NOTGROVE" + pristine[8:],
        "version": pristine[:8] + struct.pack("<I", FORMAT_VERSION + 1) + pristine[12:],
        "trailer magic": pristine[:-8] + b"XXXXXXXX",
        "footer": pristine[:-30] + bytes([pristine[-30] ^ 1]) + pristine[-29:],
        "footer length": pristine[:-20] + struct.pack("<Q", 10**12) + pristine[-12:],
    }
    for why, data in cases.items():
        path.write_bytes(data)
        with pytest.raises(CorruptSegment) as err:
            MappedSegment(path)
        assert str(path) in err.value.message, why
        assert err.value.status == 500
    assert pristine.startswith(MAGIC) and pristine.endswith(MAGIC)


def test_unreadable_or_missing_files(tmp_path: Path) -> None:
    with pytest.raises(CorruptSegment) as err:
        MappedSegment(tmp_path / "missing.grove")
    assert "missing.grove" in err.value.message
    empty = tmp_path / "empty.grove"
    empty.write_bytes(b"")
    with pytest.raises(CorruptSegment) as err:
        MappedSegment(empty)
    assert "empty.grove" in err.value.message


def test_write_replaces_atomically(tmp_path: Path) -> None:
    path = write(tmp_path, full_block(10))
    write(tmp_path, full_block(20, seed=2))
    assert MappedSegment(path).num_rows == 20
    assert sorted(os.listdir(tmp_path)) == [FILE_NAME]


def test_stored_bitmaps_of_every_container_kind(tmp_path: Path) -> None:
    # Rows spanning several 65536-row chunks; per chunk, values with fewer, exactly and more than 4096
    # rows (array and bitset containers), empty values and a value only in the last chunk.
    n = 3 * 65536 + 123
    codes = np.zeros(n, dtype=np.uint8)
    codes[::2] = 1  # 32768 rows per chunk: bitset containers
    codes[1 : 4096 * 3 : 3] = 2  # exactly 4096 rows, all in the first chunk
    codes[65537 : 65537 + 2 * 4097 : 2] = 3  # 4097 rows in the second chunk
    codes[-5:] = 4  # the last, partial chunk only
    codes[7] = 5
    dictionary = pa.array(["a", "b", "c", "d", "e", "unused"], pa.large_string())
    schema = SegmentSchema((DimensionDef("v"),), ())
    block = RowBlock(schema, np.arange(n, dtype=np.int64), {"v": StringColumn(dictionary, codes)})
    for bitmaps in (True, False):
        path = tmp_path / f"bitmaps-{bitmaps}.grove"
        write_segment(path, INFO, block, bitmaps=bitmaps)
        seg = MappedSegment(path)
        seg.verify()
        col = seg.column("v")
        assert isinstance(col, StringColumn) and col.has_index == bitmaps
        for code in range(col.cardinality + 1):
            expected = np.flatnonzero(codes == code)
            assert np.array_equal(bitmap_rows(col.bitmap(code)), expected), (bitmaps, code)
        assert bitmap_rows(col.bitmap(6)).tolist() == []
