"""Filter wire models: Druid's documented examples parse, round-trip, and bad input names its path."""

from __future__ import annotations

from typing import Any

import pytest

from grove.common.intervals import Interval
from grove.common.models import parse_as
from grove.errors import InvalidInput, Unsupported
from grove.query.spec import filters as F
from grove.query.spec.dimensions import DefaultDimensionSpec
from grove.query.spec.extraction import (
    ContainsSearchQuerySpec,
    FragmentSearchQuerySpec,
    InsensitiveContainsSearchQuerySpec,
    LookupExtractionFn,
    RegexSearchQuerySpec,
)

# Examples from Druid's filter documentation, one per filter type.
DOC_EXAMPLES: list[tuple[dict[str, Any], type]] = [
    ({"type": "selector", "dimension": "someColumn", "value": "hello"}, F.SelectorFilter),
    ({"type": "selector", "dimension": "someColumn", "value": None}, F.SelectorFilter),
    (
        {"type": "equals", "column": "someColumn", "matchValueType": "STRING", "matchValue": "hello"},
        F.EqualityFilter,
    ),
    (
        {"type": "equals", "column": "someNumericColumn", "matchValueType": "DOUBLE", "matchValue": 1.23},
        F.EqualityFilter,
    ),
    (
        {
            "type": "equals",
            "column": "someArrayColumn",
            "matchValueType": "ARRAY<LONG>",
            "matchValue": [1, 2, 3],
        },
        F.EqualityFilter,
    ),
    ({"type": "null", "column": "someColumn"}, F.NullFilter),
    (
        {
            "type": "columnComparison",
            "dimensions": [
                "someColumn",
                {"type": "default", "dimension": "someLongColumn", "outputType": "LONG"},
            ],
        },
        F.ColumnComparisonFilter,
    ),
    (
        {
            "type": "and",
            "fields": [
                {"type": "equals", "column": "someColumn", "matchValue": "a", "matchValueType": "STRING"},
                {"type": "equals", "column": "otherColumn", "matchValue": 1234, "matchValueType": "LONG"},
                {"type": "null", "column": "anotherColumn"},
            ],
        },
        F.AndFilter,
    ),
    (
        {
            "type": "or",
            "fields": [
                {"type": "equals", "column": "someColumn", "matchValue": "a", "matchValueType": "STRING"},
                {"type": "null", "column": "anotherColumn"},
            ],
        },
        F.OrFilter,
    ),
    ({"type": "not", "field": {"type": "null", "column": "someColumn"}}, F.NotFilter),
    ({"type": "in", "dimension": "outlaw", "values": ["Good", "Bad", "Ugly"]}, F.InFilter),
    (
        {"type": "bound", "dimension": "age", "lower": "21", "upper": "31", "ordering": "numeric"},
        F.BoundFilter,
    ),
    ({"type": "bound", "dimension": "name", "lower": "foo", "upper": "hoo"}, F.BoundFilter),
    (
        {
            "type": "bound",
            "dimension": "age",
            "lower": "21",
            "lowerStrict": True,
            "upper": "31",
            "upperStrict": True,
            "ordering": "numeric",
        },
        F.BoundFilter,
    ),
    ({"type": "range", "column": "age", "matchValueType": "LONG", "lower": 21, "upper": 31}, F.RangeFilter),
    (
        {
            "type": "range",
            "column": "name",
            "matchValueType": "ARRAY<STRING>",
            "lower": ["a", "b", "c"],
            "lowerOpen": True,
            "upper": ["d", "e", "f"],
            "upperOpen": True,
        },
        F.RangeFilter,
    ),
    ({"type": "like", "dimension": "last_name", "pattern": "D%"}, F.LikeFilter),
    ({"type": "regex", "dimension": "someColumn", "pattern": "^50.*"}, F.RegexFilter),
    (
        {
            "type": "arrayContainsElement",
            "column": "someArrayColumn",
            "elementMatchValueType": "STRING",
            "elementMatchValue": "hello",
        },
        F.ArrayContainsElementFilter,
    ),
    (
        {
            "type": "interval",
            "dimension": "__time",
            "intervals": [
                "2014-10-01T00:00:00.000Z/2014-10-07T00:00:00.000Z",
                "2014-11-15T00:00:00.000Z/2014-11-16T00:00:00.000Z",
            ],
        },
        F.IntervalFilter,
    ),
    ({"type": "true"}, F.TrueFilter),
    ({"type": "false"}, F.FalseFilter),
    (
        {"type": "search", "dimension": "product", "query": {"type": "insensitive_contains", "value": "foo"}},
        F.SearchFilter,
    ),
    ({"type": "expression", "expression": "((product_type == 42) && (!is_deleted))"}, F.ExpressionFilter),
    (
        {
            "type": "extraction",
            "dimension": "product",
            "value": "bar_1",
            "extractionFn": {
                "type": "lookup",
                "lookup": {
                    "type": "map",
                    "map": {"product_1": "bar_1", "product_5": "bar_1", "product_3": "bar_1"},
                },
            },
        },
        F.ExtractionFilter,
    ),
    (
        {
            "type": "selector",
            "dimension": "product",
            "value": "bar_1",
            "extractionFn": {
                "type": "lookup",
                "lookup": {
                    "type": "map",
                    "map": {"product_1": "bar_1", "product_5": "bar_1", "product_3": "bar_1"},
                },
            },
        },
        F.SelectorFilter,
    ),
]


