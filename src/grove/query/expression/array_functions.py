"""Array functions, for arrays and multi-value string columns (``ARRAY<STRING>``).

Arrays are pyarrow list arrays; functions work on the flattened elements with their parent-row indices
(``bincount`` for "any element per row"), never row by row. A scalar given where an array is expected
counts as a one-element array, as Druid's ``asArray`` does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.query.expression.nodes import EvalContext, Expr, FunctionSpec, returns, strict
from grove.query.expression.values import (
    ExprType,
    Value,
    arrow_type,
    broadcast,
    cast_to,
    common_type,
    list_offsets,
    map_unique,
    null_value,
    to_long,
    to_string,
    type_of,
    valid_mask,
)

LONG = ExprType.LONG


def _as_list(v: Value, element: ExprType | None = None) -> Value:
    """``v`` as an array value (scalars become one-element arrays), elements cast to ``element``."""
    t = type_of(v)
    if t is None:
        return v.cast(arrow_type((element or ExprType.STRING).as_array()))
    target = (element or t.element).as_array()
    return cast_to(v, target)


def _any_per_row(hits: np.ndarray, parents: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(parents[hits], minlength=n)[:n] > 0


def member(values: Sequence[Value], n: int, all_of: bool) -> Value:
    """Per row: does the first array hold all (``all_of``) or any of the second array's elements?"""
    element = (type_of(values[0]) or type_of(values[1]) or ExprType.STRING).element
    left, right = (_as_list(v, element) for v in values)
    if isinstance(left, pa.Scalar) and isinstance(right, pa.Scalar):
        a, b = left.as_py(), right.as_py()
        if a is None or b is None:
            return null_value(LONG)
        found = all(x in a for x in b) if all_of else any(x in a for x in b)
        return pa.scalar(int(found), pa.int64())
    left, right = broadcast(left, n), broadcast(right, n)
    # Each element becomes a (row, value code) key; membership is a vectorised set lookup.
    left_flat, right_flat = pc.list_flatten(left), pc.list_flatten(right)
    encoded = pc.dictionary_encode(pa.concat_arrays([left_flat, right_flat]), null_encoding="encode")
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    width = max(len(encoded.dictionary), 1)
    left_rows = pc.list_parent_indices(left).to_numpy(zero_copy_only=False).astype(np.int64)
    right_rows = pc.list_parent_indices(right).to_numpy(zero_copy_only=False).astype(np.int64)
    present: np.ndarray = np.isin(
        right_rows * width + codes[len(left_flat) :], left_rows * width + codes[: len(left_flat)]
    )
    hit = ~_any_per_row(~present, right_rows, n) if all_of else _any_per_row(present, right_rows, n)
    valid = valid_mask(left, n) & valid_mask(right, n)
    return pa.array(hit.astype(np.int64), pa.int64(), mask=~valid)


def _membership(name: str, all_of: bool) -> FunctionSpec:
    """array_contains (all of the second array's elements) and array_overlap (any of them)."""
    return FunctionSpec(
        name,
        2,
        2,
        returns(LONG),
        strict(lambda ctx, values: member(values, ctx.num_rows, all_of)),
        array_args=frozenset({0, 1}),
    )


def _scalar_in_array(ctx: EvalContext, values: list[Value]) -> Value:
    """1 when the scalar is in the array, 0 when not, null when the scalar (or the array) is null."""
    scalar, array = values
    element = (type_of(array) or type_of(scalar) or ExprType.STRING).element
    return member([array, cast_to(scalar, element)], ctx.num_rows, True)


def _array_length(ctx: EvalContext, values: list[Value]) -> Value:
    lists = _as_list(values[0])
    return pc.cast(pc.list_value_length(lists), pa.int64())


def _element_at(one_based: bool) -> Any:
    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        n = ctx.num_rows
        lists = broadcast(_as_list(values[0]), n)
        position = to_long(values[1])
        index = broadcast(position, n).to_numpy(zero_copy_only=False)
        index = np.nan_to_num(index.astype(np.float64), nan=-1).astype(np.int64) - (1 if one_based else 0)
        offsets = list_offsets(lists)
        lengths = np.diff(offsets)
        ok = (index >= 0) & (index < lengths) & valid_mask(lists, n)
        flat = pc.list_flatten(lists)
        picks = np.where(ok, offsets[:-1] + index, 0)
        if len(flat) == 0:
            return pa.nulls(n, flat.type)
        return pc.if_else(pa.array(ok), pc.take(flat, pa.array(picks)), pa.scalar(None, flat.type))

    return evaluate


