"""Expression types and the vectorised kernels that operators and functions are built from.

While an expression is evaluated, a value is either a pyarrow ``Array`` (one entry per row) or a pyarrow
``Scalar`` (the same for every row, as literals are). Values are normalised to a small set of Arrow
types: ``int64`` (LONG), ``float64`` (DOUBLE), ``string`` (STRING), ``list<…>`` of those (arrays and
multi-value strings) and ``null`` (a value of unknown type that is null everywhere, such as a missing
column or the ``null`` literal).

The conversions follow Druid's ``ExprEval``: strings become numbers the way ``computeNumber`` does it
(``'true'``/``'false'`` become 1.0/0.0, then a long, then a Java double, anything else is null), doubles
become longs by Java's truncating ``(long)`` cast and doubles become strings by ``Double.toString``.
Anything pyarrow has no kernel for is evaluated once per distinct value (:func:`map_unique`), never once
per row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.errors import InvalidInput, Unsupported

# pyarrow ships no type information, so an evaluated value is typed loosely: pa.Array or pa.Scalar.
Value: TypeAlias = Any

LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


class ExprType(Enum):
    """The types an expression can produce, named as Druid names them."""

    LONG = "LONG"
    DOUBLE = "DOUBLE"
    STRING = "STRING"
    LONG_ARRAY = "ARRAY<LONG>"
    DOUBLE_ARRAY = "ARRAY<DOUBLE>"
    STRING_ARRAY = "ARRAY<STRING>"

    @property
    def is_array(self) -> bool:
        return self in (ExprType.LONG_ARRAY, ExprType.DOUBLE_ARRAY, ExprType.STRING_ARRAY)

    @property
    def is_numeric(self) -> bool:
        return self in (ExprType.LONG, ExprType.DOUBLE)

    @property
    def element(self) -> ExprType:
        """The element type of an array type; a scalar type is its own element type."""
        return _ELEMENT.get(self, self)

    def as_array(self) -> ExprType:
        return self if self.is_array else _ARRAY_OF[self]

    @staticmethod
    def parse(text: str) -> ExprType | None:
        """The type named ``text`` (``LONG``, ``double``, ``ARRAY<STRING>``…), or None if there is none."""
        name = text.strip().upper().replace(" ", "")
        if name == "FLOAT":
            return ExprType.DOUBLE
        for t in ExprType:
            if t.value == name:
                return t
        return None


_ELEMENT = {
    ExprType.LONG_ARRAY: ExprType.LONG,
    ExprType.DOUBLE_ARRAY: ExprType.DOUBLE,
    ExprType.STRING_ARRAY: ExprType.STRING,
}
_ARRAY_OF = {v: k for k, v in _ELEMENT.items()}
_ARROW: dict[ExprType | None, pa.DataType] = {
    None: pa.null(),
    ExprType.LONG: pa.int64(),
    ExprType.DOUBLE: pa.float64(),
    ExprType.STRING: pa.string(),
    ExprType.LONG_ARRAY: pa.list_(pa.int64()),
    ExprType.DOUBLE_ARRAY: pa.list_(pa.float64()),
    ExprType.STRING_ARRAY: pa.list_(pa.string()),
}


def arrow_type(t: ExprType | None) -> pa.DataType:
    return _ARROW[t]


def type_of(v: Value) -> ExprType | None:
    """The expression type of an evaluated value; None for the null type."""
    t = v.type
    if pa.types.is_null(t):
        return None
    if t == pa.int64():
        return ExprType.LONG
    if t == pa.float64():
        return ExprType.DOUBLE
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return ExprType.STRING
    if pa.types.is_list(t):
        element = type_of(pa.scalar(None, t.value_type))
        return ExprType.STRING_ARRAY if element is None else element.as_array()
    raise InvalidInput(f"Unexpected value type [{t}] in expression evaluation")


# ---------------------------------------------------------------------------------------------------------
# Druid's type rules (ExpressionTypeConversion)


def numeric_type(a: ExprType | None, b: ExprType | None) -> ExprType:
    """LONG when ``a`` is LONG and ``b`` is LONG or unknown, else DOUBLE."""
    return ExprType.LONG if a is ExprType.LONG and b in (None, ExprType.LONG) else ExprType.DOUBLE


def operator_type(a: ExprType | None, b: ExprType | None) -> ExprType | None:
    """Operand type of a binary operator: strings only when both sides are strings, else numbers."""
    if a is None:
        return b
    if b is None:
        return a
    if a.is_array or b.is_array:
        if a is not b:
            raise InvalidInput(f"Incompatible types [{a.value}] and [{b.value}] in expression")
        return a
    if a is ExprType.STRING and b is ExprType.STRING:
        return ExprType.STRING
    return numeric_type(a, b)


def function_type(a: ExprType | None, b: ExprType | None) -> ExprType | None:
    """Common type of function arguments and conditional results: any string makes a string."""
    if a is None:
        return b
    if b is None:
        return a
    if a.is_array or b.is_array:
        if a is not b:
            raise InvalidInput(f"Incompatible types [{a.value}] and [{b.value}] in expression")
        return a
    if ExprType.STRING in (a, b):
        return ExprType.STRING
    return numeric_type(a, b)


def common_type(types: Sequence[ExprType | None]) -> ExprType | None:
    out: ExprType | None = None
    for t in types:
        out = function_type(out, t)
    return out


# ---------------------------------------------------------------------------------------------------------
# Input normalisation


def normalize_column(arr: Any, name: str) -> pa.Array:
    """An input column as one of the evaluation types; dictionary-encoded strings stay encoded.

    Integers and booleans become int64, floats and decimals float64, timestamps and dates epoch
    milliseconds, binary and large strings utf8, lists of those lists. Raises Unsupported otherwise.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    if pa.types.is_dictionary(t):
        vt = t.value_type
        if pa.types.is_string(vt) or pa.types.is_large_string(vt) or pa.types.is_binary(vt):
            return arr.cast(pa.dictionary(pa.int32(), pa.string()))
        return normalize_column(arr.dictionary_decode(), name)
    if pa.types.is_null(t) or t in (pa.int64(), pa.float64(), pa.string()):
        return arr
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return pc.cast(arr, pa.int64(), safe=False)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return pc.cast(arr, pa.float64())
    if pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        ms = pc.cast(arr, pa.timestamp("ms", t.tz) if pa.types.is_timestamp(t) else pa.timestamp("ms"))
        return pc.cast(ms, pa.int64())
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        values = normalize_column(arr.flatten(), name)
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        element = type_of(values)
        if element is None:
            values = pc.cast(values, pa.string())
        offsets = _list_offsets(arr)
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, mask=pc.is_null(arr))
    raise Unsupported(f"Column [{name}] has type [{t}], which expressions cannot read")


