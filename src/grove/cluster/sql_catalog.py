"""What the embedded node tells SQL about its tables: :class:`NodeCatalogSource`.

It implements :class:`grove.sql.catalog.CatalogSource` over a :class:`~grove.cluster.embedded.Database`:

* **Datasource columns** come from the schemas in the footers of the visible segments (opened through
  the segment cache; no rows are read), merged as Druid's broker merges segment signatures: ``__time``
  first, then the columns in the order the newest segments list them, a type that differs between
  segments widened to the least restrictive one (``LONG`` < ``FLOAT`` < ``DOUBLE`` < ``STRING``), and a
  string dimension flagged multi-value when any segment holds more than one value in a row. The merge
  is cached per datasource until the timeline changes.
* **Lookups** (the ``lookup`` schema, ``LOOKUP(expr, 'name')``) are the database's registered lookups.
* **sys.segments, sys.servers, sys.tasks** rows carry the columns of Druid's system tables
  (``docs/querying/sql-metadata-tables.md`` and ``SystemSchema.java``), from the metadata store (used
  segments, tasks) and the node (what it serves, its address and start time).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from grove.common.time import format_timestamp
from grove.metadata.schema import TaskRecord
from grove.metadata.store import ACTIVE_TASK_STATUSES
from grove.query.lookups import LookupMap
from grove.segment.schema import DimensionDef, MetricDef, SegmentSchema
from grove.sql.catalog import ColumnInfo
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.timeline import DatasourceTimeline

if TYPE_CHECKING:  # the Database builds its catalog source: a runtime import would be circular
    from grove.cluster.embedded import Database

TIME_COLUMN = ColumnInfo("__time", "TIMESTAMP", "LONG")

# Native type -> Druid SQL type (Druid's ``Calcites.getSqlTypeNameForRelDataType``).
SQL_TYPES = {"STRING": "VARCHAR", "LONG": "BIGINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE"}
_DIMENSION_TYPES = {"string": "STRING", "long": "LONG", "float": "FLOAT", "double": "DOUBLE"}
_METRIC_TYPES = {"long": "LONG", "float": "FLOAT", "double": "DOUBLE"}
# Least restrictive wins when segments disagree (Druid's ``ColumnType.leastRestrictiveType``).
_WIDTH = {"LONG": 0, "FLOAT": 1, "DOUBLE": 2, "STRING": 3}

DEFAULT_TIER = "_default_tier"
# Druid lists servers by node role in the order of its ``NodeRole`` enum; the embedded node has four.
_ROLES = ("coordinator", "historical", "broker", "overlord")
_LEADING_ROLES = ("coordinator", "overlord")
_ANY_ADDRESS = ("", "0.0.0.0", "::")


class NodeCatalogSource:
    """The :class:`~grove.sql.catalog.CatalogSource` of an embedded database (thread-safe)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._started = format_timestamp(int(time.time() * 1000))
        self._lock = threading.Lock()
        self._columns: dict[str, tuple[DatasourceTimeline, list[ColumnInfo]]] = {}

    # --- tables -----------------------------------------------------------------------------------------

    def datasources(self) -> list[str]:
        """Datasources with used segments, sorted (the same list as ``GET /druid/v2/datasources``)."""
        return sorted(self._db.segment_source.timelines())

    def datasource_columns(self, datasource: str) -> list[ColumnInfo]:
        """``__time`` and the merged columns of the visible segments; empty for an unknown datasource.

        Raises CorruptSegment when a segment file cannot be opened.
        """
        timeline = self._db.segment_source.timelines().get(datasource)
        if timeline is None:
            return []
        with self._lock:
            cached = self._columns.get(datasource)
        if cached is not None and cached[0] is timeline:
            return list(cached[1])
        columns = self._merge(timeline.visible_segments())
        with self._lock:
            # A refresh replaces the timelines (they never change in place): one merge per refresh.
            self._columns[datasource] = (timeline, columns)
        return list(columns)

    def _merge(self, segments: list[SegmentDescriptor]) -> list[ColumnInfo]:
        types: dict[str, str] = {}
        multi: set[str] = set()
        newest_first = sorted(segments, key=lambda s: (s.interval.start, s.version), reverse=True)
        for descriptor in newest_first:
            schema = self._db.segment_cache.open(descriptor).schema
            for name, kind, is_multi in _schema_columns(schema):
                if name == TIME_COLUMN.name:
                    continue
                known = types.get(name)
                types[name] = kind if known is None else _wider(known, kind)
                if is_multi:
                    multi.add(name)
        columns = [TIME_COLUMN]
        for name, kind in types.items():
            columns.append(ColumnInfo(name, SQL_TYPES.get(kind, "OTHER"), kind, name in multi))
        return columns

    # --- system tables ----------------------------------------------------------------------------------

    def segment_rows(self) -> list[dict[str, Any]]:
        """``sys.segments``: every used segment, in id order.

        ``is_overshadowed`` is decided from the used segments in the metadata store (a new version is
        published before the older one is marked unused); ``is_available`` and ``num_replicas`` from
        what this node serves now (it catches up with the metadata store within the poll period). The
        embedded node serves every active segment once, so ``replication_factor`` is 1 for active
        segments and 0 for overshadowed ones. grove adds ``namespace``.
        """
        records = self._db.metadata.segments(None, used=True)
        by_datasource: dict[str, list[SegmentDescriptor]] = {}
        for record in records:
            by_datasource.setdefault(record.descriptor.datasource, []).append(record.descriptor)
        overshadowed = {
            s.id for segs in by_datasource.values() for s in DatasourceTimeline(segs).overshadowed()
        }
        served = {s.id for tl in self._db.segment_source.timelines().values() for s in tl.visible_segments()}
        rows = []
        for record in records:
            d = record.descriptor
            active = d.id not in overshadowed
            available = d.id in served
            rows.append(
                {
                    "segment_id": str(d.id),
                    "datasource": d.datasource,
                    "start": format_timestamp(d.interval.start),
                    "end": format_timestamp(d.interval.end),
                    "size": d.size,
                    "version": d.version,
                    "partition_num": d.partition,
                    "num_replicas": 1 if available else 0,
                    "num_rows": d.num_rows,
                    "is_active": 1 if active else 0,
                    "is_published": 1,
                    "is_available": 1 if available else 0,
                    "is_realtime": 0,
                    "is_overshadowed": 0 if active else 1,
                    "shard_spec": _json(d.shard_spec.to_json()),
                    "dimensions": _json(list(d.dimensions)),
                    "metrics": _json(list(d.metrics)),
                    "last_compaction_state": None,
                    "replication_factor": 1 if active else 0,
                    "namespace": d.namespace,
                }
            )
        return rows

    def server_rows(self) -> list[dict[str, Any]]:
        """``sys.servers``: the embedded node once per role it plays, all at its one address.

        The historical reports what it serves (``curr_size``, bytes of the visible segments) and, as
        ``max_size``, that plus the free space where its segment cache lives; the coordinator and the
        overlord are the leaders (there is no other).
        """
        host, port = self._address()
        served = sum(
            s.size for tl in self._db.segment_source.timelines().values() for s in tl.visible_segments()
        )
        rows = []
        for role in _ROLES:
            historical = role == "historical"
            rows.append(
                {
                    "server": f"{host}:{port}",
                    "host": host,
                    "plaintext_port": port,
                    "tls_port": -1,
                    "server_type": role,
                    "tier": DEFAULT_TIER if historical else None,
                    "curr_size": served if historical else 0,
                    "max_size": served + _free_bytes(Path(self._db.config.segment_cache))
                    if historical
                    else 0,
                    "is_leader": 1 if role in _LEADING_ROLES else None,
                    "start_time": self._started,
                }
            )
        return rows

    def task_rows(self) -> list[dict[str, Any]]:
        """``sys.tasks``: every task in the metadata store, newest first.

        As in Druid, pending and waiting tasks have status RUNNING with that ``runner_status``
        (``NONE`` once complete), ``duration`` is -1 until the task ends, and the location columns
        are filled for running tasks only.
        """
        address = self._address()
        return [_task_row(task, address) for task in self._db.metadata.list_tasks()]

    def lookups(self) -> Mapping[str, LookupMap]:
        """The registered lookups of the node (tier ``__default``), as queries see them."""
        return self._db.lookup_registry.snapshot()

    def _address(self) -> tuple[str, int]:
        host = self._db.config.host
        return (socket.gethostname() if host in _ANY_ADDRESS else host), int(self._db.config.port)


