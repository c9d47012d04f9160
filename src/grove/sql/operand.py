"""A translated SQL expression: Druid expression text, SQL type, and what it reads.

Every SQL expression the planner meets becomes an :class:`Operand`. Its ``expr`` is Druid expression
text (what virtual columns, expression filters and post-aggregators take, and what the in-memory
engine evaluates); ``refs`` are the column names that text reads (input columns, or output names such
as ``d0``/``a0`` after aggregation), so an operand without refs is a constant. ``column`` is set when the
operand *is* one column, which lets the planner use plain dimension specs and native filters instead
of expressions. This module also holds the SQL type names and how they map to Druid's native types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grove.query.expression import evaluate_scalar, parse_expression

VARCHAR = "VARCHAR"
BIGINT = "BIGINT"
DOUBLE = "DOUBLE"
FLOAT = "FLOAT"
TIMESTAMP = "TIMESTAMP"
DATE = "DATE"
BOOLEAN = "BOOLEAN"
OTHER = "OTHER"
NULL = "NULL"  # the type of a bare NULL literal, until context gives it one
INTERVAL_MS = "INTERVAL DAY TO SECOND"
INTERVAL_MONTHS = "INTERVAL YEAR TO MONTH"

NUMERIC = frozenset({BIGINT, DOUBLE, FLOAT})
TIMES = frozenset({TIMESTAMP, DATE})

_NATIVE = {
    VARCHAR: "STRING",
    BIGINT: "LONG",
    DOUBLE: "DOUBLE",
    FLOAT: "FLOAT",
    TIMESTAMP: "LONG",
    DATE: "LONG",
    BOOLEAN: "LONG",
    NULL: "STRING",
}


def native_type(sql_type: str) -> str:
    """Druid's runtime type of a SQL type (``docs/querying/sql-data-types.md``)."""
    return _NATIVE.get(sql_type, "COMPLEX")


def expression_type(sql_type: str) -> str:
    """The ``outputType`` of an expression virtual column holding values of ``sql_type``."""
    if sql_type in (VARCHAR, NULL):
        return "STRING"
    if sql_type in (DOUBLE, FLOAT):
        return "DOUBLE"
    if sql_type == OTHER:
        return "COMPLEX"
    return "LONG"


MISSING: Any = object()
"""The ``value`` of an operand whose Python value is not known (not a literal)."""


@dataclass(frozen=True, slots=True)
class Operand:
    """One translated expression. ``value`` is the Python value of a literal, when known."""

    expr: str
    type: str
    refs: frozenset[str] = frozenset()
    column: str | None = None
    native: str | None = None  # the column's native type (COMPLEX<...> for sketches), when a column
    multi_value: bool = False
    value: Any = MISSING

    @property
    def is_constant(self) -> bool:
        return not self.refs

    @property
    def has_value(self) -> bool:
        return self.value is not MISSING

    def constant(self) -> Any:
        """The value of a constant operand (evaluated with Druid's expression engine when needed)."""
        if self.value is not MISSING:
            return self.value
        return evaluate_scalar(parse_expression(self.expr, "sql"))


def column_operand(name: str, sql_type: str, native: str | None = None, multi_value: bool = False) -> Operand:
    return Operand(
        ident(name), sql_type, frozenset((name,)), name, native or native_type(sql_type), multi_value
    )


def literal_operand(value: Any, sql_type: str) -> Operand:
    return Operand(literal(value), sql_type, value=value)


def ident(name: str) -> str:
    """A Druid expression identifier: always double-quoted, with Java escapes."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def string_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def literal(value: Any) -> str:
    """A Python value (None, bool, int, float, str) as a Druid expression literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    return string_literal(str(value))


def common_numeric(a: str, b: str) -> str:
    """The SQL type of arithmetic on ``a`` and ``b`` (both numeric)."""
    if DOUBLE in (a, b):
        return DOUBLE
    if FLOAT in (a, b):
        return FLOAT if a == b else DOUBLE
    return BIGINT
