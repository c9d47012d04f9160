"""Vectorised arithmetic, comparison and negation with Druid's operand typing and null rules.

Operand types follow ``ExpressionTypeConversion.operator``: two strings stay strings (``+``
concatenates them, other arithmetic on strings is an error), two longs stay longs, anything else is
computed on doubles, with strings read as numbers (null when they are not numbers). Any null operand
makes the result null (SQL-compatible null handling).

Long arithmetic wraps around like Java's. Long ``/`` and ``%`` truncate toward zero like Java; a long
division or remainder by zero is an error, as it is in Druid (Java's ``ArithmeticException``), and a
long raised to a negative power is an error (Guava's ``LongMath.pow``). Double arithmetic is IEEE 754:
division by zero gives infinity or NaN. Comparisons give LONG 1 or 0; ``<``-style comparisons of
doubles use Java's ``Double.compare`` order (NaN above +Infinity, -0.0 below 0.0) while ``==`` and
``!=`` use IEEE equality, exactly as Druid does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.errors import InvalidInput, Unsupported
from grove.query.expression.values import (
    LONG_MAX,
    ExprType,
    Value,
    from_np,
    np_parts,
    null_value,
    operator_type,
    to_double,
    to_long,
    type_of,
)

_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_ARROW_COMPARE = {
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
    "==": pc.equal,
    "!=": pc.not_equal,
}


def arithmetic(op: str, left: Value, right: Value) -> Value:
    """``left op right`` for ``+ - * / % ^``."""
    t = operator_type(type_of(left), type_of(right))
    if t is None:
        return null_value(None)
    if t.is_array:
        raise InvalidInput(f"Operator [{op}] does not accept [{t.value}] operands")
    if t is ExprType.STRING:
        if op != "+":
            raise InvalidInput(f"Operator [{op}] does not accept [STRING] operands")
        return pc.binary_join_element_wise(left, right, "")
    if t is ExprType.LONG:
        return _long_arithmetic(op, left, right)
    return _double_arithmetic(op, to_double(left), to_double(right))


def truncated_divide(a: Any, b: Any) -> Any:
    """Java's long division (toward zero) for int64 numpy values; ``b`` must hold no zeros."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        q = np.floor_divide(a, b)
        adjust = (q * b != a) & ((a < 0) != (b < 0))
    return q + adjust.astype(np.int64)


# Where a long division by zero is noted instead of raised (see :func:`deferred_division_errors`).
_DEFERRED: ContextVar[list[DivisionByZero] | None] = ContextVar("grove_deferred_division", default=None)


class DivisionByZero:
    """Rows of one evaluation that divided a long by zero: a mask over the evaluated rows (or a scalar
    True when a constant divided by zero), and the operator."""

    def __init__(self, rows: Any, op: str) -> None:
        self.rows = rows
        self.op = op

    def error(self) -> InvalidInput:
        return InvalidInput(f"Division by zero in long operator [{self.op}]")


@contextmanager
def deferred_division_errors() -> Iterator[list[DivisionByZero]]:
    """Within the block, a long division by zero does not raise: the quotient is null, the rows are
    noted in the yielded list, and the caller decides once it knows which rows a query really reads
    (Druid evaluates an expression only on the rows its filter selects and only in the branch of an
    ``if``/``case`` a row takes, so a zero divisor elsewhere is no error)."""
    found: list[DivisionByZero] = []
    token = _DEFERRED.set(found)
    try:
        yield found
    finally:
        _DEFERRED.reset(token)


def check_divisor(b: Any, valid: Any, op: str) -> Any:
    """``b`` with zeros replaced by 1 after checking that no valid row divides by zero (or noting the
    rows, inside :func:`deferred_division_errors`)."""
    zero = (b == 0) & valid
    if np.any(zero):
        deferred = _DEFERRED.get()
        if deferred is None or np.ndim(zero) == 0:
            raise InvalidInput(f"Division by zero in long operator [{op}]")
        deferred.append(DivisionByZero(np.asarray(zero, dtype=bool).copy(), op))
    return np.where(b == 0, 1, b) if np.ndim(b) else (b if b != 0 else np.int64(1))


