"""The metadata store's tables (SQLAlchemy Core), the records read from them, and the schema version.

Every table is prefixed ``grove_`` so the store can share a database with other applications. Instants
are ISO-8601 text, as Druid stores them, plus epoch-millisecond columns where interval queries need an
index. Text that may grow without bound (segment payloads, task specs and reports) is LONGTEXT on MySQL,
whose TEXT stops at 64 KiB.

On MySQL/MariaDB every table uses the binary collation ``utf8mb4_bin``: the server's default collations
compare case-insensitively, which would make the ids ``wiki_...`` and ``Wiki_...`` collide.

Bump :data:`SCHEMA_VERSION` with every change to these tables and teach :class:`MetadataStore` the
upgrade; a database written by a newer grove is refused rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import mysql

from grove.common.time import format_timestamp
from grove.errors import GroveError, InvalidInput, StorageError
from grove.timeline.descriptor import SegmentDescriptor

SCHEMA_VERSION = 2
# Version 2 added grove_lookups and the lookup change counter (row 2 of grove_changes).

# The datasource name under which the cluster-wide default rules are stored, as in Druid.
DEFAULT_RULES_DATASOURCE = "_default"

_LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
_MYSQL_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

metadata = MetaData()

segments_table = Table(
    "grove_segments",
    metadata,
    Column("id", String(512), primary_key=True),
    Column("datasource", String(255), nullable=False),
    Column("namespace", String(255), nullable=False, default=""),
    Column("start", String(64), nullable=False),
    Column("end", String(64), nullable=False),
    Column("start_ms", BigInteger, nullable=False, index=True),
    Column("end_ms", BigInteger, nullable=False, index=True),
    Column("version", String(255), nullable=False),
    Column("partition_num", Integer, nullable=False),
    Column("used", Boolean, nullable=False),
    Column("payload", _LongText, nullable=False),
    Column("created_date", String(64), nullable=False),
    Column("used_status_last_updated", String(64), nullable=False),
    Index("grove_segments_datasource_used_interval", "datasource", "used", "start_ms", "end_ms"),
    **_MYSQL_OPTIONS,
)

rules_table = Table(
    "grove_rules",
    metadata,
    # A surrogate key orders the history: two rule changes in the same millisecond keep their order.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("datasource", String(255), nullable=False, index=True),
    Column("version", String(64), nullable=False),
    Column("payload", _LongText, nullable=False),
    Column("author", String(255), nullable=False, default=""),
    Column("comment", Text, nullable=False, default=""),
    **_MYSQL_OPTIONS,
)

tasks_table = Table(
    "grove_tasks",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("type", String(255), nullable=False),
    Column("datasource", String(255), nullable=False, index=True),
    Column("created_date", String(64), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("error_msg", Text, nullable=True),
    Column("duration_ms", BigInteger, nullable=True),
    Column("payload", _LongText, nullable=False),
    Column("report", _LongText, nullable=True),
    Column("location", String(512), nullable=True),
    **_MYSQL_OPTIONS,
)

schema_version_table = Table(
    "grove_schema_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    **_MYSQL_OPTIONS,
)

# One row (id 1). Every transaction that changes segment usage first locks this row, which serializes
# those transactions across processes, and bumps ``counter`` when it changed anything, so servers can
# poll "anything new since N?" with one primary-key read.
changes_table = Table(
    "grove_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("counter", BigInteger, nullable=False),
    **_MYSQL_OPTIONS,
)

# Druid's registered lookups, one row per (tier, name): the lookupExtractorFactory JSON as posted and
# the user's version, which an update must raise (compared as strings, as Druid does).
lookups_table = Table(
    "grove_lookups",
    metadata,
    Column("tier", String(255), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("version", String(255), nullable=False),
    Column("payload", _LongText, nullable=False),
    Column("updated", String(64), nullable=False),
    **_MYSQL_OPTIONS,
)

ALL_TABLES = (
    segments_table,
    rules_table,
    tasks_table,
    schema_version_table,
    changes_table,
    lookups_table,
)

SEGMENT_CHANGES = 1
"""The ``grove_changes`` row counting segment-usage changes."""
LOOKUP_CHANGES = 2
"""The ``grove_changes`` row counting lookup changes; its lock serializes lookup writes."""


# --- records and their rows ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """A segment as the metadata store holds it: its descriptor, whether it is used, and when.

    ``created`` and ``used_status_last_updated`` are ISO-8601 instants (UTC, milliseconds).
    """

    descriptor: SegmentDescriptor
    used: bool
    created: str
    used_status_last_updated: str


@dataclass(frozen=True, slots=True)
class LookupRecord:
    """One registered lookup: tier, name, version, the ``lookupExtractorFactory`` JSON, last update."""

    tier: str
    name: str
    version: str
    factory: dict[str, Any]
    updated: str

    def to_json(self) -> dict[str, Any]:
        """Druid's ``{"version", "lookupExtractorFactory"}`` form."""
        return {"version": self.version, "lookupExtractorFactory": self.factory}


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task row. ``payload`` is the task spec; ``report`` what the task reported when it ended."""

    id: str
    type: str
    datasource: str
    created_date: str
    status: str
    payload: dict[str, Any]
    error_msg: str | None = None
    duration_ms: int | None = None
    report: Any = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class RevertResult:
    """What :meth:`MetadataStore.revert` changed: the ids it marked used and the ids it marked unused."""

    marked_used: tuple[str, ...]
    marked_unused: tuple[str, ...]

    @property
    def used_count(self) -> int:
        return len(self.marked_used)

    @property
    def unused_count(self) -> int:
        return len(self.marked_unused)


def segment_row(s: SegmentDescriptor, now: str) -> dict[str, Any]:
    """The ``grove_segments`` row of a newly published (used) segment."""
    return {
        "id": str(s.id),
        "datasource": s.datasource,
        "namespace": s.namespace,
        "start": format_timestamp(s.interval.start),
        "end": format_timestamp(s.interval.end),
        "start_ms": s.interval.start,
        "end_ms": s.interval.end,
        "version": s.version,
        "partition_num": s.partition,
        "used": True,
        "payload": orjson.dumps(s.to_json()).decode(),
        "created_date": now,
        "used_status_last_updated": now,
    }


def read_descriptor(segment_id: str, payload: str) -> SegmentDescriptor:
    """The descriptor stored in a segment row; StorageError when the payload is unreadable."""
    try:
        return SegmentDescriptor.from_json(orjson.loads(payload))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, GroveError):
        raise StorageError(
            f"Segment [{segment_id}] has an unreadable payload in the metadata store"
        ) from None


def read_rules(payload: str, datasource: str) -> list[dict[str, Any]]:
    """The rule list stored in a rules row; StorageError when unreadable."""
    try:
        rules = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise StorageError(
            f"Rules of datasource [{datasource}] are unreadable in the metadata store"
        ) from None
    return list(rules) if isinstance(rules, list) else []


def read_lookup(row: Any) -> LookupRecord:
    """The record of a ``grove_lookups`` row; StorageError when its JSON is unreadable."""
    try:
        factory = orjson.loads(row.payload)
    except orjson.JSONDecodeError:
        raise StorageError(
            f"Lookup [{row.name}] of tier [{row.tier}] is unreadable in the metadata store"
        ) from None
    return LookupRecord(row.tier, row.name, row.version, factory, row.updated)


def read_task(row: Any) -> TaskRecord:
    """The record of a ``grove_tasks`` row; StorageError when its JSON is unreadable."""
    try:
        payload = orjson.loads(row.payload)
        report = orjson.loads(row.report) if row.report is not None else None
    except orjson.JSONDecodeError:
        raise StorageError(f"Task [{row.id}] is unreadable in the metadata store") from None
    return TaskRecord(
        id=row.id,
        type=row.type,
        datasource=row.datasource,
        created_date=row.created_date,
        status=row.status,
        payload=payload if isinstance(payload, dict) else {"payload": payload},
        error_msg=row.error_msg,
        duration_ms=None if row.duration_ms is None else int(row.duration_ms),
        report=report,
        location=row.location,
    )


def dumps_json(value: Any, what: str) -> str:
    """JSON text for a column; InvalidInput naming ``what`` when the value is not JSON."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        raise InvalidInput(f"The {what} is not serializable as JSON") from None