def _list_offsets(arr: Any) -> np.ndarray:
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
    return np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])


# ---------------------------------------------------------------------------------------------------------
# Scalars, broadcasting and row selection


def is_scalar(v: Value) -> bool:
    return isinstance(v, pa.Scalar)


def null_value(t: ExprType | None) -> pa.Scalar:
    return pa.scalar(None, arrow_type(t))


def broadcast(v: Value, n: int) -> pa.Array:
    """``v`` as an array of ``n`` rows (scalars are repeated)."""
    if not isinstance(v, pa.Scalar):
        return v
    if not v.is_valid:
        return pa.nulls(n, v.type)
    if pa.types.is_integer(v.type) or pa.types.is_floating(v.type):
        return pa.array(np.full(n, v.as_py()), type=v.type)
    return pc.take(pa.array([v.as_py()], type=v.type), pa.array(np.zeros(n, dtype=np.int32)))


def filter_value(v: Value, mask: np.ndarray) -> Value:
    """The rows of ``v`` where ``mask`` is true."""
    return v if isinstance(v, pa.Scalar) else pc.filter(v, pa.array(mask, pa.bool_()))


def select(n: int, parts: Sequence[tuple[np.ndarray, Value]], t: ExprType | None) -> Value:
    """Assemble ``n`` rows from disjoint parts: each part is (row mask, value for those rows).

    Every part must already have type ``t``; rows that no part covers are null.
    """
    live = [(m, v) for m, v in parts if m.any()]
    if len(live) == 1 and live[0][0].all():
        return live[0][1]
    idx = np.full(n, -1, dtype=np.int64)
    arrays = []
    offset = 0
    for mask, v in live:
        count = int(mask.sum())
        arrays.append(broadcast(v, count).cast(arrow_type(t)))
        idx[mask] = np.arange(offset, offset + count)
        offset += count
    if not arrays:
        return pa.nulls(n, arrow_type(t))
    return pc.take(pa.concat_arrays(arrays), pa.array(idx, mask=idx < 0))