def _long_arithmetic(op: str, left: Value, right: Value) -> Value:
    a, va = np_parts(to_long(left), np.int64)
    b, vb = np_parts(to_long(right), np.int64)
    valid = va & vb
    with np.errstate(over="ignore", invalid="ignore"):
        if op == "+":
            out = a + b
        elif op == "-":
            out = a - b
        elif op == "*":
            out = a * b
        elif op in ("/", "%"):
            safe = check_divisor(b, valid, op)
            q = truncated_divide(a, safe)
            out = q if op == "/" else a - q * safe
            valid = valid & (b != 0)  # only rows whose error was deferred: they are null
        else:
            if np.any((b < 0) & valid):
                raise InvalidInput("Negative exponent for long operator [^]; use a double base")
            out = np.power(a, np.where(valid, b, 0) if np.ndim(b) else (b if valid else 0))
    return from_np(np.int64(out) if np.ndim(out) == 0 else out, valid, ExprType.LONG)


def _double_arithmetic(op: str, left: Value, right: Value) -> Value:
    a, va = np_parts(left, np.float64)
    b, vb = np_parts(right, np.float64)
    with np.errstate(all="ignore"):
        if op == "+":
            out = a + b
        elif op == "-":
            out = a - b
        elif op == "*":
            out = a * b
        elif op == "/":
            out = np.true_divide(a, b)
        elif op == "%":
            out = np.fmod(a, b)
        else:
            out = java_pow(a, b)
    return from_np(np.float64(out) if np.ndim(out) == 0 else out, va & vb, ExprType.DOUBLE)


def java_pow(a: Any, b: Any) -> Any:
    """``Math.pow``: like C's pow except that a NaN exponent or 1 to an infinite power is NaN."""
    with np.errstate(all="ignore"):
        out = np.power(a, b)
        odd = np.isnan(b) | ((np.abs(a) == 1) & np.isinf(b))
    return np.where(odd, np.nan, out)


def compare(op: str, left: Value, right: Value) -> Value:
    """``left op right`` for ``< <= > >= == !=`` as LONG 1/0, null when either side is null."""
    t = operator_type(type_of(left), type_of(right))
    if t is None:
        return null_value(ExprType.LONG)
    if t.is_array:
        raise Unsupported(f"Operator [{op}] on arrays is not supported")
    if t is ExprType.STRING:
        return pc.cast(_ARROW_COMPARE[op](left, right), pa.int64())
    if t is ExprType.LONG:
        return pc.cast(_ARROW_COMPARE[op](to_long(left), to_long(right)), pa.int64())
    a, va = np_parts(to_double(left), np.float64)
    b, vb = np_parts(to_double(right), np.float64)
    if op in ("==", "!="):
        out = _COMPARE[op](a, b)
    else:
        out = _COMPARE[op](double_order_key(a), double_order_key(b))
    return from_np(np.int64(out) if np.ndim(out) == 0 else out.astype(np.int64), va & vb, ExprType.LONG)


def double_order_key(x: Any) -> Any:
    """int64 keys that order doubles as Java's ``Double.compare`` does."""
    values = np.asarray(x, dtype=np.float64)
    bits = values.view(np.int64)
    key = bits ^ ((bits >> 63) & np.int64(LONG_MAX))
    return np.where(np.isnan(values), np.int64(LONG_MAX), key)


def negate(v: Value) -> Value:
    """Unary minus: longs wrap around like Java's; strings are an error, as in Druid."""
    t = type_of(v)
    if t is None:
        return v
    if t is ExprType.LONG or t is ExprType.DOUBLE:
        return pc.negate(v)
    raise InvalidInput(f"Operator [-] does not accept [{t.value}] operands")
