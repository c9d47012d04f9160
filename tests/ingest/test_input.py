"""Input splits and reading: every line read exactly once, files found like Druid, memory bounded."""

from __future__ import annotations

import gzip
import os
import pickle
import random
from collections import Counter
from itertools import pairwise
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from grove.errors import IngestionFailed, InvalidSpec, Unsupported
from grove.ingest.input import InputSplit, ReadBatch, create_splits, read_split
from grove.ingest.spec import (
    CsvInputFormat,
    InlineInputSource,
    JsonInputFormat,
    LocalInputSource,
    ParquetInputFormat,
    TsvInputFormat,
)
from grove.ingest.timestamps import parse_timestamps

WIKITICKER = Path("/work/shared/datasets/wikiticker-2015-09-12-sampled.json.gz")
JSON = JsonInputFormat()


def read_all(splits: list[InputSplit], fmt: object, **kw: object) -> list[ReadBatch]:
    return [b for s in splits for b in read_split(s, fmt, **kw)]  # type: ignore[arg-type]


def rows_of(batches: list[ReadBatch]) -> list[dict]:
    return [row for b in batches for row in b.table.to_pylist()]


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def json_lines(rng: random.Random, n: int) -> list[bytes]:
    """Lines of very different lengths (some longer than the smallest splits), a few blank ones."""
    lines = []
    for i in range(n):
        if rng.random() < 0.03:
            lines.append(b"\n" if rng.random() < 0.5 else b"   \n")
            continue
        pad = "x" * rng.choice([0, 1, 5, 40, 300, 3000])
        lines.append(orjson.dumps({"id": i, "pad": pad}) + b"\n")
    return lines