def valid_mask(v: Value, n: int) -> np.ndarray:
    """Per-row validity of ``v`` as a numpy boolean array of ``n`` rows."""
    if isinstance(v, pa.Scalar):
        return np.full(n, v.is_valid)
    if v.null_count == 0:
        return np.ones(n, dtype=bool)
    return pc.is_valid(v).to_numpy(zero_copy_only=False)


def np_parts(v: Value, dtype: Any) -> tuple[Any, Any]:
    """(values, validity) of an int64/float64/null value; nulls hold 0. Scalars stay scalars."""
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return dtype(0), False
        return dtype(v.as_py()), True
    if pa.types.is_null(v.type):
        return np.zeros(len(v), dtype=dtype), np.zeros(len(v), dtype=bool)
    if v.null_count == 0:
        return v.to_numpy(zero_copy_only=False).astype(dtype, copy=False), True
    values = pc.fill_null(v, 0).to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    return values, pc.is_valid(v).to_numpy(zero_copy_only=False)


def from_np(values: Any, valid: Any, t: ExprType) -> Value:
    """Inverse of :func:`np_parts`: a scalar when both parts are scalars, else an array."""
    arrow = arrow_type(t)
    if np.ndim(values) == 0 and np.ndim(valid) == 0:
        return (
            pa.scalar(values.item() if hasattr(values, "item") else values, arrow) if valid else null_value(t)
        )
    if np.ndim(values) == 0:
        values = np.full(len(valid), values)
    if bool(valid) if np.ndim(valid) == 0 else valid.all():
        return pa.array(values, type=arrow)
    if np.ndim(valid) == 0:
        return pa.nulls(len(values), arrow)
    return pa.array(values, type=arrow, mask=~valid)


# ---------------------------------------------------------------------------------------------------------
# Conversions


def cast_to(v: Value, t: ExprType | None) -> Value:
    """``v`` converted to type ``t`` with Druid's rules; None leaves it untouched."""
    src = type_of(v)
    if t is None or src is t:
        return v
    if src is None:
        return v.cast(arrow_type(t))
    if t.is_array:
        if src.is_array:
            return map_elements(v, lambda e: cast_to(e, t.element), t)
        return _scalar_to_array(cast_to(v, t.element), t)
    if src.is_array:
        raise Unsupported(f"Cannot cast [{src.value}] to [{t.value}] in an expression")
    if t is ExprType.LONG:
        return to_long(v)
    if t is ExprType.DOUBLE:
        return to_double(v)
    return to_string(v)


def to_long(v: Value) -> Value:
    t = type_of(v)
    if t is ExprType.LONG:
        return v
    if t is None:
        return v.cast(pa.int64())
    if t is ExprType.DOUBLE:
        return double_to_long(v)
    if t is ExprType.STRING:
        longs, doubles = parse_numbers(v)
        return pc.coalesce(longs, double_to_long(doubles))
    raise Unsupported(f"Cannot use [{t.value}] as a number in an expression")


def to_double(v: Value) -> Value:
    t = type_of(v)
    if t is ExprType.DOUBLE:
        return v
    if t is None or t is ExprType.LONG:
        return v.cast(pa.float64())
    if t is ExprType.STRING:
        return parse_numbers(v)[1]
    raise Unsupported(f"Cannot use [{t.value}] as a number in an expression")


def to_string(v: Value) -> Value:
    t = type_of(v)
    if t is ExprType.STRING:
        return v
    if t is None or t is ExprType.LONG:
        return v.cast(pa.string())
    if t is ExprType.DOUBLE:
        return java_double_strings(v)
    raise Unsupported(f"Cannot use [{t.value}] as a string in an expression")


def double_to_long(v: Value) -> Value:
    """Java's ``(long)`` cast: truncation toward zero, NaN to 0, out of range to the nearest bound."""
    values, valid = np_parts(v, np.float64)
    with np.errstate(invalid="ignore"):
        big = values >= 2.0**63
        small = values <= -(2.0**63)
        safe = np.where(np.isnan(values) | big | small, 0.0, values)
        out = np.trunc(safe).astype(np.int64)
    out = np.where(big, LONG_MAX, np.where(small, LONG_MIN, out))
    return from_np(out if np.ndim(out) else np.int64(out), valid, ExprType.LONG)


