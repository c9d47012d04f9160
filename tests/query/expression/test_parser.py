"""Parsing Druid expressions: precedence, literals, round trips, folding and error messages."""

from __future__ import annotations

import math

import pytest

from grove.errors import InvalidInput, Unsupported
from grove.query.expression import (
    ArrayLiteral,
    BinaryOp,
    Call,
    ExprType,
    Identifier,
    Literal,
    UnaryOp,
    parse_expression,
)


def shape(text: str) -> str:
    return str(parse_expression(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a + b * c", "(a + (b * c))"),
        ("a * b + c", "((a * b) + c)"),
        ("a - b - c", "((a - b) - c)"),
        ("a / b * c % d", "(((a / b) * c) % d)"),
        ("a ^ b ^ c", "(a ^ (b ^ c))"),
        ("-a ^ b", "(-a ^ b)"),
        ("a ^ -b", "(a ^ -b)"),
        ("!a && b", "(!a && b)"),
        ("a || b && c", "((a || b) && c)"),
        ("a && b || c", "((a && b) || c)"),
        ("a < b == c", "((a < b) == c)"),
        ("a + b < c * d && e != f", "(((a + b) < (c * d)) && (e != f))"),
        ("a <= b >= c > d", "(((a <= b) >= c) > d)"),
        ("(a + b) * c", "((a + b) * c)"),
        ("- -a", "--a"),
        ("!!a", "!!a"),
        ("a*-b", "(a * -b)"),
        ("f(a)", None),
    ],
)
def test_precedence_matches_druid(text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(InvalidInput, match=r"Unknown function \[f\]"):
            parse_expression(text)
        return
    assert shape(text) == expected


def test_unary_minus_binds_tighter_than_power() -> None:
    # Druid's grammar lists unary operators first, so -2^2 is (-2)^2.
    assert parse_expression("-2 ^ 2") == Literal(4)
    assert parse_expression("2 ^ 3 ^ 2") == Literal(512)


def test_logical_and_or_share_one_level() -> None:
    # With && binding tighter this would be 1; Druid evaluates left to right.
    assert parse_expression("1 || 0 && 0") == Literal(0)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12),
        ("0", 0),
        ("1.5", 1.5),
        ("1.", 1.0),
        ("1e3", 1000.0),
        ("1.5e-3", 0.0015),
        ("2.E2", 200.0),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("'abc'", "abc"),
        ("''", ""),
        ("'it\\'s'", "it's"),
        ("'a\\nb\\t\\\\c\\u00e9\\/'", "a\nb\t\\cé/"),
        ("'héllo 😀'", "héllo 😀"),
        ("-9223372036854775808", -(2**63)),
        ("9223372036854775807", 2**63 - 1),
    ],
)
def test_literals(text: str, value: object) -> None:
    expr = parse_expression(text)
    assert isinstance(expr, Literal)
    assert expr.value == value
    assert type(expr.value) is type(value)


def test_nan_and_null_literals() -> None:
    nan = parse_expression("NaN")
    assert isinstance(nan, Literal) and isinstance(nan.value, float) and math.isnan(nan.value)
    assert parse_expression("null") == Literal(None)
    assert parse_expression("null").output_type({}) is ExprType.STRING


def test_long_vs_double_literal_types() -> None:
    assert parse_expression("1").output_type({}) is ExprType.LONG
    assert parse_expression("1.0").output_type({}) is ExprType.DOUBLE
    assert parse_expression("'1'").output_type({}) is ExprType.STRING


def test_identifiers() -> None:
    assert parse_expression("__time") == Identifier("__time")
    assert parse_expression("$x_1") == Identifier("$x_1")
    assert parse_expression('"country name"') == Identifier("country name")
    assert parse_expression('"a\\"b"') == Identifier('a"b')
    assert parse_expression('"null"') == Identifier("null")
    assert parse_expression("NaNa") == Identifier("NaNa")
    assert str(Identifier("country name")) == '"country name"'
    assert str(Identifier("null")) == '"null"'
    assert str(Identifier("x1")) == "x1"


