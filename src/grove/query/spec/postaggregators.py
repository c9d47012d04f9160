"""Post-aggregators: values computed from a result row's aggregates (``postAggregations``).

``name`` is optional on every model because nested post-aggregators (the ``fields`` of an arithmetic
one) often leave it out; queries check that their top-level post-aggregators are named. Every model
answers ``dependent_fields()``: the aggregator or post-aggregator names it reads directly (names used
only inside an ``expression`` are resolved by the expression layer). ``javascript`` is refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import field_validator

from grove.common.models import (
    Bool,
    ColumnTypeName,
    NonEmptyStr,
    Number,
    PositiveInt,
    TaggedUnion,
    WireModel,
    invalid,
)


def _fields(fields: tuple[PostAggregator, ...]) -> set[str]:
    return set().union(*(f.dependent_fields() for f in fields))


class ArithmeticPostAggregator(WireModel):
    """``fn`` applied left to right over ``fields`` (two or more).

    ``/`` returns 0 when dividing by 0; ``quotient`` is plain floating-point division. ``ordering``
    ``numericFirst`` sorts finite values before NaN and infinities.
    """

    type: Literal["arithmetic"] = "arithmetic"
    name: NonEmptyStr | None = None
    fn: Literal["+", "-", "*", "/", "quotient", "pow"]
    fields: tuple[PostAggregator, ...]
    ordering: Literal["numericFirst"] | None = None

    @field_validator("fields")
    @classmethod
    def _two_or_more(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(value) < 2:
            raise invalid("needs at least 2 fields")
        return value

    def dependent_fields(self) -> set[str]:
        return _fields(self.fields)


class FieldAccessPostAggregator(WireModel):
    """The raw (unfinalized) value of the aggregator ``fieldName``."""

    type: Literal["fieldAccess"] = "fieldAccess"
    name: NonEmptyStr | None = None
    field_name: NonEmptyStr

    def dependent_fields(self) -> set[str]:
        return {self.field_name}


class FinalizingFieldAccessPostAggregator(WireModel):
    """The finalized value of the aggregator ``fieldName`` (an estimate rather than a sketch)."""

    type: Literal["finalizingFieldAccess"] = "finalizingFieldAccess"
    name: NonEmptyStr | None = None
    field_name: NonEmptyStr

    def dependent_fields(self) -> set[str]:
        return {self.field_name}


class ConstantPostAggregator(WireModel):
    """The number ``value``."""

    type: Literal["constant"] = "constant"
    name: NonEmptyStr | None = None
    value: Number

    def dependent_fields(self) -> set[str]:
        return set()


class ExpressionPostAggregator(WireModel):
    """The Druid expression ``expression`` over the row's aggregates and dimensions."""

    type: Literal["expression"] = "expression"
    name: NonEmptyStr | None = None
    expression: NonEmptyStr
    ordering: NonEmptyStr | None = None
    output_type: ColumnTypeName | None = None

    def dependent_fields(self) -> set[str]:
        return set()


class HyperUniqueCardinalityPostAggregator(WireModel):
    """The estimate of the ``hyperUnique`` or ``cardinality`` aggregator ``fieldName``."""

    type: Literal["hyperUniqueCardinality"] = "hyperUniqueCardinality"
    name: NonEmptyStr | None = None
    field_name: NonEmptyStr

    def dependent_fields(self) -> set[str]:
        return {self.field_name}


class HllSketchEstimatePostAggregator(WireModel):
    """The distinct-count estimate of the HLL sketch ``field``; ``round`` rounds it."""

    type: Literal["HLLSketchEstimate"] = "HLLSketchEstimate"
    name: NonEmptyStr | None = None
    field: PostAggregator
    round: Bool = False

    def dependent_fields(self) -> set[str]:
        return self.field.dependent_fields()


