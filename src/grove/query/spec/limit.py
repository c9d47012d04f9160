"""groupBy ``limitSpec``: ordering, offset and limit of the result rows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

from grove.common.models import NonEmptyStr, NonNegativeInt, PositiveInt, TaggedUnion, WireModel

ORDERINGS = ("lexicographic", "alphanumeric", "numeric", "strlen", "version")


def _column(value: Any) -> Any:
    # A bare string orders ascending by that column.
    if isinstance(value, str):
        return {"dimension": value}
    return value


def _lower(value: Any) -> Any:
    if isinstance(value, dict):
        value = value.get("type")
    return value.lower() if isinstance(value, str) else value


class OrderByColumn(WireModel):
    dimension: NonEmptyStr
    direction: Annotated[Literal["ascending", "descending"], BeforeValidator(_lower)] = "ascending"
    dimension_order: Annotated[
        Literal["lexicographic", "alphanumeric", "numeric", "strlen", "version"], BeforeValidator(_lower)
    ] = "lexicographic"


class DefaultLimitSpec(WireModel):
    type: Literal["default"] = "default"
    columns: tuple[Annotated[OrderByColumn, BeforeValidator(_column)], ...] = ()
    limit: PositiveInt | None = None
    offset: NonNegativeInt = 0


LimitSpec = Annotated[DefaultLimitSpec, TaggedUnion("limitSpec", default_type="default")]