@pytest.mark.parametrize(("data", "cls"), DOC_EXAMPLES)
def test_documented_examples_parse_and_round_trip(data: dict[str, Any], cls: Any) -> None:
    f = parse_as(F.Filter, data, "filter")
    assert type(f) is cls
    assert f.type == data["type"]
    assert parse_as(F.Filter, f.to_json()) == f
    assert f.to_json()["type"] == data["type"]


def test_selector_values() -> None:
    f = parse_as(F.Filter, {"type": "selector", "dimension": "d", "value": 10.1})
    assert f.value == "10.1"
    f = parse_as(F.Filter, {"type": "selector", "dimension": "d", "value": 3})
    assert f.value == "3"
    f = parse_as(F.Filter, {"type": "selector", "dimension": "d"})
    assert f.value is None and f.extraction_fn is None
    f = parse_as(F.Filter, DOC_EXAMPLES[-1][0])
    assert isinstance(f.extraction_fn, LookupExtractionFn)
    assert f.extraction_fn.lookup.map["product_3"] == "bar_1"


def test_in_filter_keeps_nulls() -> None:
    f = parse_as(F.Filter, {"type": "in", "dimension": "d", "values": ["a", None, 5]})
    assert f.values == ("a", None, "5")
    assert f.to_json()["values"] == ["a", None, "5"]
    assert parse_as(F.Filter, {"type": "in", "dimension": "d", "values": []}).values == ()


def test_in_filter_of_only_strings_and_nulls_is_taken_as_it_is() -> None:
    values = [f"v{i}" for i in range(10_000)] + [None]
    f = parse_as(F.Filter, {"type": "in", "dimension": "d", "values": values})
    assert isinstance(f, F.InFilter)
    assert f.values == tuple(values)
    assert f.matches_null
    assert f.strings == tuple(values[:-1])
    assert f.string_array.to_pylist() == values[:-1]
    assert f == parse_as(F.Filter, {"type": "in", "dimension": "d", "values": values})
    g = parse_as(F.Filter, {"type": "in", "dimension": "d", "values": ("a", "b")})
    assert isinstance(g, F.InFilter)
    assert g.values == g.strings == ("a", "b")
    assert not g.matches_null


def test_bound_ordering_forms() -> None:
    for ordering in ("numeric", "NUMERIC", {"type": "numeric"}):
        f = parse_as(F.Filter, {"type": "bound", "dimension": "d", "lower": 1, "ordering": ordering})
        assert f.ordering == "numeric"
        assert f.lower == "1"
    f = parse_as(F.Filter, {"type": "bound", "dimension": "d", "upper": "z"})
    assert f.ordering == "lexicographic"
    assert (f.lower_strict, f.upper_strict) == (False, False)


def test_interval_filter_parses_intervals() -> None:
    f = parse_as(F.Filter, DOC_EXAMPLES[19][0])
    assert f.intervals[0] == Interval.parse("2014-10-01/2014-10-07")
    assert f.to_json()["intervals"][1] == "2014-11-15T00:00:00.000Z/2014-11-16T00:00:00.000Z"


