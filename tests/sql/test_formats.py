"""Druid's SQL result formats, byte for byte: every ``resultFormat`` with every header combination.

The expected bytes follow Druid's SQL API docs (``docs/api-reference/sql-api.md``, "Query output
format": the one-column result ``user = BlueMoon2662`` under each format and header flag) and Druid's
writers (``sql/src/main/java/org/apache/druid/sql/http/{Object,Array,ObjectLines,ArrayLines,Csv}Writer``):
compact JSON, ``object``/``array`` ending in a newline, the *Lines formats and ``csv`` ending in an
extra blank line, CSV quoting as opencsv does it.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from typing import Any

import numpy as np
import orjson
import pytest

from grove.errors import InvalidInput
from grove.query.expression.values import java_double_str
from grove.sql.formats import (
    RESULT_FORMATS,
    ROWS_PER_CHUNK,
    ResultFormat,
    render,
    render_bytes,
)
from grove.sql.result import SqlResult

# header, typesHeader, sqlTypesHeader: every combination Druid accepts.
FLAGS = [
    (False, False, False),
    (True, False, False),
    (True, True, False),
    (True, False, True),
    (True, True, True),
]


def user_result() -> SqlResult:
    """The docs' example: one VARCHAR column, one row."""
    return SqlResult(["user"], ["VARCHAR"], ["STRING"], [["BlueMoon2662"]])


def fmt(name: str, flags: tuple[bool, bool, bool]) -> ResultFormat:
    return ResultFormat.parse(name, header=flags[0], types_header=flags[1], sql_types_header=flags[2])


# The docs' table ("In all cases, header is true"), plus header false, as Druid's writers print them.
DOCUMENTED: dict[tuple[str, tuple[bool, bool, bool]], bytes] = {
    ("object", (False, False, False)): b'[{"user":"BlueMoon2662"}]\n',
    ("object", (True, False, False)): b'[{"user":null},{"user":"BlueMoon2662"}]\n',
    ("object", (True, True, False)): b'[{"user":{"type":"STRING"}},{"user":"BlueMoon2662"}]\n',
    ("object", (True, False, True)): b'[{"user":{"sqlType":"VARCHAR"}},{"user":"BlueMoon2662"}]\n',
    ("object", (True, True, True)): (
        b'[{"user":{"type":"STRING","sqlType":"VARCHAR"}},{"user":"BlueMoon2662"}]\n'
    ),
    ("array", (False, False, False)): b'[["BlueMoon2662"]]\n',
    ("array", (True, False, False)): b'[["user"],["BlueMoon2662"]]\n',
    ("array", (True, True, False)): b'[["user"],["STRING"],["BlueMoon2662"]]\n',
    ("array", (True, False, True)): b'[["user"],["VARCHAR"],["BlueMoon2662"]]\n',
    ("array", (True, True, True)): b'[["user"],["STRING"],["VARCHAR"],["BlueMoon2662"]]\n',
    ("objectLines", (False, False, False)): b'{"user":"BlueMoon2662"}\n\n',
    ("objectLines", (True, False, False)): b'{"user":null}\n{"user":"BlueMoon2662"}\n\n',
    ("objectLines", (True, True, False)): b'{"user":{"type":"STRING"}}\n{"user":"BlueMoon2662"}\n\n',
    ("objectLines", (True, False, True)): b'{"user":{"sqlType":"VARCHAR"}}\n{"user":"BlueMoon2662"}\n\n',
    ("objectLines", (True, True, True)): (
        b'{"user":{"type":"STRING","sqlType":"VARCHAR"}}\n{"user":"BlueMoon2662"}\n\n'
    ),
    ("arrayLines", (False, False, False)): b'["BlueMoon2662"]\n\n',
    ("arrayLines", (True, False, False)): b'["user"]\n["BlueMoon2662"]\n\n',
    ("arrayLines", (True, True, False)): b'["user"]\n["STRING"]\n["BlueMoon2662"]\n\n',
    ("arrayLines", (True, False, True)): b'["user"]\n["VARCHAR"]\n["BlueMoon2662"]\n\n',
    ("arrayLines", (True, True, True)): b'["user"]\n["STRING"]\n["VARCHAR"]\n["BlueMoon2662"]\n\n',
    ("csv", (False, False, False)): b"BlueMoon2662\n\n",
    ("csv", (True, False, False)): b"user\nBlueMoon2662\n\n",
    ("csv", (True, True, False)): b"user\nSTRING\nBlueMoon2662\n\n",
    ("csv", (True, False, True)): b"user\nVARCHAR\nBlueMoon2662\n\n",
    ("csv", (True, True, True)): b"user\nSTRING\nVARCHAR\nBlueMoon2662\n\n",
}


