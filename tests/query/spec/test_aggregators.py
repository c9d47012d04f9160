"""Aggregator wire models: documented examples, defaults, required_fields and exact error paths."""

from __future__ import annotations

from typing import Any

import pytest

from grove.common.models import parse_as
from grove.errors import InvalidInput, Unsupported
from grove.query.spec import aggregators as A
from grove.query.spec.dimensions import DefaultDimensionSpec, ExtractionDimensionSpec
from grove.query.spec.filters import SelectorFilter

DOC_EXAMPLES: list[tuple[dict[str, Any], type]] = [
    ({"type": "count", "name": "count"}, A.CountAggregator),
    ({"type": "longSum", "name": "sumLong", "fieldName": "aLong"}, A.NumericAggregator),
    ({"type": "doubleSum", "name": "sumDouble", "fieldName": "aDouble"}, A.NumericAggregator),
    ({"type": "floatSum", "name": "sumFloat", "fieldName": "aFloat"}, A.NumericAggregator),
    ({"type": "doubleMin", "name": "maxDouble", "fieldName": "aDouble"}, A.NumericAggregator),
    ({"type": "doubleMax", "name": "minDouble", "fieldName": "aDouble"}, A.NumericAggregator),
    ({"type": "floatMin", "name": "minFloat", "fieldName": "aFloat"}, A.NumericAggregator),
    ({"type": "floatMax", "name": "maxFloat", "fieldName": "aFloat"}, A.NumericAggregator),
    ({"type": "longMin", "name": "minLong", "fieldName": "aLong"}, A.NumericAggregator),
    ({"type": "longMax", "name": "maxLong", "fieldName": "aLong"}, A.NumericAggregator),
    ({"type": "longSum", "name": "x3", "expression": "x * 3"}, A.NumericAggregator),
    ({"type": "doubleFirst", "name": "firstDouble", "fieldName": "aDouble"}, A.FirstLastAggregator),
    (
        {"type": "doubleLast", "name": "lastDouble", "fieldName": "aDouble", "timeColumn": "longTime"},
        A.FirstLastAggregator,
    ),
    ({"type": "floatFirst", "name": "firstFloat", "fieldName": "aFloat"}, A.FirstLastAggregator),
    ({"type": "floatLast", "name": "lastFloat", "fieldName": "aFloat"}, A.FirstLastAggregator),
    ({"type": "longFirst", "name": "firstLong", "fieldName": "aLong"}, A.FirstLastAggregator),
    (
        {"type": "longLast", "name": "lastLong", "fieldName": "aLong", "timeColumn": "longTime"},
        A.FirstLastAggregator,
    ),
    (
        {
            "type": "stringFirst",
            "name": "firstString",
            "fieldName": "aString",
            "maxStringBytes": 2048,
            "timeColumn": "longTime",
        },
        A.FirstLastAggregator,
    ),
    ({"type": "stringLast", "name": "lastString", "fieldName": "aString"}, A.FirstLastAggregator),
    ({"type": "doubleAny", "name": "anyDouble", "fieldName": "aDouble"}, A.AnyAggregator),
    ({"type": "floatAny", "name": "anyFloat", "fieldName": "aFloat"}, A.AnyAggregator),
    ({"type": "longAny", "name": "anyLong", "fieldName": "aLong"}, A.AnyAggregator),
    (
        {"type": "stringAny", "name": "anyString", "fieldName": "aString", "maxStringBytes": 2048},
        A.AnyAggregator,
    ),
    (
        {
            "type": "filtered",
            "name": "filteredSumLong",
            "filter": {"type": "selector", "dimension": "someColumn", "value": "abcdef"},
            "aggregator": {"type": "longSum", "name": "sumLong", "fieldName": "aLong"},
        },
        A.FilteredAggregator,
    ),
    ({"type": "cardinality", "name": "distinct_pages", "fields": ["page"]}, A.CardinalityAggregator),
    (
        {
            "type": "cardinality",
            "name": "distinct_people",
            "fields": [
                {
                    "type": "extraction",
                    "dimension": "first_name",
                    "extractionFn": {"type": "substring", "index": 0, "length": 1},
                },
                {
                    "type": "extraction",
                    "dimension": "last_name",
                    "extractionFn": {"type": "substring", "index": 0, "length": 1},
                },
            ],
            "byRow": True,
            "round": True,
        },
        A.CardinalityAggregator,
    ),
    ({"type": "hyperUnique", "name": "unique_users", "fieldName": "uniques"}, A.HyperUniqueAggregator),
    (
        {
            "type": "HLLSketchBuild",
            "name": "u",
            "fieldName": "user",
            "lgK": 14,
            "tgtHllType": "HLL_8",
            "round": True,
        },
        A.HllSketchAggregator,
    ),
    ({"type": "HLLSketchMerge", "name": "u", "fieldName": "u_sketch"}, A.HllSketchAggregator),
    ({"type": "thetaSketch", "name": "user_id_sketch", "fieldName": "user_id"}, A.ThetaSketchAggregator),
    (
        {"type": "thetaSketch", "name": "s", "fieldName": "f", "isInputThetaSketch": False, "size": 16384},
        A.ThetaSketchAggregator,
    ),
]


