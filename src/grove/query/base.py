"""What every native query has: a datasource, intervals, a filter, virtual columns and a context.

Each query type's model (in ``grove.query.types``) extends :class:`BaseQuery`. The datasource is a
table name or Druid's ``table``/``union`` object; intervals are ISO strings, a list of them, or
Druid's ``{"type": "intervals", "intervals": [...]}`` segment spec.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, field_validator

from grove.common.intervals import Interval, condense
from grove.common.models import Bool, NonEmptyStr, WireModel, invalid, spec_error, unsupported
from grove.query.spec.filters import Filter
from grove.query.spec.virtual_columns import VirtualColumn

DEFAULT_TIMEOUT_MS = 300_000


def _datasource(value: Any) -> Any:
    if isinstance(value, str):
        if not value:
            raise invalid("must not be empty")
        return (value,)
    if isinstance(value, dict):
        kind = value.get("type", "table")
        if kind == "table":
            name = value.get("name")
            if not isinstance(name, str) or not name:
                raise spec_error("Missing required field [name]", field="name")
            return (name,)
        if kind == "union":
            names = value.get("dataSources")
            if not isinstance(names, list) or not names:
                raise spec_error("A union needs a non-empty [dataSources] list", field="dataSources")
            out = []
            for item in names:
                out.extend(_datasource(item))
            return tuple(dict.fromkeys(out))
        raise unsupported(
            f"Datasource type [{kind}] is not supported by grove; use a table or a union", field="type"
        )
    raise invalid("expected a datasource name or object")


DataSourceNames = Annotated[tuple[str, ...], BeforeValidator(_datasource)]
"""The table names a query reads: one for a table, several for a union."""


def _intervals(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("type") not in (None, "intervals"):
            raise unsupported(f"Interval spec type [{value.get('type')}] is not supported", field="type")
        value = value.get("intervals")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise invalid("expected a non-empty list of ISO-8601 intervals")
    out = []
    for text in value:
        if isinstance(text, Interval):
            out.append(text)
            continue
        if not isinstance(text, str):
            raise invalid("expected ISO-8601 interval strings")
        try:
            out.append(Interval.parse(text))
        except Exception as e:  # InvalidInput from Interval.parse
            raise invalid(getattr(e, "message", str(e))) from None
    return tuple(out)


Intervals = Annotated[tuple[Interval, ...], BeforeValidator(_intervals)]


class BaseQuery(WireModel):
    """Fields shared by every query type."""

    query_type: NonEmptyStr
    data_source: DataSourceNames
    intervals: Intervals
    filter: Filter | None = None
    virtual_columns: tuple[VirtualColumn, ...] = ()
    context: dict[str, Any] = {}

    @field_validator("virtual_columns")
    @classmethod
    def _unique_virtual_columns(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        names = [v.name for v in value]
        if len(names) != len(set(names)):
            raise invalid("virtual column names must be unique")
        return value

    @property
    def condensed_intervals(self) -> list[Interval]:
        return condense(self.intervals)

    @property
    def query_id(self) -> str | None:
        value = self.context.get("queryId")
        return str(value) if value is not None else None

    def context_int(self, key: str, default: int) -> int:
        value = self.context.get(key, default)
        try:
            return int(value)
        except (TypeError, ValueError):
            return default

    def context_bool(self, key: str, default: bool = False) -> bool:
        value = self.context.get(key, default)
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value)

    @property
    def timeout_ms(self) -> int:
        """``context.timeout`` in ms; 0 means no timeout."""
        return self.context_int("timeout", DEFAULT_TIMEOUT_MS)


def _lenient_bool(value: Any) -> Any:
    # Druid's own examples send booleans as strings ("descending": "true").
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


LenientBool = Annotated[Bool, BeforeValidator(_lenient_bool)]
