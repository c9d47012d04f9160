"""Dimension specs, the extraction functions they use, and virtual columns.

Extraction functions and virtual columns are tested here too: Druid documents them on the same page
as dimension specs, and they have no behaviour of their own beyond validation.
"""

from __future__ import annotations

from typing import Any

import pytest

from grove.common.granularity import Granularity
from grove.common.models import parse_as
from grove.errors import InvalidInput, Unsupported
from grove.query.spec import extraction as X
from grove.query.spec.dimensions import (
    DefaultDimensionSpec,
    DimensionSpec,
    ExtractionDimensionSpec,
    ListFilteredDimensionSpec,
    LookupDimensionSpec,
    PrefixFilteredDimensionSpec,
    RegexFilteredDimensionSpec,
)
from grove.query.spec.virtual_columns import ExpressionVirtualColumn, VirtualColumn


def same_message(actual: str, expected: str) -> bool:
    """Expected messages ending in ``...`` pin only their start: the rest is worded by another module."""
    assert "\x00" not in actual
    return actual.startswith(expected[:-3]) if expected.endswith("...") else actual == expected


def bad(tp: Any, data: Any, prefix: str = "dimensions[0]") -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        parse_as(tp, data, prefix)
    return info.value


# --- dimension specs --------------------------------------------------------------------------------


def test_plain_string_is_a_default_spec() -> None:
    spec = parse_as(DimensionSpec, "page")
    assert spec == DefaultDimensionSpec(dimension="page", output_name="page")
    assert (spec.dimension, spec.output_name, spec.output_type) == ("page", "page", "STRING")
    assert spec.to_json() == {
        "type": "default",
        "dimension": "page",
        "outputName": "page",
        "outputType": "STRING",
    }


@pytest.mark.parametrize(
    ("data", "cls", "dimension", "output_name"),
    [
        (
            {"type": "default", "dimension": "page", "outputName": "p", "outputType": "STRING"},
            DefaultDimensionSpec,
            "page",
            "p",
        ),
        (
            {"type": "default", "dimension": "added", "outputType": "long"},
            DefaultDimensionSpec,
            "added",
            "added",
        ),
        (
            {
                "type": "extraction",
                "dimension": "__time",
                "outputName": "dayOfWeek",
                "extractionFn": {
                    "type": "timeFormat",
                    "format": "EEEE",
                    "timeZone": "America/Montreal",
                    "locale": "fr",
                },
            },
            ExtractionDimensionSpec,
            "__time",
            "dayOfWeek",
        ),
        (
            {"type": "listFiltered", "delegate": "tags", "values": ["t1", "t3"], "isWhitelist": False},
            ListFilteredDimensionSpec,
            "tags",
            "tags",
        ),
        (
            {
                "type": "regexFiltered",
                "delegate": {"type": "default", "dimension": "tags", "outputName": "t"},
                "pattern": "^t[13]$",
            },
            RegexFilteredDimensionSpec,
            "tags",
            "t",
        ),
        (
            {"type": "prefixFiltered", "delegate": "tags", "prefix": "t"},
            PrefixFilteredDimensionSpec,
            "tags",
            "tags",
        ),
        (
            {
                "type": "lookup",
                "dimension": "dimensionName",
                "outputName": "dimensionOutputName",
                "replaceMissingValueWith": "missing_value",
                "retainMissingValue": False,
                "lookup": {"type": "map", "map": {"key": "value"}, "isOneToOne": False},
            },
            LookupDimensionSpec,
            "dimensionName",
            "dimensionOutputName",
        ),
        (
            {
                "type": "lookup",
                "dimension": "dimensionName",
                "outputName": "dimensionOutputName",
                "name": "lookupName",
            },
            LookupDimensionSpec,
            "dimensionName",
            "dimensionOutputName",
        ),
    ],
)
def test_documented_dimension_specs(data: dict[str, Any], cls: Any, dimension: str, output_name: str) -> None:
    spec = parse_as(DimensionSpec, data)
    assert type(spec) is cls
    assert (spec.dimension, spec.output_name) == (dimension, output_name)
    assert parse_as(DimensionSpec, spec.to_json()) == spec


