"""Druid's native filters (the ``filter`` of a query, a filtered aggregator or a transformSpec).

Every filter answers ``required_columns()``: the input columns it names directly. Columns referenced
only inside an ``expression`` are not included; the expression layer resolves those. ``javascript``
and ``spatial`` filters are refused.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pyarrow as pa
from pydantic import (
    BeforeValidator,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from grove.common.models import (
    Bool,
    ColumnTypeName,
    IntervalField,
    NonEmptyStr,
    RegexPattern,
    Str,
    StringValue,
    TaggedUnion,
    WireModel,
    invalid,
    missing,
    spec_error,
)
from grove.query.spec.dimensions import DimensionSpec
from grove.query.spec.extraction import ExtractionFn, SearchQuerySpec
from grove.segment.hashing import StringSet

ORDERINGS = ("lexicographic", "alphanumeric", "numeric", "strlen", "version")


class _ColumnFilter(WireModel):
    """A filter on one input column named ``dimension`` (declared by each subclass, after ``type``)."""

    if TYPE_CHECKING:
        dimension: str

    def required_columns(self) -> set[str]:
        return {self.dimension}


class SelectorFilter(_ColumnFilter):
    """``dimension = value``; a null (or absent) ``value`` matches nulls."""

    type: Literal["selector"] = "selector"
    dimension: NonEmptyStr
    value: StringValue | None = None
    extraction_fn: ExtractionFn | None = None


class ExtractionFilter(_ColumnFilter):
    """Deprecated form of a selector with an extraction function."""

    type: Literal["extraction"] = "extraction"
    dimension: NonEmptyStr
    value: StringValue | None = None
    extraction_fn: ExtractionFn


class EqualityFilter(WireModel):
    """``column = matchValue`` compared as ``matchValueType``; never matches null (Druid's ``equals``)."""

    type: Literal["equals"] = "equals"
    column: NonEmptyStr
    match_value_type: ColumnTypeName
    match_value: Any = None

    @model_validator(mode="after")
    def _value_present(self) -> Any:
        if self.match_value is None:
            raise missing("matchValue")
        return self

    def required_columns(self) -> set[str]:
        return {self.column}


class NullFilter(WireModel):
    """``column IS NULL``."""

    type: Literal["null"] = "null"
    column: NonEmptyStr

    def required_columns(self) -> set[str]:
        return {self.column}


_STRING_OR_NULL = frozenset((str, type(None)))


def _strings_at_once(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """An IN list of only strings and nulls (what SQL plans, and most clients send) is taken as it
    is: checking 10,000 values one by one costs milliseconds per query. Any other list is checked
    value by value (numbers and booleans become their text, anything else is refused by index)."""
    if isinstance(value, list | tuple) and set(map(type, value)) <= _STRING_OR_NULL:
        return tuple(value)
    return handler(value)


class InFilter(_ColumnFilter):
    """``dimension IN values``; a null in ``values`` matches nulls, an empty ``values`` matches nothing.

    What every segment's evaluation needs from ``values`` (whether null is among them, the strings
    as an Arrow array) is worked out once per query, on first use.
    """

    type: Literal["in"] = "in"
    dimension: NonEmptyStr
    values: Annotated[tuple[StringValue | None, ...], WrapValidator(_strings_at_once)]
    extraction_fn: ExtractionFn | None = None

    @cached_property
    def matches_null(self) -> bool:
        """Whether null is one of the values (so null rows match)."""
        return None in self.values

    @cached_property
    def strings(self) -> tuple[str, ...]:
        """The values less null."""
        if not self.matches_null:
            return self.values  # type: ignore[return-value]  # no None among them
        return tuple(v for v in self.values if v is not None)

    @cached_property
    def string_array(self) -> pa.Array:
        """:attr:`strings` as an Arrow string array (the value set of ``is_in``)."""
        return pa.array(self.strings, pa.string())

    @cached_property
    def string_set(self) -> StringSet:
        """:attr:`strings` hashed into a set that segments' dictionaries are probed against."""
        return StringSet(self.string_array)

    @cached_property
    def sorted_strings(self) -> tuple[str, ...]:
        """:attr:`strings` without repeats, sorted as dictionaries are (by UTF-8 bytes, which is
        Python's code point order)."""
        return tuple(sorted(set(self.strings)))

    @cached_property
    def sorted_array(self) -> pa.Array:
        """:attr:`sorted_strings` as an Arrow string array."""
        return pa.array(self.sorted_strings, pa.string())


def _ordering(value: Any) -> Any:
    # Druid accepts the ordering as a name or as {"type": name}.
    if isinstance(value, dict):
        if "type" not in value:
            raise missing("type")
        value = value["type"]
    return value.lower() if isinstance(value, str) else value


class BoundFilter(_ColumnFilter):
    """``lower <(=) dimension <(=) upper`` under ``ordering``; at least one bound is required.

    Without a lower bound the bound filter matches nulls, as in Druid.
    """

    type: Literal["bound"] = "bound"
    dimension: NonEmptyStr
    lower: StringValue | None = None
    upper: StringValue | None = None
    lower_strict: Bool = False
    upper_strict: Bool = False
    ordering: Annotated[
        Literal["lexicographic", "alphanumeric", "numeric", "strlen", "version"], BeforeValidator(_ordering)
    ] = "lexicographic"
    extraction_fn: ExtractionFn | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Any:
        if self.lower is None and self.upper is None:
            raise spec_error("Set at least one of [lower] and [upper]")
        return self


class RangeFilter(WireModel):
    """``lower <(=) column <(=) upper`` compared as ``matchValueType``; never matches null."""

    type: Literal["range"] = "range"
    column: NonEmptyStr
    match_value_type: ColumnTypeName
    lower: Any = None
    upper: Any = None
    lower_open: Bool = False
    upper_open: Bool = False

    @model_validator(mode="after")
    def _one_bound(self) -> Any:
        if self.lower is None and self.upper is None:
            raise spec_error("Set at least one of [lower] and [upper]")
        return self

    def required_columns(self) -> set[str]:
        return {self.column}


class LikeFilter(_ColumnFilter):
    """SQL ``LIKE``: ``%`` any run, ``_`` any one character, ``escape`` (one character) quotes them."""

    type: Literal["like"] = "like"
    dimension: NonEmptyStr
    pattern: Str
    escape: Str | None = None
    extraction_fn: ExtractionFn | None = None

    @field_validator("escape")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise invalid("must be a single character")
        return value


class RegexFilter(_ColumnFilter):
    """Values in which ``pattern`` finds a match."""

    type: Literal["regex"] = "regex"
    dimension: NonEmptyStr
    pattern: RegexPattern
    extraction_fn: ExtractionFn | None = None


class SearchFilter(_ColumnFilter):
    """Values matched by the search ``query`` (contains, insensitive_contains, fragment, regex)."""

    type: Literal["search"] = "search"
    dimension: NonEmptyStr
    query: SearchQuerySpec
    extraction_fn: ExtractionFn | None = None


class IntervalFilter(_ColumnFilter):
    """Millisecond values (``__time`` usually) inside any of ``intervals`` (start inclusive, end exclusive)."""

    type: Literal["interval"] = "interval"
    dimension: NonEmptyStr
    intervals: tuple[IntervalField, ...]
    extraction_fn: ExtractionFn | None = None

    @field_validator("intervals")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise invalid("must not be empty")
        return value


class ArrayContainsElementFilter(WireModel):
    """Arrays in ``column`` containing ``elementMatchValue`` (scalars act as one-element arrays)."""

    type: Literal["arrayContainsElement"] = "arrayContainsElement"
    column: NonEmptyStr
    element_match_value_type: ColumnTypeName
    element_match_value: Any = None

    def required_columns(self) -> set[str]:
        return {self.column}


class AndFilter(WireModel):
    """All of ``fields``."""

    type: Literal["and"] = "and"
    fields: tuple[Filter, ...]

    @field_validator("fields")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise invalid("must not be empty")
        return value

    def required_columns(self) -> set[str]:
        return set().union(*(f.required_columns() for f in self.fields))


class OrFilter(WireModel):
    """Any of ``fields``."""

    type: Literal["or"] = "or"
    fields: tuple[Filter, ...]

    @field_validator("fields")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise invalid("must not be empty")
        return value

    def required_columns(self) -> set[str]:
        return set().union(*(f.required_columns() for f in self.fields))


class NotFilter(WireModel):
    """Not ``field``."""

    type: Literal["not"] = "not"
    field: Filter

    def required_columns(self) -> set[str]:
        return self.field.required_columns()


class TrueFilter(WireModel):
    """Every row."""

    type: Literal["true"] = "true"

    def required_columns(self) -> set[str]:
        return set()


class FalseFilter(WireModel):
    """No row."""

    type: Literal["false"] = "false"

    def required_columns(self) -> set[str]:
        return set()


class ColumnComparisonFilter(WireModel):
    """Rows whose ``dimensions`` (two or more, compared as strings) are all equal."""

    type: Literal["columnComparison"] = "columnComparison"
    dimensions: tuple[DimensionSpec, ...]

    @field_validator("dimensions")
    @classmethod
    def _two_or_more(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(value) < 2:
            raise invalid("needs at least 2 dimensions")
        return value

    def required_columns(self) -> set[str]:
        return {d.dimension for d in self.dimensions}


class ExpressionFilter(WireModel):
    """Rows for which the Druid expression ``expression`` is true."""

    type: Literal["expression"] = "expression"
    expression: NonEmptyStr

    def required_columns(self) -> set[str]:
        return set()


Filter = Annotated[
    SelectorFilter
    | ExtractionFilter
    | EqualityFilter
    | NullFilter
    | InFilter
    | BoundFilter
    | RangeFilter
    | LikeFilter
    | RegexFilter
    | SearchFilter
    | IntervalFilter
    | ArrayContainsElementFilter
    | AndFilter
    | OrFilter
    | NotFilter
    | TrueFilter
    | FalseFilter
    | ColumnComparisonFilter
    | ExpressionFilter,
    TaggedUnion(
        "filter",
        unsupported={
            "javascript": "JavaScript functions are not supported by grove",
            "spatial": "spatial filters are not supported by grove",
        },
    ),
]

for _model in (AndFilter, OrFilter, NotFilter):
    _model.model_rebuild()