@pytest.mark.parametrize(("name", "flags"), sorted(DOCUMENTED))
def test_documented_output(name: str, flags: tuple[bool, bool, bool]) -> None:
    assert render_bytes(user_result(), fmt(name, flags)) == DOCUMENTED[(name, flags)]


def test_every_format_and_flag_combination_is_pinned() -> None:
    assert set(DOCUMENTED) == {(n, f) for n in RESULT_FORMATS for f in FLAGS}


# --- a wider result: several columns and types, read back with ordinary parsers ---------------------------

COLUMNS = ["__time", "channel", "edits", "ratio", "sketch"]
SQL_TYPES = ["TIMESTAMP", "VARCHAR", "BIGINT", "DOUBLE", "OTHER"]
DRUID_TYPES = ["LONG", "STRING", "LONG", "DOUBLE", "COMPLEX<HLLSketch>"]
ROWS: list[list[Any]] = [
    ["2015-09-12T00:00:00.000Z", "#en.wikipedia", 11549, 0.5, "AgEHDA=="],
    ["2015-09-12T01:00:00.000Z", None, 0, -1.25e-7, None],
    ["2015-09-12T02:00:00.000Z", 'say "hi", then\nleave', -3, 1.5e10, "x"],
    ["2015-09-12T03:00:00.000Z", "Ünïcødé ✓ ولاية", 7, 2.0, ""],
]


def wide() -> SqlResult:
    return SqlResult(list(COLUMNS), list(SQL_TYPES), list(DRUID_TYPES), [list(r) for r in ROWS])


@pytest.mark.parametrize("flags", FLAGS)
def test_object_reads_back(flags: tuple[bool, bool, bool]) -> None:
    body = render_bytes(wide(), fmt("object", flags))
    assert body.startswith(b"[{") and body.endswith(b"}]\n")
    parsed = json.loads(body)
    if flags[0]:
        header = parsed.pop(0)
        assert list(header) == COLUMNS
        expected = [
            None
            if not (flags[1] or flags[2])
            else {
                **({"type": DRUID_TYPES[i]} if flags[1] else {}),
                **({"sqlType": SQL_TYPES[i]} if flags[2] else {}),
            }
            for i in range(len(COLUMNS))
        ]
        assert list(header.values()) == expected
    assert parsed == [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]
    # Field order is the column order.
    assert [list(obj) for obj in parsed] == [COLUMNS] * len(ROWS)


@pytest.mark.parametrize("flags", FLAGS)
def test_array_reads_back(flags: tuple[bool, bool, bool]) -> None:
    parsed = json.loads(render_bytes(wide(), fmt("array", flags)))
    expected_header = [COLUMNS] if flags[0] else []
    expected_header += [DRUID_TYPES] if flags[1] else []
    expected_header += [SQL_TYPES] if flags[2] else []
    assert parsed == expected_header + ROWS


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("name", ["objectLines", "arrayLines"])
def test_lines_hold_one_value_per_line_then_a_blank_line(name: str, flags: tuple[bool, bool, bool]) -> None:
    body = render_bytes(wide(), fmt(name, flags)).decode()
    assert body.endswith("\n\n") and not body.endswith("\n\n\n")
    lines = body[:-2].split("\n")
    # The header (one object, or one array per header row), then one line per row: the newline inside
    # a value is escaped, not a line break.
    header_lines = min(sum(flags), 1) if name == "objectLines" else sum(flags)
    assert len(lines) == header_lines + len(ROWS)
    values = [json.loads(line) for line in lines]
    document = json.loads(render_bytes(wide(), fmt("object" if name == "objectLines" else "array", flags)))
    assert values == document