def test_filtered_specs_delegate() -> None:
    spec = parse_as(
        DimensionSpec,
        {
            "type": "listFiltered",
            "delegate": {"type": "default", "dimension": "n", "outputType": "LONG"},
            "values": [1, None],
        },
    )
    assert spec.values == ("1", None)
    assert spec.is_whitelist is True
    assert spec.output_type == "LONG"


def test_lookup_spec_details() -> None:
    spec = parse_as(
        DimensionSpec,
        {
            "type": "lookup",
            "dimension": "d",
            "lookup": {"type": "map", "map": {"a": "b"}},
            "replaceMissingValueWith": "",
        },
    )
    assert spec.replace_missing_value_with is None  # "" means null in Druid
    assert spec.optimize is True
    assert spec.output_name == "d"
    assert spec.output_type == "STRING"


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        ("", "Invalid value at dimensions[0]: must not be empty", "dimensions[0]"),
        (5, "Invalid value at dimensions[0]: expected an object or a string", "dimensions[0]"),
        (
            {"type": "dflt", "dimension": "d"},
            "Unknown dimensionSpec type [dflt] at dimensions[0].type",
            "dimensions[0].type",
        ),
        ({"dimension": "d"}, "Missing required field [type] at dimensions[0].type", "dimensions[0].type"),
        (
            {"type": "default"},
            "Missing required field [dimension] at dimensions[0].dimension",
            "dimensions[0].dimension",
        ),
        (
            {"type": "default", "dimension": "d", "outputType": "TEXT"},
            "Invalid value [TEXT] at dimensions[0].outputType: expected 'STRING', 'LONG', 'FLOAT' or 'DOUBLE'",
            "dimensions[0].outputType",
        ),
        (
            {"type": "extraction", "dimension": "d", "extractionFn": {"type": "regex"}},
            "Missing required field [expr] at dimensions[0].extractionFn.expr",
            "dimensions[0].extractionFn.expr",
        ),
        (
            {
                "type": "listFiltered",
                "delegate": {"type": "prefixFiltered", "delegate": {"type": "x"}, "prefix": "a"},
                "values": [],
            },
            "Unknown dimensionSpec type [x] at dimensions[0].delegate.delegate.type",
            "dimensions[0].delegate.delegate.type",
        ),
        (
            {"type": "regexFiltered", "delegate": "d", "pattern": "[a-"},
            "Invalid regular expression at dimensions[0].pattern: unterminated character set at position 0",
            "dimensions[0].pattern",
        ),
        (
            {"type": "lookup", "dimension": "d"},
            "Set exactly one of [name] and [lookup] at dimensions[0]",
            "dimensions[0]",
        ),
        (
            {"type": "lookup", "dimension": "d", "name": "n", "lookup": {"type": "map", "map": {}}},
            "Set exactly one of [name] and [lookup] at dimensions[0].lookup",
            "dimensions[0].lookup",
        ),
        (
            {
                "type": "lookup",
                "dimension": "d",
                "name": "n",
                "retainMissingValue": True,
                "replaceMissingValueWith": "x",
            },
            "Cannot set both [retainMissingValue] and [replaceMissingValueWith] at dimensions[0].replaceMissingValueWith",
            "dimensions[0].replaceMissingValueWith",
        ),
        (
            {"type": "lookup", "dimension": "d", "lookup": {"type": "cachedNamespace"}},
            "Unsupported lookup type [cachedNamespace] at dimensions[0].lookup.type: only inline map lookups are supported",
            "dimensions[0].lookup.type",
        ),
        (
            {"type": "lookup", "dimension": "d", "lookup": {"type": "map", "map": {"a": ["b"]}}},
            "Invalid value at dimensions[0].lookup.map.a: expected a string",
            "dimensions[0].lookup.map.a",
        ),
    ],
)
def test_bad_dimension_specs(data: Any, message: str, path: str) -> None:
    err = bad(DimensionSpec, data)
    assert err.message == message
    assert err.path == path


# --- extraction functions ---------------------------------------------------------------------------