def test_splits_cover_every_line_exactly_once_for_many_range_sizes(tmp_path: Path) -> None:
    rng = random.Random(7)
    lines = json_lines(rng, 1500)
    lines[-1] = lines[-1].rstrip(b"\n")  # no newline at the very end
    path = write_lines(tmp_path / "events.json", lines)
    size = path.stat().st_size
    want = Counter(orjson.loads(line)["id"] for line in lines if line.strip())
    source = LocalInputSource(files=(str(path),))
    for target in [1, 17, 100, 999, 3001, 4096, 65_537, size // 3, size - 1, size, 10 * size]:
        target += rng.randrange(0, 50)
        splits = create_splits(source, JSON, target_bytes=target)
        assert splits[0].start == 0 and splits[-1].end == size
        for a, b in pairwise(splits):
            assert a.end == b.start  # contiguous, no gaps, no overlaps
        data = path.read_bytes()
        assert all(data[s.start - 1 : s.start] == b"\n" for s in splits[1:])  # cut at line starts
        assert all(s.end - s.start >= min(target, size) or s is splits[-1] for s in splits)
        batches = read_all(splits, JSON, batch_rows=rng.choice([3, 7, 1000, 262_144]))
        got = Counter(r["id"] for r in rows_of(batches))
        assert got == want, target
        assert sum(b.rows_read for b in batches) == len(want)
        assert sum(b.parse_errors for b in batches) == 0


def test_splits_are_picklable_and_small(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.json", [b'{"a":1}\n'] * 1000)
    for split in create_splits(LocalInputSource(files=(str(path),)), JSON, target_bytes=100):
        assert pickle.loads(pickle.dumps(split)) == split
        assert len(pickle.dumps(split)) < 400


def test_gzipped_json_is_one_split_and_reads_whole(tmp_path: Path) -> None:
    lines = [orjson.dumps({"n": i, "t": "2015-09-12T00:00:00Z"}) + b"\n" for i in range(50_000)]
    path = tmp_path / "big.json.gz"
    path.write_bytes(gzip.compress(b"".join(lines)))
    splits = create_splits(LocalInputSource(files=(str(path),)), JSON, target_bytes=1000)
    assert len(splits) == 1 and splits[0].compression == "gzip" and splits[0].end == -1
    batches = read_all(splits, JSON, batch_rows=10_000)
    assert [b.table.num_rows for b in batches] == [10_000] * 5
    assert [r["n"] for r in rows_of(batches)] == list(range(50_000))


def test_wikiticker_tutorial_file() -> None:
    if not WIKITICKER.exists():
        pytest.skip("tutorial data not available")
    source = LocalInputSource(base_dir=str(WIKITICKER.parent), filter=WIKITICKER.name)
    splits = create_splits(source, JSON)
    batches = read_all(splits, JSON, string_columns=["page", "user", "isRobot", "channel", "cityName"])
    assert sum(b.table.num_rows for b in batches) == 39_244
    assert sum(b.rows_read for b in batches) == 39_244
    assert sum(b.parse_errors for b in batches) == 0
    table = pa.concat_tables(b.table for b in batches)
    assert table.schema.field("isRobot").type == pa.string()
    assert set(table.column("isRobot").to_pylist()) == {"true", "false"}
    millis, ok = parse_timestamps(table.column("time"), "iso")
    assert ok.all()
    assert millis.min() >= 1442016000000 and millis.max() < 1442102400000  # all on 2015-09-12 (UTC)
    assert millis.min() == 1442018818771  # 2015-09-12T00:46:58.771Z, the first edit


def make_tree(root: Path) -> None:
    for rel in ["a.json", "b.csv", "sub/c.json", "sub/deeper/d.json", "sub/deeper/e.txt", "z/2015/f.json"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text('{"x": 1}\n')


def names(splits: list[InputSplit], root: Path) -> list[str]:
    return [os.path.relpath(s.path, root) for s in splits]


def test_base_dir_filter_matches_names_at_any_depth_sorted(tmp_path: Path) -> None:
    make_tree(tmp_path)
    splits = create_splits(LocalInputSource(base_dir=str(tmp_path), filter="*.json"), JSON)
    assert names(splits, tmp_path) == ["a.json", "sub/c.json", "sub/deeper/d.json", "z/2015/f.json"]
    everything = create_splits(LocalInputSource(base_dir=str(tmp_path)), JSON)
    assert len(everything) == 6


def test_filter_with_a_slash_matches_relative_paths_and_double_star(tmp_path: Path) -> None:
    make_tree(tmp_path)
    src = LocalInputSource(base_dir=str(tmp_path), filter="sub/**/*.json")
    assert names(create_splits(src, JSON), tmp_path) == ["sub/c.json", "sub/deeper/d.json"]
    src = LocalInputSource(base_dir=str(tmp_path), filter="sub/*.json")
    assert names(create_splits(src, JSON), tmp_path) == ["sub/c.json"]
    src = LocalInputSource(base_dir=str(tmp_path), filter="**/[d-f].json")
    assert names(create_splits(src, JSON), tmp_path) == ["sub/deeper/d.json", "z/2015/f.json"]


def test_files_are_added_after_base_dir_without_duplicates(tmp_path: Path) -> None:
    make_tree(tmp_path)
    src = LocalInputSource(
        base_dir=str(tmp_path / "sub"),
        filter="*.json",
        files=(str(tmp_path / "a.json"), str(tmp_path / "sub/c.json")),
    )
    assert names(create_splits(src, JSON), tmp_path) == ["sub/c.json", "sub/deeper/d.json", "a.json"]


def test_missing_inputs_name_the_spec_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidSpec) as err:
        create_splits(LocalInputSource(base_dir=str(tmp_path / "nope")), JSON)
    assert err.value.path == "spec.ioConfig.inputSource.baseDir"
    (tmp_path / "ok.json").write_text("{}\n")
    with pytest.raises(InvalidSpec) as err:
        create_splits(LocalInputSource(files=(str(tmp_path / "ok.json"), str(tmp_path / "gone.json"))), JSON)
    assert err.value.path == "spec.ioConfig.inputSource.files[1]"
    with pytest.raises(InvalidSpec, match="No input files"):
        create_splits(LocalInputSource(base_dir=str(tmp_path), filter="*.parquet"), JSON)


def test_unsupported_sources_and_formats() -> None:
    class Source:
        type = "s3"

    class Format:
        type = "orc"

    with pytest.raises(Unsupported):
        create_splits(Source(), JSON)
    with pytest.raises(Unsupported):
        create_splits(InlineInputSource(data="{}"), Format())
    with pytest.raises(InvalidSpec):
        create_splits(InlineInputSource(data="{}"), ParquetInputFormat())


def test_empty_files_make_no_splits(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "header-only.csv").write_text("a,b\n")
    assert create_splits(LocalInputSource(files=(str(tmp_path / "empty.json"),)), JSON) == []
    csv_format = CsvInputFormat(find_columns_from_header=True)
    assert create_splits(LocalInputSource(files=(str(tmp_path / "header-only.csv"),)), csv_format) == []


def test_inline_json_and_csv() -> None:
    batches = read_all(create_splits(InlineInputSource(data='{"a": 1}\n{"a": 2}'), JSON), JSON)
    assert rows_of(batches) == [{"a": 1}, {"a": 2}]
    fmt = CsvInputFormat(find_columns_from_header=True, skip_header_rows=1)
    splits = create_splits(InlineInputSource(data="# comment\na,b\n1,x\n2,y\n"), fmt)
    assert splits[0].columns == ("a", "b")
    assert rows_of(read_all(splits, fmt)) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


def test_csv_header_is_found_once_and_every_split_knows_the_columns(tmp_path: Path) -> None:
    lines = ["skip me\n", "id,name\n"] + [f"{i},n{i}\n" for i in range(2000)]
    path = tmp_path / "data.csv"
    path.write_text("".join(lines))
    fmt = CsvInputFormat(find_columns_from_header=True, skip_header_rows=1)
    splits = create_splits(LocalInputSource(files=(str(path),)), fmt, target_bytes=500)
    assert len(splits) > 10
    assert all(s.columns == ("id", "name") for s in splits)
    assert splits[0].start == len("skip me\nid,name\n") and splits[0].first_line == 2
    rows = rows_of(read_all(splits, fmt, batch_rows=100))
    assert [r["id"] for r in rows] == list(range(2000))
    # gzipped: one split that skips the header lines itself
    gz = tmp_path / "data.csv.gz"
    gz.write_bytes(gzip.compress("".join(lines).encode()))
    splits = create_splits(LocalInputSource(files=(str(gz),)), fmt)
    assert len(splits) == 1 and splits[0].skip_lines == 2 and splits[0].columns == ("id", "name")
    assert [r["id"] for r in rows_of(read_all(splits, fmt))] == list(range(2000))


def test_tsv_header_and_duplicate_header_columns(tmp_path: Path) -> None:
    path = tmp_path / "d.tsv"
    path.write_text('a\t"b"\n1\t"q"\n')
    fmt = TsvInputFormat(find_columns_from_header=True)
    splits = create_splits(LocalInputSource(files=(str(path),)), fmt)
    assert splits[0].columns == ("a", '"b"')  # TSV has no quoting
    assert rows_of(read_all(splits, fmt)) == [{"a": 1, '"b"': '"q"'}]
    (tmp_path / "dup.csv").write_text("a,b,a\n1,2,3\n")
    with pytest.raises(InvalidSpec, match=r"Duplicate column \[a\]"):
        create_splits(
            LocalInputSource(files=(str(tmp_path / "dup.csv"),)),
            CsvInputFormat(find_columns_from_header=True),
        )


def test_min_splits_cuts_a_large_enough_input_again_into_smaller_splits(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.json", json_lines(random.Random(3), 2000))
    size = path.stat().st_size
    source = LocalInputSource(files=(str(path),))
    assert len(create_splits(source, JSON)) == 1
    two = create_splits(source, JSON, min_splits=2, min_split_bytes=size // 4)
    assert two == create_splits(source, JSON, target_bytes=size // 2)
    assert len(two) >= 2
    # Too small an input to share: one split, as without min_splits.
    assert create_splits(source, JSON, min_splits=2, min_split_bytes=size) == create_splits(source, JSON)
    # Found under baseDir once, the same files either way.
    found = LocalInputSource(base_dir=str(tmp_path), filter="*.json")
    assert create_splits(found, JSON, min_splits=2, min_split_bytes=size // 4) == two


def test_parquet_row_groups_are_the_splits(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    table = pa.table({"id": np.arange(10_000), "s": [f"v{i % 7}" for i in range(10_000)]})
    pq.write_table(table, path, row_group_size=1000)
    fmt = ParquetInputFormat()
    one = create_splits(LocalInputSource(files=(str(path),)), fmt)
    assert len(one) == 1 and one[0].row_groups == tuple(range(10))
    many = create_splits(LocalInputSource(files=(str(path),)), fmt, target_bytes=1)
    assert [s.row_groups for s in many] == [(i,) for i in range(10)]
    ids = [r["id"] for r in rows_of(read_all(many, fmt, batch_rows=300))]
    assert sorted(ids) == list(range(10_000))
    batches = read_all(many, fmt, batch_rows=300)
    assert max(b.table.num_rows for b in batches) <= 300
    assert sum(b.rows_read for b in batches) == 10_000
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(IngestionFailed):
        create_splits(LocalInputSource(files=(str(tmp_path / "bad.parquet"),)), fmt)


def test_parquet_string_columns_may_come_as_dictionaries(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    table = pa.table({"s": ["b", None, "", "a"] * 250, "n": list(range(1000)), "l": [["x"]] * 1000})
    pq.write_table(table, path, row_group_size=300)
    [split] = create_splits(LocalInputSource(files=(str(path),)), ParquetInputFormat())
    kw = {"batch_rows": 128, "string_columns": ["s", "n", "l"], "dictionary_columns": ["s", "n", "l"]}
    batches = read_all([split], ParquetInputFormat(), **kw)
    types = {f.name: f.type for b in batches for f in b.table.schema}
    assert pa.types.is_dictionary(types["s"])  # only string columns: numbers and lists as before
    assert types["n"] == pa.string() and types["l"] == pa.list_(pa.string())
    assert [r["s"] for r in rows_of(batches)] == table.column("s").to_pylist()
    # Not asked for, or renamed by a flattenSpec: plain strings.
    plain = read_all([split], ParquetInputFormat(), batch_rows=128, string_columns=["s"])
    assert {f.type for b in plain for f in b.table.schema if f.name == "s"} == {pa.string()}
    flat = ParquetInputFormat(flatten_spec={"fields": [{"type": "root", "name": "t", "expr": "s"}]})
    renamed = read_all([split], flat, columns=["s", "t"], **kw)
    assert {f.type for b in renamed for f in b.table.schema if f.name in ("s", "t")} == {pa.string()}


def test_reading_is_bounded_by_batch_rows_not_file_size(tmp_path: Path) -> None:
    line = orjson.dumps({"ts": "2015-09-12T00:00:00Z", "dim": "x" * 200, "n": 1}) + b"\n"
    path = tmp_path / "large.json"
    with open(path, "wb") as f:
        for _ in range(40):
            f.write(line * 5000)  # 200,000 lines, ~45 MB
    split = create_splits(LocalInputSource(files=(str(path),)), JSON, target_bytes=1 << 40)[0]
    assert split.end == path.stat().st_size
    peak = 0
    batches = 0
    rows = 0
    for batch in read_split(split, JSON, batch_rows=2000):
        assert 0 < batch.table.num_rows <= 2000
        batches += 1
        rows += batch.rows_read
        peak = max(peak, pa.total_allocated_bytes())
        del batch
    assert rows == 200_000 and batches == 100
    assert peak < 16 << 20, peak  # a few blocks' worth, not the 45 MB file


def test_io_errors_are_ingestion_failures(tmp_path: Path) -> None:
    path = tmp_path / "gone.json"
    path.write_text('{"a": 1}\n')
    split = create_splits(LocalInputSource(files=(str(path),)), JSON)[0]
    path.unlink()
    with pytest.raises(IngestionFailed, match=r"gone\.json"):
        list(read_split(split, JSON))
    corrupt = tmp_path / "corrupt.json.gz"
    corrupt.write_bytes(gzip.compress(b'{"a": 1}\n' * 1000)[:-40] + b"garbage" * 10)
    split = create_splits(LocalInputSource(files=(str(corrupt),)), JSON)[0]
    with pytest.raises(IngestionFailed, match=r"corrupt\.json\.gz"):
        list(read_split(split, JSON))


def test_error_line_numbers_are_exact_in_whole_files_ranges_and_gzip(tmp_path: Path) -> None:
    lines = [b'{"a": 1}\n'] * 5000
    bad = [17, 2500, 4999]
    for i in bad:
        lines[i] = b'{"a": \n'
    path = write_lines(tmp_path / "e.json", lines)
    whole = create_splits(LocalInputSource(files=(str(path),)), JSON)
    batches = read_all(whole, JSON, batch_rows=100)
    samples = [s for b in batches for s in b.error_samples]
    assert samples == [f"e.json line {i + 1}: malformed JSON" for i in bad]
    assert sum(b.parse_errors for b in batches) == 3
    assert sum(b.rows_read for b in batches) == 5000
    ranged = create_splits(LocalInputSource(files=(str(path),)), JSON, target_bytes=9 * 1000)
    samples = [s for b in read_all(ranged, JSON) for s in b.error_samples]
    # Ranges after the first know their line numbers relative to where they start.
    assert samples[0] == "e.json line 18: malformed JSON"
    assert samples[1].startswith("e.json line ") and samples[1].endswith(": malformed JSON")
    assert "after byte" in samples[1]
    gz = tmp_path / "e.json.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    samples = [
        s
        for b in read_all(create_splits(LocalInputSource(files=(str(gz),)), JSON), JSON)
        for s in b.error_samples
    ]
    assert samples == [f"e.json.gz line {i + 1}: malformed JSON" for i in bad]


def test_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n{"a": 2}\r\n')
    assert rows_of(read_all(create_splits(LocalInputSource(files=(str(path),)), JSON), JSON)) == [
        {"a": 1},
        {"a": 2},
    ]
    csv_path = tmp_path / "bom.csv"
    csv_path.write_bytes(b"\xef\xbb\xbfa,b\r\n1,2\r\n")
    fmt = CsvInputFormat(find_columns_from_header=True)
    splits = create_splits(LocalInputSource(files=(str(csv_path),)), fmt)
    assert rows_of(read_all(splits, fmt)) == [{"a": 1, "b": 2}]
