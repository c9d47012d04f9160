"""What an ingestion spec asks for, resolved once into the plan every stage follows.

The plan maps Druid's spec onto grove's storage: which input columns become dimensions (declared, or
discovered when the dimension list is empty), how each metric is computed from a raw row and combined
under rollup, how rows are bucketed into time chunks and partitioned, and the limits that bound memory
and tolerated errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grove.common.granularity import Granularity
from grove.common.intervals import Interval, condense
from grove.errors import InvalidSpec, Unsupported
from grove.ingest.spec import DynamicPartitionsSpec, HashedPartitionsSpec, IngestionSpec
from grove.query.expression import Expr, parse_expression
from grove.query.spec.aggregators import (
    CountAggregator,
    HllSketchAggregator,
    HyperUniqueAggregator,
    NumericAggregator,
    ThetaSketchAggregator,
)
from grove.segment.schema import DimensionDef, MetricDef, SegmentSchema
from grove.segment.sketches import HLL_DEFAULT_LGK

PARTITION_HASH = "__partition_hash"


@dataclass(frozen=True, slots=True)
class MetricPlan:
    """How one metric column is computed from a raw row: ``source`` is a field name or expression."""

    metric: MetricDef
    field: str | None = None
    expression: Expr | None = None


@dataclass(frozen=True, slots=True)
class IngestPlan:
    spec: IngestionSpec
    datasource: str
    namespace: str
    timestamp_column: str
    timestamp_format: str
    missing_timestamp: int | None
    dimensions: tuple[DimensionDef, ...] | None  # None: discover from the input
    exclusions: frozenset[str]
    metrics: tuple[MetricPlan, ...]
    segment_granularity: Granularity
    query_granularity: Granularity
    rollup: bool
    intervals: tuple[Interval, ...] | None
    transforms: tuple[tuple[str, Expr], ...]
    filter: Any
    max_rows_per_segment: int
    max_rows_in_memory: int
    max_parse_exceptions: int
    hashed: bool
    num_shards: int | None
    target_rows_per_segment: int | None
    partition_dimensions: tuple[str, ...]
    append: bool
    drop_existing: bool

    @staticmethod
    def from_spec(spec: IngestionSpec) -> IngestPlan:
        body = spec.spec
        ds = body.data_schema
        tuning = body.tuning_config
        dims: tuple[DimensionDef, ...] | None = None
        if not ds.dimensions_spec.is_schemaless:
            dims = tuple(
                DimensionDef(d.name, d.type, False, d.multi_value_handling)
                for d in ds.dimensions_spec.dimensions
            )
        metrics = tuple(_metric_plan(agg, i) for i, agg in enumerate(ds.metrics_spec))
        transforms = tuple(
            (
                t.name,
                parse_expression(t.expression, f"spec.dataSchema.transformSpec.transforms[{i}].expression"),
            )
            for i, t in enumerate(ds.transform_spec.transforms if ds.transform_spec else ())
        )
        gran = ds.granularity_spec
        partitions = tuning.partitions_spec
        hashed = isinstance(partitions, HashedPartitionsSpec)
        exclusions = set(ds.dimensions_spec.dimension_exclusions)
        exclusions.add(ds.timestamp_spec.column)
        for mp in metrics:
            if mp.field is not None:
                exclusions.add(mp.field)
        intervals = tuple(condense(gran.intervals)) if gran.intervals else None
        return IngestPlan(
            spec=spec,
            datasource=ds.data_source,
            namespace=ds.namespace,
            timestamp_column=ds.timestamp_spec.column,
            timestamp_format=ds.timestamp_spec.format,
            missing_timestamp=ds.timestamp_spec.missing_value_millis,
            dimensions=dims,
            exclusions=frozenset(exclusions),
            metrics=metrics,
            segment_granularity=gran.segment_granularity,
            query_granularity=gran.query_granularity,
            rollup=gran.rollup,
            intervals=intervals,
            transforms=transforms,
            filter=ds.transform_spec.filter if ds.transform_spec else None,
            max_rows_per_segment=(
                tuning.effective_max_rows_per_segment
                if isinstance(partitions, DynamicPartitionsSpec)
                else tuning.max_rows_per_segment
            ),
            max_rows_in_memory=tuning.max_rows_in_memory,
            max_parse_exceptions=tuning.effective_max_parse_exceptions,
            hashed=hashed,
            num_shards=partitions.num_shards if isinstance(partitions, HashedPartitionsSpec) else None,
            target_rows_per_segment=(
                partitions.effective_target_rows_per_segment
                if isinstance(partitions, HashedPartitionsSpec)
                else None
            ),
            partition_dimensions=(
                tuple(partitions.partition_dimensions) if isinstance(partitions, HashedPartitionsSpec) else ()
            ),
            append=body.io_config.append_to_existing,
            drop_existing=body.io_config.drop_existing,
        )

    def schema(self, dimensions: tuple[DimensionDef, ...]) -> SegmentSchema:
        """The schema of the segments built (plus the partition hash while building, when hashed)."""
        metrics = [mp.metric for mp in self.metrics]
        if self.hashed:
            metrics.append(MetricDef(PARTITION_HASH, "long", "max"))
        return SegmentSchema(dimensions, tuple(metrics), self.rollup, self.query_granularity.to_json())

    def input_columns(self) -> list[str] | None:
        """Columns to read from the input, or None for all of them (schemaless discovery)."""
        if self.dimensions is None:
            return None
        return sorted(self._other_inputs() | {d.name for d in self.dimensions})

    def dictionary_columns(self) -> list[str]:
        """Declared string dimensions read for nothing else: they may arrive dictionary-encoded.

        A column that is also the timestamp, a metric's input, or read by a transform or the filter
        is left out, so that those always see plain values.
        """
        if self.dimensions is None:
            return []
        other = self._other_inputs()
        return [d.name for d in self.dimensions if d.type == "string" and d.name not in other]

    def _other_inputs(self) -> set[str]:
        """Input columns read other than as dimensions: the timestamp, metric inputs, and what the
        transforms and the filter read."""
        cols = {self.timestamp_column}
        for mp in self.metrics:
            if mp.field is not None:
                cols.add(mp.field)
            if mp.expression is not None:
                cols |= set(mp.expression.required_columns())
        for _, expr in self.transforms:
            cols |= set(expr.required_columns())
        if self.filter is not None:
            cols |= _filter_columns(self.filter)
        return cols


def _filter_columns(f: Any) -> set[str]:
    cols = set(f.required_columns())
    for child in getattr(f, "fields", ()) or ():
        cols |= _filter_columns(child)
    inner = getattr(f, "field", None)
    if inner is not None:
        cols |= _filter_columns(inner)
    expression = getattr(f, "expression", None)
    if isinstance(expression, str):
        cols |= set(parse_expression(expression).required_columns())
    return cols


def _metric_plan(agg: Any, i: int) -> MetricPlan:
    path = f"spec.dataSchema.metricsSpec[{i}]"
    desc = agg.to_json()
    if isinstance(agg, CountAggregator):
        return MetricPlan(MetricDef(agg.name, "long", "sum", desc))
    if isinstance(agg, NumericAggregator):
        value_type, op = agg.value_type, agg.op
        kind = {"long": "long", "double": "double", "float": "float"}[value_type]
        expression = parse_expression(agg.expression, f"{path}.expression") if agg.expression else None
        return MetricPlan(MetricDef(agg.name, kind, op, desc), agg.field_name, expression)  # type: ignore[arg-type]
    if isinstance(agg, HyperUniqueAggregator | HllSketchAggregator):
        if isinstance(agg, HyperUniqueAggregator) and agg.is_input_hyper_unique:
            raise Unsupported(
                f"Pre-built hyperUnique input is not supported at ingestion in {path}.isInputHyperUnique",
                f"{path}.isInputHyperUnique",
            )
        if isinstance(agg, HllSketchAggregator) and agg.type == "HLLSketchMerge":
            raise Unsupported(
                f"HLLSketchMerge needs pre-built sketches; use HLLSketchBuild at {path}.type", f"{path}.type"
            )
        lgk = agg.lg_k if isinstance(agg, HllSketchAggregator) else HLL_DEFAULT_LGK
        return MetricPlan(MetricDef(agg.name, "hll", "hll", desc, {"lgK": lgk}), agg.field_name)
    if isinstance(agg, ThetaSketchAggregator):
        if agg.is_input_theta_sketch:
            raise Unsupported(
                f"Pre-built theta sketch input is not supported at ingestion in {path}.isInputThetaSketch",
                f"{path}.isInputThetaSketch",
            )
        return MetricPlan(MetricDef(agg.name, "theta", "theta", desc, {"size": agg.size}), agg.field_name)
    raise InvalidSpec(
        f"Aggregator type [{agg.type}] cannot be used at ingestion in {path}.type; "
        "use count, longSum, doubleSum, floatSum, min/max, hyperUnique, HLLSketchBuild or thetaSketch",
        f"{path}.type",
    )