def _schema_columns(schema: SegmentSchema) -> list[tuple[str, str, bool]]:
    """(name, native type, multi-value) of each dimension, then each metric, in schema order."""
    out = [(d.name, _dimension_type(d), d.multi_value) for d in schema.dimensions]
    out += [(m.name, _metric_type(m), False) for m in schema.metrics]
    return out


def _dimension_type(d: DimensionDef) -> str:
    return _DIMENSION_TYPES.get(d.type, "STRING")


def _metric_type(m: MetricDef) -> str:
    """Druid's column type of a stored metric; sketches are ``COMPLEX<...>`` by the aggregator that built them."""
    if m.type == "hll":
        return "COMPLEX<hyperUnique>" if m.aggregator.get("type") == "hyperUnique" else "COMPLEX<HLLSketch>"
    if m.type == "theta":
        return "COMPLEX<thetaSketch>"
    return _METRIC_TYPES[m.type]


def _wider(a: str, b: str) -> str:
    if a == b:
        return a
    if a in _WIDTH and b in _WIDTH:
        return a if _WIDTH[a] >= _WIDTH[b] else b
    return a  # a sketch in one segment and something else in another: the newest segment's type


def _task_row(task: TaskRecord, address: tuple[str, int]) -> dict[str, Any]:
    active = task.status in ACTIVE_TASK_STATUSES
    host: str | None = None
    port = -1
    if active:
        hostname, _, pid = (task.location or "").rpartition(":")
        if pid == str(os.getpid()):
            host, port = address
        else:
            host = hostname or None
    location = None if host is None else (f"{host}:{port}" if port >= 0 else host)
    return {
        "task_id": task.id,
        "group_id": task.id,
        "type": task.type,
        "datasource": task.datasource,
        "created_time": task.created_date,
        "queue_insertion_time": task.created_date,
        "status": "RUNNING" if active else task.status,
        "runner_status": task.status if active else "NONE",
        "duration": -1 if task.duration_ms is None else task.duration_ms,
        "location": location,
        "host": host,
        "plaintext_port": port,
        "tls_port": -1,
        "error_msg": task.error_msg,
    }


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _free_bytes(path: Path) -> int:
    """Free bytes on the file system holding ``path`` (or its nearest existing parent)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return 0