@pytest.mark.parametrize(("data", "cls"), DOC_EXAMPLES)
def test_documented_examples_parse_and_round_trip(data: dict[str, Any], cls: Any) -> None:
    agg = parse_as(A.Aggregator, data, "aggregations[0]")
    assert type(agg) is cls
    assert agg.type == data["type"]
    assert agg.name
    assert parse_as(A.Aggregator, agg.to_json()) == agg
    assert isinstance(agg.required_fields(), set)


def test_op_and_value_type() -> None:
    def one(data: dict[str, Any]) -> Any:
        return parse_as(A.Aggregator, data)

    assert (one(DOC_EXAMPLES[1][0]).op, one(DOC_EXAMPLES[1][0]).value_type) == ("sum", "long")
    assert (one(DOC_EXAMPLES[4][0]).op, one(DOC_EXAMPLES[4][0]).value_type) == ("min", "double")
    assert (one(DOC_EXAMPLES[7][0]).op, one(DOC_EXAMPLES[7][0]).value_type) == ("max", "float")
    assert (one(DOC_EXAMPLES[18][0]).op, one(DOC_EXAMPLES[18][0]).value_type) == ("last", "string")
    assert (one(DOC_EXAMPLES[15][0]).op, one(DOC_EXAMPLES[15][0]).value_type) == ("first", "long")
    assert (one(DOC_EXAMPLES[22][0]).op, one(DOC_EXAMPLES[22][0]).value_type) == ("any", "string")


def test_defaults() -> None:
    first = parse_as(A.Aggregator, {"type": "stringFirst", "name": "f", "fieldName": "s"})
    assert (first.time_column, first.max_string_bytes) == ("__time", 1024)
    any_ = parse_as(A.Aggregator, {"type": "stringAny", "name": "a", "fieldName": "s"})
    assert (any_.max_string_bytes, any_.aggregate_multiple_values) == (1024, True)
    card = parse_as(A.Aggregator, {"type": "cardinality", "name": "c", "fields": ["a", "b"]})
    assert (card.by_row, card.round) == (False, False)
    assert card.fields == (
        DefaultDimensionSpec(dimension="a", output_name="a"),
        DefaultDimensionSpec(dimension="b", output_name="b"),
    )
    hu = parse_as(A.Aggregator, {"type": "hyperUnique", "name": "h", "fieldName": "u"})
    assert (hu.is_input_hyper_unique, hu.round) == (False, False)
    hll = parse_as(A.Aggregator, {"type": "HLLSketchBuild", "name": "h", "fieldName": "u"})
    assert (hll.lg_k, hll.tgt_hll_type, hll.round, hll.should_finalize) == (14, "HLL_4", False, True)
    theta = parse_as(A.Aggregator, {"type": "thetaSketch", "name": "t", "fieldName": "u"})
    assert (theta.size, theta.is_input_theta_sketch, theta.should_finalize) == (16384, False, True)


def test_druid_style_explicit_nulls() -> None:
    # Druid itself writes "expression": null in the specs it stores.
    agg = parse_as(A.Aggregator, {"type": "longSum", "name": "l", "fieldName": "l", "expression": None})
    assert agg.expression is None and agg.required_fields() == {"l"}


