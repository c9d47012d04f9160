"""Frozen, typed wire models and the one place pydantic errors become grove errors.

JSON from clients becomes these models at the edge (HTTP, CLI, Python API). Field names are Druid's
camelCase, exposed as snake_case attributes through aliases. Unknown fields are ignored, as Druid does,
because real clients send them. Validation failures become :class:`InvalidInput` whose message and
``path`` name the offending field the way users write it::

    Unknown aggregator type [longSumm] at spec.dataSchema.metricsSpec[2].type
    Missing required field [fieldName] at spec.dataSchema.metricsSpec[1].fieldName
    Invalid value at spec.tuningConfig.maxRowsPerSegment: expected an integer

Polymorphic JSON (``{"type": "longSum", ...}``) is typed as a union of models (``A | B``) annotated
with :class:`TaggedUnion`, which dispatches on ``type`` and reports unknown, unsupported and missing
types itself, so pydantic's union branch names never reach a path. Validators raise the errors built by
:func:`invalid`, :func:`spec_error`, :func:`missing`, :func:`unsupported` and :func:`from_invalid_input`;
:func:`parse_model`, :func:`parse_as` and :func:`to_invalid_input` render them. Field types such as
:data:`Int` and :data:`Bool` are as strict as Druid: no booleans as numbers, no numbers in strings.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from annotated_types import Ge, Gt, MinLen
from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError, core_schema

from grove.common.granularity import Granularity
from grove.common.intervals import Interval
from grove.common.time import parse_timestamp
from grove.errors import InvalidInput, Unsupported

M = TypeVar("M", bound=BaseModel)

PATH_SENTINEL = "\x00"
"""Passed as ``path`` to helpers that write the path into their message (``Granularity.parse``,
``validate_namespace``) so :func:`from_invalid_input` can put the real path in its place."""

_UNION_LABELS: set[str] = set()


class WireModel(BaseModel):
    """Base of every wire model: frozen, camelCase aliases, snake_case accepted too, extra fields ignored."""

    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        arbitrary_types_allowed=True,
    )

    def to_json(self) -> dict[str, Any]:
        """Druid's JSON form: camelCase keys, optional fields that are unset (None) left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


# ---------------------------------------------------------------------------------------------------
# Errors raised inside validators. Each carries an optional ``field`` (a path suffix such as
# ``type`` or ``metricsSpec[2].name``) for errors found on an object but about one of its fields.


def invalid(detail: str, *, field: str | None = None) -> PydanticCustomError:
    """``Invalid value at <path>: <detail>``."""
    return PydanticCustomError("grove_invalid", "{detail}", {"detail": detail, "field": field})


def spec_error(message: str, *, field: str | None = None, detail: str | None = None) -> PydanticCustomError:
    """``<message> at <path>`` (``: <detail>`` appended when given)."""
    ctx = {"message": message, "field": field, "detail": detail}
    return PydanticCustomError("grove_error", "{message}", ctx)


def missing(name: str, *, field: str | None = None) -> PydanticCustomError:
    """``Missing required field [<name>] at <path>.<field>``; ``field`` defaults to ``name``."""
    return PydanticCustomError("grove_missing", "{name}", {"name": name, "field": field or name})


def unsupported(message: str, *, field: str | None = None, detail: str | None = None) -> PydanticCustomError:
    """Like :func:`spec_error`, but rendered as an :class:`Unsupported` error (well-formed, not done)."""
    ctx = {"message": message, "field": field, "detail": detail}
    return PydanticCustomError("grove_unsupported", "{message}", ctx)


_SENTINEL_RE = re.compile(r"^(?P<head>.*?) (?:in|at) \x00(?P<suffix>[^:\s]*)(?:: (?P<detail>.*))?$", re.S)
_DETAIL_RE = re.compile(r"^(?P<head>.*?\])(?:: (?P<detail>.*))?$", re.S)


def from_invalid_input(e: InvalidInput) -> PydanticCustomError:
    """An InvalidInput from a common helper, as a validator error located at the field being validated.

    Messages written with :data:`PATH_SENTINEL` as their path (``Unknown granularity [x] in <path>``)
    are split around it; the rest of the message becomes ``<head> at <path>: <detail>``.
    """
    m = _SENTINEL_RE.match(e.message)
    if m:
        return spec_error(m["head"], field=m["suffix"].lstrip(".") or None, detail=m["detail"])
    m = _DETAIL_RE.match(e.message.replace(PATH_SENTINEL, ""))
    if m:
        return spec_error(m["head"], detail=m["detail"])
    return spec_error(e.message.replace(PATH_SENTINEL, ""))


