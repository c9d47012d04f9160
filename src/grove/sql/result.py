"""The answer to a SQL statement, independent of how it is sent (object, array, lines, csv)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SqlResult:
    """Rows of a statement with their column names and types.

    ``sql_types`` are Druid's SQL type names (``VARCHAR``, ``BIGINT``, ``DOUBLE``, ``FLOAT``,
    ``TIMESTAMP``, ``BOOLEAN``, ``OTHER``…) and ``druid_types`` the native column types (``STRING``,
    ``LONG``, ``DOUBLE``, ``FLOAT``, ``COMPLEX<...>``) — both used by ``typesHeader`` and
    ``sqlTypesHeader``. ``native`` lists the native queries run (what ``EXPLAIN PLAN FOR`` shows).
    """

    columns: list[str]
    sql_types: list[str]
    druid_types: list[str]
    rows: list[list[Any]]
    query_id: str = ""
    native: list[dict[str, Any]] = field(default_factory=list)