def test_search_query_specs() -> None:
    cases = [
        ({"type": "contains", "value": "a", "caseSensitive": True}, ContainsSearchQuerySpec),
        ({"type": "insensitive_contains", "value": "a"}, InsensitiveContainsSearchQuerySpec),
        ({"type": "fragment", "values": ["a", "b"]}, FragmentSearchQuerySpec),
        ({"type": "regex", "pattern": "a.*"}, RegexSearchQuerySpec),
    ]
    for query, cls in cases:
        f = parse_as(F.Filter, {"type": "search", "dimension": "d", "query": query})
        assert type(f.query) is cls
    contains = parse_as(
        F.Filter, {"type": "search", "dimension": "d", "query": {"type": "contains", "value": "x"}}
    )
    assert contains.query.case_sensitive is False


def test_column_comparison_normalises_names() -> None:
    f = parse_as(F.Filter, DOC_EXAMPLES[6][0])
    assert f.dimensions[0] == DefaultDimensionSpec(dimension="someColumn", output_name="someColumn")
    assert f.dimensions[1].output_type == "LONG"


def test_match_value_type_is_normalised() -> None:
    f = parse_as(F.Filter, {"type": "equals", "column": "c", "matchValueType": "long", "matchValue": 1})
    assert f.match_value_type == "LONG"


def test_deeply_nested_filters() -> None:
    leaf: dict[str, Any] = {"type": "selector", "dimension": "d", "value": "x"}
    data = leaf
    for i in range(30):
        data = (
            {"type": "not", "field": data} if i % 2 else {"type": "and", "fields": [data, {"type": "true"}]}
        )
    f = parse_as(F.Filter, data)
    assert parse_as(F.Filter, f.to_json()) == f
    assert f.required_columns() == {"d"}


def test_required_columns() -> None:
    f = parse_as(
        F.Filter,
        {
            "type": "or",
            "fields": [
                {"type": "selector", "dimension": "a", "value": "1"},
                {
                    "type": "not",
                    "field": {"type": "range", "column": "b", "matchValueType": "LONG", "lower": 1},
                },
                {"type": "columnComparison", "dimensions": ["c", "d"]},
                {"type": "expression", "expression": "e > 1"},
                {"type": "false"},
            ],
        },
    )
    assert f.required_columns() == {"a", "b", "c", "d"}