# ---------------------------------------------------------------------------------------------------
# Paths and rendering


def join_path(path: str, field: str) -> str:
    """``join_path("a.b", "c")`` → ``a.b.c``; ``join_path("a", "[2].c")`` → ``a[2].c``."""
    if not field:
        return path
    if not path or field.startswith("["):
        return path + field
    return f"{path}.{field}"


def format_path(loc: tuple[Any, ...] | list[Any], prefix: str = "") -> str:
    """``('spec', 'metricsSpec', 2, 'type')`` → ``spec.metricsSpec[2].type``; union labels dropped."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _is_internal(part):
            continue
        else:
            out = join_path(out, str(part))
    return out


def _is_internal(part: Any) -> bool:
    """Pydantic's own loc entries: our tagged-union labels and validator function names."""
    return isinstance(part, str) and (
        part in _UNION_LABELS or (part.startswith("function-") and part.endswith("]"))
    )


_TYPE_DETAILS: dict[str, str] = {
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "bool_type": "expected a boolean",
    "bool_parsing": "expected a boolean",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "string_type": "expected a string",
    "string_unicode": "expected a string",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "set_type": "expected a list",
    "iterable_type": "expected a list",
    "dict_type": "expected an object",
    "mapping_type": "expected an object",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "dataclass_type": "expected an object",
    "none_required": "expected null",
}


def _short(value: Any) -> str | None:
    """The user's value for a message when it is a short scalar (names, enum words), else None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str) and len(str(value)) <= 64:
        return str(value)
    return None


def _render(err: Mapping[str, Any], prefix: str) -> tuple[str, str, bool]:
    """(message, path, is_unsupported) for one pydantic error dict."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    path = format_path(tuple(err.get("loc", ())), prefix)
    if isinstance(ctx.get("field"), str):
        path = join_path(path, ctx["field"])
    where = f" at {path}" if path else " at the top level"
    if kind in ("grove_error", "grove_unsupported"):
        detail = ctx.get("detail")
        msg = f"{ctx['message']}{where}" + (f": {detail}" if detail else "")
        return msg, path, kind == "grove_unsupported"
    if kind == "grove_invalid":
        return f"Invalid value{where}: {ctx['detail']}", path, False
    if kind in ("missing", "grove_missing"):
        name = ctx.get("name") or re.split(r"[.\[]", path)[-1] or "value"
        return f"Missing required field [{name}]{where}", path, False
    if kind in _TYPE_DETAILS:
        return f"Invalid value{where}: {_TYPE_DETAILS[kind]}", path, False
    shown = _short(err.get("input"))
    value = f" [{shown}]" if shown is not None else ""
    if kind == "literal_error":
        return f"Invalid value{value}{where}: expected {ctx.get('expected')}", path, False
    if kind == "enum":
        return f"Invalid value{value}{where}: expected {ctx.get('expected')}", path, False
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}
        words = {"gt": "greater than", "ge": "at least", "lt": "less than", "le": "at most"}
        key = bound[kind]
        return f"Invalid value{where}: must be {words[key]} {ctx.get(key)}", path, False
    if kind in ("string_too_short", "too_short"):
        if ctx.get("min_length", 1) <= 1:
            return f"Invalid value{where}: must not be empty", path, False
        return f"Invalid value{where}: needs at least {ctx['min_length']} items", path, False
    if kind == "value_error" and "error" in ctx:
        return f"{ctx['error']}{where}", path, False
    return f"Invalid value{where}: {err.get('msg', 'invalid')}", path, False


def to_invalid_input(
    e: ValidationError,
    prefix: str = "",
    *,
    error: type[InvalidInput] = InvalidInput,
    unsupported_error: type[InvalidInput] = Unsupported,
) -> InvalidInput:
    """The grove error for a pydantic ValidationError: its first error in document order (pydantic
    reports fields in declaration order), located under ``prefix``."""
    message, path, is_unsupported = _render(e.errors(include_url=False)[0], prefix)
    return (unsupported_error if is_unsupported else error)(message, path)