_LONG_RE = r"^-?[0-9]+$"
_DOUBLE_RE = r"^[+-]?(?:NaN|Infinity|(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?))$"
_DOUBLE_PATTERN = re.compile(_DOUBLE_RE)


def parse_number(text: str | None) -> int | float | None:
    """Druid's ``ExprEval.computeNumber`` for one string: an int, a float or None."""
    if text is None:
        return None
    lowered = text.lower()
    if lowered == "true":
        return 1.0
    if lowered == "false":
        return 0.0
    body = text[1:] if text.startswith("-") else text
    if body.isascii() and body.isdigit():
        value = int(text)
        if LONG_MIN <= value <= LONG_MAX:
            return value
    if _DOUBLE_PATTERN.match(text) is None:
        return None
    return float(text.rstrip("fFdD") if text[-1] in "fFdD" else text)


def parse_numbers(v: Value) -> tuple[Value, Value]:
    """(long value where the string is a long, double value where it is any number) per row."""
    if isinstance(v, pa.Scalar):
        number = parse_number(v.as_py())
        as_long = number if isinstance(number, int) else None
        return pa.scalar(as_long, pa.int64()), pa.scalar(
            None if number is None else float(number), pa.float64()
        )
    lowered = pc.utf8_lower(v)
    is_true = pc.fill_null(pc.equal(lowered, "true"), False)
    is_false = pc.fill_null(pc.equal(lowered, "false"), False)
    digits = pc.utf8_length(v)
    negative = pc.starts_with(v, "-")
    ndigits = pc.subtract(digits, pc.cast(negative, pa.int32()))
    fits = pc.or_(
        pc.less_equal(ndigits, 18),
        pc.and_(
            pc.equal(ndigits, 19),
            pc.if_else(
                negative,
                pc.less_equal(v, "-9223372036854775808"),
                pc.less_equal(v, "9223372036854775807"),
            ),
        ),
    )
    is_long = pc.fill_null(pc.and_(pc.match_substring_regex(v, _LONG_RE), fits), False)
    longs = pc.if_else(is_long, pc.cast(pc.if_else(is_long, v, "0"), pa.int64()), pa.scalar(None, pa.int64()))
    is_double = pc.fill_null(pc.and_(pc.match_substring_regex(v, _DOUBLE_RE), pc.invert(is_long)), False)
    cleaned = pc.if_else(is_double, pc.utf8_rtrim(v, characters="fFdD"), "0")
    # "Infinity" and "NaN" lose nothing to the trim: neither ends in f or d.
    doubles = pc.if_else(
        is_long,
        pc.cast(longs, pa.float64()),
        pc.if_else(
            is_double,
            pc.cast(cleaned, pa.float64()),
            pc.if_else(is_true, 1.0, pc.if_else(is_false, 0.0, pa.scalar(None, pa.float64()))),
        ),
    )
    return longs, doubles


def java_double_str(x: float) -> str:
    """Java's ``Double.toString``: shortest digits, plain between 1e-3 and 1e7, else ``d.dddE±n``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        text = repr(x)
        if "e" in text:
            text = format(Decimal(text), "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(x)).as_tuple()
    body = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + int(exponent)
    mantissa = body[0] + "." + (body[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


def java_double_strings(v: Value) -> Value:
    """Vectorised :func:`java_double_str`: pyarrow's shortest digits where they agree with Java's form."""
    if isinstance(v, pa.Scalar):
        return pa.scalar(None if not v.is_valid else java_double_str(v.as_py()), pa.string())
    values, _ = np_parts(v, np.float64)
    text = pc.cast(v, pa.string())
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(values)
        plain = (magnitude >= 1e-3) & (magnitude < 1e7)
        whole = plain & (values == np.floor(values))
    text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
    rest = ~plain & valid_mask(v, len(v))
    if rest.any():
        # Zeros, non-finite and very large or small numbers: few distinct values, formatted one by one.
        idx = np.flatnonzero(rest)
        others = map_unique(java_double_str, [pc.take(v, pa.array(idx))], ExprType.STRING, len(idx))
        text = pc.replace_with_mask(text, pa.array(rest), broadcast(others, len(idx)))
    return text


def truthy(v: Value) -> Value:
    """Druid's ``asBoolean`` per row as a boolean value, null where the input is null.

    Numbers are true when greater than zero; strings when they equal ``true`` ignoring case.
    """
    t = type_of(v)
    if t is None:
        return v.cast(pa.bool_())
    if t is ExprType.LONG:
        return pc.greater(v, 0)
    if t is ExprType.DOUBLE:
        return pc.greater(v, 0.0)
    if t is ExprType.STRING:
        return pc.equal(pc.utf8_lower(v), "true")
    raise Unsupported(f"Cannot use [{t.value}] as a condition in an expression")


def condition_mask(v: Value, n: int) -> np.ndarray:
    """Rows where ``v`` is true; null counts as false, as in Druid's ``if`` and ``case``."""
    b = pc.fill_null(truthy(v), False)
    if isinstance(b, pa.Scalar):
        return np.full(n, b.as_py())
    return b.to_numpy(zero_copy_only=False)