def test_unknown_fields_are_ignored() -> None:
    f = parse_as(
        F.Filter, {"type": "selector", "dimension": "d", "value": "v", "filterTuning": {"useBitmapIndex": 1}}
    )
    assert f == F.SelectorFilter(dimension="d", value="v")


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        (
            {"type": "selectr", "dimension": "d"},
            "Unknown filter type [selectr] at filter.type",
            "filter.type",
        ),
        ({"dimension": "d"}, "Missing required field [type] at filter.type", "filter.type"),
        ({"type": "selector"}, "Missing required field [dimension] at filter.dimension", "filter.dimension"),
        (
            {
                "type": "and",
                "fields": [{"type": "true"}, {"type": "or", "fields": [{"type": "nul", "column": "c"}]}],
            },
            "Unknown filter type [nul] at filter.fields[1].fields[0].type",
            "filter.fields[1].fields[0].type",
        ),
        (
            {"type": "not", "field": {"type": "in", "dimension": "d"}},
            "Missing required field [values] at filter.field.values",
            "filter.field.values",
        ),
        ({"type": "and", "fields": []}, "Invalid value at filter.fields: must not be empty", "filter.fields"),
        (
            {"type": "or", "fields": {"type": "true"}},
            "Invalid value at filter.fields: expected a list",
            "filter.fields",
        ),
        (
            {"type": "not", "field": [{"type": "true"}]},
            "Invalid value at filter.field: expected an object",
            "filter.field",
        ),
        (
            {"type": "regex", "dimension": "d", "pattern": "a(b"},
            "Invalid regular expression at filter.pattern: missing ), unterminated subpattern at position 1",
            "filter.pattern",
        ),
        (
            {"type": "bound", "dimension": "d"},
            "Set at least one of [lower] and [upper] at filter",
            "filter",
        ),
        (
            {"type": "bound", "dimension": "d", "lower": "a", "ordering": "alphabetical"},
            "Invalid value [alphabetical] at filter.ordering: expected 'lexicographic', 'alphanumeric', "
            "'numeric', 'strlen' or 'version'",
            "filter.ordering",
        ),
        (
            {"type": "bound", "dimension": "d", "lower": "a", "ordering": {"kind": "numeric"}},
            "Missing required field [type] at filter.ordering.type",
            "filter.ordering.type",
        ),
        (
            {"type": "bound", "dimension": "d", "lower": "a", "lowerStrict": "yes"},
            "Invalid value at filter.lowerStrict: expected a boolean",
            "filter.lowerStrict",
        ),
        (
            {"type": "range", "column": "c", "matchValueType": "LONG"},
            "Set at least one of [lower] and [upper] at filter",
            "filter",
        ),
        (
            {"type": "range", "column": "c", "lower": 1},
            "Missing required field [matchValueType] at filter.matchValueType",
            "filter.matchValueType",
        ),
        (
            {"type": "equals", "column": "c", "matchValueType": "LONG", "matchValue": None},
            "Missing required field [matchValue] at filter.matchValue",
            "filter.matchValue",
        ),
        (
            {"type": "equals", "column": "c", "matchValueType": "INTEGER", "matchValue": 1},
            "Unknown column type [INTEGER] at filter.matchValueType: expected STRING, LONG, FLOAT, DOUBLE, "
            "ARRAY<...> or COMPLEX<...>",
            "filter.matchValueType",
        ),
        (
            {"type": "like", "dimension": "d", "pattern": "a%", "escape": "ab"},
            "Invalid value at filter.escape: must be a single character",
            "filter.escape",
        ),
        (
            {"type": "in", "dimension": "d", "values": ["a", {"b": 1}]},
            "Invalid value at filter.values[1]: expected a string",
            "filter.values[1]",
        ),
        (
            {"type": "interval", "dimension": "__time", "intervals": []},
            "Invalid value at filter.intervals: must not be empty",
            "filter.intervals",
        ),
        (
            {"type": "interval", "dimension": "__time", "intervals": ["2014-10-01/2014-10-07", "soon"]},
            "Invalid interval [soon] at filter.intervals[1]",
            "filter.intervals[1]",
        ),
        (
            {"type": "search", "dimension": "d", "query": {"type": "startsWith", "value": "x"}},
            "Unknown searchQuerySpec type [startsWith] at filter.query.type",
            "filter.query.type",
        ),
        (
            {"type": "search", "dimension": "d", "query": {"type": "fragment"}},
            "Missing required field [values] at filter.query.values",
            "filter.query.values",
        ),
        (
            {"type": "columnComparison", "dimensions": ["a"]},
            "Invalid value at filter.dimensions: needs at least 2 dimensions",
            "filter.dimensions",
        ),
        (
            {"type": "columnComparison", "dimensions": ["a", {"type": "defualt", "dimension": "b"}]},
            "Unknown dimensionSpec type [defualt] at filter.dimensions[1].type",
            "filter.dimensions[1].type",
        ),
        (
            {"type": "selector", "dimension": "d", "value": "x", "extractionFn": {"type": "substring"}},
            "Missing required field [index] at filter.extractionFn.index",
            "filter.extractionFn.index",
        ),
        (
            {"type": "selector", "dimension": "d", "value": "x", "extractionFn": {"type": "upperCase"}},
            "Unknown extractionFn type [upperCase] at filter.extractionFn.type",
            "filter.extractionFn.type",
        ),
        (
            {"type": "extraction", "dimension": "d", "value": "x"},
            "Missing required field [extractionFn] at filter.extractionFn",
            "filter.extractionFn",
        ),
        (
            {"type": "expression", "expression": ""},
            "Invalid value at filter.expression: must not be empty",
            "filter.expression",
        ),
        ("page", "Invalid value at filter: expected an object", "filter"),
    ],
)
def test_bad_filters(data: Any, message: str, path: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_as(F.Filter, data, "filter")
    assert type(info.value) is InvalidInput
    assert info.value.message == message
    assert info.value.path == path


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"type": "javascript", "dimension": "d", "function": "function(x) { return true }"}, "filter.type"),
        ({"type": "spatial", "dimension": "d", "bound": {}}, "filter.type"),
        (
            {"type": "selector", "dimension": "d", "extractionFn": {"type": "javascript", "function": "f"}},
            "filter.extractionFn.type",
        ),
    ],
)
def test_unsupported_filters(data: Any, path: str) -> None:
    with pytest.raises(Unsupported) as info:
        parse_as(F.Filter, data, "filter")
    assert info.value.path == path
    assert info.value.message.startswith("Unsupported ")