def parse_model(
    model: type[M],
    data: Any,
    prefix: str = "",
    *,
    error: type[InvalidInput] = InvalidInput,
    unsupported_error: type[InvalidInput] = Unsupported,
) -> M:
    """Validate ``data`` into ``model``; on failure raise ``error`` naming the first offending field.

    ``prefix`` is the path of ``data`` in the user's document (``"aggregations[2]"``). Errors for things
    grove recognises but does not do are raised as ``unsupported_error`` instead.
    """
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise to_invalid_input(e, prefix, error=error, unsupported_error=unsupported_error) from None


@cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def parse_as(
    tp: Any,
    data: Any,
    prefix: str = "",
    *,
    error: type[InvalidInput] = InvalidInput,
    unsupported_error: type[InvalidInput] = Unsupported,
) -> Any:
    """:func:`parse_model` for any annotation, such as a tagged union: ``parse_as(Filter, data, "filter")``."""
    try:
        return _adapter(tp).validate_python(data)
    except ValidationError as e:
        raise to_invalid_input(e, prefix, error=error, unsupported_error=unsupported_error) from None


# ---------------------------------------------------------------------------------------------------
# Tagged unions


class TaggedUnion:
    """Annotate a ``Union`` of wire models to validate it as a union tagged by its ``type`` field.

    Each member declares ``type: Literal[...]``; every literal value maps to that member. Input that is
    not an object, has no (or a non-string) ``type``, names a type listed in ``unsupported`` (type →
    reason) or an unknown type is reported as ``Unknown <kind> type [x] at <path>.type`` and friends.
    ``string_form`` turns a bare string into an object (``"page"`` → a default dimension spec);
    ``default_type`` is used when ``type`` is absent.
    """

    def __init__(
        self,
        kind: str,
        *,
        unsupported: Mapping[str, str] | None = None,
        string_form: Callable[[str], dict[str, Any]] | None = None,
        default_type: str | None = None,
    ) -> None:
        self.kind = kind
        self.unsupported = dict(unsupported or {})
        self.string_form = string_form
        self.default_type = default_type

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        members = get_args(source) if get_origin(source) in (Union, types.UnionType) else (source,)
        labels: dict[str, str] = {}
        choices: dict[str, core_schema.CoreSchema] = {}
        for member in members:
            schema = handler.generate_schema(member)
            for tag in _literal_tags(member):
                label = f"{self.kind}[{tag}]"
                _UNION_LABELS.add(label)
                labels[tag] = label
                choices[label] = schema

        def discriminate(value: Any) -> str | None:
            tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
            return labels.get(tag) if isinstance(tag, str) else None

        def check(value: Any, validate: core_schema.ValidatorFunctionWrapHandler) -> Any:
            if isinstance(value, members):
                return validate(value)
            if isinstance(value, str) and self.string_form is not None:
                value = self.string_form(value)
            if not isinstance(value, dict):
                raise invalid("expected an object or a string" if self.string_form else "expected an object")
            tag = value.get("type")
            if tag is None and self.default_type is not None:
                value = {**value, "type": self.default_type}
                tag = self.default_type
            if tag is None:
                raise missing("type")
            if not isinstance(tag, str):
                raise invalid("expected a string", field="type")
            if tag in self.unsupported:
                raise unsupported(
                    f"Unsupported {self.kind} type [{tag}]", field="type", detail=self.unsupported[tag]
                )
            if tag not in labels:
                raise spec_error(f"Unknown {self.kind} type [{_short(tag) or '...'}]", field="type")
            return validate(value)

        tagged = core_schema.tagged_union_schema(choices, discriminate)
        return core_schema.no_info_wrap_validator_function(check, tagged)


def _literal_tags(model: Any) -> tuple[str, ...]:
    field = (
        model.model_fields.get("type") if isinstance(model, type) and issubclass(model, BaseModel) else None
    )
    if field is None:
        raise TypeError(f"{model!r} in a TaggedUnion needs a `type: Literal[...]` field")
    tags = tuple(a for a in get_args(field.annotation) if isinstance(a, str))
    if not tags:
        raise TypeError(f"{model!r}.type must be a Literal of strings")
    return tags


