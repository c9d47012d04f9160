"""groupBy ``having`` specs: conditions on result rows after aggregation."""

from __future__ import annotations

from typing import Annotated, Literal

from grove.common.models import NonEmptyStr, Number, StringValue, TaggedUnion, WireModel
from grove.query.spec.extraction import ExtractionFn
from grove.query.spec.filters import Filter


class _Comparison(WireModel):
    aggregation: NonEmptyStr
    value: Number


class GreaterThanHaving(_Comparison):
    type: Literal["greaterThan"] = "greaterThan"


class LessThanHaving(_Comparison):
    type: Literal["lessThan"] = "lessThan"


class EqualToHaving(_Comparison):
    type: Literal["equalTo"] = "equalTo"


class DimSelectorHaving(WireModel):
    """The row's value of ``dimension`` (an output name) equals ``value``."""

    type: Literal["dimSelector"] = "dimSelector"
    dimension: NonEmptyStr
    value: StringValue | None = None
    extraction_fn: ExtractionFn | None = None


class FilterHaving(WireModel):
    """Any Druid filter, evaluated on the result row's columns."""

    type: Literal["filter"] = "filter"
    filter: Filter


class AndHaving(WireModel):
    type: Literal["and"] = "and"
    having_specs: tuple[HavingSpec, ...]


class OrHaving(WireModel):
    type: Literal["or"] = "or"
    having_specs: tuple[HavingSpec, ...]


class NotHaving(WireModel):
    type: Literal["not"] = "not"
    having_spec: HavingSpec


class AlwaysHaving(WireModel):
    type: Literal["always"] = "always"


class NeverHaving(WireModel):
    type: Literal["never"] = "never"


HavingSpec = Annotated[
    GreaterThanHaving
    | LessThanHaving
    | EqualToHaving
    | DimSelectorHaving
    | FilterHaving
    | AndHaving
    | OrHaving
    | NotHaving
    | AlwaysHaving
    | NeverHaving,
    TaggedUnion("having"),
]

for _model in (AndHaving, OrHaving, NotHaving):
    _model.model_rebuild()
