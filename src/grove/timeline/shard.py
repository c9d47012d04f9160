"""Shard specs: how the segments of one (datasource, namespace, interval, version) split into partitions.

``partitions`` is the size of the core partition set: a chunk is visible only when all of partitions
``0 .. partitions-1`` are present. Partitions numbered at or beyond it are appended later
(``appendToExisting``) and are visible whenever the core set is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ShardSpec:
    partition_num: int
    partitions: int
    kind: str = "numbered"  # numbered | hashed
    partition_dimensions: tuple[str, ...] = ()

    def is_core(self) -> bool:
        return self.partition_num < self.partitions

    def to_json(self) -> dict[str, Any]:
        if self.kind == "hashed":
            return {
                "type": "hashed",
                "partitionNum": self.partition_num,
                "partitions": self.partitions,
                "numCorePartitions": self.partitions,
                "partitionDimensions": list(self.partition_dimensions),
            }
        return {"type": "numbered", "partitionNum": self.partition_num, "partitions": self.partitions}

    @staticmethod
    def from_json(obj: dict[str, Any]) -> ShardSpec:
        kind = obj.get("type", "numbered")
        partitions = int(obj.get("numCorePartitions", obj.get("partitions", 0)))
        return ShardSpec(
            partition_num=int(obj.get("partitionNum", 0)),
            partitions=partitions,
            kind="hashed" if kind == "hashed" else "numbered",
            partition_dimensions=tuple(obj.get("partitionDimensions") or ()),
        )
