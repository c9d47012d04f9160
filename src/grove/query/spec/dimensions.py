"""Dimension specs: which input column a query groups by, under what output name and type.

A plain string ``"page"`` is the default spec ``{"type": "default", "dimension": "page"}``. Every spec
answers ``dimension`` (the input column it reads) and ``output_name`` (the result column); filtered
specs delegate both to their ``delegate``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, model_validator

from grove.common.models import (
    Bool,
    NonEmptyStr,
    RegexPattern,
    Str,
    StringValue,
    TaggedUnion,
    WireModel,
    invalid,
    spec_error,
)
from grove.query.spec.extraction import ExtractionFn, InlineLookup, LookupOptions

OUTPUT_TYPES = ("STRING", "LONG", "FLOAT", "DOUBLE")


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


OutputType = Annotated[Literal["STRING", "LONG", "FLOAT", "DOUBLE"], BeforeValidator(_upper)]
"""A dimension's output type; accepted in any case, kept upper-case."""


def _default_output_name(data: Any) -> Any:
    if isinstance(data, dict) and data.get("outputName", data.get("output_name")) is None:
        dimension = data.get("dimension")
        if isinstance(dimension, str):
            return {**data, "outputName": dimension}
    return data


class DefaultDimensionSpec(WireModel):
    """The column as is, renamed to ``outputName`` (defaults to ``dimension``)."""

    type: Literal["default"] = "default"
    dimension: NonEmptyStr
    output_name: NonEmptyStr
    output_type: OutputType = "STRING"

    @model_validator(mode="before")
    @classmethod
    def _output_name(cls, data: Any) -> Any:
        return _default_output_name(data)


class ExtractionDimensionSpec(WireModel):
    """The column mapped through ``extractionFn``."""

    type: Literal["extraction"] = "extraction"
    dimension: NonEmptyStr
    output_name: NonEmptyStr
    output_type: OutputType = "STRING"
    extraction_fn: ExtractionFn

    @model_validator(mode="before")
    @classmethod
    def _output_name(cls, data: Any) -> Any:
        return _default_output_name(data)


class LookupDimensionSpec(LookupOptions):
    """The column mapped through a lookup: inline (``lookup``) or registered (``name``), exactly one."""

    type: Literal["lookup"] = "lookup"
    dimension: NonEmptyStr
    output_name: NonEmptyStr
    name: NonEmptyStr | None = None
    lookup: InlineLookup | None = None

    @model_validator(mode="before")
    @classmethod
    def _output_name(cls, data: Any) -> Any:
        return _default_output_name(data)

    @property
    def output_type(self) -> str:
        return "STRING"

    @model_validator(mode="after")
    def _one_lookup(self) -> Any:
        if (self.name is None) == (self.lookup is None):
            raise spec_error(
                "Set exactly one of [name] and [lookup]", field="lookup" if self.lookup else None
            )
        return self


class _FilteredDimensionSpec(WireModel):
    """A delegate spec whose (multi-)values are then filtered; reads and names what the delegate does."""

    delegate: DimensionSpec

    @property
    def dimension(self) -> str:
        return self.delegate.dimension

    @property
    def output_name(self) -> str:
        return self.delegate.output_name

    @property
    def output_type(self) -> str:
        return self.delegate.output_type


class ListFilteredDimensionSpec(_FilteredDimensionSpec):
    """Keeps the values in ``values`` (or, with ``isWhitelist: false``, the values not in it)."""

    type: Literal["listFiltered"] = "listFiltered"
    values: tuple[StringValue | None, ...]
    is_whitelist: Bool = True


class RegexFilteredDimensionSpec(_FilteredDimensionSpec):
    """Keeps the values that ``pattern`` matches."""

    type: Literal["regexFiltered"] = "regexFiltered"
    pattern: RegexPattern


class PrefixFilteredDimensionSpec(_FilteredDimensionSpec):
    """Keeps the values starting with ``prefix``."""

    type: Literal["prefixFiltered"] = "prefixFiltered"
    prefix: Str


def _from_name(name: str) -> dict[str, Any]:
    if not name:
        raise invalid("must not be empty")
    return {"type": "default", "dimension": name, "outputName": name}


DimensionSpec = Annotated[
    DefaultDimensionSpec
    | ExtractionDimensionSpec
    | LookupDimensionSpec
    | ListFilteredDimensionSpec
    | RegexFilteredDimensionSpec
    | PrefixFilteredDimensionSpec,
    TaggedUnion("dimensionSpec", string_form=_from_name),
]

for _model in (ListFilteredDimensionSpec, RegexFilteredDimensionSpec, PrefixFilteredDimensionSpec):
    _model.model_rebuild()