def test_filtered_aggregator_takes_inner_name() -> None:
    data = {
        "type": "filtered",
        "filter": {"type": "selector", "dimension": "product", "value": "A"},
        "aggregator": {"type": "thetaSketch", "name": "A_unique_users", "fieldName": "user_id_sketch"},
    }
    agg = parse_as(A.Aggregator, data)
    assert agg.name == "A_unique_users"
    assert isinstance(agg.filter, SelectorFilter)
    assert agg.required_fields() == {"user_id_sketch", "product"}
    named = parse_as(A.Aggregator, {**data, "name": "outer"})
    assert named.name == "outer" and named.aggregator.name == "A_unique_users"
    built = A.FilteredAggregator(
        aggregator=A.CountAggregator(name="rows"), filter=SelectorFilter(dimension="d", value="v")
    )
    assert built.name == "rows"


def test_required_fields() -> None:
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"type": "count", "name": "c"}, set()),
        ({"type": "doubleSum", "name": "s", "fieldName": "x"}, {"x"}),
        ({"type": "doubleSum", "name": "s", "expression": "x + y"}, set()),
        ({"type": "longLast", "name": "l", "fieldName": "x", "timeColumn": "t"}, {"x", "t"}),
        ({"type": "longFirst", "name": "l", "fieldName": "x"}, {"x", "__time"}),
        (
            {
                "type": "cardinality",
                "name": "c",
                "fields": ["a", {"type": "listFiltered", "delegate": "b", "values": []}],
            },
            {"a", "b"},
        ),
        (
            {
                "type": "filtered",
                "filter": {
                    "type": "and",
                    "fields": [
                        {"type": "null", "column": "n"},
                        {"type": "in", "dimension": "i", "values": []},
                    ],
                },
                "aggregator": {
                    "type": "filtered",
                    "filter": {"type": "true"},
                    "aggregator": {"type": "longSum", "name": "s", "fieldName": "f"},
                },
            },
            {"n", "i", "f"},
        ),
    ]
    for data, fields in cases:
        assert parse_as(A.Aggregator, data).required_fields() == fields