def truthy_masks(v: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Rows where an evaluated expression is true, and rows where it is null (unknown), as masks."""
    b = truthy(v)
    n = len(v)
    if isinstance(b, pa.Scalar):
        value = b.as_py()
        return np.full(n, bool(value)), np.full(n, value is None)
    nulls = b.is_null().to_numpy(zero_copy_only=False)
    return b.fill_null(False).to_numpy(zero_copy_only=False), nulls


# ---------------------------------------------------------------------------------------------------------
# Per-distinct-value evaluation and array helpers


def map_unique(fn: Callable[..., Any], args: Sequence[Value], out: ExprType, n: int) -> Value:
    """Apply a Python function once per distinct combination of argument values.

    ``fn`` takes Python values (None for null) and returns a Python value of type ``out`` or None. Used
    where pyarrow has no kernel; the per-row work stays vectorised (dictionary encoding and ``take``).
    """
    arrow = arrow_type(out)
    if all(isinstance(a, pa.Scalar) for a in args):
        return pa.scalar(fn(*(a.as_py() for a in args)), arrow)
    columns: list[np.ndarray] = []
    dictionaries: list[list[Any]] = []
    for a in args:
        if isinstance(a, pa.Scalar):
            columns.append(np.zeros(n, dtype=np.int64))
            dictionaries.append([a.as_py()])
            continue
        encoded = pc.dictionary_encode(a, null_encoding="encode")
        columns.append(encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64))
        dictionaries.append(encoded.dictionary.to_pylist())
    if len(columns) == 1:
        unique_rows, inverse = np.unique(columns[0], return_inverse=True)
        combos = unique_rows.reshape(-1, 1)
    else:
        combos, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
    results = [fn(*(d[k] for d, k in zip(dictionaries, row, strict=True))) for row in combos.tolist()]
    return pc.take(pa.array(results, type=arrow), pa.array(inverse.reshape(-1)))


def map_elements(v: Value, fn: Callable[[Value], Value], t: ExprType) -> Value:
    """Apply a vectorised function to the elements of an array value, keeping its row structure."""
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return null_value(t)
        inner = fn(pa.array(v.as_py(), type=v.type.value_type))
        return pa.scalar(broadcast(inner, len(v)).to_pylist(), arrow_type(t))
    values = broadcast(fn(pc.list_flatten(v)), int(pc.sum(pc.list_value_length(v)).as_py() or 0))
    return pa.ListArray.from_arrays(
        pa.array(_list_offsets(v), pa.int32()), values.cast(arrow_type(t.element)), mask=pc.is_null(v)
    )


def _scalar_to_array(v: Value, t: ExprType) -> Value:
    """Each scalar as a one-element array (null stays null), as Druid casts scalars to arrays."""
    if isinstance(v, pa.Scalar):
        return pa.scalar(None if not v.is_valid else [v.as_py()], arrow_type(t))
    valid = valid_mask(v, len(v))
    offsets = np.concatenate([[0], np.cumsum(valid, dtype=np.int64)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), v.drop_null(), mask=pa.array(~valid))


def list_offsets(v: Value) -> np.ndarray:
    """Start offsets (n+1) of the elements of each row of a list array, nulls counted as empty."""
    return _list_offsets(v)


def unsupported_type(function: str, t: ExprType | None) -> InvalidInput:
    name = "null" if t is None else t.value
    return InvalidInput(f"Function [{function}] does not accept [{name}] arguments")
