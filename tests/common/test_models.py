"""The wire-model base: error paths and messages, tagged unions, strict field types."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import ValidationError, field_validator, model_validator

from grove.common.granularity import Granularity
from grove.common.intervals import Interval
from grove.common.models import (
    PATH_SENTINEL,
    Bool,
    ColumnTypeName,
    Float,
    GranularityField,
    Int,
    IntervalField,
    NonEmptyStr,
    NonNegativeInt,
    Number,
    PositiveInt,
    RegexPattern,
    Str,
    StringValue,
    TaggedUnion,
    TimestampValue,
    WireModel,
    format_path,
    from_invalid_input,
    invalid,
    join_path,
    missing,
    parse_as,
    parse_model,
    spec_error,
    to_invalid_input,
    unsupported,
)
from grove.errors import InvalidInput, InvalidSpec, Unsupported

# --- models used only by these tests ----------------------------------------------------------------


class Leaf(WireModel):
    type: Literal["leaf"] = "leaf"
    field_name: NonEmptyStr
    size: PositiveInt = 1


class Pair(WireModel):
    type: Literal["plus", "minus"]
    left: Node
    right: Node


class Wrapper(WireModel):
    type: Literal["wrap"] = "wrap"
    inner: Node
    tags: tuple[Str, ...] = ()


class Checked(WireModel):
    """Raises each kind of validator error, to pin how they render."""

    type: Literal["checked"] = "checked"
    mode: Str = "ok"

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        if value == "invalid":
            raise invalid("must be fine")
        if value == "error":
            raise spec_error("Mode [error] is not allowed", detail="pick another")
        if value == "value_error":
            raise ValueError("Plain value error")
        return value

    @model_validator(mode="after")
    def _whole(self) -> Any:
        if self.mode == "missing":
            raise missing("other")
        if self.mode == "unsupported":
            raise unsupported("Unsupported [mode]", field="mode", detail="not here")
        return self


Node = Annotated[
    Leaf | Pair | Wrapper | Checked,
    TaggedUnion("node", unsupported={"javascript": "no user code"}),
]

for _m in (Pair, Wrapper):
    _m.model_rebuild()


class Named(WireModel):
    type: Literal["named"] = "named"
    name: NonEmptyStr


NamedOrString = Annotated[Named, TaggedUnion("named", string_form=lambda s: {"type": "named", "name": s})]
Defaulted = Annotated[Named, TaggedUnion("named", default_type="named")]


class Doc(WireModel):
    root: Node
    items: tuple[Node, ...] = ()
    max_rows_per_segment: PositiveInt = 5
    rollup: Bool = True
    ratio: Float = 1.0
    granularity: GranularityField = Granularity.parse("day")
    interval: IntervalField | None = None
    named: tuple[NamedOrString, ...] = ()


def fails(model: Any, data: Any, prefix: str = "", **kw: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        if isinstance(model, type) and issubclass(model, WireModel):
            parse_model(model, data, prefix, **kw)
        else:
            parse_as(model, data, prefix, **kw)
    return info.value


LEAF = {"type": "leaf", "fieldName": "x"}


def same_message(actual: str, expected: str) -> bool:
    """Expected messages ending in ``...`` pin only their start: the rest is worded by another module."""
    assert "\x00" not in actual
    return actual.startswith(expected[:-3]) if expected.endswith("...") else actual == expected


# --- paths ------------------------------------------------------------------------------------------


def test_format_path_and_join_path() -> None:
    assert format_path(("spec", "metricsSpec", 2, "type")) == "spec.metricsSpec[2].type"
    assert format_path((2, "type"), "aggregations") == "aggregations[2].type"
    assert format_path((), "filter") == "filter"
    assert format_path(("a", "function-after[_check(), str]", "b")) == "a.b"
    assert join_path("a.b", "c") == "a.b.c"
    assert join_path("a", "[2].c") == "a[2].c"
    assert join_path("", "c") == "c"
    assert join_path("a", "") == "a"


def test_valid_document_parses_and_round_trips() -> None:
    data = {
        "root": {"type": "plus", "left": LEAF, "right": {"type": "wrap", "inner": LEAF, "tags": ["t"]}},
        "items": [LEAF, {"type": "minus", "left": LEAF, "right": LEAF}],
        "maxRowsPerSegment": 10,
        "granularity": {"type": "period", "period": "PT1H", "timeZone": "America/Los_Angeles"},
        "interval": "2015-09-12/2015-09-13",
        "named": ["a", {"type": "named", "name": "b"}],
        "someFutureField": {"ignored": True},
    }
    doc = parse_model(Doc, data)
    assert isinstance(doc.root, Pair) and doc.root.type == "plus"
    assert isinstance(doc.root.right, Wrapper) and doc.root.right.tags == ("t",)
    assert doc.max_rows_per_segment == 10
    assert doc.interval == Interval.parse("2015-09-12/2015-09-13")
    assert [n.name for n in doc.named] == ["a", "b"]
    again = parse_model(Doc, doc.to_json())
    assert again == doc
    assert "someFutureField" not in doc.to_json()
    assert doc.to_json()["granularity"] == {
        "type": "period",
        "period": "PT1H",
        "timeZone": "America/Los_Angeles",
    }
    assert doc.to_json()["interval"] == "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"


def test_models_are_frozen_and_accept_snake_case() -> None:
    leaf = parse_model(Leaf, {"type": "leaf", "field_name": "x"})
    assert leaf.field_name == "x"
    with pytest.raises(ValidationError):
        leaf.size = 2  # type: ignore[misc]
    assert "fieldName" in leaf.to_json()


def test_to_json_leaves_out_unset_optionals() -> None:
    doc = parse_model(Doc, {"root": LEAF})
    assert "interval" not in doc.to_json()


# --- tagged unions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        ({"root": {"type": "leef"}}, "Unknown node type [leef] at root.type", "root.type"),
        (
            {"root": LEAF, "items": [LEAF, LEAF, {"type": "longSumm"}]},
            "Unknown node type [longSumm] at items[2].type",
            "items[2].type",
        ),
        (
            {"root": {"type": "plus", "left": LEAF, "right": {"type": "wrap", "inner": {"type": "nope"}}}},
            "Unknown node type [nope] at root.right.inner.type",
            "root.right.inner.type",
        ),
        ({"root": {"fieldName": "x"}}, "Missing required field [type] at root.type", "root.type"),
        ({"root": {"type": 3}}, "Invalid value at root.type: expected a string", "root.type"),
        ({"root": {"type": None}}, "Missing required field [type] at root.type", "root.type"),
        ({"root": "leaf"}, "Invalid value at root: expected an object", "root"),
        ({"root": [LEAF]}, "Invalid value at root: expected an object", "root"),
        ({"root": None}, "Invalid value at root: expected an object", "root"),
    ],
)
def test_union_type_errors(data: Any, message: str, path: str) -> None:
    err = fails(Doc, data)
    assert type(err) is InvalidInput
    assert err.message == message
    assert err.path == path


def test_union_labels_never_reach_paths() -> None:
    data = {"root": {"type": "plus", "left": LEAF, "right": {"type": "wrap", "inner": {"type": "leaf"}}}}
    err = fails(Doc, data)
    assert err.message == "Missing required field [fieldName] at root.right.inner.fieldName"
    assert err.path == "root.right.inner.fieldName"
    err = fails(
        Doc, {"root": {"type": "minus", "left": LEAF, "right": {"type": "leaf", "fieldName": "x", "size": 0}}}
    )
    assert err.path == "root.right.size"
    assert "[" not in err.path


def test_unsupported_type_is_an_unsupported_error() -> None:
    err = fails(Doc, {"root": {"type": "javascript", "function": "x"}})
    assert isinstance(err, Unsupported)
    assert err.message == "Unsupported node type [javascript] at root.type: no user code"
    assert err.path == "root.type"


def test_union_parsed_alone_with_prefix() -> None:
    err = fails(Node, {"type": "zzz"}, "aggregations[2]")
    assert err.message == "Unknown node type [zzz] at aggregations[2].type"
    err = fails(Node, {"type": "zzz"})
    assert err.message == "Unknown node type [zzz] at type"
    assert err.path == "type"
    node = parse_as(Node, LEAF)
    assert isinstance(node, Leaf)


def test_union_accepts_model_instances() -> None:
    leaf = Leaf(field_name="x")
    pair = Pair(type="plus", left=leaf, right=leaf)
    assert pair.left is leaf
    assert parse_as(Node, pair) is pair


def test_string_form_and_default_type() -> None:
    assert parse_as(NamedOrString, "page") == Named(name="page")
    err = fails(NamedOrString, 5)
    assert err.message == "Invalid value at the top level: expected an object or a string"
    assert parse_as(Defaulted, {"name": "x"}) == Named(name="x")
    err = fails(Defaulted, {"type": "other", "name": "x"})
    assert err.message == "Unknown named type [other] at type"


def test_very_long_unknown_type_is_not_echoed() -> None:
    err = fails(Node, {"type": "x" * 500})
    assert err.message == "Unknown node type [...] at type"


def test_tagged_union_needs_literal_type_field() -> None:
    class NoType(WireModel):
        name: str

    with pytest.raises(TypeError, match="needs a `type: Literal"):
        parse_as(Annotated[NoType, TaggedUnion("bad")], {"name": "x"})


# --- builtin error kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        (
            {"root": {"type": "leaf"}},
            "Missing required field [fieldName] at root.fieldName",
            "root.fieldName",
        ),
        ({}, "Missing required field [root] at root", "root"),
        (
            {"root": LEAF, "maxRowsPerSegment": "5"},
            "Invalid value at maxRowsPerSegment: expected an integer",
            "maxRowsPerSegment",
        ),
        (
            {"root": LEAF, "maxRowsPerSegment": True},
            "Invalid value at maxRowsPerSegment: expected an integer",
            "maxRowsPerSegment",
        ),
        (
            {"root": LEAF, "maxRowsPerSegment": 2.5},
            "Invalid value at maxRowsPerSegment: expected an integer",
            "maxRowsPerSegment",
        ),
        (
            {"root": LEAF, "maxRowsPerSegment": 0},
            "Invalid value at maxRowsPerSegment: must be greater than 0",
            "maxRowsPerSegment",
        ),
        ({"root": LEAF, "rollup": "true"}, "Invalid value at rollup: expected a boolean", "rollup"),
        ({"root": LEAF, "rollup": 1}, "Invalid value at rollup: expected a boolean", "rollup"),
        ({"root": LEAF, "ratio": "1.5"}, "Invalid value at ratio: expected a number", "ratio"),
        ({"root": LEAF, "ratio": float("nan")}, "Invalid value at ratio: expected a finite number", "ratio"),
        ({"root": LEAF, "items": {"a": 1}}, "Invalid value at items: expected a list", "items"),
        ({"root": LEAF, "items": "abc"}, "Invalid value at items: expected a list", "items"),
        (
            {"root": {"type": "wrap", "inner": LEAF, "tags": ["a", 1]}},
            "Invalid value at root.tags[1]: expected a string",
            "root.tags[1]",
        ),
        (
            {"root": {"type": "leaf", "fieldName": ""}},
            "Invalid value at root.fieldName: must not be empty",
            "root.fieldName",
        ),
        (
            {"root": {"type": "leaf", "fieldName": 12}},
            "Invalid value at root.fieldName: expected a string",
            "root.fieldName",
        ),
        (
            {"root": LEAF, "granularity": "fortnight"},
            "Unknown granularity [fortnight] at granularity...",
            "granularity",
        ),
        (
            {"root": LEAF, "granularity": {"type": "period"}},
            "Missing field [period] at granularity.period...",
            "granularity.period",
        ),
        (
            {"root": LEAF, "granularity": {"type": "period", "period": "PT1H", "timeZone": "Mars/Olympus"}},
            "Unknown time zone [Mars/Olympus] at granularity.timeZone",
            "granularity.timeZone",
        ),
        (
            {"root": LEAF, "granularity": {"type": "duration", "duration": -5}},
            "Invalid duration at granularity.duration...",
            "granularity.duration",
        ),
        (
            {"root": LEAF, "granularity": 3},
            "Invalid value at granularity: expected a granularity name or object",
            "granularity",
        ),
        (
            {"root": LEAF, "interval": "2015-09-12/yesterday"},
            "Invalid interval [2015-09-12/yesterday] at interval: Invalid timestamp [yesterday]...",
            "interval",
        ),
        (
            {"root": LEAF, "interval": ["2015-09-12/2015-09-13"]},
            "Invalid value at interval: expected an ISO-8601 interval string",
            "interval",
        ),
        ({"root": LEAF, "named": [""]}, "Invalid value at named[0].name: must not be empty", "named[0].name"),
    ],
)
def test_field_errors(data: Any, message: str, path: str) -> None:
    err = fails(Doc, data)
    assert same_message(err.message, message)
    assert err.path == path


def test_top_level_not_an_object() -> None:
    for data in ([1, 2], "text", 5, None):
        err = fails(Doc, data)
        assert err.message == "Invalid value at the top level: expected an object"
        assert err.path == ""
    err = fails(Doc, [1], "spec")
    assert err.message == "Invalid value at spec: expected an object"
    assert err.path == "spec"


def test_literal_errors_name_the_value_and_choices() -> None:
    err = fails(Pair, {"type": "times", "left": LEAF, "right": LEAF})
    assert err.message == "Invalid value [times] at type: expected 'plus' or 'minus'"
    assert err.path == "type"


def test_first_error_in_document_order_is_reported() -> None:
    err = fails(Doc, {"root": {"type": "leaf"}, "maxRowsPerSegment": "x"})
    assert err.path == "root.fieldName"


# --- validator error constructors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "cls", "message", "path"),
    [
        ("invalid", InvalidInput, "Invalid value at q.mode: must be fine", "q.mode"),
        ("error", InvalidInput, "Mode [error] is not allowed at q.mode: pick another", "q.mode"),
        ("value_error", InvalidInput, "Plain value error at q.mode", "q.mode"),
        ("missing", InvalidInput, "Missing required field [other] at q.other", "q.other"),
        ("unsupported", Unsupported, "Unsupported [mode] at q.mode: not here", "q.mode"),
    ],
)
def test_validator_errors(mode: str, cls: type[InvalidInput], message: str, path: str) -> None:
    err = fails(Node, {"type": "checked", "mode": mode}, "q")
    assert type(err) is cls
    assert err.message == message
    assert err.path == path


def test_error_classes_are_chosen_by_the_caller() -> None:
    class UnsupportedSpec(InvalidSpec, Unsupported):
        pass

    err = fails(Doc, {"root": {"type": "leaf"}}, error=InvalidSpec, unsupported_error=UnsupportedSpec)
    assert type(err) is InvalidSpec
    err = fails(Doc, {"root": {"type": "javascript"}}, error=InvalidSpec, unsupported_error=UnsupportedSpec)
    assert type(err) is UnsupportedSpec
    assert isinstance(err, InvalidSpec) and isinstance(err, Unsupported)
    assert err.status == 400


def test_to_invalid_input_for_direct_pydantic_use() -> None:
    with pytest.raises(ValidationError) as info:
        Doc.model_validate({"root": {"type": "leaf"}})
    err = to_invalid_input(info.value, "query")
    assert type(err) is InvalidInput
    assert (err.message, err.path) == (
        "Missing required field [fieldName] at query.root.fieldName",
        "query.root.fieldName",
    )


def test_from_invalid_input_splits_sentinel_messages() -> None:
    e = from_invalid_input(InvalidInput(f"Unknown granularity [x] in {PATH_SENTINEL}", PATH_SENTINEL))
    assert e.context == {"message": "Unknown granularity [x]", "field": None, "detail": None}
    e = from_invalid_input(InvalidInput(f"Invalid duration in {PATH_SENTINEL}.duration: positive"))
    assert e.context == {"message": "Invalid duration", "field": "duration", "detail": "positive"}
    e = from_invalid_input(InvalidInput("Invalid interval [a/b]: Invalid timestamp [a]"))
    assert e.context == {
        "message": "Invalid interval [a/b]",
        "field": None,
        "detail": "Invalid timestamp [a]",
    }
    e = from_invalid_input(InvalidInput("Something odd"))
    assert e.context == {"message": "Something odd", "field": None, "detail": None}


# --- field types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tp", "value", "expected"),
    [
        (Int, 5, 5),
        (Int, -5, -5),
        (Int, 5.0, 5),
        (NonNegativeInt, 0, 0),
        (PositiveInt, 1, 1),
        (Float, 2, 2.0),
        (Float, 2.5, 2.5),
        (Number, 2, 2),
        (Number, 2.5, 2.5),
        (Bool, False, False),
        (Str, "", ""),
        (StringValue, "x", "x"),
        (StringValue, 3, "3"),
        (StringValue, 3.5, "3.5"),
        (StringValue, True, "true"),
        (RegexPattern, "^50.*", "^50.*"),
        (ColumnTypeName, "long", "LONG"),
        (ColumnTypeName, "ARRAY<string>", "ARRAY<STRING>"),
        (ColumnTypeName, "COMPLEX<json>", "COMPLEX<json>"),
        (ColumnTypeName, "complex<hyperUnique>", "COMPLEX<hyperUnique>"),
        (TimestampValue, "2000-01-01T01:02:03.456", "2000-01-01T01:02:03.456"),
        (TimestampValue, 946688523456, 946688523456),
    ],
)
def test_field_types_accept(tp: Any, value: Any, expected: Any) -> None:
    got = parse_as(tp, value)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("tp", "value", "message"),
    [
        (Int, "5", "Invalid value at v: expected an integer"),
        (Int, None, "Invalid value at v: expected an integer"),
        (NonNegativeInt, -1, "Invalid value at v: must be at least 0"),
        (PositiveInt, 0, "Invalid value at v: must be greater than 0"),
        (Float, True, "Invalid value at v: expected a number"),
        (Float, float("inf"), "Invalid value at v: expected a finite number"),
        (Number, "1", "Invalid value at v: expected a number"),
        (Bool, "false", "Invalid value at v: expected a boolean"),
        (Bool, 0, "Invalid value at v: expected a boolean"),
        (Str, 1, "Invalid value at v: expected a string"),
        (NonEmptyStr, "", "Invalid value at v: must not be empty"),
        (StringValue, {"a": 1}, "Invalid value at v: expected a string"),
        (StringValue, [1], "Invalid value at v: expected a string"),
        (
            RegexPattern,
            "(",
            "Invalid regular expression at v: missing ), unterminated subpattern at position 0",
        ),
        (RegexPattern, 5, "Invalid value at v: expected a string"),
        (
            ColumnTypeName,
            "TEXT",
            "Unknown column type [TEXT] at v: expected STRING, LONG, FLOAT, DOUBLE, ARRAY<...> or COMPLEX<...>",
        ),
        (TimestampValue, "yesterday", "Invalid timestamp [yesterday] at v..."),
        (
            TimestampValue,
            True,
            "Invalid value at v: expected an ISO-8601 timestamp string or epoch milliseconds",
        ),
        (
            TimestampValue,
            1.5,
            "Invalid value at v: expected an ISO-8601 timestamp string or epoch milliseconds",
        ),
    ],
)
def test_field_types_reject(tp: Any, value: Any, message: str) -> None:
    err = fails(tp, value, "v")
    assert same_message(err.message, message)
    assert err.path == "v"


def test_granularity_field_accepts_druid_forms() -> None:
    for spec in ("day", "DAY", "all", "none", "PT1H", {"type": "none"}, {"type": "period", "period": "P1D"}):
        assert isinstance(parse_as(GranularityField, spec), Granularity)
    assert parse_as(GranularityField, "YEAR") == Granularity.parse("year")
    day = Granularity.parse("day")
    assert parse_as(GranularityField, day) is day