@pytest.mark.parametrize(
    ("text", "values", "array_type"),
    [
        ("[1, 2]", (1, 2), ExprType.LONG_ARRAY),
        ("[1, 2.5]", (1.0, 2.5), ExprType.DOUBLE_ARRAY),
        ("['a', null]", ("a", None), ExprType.STRING_ARRAY),
        ("[]", (), ExprType.STRING_ARRAY),
        ("[null]", (None,), ExprType.STRING_ARRAY),
        ("<LONG>[]", (), ExprType.LONG_ARRAY),
        ("<DOUBLE>[1, 2]", (1.0, 2.0), ExprType.DOUBLE_ARRAY),
        ("<STRING>[1, 'a']", ("1", "a"), ExprType.STRING_ARRAY),
        ("ARRAY<LONG>[3]", (3,), ExprType.LONG_ARRAY),
        ("[1, -2]", (1, -2), ExprType.LONG_ARRAY),
    ],
)
def test_array_literals(text: str, values: tuple[object, ...], array_type: ExprType) -> None:
    expr = parse_expression(text)
    assert expr == ArrayLiteral(values, array_type)
    assert parse_expression(str(expr)) == expr


def test_function_names_are_case_insensitive() -> None:
    assert parse_expression("CONCAT(a, 'x')") == parse_expression("concat(a, 'x')")
    call = parse_expression("Timestamp_Floor(__time, 'P1D')")
    assert isinstance(call, Call) and call.name == "timestamp_floor"


def test_constant_folding() -> None:
    assert parse_expression("1 + 2 * 3") == Literal(7)
    assert parse_expression("concat('a', 'b')") == Literal("ab")
    assert parse_expression("x + (1 + 2)") == BinaryOp("+", Identifier("x"), Literal(3))
    assert parse_expression("timestamp_floor(__time, 'P' + '1D')") == parse_expression(
        "timestamp_floor(__time, 'P1D')"
    )
    # A constant that evaluates to null keeps its shape, so its type is not lost.
    assert parse_expression("null + 1") == BinaryOp("+", Literal(None), Literal(1))
    assert parse_expression("null + 1").output_type({}) is ExprType.LONG
    assert parse_expression("-x") == UnaryOp("-", Identifier("x"))


def test_required_columns_and_is_constant() -> None:
    expr = parse_expression("if(a > 0, concat(b, \"c d\"), timestamp_floor(__time, 'PT1H'))")
    assert expr.required_columns() == frozenset({"a", "b", "c d", "__time"})
    assert not expr.is_constant()
    assert parse_expression("'x' + 1.5").is_constant()
    assert parse_expression("[1, 2]").is_constant()


def test_output_types() -> None:
    types = {"l": ExprType.LONG, "d": ExprType.DOUBLE, "s": ExprType.STRING, "m": ExprType.STRING_ARRAY}
    cases = {
        "l + l": ExprType.LONG,
        "l + d": ExprType.DOUBLE,
        "l / l": ExprType.LONG,
        "s + s": ExprType.STRING,
        "s + l": ExprType.DOUBLE,
        "l < d": ExprType.LONG,
        "s && l": ExprType.LONG,
        "if(l, l, d)": ExprType.DOUBLE,
        "if(l, l, s)": ExprType.STRING,
        "nvl(missing, l)": ExprType.LONG,
        "missing": ExprType.STRING,
        "missing + 1": ExprType.LONG,
        "cast(l, 'STRING')": ExprType.STRING,
        "timestamp_extract(l, 'CENTURY')": ExprType.DOUBLE,
        "upper(m)": ExprType.STRING_ARRAY,
        "m": ExprType.STRING_ARRAY,
        "array_length(m)": ExprType.LONG,
        "strlen(m) + 1": ExprType.LONG_ARRAY,
        "greatest(l, d)": ExprType.DOUBLE,
        "greatest(l, s)": ExprType.STRING,
        "abs(l)": ExprType.LONG,
        "sqrt(l)": ExprType.DOUBLE,
        "round(d, 1)": ExprType.DOUBLE,
        "div(d, l)": ExprType.LONG,
    }
    for text, expected in cases.items():
        assert parse_expression(text).output_type(types) is expected, text


