"""Time functions: timestamps are LONG epoch milliseconds (UTC), as everywhere in Druid.

Period, origin, time zone, unit and pattern arguments must be literals (Druid requires that for most of
them; grove for all). Flooring reuses :class:`~grove.common.granularity.PeriodGranularity`; calendar
fields, zones and Joda-Time patterns come from :mod:`grove.query.expression.joda`. Parsing failures give
null in ``timestamp_parse`` and an error in ``timestamp``/``unix_timestamp``, as in Druid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.common.granularity import PeriodGranularity
from grove.common.period import Period
from grove.common.time import is_utc, parse_timestamp, zone
from grove.errors import InvalidInput, Unsupported
from grove.query.expression.joda import (
    DAY,
    Fields,
    Zone,
    add_months,
    format_millis,
    joda_tokens,
    parse_iso,
    parse_with_pattern,
    utc_offsets,
)
from grove.query.expression.nodes import (
    EvalContext,
    Expr,
    FunctionSpec,
    literal_arg,
    returns,
    strict,
    string_literal_arg,
)
from grove.query.expression.operators import truncated_divide
from grove.query.expression.values import (
    ExprType,
    Value,
    broadcast,
    from_np,
    map_unique,
    np_parts,
    null_value,
    to_long,
    to_string,
    type_of,
    unsupported_type,
)

LONG = ExprType.LONG
STRING = ExprType.STRING


def _zone_arg(value: Any, function: str) -> Zone:
    if value is None:
        return UTC
    if not isinstance(value, str):
        raise InvalidInput(f"Function [{function}] needs a string time zone")
    try:
        return zone(value)
    except InvalidInput:
        raise InvalidInput(f"Function [{function}] has an unknown time zone [{value}]") from None


def _millis(name: str, v: Value) -> tuple[Any, Any]:
    t = type_of(v)
    if t is not None and t.is_array:
        raise unsupported_type(name, t)
    return np_parts(to_long(v), np.int64)


def _long_result(values: Any, valid: Any) -> Value:
    return from_np(np.asarray(values, dtype=np.int64)[()], valid, LONG)


# ---------------------------------------------------------------------------------------------------------
# timestamp_floor / timestamp_ceil / timestamp_shift


@lru_cache(maxsize=256)
def _granularity(period: str, origin: int | float | str | None, tz_name: str | None) -> PeriodGranularity:
    tz = _zone_arg(tz_name, "a timestamp function")
    try:
        p = Period.parse(period)
    except InvalidInput:
        raise InvalidInput(f"Invalid period [{period}] for a timestamp function") from None
    origin_ms: int | None = None
    if isinstance(origin, str) and origin:
        try:
            origin_ms = parse_timestamp(origin, tz)
        except InvalidInput:
            raise InvalidInput(f"Invalid origin [{origin}] for a timestamp function") from None
    elif isinstance(origin, int | float):
        origin_ms = int(origin)
    return PeriodGranularity(p, tz, origin_ms, tz_name=tz_name)


def _validate_granularity(name: str, origin_index: int | None, tz_index: int) -> Any:
    """Period, origin and time zone must be literals that make a valid period granularity."""

    def validate(args: Sequence[Expr], path: str) -> None:
        period = string_literal_arg(args, 1, name, path, "period")
        origin = None
        if origin_index is not None and len(args) > origin_index:
            origin = literal_arg(args, origin_index, name, path, "origin")
        tz = string_literal_arg(args, tz_index, name, path, "time zone") if len(args) > tz_index else None
        try:
            _granularity(period or "", origin, tz)
        except InvalidInput as e:
            raise InvalidInput(f"Function [{name}]: {e.message} in {path}", path) from None

    return validate


def _literal(values: list[Value], index: int) -> Any:
    """The value of a literal argument, None when it is absent."""
    if len(values) <= index:
        return None
    if not isinstance(values[index], pa.Scalar):
        raise Unsupported("Timestamp functions need literal period, origin and time zone arguments")
    return values[index].as_py()


def _floor_ceil(name: str) -> FunctionSpec:
    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        gran = _granularity(_literal(values, 1) or "", _literal(values, 2), _literal(values, 3))
        ms, valid = _millis(name, values[0])
        if np.ndim(ms) == 0:
            if not valid:
                return null_value(LONG)
            start = gran.truncate(int(ms))
            out = start if name == "timestamp_floor" or start == ms else gran.increment(start)
            return pa.scalar(out, pa.int64())
        result = np.zeros(len(ms), dtype=np.int64)
        mask = np.ones(len(ms), dtype=bool) if valid is True else valid
        live = ms[mask]
        starts = gran.bucket_starts(live)
        if name == "timestamp_ceil":
            unique, inverse = np.unique(starts, return_inverse=True)
            following = np.array([gran.increment(int(s)) for s in unique], dtype=np.int64)[
                inverse.reshape(-1)
            ]
            starts = np.where(starts == live, live, following)
        result[mask] = starts
        return _long_result(result, valid)

    return FunctionSpec(name, 2, 4, returns(LONG), strict(evaluate), _validate_granularity(name, 2, 3))


def _shift(ctx: EvalContext, values: list[Value]) -> Value:
    gran = _granularity(_literal(values, 1) or "", None, _literal(values, 3))
    period, tz = gran.period, gran.tz
    ms, valid = _millis("timestamp_shift", values[0])
    step_value = to_long(values[2])
    steps, step_valid = np_parts(step_value, np.int64)
    valid = valid & step_valid
    calendar = period.total_months or period.weeks or period.days
    if calendar and not is_utc(tz):
        return map_unique(
            lambda t, k: None if t is None or k is None else period.add_to(t, tz, k),
            [to_long(values[0]), step_value],
            LONG,
            ctx.num_rows,
        )
    out = np.asarray(ms, dtype=np.int64)
    with np.errstate(over="ignore"):
        if period.total_months:
            out = add_months(np.atleast_1d(out), period.total_months * steps)
            out = out if np.ndim(ms) else out[0]
        out = out + ((period.weeks * 7 + period.days) * DAY + period.millis) * steps
    return _long_result(out, valid)


# ---------------------------------------------------------------------------------------------------------
# timestamp_extract

EXTRACT_UNITS = (
    "EPOCH",
    "MICROSECOND",
    "MILLISECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "DOW",
    "ISODOW",
    "DOY",
    "WEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
    "ISOYEAR",
    "DECADE",
    "CENTURY",
    "MILLENNIUM",
)


def _validate_extract(args: Sequence[Expr], path: str) -> None:
    unit = string_literal_arg(args, 1, "timestamp_extract", path, "unit")
    if unit is None or unit.upper() not in EXTRACT_UNITS:
        raise InvalidInput(f"Function [timestamp_extract] does not know unit [{unit}] in {path}", path)
    if len(args) > 2:
        _zone_arg(string_literal_arg(args, 2, "timestamp_extract", path, "time zone"), "timestamp_extract")


def _extract_type(types: Sequence[ExprType | None], args: Sequence[Expr]) -> ExprType:
    unit = str(getattr(args[1], "value", "")).upper()
    return ExprType.DOUBLE if unit in ("CENTURY", "MILLENNIUM") else LONG


def _extract(ctx: EvalContext, values: list[Value]) -> Value:
    unit = str(values[1].as_py()).upper()
    tz = _zone_arg(values[2].as_py() if len(values) > 2 else None, "timestamp_extract")
    ms, valid = _millis("timestamp_extract", values[0])
    scalar = np.ndim(ms) == 0
    ms = np.atleast_1d(ms)
    epoch = truncated_divide(ms, np.int64(1000))
    fields = Fields(ms + utc_offsets(ms, tz))
    if unit in ("CENTURY", "MILLENNIUM"):
        out_d = np.ceil(fields.year / (100.0 if unit == "CENTURY" else 1000.0))
        return from_np(out_d[0] if scalar else out_d, valid, ExprType.DOUBLE)
    if unit in ("WEEK", "ISOYEAR"):
        week_year, week = fields.week()
        out = week if unit == "WEEK" else week_year
    else:
        out = {
            "EPOCH": lambda: epoch,
            "MICROSECOND": lambda: truncated_divide(epoch, np.int64(1000)),
            "MILLISECOND": lambda: fields.millis,
            "SECOND": lambda: fields.second,
            "MINUTE": lambda: fields.minute,
            "HOUR": lambda: fields.hour,
            "DAY": lambda: fields.day,
            "DOW": lambda: fields.dow,
            "ISODOW": lambda: fields.dow,
            "DOY": lambda: fields.doy,
            "MONTH": lambda: fields.month,
            "QUARTER": lambda: (fields.month - 1) // 3 + 1,
            "YEAR": lambda: fields.year,
            "DECADE": lambda: truncated_divide(fields.year, np.int64(10)),
        }[unit]()
    return _long_result(out[0] if scalar else out, valid)


# ---------------------------------------------------------------------------------------------------------
# timestamp / unix_timestamp / timestamp_parse / timestamp_format


def _strings_in(name: str, v: Value, strict_type: bool) -> pa.Array:
    t = type_of(v)
    if t is not None and (t.is_array or (strict_type and t is not STRING)):
        raise InvalidInput(f"Function [{name}] needs a STRING as its first argument")
    return broadcast(to_string(v), 1) if isinstance(v, pa.Scalar) else to_string(v)


def _parse(strings: pa.Array, pattern: str | None, tz: Zone, space: bool) -> pa.Array:
    if pattern is None:
        return parse_iso(strings, tz, space)
    try:
        return parse_with_pattern(strings, pattern, tz)
    except InvalidInput as e:
        raise InvalidInput(f"Invalid time pattern [{pattern}]: {e.message}") from None


def _timestamp(divisor: int) -> Any:
    name = "timestamp" if divisor == 1 else "unix_timestamp"

    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        strings = _strings_in(name, values[0], True)
        pattern = values[1].as_py() if len(values) > 1 else None
        parsed = _parse(strings, pattern, UTC, False)
        if parsed.null_count > pc.sum(pc.is_null(strings)).as_py():
            # Druid fails the expression on a value it cannot parse; timestamp_parse returns null instead.
            raise InvalidInput(f"Function [{name}] cannot parse a value as a timestamp")
        out = (
            parsed
            if divisor == 1
            else pa.array(
                truncated_divide(pc.fill_null(parsed, 0).to_numpy(zero_copy_only=False), np.int64(divisor)),
                pa.int64(),
                mask=pc.is_null(parsed).to_numpy(zero_copy_only=False),
            )
        )
        return out[0] if isinstance(values[0], pa.Scalar) else out

    def validate(args: Sequence[Expr], path: str) -> None:
        if len(args) > 1:
            _validate_pattern(name, string_literal_arg(args, 1, name, path, "format"), path)

    return FunctionSpec(name, 1, 2, returns(LONG), strict(evaluate), validate)


def _validate_pattern(name: str, pattern: str | None, path: str) -> None:
    if pattern is None:
        return
    try:
        joda_tokens(pattern)
    except InvalidInput as e:
        raise InvalidInput(f"Function [{name}]: {e.message} in {path}", path) from None


def _validate_pattern_zone(name: str) -> Any:
    def validate(args: Sequence[Expr], path: str) -> None:
        if len(args) > 1:
            _validate_pattern(name, string_literal_arg(args, 1, name, path, "pattern"), path)
        if len(args) > 2:
            _zone_arg(string_literal_arg(args, 2, name, path, "time zone"), name)

    return validate


def _timestamp_parse(ctx: EvalContext, values: list[Value]) -> Value:
    strings = _strings_in("timestamp_parse", values[0], False)
    pattern = values[1].as_py() if len(values) > 1 else None
    tz = _zone_arg(values[2].as_py() if len(values) > 2 else None, "timestamp_parse")
    parsed = _parse(strings, pattern, tz, True)
    return parsed[0] if isinstance(values[0], pa.Scalar) else parsed


def _timestamp_format(ctx: EvalContext, values: list[Value]) -> Value:
    ms, valid = _millis("timestamp_format", values[0])
    pattern = values[1].as_py() if len(values) > 1 else None
    tz = _zone_arg(values[2].as_py() if len(values) > 2 else None, "timestamp_format")
    if np.ndim(ms) == 0:
        if not valid:
            return null_value(STRING)
        return format_millis(np.array([ms], dtype=np.int64), pattern, tz)[0]
    text = format_millis(ms, pattern, tz)
    return text if valid is True else pc.if_else(pa.array(valid), text, null_value(STRING))


TIME_FUNCTIONS = (
    _timestamp(1),
    _timestamp(1000),
    _floor_ceil("timestamp_floor"),
    _floor_ceil("timestamp_ceil"),
    FunctionSpec(
        "timestamp_shift",
        3,
        4,
        returns(LONG),
        strict(_shift),
        _validate_granularity("timestamp_shift", None, 3),
    ),
    FunctionSpec("timestamp_extract", 2, 3, _extract_type, strict(_extract), _validate_extract),
    FunctionSpec(
        "timestamp_parse",
        1,
        3,
        returns(LONG),
        strict(_timestamp_parse),
        _validate_pattern_zone("timestamp_parse"),
    ),
    FunctionSpec(
        "timestamp_format",
        1,
        3,
        returns(STRING),
        strict(_timestamp_format),
        _validate_pattern_zone("timestamp_format"),
    ),
)
