"""Arrow arrays to segment columns: sorted dictionaries, null code 0, multi-value handling, numbers."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from grove.segment.block import RowBlock, exact_dictionaries
from grove.segment.columns import StringColumn, bitmap_rows, code_dtype
from grove.segment.encode import StringEncoder, encode_numeric, encode_strings, to_strings
from grove.segment.schema import DimensionDef, SegmentSchema


def _utf8_sorted(values: list[str]) -> list[str]:
    return sorted(set(values), key=lambda s: s.encode())


def test_dictionary_is_sorted_by_utf8_bytes_and_null_is_code_zero() -> None:
    values = ["b", None, "a", "", "B", "é", "z", "日本", "🙂", "a", None, "ab"]
    col = encode_strings(pa.array(values))
    assert col.dictionary.to_pylist() == _utf8_sorted([v for v in values if v is not None])
    assert col.dictionary.type == pa.large_string()
    assert not col.multi_value and col.cardinality == len(col.dictionary) + 1
    codes = col.codes.tolist()
    assert [c == 0 for c in codes] == [v is None for v in values]
    assert col.to_arrow().to_pylist() == values
    # Empty strings are values, distinct from null.
    assert col.lookup("") > 0 and col.lookup(None) == 0 and col.lookup("missing") == -1
    # Code order is value order.
    non_null = [(c, v) for c, v in zip(codes, values, strict=True) if v is not None]
    assert sorted(non_null) == sorted(non_null, key=lambda cv: cv[1].encode())


def test_random_string_columns_round_trip() -> None:
    rng = random.Random(4)
    for n in (0, 1, 7, 300, 5000):
        pool = [
            "".join(rng.choice("ab ßé日") for _ in range(rng.randrange(0, 4)))
            for _ in range(rng.randrange(1, 400))
        ]
        values = [None if rng.random() < 0.1 else rng.choice(pool) for _ in range(n)]
        col = encode_strings(pa.array(values, pa.string()))
        assert col.to_arrow().to_pylist() == values
        assert col.dictionary.to_pylist() == _utf8_sorted([v for v in values if v is not None])
        assert col.codes.dtype == code_dtype(col.cardinality)
        for code in range(col.cardinality):
            expected = [i for i, c in enumerate(col.codes.tolist()) if c == code]
            assert bitmap_rows(col.bitmap(code)).tolist() == expected
        assert len(col.bitmap(col.cardinality)) == 0 and len(col.bitmap(-1)) == 0


def test_code_width() -> None:
    assert code_dtype(1) == np.uint8 and code_dtype(256) == np.uint8
    assert code_dtype(257) == np.uint16 and code_dtype(65536) == np.uint16
    assert code_dtype(65537) == np.int32
    wide = encode_strings(pa.array([f"v{i:05d}" for i in range(300)]))
    assert wide.codes.dtype == np.uint16 and wide.codes.max() == 300
    wider = encode_strings(pa.array([f"v{i:06d}" for i in range(70_000)]))
    assert wider.codes.dtype == np.int32 and wider.lookup("v069999") == 70_000


def test_other_input_layouts() -> None:
    expected = ["x", None, "y", "x"]
    for arr in (
        pa.array(expected),
        pa.array(expected, pa.large_string()),
        pa.array(expected).dictionary_encode(),
        pa.chunked_array([pa.array(expected[:1]), pa.array(expected[1:])]),
        pa.array(expected).slice(0, 4),
    ):
        assert encode_strings(arr).to_arrow().to_pylist() == expected
    assert encode_strings(pa.array(["a", "b", "c", "d"]).slice(1, 2)).to_arrow().to_pylist() == ["b", "c"]
    assert encode_strings(pa.chunked_array([], pa.string())).to_arrow().to_pylist() == []
    assert encode_strings(pa.array([None, None])).to_arrow().to_pylist() == [None, None]
    assert encode_strings(pa.array([1, 2, None, 1])).to_arrow().to_pylist() == ["1", "2", None, "1"]
    assert encode_strings(pa.array([b"a", b"b"])).to_arrow().to_pylist() == ["a", "b"]


def test_to_strings() -> None:
    assert to_strings(pa.array([1, -2, None])).to_pylist() == ["1", "-2", None]
    assert to_strings(pa.array([1.5, 1.0, None])).to_pylist() == ["1.5", "1", None]
    assert to_strings(pa.array([True, False, None])).to_pylist() == ["true", "false", None]
    assert to_strings(pa.nulls(2)).to_pylist() == [None, None]
    assert to_strings(pa.array(["a"]).dictionary_encode()).to_pylist() == ["a"]
    assert to_strings(pa.array([{"a": 1}, None])).to_pylist()[1] is None
    assert to_strings(pa.array(["a"])).type == pa.large_string()


MULTI = [["b", "a", "b"], [], None, ["", "c"], ["c"], ["a"], ["a", "b"]]


@pytest.mark.parametrize(
    ("handling", "expected"),
    [
        ("SORTED_ARRAY", [("a", "b", "b"), None, None, ("", "c"), ("c",), ("a",), ("a", "b")]),
        ("SORTED_SET", [("a", "b"), None, None, ("", "c"), ("c",), ("a",), ("a", "b")]),
        ("ARRAY", [("b", "a", "b"), None, None, ("", "c"), ("c",), ("a",), ("a", "b")]),
    ],
)
def test_multi_value_handling(handling: str, expected: list[tuple[str, ...] | None]) -> None:
    col = encode_strings(pa.array(MULTI), handling)
    assert col.multi_value and len(col) == len(MULTI)
    assert col.offsets is not None and col.offsets[0] == 0 and col.offsets[-1] == len(col.codes)
    got = [tuple(v) if v is not None else None for v in col.to_arrow().to_pylist()]
    assert got == expected
    # Empty and null rows both hold the single null code.
    lengths = np.diff(col.offsets).tolist()
    assert lengths[1] == lengths[2] == 1 and col.codes[col.offsets[1]] == 0
    assert col.dictionary.to_pylist() == ["", "a", "b", "c"]
    # Bitmaps: the rows holding each value.
    for code in range(col.cardinality):
        value = None if code == 0 else col.dictionary[code - 1].as_py()
        rows = [
            i for i, v in enumerate(got) if (v is None if value is None else (v is not None and value in v))
        ]
        assert bitmap_rows(col.bitmap(code)).tolist() == rows


def test_multi_value_drops_null_elements_and_accepts_large_lists() -> None:
    col = encode_strings(pa.array([["a", None], [None], None], pa.large_list(pa.large_string())))
    assert col.to_arrow().to_pylist() == [["a"], None, None]


def test_multi_value_random_round_trip_and_take() -> None:
    rng = random.Random(8)
    rows: list[list[str] | None] = []
    for _ in range(2000):
        r = rng.random()
        rows.append(
            None
            if r < 0.1
            else [rng.choice("abcdefg") * rng.randrange(0, 3) for _ in range(rng.randrange(0, 5))]
        )
    col = encode_strings(pa.array(rows, pa.list_(pa.string())))
    expected = [tuple(sorted(r, key=str.encode)) if r else None for r in rows]
    got = [tuple(v) if v is not None else None for v in col.to_arrow().to_pylist()]
    assert got == expected
    pick = np.array([5, 0, 5, 1999, 17], dtype=np.int64)
    taken = col.take(pick)
    assert isinstance(taken, StringColumn) and taken.multi_value
    assert [tuple(v) if v is not None else None for v in taken.to_arrow().to_pylist()] == [
        expected[i] for i in pick
    ]


def test_lookup_many_and_decode() -> None:
    col = encode_strings(pa.array(["b", "a", None, ""]))
    assert col.lookup_many(["a", None, "zz", "", "b"]).tolist() == [2, 0, -1, 1, 3]
    assert col.lookup_many([]).tolist() == []
    assert col.decode(np.array([0, 3, 1])).to_pylist() == [None, "b", ""]
    assert col.values_with_null().to_pylist() == [None, "", "a", "b"]
    empty = encode_strings(pa.array([None], pa.string()))
    assert empty.lookup("a") == -1 and empty.lookup_many(["a", None]).tolist() == [-1, 0]


@pytest.mark.parametrize(
    ("values", "arrow_type", "kind", "expected", "failed"),
    [
        ([1, None, -3], pa.int64(), "long", [1, None, -3], [False] * 3),
        ([1, None, -3], pa.int32(), "double", [1.0, None, -3.0], [False] * 3),
        ([1.5, None], pa.float64(), "float", [1.5, None], [False] * 2),
        ([1.7, -1.7, None], pa.float64(), "long", [1, -1, None], [False] * 3),
        (
            ["1", " 2.5 ", "", "x", None, "1e3", "-4"],
            pa.string(),
            "double",
            [1.0, 2.5, None, None, None, 1000.0, -4.0],
            [False, False, False, True, False, False, False],
        ),
        (["7", "2.9", "nope"], pa.large_string(), "long", [7, 2, None], [False, False, True]),
        ([True, False, None], pa.bool_(), "long", [1, 0, None], [False] * 3),
        ([None, None], pa.null(), "double", [None, None], [False] * 2),
        ([[4, 5], [], None, [6]], pa.list_(pa.int64()), "long", [4, None, None, 6], [False] * 4),
        ([], pa.list_(pa.int64()), "long", [], []),
        ([], pa.int64(), "double", [], []),
    ],
)
def test_encode_numeric(
    values: list[object], arrow_type: pa.DataType, kind: str, expected: list[object], failed: list[bool]
) -> None:
    col, bad = encode_numeric(pa.array(values, arrow_type), kind)
    assert col.kind == kind
    assert col.values.dtype == {"long": np.int64, "float": np.float32, "double": np.float64}[kind]
    got = [None if col.nulls is not None and col.nulls[i] else col.values[i].item() for i in range(len(col))]
    assert got == expected
    assert bad.tolist() == failed
    assert (col.nulls is None) == all(v is not None for v in expected)
    assert col.to_arrow().to_pylist() == expected


def test_encode_numeric_from_dictionary_strings() -> None:
    col, bad = encode_numeric(pa.array(["3", "x", "3", None]).dictionary_encode(), "long")
    assert col.values.tolist()[:1] == [3] and col.nulls is not None
    assert col.nulls.tolist() == [False, True, False, True] and bad.tolist() == [False, True, False, False]


def _exact(col: StringColumn) -> StringColumn:
    block = RowBlock(SegmentSchema((DimensionDef("d"),), ()), np.zeros(len(col), np.int64), {"d": col})
    out = exact_dictionaries(block).columns["d"]
    assert isinstance(out, StringColumn)
    return out


@pytest.mark.parametrize(
    ("dictionary", "indices"),
    [
        (["zeta", "", "alpha", "Émile", "b"], [0, 1, None, 2, 1, 3, 0, None]),  # unsorted, "" and null
        (["b", "a", "b", "", ""], [0, 1, 2, 3, 4, None, 2]),  # repeated dictionary values
        (["x", "y", "z"], [2, 2]),  # values no row holds
        (["x"], [None, None]),  # only nulls
        ([], []),
    ],
)
def test_string_encoder_codes_dictionary_arrays_as_the_decoded_values(
    dictionary: list[str], indices: list[int | None]
) -> None:
    arr = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(dictionary, pa.string()))
    col = StringEncoder().encode(arr)
    assert col.to_arrow().to_pylist() == arr.to_pylist()
    assert col.dictionary.to_pylist() == _utf8_sorted(dictionary)  # every value, sorted, once
    expected = encode_strings(arr.cast(pa.string()))
    exact = _exact(col)
    assert exact.dictionary.to_pylist() == expected.dictionary.to_pylist()
    assert exact.codes.tolist() == expected.codes.tolist()
    assert exact.codes.dtype == expected.codes.dtype


def test_string_encoder_sorts_a_repeated_dictionary_once_and_shares_it() -> None:
    encoder = StringEncoder()
    words = pa.array(["q", "c", "m"], pa.string())
    first = encoder.encode(pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), words))
    # The next batch of the row group carries an equal dictionary (another copy of it).
    again = pa.array(["q", "c", "m"], pa.string())
    second = encoder.encode(pa.DictionaryArray.from_arrays(pa.array([2, None], pa.int32()), again))
    assert second.dictionary is first.dictionary
    assert second.to_arrow().to_pylist() == ["m", None]
    other = encoder.encode(pa.DictionaryArray.from_arrays(pa.array([0], pa.int8()), pa.array(["a"])))
    assert other.dictionary.to_pylist() == ["a"] and other.codes.tolist() == [1]


def test_string_encoder_falls_back_for_other_arrays() -> None:
    encoder = StringEncoder("SORTED_SET")
    plain = encoder.encode(pa.array(["b", None, "a"]))
    assert plain.to_arrow().to_pylist() == ["b", None, "a"]
    numbers = encoder.encode(pa.DictionaryArray.from_arrays(pa.array([1, 0]), pa.array([10, 20])))
    assert numbers.to_arrow().to_pylist() == ["20", "10"]
    lists = encoder.encode(pa.array([["b", "a", "b"], None]))
    assert lists.to_arrow().to_pylist() == [["a", "b"], None]