EXTRACTION_EXAMPLES: list[tuple[dict[str, Any], type]] = [
    (
        {
            "type": "regex",
            "expr": "(\\w\\w\\w).*",
            "replaceMissingValue": True,
            "replaceMissingValueWith": "foobar",
        },
        X.RegexExtractionFn,
    ),
    ({"type": "partial", "expr": "^a"}, X.PartialExtractionFn),
    ({"type": "searchQuery", "query": {"type": "fragment", "values": ["a", "b"]}}, X.SearchQueryExtractionFn),
    ({"type": "substring", "index": 1, "length": 4}, X.SubstringExtractionFn),
    ({"type": "substring", "index": 3}, X.SubstringExtractionFn),
    ({"type": "strlen"}, X.StrlenExtractionFn),
    (
        {
            "type": "timeFormat",
            "format": "EEEE",
            "timeZone": "America/Montreal",
            "locale": "fr",
            "granularity": "day",
            "asMillis": False,
        },
        X.TimeFormatExtractionFn,
    ),
    (
        {"type": "time", "timeFormat": "MM/dd/yyyy", "resultFormat": "yyyy-MM-dd", "joda": True},
        X.TimeParseExtractionFn,
    ),
    (
        {"type": "registeredLookup", "lookup": "some_lookup_name", "retainMissingValue": True},
        X.RegisteredLookupExtractionFn,
    ),
    (
        {
            "type": "lookup",
            "lookup": {"type": "map", "map": {"foo": "bar", "baz": "bat"}},
            "retainMissingValue": True,
            "injective": True,
        },
        X.LookupExtractionFn,
    ),
    (
        {
            "type": "lookup",
            "lookup": {"type": "map", "map": {"foo": "bar", "baz": "bat"}},
            "retainMissingValue": False,
            "injective": False,
            "replaceMissingValueWith": "MISSING",
        },
        X.LookupExtractionFn,
    ),
    (
        {
            "type": "cascade",
            "extractionFns": [
                {
                    "type": "regex",
                    "expr": "/([^/]+)/",
                    "replaceMissingValue": False,
                    "replaceMissingValueWith": None,
                },
                {"type": "substring", "index": 0, "length": 7},
            ],
        },
        X.CascadeExtractionFn,
    ),
    ({"type": "stringFormat", "format": "[%s]", "nullHandling": "emptyString"}, X.StringFormatExtractionFn),
    ({"type": "upper", "locale": "fr"}, X.UpperExtractionFn),
    ({"type": "lower"}, X.LowerExtractionFn),
    ({"type": "bucket", "size": 5, "offset": 2}, X.BucketExtractionFn),
    ({"type": "identity"}, X.IdentityExtractionFn),
]


@pytest.mark.parametrize(("data", "cls"), EXTRACTION_EXAMPLES)
def test_documented_extraction_fns(data: dict[str, Any], cls: Any) -> None:
    fn = parse_as(X.ExtractionFn, data)
    assert type(fn) is cls
    assert parse_as(X.ExtractionFn, fn.to_json()) == fn