@pytest.mark.parametrize("flags", FLAGS)
def test_csv_reads_back(flags: tuple[bool, bool, bool]) -> None:
    body = render_bytes(wide(), fmt("csv", flags)).decode()
    assert body.endswith("\n\n")
    records = list(csv.reader(io.StringIO(body[:-1])))
    header = [COLUMNS] if flags[0] else []
    header += [DRUID_TYPES] if flags[1] else []
    header += [SQL_TYPES] if flags[2] else []
    assert records[: len(header)] == header
    assert records[len(header) :] == [
        ["2015-09-12T00:00:00.000Z", "#en.wikipedia", "11549", "0.5", "AgEHDA=="],
        ["2015-09-12T01:00:00.000Z", "", "0", "-1.25E-7", ""],
        ["2015-09-12T02:00:00.000Z", 'say "hi", then\nleave', "-3", "1.5E10", "x"],
        ["2015-09-12T03:00:00.000Z", "Ünïcødé ✓ ولاية", "7", "2.0", ""],
    ]


def test_csv_quotes_only_what_needs_quoting() -> None:
    result = SqlResult(
        ["a", "b", "c"],
        ["VARCHAR"] * 3,
        ["STRING"] * 3,
        [["plain", "with,comma", 'with"quote'], ["cr\rhere", None, ""], ["lf\nhere", "a b", "'single'"]],
    )
    assert render_bytes(result, ResultFormat.parse("csv")) == (
        b'plain,"with,comma","with""quote"\n"cr\rhere",,\n"lf\nhere",a b,\'single\'\n\n'
    )


def test_csv_writes_a_row_of_one_empty_value_quoted() -> None:
    # A blank line would read as the end of the response; Druid quotes the lone empty field instead.
    result = SqlResult(["v"], ["VARCHAR"], ["STRING"], [[""], [None], ["x"]])
    assert render_bytes(result, ResultFormat.parse("csv")) == b'""\n""\nx\n\n'
    two = SqlResult(["v", "w"], ["VARCHAR"] * 2, ["STRING"] * 2, [["", None]])
    assert render_bytes(two, ResultFormat.parse("csv")) == b",\n\n"