# ---------------------------------------------------------------------------------------------------
# Field types with Druid's strictness: no booleans as numbers, no numbers in strings.


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid("expected an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid("expected an integer")
        return int(value)
    return value


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid("expected a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise invalid("expected a finite number")
    return float(value)


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid("expected a number")
    return value


def _to_string_value(value: Any) -> str:
    """Druid's string match values: strings, with numbers and booleans written as text (as Jackson does)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise invalid("expected a string")


def _to_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid("expected a boolean")
    return value


def _to_str(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("expected a string")
    return value


Int = Annotated[int, PlainValidator(_to_int)]
"""An integer; integral floats (``5.0``) accepted, booleans and strings rejected."""
PositiveInt = Annotated[int, PlainValidator(_to_int), Gt(0)]
NonNegativeInt = Annotated[int, PlainValidator(_to_int), Ge(0)]
Float = Annotated[float, PlainValidator(_to_float)]
"""A finite number as a float; booleans and strings rejected."""
Number = Annotated[int | float, PlainValidator(_to_number)]
"""A JSON number kept as written (int or float)."""
Bool = Annotated[bool, PlainValidator(_to_bool)]
"""``true`` or ``false`` only."""
Str = Annotated[str, PlainValidator(_to_str)]
NonEmptyStr = Annotated[str, PlainValidator(_to_str), MinLen(1)]
StringValue = Annotated[str, PlainValidator(_to_string_value)]
"""A string match value: numbers and booleans are accepted and kept as their text."""


def _to_regex(value: Any) -> str:
    pattern = _to_str(value)
    try:
        re.compile(pattern)
    except re.error as e:
        raise spec_error("Invalid regular expression", detail=str(e)) from None
    return pattern


RegexPattern = Annotated[str, PlainValidator(_to_regex)]
"""A regular expression, checked to compile (Python's ``re``, close to Java's for common patterns)."""

_COLUMN_TYPE_RE = re.compile(r"^(STRING|LONG|FLOAT|DOUBLE|ARRAY<.+>|COMPLEX<.+>)$")


def _to_column_type(value: Any) -> str:
    text = _to_str(value).strip()
    if text.upper().startswith("COMPLEX<"):
        normalized = "COMPLEX<" + text[len("COMPLEX<") :]  # complex type names are case-sensitive
    else:
        normalized = text.upper()
    if not _COLUMN_TYPE_RE.match(normalized):
        raise spec_error(
            f"Unknown column type [{_short(text) or '...'}]",
            detail="expected STRING, LONG, FLOAT, DOUBLE, ARRAY<...> or COMPLEX<...>",
        )
    return normalized


ColumnTypeName = Annotated[str, PlainValidator(_to_column_type)]
"""A Druid column type name (``STRING``, ``LONG``, ``ARRAY<STRING>``, ``COMPLEX<json>``), upper-cased."""


def _to_granularity(value: Any) -> Granularity:
    if isinstance(value, Granularity):
        return value
    if not isinstance(value, str | dict):
        raise invalid("expected a granularity name or object")
    try:
        return Granularity.parse(value, PATH_SENTINEL)
    except InvalidInput as e:
        if PATH_SENTINEL not in e.message and e.message.startswith("Unknown time zone"):
            raise spec_error(e.message, field="timeZone") from None
        raise from_invalid_input(e) from None
    except (TypeError, ValueError, KeyError):
        raise spec_error("Invalid granularity") from None


GranularityField = Annotated[
    Granularity,
    PlainValidator(_to_granularity),
    PlainSerializer(lambda g: g.to_json(), return_type=Any),
]
"""A granularity: Druid's JSON (``"day"``, ``{"type": "period", ...}``) in, :class:`Granularity` out."""


def _to_interval(value: Any) -> Interval:
    if isinstance(value, Interval):
        return value
    if not isinstance(value, str):
        raise invalid("expected an ISO-8601 interval string")
    try:
        return Interval.parse(value)
    except InvalidInput as e:
        # "Invalid interval [text]: Invalid interval [start/end]: its end is before its start" → one level.
        detail = e.message.split("]: ", 1)[1] if "]: " in e.message else None
        if detail is not None and detail.startswith("Invalid interval [") and "]: " in detail:
            detail = detail.split("]: ", 1)[1]
        raise spec_error(f"Invalid interval [{_short(value) or '...'}]", detail=detail) from None


IntervalField = Annotated[Interval, PlainValidator(_to_interval), PlainSerializer(str, return_type=str)]
"""An ISO-8601 interval (``start/end``, ``start/period``, ``period/end``) in, :class:`Interval` out."""


def _to_timestamp_value(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid("expected an ISO-8601 timestamp string or epoch milliseconds")
    if isinstance(value, str):
        try:
            parse_timestamp(value)
        except InvalidInput as e:
            raise from_invalid_input(e) from None
    return value


TimestampValue = Annotated[str | int, PlainValidator(_to_timestamp_value)]
"""An instant as written: an ISO-8601 string (checked to parse) or epoch milliseconds."""