def _element_type(types: Sequence[ExprType | None], args: Sequence[Expr]) -> ExprType | None:
    return None if types[0] is None else types[0].element


def _array_to_string(ctx: EvalContext, values: list[Value]) -> Value:
    lists, delimiter = _as_list(values[0]), to_string(values[1])
    if isinstance(lists, pa.Scalar):
        items = lists.as_py()
        if items is None or (len(items) == 1 and items[0] is None) or not delimiter.is_valid:
            return null_value(ExprType.STRING)
        strings = to_string(pa.array(items, lists.type.value_type))
        return pa.scalar(delimiter.as_py().join(pc.fill_null(strings, "null").to_pylist()))
    n = ctx.num_rows
    flat = pc.list_flatten(lists)
    texts = pc.fill_null(to_string(flat), "null")
    rebuilt = pa.ListArray.from_arrays(
        pa.array(list_offsets(lists), pa.int32()), texts, mask=pc.is_null(lists)
    )
    if isinstance(delimiter, pa.Scalar):
        joined = pc.binary_join(rebuilt, delimiter.as_py() or "")
    else:
        joined = pc.binary_join(rebuilt, pc.fill_null(delimiter, ""))
    # Druid gives null for an array holding a single null, like for a null array.
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    nulls = np.bincount(parents[pc.is_null(flat).to_numpy(zero_copy_only=False)], minlength=n)[:n]
    lone_null = (np.diff(list_offsets(lists)) == 1) & (nulls == 1)
    return pc.if_else(pa.array(lone_null), null_value(ExprType.STRING), joined)


def _string_to_array(ctx: EvalContext, values: list[Value]) -> Value:
    def split(text: str | None, delimiter: str | None) -> list[str] | None:
        if text is None:
            return None
        parts = re.split(delimiter or "", text) if delimiter else list(text)
        while parts and parts[-1] == "":
            parts.pop()
        return parts or [""]

    strings, delimiter = to_string(values[0]), to_string(values[1])
    return map_unique(split, [strings, delimiter], ExprType.STRING_ARRAY, ctx.num_rows)


def _array(ctx: EvalContext, values: list[Value]) -> Value:
    n = ctx.num_rows
    element = common_type([ExprType.LONG, *(type_of(v) for v in values)]) or ExprType.STRING
    columns = [broadcast(cast_to(v, element), n).cast(arrow_type(element)) for v in values]
    if all(isinstance(v, pa.Scalar) for v in values):
        return pa.scalar([c[0].as_py() for c in columns], arrow_type(element.as_array()))
    k = len(columns)
    order = (np.arange(k)[None, :] * n + np.arange(n)[:, None]).reshape(-1)
    flat = pc.take(pa.concat_arrays(columns), pa.array(order))
    return pa.ListArray.from_arrays(pa.array(np.arange(0, n * k + 1, k, dtype=np.int32)), flat)


def _array_type(types: Sequence[ExprType | None], args: Sequence[Expr]) -> ExprType:
    return (common_type([ExprType.LONG, *types]) or ExprType.STRING).as_array()


ARRAY_FUNCTIONS = (
    FunctionSpec("array", 1, None, _array_type, strict(_array)),
    FunctionSpec("array_length", 1, 1, returns(LONG), strict(_array_length), array_args=frozenset({0})),
    FunctionSpec("array_offset", 2, 2, _element_type, strict(_element_at(False)), array_args=frozenset({0})),
    FunctionSpec("array_ordinal", 2, 2, _element_type, strict(_element_at(True)), array_args=frozenset({0})),
    _membership("array_contains", True),
    _membership("array_overlap", False),
    FunctionSpec("scalar_in_array", 2, 2, returns(LONG), strict(_scalar_in_array), array_args=frozenset({1})),
    FunctionSpec(
        "array_to_string", 2, 2, returns(ExprType.STRING), strict(_array_to_string), array_args=frozenset({0})
    ),
    FunctionSpec("string_to_array", 2, 2, returns(ExprType.STRING_ARRAY), strict(_string_to_array)),
    FunctionSpec(
        "mv_to_array",
        1,
        1,
        returns(ExprType.STRING_ARRAY),
        strict(lambda ctx, v: _as_list(v[0], ExprType.STRING)),
        array_args=frozenset({0}),
    ),
    FunctionSpec(
        "array_to_mv",
        1,
        1,
        returns(ExprType.STRING_ARRAY),
        strict(lambda ctx, v: _as_list(v[0], ExprType.STRING)),
        array_args=frozenset({0}),
    ),
)