def test_extraction_defaults() -> None:
    regex = parse_as(X.ExtractionFn, {"type": "regex", "expr": "(a)"})
    assert (regex.index, regex.replace_missing_value, regex.replace_missing_value_with) == (1, False, None)
    assert parse_as(X.ExtractionFn, {"type": "stringFormat", "format": "%s"}).null_handling == "nullString"
    bucket = parse_as(X.ExtractionFn, {"type": "bucket"})
    assert (bucket.size, bucket.offset) == (1.0, 0.0)
    time = parse_as(X.ExtractionFn, {"type": "timeFormat", "granularity": "hour"})
    assert time.granularity == Granularity.parse("hour")
    assert time.format is None and time.as_millis is False
    assert time.to_json() == {"type": "timeFormat", "granularity": "hour", "asMillis": False}
    lookup = parse_as(X.ExtractionFn, {"type": "registeredLookup", "lookup": "l"})
    assert (lookup.retain_missing_value, lookup.injective, lookup.optimize) == (False, None, True)


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        ({"type": "javascript", "function": "function(str) { return str; }"}, None, "fn.type"),
        ({"type": "substring", "index": -1}, "Invalid value at fn.index: must be at least 0", "fn.index"),
        (
            {"type": "substring", "index": 0, "length": 0},
            "Invalid value at fn.length: must be greater than 0",
            "fn.length",
        ),
        ({"type": "substring", "index": "1"}, "Invalid value at fn.index: expected an integer", "fn.index"),
        (
            {"type": "regex", "expr": "(a"},
            "Invalid regular expression at fn.expr: missing ), unterminated subpattern at position 0",
            "fn.expr",
        ),
        (
            {"type": "timeFormat", "timeZone": "Nowhere/Town"},
            "Unknown time zone [Nowhere/Town] at fn.timeZone",
            "fn.timeZone",
        ),
        (
            {"type": "timeFormat", "granularity": "fortnight"},
            "Unknown granularity [fortnight] at fn.granularity...",
            "fn.granularity",
        ),
        (
            {"type": "cascade", "extractionFns": []},
            "Invalid value at fn.extractionFns: must not be empty",
            "fn.extractionFns",
        ),
        (
            {
                "type": "cascade",
                "extractionFns": [
                    {"type": "strlen"},
                    {"type": "cascade", "extractionFns": [{"type": "nope"}]},
                ],
            },
            "Unknown extractionFn type [nope] at fn.extractionFns[1].extractionFns[0].type",
            "fn.extractionFns[1].extractionFns[0].type",
        ),
        (
            {"type": "stringFormat", "format": "%s", "nullHandling": "skip"},
            "Invalid value [skip] at fn.nullHandling: expected 'nullString', 'emptyString' or 'returnNull'",
            "fn.nullHandling",
        ),
        ({"type": "bucket", "size": 0}, "Invalid value at fn.size: must be greater than 0", "fn.size"),
        ({"type": "lookup", "lookup": "name"}, "Invalid value at fn.lookup: expected an object", "fn.lookup"),
        ({"type": "registeredLookup"}, "Missing required field [lookup] at fn.lookup", "fn.lookup"),
        (
            {
                "type": "registeredLookup",
                "lookup": "l",
                "retainMissingValue": True,
                "replaceMissingValueWith": "x",
            },
            "Cannot set both [retainMissingValue] and [replaceMissingValueWith] at fn.replaceMissingValueWith",
            "fn.replaceMissingValueWith",
        ),
        (
            {"type": "searchQuery", "query": {"type": "contains"}},
            "Missing required field [value] at fn.query.value",
            "fn.query.value",
        ),
    ],
)
def test_bad_extraction_fns(data: Any, message: str | None, path: str) -> None:
    err = bad(X.ExtractionFn, data, "fn")
    if message is None:
        assert isinstance(err, Unsupported)
        assert err.message == (
            "Unsupported extractionFn type [javascript] at fn.type: JavaScript functions are not supported by grove"
        )
    else:
        assert same_message(err.message, message)
    assert err.path == path


# --- virtual columns --------------------------------------------------------------------------------


def test_expression_virtual_column() -> None:
    vc = parse_as(
        VirtualColumn,
        {
            "type": "expression",
            "name": "fooPage",
            "expression": "concat('foo' + page)",
            "outputType": "STRING",
        },
    )
    assert vc == ExpressionVirtualColumn(
        name="fooPage", expression="concat('foo' + page)", output_type="STRING"
    )
    assert parse_as(VirtualColumn, vc.to_json()) == vc
    inferred = parse_as(VirtualColumn, {"type": "expression", "name": "x", "expression": "a * 3"})
    assert inferred.output_type is None
    assert (
        parse_as(
            VirtualColumn, {"type": "expression", "name": "x", "expression": "a", "outputType": "long"}
        ).output_type
        == "LONG"
    )


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        (
            {"type": "expresion", "name": "x", "expression": "1"},
            "Unknown virtualColumn type [expresion] at virtualColumns[0].type",
            "virtualColumns[0].type",
        ),
        (
            {"type": "expression", "expression": "1"},
            "Missing required field [name] at virtualColumns[0].name",
            "virtualColumns[0].name",
        ),
        (
            {"type": "expression", "name": "x", "expression": "1", "outputType": "NUMBER"},
            "Unknown column type [NUMBER] at virtualColumns[0].outputType: expected STRING, LONG, FLOAT, DOUBLE, "
            "ARRAY<...> or COMPLEX<...>",
            "virtualColumns[0].outputType",
        ),
    ],
)
def test_bad_virtual_columns(data: Any, message: str, path: str) -> None:
    err = bad(VirtualColumn, data, "virtualColumns[0]")
    assert err.message == message
    assert err.path == path


def test_nested_field_virtual_column_is_unsupported() -> None:
    err = bad(
        VirtualColumn,
        {"type": "nested-field", "columnName": "n", "outputName": "o", "path": "$.x"},
        "virtualColumns[1]",
    )
    assert isinstance(err, Unsupported)
    assert err.path == "virtualColumns[1].type"
