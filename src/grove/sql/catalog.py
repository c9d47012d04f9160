"""What SQL knows about tables: datasource columns and types, and the rows of system tables.

The planner asks a :class:`Catalog`. The catalog's facts come from the node (segments, tasks,
servers) through a :class:`CatalogSource` that the cluster layer implements, so this layer does not
depend on how segments are served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """A column of a table: its name, Druid SQL type and native type."""

    name: str
    sql_type: str  # VARCHAR, BIGINT, DOUBLE, FLOAT, TIMESTAMP, OTHER
    druid_type: str  # STRING, LONG, DOUBLE, FLOAT, COMPLEX<HLLSketch>, ...
    multi_value: bool = False


class CatalogSource(Protocol):
    """Facts the node provides to SQL."""

    def datasources(self) -> list[str]:
        """Names of queryable datasources."""
        ...

    def datasource_columns(self, datasource: str) -> list[ColumnInfo]:
        """Columns of a datasource (``__time`` first), from the schemas of its visible segments."""
        ...

    def segment_rows(self) -> list[dict[str, Any]]:
        """One dict per segment in Druid's ``sys.segments`` columns."""
        ...

    def server_rows(self) -> list[dict[str, Any]]:
        """One dict per server in Druid's ``sys.servers`` columns."""
        ...

    def task_rows(self) -> list[dict[str, Any]]:
        """One dict per task in Druid's ``sys.tasks`` columns."""
        ...
