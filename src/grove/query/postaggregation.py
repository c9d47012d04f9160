"""Post-aggregators: values computed per result row from finalized aggregates, vectorised over rows.

:func:`apply_post_aggregations` takes the aggregations and their merged states for N result rows and
returns every output column (aggregators then post-aggregators, in query order). Post-aggregators may
read aggregators and earlier post-aggregators. Arithmetic ``/`` gives 0 when dividing by 0 (Druid's
rule, so CTR and CPC never blow up); ``quotient`` is plain division. Nulls propagate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from grove.errors import InvalidQuery, Unsupported
from grove.query.aggregation import Aggregation, Finalized, HllState, State, ThetaState
from grove.query.expression import evaluate, parse_expression
from grove.query.spec import postaggregators as P
from grove.segment.sketches import theta_estimate, theta_set_op


@dataclass
class Num:
    """A numeric column of the result: float64 or int64 values with an optional null mask."""

    values: np.ndarray
    nulls: np.ndarray | None = None

    def to_finalized(self) -> Finalized:
        return Finalized(self.values, self.nulls)


Value = Num | HllState | ThetaState | Finalized


def _num(v: Value, name: str) -> Num:
    if isinstance(v, Num):
        return v
    if isinstance(v, HllState):
        return Num(v.estimates())
    if isinstance(v, ThetaState):
        return Num(theta_estimate(v.sketches))
    if isinstance(v.values, list):
        arr = np.array([np.nan if x is None else _to_float(x, name) for x in v.values], dtype=np.float64)
        return Num(arr, np.isnan(arr) if any(x is None for x in v.values) else None)
    return Num(v.values, v.nulls)


def _to_float(x: Any, name: str) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        raise InvalidQuery(f"Post-aggregator input [{name}] is not numeric") from None


def _or(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    if b is None:
        return a
    return a | b


class _Context:
    def __init__(self, aggs: Sequence[Aggregation], states: Sequence[State], n: int) -> None:
        self.n = n
        self.raw: dict[str, Value] = {}
        self.final: dict[str, Value] = {}
        # Aggregators asked to round their estimates (hyperUniqueCardinality inherits it).
        self.rounded = {a.name for a in aggs if getattr(getattr(a, "inner", a), "round", False) is True}
        for agg, st in zip(aggs, states, strict=True):
            fin = agg.finalize(st)
            self.final[agg.name] = fin
            raw = agg.raw(st)
            self.raw[agg.name] = raw if isinstance(raw, HllState | ThetaState) else fin

    def lookup(self, name: str, finalized: bool) -> Value:
        table = self.final if finalized else self.raw
        if name not in table:
            raise InvalidQuery(f"Post-aggregator refers to unknown field [{name}]")
        return table[name]

    def define(self, name: str, value: Value) -> None:
        self.raw[name] = value
        self.final[name] = value


def _eval(pa_model: Any, ctx: _Context) -> Value:
    if isinstance(pa_model, P.FieldAccessPostAggregator):
        return ctx.lookup(pa_model.field_name, finalized=False)
    if isinstance(pa_model, P.FinalizingFieldAccessPostAggregator):
        return ctx.lookup(pa_model.field_name, finalized=True)
    if isinstance(pa_model, P.ConstantPostAggregator):
        return Num(
            np.full(ctx.n, float(pa_model.value))
            if isinstance(pa_model.value, float)
            else np.full(ctx.n, pa_model.value)
        )
    if isinstance(pa_model, P.ArithmeticPostAggregator):
        return _arithmetic(pa_model, ctx)
    if isinstance(pa_model, P.HyperUniqueCardinalityPostAggregator):
        v = ctx.lookup(pa_model.field_name, finalized=False)
        estimates = _num(v, pa_model.field_name).values.astype(np.float64)
        # "inherits the rounding behavior of the aggregator it references" (post-aggregations.md)
        if pa_model.field_name in ctx.rounded:
            return Num(np.rint(estimates).astype(np.int64))
        return Num(estimates)
    if isinstance(pa_model, P.HllSketchEstimatePostAggregator):
        v = _eval(pa_model.field, ctx)
        est = _num(v, "field").values.astype(np.float64)
        return Num(np.rint(est).astype(np.int64)) if pa_model.round else Num(est)
    if isinstance(pa_model, P.HllSketchEstimateWithBoundsPostAggregator):
        v = _eval(pa_model.field, ctx)
        if not isinstance(v, HllState):
            raise InvalidQuery("HLLSketchEstimateWithBounds needs an HLL sketch field")
        est = v.estimates()
        err = pa_model.num_std_dev * 1.04 / np.sqrt(float(1 << v.lgk))
        return Finalized([[e, max(e * (1 - err), 0.0), e * (1 + err)] for e in est.tolist()])
    if isinstance(pa_model, P.ThetaSketchEstimatePostAggregator):
        v = _eval(pa_model.field, ctx)
        if isinstance(v, ThetaState):
            return Num(theta_estimate(v.sketches))
        return _num(v, "field")
    if isinstance(pa_model, P.ThetaSketchSetOpPostAggregator):
        parts = [_eval(f, ctx) for f in pa_model.fields]
        sketches = []
        for p in parts:
            if not isinstance(p, ThetaState):
                raise InvalidQuery("thetaSketchSetOp fields must be theta sketches (use fieldAccess)")
            sketches.append(p.sketches)
        acc = sketches[0]
        for other in sketches[1:]:
            acc = theta_set_op(pa_model.func, acc, other)
        return ThetaState(acc)
    if isinstance(pa_model, P.GreatestLeastPostAggregator):
        nums = [_num(_eval(f, ctx), "fields") for f in pa_model.fields]
        stacked = np.vstack(
            [
                np.where(x.nulls, np.nan, x.values.astype(np.float64))
                if x.nulls is not None
                else x.values.astype(np.float64)
                for x in nums
            ]
        )
        all_null = np.isnan(stacked).all(axis=0)
        filled = np.where(np.isnan(stacked), -np.inf if "Greatest" in pa_model.type else np.inf, stacked)
        out = filled.max(axis=0) if "Greatest" in pa_model.type else filled.min(axis=0)
        out[all_null] = np.nan
        nulls = np.isnan(out)
        if pa_model.value_type == "long":
            return Num(np.nan_to_num(out).astype(np.int64), nulls if nulls.any() else None)
        return Num(out, nulls if nulls.any() else None)
    if isinstance(pa_model, P.ExpressionPostAggregator):
        return _expression(pa_model, ctx)
    raise Unsupported(f"Post-aggregator type [{getattr(pa_model, 'type', pa_model)}] is not supported")


def _arithmetic(model: P.ArithmeticPostAggregator, ctx: _Context) -> Num:
    operands = [_num(_eval(f, ctx), "fields") for f in model.fields]
    acc = operands[0].values.astype(np.float64)
    nulls = operands[0].nulls
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for op in operands[1:]:
            right = op.values.astype(np.float64)
            nulls = _or(nulls, op.nulls)
            if model.fn == "+":
                acc = acc + right
            elif model.fn == "-":
                acc = acc - right
            elif model.fn == "*":
                acc = acc * right
            elif model.fn == "/":
                acc = np.where(right == 0, 0.0, acc / np.where(right == 0, 1.0, right))
            elif model.fn == "quotient":
                acc = acc / right
            elif model.fn == "pow":
                acc = np.power(acc, right)
    return Num(acc, nulls)


def _expression(model: P.ExpressionPostAggregator, ctx: _Context) -> Value:
    expr = parse_expression(model.expression, "postAggregations.expression")

    def column(name: str) -> pa.Array | None:
        if name not in ctx.final:
            return None
        value = ctx.final[name]
        if isinstance(value, Finalized) and isinstance(value.values, list):
            return pa.array(value.values)
        num = _num(value, name)
        return pa.array(num.values, mask=num.nulls)

    result = evaluate(expr, column, ctx.n)
    if pa.types.is_integer(result.type) or pa.types.is_floating(result.type):
        nulls = result.is_null().to_numpy(zero_copy_only=False) if result.null_count else None
        return Num(result.fill_null(0).to_numpy(zero_copy_only=False), nulls)
    return Finalized(result.to_pylist())


def post_aggregator_names(models: Sequence[Any], path: str = "postAggregations") -> list[str]:
    names = []
    for i, m in enumerate(models):
        if not m.name:
            raise InvalidQuery(f"Missing required field [name] at {path}[{i}].name", f"{path}[{i}].name")
        names.append(m.name)
    return names


def apply_post_aggregations(
    aggs: Sequence[Aggregation], states: Sequence[State], post_aggs: Sequence[Any], n: int
) -> dict[str, Finalized]:
    """Final output columns for ``n`` rows: aggregators first, then post-aggregators in order."""
    ctx = _Context(aggs, states, n)
    out: dict[str, Finalized] = {}
    for agg in aggs:
        fin = ctx.final[agg.name]
        assert isinstance(fin, Finalized)
        out[agg.name] = fin
    for model in post_aggs:
        value = _eval(model, ctx)
        ctx.define(model.name, value)
        if isinstance(value, Num):
            out[model.name] = value.to_finalized()
        elif isinstance(value, Finalized):
            out[model.name] = value
        else:
            out[model.name] = _num(value, model.name).to_finalized()
    return out
