"""Every built-in function on normal values, nulls, empty strings and mixed types, plus Druid's examples."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from itertools import product
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from grove.errors import GroveError, InvalidInput
from grove.query.expression import (
    FUNCTIONS,
    ExprType,
    FunctionRegistry,
    FunctionSpec,
    evaluate,
    evaluate_scalar,
    parse_expression,
)
from grove.query.expression.nodes import returns, strict
from grove.query.expression.values import arrow_type
from grove.query.lookups import LookupMap, LookupRegistry, using_lookups


def run(text: str, **columns: Any) -> list[Any]:
    cols = {k: v if isinstance(v, pa.Array) else pa.array(v) for k, v in columns.items()}
    n = len(next(iter(cols.values()))) if cols else 1
    return evaluate(parse_expression(text), cols, n).to_pylist()


def one(text: str, **bindings: Any) -> Any:
    return evaluate_scalar(parse_expression(text), bindings)


STRINGS = ["abc", "", None, "Héllo Wörld", "  pad  ", "a,b,,c", "😀x"]

# ---------------------------------------------------------------------------------------------------------
# General


def test_if_and_case() -> None:
    cols = {"c": [1, 0, None, -1], "a": [10, 20, 30, 40]}
    assert run("if(c, a, -a)", **cols) == [10, -20, -30, -40]
    assert run("if(c, a, 'x')", **cols) == ["10", "x", "x", "x"]
    assert run("if(c, a, 0.5)", **cols) == [10.0, 0.5, 0.5, 0.5]
    assert run("case_searched(c > 0, 'pos', c < 0, 'neg')", **cols) == ["pos", None, None, "neg"]
    assert run("case_searched(c > 0, 'pos', c < 0, 'neg', 'zero or null')", **cols) == [
        "pos",
        "zero or null",
        "zero or null",
        "neg",
    ]
    assert run("case_simple(c, 1, 'one', 0, 'zero', 'other')", **cols) == ["one", "zero", "other", "other"]
    assert run("case_simple(c, 1, 'one', 0, 'zero')", **cols) == ["one", "zero", None, None]
    assert run("case_simple(s, 'a', 1, 2)", s=["a", "b", None]) == [1, 2, 2]
    assert run("if(s, 1, 0)", s=["true", "TRUE", "yes", "1", "", None]) == [1, 1, 0, 0, 0, 0]


def test_null_functions() -> None:
    cols = {"s": ["a", "", None], "l": [1, None, 3]}
    assert run("isnull(s)", **cols) == [0, 0, 1]
    assert run("notnull(l)", **cols) == [1, 0, 1]
    assert run("nvl(s, 'x')", **cols) == ["a", "", "x"]
    assert run("nvl(l, 2.5)", **cols) == [1.0, 2.5, 3.0]
    assert run("coalesce(l, s, 'z')", **cols) == ["1", "", "3"]
    assert run("coalesce(null, l)", **cols) == [1, None, 3]
    assert one("isnull(null)") == 1 and one("notnull('')") == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cast('1.9', 'LONG')", 1),
        ("cast('-1.9', 'LONG')", -1),
        ("cast('true', 'LONG')", 1),
        ("cast('False', 'DOUBLE')", 0.0),
        ("cast('abc', 'LONG')", None),
        ("cast(' 1', 'LONG')", None),
        ("cast('', 'DOUBLE')", None),
        ("cast('1e3', 'LONG')", 1000),
        ("cast('9223372036854775807', 'LONG')", 2**63 - 1),
        ("cast('9223372036854775808', 'LONG')", 2**63 - 1),
        ("cast(NaN, 'LONG')", 0),
        ("cast(1e30, 'LONG')", 2**63 - 1),
        ("cast(-2.7, 'long')", -2),
        ("cast(3, 'DOUBLE')", 3.0),
        ("cast(3, 'STRING')", "3"),
        ("cast(2.50, 'STRING')", "2.5"),
        ("cast(12345678.9, 'STRING')", "1.23456789E7"),
        ("cast(0.0001, 'STRING')", "1.0E-4"),
        ("cast(-0.0, 'STRING')", "-0.0"),
        ("cast('5', 'ARRAY<LONG>')", [5]),
        ("cast([1, 2], 'ARRAY<STRING>')", ["1", "2"]),
        ("cast(null, 'LONG')", None),
    ],
)
def test_cast(text: str, expected: Any) -> None:
    assert one(text) == expected


# ---------------------------------------------------------------------------------------------------------
# Strings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("concat(s, '|')", ["abc|", "|", None, "Héllo Wörld|", "  pad  |", "a,b,,c|", "😀x|"]),
        ("lower(s)", ["abc", "", None, "héllo wörld", "  pad  ", "a,b,,c", "😀x"]),
        ("upper(s)", ["ABC", "", None, "HÉLLO WÖRLD", "  PAD  ", "A,B,,C", "😀X"]),
        ("strlen(s)", [3, 0, None, 11, 7, 6, 3]),
        ("reverse(s)", ["cba", "", None, "dlröW olléH", "  dap  ", "c,,b,a", "x😀"]),
        ("substring(s, 1, 2)", ["bc", None, None, "él", " p", ",b", "x"]),
        ("substring(s, 0, -1)", ["abc", None, None, "Héllo Wörld", "  pad  ", "a,b,,c", "😀x"]),
        ("left(s, 2)", ["ab", "", None, "Hé", "  ", "a,", "😀x"]),
        ("right(s, 2)", ["bc", "", None, "ld", "  ", ",c", "😀x"]),
        ("strpos(s, 'l')", [-1, -1, None, 2, -1, -1, -1]),
        ("strpos(s, '')", [0, 0, None, 0, 0, 0, 0]),
        ("strpos(s, 'l', 3)", [-1, -1, None, 3, -1, -1, -1]),
        ("replace(s, ',', ';')", ["abc", "", None, "Héllo Wörld", "  pad  ", "a;b;;c", "😀x"]),
        ("replace(s, '', 'z')", STRINGS),
        ("trim(s)", ["abc", "", None, "Héllo Wörld", "pad", "a,b,,c", "😀x"]),
        ("ltrim(s)", ["abc", "", None, "Héllo Wörld", "pad  ", "a,b,,c", "😀x"]),
        ("rtrim(s, 'c,')", ["ab", "", None, "Héllo Wörld", "  pad  ", "a,b", "😀x"]),
        ("trim(s, '')", STRINGS),
        ("lpad(s, 5, '-')", ["--abc", "-----", None, "Héllo", "  pad", "a,b,,", "---😀x"]),
        ("rpad(s, 4, 'xy')", ["abcx", "xyxy", None, "Héll", "  pa", "a,b,", "😀xxy"]),
        ("lpad(s, 3, '')", ["abc", "", None, "Hél", "  p", "a,b", "😀x"]),
        (
            "repeat(s, 2)",
            ["abcabc", "", None, "Héllo WörldHéllo Wörld", "  pad    pad  ", "a,b,,ca,b,,c", "😀x😀x"],
        ),
        ("repeat(s, 0)", [None] * 7),
        ("contains_string(s, 'b')", [1, 0, 0, 0, 0, 1, 0]),
        ("icontains_string(s, 'WÖR')", [0, 0, 0, 1, 0, 0, 0]),
        ("like(s, '%l_o%')", [0, 0, None, 1, 0, 0, 0]),
        ("like(s, '')", [0, 1, None, 0, 0, 0, 0]),
        ("regexp_like(s, '^[a-z]+$')", [1, 0, 0, 0, 0, 0, 0]),
        ("regexp_extract(s, '([a-z]+),([a-z]+)', 2)", [None, None, None, None, None, "b", None]),
        ("regexp_extract(s, 'l+')", [None, None, None, "ll", None, None, None]),
        ("regexp_replace(s, '[aeiouéö]', '_')", ["_bc", "", None, "H_ll_ W_rld", "  p_d  ", "_,b,,c", "😀x"]),
        (
            "regexp_replace(s, '(\\\\w)(\\\\w)', '$2$1')",
            ["bac", "", None, "Héllo Wölrd", "  apd  ", "a,b,,c", "😀x"],
        ),
        ("parse_long(s)", [None] * 7),
    ],
)
def test_string_functions(text: str, expected: list[Any]) -> None:
    assert run(text, s=STRINGS) == expected


def test_string_functions_read_numbers_as_java_strings() -> None:
    assert run("concat(x, '')", x=[1.0, 1e7, 0.5, None]) == ["1.0", "1.0E7", "0.5", None]
    assert run("strlen(x)", x=[100, -5]) == [3, 2]
    assert run("upper(x)", x=[1.5]) == ["1.5"]
    assert one("concat()") is None
    assert one("concat('a', 1, 2.0, 'b')") == "a12.0b"


def test_strictly_typed_string_functions() -> None:
    with pytest.raises(InvalidInput, match=r"Function \[reverse\] needs a STRING argument"):
        run("reverse(x)", x=[1])
    with pytest.raises(InvalidInput, match=r"Function \[left\] needs a LONG argument"):
        run("left(s, 1.5)", s=["a"])
    with pytest.raises(InvalidInput, match=r"Function \[right\] needs a non-negative length"):
        run("right(s, -1)", s=["a"])
    with pytest.raises(InvalidInput, match=r"Function \[substring\] needs a non-negative index"):
        run("substring(s, -1, 2)", s=["abc"])


def test_string_functions_with_column_arguments() -> None:
    # These go through per-distinct-value evaluation; results must match the constant-argument paths.
    cols = {"s": ["hello", "world", None, "hello"], "n": [1, 2, 3, None], "c": ["l", "o", "x", "h"]}
    assert run("strpos(s, c)", **cols) == [2, 1, None, 0]
    assert run("substring(s, n, 2)", **cols) == ["el", "rl", None, "he"]
    assert run("lpad(s, n + 5, '*')", **cols) == ["*hello", "**world", None, None]
    assert run("trim(s, c)", **cols) == ["hello", "world", None, "ello"]
    assert run("replace(s, c, '_')", **cols) == ["he__o", "w_rld", None, "_ello"]
    assert run("left(s, n)", **cols) == ["h", "wo", None, ""]
    assert run("regexp_replace(s, c, '[$0]')", **cols) == ["he[l][l]o", "w[o]rld", None, "[h]ello"]


def test_format() -> None:
    assert one("format('%s has %d items costing %.2f', 'cart', 3, 9.5)") == "cart has 3 items costing 9.50"
    assert one("format('%5s|%-5s|%05d|%,d', 'a', 'b', 42, 1234567)") == "    a|b    |00042|1,234,567"
    assert one("format('%x %X %o %%', 255, 255, 8)") == "ff FF 10 %"
    assert one("format('%s', 1.0)") == "1.0"
    assert one("format('%s %s', null, 'x')") == "null x"
    assert one("format('%2$s %1$s', 'a', 'b')") == "b a"
    assert one("format('%e', 12345.678)") == "1.234568e+04"
    assert one("format('no args %d')") == "no args %d"
    # A pattern that does not fit its arguments gives the pattern and the arguments (nonStrictFormat).
    assert one("format('%d', 'x')") == "%d; x"
    assert one("format('%s %s', 'only')") == "%s %s; only"
    assert run("format('%s-%d', s, n)", s=["a", "b", None], n=[1, 2, 3]) == ["a-1", "b-2", "null-3"]


def test_parse_long() -> None:
    assert run("parse_long(s)", s=["12", "-7", "+3", "1.5", "", "x", None, "99999999999999999999"]) == [
        12,
        -7,
        3,
        None,
        None,
        None,
        None,
        None,
    ]
    assert one("parse_long('ff', 16)") == 255
    assert one("parse_long('0x1F', 16)") == 31
    assert one("parse_long('777', 8)") == 511
    assert one("parse_long('9', 8)") is None


def test_regular_expressions_outside_re2_fall_back_to_python() -> None:
    # RE2 has no look-behind; Python's re runs these once per distinct value.
    assert run("regexp_like(s, '(?<=a)b')", s=["ab", "cb", None]) == [1, 0, 0]
    assert run("regexp_extract(s, '(\\\\w)(?=!)', 1)", s=["hi!", "no", None]) == ["i", None, None]
    assert run("regexp_replace(s, '(?<=a)b', 'X')", s=["abab", None]) == ["aXaX", None]


def test_like_escapes() -> None:
    cols = {"s": ["50%", "50x", "a_b", "axb", "a\\b", None]}
    assert run("like(s, '50!%', '!')", **cols) == [1, 0, 0, 0, 0, None]
    assert run("like(s, 'a\\\\_b', '\\\\')", **cols) == [0, 0, 1, 0, 0, None]
    # Without an escape character a backslash is an ordinary character.
    assert run("like(s, 'a\\\\b')", **cols) == [0, 0, 0, 0, 1, None]


# ---------------------------------------------------------------------------------------------------------
# Math


def test_unary_math() -> None:
    assert run("abs(x)", x=[-3, 3, None]) == [3, 3, None]
    assert run("abs(x)", x=[-1.5, None]) == [1.5, None]
    assert run("ceil(x)", x=[1.2, -1.2, None]) == [2.0, -1.0, None]
    assert run("floor(x)", x=[3, None]) == [3.0, None]
    assert run("sqrt(x)", x=[4, -1]) == [2.0, pytest.approx(float("nan"), nan_ok=True)]
    assert run("exp(0) + log(1) + log10(100)") == [3.0]
    assert math.isinf(one("log(0)"))
    assert one("sqrt('4')") is None  # math functions give null for strings, as in Druid
    assert one("abs('x')") is None
    assert one("signum(-2.5)") == -1.0
    assert one("pi()") == math.pi
    assert one("getExponent(1024.0)") == 10
    assert one("cbrt(27)") == pytest.approx(3.0)
    assert one("toDegrees(pi())") == pytest.approx(180.0)


def test_binary_math() -> None:
    assert one("pow(2, 10)") == 1024.0
    assert one("div(7, 2)") == 3
    assert one("div(-7, 2)") == -3
    assert one("div(7.9, 2)") == 3
    assert one("max(1, 2)") == 2
    assert one("min(1, 2.5)") == 1.0
    assert one("atan2(1, 1)") == pytest.approx(math.pi / 4)
    assert one("hypot(3, 4)") == 5.0
    assert one("max('1', 5)") == 5.0
    assert one("max('a', 'b')") is None
    with pytest.raises(InvalidInput, match=r"Division by zero in long operator \[div\]"):
        run("div(x, 0)", x=[1])


def test_safe_divide() -> None:
    cols = {"x": [6, 1, 0, None, -7], "y": [4, 0, 0, 2, 2]}
    assert run("safe_divide(x, y)", **cols) == [1, None, 0, None, -3]
    assert run("safe_divide(x, cast(y, 'DOUBLE'))", **cols) == [1.5, None, 0.0, None, -3.5]
    assert one("safe_divide(1.0, NaN)") is None


def test_round_matches_big_decimal_half_up() -> None:
    assert one("round(2.5)") == 3.0
    assert one("round(-2.5)") == -3.0
    assert one("round(2.675, 2)") == 2.68  # decimal 2.675, not the binary 2.67499…
    assert one("round(1.005, 2)") == 1.01
    assert one("round(1234.5678, -2)") == 1200.0
    assert one("round(15, -1)") == 20
    assert one("round(-15, -1)") == -20
    assert one("round(7)") == 7
    assert one("round(NaN)") == 0.0
    assert one("round(Infinity)") == 1.7976931348623157e308
    with pytest.raises(InvalidInput, match=r"Function \[round\] needs a LONG or DOUBLE"):
        one("round('1.5')")
    rng = random.Random(5)
    values = [round(rng.uniform(-1000, 1000), rng.randint(0, 6)) for _ in range(2000)]
    values += [x + 0.005 for x in range(-50, 50)]
    values += [rng.uniform(-1e14, 1e14) for _ in range(500)] + [2.0**52 + 1, 1e15 + 0.5]
    for digits in (0, 1, 2, 3, -1):
        out = run(f"round(x, {digits})", x=values)
        for x, got in zip(values, out, strict=True):
            want = float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))
            assert got == want, (x, digits)


def test_greatest_and_least() -> None:
    assert one("greatest(1, 5, 3)") == 5
    assert one("greatest(1, 5.5, null)") == 5.5
    assert one("least(1, '5', 3)") == "1"
    assert one("greatest('10', 9)") == "9"  # compared as strings once a string is involved
    assert one("greatest(null, null)") is None
    assert one("greatest()") is None
    assert run("least(a, b)", a=[1, None, 3], b=[2, 2, None]) == [1, 2, 3]


def test_bitwise() -> None:
    assert one("bitwiseAnd(12, 10)") == 8
    assert one("bitwiseOr(12, 10)") == 14
    assert one("bitwiseXor(12, 10)") == 6
    assert one("bitwiseComplement(0)") == -1
    assert one("bitwiseShiftLeft(1, 3)") == 8
    assert one("bitwiseShiftRight(-16, 2)") == -4
    assert one("bitwiseAnd(12.9, 10)") == 8
    assert one("bitwiseConvertLongBitsToDouble(bitwiseConvertDoubleToLongBits(1.5))") == 1.5


# ---------------------------------------------------------------------------------------------------------
# Time


ZONES = ["UTC", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "+05:45"]


def zone_of(name: str) -> Any:
    if name.startswith(("+", "-")):
        sign = 1 if name[0] == "+" else -1
        return timezone(sign * timedelta(hours=int(name[1:3]), minutes=int(name[4:6])))
    return ZoneInfo(name)


def instants(seed: int, count: int = 400) -> list[int]:
    rng = random.Random(seed)
    base = [rng.randint(946_684_800_000, 1_900_000_000_000) for _ in range(count)]
    # Around daylight saving changes in 2021 (US: Mar 14 / Nov 7, EU: Mar 28 / Oct 31).
    for day in ("2021-03-14", "2021-11-07", "2021-03-28", "2021-10-31"):
        start = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)
        base += [start + k * 1_800_000 for k in range(-4, 40)]
    return base


def local(ms: int, zone: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone_of(zone))


@pytest.mark.parametrize("zone", ZONES)
def test_timestamp_extract_matches_python(zone: str) -> None:
    ms = instants(1)
    units = {
        "YEAR": lambda d: d.year,
        "MONTH": lambda d: d.month,
        "DAY": lambda d: d.day,
        "HOUR": lambda d: d.hour,
        "MINUTE": lambda d: d.minute,
        "SECOND": lambda d: d.second,
        "MILLISECOND": lambda d: d.microsecond // 1000,
        "DOW": lambda d: d.isoweekday(),
        "ISODOW": lambda d: d.isoweekday(),
        "DOY": lambda d: d.timetuple().tm_yday,
        "WEEK": lambda d: d.isocalendar()[1],
        "ISOYEAR": lambda d: d.isocalendar()[0],
        "QUARTER": lambda d: (d.month - 1) // 3 + 1,
        "DECADE": lambda d: d.year // 10,
        "CENTURY": lambda d: float(math.ceil(d.year / 100)),
        "MILLENNIUM": lambda d: float(math.ceil(d.year / 1000)),
    }
    for unit, fn in units.items():
        out = run(f"timestamp_extract(t, '{unit}', '{zone}')", t=ms)
        assert out == [fn(local(m, zone)) for m in ms], unit
    assert run("timestamp_extract(t, 'EPOCH')", t=[1500, -1500, None]) == [1, -1, None]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("period", ["P1D", "PT1H", "P1M", "P1W", "P3M", "P1Y", "PT15M"])
def test_timestamp_floor_and_ceil_match_python(zone: str, period: str) -> None:
    ms = instants(2)

    def floor_py(m: int) -> int:
        d = local(m, zone)
        if period == "PT1H":
            # Hours are exact durations in Druid's zoned periods: floor the instant, keep local alignment.
            d = d.replace(minute=0, second=0, microsecond=0)
        elif period == "PT15M":
            d = d.replace(minute=d.minute - d.minute % 15, second=0, microsecond=0)
        else:
            d = d.replace(hour=0, minute=0, second=0, microsecond=0)
            if period == "P1W":
                d -= timedelta(days=d.weekday())
            elif period == "P1M":
                d = d.replace(day=1)
            elif period == "P3M":
                d = d.replace(day=1, month=d.month - (d.month - 1) % 3)
            elif period == "P1Y":
                d = d.replace(day=1, month=1)
        naive = d.replace(tzinfo=None)
        return int(naive.replace(tzinfo=zone_of(zone)).timestamp() * 1000)

    floors = run(f"timestamp_floor(t, '{period}', null, '{zone}')", t=ms)
    assert floors == [floor_py(m) for m in ms]
    ceils = run(f"timestamp_ceil(t, '{period}', null, '{zone}')", t=ms)
    before_ceils = run(f"timestamp_floor(t - 1, '{period}', null, '{zone}')", t=ceils)
    for m, f, c, b in zip(ms, floors, ceils, before_ceils, strict=True):
        assert c == m if f == m else c > m
        assert b <= m  # nothing between the instant and its ceiling starts a bucket


def test_timestamp_floor_examples() -> None:
    assert one("timestamp_floor(1600000000123, 'PT1M')") == 1599999960000
    assert one("timestamp_floor(t, 'PT1H', '1970-01-01T00:30:00Z')", t=1600000000000) == 1599996600000
    assert one("timestamp_floor(t, 'P1D', 0, '-08:00')", t=1600000000000) == 1599955200000
    assert one("timestamp_floor(null, 'P1D')") is None
    assert one("timestamp_ceil(1600041600000, 'P1D')") == 1600041600000
    assert run("timestamp_floor(t, 'PT1H')", t=pa.array([3_600_001, None], pa.int64())) == [3_600_000, None]


def test_timestamp_shift() -> None:
    jan31 = 1580428800000  # 2020-01-31
    assert one("timestamp_shift(t, 'P1M', 1)", t=jan31) == 1582934400000  # 2020-02-29, clamped
    assert one("timestamp_shift(t, 'P1M', -2)", t=jan31) == 1575072000000  # 2019-11-30
    assert one("timestamp_shift(t, 'PT1H', 3)", t=0) == 10_800_000
    assert one("timestamp_shift(t, 'P1D', -1)", t=0) == -86_400_000
    assert one("timestamp_shift(t, 'P1Y', 1)", t=1582934400000) == 1614470400000  # 2021-02-28
    zone = "America/Los_Angeles"
    start = int(datetime(2021, 3, 13, 12, tzinfo=ZoneInfo(zone)).timestamp() * 1000)
    shifted = one(f"timestamp_shift(t, 'P1D', 1, '{zone}')", t=start)
    assert shifted == int(datetime(2021, 3, 14, 12, tzinfo=ZoneInfo(zone)).timestamp() * 1000)
    assert shifted - start == 23 * 3_600_000
    assert run("timestamp_shift(t, 'P1M', k)", t=[jan31, jan31, None], k=[1, 2, 1]) == [
        1582934400000,
        1585612800000,
        None,
    ]


PATTERNS = {
    "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S",
    "yyyy-MM-dd'T'HH:mm:ss.SSS": None,
    "EEE, dd MMM yyyy": "%a, %d %b %Y",
    "EEEE MMMM yy": "%A %B %y",
    "hh:mm a": "%I:%M %p",
    "D/w/e": None,
    "'quoted ''text'' 'HH": None,
    "Z ZZ": None,
}


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Kolkata"])
def test_timestamp_format_matches_python(zone: str) -> None:
    ms = instants(3, 200)
    for pattern, strftime in PATTERNS.items():
        out = run(f"timestamp_format(t, '{pattern.replace(chr(39), chr(92) + chr(39))}', '{zone}')", t=ms)
        for m, text in zip(ms, out, strict=True):
            d = local(m, zone)
            if strftime is not None:
                expected = d.strftime(strftime)
            elif pattern.startswith("yyyy"):
                expected = d.strftime("%Y-%m-%dT%H:%M:%S") + f".{d.microsecond // 1000:03d}"
            elif pattern == "D/w/e":
                expected = f"{d.timetuple().tm_yday}/{d.isocalendar()[1]}/{d.isoweekday()}"
            elif pattern.startswith("'"):
                expected = f"quoted 'text' {d.hour:02d}"
            else:
                offset = d.strftime("%z")
                expected = f"{offset} {offset[:3]}:{offset[3:]}"
            assert text == expected, (pattern, m)


def test_timestamp_format_iso_default() -> None:
    assert one("timestamp_format(0)") == "1970-01-01T00:00:00.000Z"
    assert one("timestamp_format(1600000000123, null, 'Asia/Kolkata')") == "2020-09-13T17:56:40.123+05:30"
    assert one("timestamp_format(null)") is None
    assert one("timestamp_format('1000')") == "1970-01-01T00:00:01.000Z"
    ms = instants(4, 300)
    out = run("timestamp_format(t)", t=ms)
    assert out == [
        datetime.fromtimestamp(m / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{m % 1000:03d}Z" for m in ms
    ]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "+05:45"])
def test_timestamp_parse_round_trips_format(zone: str) -> None:
    ms = instants(5, 300)
    for pattern in [
        "yyyy-MM-dd HH:mm:ss.SSS",
        "yyyyMMddHHmmssSSS",
        "dd/MMM/yyyy:HH:mm:ss.SSS Z",
        "D yyyy hh:mm:ss.SSS a",
    ]:
        formatted = run(f"timestamp_format(t, '{pattern}', '{zone}')", t=ms)
        parsed = run(f"timestamp_parse(s, '{pattern}', '{zone}')", s=formatted)
        mismatches = [(m, p) for m, p in zip(ms, parsed, strict=True) if m != p]
        # Only the repeated hour at the end of daylight saving time may parse to its other instant.
        assert all(abs(m - p) == 3_600_000 for m, p in mismatches), (pattern, mismatches[:3])
        assert len(mismatches) <= 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-02", 1577923200000),
        ("2020-01-02T03:04", 1577934240000),
        ("2020-01-02 03:04:05.6", 1577934245600),
        ("2020-01-02T03:04:05.123456789Z", 1577934245123),
        ("2020-01-02T03:04:05+05:30", 1577914445000),
        ("2020-01-02T03:04:05-0800", 1577963045000),
        ("2020-01", 1577836800000),
        ("2020", 1577836800000),
        ("2020-02-30", None),
        ("2020-13-01", None),
        ("2020-01-02T25:00", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_timestamp_parse_iso_and_sql(text: str, expected: int | None) -> None:
    assert one("timestamp_parse(s)", s=text) == expected


def test_timestamp_parse_with_zone_and_pattern() -> None:
    assert one("timestamp_parse('2020-03-04 05:06:07', null, 'Asia/Kolkata')") == 1583278567000
    assert one("timestamp_parse('03/04/2020', 'MM/dd/yyyy')") == 1583280000000
    assert one("timestamp_parse('4 Mar 2020', 'd MMM yyyy')") == 1583280000000
    assert one("timestamp_parse('4 march 2020', 'd MMMM yyyy')") == 1583280000000
    assert one("timestamp_parse('12:30 PM', 'hh:mm a')") == 45_000_000
    assert one("timestamp_parse('12:30 AM', 'hh:mm a')") == 1_800_000
    assert one("timestamp_parse('x', 'yyyy')") is None
    assert one("timestamp_parse(null)") is None


def test_timestamp_and_unix_timestamp() -> None:
    assert one("timestamp('2020-01-01T00:00:00Z')") == 1577836800000
    assert one("timestamp('2020-01-01')") == 1577836800000
    assert one("unix_timestamp('2020-01-01T00:00:01.999Z')") == 1577836801
    assert one("timestamp('01/02/2020', 'MM/dd/yyyy')") == 1577923200000
    assert run("timestamp(s)", s=["2020-01-01", None]) == [1577836800000, None]
    with pytest.raises(InvalidInput, match=r"Function \[timestamp\] cannot parse a value"):
        one("timestamp(s)", s="garbage")
    with pytest.raises(InvalidInput, match=r"Function \[timestamp\] needs a STRING"):
        one("timestamp(t)", t=5)


# ---------------------------------------------------------------------------------------------------------
# Arrays


def test_array_functions() -> None:
    tags = pa.array([["a", "b"], ["c"], [], None, ["b", None]], pa.list_(pa.string()))
    assert run("array_length(tags)", tags=tags) == [2, 1, 0, None, 2]
    assert run("array_offset(tags, 1)", tags=tags) == ["b", None, None, None, None]
    assert run("array_ordinal(tags, 1)", tags=tags) == ["a", "c", None, None, "b"]
    assert run("array_contains(tags, ['a', 'b'])", tags=tags) == [1, 0, 0, None, 0]
    assert run("array_contains(tags, 'b')", tags=tags) == [1, 0, 0, None, 1]
    assert run("array_overlap(tags, ['c', 'z'])", tags=tags) == [0, 1, 0, None, 0]
    assert run("array_contains(['a', 'c'], s)", s=["a", "b", None]) == [1, 0, None]
    assert run("scalar_in_array(s, ['a', 'c'])", s=["a", "b", None]) == [1, 0, None]
    assert run("array_to_string(tags, ',')", tags=tags) == ["a,b", "c", "", None, "b,null"]
    assert one("array_to_string([null], ',')") is None
    assert run("string_to_array(s, ',')", s=["a,b,,", "", None]) == [["a", "b"], [""], None]
    assert run("array(x, 2)", x=[1, None]) == [[1, 2], [None, 2]]
    assert one("array(1, 'a')") == ["1", "a"]
    assert run("mv_to_array(tags)", tags=tags)[0] == ["a", "b"]


# ---------------------------------------------------------------------------------------------------------
# Registry


def test_functions_are_registered_not_enumerated() -> None:
    def twice(ctx: Any, values: list[Any]) -> Any:
        return pc.multiply(values[0], 2)

    registry = FunctionRegistry(FUNCTIONS.get(n) for n in ("concat",))  # type: ignore[misc]
    registry.register(FunctionSpec("twice", 1, 1, returns(ExprType.LONG), strict(twice)))
    expr = parse_expression("concat(twice(x), '!')", registry=registry)
    assert evaluate(expr, {"x": pa.array([1, 2])}, 2).to_pylist() == ["2!", "4!"]
    with pytest.raises(InvalidInput, match=r"Unknown function \[upper\]"):
        parse_expression("upper(x)", registry=registry)
    with pytest.raises(InvalidInput, match=r"Function \[TWICE\] is already registered"):
        registry.register(FunctionSpec("TWICE", 1, 1, returns(None), strict(twice)))
    assert "timestamp_floor" in FUNCTIONS.names()


def test_every_function_accepts_nulls() -> None:
    """Each registered function, given null arguments where it takes values, evaluates without error."""
    literal_args = {
        "cast": ["'LONG'"],
        "like": ["'a%'"],
        "regexp_like": ["'a'"],
        "regexp_extract": ["'a'"],
        "regexp_replace": ["'a'", "'b'"],
        "contains_string": ["'a'"],
        "icontains_string": ["'a'"],
        "timestamp_floor": ["'P1D'"],
        "timestamp_ceil": ["'P1D'"],
        "timestamp_shift": ["'P1D'", "1"],
        "timestamp_extract": ["'DAY'"],
        "timestamp_format": [],
        "timestamp_parse": [],
        "lookup": ["'nulls'"],
    }
    lookups = LookupRegistry({"nulls": LookupMap("nulls", "v1", {"a": "b"})})
    for name in FUNCTIONS.names():
        spec = FUNCTIONS.get(name)
        assert spec is not None
        rest = literal_args.get(name.lower(), [])
        count = max(spec.min_args, 1 + len(rest)) if spec.max_args != 0 else 0
        args = (["x"] + rest + ["y"] * (count - 1 - len(rest)))[:count]
        text = f"{name}({', '.join(args)})"
        cols = {"x": pa.nulls(3, pa.string()), "y": pa.array([None, None, None], pa.int64())}
        if name.lower() in ("left", "right", "repeat", "reverse", "round"):
            cols["x"] = pa.nulls(3, pa.null())
        with using_lookups(lookups):
            out = evaluate(parse_expression(text), cols, 3)
        assert len(out) == 3, text


def test_vectorised_over_many_rows() -> None:
    n = 200_000
    rng = np.random.default_rng(0)
    cols = {
        "t": pa.array(rng.integers(1_500_000_000_000, 1_700_000_000_000, n)),
        "s": pa.array(rng.choice(["us", "de", "in", None], n)),
        "x": pa.array(rng.normal(size=n)),
    }
    expr = parse_expression(
        "concat(upper(nvl(s, 'zz')), '-', timestamp_format(timestamp_floor(t, 'P1D', null, 'Europe/Berlin'),"
        " 'yyyy-MM-dd', 'Europe/Berlin'), '-', cast(round(x * 100, 1), 'STRING'))"
    )
    out = evaluate(expr, cols, n)
    assert len(out) == n and out.null_count == 0


def test_output_type_always_matches_the_evaluated_type() -> None:
    """For every function and every mix of argument types that evaluates, the Arrow type is the declared one."""
    cols = {
        "l": pa.array([1, None, 0]),
        "d": pa.array([1.5, None, -2.0]),
        "s": pa.array(["a", None, "2"]),
        "m": pa.array([["a"], None, []], pa.list_(pa.string())),
    }
    types = {"l": ExprType.LONG, "d": ExprType.DOUBLE, "s": ExprType.STRING, "m": ExprType.STRING_ARRAY}
    checked = 0
    for name in FUNCTIONS.names():
        spec = FUNCTIONS.get(name)
        assert spec is not None
        upper = min(spec.max_args if spec.max_args is not None else 3, 3)
        for count in range(spec.min_args, upper + 1):
            for combo in product(["l", "d", "s", "missing", "m"], repeat=count):
                text = f"{name}({', '.join(combo)})"
                try:
                    expr = parse_expression(text)
                    out = evaluate(expr, cols, 3)
                except GroveError:
                    continue
                assert out.type == arrow_type(expr.output_type(types)), text
                checked += 1
    assert checked > 2500


def test_timestamp_parse_across_daylight_saving_changes() -> None:
    zone = "America/Los_Angeles"
    # 2021-03-14 02:30 does not exist in Los Angeles: Joda rejects it, so timestamp_parse gives null.
    assert one(f"timestamp_parse('2021-03-14 02:30:00', null, '{zone}')") is None
    assert one(f"timestamp_parse('2021-03-14 02:30', 'yyyy-MM-dd HH:mm', '{zone}')") is None
    assert one(f"timestamp_parse('2021-03-14 03:30:00', null, '{zone}')") == 1615717800000
    # 2021-11-07 01:30 happens twice: the earlier instant (still daylight time) is taken.
    assert one(f"timestamp_parse('2021-11-07 01:30:00', null, '{zone}')") == 1636273800000
    # An explicit offset wins over the zone.
    assert one(f"timestamp_parse('2021-03-14T02:30:00Z', null, '{zone}')") == 1615689000000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Examples from Druid's documentation and javadoc.
        ("contains_string('foobar', 'bar')", 1),
        ("contains_string('foobar', 'car')", 0),
        ("contains_string('foobar', 'Bar')", 0),
        ("icontains_string('foobar', 'Bar')", 1),
        ("substring('abc', 4, 5)", None),
        ("concat(null, 'abc')", None),
        ("safe_divide(3, 0)", None),
        ("lpad('abc', 5, 'x')", "xxabc"),
        ("lpad('abcdef', 2, 'x')", "ab"),
        ("lpad(null, 5, 'x')", None),
        ("rpad('abc', 5, null)", None),
        ("strpos('haystack', 'needle')", -1),
        ("regexp_extract('foo', 'x')", None),
        ("round(4.5678, 2)", 4.57),
        ("div(10, 3)", 3),
        ("timestamp_extract(0, 'EPOCH')", 0),
        ("timestamp_extract(946684800000, 'MILLENNIUM')", 2.0),
        ("timestamp_extract(978307200000, 'MILLENNIUM')", 3.0),
        ("case_searched(1 > 2, 'a')", None),
    ],
)
def test_documented_examples(text: str, expected: Any) -> None:
    assert one(text) == expected
