"""Segment descriptors: what the metadata store knows about a segment (metadata, not data).

A descriptor is a small immutable value: the id, the shard spec, where the files live in deep storage
(``load_spec``), the dimension and metric names, the row count and the size. A segment's data is opened
from its descriptor; the timeline decides visibility from descriptors alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from grove.common.intervals import Interval
from grove.timeline.segment_id import SegmentId
from grove.timeline.shard import ShardSpec

BINARY_VERSION = 1


@dataclass(frozen=True, slots=True)
class SegmentDescriptor:
    id: SegmentId
    shard_spec: ShardSpec
    load_spec: dict[str, Any] = field(default_factory=dict)
    dimensions: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    num_rows: int = 0
    size: int = 0
    binary_version: int = BINARY_VERSION

    @property
    def datasource(self) -> str:
        return self.id.datasource

    @property
    def interval(self) -> Interval:
        return self.id.interval

    @property
    def version(self) -> str:
        return self.id.version

    @property
    def namespace(self) -> str:
        return self.id.namespace

    @property
    def partition(self) -> int:
        return self.id.partition

    def with_load_spec(self, load_spec: dict[str, Any], size: int) -> SegmentDescriptor:
        return replace(self, load_spec=load_spec, size=size)

    def to_json(self) -> dict[str, Any]:
        """Druid's DataSegment JSON shape, plus grove's ``namespace`` and ``numRows``."""
        return {
            "dataSource": self.datasource,
            "interval": str(self.interval),
            "version": self.version,
            "loadSpec": dict(self.load_spec),
            "dimensions": ",".join(self.dimensions),
            "metrics": ",".join(self.metrics),
            "shardSpec": self.shard_spec.to_json(),
            "binaryVersion": self.binary_version,
            "size": self.size,
            "identifier": str(self.id),
            "id": str(self.id),
            "namespace": self.namespace,
            "numRows": self.num_rows,
        }

    @staticmethod
    def from_json(obj: dict[str, Any]) -> SegmentDescriptor:
        shard = ShardSpec.from_json(obj.get("shardSpec") or {})
        seg_id = SegmentId(
            datasource=obj["dataSource"],
            interval=Interval.parse(obj["interval"]),
            version=obj["version"],
            partition=shard.partition_num,
            namespace=obj.get("namespace") or "",
        )
        dims = obj.get("dimensions") or ""
        mets = obj.get("metrics") or ""
        return SegmentDescriptor(
            id=seg_id,
            shard_spec=shard,
            load_spec=dict(obj.get("loadSpec") or {}),
            dimensions=tuple(d for d in (dims.split(",") if isinstance(dims, str) else dims) if d),
            metrics=tuple(m for m in (mets.split(",") if isinstance(mets, str) else mets) if m),
            num_rows=int(obj.get("numRows") or 0),
            size=int(obj.get("size") or 0),
            binary_version=int(obj.get("binaryVersion") or BINARY_VERSION),
        )
