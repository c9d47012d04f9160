"""Post-aggregator wire models: documented examples, nesting, dependent_fields and error paths."""

from __future__ import annotations

from typing import Any

import pytest

from grove.common.models import parse_as
from grove.errors import InvalidInput, Unsupported
from grove.query.spec import postaggregators as P

AVERAGE: dict[str, Any] = {
    "type": "arithmetic",
    "name": "average",
    "fn": "/",
    "fields": [
        {"type": "fieldAccess", "name": "tot", "fieldName": "tot"},
        {"type": "fieldAccess", "name": "rows", "fieldName": "rows"},
    ],
}
PART_PERCENTAGE: dict[str, Any] = {
    "type": "arithmetic",
    "name": "part_percentage",
    "fn": "*",
    "fields": [
        {
            "type": "arithmetic",
            "name": "ratio",
            "fn": "/",
            "fields": [
                {"type": "fieldAccess", "name": "part", "fieldName": "part"},
                {"type": "fieldAccess", "name": "tot", "fieldName": "tot"},
            ],
        },
        {"type": "constant", "name": "const", "value": 100},
    ],
}
THETA_INTERSECT: dict[str, Any] = {
    "type": "thetaSketchEstimate",
    "name": "final_unique_users",
    "field": {
        "type": "thetaSketchSetOp",
        "name": "final_unique_users_sketch",
        "func": "INTERSECT",
        "fields": [
            {"type": "fieldAccess", "fieldName": "A_unique_users"},
            {"type": "fieldAccess", "fieldName": "B_unique_users"},
        ],
    },
}

DOC_EXAMPLES: list[tuple[dict[str, Any], type]] = [
    (AVERAGE, P.ArithmeticPostAggregator),
    (PART_PERCENTAGE, P.ArithmeticPostAggregator),
    ({"type": "fieldAccess", "name": "tot", "fieldName": "tot"}, P.FieldAccessPostAggregator),
    (
        {"type": "finalizingFieldAccess", "name": "u", "fieldName": "unique_users"},
        P.FinalizingFieldAccessPostAggregator,
    ),
    ({"type": "constant", "name": "const", "value": 100}, P.ConstantPostAggregator),
    ({"type": "constant", "name": "half", "value": 0.5}, P.ConstantPostAggregator),
    (
        {"type": "expression", "name": "e", "expression": "tot / rows", "ordering": "numericFirst"},
        P.ExpressionPostAggregator,
    ),
    (
        {
            "type": "doubleGreatest",
            "name": "g",
            "fields": [{"type": "fieldAccess", "fieldName": "a"}, {"type": "fieldAccess", "fieldName": "b"}],
        },
        P.GreatestLeastPostAggregator,
    ),
    (
        {"type": "longLeast", "name": "l", "fields": [{"type": "fieldAccess", "fieldName": "a"}]},
        P.GreatestLeastPostAggregator,
    ),
    ({"type": "hyperUniqueCardinality", "fieldName": "unique_users"}, P.HyperUniqueCardinalityPostAggregator),
    (
        {
            "type": "HLLSketchEstimate",
            "name": "e",
            "field": {"type": "fieldAccess", "fieldName": "h"},
            "round": True,
        },
        P.HllSketchEstimatePostAggregator,
    ),
    (
        {
            "type": "HLLSketchEstimateWithBounds",
            "name": "b",
            "field": {"type": "fieldAccess", "fieldName": "h"},
            "numStdDev": 2,
        },
        P.HllSketchEstimateWithBoundsPostAggregator,
    ),
    (THETA_INTERSECT, P.ThetaSketchEstimatePostAggregator),
    (THETA_INTERSECT["field"], P.ThetaSketchSetOpPostAggregator),
]


@pytest.mark.parametrize(("data", "cls"), DOC_EXAMPLES)
def test_documented_examples_parse_and_round_trip(data: dict[str, Any], cls: Any) -> None:
    post = parse_as(P.PostAggregator, data, "postAggregations[0]")
    assert type(post) is cls
    assert parse_as(P.PostAggregator, post.to_json()) == post


def test_nesting_and_dependent_fields() -> None:
    post = parse_as(P.PostAggregator, PART_PERCENTAGE)
    inner = post.fields[0]
    assert isinstance(inner, P.ArithmeticPostAggregator)
    assert isinstance(inner.fields[1], P.FieldAccessPostAggregator)
    assert inner.fields[1].field_name == "tot"
    assert post.dependent_fields() == {"part", "tot"}
    assert parse_as(P.PostAggregator, THETA_INTERSECT).dependent_fields() == {
        "A_unique_users",
        "B_unique_users",
    }
    assert (
        parse_as(
            P.PostAggregator, {"type": "expression", "name": "e", "expression": "a + b"}
        ).dependent_fields()
        == set()
    )
    assert parse_as(P.PostAggregator, {"type": "constant", "value": 1}).dependent_fields() == set()


