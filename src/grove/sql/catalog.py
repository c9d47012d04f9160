"""What SQL knows about tables: datasource columns and types, and the rows of system tables.

The planner asks a :class:`Catalog`. The catalog's facts come from the node (segments, tasks,
servers) through a :class:`CatalogSource` that the cluster layer implements, so this layer does not
depend on how segments are served.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from grove.query.lookups import LookupMap
from grove.sql.errors import SqlError


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

    def lookups(self) -> Mapping[str, LookupMap]:
        """The registered lookups queries can name, by name (the ``lookup`` schema's tables)."""
        ...


# --- the catalog --------------------------------------------------------------------------------------

DRUID_SCHEMA = "druid"
SYS_SCHEMA = "sys"
INFORMATION_SCHEMA = "INFORMATION_SCHEMA"
LOOKUP_SCHEMA = "lookup"
VIEW_SCHEMA = "view"
CATALOG_NAME = "druid"


def _columns(spec: str) -> tuple[ColumnInfo, ...]:
    """``"name:TYPE name:TYPE ..."`` as columns (VARCHAR or BIGINT)."""
    out = []
    for item in spec.split():
        name, sql_type = item.split(":")
        out.append(ColumnInfo(name, sql_type, "STRING" if sql_type == "VARCHAR" else "LONG"))
    return tuple(out)


# Druid's system table signatures (SystemSchema.java, docs/querying/sql-metadata-tables.md); grove adds
# the segment's ``namespace``.
SYSTEM_COLUMNS: dict[tuple[str, str], tuple[ColumnInfo, ...]] = {
    (SYS_SCHEMA, "segments"): _columns(
        "segment_id:VARCHAR datasource:VARCHAR start:VARCHAR end:VARCHAR size:BIGINT version:VARCHAR "
        "partition_num:BIGINT num_replicas:BIGINT num_rows:BIGINT is_active:BIGINT is_published:BIGINT "
        "is_available:BIGINT is_realtime:BIGINT is_overshadowed:BIGINT shard_spec:VARCHAR "
        "dimensions:VARCHAR metrics:VARCHAR last_compaction_state:VARCHAR replication_factor:BIGINT "
        "namespace:VARCHAR"
    ),
    (SYS_SCHEMA, "servers"): _columns(
        "server:VARCHAR host:VARCHAR plaintext_port:BIGINT tls_port:BIGINT server_type:VARCHAR tier:VARCHAR "
        "curr_size:BIGINT max_size:BIGINT is_leader:BIGINT start_time:VARCHAR"
    ),
    (SYS_SCHEMA, "tasks"): _columns(
        "task_id:VARCHAR group_id:VARCHAR type:VARCHAR datasource:VARCHAR created_time:VARCHAR "
        "queue_insertion_time:VARCHAR status:VARCHAR runner_status:VARCHAR duration:BIGINT location:VARCHAR "
        "host:VARCHAR plaintext_port:BIGINT tls_port:BIGINT error_msg:VARCHAR"
    ),
    (INFORMATION_SCHEMA, "SCHEMATA"): _columns(
        "CATALOG_NAME:VARCHAR SCHEMA_NAME:VARCHAR SCHEMA_OWNER:VARCHAR DEFAULT_CHARACTER_SET_CATALOG:VARCHAR "
        "DEFAULT_CHARACTER_SET_SCHEMA:VARCHAR DEFAULT_CHARACTER_SET_NAME:VARCHAR SQL_PATH:VARCHAR"
    ),
    (INFORMATION_SCHEMA, "TABLES"): _columns(
        "TABLE_CATALOG:VARCHAR TABLE_SCHEMA:VARCHAR TABLE_NAME:VARCHAR TABLE_TYPE:VARCHAR "
        "IS_JOINABLE:VARCHAR IS_BROADCAST:VARCHAR"
    ),
    (INFORMATION_SCHEMA, "COLUMNS"): _columns(
        "TABLE_CATALOG:VARCHAR TABLE_SCHEMA:VARCHAR TABLE_NAME:VARCHAR COLUMN_NAME:VARCHAR "
        "ORDINAL_POSITION:BIGINT COLUMN_DEFAULT:VARCHAR IS_NULLABLE:VARCHAR DATA_TYPE:VARCHAR "
        "CHARACTER_MAXIMUM_LENGTH:BIGINT CHARACTER_OCTET_LENGTH:BIGINT NUMERIC_PRECISION:BIGINT "
        "NUMERIC_PRECISION_RADIX:BIGINT NUMERIC_SCALE:BIGINT DATETIME_PRECISION:BIGINT "
        "CHARACTER_SET_NAME:VARCHAR COLLATION_NAME:VARCHAR JDBC_TYPE:BIGINT"
    ),
}

# java.sql.Types codes, for INFORMATION_SCHEMA.COLUMNS.JDBC_TYPE.
_JDBC_TYPES = {
    "VARCHAR": 12,
    "BIGINT": -5,
    "DOUBLE": 8,
    "FLOAT": 6,
    "TIMESTAMP": 93,
    "BOOLEAN": 16,
    "DATE": 91,
}
_JDBC_OTHER = 1111
# A table of the ``lookup`` schema: one row per key (Druid's LookupSchema).
LOOKUP_COLUMNS = _columns("k:VARCHAR v:VARCHAR")
_SCHEMAS = (DRUID_SCHEMA, INFORMATION_SCHEMA, LOOKUP_SCHEMA, SYS_SCHEMA, VIEW_SCHEMA)


@dataclass(frozen=True)
class DatasourceTable:
    """A Druid datasource: queried with native queries."""

    name: str
    columns: tuple[ColumnInfo, ...]


@dataclass(frozen=True)
class SystemTable:
    """A table that exists only in the SQL layer; its rows are computed when the statement runs."""

    schema: str
    name: str
    columns: tuple[ColumnInfo, ...]
    source: Catalog

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def rows(self) -> list[list[Any]]:
        """The table's rows, one value per column in :attr:`columns` order (missing keys are null)."""
        names = [c.name for c in self.columns]
        return [[row.get(n) for n in names] for row in self.source.system_rows(self.schema, self.name)]


Table = DatasourceTable | SystemTable


class Catalog:
    """Resolves table names for the planner and answers INFORMATION_SCHEMA and sys tables.

    Datasource names are case-sensitive, as in Druid; the ``sys`` and ``INFORMATION_SCHEMA`` schema
    and table names are matched regardless of case, so clients that lower-case them still work.
    """

    def __init__(self, source: CatalogSource) -> None:
        self.source = source

    def resolve(self, parts: tuple[str, ...]) -> Table:
        """The table named by ``parts`` (``(name,)`` or ``(schema, name)``; a leading catalog
        ``druid`` is allowed). Raises SqlError ``Object 'x' not found`` (within the schema)."""
        if len(parts) == 3 and parts[0] == CATALOG_NAME:
            parts = parts[1:]
        if len(parts) == 1:
            schema, name = DRUID_SCHEMA, parts[0]
        elif len(parts) == 2:
            schema, name = parts
        else:
            raise SqlError(f"Object '{'.'.join(parts)}' not found")
        if schema == DRUID_SCHEMA:
            if name in self.source.datasources():
                found = self.source.datasource_columns(name)
                if found:
                    return DatasourceTable(name, tuple(found))
            raise SqlError(f"Object '{name}' not found" + ("" if len(parts) == 1 else f" within '{schema}'"))
        canonical = self._system_schema(schema)
        if canonical is not None:
            for (s, t), columns in SYSTEM_COLUMNS.items():
                if s == canonical and t.lower() == name.lower():
                    return SystemTable(s, t, columns, self)
            raise SqlError(f"Object '{name}' not found within '{schema}'")
        if schema == LOOKUP_SCHEMA and name in self.source.lookups():
            return SystemTable(LOOKUP_SCHEMA, name, LOOKUP_COLUMNS, self)
        if schema in (LOOKUP_SCHEMA, VIEW_SCHEMA):
            raise SqlError(f"Object '{name}' not found within '{schema}'")
        raise SqlError(f"Object '{schema}' not found")

    @staticmethod
    def _system_schema(schema: str) -> str | None:
        for s in (SYS_SCHEMA, INFORMATION_SCHEMA):
            if schema.lower() == s.lower():
                return s
        return None

    def lookup(self, name: str) -> LookupMap | None:
        """The registered lookup ``name`` (what ``LOOKUP(expr, 'name')`` and ``lookup.name`` read)."""
        return self.source.lookups().get(name)

    def system_rows(self, schema: str, name: str) -> list[dict[str, Any]]:
        """Rows of a system table as dicts keyed by column name."""
        if schema == LOOKUP_SCHEMA:
            found = self.lookup(name)
            return [] if found is None else [{"k": k, "v": v} for k, v in found.map.items()]
        if schema == SYS_SCHEMA:
            if name == "segments":
                return self.source.segment_rows()
            if name == "servers":
                return self.source.server_rows()
            return self.source.task_rows()
        if name == "SCHEMATA":
            return [{"CATALOG_NAME": CATALOG_NAME, "SCHEMA_NAME": s} for s in _SCHEMAS]
        if name == "TABLES":
            return self._tables()
        return self._information_columns()

    def _tables(self) -> list[dict[str, Any]]:
        rows = [_table_row(DRUID_SCHEMA, ds, "TABLE") for ds in sorted(self.source.datasources())]
        # Lookups are joinable, broadcast tables in Druid.
        rows += [_table_row(LOOKUP_SCHEMA, n, "TABLE", "YES") for n in sorted(self.source.lookups())]
        rows += [_table_row(s, t, "SYSTEM_TABLE") for s, t in SYSTEM_COLUMNS]
        return rows

    def _information_columns(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for ds in sorted(self.source.datasources()):
            rows += _column_rows(DRUID_SCHEMA, ds, self.source.datasource_columns(ds))
        for name in sorted(self.source.lookups()):
            rows += _column_rows(LOOKUP_SCHEMA, name, list(LOOKUP_COLUMNS))
        for (s, t), columns in SYSTEM_COLUMNS.items():
            rows += _column_rows(s, t, list(columns))
        return rows


def _table_row(schema: str, name: str, kind: str, joinable: str = "NO") -> dict[str, Any]:
    return {
        "TABLE_CATALOG": CATALOG_NAME,
        "TABLE_SCHEMA": schema,
        "TABLE_NAME": name,
        "TABLE_TYPE": kind,
        "IS_JOINABLE": joinable,
        "IS_BROADCAST": joinable,
    }


def _column_rows(schema: str, table: str, columns: list[ColumnInfo]) -> list[dict[str, Any]]:
    rows = []
    for i, c in enumerate(columns):
        rows.append(
            {
                "TABLE_CATALOG": CATALOG_NAME,
                "TABLE_SCHEMA": schema,
                "TABLE_NAME": table,
                "COLUMN_NAME": c.name,
                "ORDINAL_POSITION": i + 1,
                "COLUMN_DEFAULT": None,
                "IS_NULLABLE": "NO" if c.name == "__time" and schema == DRUID_SCHEMA else "YES",
                "DATA_TYPE": c.sql_type,
                "NUMERIC_PRECISION_RADIX": 10 if c.sql_type in ("BIGINT", "DOUBLE", "FLOAT") else None,
                "CHARACTER_SET_NAME": "UTF-16LE" if c.sql_type == "VARCHAR" else None,
                "COLLATION_NAME": "UTF-16LE$en_US$primary" if c.sql_type == "VARCHAR" else None,
                "JDBC_TYPE": _JDBC_TYPES.get(c.sql_type, _JDBC_OTHER),
            }
        )
    return rows
