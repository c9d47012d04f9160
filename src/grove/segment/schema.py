"""What a segment holds: its dimensions and metrics, and how metrics combine under rollup.

A :class:`SegmentSchema` is metadata written into every segment file. Metrics carry the Druid
aggregator JSON they were built with (reported by segmentMetadata queries) and the *combine* operation
that merges two stored values of the metric (rollup across persisted pieces, and re-aggregation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DimensionType = Literal["string", "long", "float", "double"]
MetricType = Literal["long", "float", "double", "hll", "theta"]
Combine = Literal["sum", "min", "max", "hll", "theta"]

NUMPY_DTYPES = {"long": "int64", "float": "float32", "double": "float64"}


@dataclass(frozen=True, slots=True)
class DimensionDef:
    name: str
    type: DimensionType = "string"
    multi_value: bool = False
    multi_value_handling: str = "SORTED_ARRAY"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "multiValue": self.multi_value,
            "multiValueHandling": self.multi_value_handling,
        }

    @staticmethod
    def from_json(obj: dict[str, Any]) -> DimensionDef:
        return DimensionDef(
            obj["name"],
            obj.get("type", "string"),
            bool(obj.get("multiValue")),
            obj.get("multiValueHandling", "SORTED_ARRAY"),
        )


@dataclass(frozen=True, slots=True)
class MetricDef:
    """A stored metric column. ``params`` holds sketch sizes (``lgK`` for hll, ``size`` for theta)."""

    name: str
    type: MetricType
    combine: Combine
    aggregator: dict[str, Any] = field(default_factory=dict)
    params: dict[str, int] = field(default_factory=dict)

    @property
    def is_sketch(self) -> bool:
        return self.type in ("hll", "theta")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "combine": self.combine,
            "aggregator": self.aggregator,
            "params": self.params,
        }

    @staticmethod
    def from_json(obj: dict[str, Any]) -> MetricDef:
        return MetricDef(
            obj["name"],
            obj["type"],
            obj["combine"],
            dict(obj.get("aggregator") or {}),
            dict(obj.get("params") or {}),
        )


@dataclass(frozen=True, slots=True)
class SegmentSchema:
    dimensions: tuple[DimensionDef, ...]
    metrics: tuple[MetricDef, ...]
    rollup: bool = True
    query_granularity: Any = "none"

    def dimension(self, name: str) -> DimensionDef | None:
        for d in self.dimensions:
            if d.name == name:
                return d
        return None

    def metric(self, name: str) -> MetricDef | None:
        for m in self.metrics:
            if m.name == name:
                return m
        return None

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def with_dimensions(self, dimensions: tuple[DimensionDef, ...]) -> SegmentSchema:
        return SegmentSchema(dimensions, self.metrics, self.rollup, self.query_granularity)

    def to_json(self) -> dict[str, Any]:
        return {
            "dimensions": [d.to_json() for d in self.dimensions],
            "metrics": [m.to_json() for m in self.metrics],
            "rollup": self.rollup,
            "queryGranularity": self.query_granularity,
        }

    @staticmethod
    def from_json(obj: dict[str, Any]) -> SegmentSchema:
        return SegmentSchema(
            tuple(DimensionDef.from_json(d) for d in obj.get("dimensions", [])),
            tuple(MetricDef.from_json(m) for m in obj.get("metrics", [])),
            bool(obj.get("rollup", True)),
            obj.get("queryGranularity", "none"),
        )
