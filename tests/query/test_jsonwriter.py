"""Rows written straight from columns must be byte for byte what orjson writes for the rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest

from grove.query.jsonwriter import constant_column, number_column, string_column, write_rows

FLOATS = [0.0, -0.0, 0.1, 1.5, -2.25, 1e16, 1e-7, 123456789.125, 2.0**53, 1 / 3, float("nan"), float("inf")]
INTS = [0, 1, -1, 42, 2**62, -(2**63), 9_007_199_254_740_993]
STRINGS = [
    "",
    "a",
    'say "hi"',
    "back\\slash",
    "a,b",
    "tab\there",
    "line\nbreak",
    "\x00\x1f",
    "naïve ∑ 日本",
    None,
]


def rows_json(columns: dict[str, list[Any]]) -> bytes:
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    return orjson.dumps([{k: columns[k][i] for k in names} for i in range(n)])


def suffixes(names: list[str]) -> list[bytes]:
    """What follows each value in a row ``{"a": .., "b": ..}`` written with the prefix ``{"a":``."""
    return [b"," + orjson.dumps(name) + b":" for name in names[1:]] + [b"}"]


def prefix(names: list[str]) -> bytes:
    return b"{" + orjson.dumps(names[0]) + b":" if names else b"{}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_floats_are_written_as_python_floats(dtype: Any) -> None:
    values = np.array(FLOATS, dtype=dtype)
    expected = rows_json({"x": [float(v) for v in values]})
    assert write_rows(prefix(["x"]), [number_column(values, suffix=b"}")], len(values)) == expected


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integers_and_booleans(dtype: Any) -> None:
    raw = INTS if dtype == np.int64 else [0, 1, 7, 100]
    values = np.array(raw).astype(dtype)
    expected = rows_json({"x": values.tolist()})
    assert write_rows(prefix(["x"]), [number_column(values, suffix=b"}")], len(values)) == expected


def test_null_flags_and_strings_with_every_kind_of_character() -> None:
    n = len(STRINGS)
    numbers = np.arange(n, dtype=np.int64) * 1000
    nulls = np.arange(n) % 3 == 0
    columns = {
        "s": STRINGS,
        "n": [None if nulls[i] else int(numbers[i]) for i in range(n)],
        "c": [None] * n,
    }
    after = suffixes(list(columns))
    got = write_rows(
        prefix(list(columns)),
        [
            string_column(pa.array(STRINGS), after[0]),
            number_column(numbers, nulls, after[1]),
            constant_column(b"null" + after[2], n),
        ],
        n,
    )
    assert got == rows_json(columns)


def test_repeated_strings_in_a_chunked_column_keep_their_rows() -> None:
    rng = np.random.default_rng(7)
    values = [STRINGS[i] for i in rng.integers(0, len(STRINGS), 500)]
    chunked = pa.chunked_array([pa.array(values[:200]), pa.array(values[200:])])
    assert write_rows(prefix(["s"]), [string_column(chunked, b"}")], 500) == rows_json({"s": values})


def test_no_rows_and_no_columns() -> None:
    assert write_rows(prefix(["x"]), [number_column(np.zeros(0, np.int64), suffix=b"}")], 0) == b"[]"
    assert write_rows(b"{}", [], 3) == orjson.dumps([{}, {}, {}])


@pytest.mark.parametrize("suffix", [b"", b",", b'},"x":'])
def test_any_suffix_follows_every_value(suffix: bytes) -> None:
    values = np.array([3, -1, 1000], dtype=np.int64)
    nulls = np.array([False, True, False])
    got = bytes(write_rows(b"", [number_column(values, nulls, suffix)], 3))
    assert got == b"[3" + suffix + b",null" + suffix + b",1000" + suffix + b"]"
    got = bytes(write_rows(b"", [string_column(pa.array(["a", None, "a"]), suffix)], 3))
    assert got == b'["a"' + suffix + b",null" + suffix + b',"a"' + suffix + b"]"


def test_columns_that_are_not_numbers_are_refused() -> None:
    with pytest.raises(TypeError):
        number_column(np.array(["a"], dtype=object))
