"""Frozen, typed wire models and the one place pydantic errors become grove errors.

JSON from clients becomes these models at the edge (HTTP, CLI, Python API). Field names are Druid's
camelCase, exposed as snake_case attributes through aliases. Unknown fields are ignored, as Druid does,
because real clients send them. Validation failures become :class:`InvalidInput` whose message and
``path`` name the offending field the way users write it: ``spec.dataSchema.metricsSpec[2].type``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from grove.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


class WireModel(BaseModel):
    """Base of every wire model: frozen, camelCase aliases, extra fields ignored."""

    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        arbitrary_types_allowed=True,
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def format_path(loc: tuple[Any, ...] | list[Any], prefix: str = "") -> str:
    """``('spec', 'metricsSpec', 2, 'type')`` → ``spec.metricsSpec[2].type``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(err: dict[str, Any], path: str) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return f"Missing required field [{path.rsplit('.', 1)[-1].split('[')[0]}] at {path}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = ctx.get("tag") or err.get("input")
        if kind == "union_tag_not_found":
            return f"Missing type at {path}.{ctx.get('discriminator', 'type').strip(chr(39))}"
        return f"Unknown type [{tag}] at {path}.type"
    if kind == "literal_error":
        return f"Invalid value [{err.get('input')}] at {path}: expected {ctx.get('expected')}"
    if kind == "value_error" and "error" in ctx:
        return f"{ctx['error']} at {path}"
    return f"Invalid value at {path}: {err.get('msg', 'invalid')}"


def _user_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's internal union branch names (tagged-union tags, ``function-after[...]``)."""
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def parse_model(model: type[M], data: Any, prefix: str = "") -> M:
    """Validate ``data`` into ``model`` or raise InvalidInput naming the first offending field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        # Report the most specific (deepest) error first: it is the one users can act on.
        err = max(errors, key=lambda x: len(x.get("loc", ())))
        loc = _user_loc(tuple(err.get("loc", ())))
        if err.get("type") in ("union_tag_invalid",):
            path = format_path(loc, prefix)
        else:
            path = format_path(loc, prefix)
        raise InvalidInput(_message(dict(err), path), path) from None