class HllSketchEstimateWithBoundsPostAggregator(WireModel):
    """``[estimate, lower, upper]`` of the HLL sketch ``field`` at ``numStdDev`` (1, 2 or 3)."""

    type: Literal["HLLSketchEstimateWithBounds"] = "HLLSketchEstimateWithBounds"
    name: NonEmptyStr | None = None
    field: PostAggregator
    num_std_dev: PositiveInt = 1

    @field_validator("num_std_dev")
    @classmethod
    def _one_to_three(cls, value: int) -> int:
        if value > 3:
            raise invalid("must be 1, 2 or 3")
        return value

    def dependent_fields(self) -> set[str]:
        return self.field.dependent_fields()


class ThetaSketchEstimatePostAggregator(WireModel):
    """The distinct-count estimate of the Theta sketch ``field`` (with bounds at ``errorBoundsStdDev``)."""

    type: Literal["thetaSketchEstimate"] = "thetaSketchEstimate"
    name: NonEmptyStr | None = None
    field: PostAggregator
    error_bounds_std_dev: PositiveInt | None = None

    def dependent_fields(self) -> set[str]:
        return self.field.dependent_fields()


class ThetaSketchSetOpPostAggregator(WireModel):
    """Union, intersection or difference (``NOT``) of the Theta sketches ``fields``."""

    type: Literal["thetaSketchSetOp"] = "thetaSketchSetOp"
    name: NonEmptyStr | None = None
    func: Literal["UNION", "INTERSECT", "NOT"]
    fields: tuple[PostAggregator, ...]
    size: PositiveInt = 16384

    @field_validator("fields")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise invalid("must not be empty")
        return value

    @field_validator("size")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise invalid("must be a power of 2")
        return value

    def dependent_fields(self) -> set[str]:
        return _fields(self.fields)


class GreatestLeastPostAggregator(WireModel):
    """The greatest or least of ``fields`` in one row, as a double or a long."""

    type: Literal["doubleGreatest", "doubleLeast", "longGreatest", "longLeast"]
    name: NonEmptyStr | None = None
    fields: tuple[PostAggregator, ...]

    @field_validator("fields")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise invalid("must not be empty")
        return value

    @property
    def value_type(self) -> str:
        """``double`` or ``long``."""
        return "double" if self.type.startswith("double") else "long"

    @property
    def op(self) -> str:
        """``greatest`` or ``least``."""
        return "greatest" if self.type.endswith("Greatest") else "least"

    def dependent_fields(self) -> set[str]:
        return _fields(self.fields)


_NOT_SUPPORTED = "this post-aggregator is not supported by grove"

PostAggregator = Annotated[
    ArithmeticPostAggregator
    | FieldAccessPostAggregator
    | FinalizingFieldAccessPostAggregator
    | ConstantPostAggregator
    | ExpressionPostAggregator
    | HyperUniqueCardinalityPostAggregator
    | HllSketchEstimatePostAggregator
    | HllSketchEstimateWithBoundsPostAggregator
    | ThetaSketchEstimatePostAggregator
    | ThetaSketchSetOpPostAggregator
    | GreatestLeastPostAggregator,
    TaggedUnion(
        "postAggregator",
        unsupported={
            "javascript": "JavaScript functions are not supported by grove",
            "HLLSketchUnion": _NOT_SUPPORTED,
            "HLLSketchToString": _NOT_SUPPORTED,
            "thetaSketchToString": _NOT_SUPPORTED,
            "quantilesDoublesSketchToQuantile": "quantile sketches are not supported by grove",
            "quantilesDoublesSketchToQuantiles": "quantile sketches are not supported by grove",
            "quantilesDoublesSketchToHistogram": "quantile sketches are not supported by grove",
        },
    ),
]

for _model in (
    ArithmeticPostAggregator,
    HllSketchEstimatePostAggregator,
    HllSketchEstimateWithBoundsPostAggregator,
    ThetaSketchEstimatePostAggregator,
    ThetaSketchSetOpPostAggregator,
    GreatestLeastPostAggregator,
):
    _model.model_rebuild()