def test_cardinality_fields_keep_dimension_specs() -> None:
    agg = parse_as(A.Aggregator, DOC_EXAMPLES[25][0])
    assert all(isinstance(f, ExtractionDimensionSpec) for f in agg.fields)
    assert agg.required_fields() == {"first_name", "last_name"}


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        (
            {"type": "longSumm", "name": "x", "fieldName": "x"},
            "Unknown aggregator type [longSumm] at aggregations[2].type",
            "aggregations[2].type",
        ),
        ({"name": "x"}, "Missing required field [type] at aggregations[2].type", "aggregations[2].type"),
        ({"type": "count"}, "Missing required field [name] at aggregations[2].name", "aggregations[2].name"),
        (
            {"type": "count", "name": ""},
            "Invalid value at aggregations[2].name: must not be empty",
            "aggregations[2].name",
        ),
        (
            {"type": "count", "name": 7},
            "Invalid value at aggregations[2].name: expected a string",
            "aggregations[2].name",
        ),
        (
            {"type": "longSum", "name": "x"},
            "Missing required field [fieldName] at aggregations[2].fieldName",
            "aggregations[2].fieldName",
        ),
        (
            {"type": "longSum", "name": "x", "fieldName": "x", "expression": "x + 1"},
            "Set only one of [fieldName] and [expression] at aggregations[2].expression",
            "aggregations[2].expression",
        ),
        (
            {"type": "doubleFirst", "name": "x"},
            "Missing required field [fieldName] at aggregations[2].fieldName",
            "aggregations[2].fieldName",
        ),
        (
            {"type": "stringLast", "name": "x", "fieldName": "s", "maxStringBytes": "1024"},
            "Invalid value at aggregations[2].maxStringBytes: expected an integer",
            "aggregations[2].maxStringBytes",
        ),
        (
            {"type": "stringLast", "name": "x", "fieldName": "s", "maxStringBytes": 0},
            "Invalid value at aggregations[2].maxStringBytes: must be greater than 0",
            "aggregations[2].maxStringBytes",
        ),
        (
            {"type": "filtered", "aggregator": {"type": "count"}, "filter": {"type": "true"}},
            "Missing required field [name] at aggregations[2].name",
            "aggregations[2].name",
        ),
        (
            {"type": "filtered", "name": "f", "aggregator": {"type": "count", "name": "c"}},
            "Missing required field [filter] at aggregations[2].filter",
            "aggregations[2].filter",
        ),
        (
            {
                "type": "filtered",
                "name": "f",
                "aggregator": {"type": "count", "name": "c"},
                "filter": {"type": "slector"},
            },
            "Unknown filter type [slector] at aggregations[2].filter.type",
            "aggregations[2].filter.type",
        ),
        (
            {"type": "filtered", "filter": {"type": "true"}, "aggregator": {"type": "sum", "name": "c"}},
            "Unknown aggregator type [sum] at aggregations[2].aggregator.type",
            "aggregations[2].aggregator.type",
        ),
        (
            {"type": "cardinality", "name": "c", "fields": []},
            "Invalid value at aggregations[2].fields: must not be empty",
            "aggregations[2].fields",
        ),
        (
            {"type": "cardinality", "name": "c", "fields": ["a", 3]},
            "Invalid value at aggregations[2].fields[1]: expected an object or a string",
            "aggregations[2].fields[1]",
        ),
        (
            {"type": "cardinality", "name": "c", "fields": ["a"], "byRow": "true"},
            "Invalid value at aggregations[2].byRow: expected a boolean",
            "aggregations[2].byRow",
        ),
        (
            {"type": "HLLSketchBuild", "name": "h", "fieldName": "u", "lgK": 22},
            "Invalid value at aggregations[2].lgK: must be between 4 and 21",
            "aggregations[2].lgK",
        ),
        (
            {"type": "HLLSketchBuild", "name": "h", "fieldName": "u", "tgtHllType": "HLL_5"},
            "Invalid value [HLL_5] at aggregations[2].tgtHllType: expected 'HLL_4', 'HLL_6' or 'HLL_8'",
            "aggregations[2].tgtHllType",
        ),
        (
            {"type": "thetaSketch", "name": "t", "fieldName": "u", "size": 1000},
            "Invalid value at aggregations[2].size: must be a power of 2",
            "aggregations[2].size",
        ),
        (
            {"type": "thetaSketch", "name": "t", "fieldName": "u", "size": True},
            "Invalid value at aggregations[2].size: expected an integer",
            "aggregations[2].size",
        ),
        (
            [{"type": "count", "name": "c"}],
            "Invalid value at aggregations[2]: expected an object",
            "aggregations[2]",
        ),
    ],
)
def test_bad_aggregators(data: Any, message: str, path: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_as(A.Aggregator, data, "aggregations[2]")
    assert type(info.value) is InvalidInput
    assert info.value.message == message
    assert info.value.path == path


@pytest.mark.parametrize(
    "data",
    [
        {"type": "quantilesDoublesSketch", "name": "q", "fieldName": "x", "k": 128},
        {
            "type": "javascript",
            "name": "j",
            "fieldNames": ["x"],
            "fnAggregate": "",
            "fnCombine": "",
            "fnReset": "",
        },
        {"type": "approxHistogramFold", "name": "h", "fieldName": "x"},
    ],
)
def test_unsupported_aggregators(data: dict[str, Any]) -> None:
    with pytest.raises(Unsupported) as info:
        parse_as(A.Aggregator, data, "aggregations[0]")
    assert info.value.message.startswith(
        f"Unsupported aggregator type [{data['type']}] at aggregations[0].type: "
    )
    assert info.value.path == "aggregations[0].type"


def test_unsupported_inside_filtered_aggregator() -> None:
    with pytest.raises(Unsupported) as info:
        parse_as(
            A.Aggregator,
            {
                "type": "filtered",
                "filter": {"type": "true"},
                "aggregator": {"type": "quantilesDoublesSketch", "name": "q"},
            },
            "aggregations[1]",
        )
    assert info.value.path == "aggregations[1].aggregator.type"