def test_csv_values_print_as_java_does() -> None:
    result = SqlResult(
        ["b", "i", "f", "n", "nested"],
        ["BOOLEAN", "BIGINT", "DOUBLE", "DOUBLE", "OTHER"],
        ["LONG", "LONG", "DOUBLE", "DOUBLE", "COMPLEX<json>"],
        [[True, np.int64(5), np.float64(0.1), math.nan, ["a", "b"]], [False, -1, 1e21, math.inf, {"k": 1}]],
    )
    assert render_bytes(result, ResultFormat.parse("csv")) == (
        b'true,5,0.1,NaN,"[""a"",""b""]"\nfalse,-1,1.0E21,Infinity,"{""k"":1}"\n\n'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (100.0, "100.0"),
        (0.1, "0.1"),
        (0.001, "0.001"),
        (0.000999, "9.99E-4"),
        (1234567.5, "1234567.5"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (12345678.9, "1.23456789E7"),
        (1.5e10, "1.5E10"),
        (-2.5e-7, "-2.5E-7"),
        (1e-5, "1.0E-5"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
        (math.nan, "NaN"),
        (-math.inf, "-Infinity"),
    ],
)
def test_java_double(value: float, text: str) -> None:
    assert java_double_str(value) == text


# --- edge cases -------------------------------------------------------------------------------------------


EMPTY = {
    "object": (b"[]\n", b'[{"user":null}]\n'),
    "array": (b"[]\n", b'[["user"]]\n'),
    "objectLines": (b"\n\n", b'{"user":null}\n\n'),
    "arrayLines": (b"\n\n", b'["user"]\n\n'),
    "csv": (b"\n", b"user\n\n"),
}


@pytest.mark.parametrize("name", RESULT_FORMATS)
def test_no_rows(name: str) -> None:
    empty = SqlResult(["user"], ["VARCHAR"], ["STRING"], [])
    assert render_bytes(empty, ResultFormat.parse(name)) == EMPTY[name][0]
    assert render_bytes(empty, ResultFormat.parse(name, header=True)) == EMPTY[name][1]


@pytest.mark.parametrize("name", ["object", "objectLines"])
def test_repeated_column_names_are_all_written(name: str) -> None:
    # SELECT channel, channel: Druid writes both fields.
    result = SqlResult(
        ["c", "c", "n"], ["VARCHAR", "VARCHAR", "BIGINT"], ["STRING", "STRING", "LONG"], [["x", "x", 1]]
    )
    body = render_bytes(result, ResultFormat.parse(name))
    assert body.count(b'"c":"x"') == 2 and b'"n":1' in body
    pairs = json.loads(body.strip().strip(b"[]"), object_pairs_hook=list)
    assert pairs == [("c", "x"), ("c", "x"), ("n", 1)]


@pytest.mark.parametrize("name", ["object", "array"])
def test_unknown_types_are_null_in_the_header(name: str) -> None:
    result = SqlResult(["a", "b"], ["VARCHAR"], [""], [["x", 1]])
    parsed = json.loads(render_bytes(result, fmt(name, (True, True, True))))
    if name == "object":
        assert parsed[0] == {"a": {"type": None, "sqlType": "VARCHAR"}, "b": {"type": None, "sqlType": None}}
    else:
        assert parsed[:3] == [["a", "b"], [None, None], ["VARCHAR", None]]


def test_numpy_values_and_nan() -> None:
    result = SqlResult(
        ["i", "f", "nan"],
        ["BIGINT", "DOUBLE", "DOUBLE"],
        ["LONG", "DOUBLE", "DOUBLE"],
        [[np.int64(3), np.float32(0.5), math.nan]],
    )
    assert render_bytes(result, ResultFormat.parse("array")) == b"[[3,0.5,null]]\n"


@pytest.mark.parametrize("name", RESULT_FORMATS)
def test_large_results_stream_in_chunks_with_the_same_bytes(name: str) -> None:
    rows = [[f"page {i}", i, i / 4] for i in range(3 * ROWS_PER_CHUNK + 7)]
    result = SqlResult(
        ["page", "n", "q"], ["VARCHAR", "BIGINT", "DOUBLE"], ["STRING", "LONG", "DOUBLE"], rows
    )
    chunks = list(render(result, fmt(name, (True, True, True))))
    assert len(chunks) >= 4
    body = b"".join(chunks)
    header = 1 if name.startswith("object") else 3
    if name in ("object", "array"):
        parsed = json.loads(body)
        assert len(parsed) == header + len(rows)
        assert parsed[-1] == (
            {"page": rows[-1][0], "n": rows[-1][1], "q": rows[-1][2]} if name == "object" else rows[-1]
        )
    elif name == "csv":
        assert body.decode().count("\n") == 3 + len(rows) + 1
    else:
        lines = body.decode().split("\n")
        assert lines[-2:] == ["", ""] and len(lines) == header + len(rows) + 2
        assert all(orjson.loads(line) is not None for line in lines[:-2])


# --- parsing the request's format fields --------------------------------------------------------------------


def test_format_names_are_read_in_any_case_and_default_to_object() -> None:
    assert ResultFormat.parse(None) == ResultFormat("object")
    for name in RESULT_FORMATS:
        assert ResultFormat.parse(name.upper()).name == name
        assert ResultFormat.parse(name.lower()).name == name
    assert ResultFormat.parse("ARRAYLINES").name == "arrayLines"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("object", "application/json"),
        ("array", "application/json"),
        ("objectLines", "text/plain"),
        ("arrayLines", "text/plain"),
        ("csv", "text/csv"),
    ],
)
def test_content_types(name: str, content_type: str) -> None:
    assert ResultFormat.parse(name).content_type == content_type


def test_unknown_format_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as e:
        ResultFormat.parse("xml")
    assert e.value.message.startswith("Unknown resultFormat [xml]")
    assert e.value.path == "resultFormat"


@pytest.mark.parametrize(("types_header", "sql_types_header"), [(True, False), (False, True), (True, True)])
def test_types_headers_need_the_header(types_header: bool, sql_types_header: bool) -> None:
    for name in RESULT_FORMATS:
        with pytest.raises(InvalidInput) as e:
            ResultFormat.parse(
                name, header=False, types_header=types_header, sql_types_header=sql_types_header
            )
        field = "typesHeader" if types_header else "sqlTypesHeader"
        assert e.value.message == f"Cannot include '{field}' without 'header'"


def test_render_is_lazy_and_repeatable() -> None:
    result = wide()
    for name, flags in itertools.product(RESULT_FORMATS, FLAGS):
        first = b"".join(render(result, fmt(name, flags)))
        assert first == render_bytes(result, fmt(name, flags))
