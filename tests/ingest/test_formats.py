"""Input formats: JSON (malformed lines, type changes, arrays, flattenSpec), CSV/TSV, Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from grove.errors import InvalidSpec, Unsupported
from grove.ingest.formats import BatchShaper
from grove.ingest.input import ReadBatch, create_splits, read_split
from grove.ingest.spec import (
    CsvInputFormat,
    InlineInputSource,
    JsonInputFormat,
    LocalInputSource,
    ParquetInputFormat,
    TsvInputFormat,
)

JSON = JsonInputFormat()


def read_text(data: str, fmt: Any = JSON, **kw: Any) -> list[ReadBatch]:
    splits = create_splits(InlineInputSource(data=data), fmt)
    return [b for s in splits for b in read_split(s, fmt, **kw)]


def read_file(path: Path, fmt: Any = JSON, **kw: Any) -> list[ReadBatch]:
    splits = create_splits(LocalInputSource(files=(str(path),)), fmt)
    return [b for s in splits for b in read_split(s, fmt, **kw)]


def rows(batches: list[ReadBatch]) -> list[dict[str, Any]]:
    return [r for b in batches for r in b.table.to_pylist()]


def lines(*objs: Any) -> str:
    return "".join((o if isinstance(o, str) else orjson.dumps(o).decode()) + "\n" for o in objs)


# --------------------------------------------------------------------------------------------------------
# JSON


def test_malformed_and_non_object_lines_are_counted_not_fatal() -> None:
    data = lines({"a": 1}, '{"a": ', "[1, 2]", "", "   ", "42", {"a": 2}, '{"a": 3')
    batches = read_text(data)
    assert rows(batches) == [{"a": 1}, {"a": 2}]
    assert sum(b.parse_errors for b in batches) == 4
    assert sum(b.rows_read for b in batches) == 6  # blank lines are not records
    samples = [s for b in batches for s in b.error_samples]
    assert samples == [
        "inline data line 2: malformed JSON",
        "inline data line 3: not a JSON object",
        "inline data line 6: not a JSON object",
        "inline data line 8: malformed JSON",
    ]


def test_invalid_utf8_line_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "bytes.json"
    path.write_bytes(b'{"a": "ok"}\n{"a": "\xff\xfe"}\n{"a": "fine"}\n')
    batches = read_file(path)
    assert rows(batches) == [{"a": "ok"}, {"a": "fine"}]
    assert [s for b in batches for s in b.error_samples] == ["bytes.json line 2: malformed JSON"]


def test_number_and_string_in_one_column_become_text() -> None:
    batches = read_text(lines({"d": 1, "m": 5}, {"d": "x", "m": 6}, {"d": 2.5, "m": 7}, {"d": True}))
    assert rows(batches) == [
        {"d": "1", "m": 5},
        {"d": "x", "m": 6},
        {"d": "2.5", "m": 7},
        {"d": "true", "m": None},
    ]
    assert sum(b.parse_errors for b in batches) == 0


def test_object_and_string_in_one_column_become_json_text() -> None:
    got = rows(read_text(lines({"o": {"k": 1}}, {"o": "plain"}, {"o": None})))
    assert got == [{"o": '{"k":1}'}, {"o": "plain"}, {"o": None}]


def test_arrays_stay_lists_and_scalars_next_to_arrays_become_one_element_lists() -> None:
    got = rows(
        read_text(
            lines({"tags": ["a", "b"]}, {"tags": "c"}, {"tags": []}, {"tags": None}, {"tags": [1, "x"]})
        )
    )
    assert got == [{"tags": ["a", "b"]}, {"tags": ["c"]}, {"tags": []}, {"tags": None}, {"tags": ["1", "x"]}]


def test_nested_type_changes_are_repaired_inside_objects() -> None:
    got = rows(read_text(lines({"a": {"b": 1, "c": [1]}}, {"a": {"b": "two", "c": "z"}})))
    assert got == [{"a": {"b": "1", "c": ["1"]}}, {"a": {"b": "two", "c": ["z"]}}]


def test_type_changes_between_blocks_never_fail_and_string_columns_stay_strings() -> None:
    # Small batches give small blocks: the column is a number in early blocks and text in later ones.
    objs = [{"d": i, "m": i} for i in range(3000)] + [{"d": f"s{i}", "m": i * 0.5} for i in range(3000)]
    batches = read_text(lines(*objs), batch_rows=500, string_columns=["d"])
    assert all(b.table.schema.field("d").type == pa.string() for b in batches)
    got = rows(batches)
    assert [r["d"] for r in got] == [str(i) for i in range(3000)] + [f"s{i}" for i in range(3000)]
    assert [r["m"] for r in got] == list(range(3000)) + [i * 0.5 for i in range(3000)]
    assert sum(b.parse_errors for b in batches) == 0


def test_string_columns_are_text_exactly_as_written() -> None:
    objs = [
        {"s": 1, "b": True, "f": 1.5, "t": "2015-09-12T00:00:00Z", "l": [1, 2], "o": {"x": 1}, "n": None},
        {"s": 22, "b": False, "f": -0.25, "t": "2015-09-13 10:00:00", "l": [3], "o": {"x": 2}, "n": None},
    ]
    batches = read_text(lines(*objs), string_columns=["s", "b", "f", "t", "l", "o", "n", "absent"])
    table = batches[0].table
    assert table.schema.field("l").type == pa.list_(pa.string())
    assert "n" not in table.column_names and "absent" not in table.column_names  # null means absent
    assert table.select(["s", "b", "f", "t", "l", "o"]).to_pylist() == [
        {"s": "1", "b": "true", "f": "1.5", "t": "2015-09-12T00:00:00Z", "l": ["1", "2"], "o": '{"x":1}'},
        {"s": "22", "b": "false", "f": "-0.25", "t": "2015-09-13 10:00:00", "l": ["3"], "o": '{"x":2}'},
    ]


def test_timestamp_like_text_is_never_turned_into_timestamps() -> None:
    obj = {
        "ts": "2015-09-12T00:00:00+05:30",
        "day": "2015-09-12",
        "days": ["2015-09-12"],
        "o": {"t": "2015-09-12"},
    }
    batches = read_text(lines(*[obj] * 5000), batch_rows=1000)  # several blocks, learned types carried
    assert all(b.table.to_pylist() == [obj] * b.table.num_rows for b in batches)
    assert sum(b.table.num_rows for b in batches) == 5000


def test_columns_prune_and_missing_ones_are_absent() -> None:
    data = lines(*[{"a": i, "b": "x", "c": {"d": 1}} for i in range(100)])
    batches = read_text(data, columns=["a", "zzz"], batch_rows=30)
    assert all(b.table.column_names == ["a"] for b in batches)
    assert [r["a"] for r in rows(batches)] == list(range(100))
    only_missing = read_text(data, columns=["zzz"])
    assert sum(b.table.num_rows for b in only_missing) == 100  # rows are kept even with no column


def test_keep_null_columns() -> None:
    data = lines({"a": 1, "n": None}, {"a": 2, "n": None})
    assert read_text(data)[0].table.column_names == ["a"]
    kept = read_text(data, JsonInputFormat(keep_null_columns=True))[0].table
    assert kept.column_names == ["a", "n"]


def test_nested_objects_are_kept_as_structs_without_flatten_spec() -> None:
    table = read_text(lines({"a": {"b": {"c": 1}}, "x": 1}))[0].table
    assert pa.types.is_struct(table.schema.field("a").type)


FLATTEN = {
    "useFieldDiscovery": True,
    "fields": [
        {"type": "root", "name": "renamed", "expr": "x"},
        {"type": "path", "name": "deep", "expr": "$.a.b.c"},
        {"type": "path", "name": "first", "expr": "$.list[0]"},
        {"type": "path", "name": "last", "expr": "$['list'][-1]"},
        {"type": "path", "name": "item_name", "expr": "$.items[1].name"},
        {"type": "jq", "name": "jq_deep", "expr": ".a.b.c"},
        {"type": "jq", "name": "jq_first", "expr": '.["list"][0]'},
        {"type": "tree", "name": "tree_deep", "nodes": ["a", "b", "c"]},
        {"type": "path", "name": "nowhere", "expr": "$.a.missing.z"},
        {"type": "path", "name": "wrong_kind", "expr": "$.x[0]"},
    ],
}


def test_flatten_spec_paths() -> None:
    objs = [
        {"x": 1, "a": {"b": {"c": "v1"}}, "list": ["p", "q", "r"], "items": [{"name": "i0"}, {"name": "i1"}]},
        {"x": 2, "a": {"b": None}, "list": [], "items": [{"name": "only"}]},
        {"x": 3, "a": None, "list": None},
    ]
    fmt = JsonInputFormat(flatten_spec=FLATTEN)
    got = rows(read_text(lines(*objs), fmt))
    want_paths = [
        {"renamed": 1, "deep": "v1", "first": "p", "last": "r", "item_name": "i1"},
        {"renamed": 2, "deep": None, "first": None, "last": None, "item_name": None},
        {"renamed": 3, "deep": None, "first": None, "last": None, "item_name": None},
    ]
    for row, want in zip(got, want_paths, strict=True):
        assert {k: row[k] for k in want} == want
        assert row["jq_deep"] == row["deep"] == row["tree_deep"]
        assert row["jq_first"] == row["first"]
        assert row["x"] == row["renamed"]  # discovery keeps the root fields too
        assert "nowhere" not in row and "wrong_kind" not in row  # all null: dropped
    only_fields = JsonInputFormat(flatten_spec={**FLATTEN, "useFieldDiscovery": False})
    got = rows(read_text(lines(*objs), only_fields, columns=["deep", "first", "x"]))
    assert got == [{"deep": "v1", "first": "p"}, {"deep": None, "first": None}, {"deep": None, "first": None}]


def test_flatten_spec_with_columns_reads_the_roots_it_needs() -> None:
    fmt = JsonInputFormat(flatten_spec={"fields": [{"type": "path", "name": "c", "expr": "$.a.b"}]})
    data = lines(*[{"a": {"b": i}, "other": "x"} for i in range(10)])
    got = rows(read_text(data, fmt, columns=["c"], batch_rows=3))
    assert got == [{"c": i} for i in range(10)]
    assert BatchShaper(fmt, ["c"], ()).needed == frozenset({"a"})


@pytest.mark.parametrize(
    ("field", "error", "path"),
    [
        ({"type": "path", "name": "n", "expr": "$..a"}, Unsupported, ".fields[0].expr"),
        ({"type": "path", "name": "n", "expr": "$.a[*]"}, Unsupported, ".fields[0].expr"),
        ({"type": "path", "name": "n", "expr": "$.a[?(@.b)]"}, Unsupported, ".fields[0].expr"),
        ({"type": "jq", "name": "n", "expr": ".a | length"}, Unsupported, ".fields[0].expr"),
        ({"type": "path", "name": "n"}, InvalidSpec, ".fields[0].expr"),
        ({"type": "path", "expr": "$.a"}, InvalidSpec, ".fields[0]"),
        ({"type": "magic", "name": "n", "expr": "$.a"}, Unsupported, ".fields[0].type"),
        ({"type": "tree", "name": "n"}, InvalidSpec, ".fields[0].nodes"),
    ],
)
def test_bad_flatten_fields_name_the_field(field: dict, error: type[Exception], path: str) -> None:
    fmt = JsonInputFormat(flatten_spec={"fields": [field]})
    with pytest.raises(error) as err:
        read_text(lines({"a": 1}), fmt)
    assert err.value.path == "spec.ioConfig.inputFormat.flattenSpec" + path  # type: ignore[attr-defined]
    if "name" in field:
        assert f"[{field['name']}]" in str(err.value) or field["type"] not in ("path", "jq")


# --------------------------------------------------------------------------------------------------------
# CSV and TSV


def test_csv_with_columns_and_empty_fields_as_nulls() -> None:
    fmt = CsvInputFormat(columns=("t", "dim", "n"))
    got = rows(read_text('2015-09-12,a,1\n2015-09-13,,2\n,"quoted, comma",\n', fmt))
    assert got == [
        {"t": "2015-09-12", "dim": "a", "n": 1},
        {"t": "2015-09-13", "dim": None, "n": 2},
        {"t": None, "dim": "quoted, comma", "n": None},
    ]


def test_csv_header_with_skip_header_rows_and_columns_ignored() -> None:
    fmt = CsvInputFormat(find_columns_from_header=True, skip_header_rows=2, columns=("ignored",))
    got = rows(read_text("junk\nmore junk\nx,y\n1,true\n", fmt))
    assert got == [{"x": 1, "y": "true"}]  # booleans stay text, like Druid's CSV
    skip_only = CsvInputFormat(columns=("x", "y"), skip_header_rows=1)
    assert rows(read_text("x,y\n1,2\n", skip_only)) == [{"x": 1, "y": 2}]


def test_csv_rows_with_too_few_or_too_many_values_are_padded_or_cut_like_druid() -> None:
    fmt = CsvInputFormat(columns=("a", "b", "c"))
    batches = read_text('1,2,3\n4,5\n6,7,8,9\n"unterminated,1,2\n10,11,12\n', fmt)
    assert rows(batches) == [
        {"a": 1, "b": 2, "c": 3},
        {"a": 4, "b": 5, "c": None},
        {"a": 6, "b": 7, "c": 8},
        {"a": 10, "b": 11, "c": 12},
    ]
    assert sum(b.parse_errors for b in batches) == 1
    assert [s for b in batches for s in b.error_samples] == ["inline data line 4: malformed CSV line"]
    assert sum(b.rows_read for b in batches) == 5


def test_list_delimiter_default_and_custom() -> None:
    fmt = CsvInputFormat(columns=("tags", "n"))
    got = rows(read_text("a\u0001b,1\nc,2\n\u0001d,3\n", fmt))
    assert got == [{"tags": ["a", "b"], "n": 1}, {"tags": ["c"], "n": 2}, {"tags": [None, "d"], "n": 3}]
    piped = CsvInputFormat(columns=("tags", "n"), list_delimiter="|")
    assert rows(read_text("a|b,1\nc,2\n", piped)) == [{"tags": ["a", "b"], "n": 1}, {"tags": ["c"], "n": 2}]
    assert rows(read_text("a,1\nc,2\n", piped)) == [{"tags": "a", "n": 1}, {"tags": "c", "n": 2}]


def test_csv_string_columns_and_pruning() -> None:
    fmt = CsvInputFormat(columns=("zip", "name", "n"))
    batches = read_text("94107,x,1\n10001,y,2\n", fmt, columns=["zip", "n", "nope"], string_columns=["zip"])
    assert rows(batches) == [{"zip": "94107", "n": 1}, {"zip": "10001", "n": 2}]
    assert rows(read_text("94107,x,1\n", fmt, columns=["nope"])) == [{}]


def test_tsv_default_and_custom_delimiters_without_quoting() -> None:
    fmt = TsvInputFormat(columns=("a", "b"))
    assert rows(read_text('x\t"y, z"\n\t2\n', fmt)) == [{"a": "x", "b": '"y, z"'}, {"a": None, "b": "2"}]
    piped = TsvInputFormat(columns=("a", "b"), delimiter="|")
    assert rows(read_text("x|1\ny|2\n", piped)) == [{"a": "x", "b": 1}, {"a": "y", "b": 2}]


def test_csv_needs_columns_or_header() -> None:
    class Bare:
        type = "csv"
        columns = ()
        find_columns_from_header = None
        skip_header_rows = 0
        list_delimiter = None

    with pytest.raises(InvalidSpec) as err:
        create_splits(InlineInputSource(data="a,b\n"), Bare())
    assert err.value.path == "spec.ioConfig.inputFormat.columns"


# --------------------------------------------------------------------------------------------------------
# Parquet


def test_parquet_binary_as_string_columns_and_typed_timestamps(tmp_path: Path) -> None:
    table = pa.table(
        {
            "ts": pa.array([1442018818771, 1442018818772], pa.timestamp("ms", tz="UTC")),
            "bin": pa.array([b"abc", b"\xff"], pa.binary()),
            "n": pa.array([1, 2], pa.int64()),
            "s": pa.array([{"x": 1}, {"x": 2}]),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    raw = read_file(path, ParquetInputFormat())[0].table
    assert raw.schema.field("bin").type == pa.binary()
    as_text = read_file(path, ParquetInputFormat(binary_as_string=True), columns=["bin", "ts", "gone"])[
        0
    ].table
    assert as_text.column_names == ["bin", "ts"]
    assert as_text.column("bin").to_pylist() == ["abc", "\ufffd"]
    assert pa.types.is_timestamp(as_text.schema.field("ts").type)
    flat = ParquetInputFormat(flatten_spec={"fields": [{"type": "path", "name": "sx", "expr": "$.s.x"}]})
    assert read_file(path, flat, columns=["sx"], string_columns=["sx"])[0].table.to_pylist() == [
        {"sx": "1"},
        {"sx": "2"},
    ]