def test_defaults_and_details() -> None:
    arith = parse_as(P.PostAggregator, AVERAGE)
    assert arith.ordering is None
    const = parse_as(P.PostAggregator, {"type": "constant", "name": "c", "value": 100})
    assert const.value == 100 and isinstance(const.value, int)
    setop = parse_as(P.PostAggregator, THETA_INTERSECT["field"])
    assert setop.size == 16384
    bounds = parse_as(
        P.PostAggregator,
        {"type": "HLLSketchEstimateWithBounds", "field": {"type": "fieldAccess", "fieldName": "h"}},
    )
    assert bounds.num_std_dev == 1
    hll = parse_as(
        P.PostAggregator, {"type": "HLLSketchEstimate", "field": {"type": "fieldAccess", "fieldName": "h"}}
    )
    assert hll.round is False
    greatest = parse_as(P.PostAggregator, DOC_EXAMPLES[7][0])
    assert (greatest.op, greatest.value_type) == ("greatest", "double")
    least = parse_as(P.PostAggregator, DOC_EXAMPLES[8][0])
    assert (least.op, least.value_type) == ("least", "long")
    for fn in ("+", "-", "*", "/", "quotient", "pow"):
        parse_as(P.PostAggregator, {**AVERAGE, "fn": fn})
    assert parse_as(P.PostAggregator, {"type": "fieldAccess", "fieldName": "x"}).name is None


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        (
            {"type": "arithmetik", "fn": "+", "fields": []},
            "Unknown postAggregator type [arithmetik] at postAggregations[1].type",
            "postAggregations[1].type",
        ),
        (
            {**AVERAGE, "fn": "%"},
            "Invalid value [%] at postAggregations[1].fn: expected '+', '-', '*', '/', 'quotient' or 'pow'",
            "postAggregations[1].fn",
        ),
        (
            {**AVERAGE, "fields": [AVERAGE["fields"][0]]},
            "Invalid value at postAggregations[1].fields: needs at least 2 fields",
            "postAggregations[1].fields",
        ),
        (
            {**AVERAGE, "fields": [{"type": "fieldAccess", "name": "t"}, {"type": "constant", "value": 1}]},
            "Missing required field [fieldName] at postAggregations[1].fields[0].fieldName",
            "postAggregations[1].fields[0].fieldName",
        ),
        (
            {
                **PART_PERCENTAGE,
                "fields": [
                    {
                        **PART_PERCENTAGE["fields"][0],
                        "fields": [
                            {"type": "fieldAcess", "fieldName": "a"},
                            {"type": "constant", "value": 1},
                        ],
                    },
                    {"type": "constant", "value": 2},
                ],
            },
            "Unknown postAggregator type [fieldAcess] at postAggregations[1].fields[0].fields[0].type",
            "postAggregations[1].fields[0].fields[0].type",
        ),
        (
            {"type": "constant", "name": "c", "value": "100"},
            "Invalid value at postAggregations[1].value: expected a number",
            "postAggregations[1].value",
        ),
        (
            {"type": "constant", "name": "c"},
            "Missing required field [value] at postAggregations[1].value",
            "postAggregations[1].value",
        ),
        (
            {**AVERAGE, "ordering": "desc"},
            "Invalid value [desc] at postAggregations[1].ordering: expected 'numericFirst'",
            "postAggregations[1].ordering",
        ),
        (
            {**THETA_INTERSECT, "field": {**THETA_INTERSECT["field"], "func": "MINUS"}},
            "Invalid value [MINUS] at postAggregations[1].field.func: expected 'UNION', 'INTERSECT' or 'NOT'",
            "postAggregations[1].field.func",
        ),
        (
            {**THETA_INTERSECT["field"], "size": 100},
            "Invalid value at postAggregations[1].size: must be a power of 2",
            "postAggregations[1].size",
        ),
        (
            {
                "type": "HLLSketchEstimateWithBounds",
                "field": {"type": "fieldAccess", "fieldName": "h"},
                "numStdDev": 4,
            },
            "Invalid value at postAggregations[1].numStdDev: must be 1, 2 or 3",
            "postAggregations[1].numStdDev",
        ),
        (
            {"type": "HLLSketchEstimate", "name": "e"},
            "Missing required field [field] at postAggregations[1].field",
            "postAggregations[1].field",
        ),
        (
            {"type": "doubleGreatest", "fields": []},
            "Invalid value at postAggregations[1].fields: must not be empty",
            "postAggregations[1].fields",
        ),
        (
            {"type": "expression", "name": "e"},
            "Missing required field [expression] at postAggregations[1].expression",
            "postAggregations[1].expression",
        ),
    ],
)
def test_bad_postaggregators(data: Any, message: str, path: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_as(P.PostAggregator, data, "postAggregations[1]")
    assert type(info.value) is InvalidInput
    assert info.value.message == message
    assert info.value.path == path


def test_javascript_is_unsupported() -> None:
    data = {
        "type": "javascript",
        "name": "absPercent",
        "fieldNames": ["delta", "total"],
        "function": "function(d, t) {}",
    }
    with pytest.raises(Unsupported) as info:
        parse_as(P.PostAggregator, {**AVERAGE, "fields": [data, AVERAGE["fields"][0]]}, "postAggregations[0]")
    assert info.value.path == "postAggregations[0].fields[0].type"
    assert info.value.message == (
        "Unsupported postAggregator type [javascript] at postAggregations[0].fields[0].type: "
        "JavaScript functions are not supported by grove"
    )
