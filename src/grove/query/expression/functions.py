"""The function registry, with the general (conditional, null, cast) and math functions.

A function is a :class:`~grove.query.expression.nodes.FunctionSpec`: name, arity, result type rule and
vectorised implementation. The parser resolves names here (case-insensitively, as Druid does); the
evaluator only calls the spec it finds on the node, so adding a function is registering a spec.
String, time and array functions live in their own modules and are assembled into :data:`FUNCTIONS`.

Semantics follow Druid's native expressions in SQL-compatible null mode: math on null is null, math
functions given strings are null, ``if``/``case`` treat a null condition as false, and conditional
functions evaluate a branch only for the rows that take it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.errors import InvalidInput
from grove.query.expression.array_functions import ARRAY_FUNCTIONS
from grove.query.expression.lookup_functions import LOOKUP_FUNCTIONS
from grove.query.expression.nodes import (
    EvalContext,
    Expr,
    FunctionSpec,
    Literal,
    returns,
    strict,
    string_literal_arg,
)
from grove.query.expression.operators import (
    check_divisor,
    compare,
    java_pow,
    truncated_divide,
)
from grove.query.expression.string_functions import STRING_FUNCTIONS
from grove.query.expression.time_functions import TIME_FUNCTIONS
from grove.query.expression.values import (
    ExprType,
    Value,
    cast_to,
    common_type,
    condition_mask,
    double_to_long,
    filter_value,
    from_np,
    function_type,
    map_unique,
    np_parts,
    null_value,
    numeric_type,
    select,
    to_double,
    to_long,
    type_of,
    unsupported_type,
    valid_mask,
)


class FunctionRegistry:
    """Functions by lower-cased name."""

    def __init__(self, specs: Iterable[FunctionSpec] = ()) -> None:
        self._specs: dict[str, FunctionSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: FunctionSpec) -> None:
        """Add a function; a name can be registered once."""
        key = spec.name.lower()
        if key in self._specs:
            raise InvalidInput(f"Function [{spec.name}] is already registered")
        self._specs[key] = spec

    def get(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name.lower())

    def names(self) -> list[str]:
        return sorted(spec.name for spec in self._specs.values())


# ---------------------------------------------------------------------------------------------------------
# Conditionals and nulls


def _branches(ctx: EvalContext, parts: Sequence[tuple[np.ndarray, Expr]], t: ExprType | None) -> Value:
    """Evaluate each branch only on its rows, convert to ``t`` and assemble the rows."""
    out = []
    for mask, expr in parts:
        if not mask.any():
            continue
        if mask.all():
            return cast_to(ctx.eval(expr), t)
        out.append((mask, cast_to(ctx.subset(mask).eval(expr), t)))
    return select(ctx.num_rows, out, t)


def _conditional_type(ctx: EvalContext, exprs: Iterable[Expr]) -> ExprType | None:
    return common_type([ctx.type_of(e) for e in exprs])


def _if(ctx: EvalContext, args: Sequence[Expr]) -> Value:
    t = _conditional_type(ctx, args[1:])
    cond = condition_mask(ctx.eval(args[0]), ctx.num_rows)
    return _branches(ctx, [(cond, args[1]), (~cond, args[2])], t)


def _case_searched(ctx: EvalContext, args: Sequence[Expr]) -> Value:
    n = ctx.num_rows
    t = _conditional_type(ctx, [*args[1::2], args[-1]])
    remaining = np.ones(n, dtype=bool)
    parts = []
    for i in range(0, len(args) - 1, 2):
        if not remaining.any():
            break
        sub = ctx if remaining.all() else ctx.subset(remaining)
        matched = np.zeros(n, dtype=bool)
        matched[remaining] = condition_mask(sub.eval(args[i]), sub.num_rows)
        parts.append((matched, args[i + 1]))
        remaining &= ~matched
    if len(args) % 2 == 1:
        parts.append((remaining, args[-1]))
    return _branches(ctx, parts, t)


def _case_simple(ctx: EvalContext, args: Sequence[Expr]) -> Value:
    n = ctx.num_rows
    t = _conditional_type(ctx, [*args[2::2], args[-1]])
    subject = ctx.eval(args[0])
    remaining = np.ones(n, dtype=bool)
    parts = []
    for i in range(1, len(args) - 1, 2):
        if not remaining.any():
            break
        sub = ctx if remaining.all() else ctx.subset(remaining)
        equal = compare(
            "==", filter_value(subject, remaining) if sub is not ctx else subject, sub.eval(args[i])
        )
        matched = np.zeros(n, dtype=bool)
        matched[remaining] = condition_mask(equal, sub.num_rows)
        parts.append((matched, args[i + 1]))
        remaining &= ~matched
    if len(args) % 2 == 0:
        parts.append((remaining, args[-1]))
    return _branches(ctx, parts, t)


def _coalesce(ctx: EvalContext, args: Sequence[Expr]) -> Value:
    n = ctx.num_rows
    t = _conditional_type(ctx, args)
    remaining = np.ones(n, dtype=bool)
    parts = []
    for arg in args:
        if not remaining.any():
            break
        sub = ctx if remaining.all() else ctx.subset(remaining)
        value = cast_to(sub.eval(arg), t)
        present = valid_mask(value, sub.num_rows)
        rows = np.zeros(n, dtype=bool)
        rows[remaining] = present
        parts.append((rows, filter_value(value, present)))
        remaining &= ~rows
    return select(n, parts, t)


def _null_test(negate: bool) -> Callable[[EvalContext, list[Value]], Value]:
    def fn(ctx: EvalContext, values: list[Value]) -> Value:
        v = values[0]
        if isinstance(v, pa.Scalar):
            return pa.scalar(int(v.is_valid == negate), pa.int64())
        return pc.cast(pc.is_valid(v) if negate else pc.is_null(v), pa.int64())

    return fn


def _cast_type(args: Sequence[Expr]) -> ExprType:
    name = args[1].value if isinstance(args[1], Literal) else None
    t = ExprType.parse(name) if isinstance(name, str) else None
    if t is None:
        raise InvalidInput(f"Function [cast] does not know type [{name}]")
    return t


def _validate_cast(args: Sequence[Expr], path: str) -> None:
    name = string_literal_arg(args, 1, "cast", path, "type name")
    if name is None or ExprType.parse(name) is None:
        raise InvalidInput(f"Function [cast] does not know type [{name}] in {path}", path)


GENERAL_FUNCTIONS = (
    FunctionSpec("if", 3, 3, lambda ts, a: common_type(ts[1:]), _if),
    FunctionSpec("case_searched", 2, None, lambda ts, a: common_type([*ts[1::2], ts[-1]]), _case_searched),
    FunctionSpec("case_simple", 3, None, lambda ts, a: common_type([*ts[2::2], ts[-1]]), _case_simple),
    FunctionSpec("nvl", 2, 2, lambda ts, a: common_type(ts), _coalesce),
    FunctionSpec("coalesce", 1, None, lambda ts, a: common_type(ts), _coalesce),
    FunctionSpec("isnull", 1, 1, returns(ExprType.LONG), strict(_null_test(False))),
    FunctionSpec("notnull", 1, 1, returns(ExprType.LONG), strict(_null_test(True))),
    FunctionSpec(
        "cast",
        2,
        2,
        lambda ts, a: _cast_type(a),
        strict(lambda ctx, v: cast_to(v[0], _cast_type_of(v[1]))),
        _validate_cast,
        array_args=frozenset({0}),
    ),
)


def _cast_type_of(v: Value) -> ExprType:
    t = ExprType.parse(v.as_py()) if isinstance(v, pa.Scalar) and isinstance(v.as_py(), str) else None
    if t is None:
        raise InvalidInput("Function [cast] needs a literal type name")
    return t


# ---------------------------------------------------------------------------------------------------------
# Math


def _numeric_input(name: str, v: Value) -> ExprType | None:
    t = type_of(v)
    if t is not None and t.is_array:
        raise unsupported_type(name, t)
    return t


def _double_math(name: str, fn: Callable[[Any], Any], out: ExprType = ExprType.DOUBLE) -> FunctionSpec:
    """A one-argument function of a double; strings give null (Druid's UnivariateMathFunction)."""

    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        v = values[0]
        t = _numeric_input(name, v)
        if t is None or t is ExprType.STRING:
            return null_value(out)
        x, valid = np_parts(to_double(v), np.float64)
        with np.errstate(all="ignore"):
            result = fn(x)
        dtype = np.int64 if out is ExprType.LONG else np.float64
        return from_np(np.asarray(result, dtype=dtype)[()], valid, out)

    return FunctionSpec(name, 1, 1, returns(out), strict(evaluate))


def _abs(ctx: EvalContext, values: list[Value]) -> Value:
    v = values[0]
    t = _numeric_input("abs", v)
    if t is None or t is ExprType.STRING:
        return null_value(t)
    return pc.abs(v)


def _get_exponent(x: Any) -> Any:
    _, e = np.frexp(x)
    out = np.where(np.isfinite(x), e - 1, 1024)
    return np.where((x == 0) | (np.abs(x) < 2.2250738585072014e-308), -1023, out)


def _binary_type(ts: Sequence[ExprType | None], args: Sequence[Expr]) -> ExprType | None:
    """Druid's BivariateMathFunction typing: two strings give null, otherwise numbers."""
    if ts[0] is ExprType.STRING and ts[1] is ExprType.STRING:
        return ExprType.STRING
    return numeric_type(ts[0], ts[1]) if None not in ts else function_type(ts[0], ts[1])


def _binary_math(
    name: str,
    long_fn: Callable[[Any, Any, Any], Any] | None,
    double_fn: Callable[[Any, Any], Any],
    out: ExprType | None = None,
) -> FunctionSpec:
    """A two-argument math function: long arithmetic when both are longs (and ``long_fn`` is given)."""

    def infer(ts: Sequence[ExprType | None], args: Sequence[Expr]) -> ExprType | None:
        t = _binary_type(ts, args)
        return out if out is not None and t is not None else t

    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        left, right = values
        lt, rt = _numeric_input(name, left), _numeric_input(name, right)
        t = infer([lt, rt], ())
        if t is None or t is ExprType.STRING or None in (lt, rt):
            return null_value(t)
        if long_fn is not None and lt is ExprType.LONG and rt is ExprType.LONG:
            a, va = np_parts(left, np.int64)
            b, vb = np_parts(right, np.int64)
            with np.errstate(all="ignore"):
                result = long_fn(a, b, va & vb)
            valid = va & vb
            if long_fn is _long_div:
                valid = valid & (b != 0)  # rows whose division error was deferred are null
            return from_np(np.asarray(result, dtype=np.int64)[()], valid, ExprType.LONG)
        a, va = np_parts(to_double(left), np.float64)
        b, vb = np_parts(to_double(right), np.float64)
        with np.errstate(all="ignore"):
            result = double_fn(a, b)
        if t is ExprType.LONG:
            return double_to_long(from_np(np.asarray(result, dtype=np.float64)[()], va & vb, ExprType.DOUBLE))
        return from_np(np.asarray(result, dtype=np.float64)[()], va & vb, ExprType.DOUBLE)

    return FunctionSpec(name, 2, 2, infer, strict(evaluate))


def _long_div(a: Any, b: Any, valid: Any) -> Any:
    return truncated_divide(a, check_divisor(b, valid, "div"))


def _safe_divide_long(a: Any, b: Any, valid: Any) -> Any:
    safe = np.where(b == 0, 1, b) if np.ndim(b) else (b or np.int64(1))
    return truncated_divide(a, safe)


def _safe_divide(ctx: EvalContext, values: list[Value]) -> Value:
    """x / y, null when y is 0 (or NaN) unless x is 0 too, which gives 0 (Druid's safe_divide)."""
    left, right = values
    t = _binary_type([_numeric_input("safe_divide", left), _numeric_input("safe_divide", right)], ())
    if t is None or t is ExprType.STRING:
        return null_value(t)
    if t is ExprType.LONG:
        a, va = np_parts(left, np.int64)
        b, vb = np_parts(right, np.int64)
        result = _safe_divide_long(a, b, va & vb)
        dtype: Any = np.int64
    else:
        a, va = np_parts(to_double(left), np.float64)
        b, vb = np_parts(to_double(right), np.float64)
        with np.errstate(all="ignore"):
            result = np.true_divide(a, np.where((b == 0) | np.isnan(b), 1.0, b))
        dtype = np.float64
    zero = (b == 0) | (np.isnan(b) if t is ExprType.DOUBLE else False)
    result = np.where(zero, 0, result)
    valid = va & vb & ~(zero & (a != 0))
    return from_np(np.asarray(result, dtype=dtype)[()], valid, t)


def _round(ctx: EvalContext, values: list[Value]) -> Value:
    """Druid's round: BigDecimal HALF_UP on the decimal form of the value, NaN to 0, infinity to max."""
    v = values[0]
    t = type_of(v)
    if t is None:
        return v
    if t not in (ExprType.LONG, ExprType.DOUBLE):
        raise InvalidInput(f"Function [round] needs a LONG or DOUBLE as its first argument, not [{t.value}]")
    scale: Value = values[1] if len(values) > 1 else pa.scalar(0, pa.int64())
    if type_of(scale) not in (None, ExprType.LONG):
        raise InvalidInput("Function [round] needs a LONG as its second argument")
    if not isinstance(scale, pa.Scalar):
        return map_unique(lambda x, s: _round_one(x, s or 0, t), [v, scale], t, ctx.num_rows)
    digits = scale.as_py() or 0
    if t is ExprType.LONG:
        if digits >= 0:
            return v
        if digits < -18:
            return map_unique(lambda x: _round_one(x, digits, t), [v], t, ctx.num_rows)
        x, valid = np_parts(v, np.int64)
        p = 10 ** (-digits)
        with np.errstate(over="ignore"):
            rounded = (np.abs(x) + p // 2) // p * p * np.sign(x)
        return from_np(np.asarray(rounded, dtype=np.int64)[()], valid, t)
    return _round_doubles(v, digits, ctx.num_rows)


def _round_one(x: int | float | None, digits: int, t: ExprType) -> int | float | None:
    if x is None:
        return None
    if t is ExprType.LONG:
        return int(Decimal(int(x)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)) if digits < 0 else x
    x = float(x)
    if math.isnan(x):
        return 0.0
    if math.isinf(x):
        return math.copysign(1.7976931348623157e308, x)
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def _round_doubles(v: Value, digits: int, n: int) -> Value:
    if isinstance(v, pa.Scalar) or not -22 <= digits <= 22:
        return map_unique(lambda x: _round_one(x, digits, ExprType.DOUBLE), [v], ExprType.DOUBLE, n)
    x, valid = np_parts(v, np.float64)
    x = np.where(np.isnan(x), 0.0, np.where(np.isinf(x), np.copysign(1.7976931348623157e308, x), x))
    p = 10.0 ** abs(digits)
    with np.errstate(all="ignore"):
        y = x * p if digits >= 0 else x / p
        magnitude = np.abs(y)
        rounded = np.floor(magnitude + 0.5) * np.sign(y)
        out = rounded / p if digits >= 0 else rounded * p
        fraction = magnitude - np.floor(magnitude)
    # Near a tie the binary value may sit on the wrong side of .5, and past 2^52 the scaled value is no
    # longer exact: round those through their decimal form. Values past 2^52 are whole already.
    whole = (np.abs(x) >= 2.0**52) & (digits >= 0)
    near_tie = np.abs(fraction - 0.5) < 1e-9 * np.maximum(1.0, magnitude)
    hard = ~whole & (near_tie | (magnitude >= 2.0**52)) & valid
    out = np.where(whole, x, out)
    result = from_np(out, valid, ExprType.DOUBLE)
    if np.any(hard):
        idx = np.flatnonzero(hard)
        exact = map_unique(
            lambda value: _round_one(value, digits, ExprType.DOUBLE),
            [pa.array(x[idx])],
            ExprType.DOUBLE,
            len(idx),
        )
        result = pc.replace_with_mask(result, pa.array(hard), exact)
    return result


def _reduce(name: str, pick: Callable[..., Any]) -> FunctionSpec:
    """greatest/least: nulls are skipped, all-null is null; any string compares as strings."""

    def infer(ts: Sequence[ExprType | None], args: Sequence[Expr]) -> ExprType | None:
        out: ExprType | None = ExprType.LONG
        for t in ts:
            if t is not None and t.is_array:
                raise unsupported_type(name, t)
            out = function_type(out, t)
        return out

    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        t = infer([type_of(v) for v in values], ())
        if not values:
            return null_value(t)
        converted = [cast_to(v, t) for v in values]
        return pick(*converted, skip_nulls=True)

    return FunctionSpec(name, 0, None, infer, strict(evaluate))


def _bitwise(name: str, fn: Callable[[Any, Any], Any], arity: int = 2) -> FunctionSpec:
    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        for v in values:
            _numeric_input(name, v)
        if all(type_of(v) is ExprType.STRING for v in values):
            return null_value(ExprType.LONG)
        parts = [np_parts(to_long(v), np.int64) for v in values]
        valid: Any = True
        for _, part_valid in parts:
            valid = valid & part_valid
        with np.errstate(all="ignore"):
            result = fn(*(p[0] for p in parts))
        return from_np(np.asarray(result, dtype=np.int64)[()], valid, ExprType.LONG)

    return FunctionSpec(name, arity, arity, returns(ExprType.LONG), strict(evaluate))


def _double_to_bits(ctx: EvalContext, values: list[Value]) -> Value:
    x, valid = np_parts(to_double(values[0]), np.float64)
    return from_np(np.asarray(x, dtype=np.float64).view(np.int64)[()], valid, ExprType.LONG)


def _bits_to_double(ctx: EvalContext, values: list[Value]) -> Value:
    x, valid = np_parts(to_long(values[0]), np.int64)
    return from_np(np.asarray(x, dtype=np.int64).view(np.float64)[()], valid, ExprType.DOUBLE)


def _shift(x: Any, y: Any, left: bool) -> Any:
    amount = np.bitwise_and(y, 63)
    return np.left_shift(x, amount) if left else np.right_shift(x, amount)


MATH_FUNCTIONS = (
    FunctionSpec("abs", 1, 1, lambda ts, a: ts[0], strict(_abs)),
    _double_math("acos", np.arccos),
    _double_math("asin", np.arcsin),
    _double_math("atan", np.arctan),
    _double_math("cbrt", np.cbrt),
    _double_math("ceil", np.ceil),
    _double_math("cos", np.cos),
    _double_math("cosh", np.cosh),
    _double_math("cot", lambda x: np.cos(x) / np.sin(x)),
    _double_math("exp", np.exp),
    _double_math("expm1", np.expm1),
    _double_math("floor", np.floor),
    _double_math("getExponent", _get_exponent, ExprType.LONG),
    _double_math("log", np.log),
    _double_math("log10", np.log10),
    _double_math("log1p", np.log1p),
    _double_math("nextUp", lambda x: np.nextafter(x, np.inf)),
    _double_math("rint", np.rint),
    _double_math("signum", np.sign),
    _double_math("sin", np.sin),
    _double_math("sinh", np.sinh),
    _double_math("sqrt", np.sqrt),
    _double_math("tan", np.tan),
    _double_math("tanh", np.tanh),
    _double_math("toDegrees", np.degrees),
    _double_math("toRadians", np.radians),
    _double_math("ulp", lambda x: np.spacing(np.abs(x))),
    _binary_math("atan2", None, np.arctan2, ExprType.DOUBLE),
    _binary_math("copySign", None, np.copysign, ExprType.DOUBLE),
    _binary_math("hypot", None, np.hypot, ExprType.DOUBLE),
    _binary_math("nextAfter", None, np.nextafter, ExprType.DOUBLE),
    _binary_math("pow", None, java_pow, ExprType.DOUBLE),
    _binary_math(
        "scalb", None, lambda a, b: np.ldexp(a, np.clip(b, -2100, 2100).astype(np.int32)), ExprType.DOUBLE
    ),
    _binary_math("max", lambda a, b, v: np.maximum(a, b), np.maximum),
    _binary_math("min", lambda a, b, v: np.minimum(a, b), np.minimum),
    _binary_math("div", _long_div, lambda a, b: np.true_divide(a, b), ExprType.LONG),
    FunctionSpec("safe_divide", 2, 2, _binary_type, strict(_safe_divide)),
    FunctionSpec("round", 1, 2, lambda ts, a: ts[0], strict(_round)),
    FunctionSpec("pi", 0, 0, returns(ExprType.DOUBLE), strict(lambda ctx, v: pa.scalar(math.pi))),
    _reduce("greatest", pc.max_element_wise),
    _reduce("least", pc.min_element_wise),
    _bitwise("bitwiseAnd", np.bitwise_and),
    _bitwise("bitwiseOr", np.bitwise_or),
    _bitwise("bitwiseXor", np.bitwise_xor),
    _bitwise("bitwiseComplement", np.invert, 1),
    _bitwise("bitwiseShiftLeft", lambda x, y: _shift(x, y, True)),
    _bitwise("bitwiseShiftRight", lambda x, y: _shift(x, y, False)),
    FunctionSpec("bitwiseConvertDoubleToLongBits", 1, 1, returns(ExprType.LONG), strict(_double_to_bits)),
    FunctionSpec("bitwiseConvertLongBitsToDouble", 1, 1, returns(ExprType.DOUBLE), strict(_bits_to_double)),
)

FUNCTIONS = FunctionRegistry(
    [
        *GENERAL_FUNCTIONS,
        *MATH_FUNCTIONS,
        *STRING_FUNCTIONS,
        *TIME_FUNCTIONS,
        *ARRAY_FUNCTIONS,
        *LOOKUP_FUNCTIONS,
    ]
)
"""Every built-in function; the parser resolves names here."""
