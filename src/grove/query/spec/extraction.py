"""Extraction functions (``extractionFn``) and search query specs, as Druid writes them.

An extraction function maps one dimension value to another before filtering or grouping. These models
only describe the function; engines implement it. ``javascript`` is refused: grove runs no user code.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import field_validator, model_validator

from grove.common.models import (
    Bool,
    Float,
    GranularityField,
    NonEmptyStr,
    NonNegativeInt,
    PositiveInt,
    RegexPattern,
    Str,
    StringValue,
    TaggedUnion,
    WireModel,
    invalid,
    spec_error,
)
from grove.common.time import zone
from grove.errors import InvalidInput

_JAVASCRIPT = "JavaScript functions are not supported by grove"

# ---------------------------------------------------------------------------------------------------
# Search query specs (used by the search filter and the searchQuery extraction function)


class ContainsSearchQuerySpec(WireModel):
    """Matches values containing ``value``; case-insensitive unless ``caseSensitive``."""

    type: Literal["contains"] = "contains"
    value: Str
    case_sensitive: Bool = False


class InsensitiveContainsSearchQuerySpec(WireModel):
    """Matches values containing ``value``, ignoring case."""

    type: Literal["insensitive_contains"] = "insensitive_contains"
    value: Str


class FragmentSearchQuerySpec(WireModel):
    """Matches values containing every one of ``values``; case-insensitive unless ``caseSensitive``."""

    type: Literal["fragment"] = "fragment"
    values: tuple[Str, ...]
    case_sensitive: Bool = False


class RegexSearchQuerySpec(WireModel):
    """Matches values in which ``pattern`` finds a match."""

    type: Literal["regex"] = "regex"
    pattern: RegexPattern


SearchQuerySpec = Annotated[
    ContainsSearchQuerySpec
    | InsensitiveContainsSearchQuerySpec
    | FragmentSearchQuerySpec
    | RegexSearchQuerySpec,
    TaggedUnion("searchQuerySpec"),
]

# ---------------------------------------------------------------------------------------------------
# Lookups given inline


class MapLookup(WireModel):
    """An inline lookup table: ``{"type": "map", "map": {...}, "isOneToOne": false}``."""

    type: Literal["map"] = "map"
    map: dict[str, StringValue]
    is_one_to_one: Bool = False


InlineLookup = Annotated[
    MapLookup,
    TaggedUnion("lookup", unsupported={"cachedNamespace": "only inline map lookups are supported"}),
]


class LookupOptions(WireModel):
    """What a lookup does with values that are not in it; shared by the lookup specs."""

    retain_missing_value: Bool = False
    replace_missing_value_with: Str | None = None
    injective: Bool | None = None
    optimize: Bool = True

    @field_validator("replace_missing_value_with")
    @classmethod
    def _empty_is_null(cls, value: str | None) -> str | None:
        # Druid treats "" like null here.
        return value or None

    @model_validator(mode="after")
    def _not_both(self) -> Any:
        if self.retain_missing_value and self.replace_missing_value_with is not None:
            raise spec_error(
                "Cannot set both [retainMissingValue] and [replaceMissingValueWith]",
                field="replaceMissingValueWith",
            )
        return self


# ---------------------------------------------------------------------------------------------------
# Extraction functions


class TimeFormatExtractionFn(WireModel):
    """Formats a time (``__time`` or an ISO string) with a Joda ``format`` in ``timeZone`` and ``locale``.

    ``format`` None means ISO-8601 (or millis when ``asMillis``); ``granularity`` truncates first.
    """

    type: Literal["timeFormat"] = "timeFormat"
    format: Str | None = None
    time_zone: Str | None = None
    locale: Str | None = None
    granularity: GranularityField | None = None
    as_millis: Bool = False

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zone(value)
            except InvalidInput as e:
                raise spec_error(e.message) from None
        return value


class TimeParseExtractionFn(WireModel):
    """Parses a string with ``timeFormat`` and writes it back with ``resultFormat`` (Druid's ``time``)."""

    type: Literal["time"] = "time"
    time_format: NonEmptyStr
    result_format: NonEmptyStr
    joda: Bool = False


class SubstringExtractionFn(WireModel):
    """``value[index:index+length]`` in UTF-16 code units; no ``length`` means to the end."""

    type: Literal["substring"] = "substring"
    index: NonNegativeInt
    length: PositiveInt | None = None


class RegexExtractionFn(WireModel):
    """The group ``index`` of the first match of ``expr``; non-matching values pass unchanged unless
    ``replaceMissingValue``, in which case they become ``replaceMissingValueWith`` (null by default)."""

    type: Literal["regex"] = "regex"
    expr: RegexPattern
    index: NonNegativeInt = 1
    replace_missing_value: Bool = False
    replace_missing_value_with: Str | None = None


class PartialExtractionFn(WireModel):
    """The value when ``expr`` finds a match in it, else null."""

    type: Literal["partial"] = "partial"
    expr: RegexPattern


class SearchQueryExtractionFn(WireModel):
    """The value when the search ``query`` matches it, else null."""

    type: Literal["searchQuery"] = "searchQuery"
    query: SearchQuerySpec


class StrlenExtractionFn(WireModel):
    """The length of the value in UTF-16 code units; null counts as 0."""

    type: Literal["strlen"] = "strlen"


class UpperExtractionFn(WireModel):
    """The value in upper case (``locale`` as an IETF language tag)."""

    type: Literal["upper"] = "upper"
    locale: Str | None = None


class LowerExtractionFn(WireModel):
    """The value in lower case (``locale`` as an IETF language tag)."""

    type: Literal["lower"] = "lower"
    locale: Str | None = None


class IdentityExtractionFn(WireModel):
    """The value unchanged."""

    type: Literal["identity"] = "identity"


class LookupExtractionFn(LookupOptions):
    """Maps values through an inline ``lookup`` table."""

    type: Literal["lookup"] = "lookup"
    lookup: InlineLookup


class RegisteredLookupExtractionFn(LookupOptions):
    """Maps values through the cluster-wide lookup named ``lookup``."""

    type: Literal["registeredLookup"] = "registeredLookup"
    lookup: NonEmptyStr


class CascadeExtractionFn(WireModel):
    """Applies ``extractionFns`` in order."""

    type: Literal["cascade"] = "cascade"
    extraction_fns: tuple[ExtractionFn, ...]

    @field_validator("extraction_fns")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise invalid("must not be empty")
        return value


class StringFormatExtractionFn(WireModel):
    """``format % value`` (a sprintf pattern); ``nullHandling`` says what a null value becomes."""

    type: Literal["stringFormat"] = "stringFormat"
    format: Str
    null_handling: Literal["nullString", "emptyString", "returnNull"] = "nullString"


class BucketExtractionFn(WireModel):
    """Numbers to the start of their bucket: ``floor((x - offset) / size) * size + offset``."""

    type: Literal["bucket"] = "bucket"
    size: Float = 1.0
    offset: Float = 0.0

    @field_validator("size")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise invalid("must be greater than 0")
        return value


ExtractionFn = Annotated[
    TimeFormatExtractionFn
    | TimeParseExtractionFn
    | SubstringExtractionFn
    | RegexExtractionFn
    | PartialExtractionFn
    | SearchQueryExtractionFn
    | StrlenExtractionFn
    | UpperExtractionFn
    | LowerExtractionFn
    | IdentityExtractionFn
    | LookupExtractionFn
    | RegisteredLookupExtractionFn
    | CascadeExtractionFn
    | StringFormatExtractionFn
    | BucketExtractionFn,
    TaggedUnion("extractionFn", unsupported={"javascript": _JAVASCRIPT}),
]

CascadeExtractionFn.model_rebuild()