ROUND_TRIP = [
    "a + b * -c",
    "(a + b) * c ^ d ^ e",
    "!(a && b) || !c",
    "if(x > 1.5, 'big\\'s', \"col name\")",
    "case_searched(a == 1, 'one', a == 2, 'two', 'many')",
    'concat(s, \'\\n\', "weird\\"col")',
    "timestamp_floor(__time, 'P1D', null, 'America/Los_Angeles')",
    "x * 1e-7 + y * 12345678.9 - z * 1e21",
    "array_contains(tags, ['a', 'b'])",
    "x + <DOUBLE>[]",
    "-x - -1",
    "x / NaN + Infinity",
    "like(s, 'a\\\\_%', '\\\\')",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_str_round_trips(text: str) -> None:
    expr = parse_expression(text)
    again = parse_expression(str(expr))
    assert str(again) == str(expr)
    assert again == expr or "NaN" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a + )", "unexpected ')' at position 4"),
        ("(a + b", "unexpected end of expression at position 6"),
        ("a +", "unexpected end of expression at position 3"),
        ("1 2", "unexpected '2' at position 2"),
        ("a = b", "unexpected '=' at position 2"),
        ("a & b", "unexpected '&' at position 2"),
        ("'abc", "unterminated string at position 0"),
        ('"abc', "unterminated identifier at position 0"),
        ("'a\\q'", "invalid escape at position 2"),
        ("f(a,)", "unexpected ')' at position 4"),
        ("[1, x]", "unexpected 'x' at position 4"),
        ("[1, 'a']", "array literal mixes strings and numbers at position 0"),
        ("9223372036854775808", "long literal out of range at position 0"),
        ("a.b", "unexpected '.' at position 1"),
        ("", "unexpected end of expression at position 0"),
    ],
)
def test_syntax_errors_name_the_position_and_path(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_expression(text, "virtualColumns[0].expression")
    assert info.value.message == f"Invalid expression at virtualColumns[0].expression: {message}"
    assert info.value.path == "virtualColumns[0].expression"


def test_unknown_function() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_expression("foo(1)", "transformSpec.transforms[1].expression")
    assert info.value.message == "Unknown function [foo] in transformSpec.transforms[1].expression"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("substring('abc', 1)", "Function [substring] takes 3 arguments but got 2 in expression"),
        ("if(a, b)", "Function [if] takes 3 arguments but got 2 in expression"),
        ("timestamp_floor(a)", "Function [timestamp_floor] takes 2 to 4 arguments but got 1 in expression"),
        ("coalesce()", "Function [coalesce] takes at least 1 arguments but got 0 in expression"),
        ("pi(1)", "Function [pi] takes 0 arguments but got 1 in expression"),
    ],
)
def test_arity_errors_name_the_function(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_expression(text)
    assert info.value.message == message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("like(s, p)", "Function [like] needs a literal pattern"),
        ("like(s, 'a', 'xy')", "Function [like] needs a single escape character"),
        ("regexp_like(s, '(')", "Function [regexp_like] has an invalid regular expression"),
        ("regexp_extract(s, '(a)', 2)", "Function [regexp_extract] has no group 2"),
        ("cast(x, 'BLOB')", "Function [cast] does not know type [BLOB]"),
        ("cast(x, t)", "Function [cast] needs a literal type name"),
        ("timestamp_floor(__time, 'P1X')", "Invalid period [P1X]"),
        ("timestamp_floor(__time, p)", "Function [timestamp_floor] needs a literal period"),
        ("timestamp_floor(__time, 'P1D', null, 'Mars/Olympus')", "unknown time zone [Mars/Olympus]"),
        (
            "timestamp_extract(__time, 'FORTNIGHT')",
            "Function [timestamp_extract] does not know unit [FORTNIGHT]",
        ),
        ("timestamp_format(__time, 'yyyy-qq')", "Unknown time pattern letter [q]"),
        ("contains_string(s, t)", "Function [contains_string] needs a literal search string"),
        ("1 / 0", "Division by zero in long operator [/]"),
        ("-'a'", "Operator [-] does not accept [STRING] operands"),
    ],
)
def test_function_argument_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_expression(text, "filter.expression")
    assert fragment in info.value.message
    assert "filter.expression" in info.value.message


def test_lambdas_are_unsupported() -> None:
    with pytest.raises(Unsupported, match=r"Lambda expressions \(in \[map\]\)"):
        parse_expression("map((x) -> x + 1, tags)")
    with pytest.raises(Unsupported):
        parse_expression("filter(x -> x > 1, tags)")


def test_non_string_input() -> None:
    with pytest.raises(InvalidInput, match="expected a string"):
        parse_expression(12)  # type: ignore[arg-type]


def test_pathological_nesting_is_an_input_error() -> None:
    with pytest.raises(InvalidInput, match="nested too deeply"):
        parse_expression("(" * 5000 + "x" + ")" * 5000)
    deep = parse_expression("(" * 100 + "x + 1" + ")" * 100)
    assert str(deep) == "(x + 1)"
