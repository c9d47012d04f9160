"""segmentMetadata: per-segment (or merged) facts about columns, sizes, intervals and aggregators.

Result: ``[{"id", "intervals", "columns", "size", "numRows", "aggregators", "timestampSpec",
"queryGranularity", "rollup"}, ...]``, one object per segment ordered by id, or one with id ``merged``
when ``merge`` is true (the segments' id when there is only one). Each column (sorted by name,
``__time`` included) is ``{"typeSignature", "type", "hasMultipleValues", "hasNulls", "size",
"cardinality", "minValue", "maxValue", "errorMessage"}``.

The answer comes from segment metadata — the file footer of persisted segments, the dictionaries of
in-memory ones — never from rows; only the opt-in ``size`` analysis reads string codes (one vectorised
count per column) to weigh each value by the rows holding it. Druid's rules are followed: a string
column's cardinality counts null as a value when the column has nulls, its ``minValue`` is then null
(null sorts first in the dictionary); min/max are reported for string columns only; ``size`` estimates
the column as text (8 bytes per number, 10 per timestamp, UTF-8 bytes per string value, plus one byte
per row and column for separators); complex columns report their type name and size 0.

``analysisTypes`` defaults to ``cardinality``, ``interval``, ``minmax``; fields whose analysis was not
asked for are null (``size`` 0, string ``cardinality`` 0). ``intervals`` defaults to all of time.
Merging aggregators is strict unless ``lenientAggregatorMerge`` (or ``aggregatorMergeStrategy``
``lenient``/``earliest``/``latest``) says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow.compute as pc
from pydantic import BeforeValidator

from grove.common.granularity import SIMPLE_GRANULARITIES
from grove.common.intervals import Interval, condense
from grove.common.models import Str, TaggedUnion, WireModel
from grove.query.base import BaseQuery, Intervals, LenientBool
from grove.query.registry import SegmentContext, Toolchest, register
from grove.query.view import TIME, SegmentView
from grove.segment.columns import NumericColumn, StringColumn
from grove.segment.format import MappedSegment
from grove.segment.schema import MetricDef
from grove.segment.segment import Segment
from grove.timeline.segment_id import SegmentId

ANALYSIS_TYPES = (
    "cardinality",
    "size",
    "interval",
    "aggregators",
    "minmax",
    "timestampspec",
    "querygranularity",
    "rollup",
)
DEFAULT_ANALYSIS_TYPES = ("cardinality", "interval", "minmax")

_TEXT_BYTES = {"long": 8, "float": 8, "double": 8}  # Druid's per-row text size estimates
_TIMESTAMP_TEXT_BYTES = 10


def segment_id_of(ctx: SegmentContext) -> str:
    """The Druid-style id of the segment behind ``ctx`` (from its descriptor, else its info)."""
    if ctx.descriptor is not None:
        return str(ctx.descriptor.id)
    info = ctx.segment.info
    return str(SegmentId(info.datasource, info.interval, info.version, info.partition, info.namespace))


# --- the query --------------------------------------------------------------------------------------


class AllColumns(WireModel):
    type: Literal["all"] = "all"


class NoColumns(WireModel):
    type: Literal["none"] = "none"


class ListedColumns(WireModel):
    type: Literal["list"] = "list"
    columns: tuple[Str, ...]


ToInclude = Annotated[AllColumns | NoColumns | ListedColumns, TaggedUnion("toInclude")]


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


AnalysisType = Annotated[
    Literal[
        "cardinality",
        "size",
        "interval",
        "aggregators",
        "minmax",
        "timestampspec",
        "querygranularity",
        "rollup",
    ],
    BeforeValidator(_lower),
]
MergeStrategy = Annotated[Literal["strict", "lenient", "earliest", "latest"], BeforeValidator(_lower)]


class SegmentMetadataQuery(BaseQuery):
    """Druid's segmentMetadata query; ``filter`` and ``virtualColumns`` are ignored, as in Druid."""

    query_type: Literal["segmentMetadata"]
    intervals: Intervals = (Interval.eternity(),)
    to_include: ToInclude = AllColumns()
    merge: LenientBool = False
    analysis_types: tuple[AnalysisType, ...] | None = None
    lenient_aggregator_merge: LenientBool = False
    aggregator_merge_strategy: MergeStrategy | None = None

    def analyzes(self, kind: str) -> bool:
        return kind in (self.analysis_types if self.analysis_types is not None else DEFAULT_ANALYSIS_TYPES)

    @property
    def merge_strategy(self) -> str:
        if self.aggregator_merge_strategy is not None:
            return self.aggregator_merge_strategy
        return "lenient" if self.lenient_aggregator_merge else "strict"

    def includes(self, column: str) -> bool:
        spec = self.to_include
        if isinstance(spec, NoColumns):
            return False
        if isinstance(spec, ListedColumns):
            return column in spec.columns
        return True


# --- analyses -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnAnalysis:
    """One column's facts, in Druid's ``ColumnAnalysis`` terms."""

    type_signature: str
    type: str
    has_multiple_values: bool = False
    has_nulls: bool = False
    size: int = 0
    cardinality: int | None = None
    min_value: Any = None
    max_value: Any = None
    error_message: str | None = None

    @staticmethod
    def error(reason: str) -> ColumnAnalysis:
        return ColumnAnalysis("STRING", "STRING", size=-1, error_message=f"error:{reason}")

    def fold(self, other: ColumnAnalysis) -> ColumnAnalysis:
        """Druid's merge of one column's analyses from two segments."""
        if self.error_message and other.error_message:
            return (
                self if self.error_message == other.error_message else ColumnAnalysis.error("multiple_errors")
            )
        if self.error_message:
            return self
        if other.error_message:
            return other
        if (self.type, self.type_signature) != (other.type, other.type_signature):
            return ColumnAnalysis.error(
                f"cannot_merge_diff_types: [{self.type_signature}] and [{other.type_signature}]"
            )
        cardinality = self.cardinality
        if cardinality is None:
            cardinality = other.cardinality
        elif other.cardinality is not None:
            cardinality = max(cardinality, other.cardinality)
        # A null minimum means "null is the smallest value", so it wins; a null maximum means unknown.
        low = (
            None
            if self.min_value is None or other.min_value is None
            else min(self.min_value, other.min_value)
        )
        if self.max_value is None or other.max_value is None:
            high = self.max_value if other.max_value is None else other.max_value
        else:
            high = max(self.max_value, other.max_value)
        return ColumnAnalysis(
            self.type_signature,
            self.type,
            self.has_multiple_values or other.has_multiple_values,
            self.has_nulls or other.has_nulls,
            self.size + other.size,
            cardinality,
            low,
            high,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "typeSignature": self.type_signature,
            "type": self.type,
            "hasMultipleValues": self.has_multiple_values,
            "hasNulls": self.has_nulls,
            "size": self.size,
            "cardinality": self.cardinality,
            "minValue": self.min_value,
            "maxValue": self.max_value,
            "errorMessage": self.error_message,
        }


@dataclass(frozen=True)
class SegmentAnalysis:
    """One segment's (or a merge of several segments') analysis."""

    id: str
    start: int
    intervals: tuple[Interval, ...] | None
    columns: dict[str, ColumnAnalysis]
    size: int
    num_rows: int
    aggregators: dict[str, dict[str, Any] | None] | None
    query_granularity: Any
    rollup: bool | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "intervals": [str(iv) for iv in self.intervals] if self.intervals is not None else None,
            "columns": {name: self.columns[name].to_json() for name in sorted(self.columns)},
            "size": self.size,
            "numRows": self.num_rows,
            "aggregators": self.aggregators,
            "timestampSpec": None,
            "queryGranularity": self.query_granularity,
            "rollup": self.rollup,
        }


def complex_type_name(metric: MetricDef) -> str:
    """Druid's complex type name of a sketch metric, from the aggregator that built it."""
    agg = metric.aggregator
    kind = agg.get("type")
    if metric.type == "hll":
        return kind if kind in ("hyperUnique", "HLLSketchBuild", "HLLSketchMerge") else "HLLSketchBuild"
    return "thetaSketchMerge" if agg.get("isInputThetaSketch") else "thetaSketchBuild"


def _granularity_json(value: Any) -> Any:
    """Druid's JSON for a segment's query granularity (simple names are period granularities)."""
    if isinstance(value, str):
        name = value.lower()
        if name in ("none", "all"):
            return {"type": name}
        if name in SIMPLE_GRANULARITIES:
            return {"type": "period", "period": SIMPLE_GRANULARITIES[name], "timeZone": "UTC", "origin": None}
    return value


def _aggregator_json(metric: MetricDef) -> dict[str, Any]:
    """The aggregator a metric was built with; segments written without one get the equivalent."""
    if metric.aggregator:
        return dict(metric.aggregator)
    if metric.is_sketch:
        kind = "HLLSketchBuild" if metric.type == "hll" else "thetaSketch"
        return {"type": kind, "name": metric.name, "fieldName": metric.name}
    op = {"sum": "Sum", "min": "Min", "max": "Max"}[metric.combine]
    return {"type": f"{metric.type}{op}", "name": metric.name, "fieldName": metric.name}


def _string_analysis(segment: Segment, name: str, multi: bool, query: SegmentMetadataQuery) -> ColumnAnalysis:
    meta = segment.column_meta(name) if isinstance(segment, MappedSegment) else None
    col: StringColumn | None = None
    if meta is not None:
        distinct = int(meta["cardinality"]) - 1
        has_nulls = bool(meta["hasNulls"])
        low, high = meta.get("minValue"), meta.get("maxValue")
        multi = bool(meta.get("multiValue", multi))
    else:
        found = segment.column(name)
        col = found if isinstance(found, StringColumn) else None
        if col is None:  # a column the segment lacks holds only nulls
            distinct, has_nulls, low, high = 0, segment.num_rows > 0, None, None
        else:
            distinct = len(col.dictionary)
            has_nulls = bool(np.any(col.codes == 0))
            low = col.dictionary[0].as_py() if distinct else None
            high = col.dictionary[distinct - 1].as_py() if distinct else None
            multi = col.multi_value
    size = 0
    if query.analyzes("size"):
        if col is None:
            found = segment.column(name)
            col = found if isinstance(found, StringColumn) else None
        if col is not None:
            counts = np.bincount(np.asarray(col.codes, dtype=np.int64), minlength=len(col.dictionary) + 1)
            lengths = pc.binary_length(col.dictionary).to_numpy(zero_copy_only=False).astype(np.int64)
            size = int(np.dot(lengths, counts[1:]))
    cardinality = distinct + (1 if has_nulls else 0)
    minmax = query.analyzes("minmax") and cardinality > 0
    return ColumnAnalysis(
        "STRING",
        "STRING",
        multi,
        has_nulls,
        size,
        cardinality if query.analyzes("cardinality") else 0,
        (None if has_nulls else low) if minmax else None,
        high if minmax else None,
    )


def _numeric_analysis(segment: Segment, name: str, kind: str, query: SegmentMetadataQuery) -> ColumnAnalysis:
    meta = segment.column_meta(name) if isinstance(segment, MappedSegment) else None
    if meta is not None:
        has_nulls = bool(meta.get("hasNulls"))
    else:
        col = segment.column(name)
        has_nulls = isinstance(col, NumericColumn) and col.has_nulls
    size = segment.num_rows * _TEXT_BYTES[kind] if query.analyzes("size") else 0
    return ColumnAnalysis(kind.upper(), kind.upper(), False, has_nulls, size)


def analyze_segment(
    segment: Segment, seg_id: str, interval: Interval, query: SegmentMetadataQuery
) -> SegmentAnalysis:
    """The analysis of one whole segment (whose interval is ``interval``), from its metadata."""
    schema = segment.schema
    columns: dict[str, ColumnAnalysis] = {}
    for dim in schema.dimensions:
        if dim.type == "string":
            columns[dim.name] = _string_analysis(segment, dim.name, dim.multi_value, query)
        else:
            columns[dim.name] = _numeric_analysis(segment, dim.name, dim.type, query)
    for met in schema.metrics:
        if met.is_sketch:
            name = complex_type_name(met)
            columns[met.name] = ColumnAnalysis(f"COMPLEX<{name}>", name)
        else:
            columns[met.name] = _numeric_analysis(segment, met.name, met.type, query)
    size_rows = segment.num_rows * _TIMESTAMP_TEXT_BYTES if query.analyzes("size") else 0
    columns[TIME] = ColumnAnalysis("LONG", "LONG", False, False, size_rows)
    total = 0
    if query.analyzes("size"):
        total = len(columns) * segment.num_rows + sum(c.size for c in columns.values() if not c.error_message)
    return SegmentAnalysis(
        seg_id,
        interval.start,
        (interval,) if query.analyzes("interval") else None,
        {name: c for name, c in columns.items() if query.includes(name)},
        total,
        segment.num_rows,
        {m.name: _aggregator_json(m) for m in schema.metrics} if query.analyzes("aggregators") else None,
        _granularity_json(schema.query_granularity) if query.analyzes("querygranularity") else None,
        schema.rollup if query.analyzes("rollup") else None,
    )


# --- merging ------------------------------------------------------------------------------------------


def _combining(agg: dict[str, Any]) -> dict[str, Any]:
    """Druid's combining form of an aggregator: it reads its own output column."""
    kind = {"count": "longSum", "HLLSketchBuild": "HLLSketchMerge"}.get(agg.get("type", ""), agg.get("type"))
    out = {k: v for k, v in agg.items() if k not in ("fieldName", "fields", "expression", "fieldNames")}
    out.update({"type": kind, "fieldName": agg.get("name")})
    if kind == "thetaSketch":
        out["isInputThetaSketch"] = False
    return out


def _family(agg: dict[str, Any]) -> str:
    kind = str(agg.get("type"))
    return "HLLSketch" if kind in ("HLLSketchBuild", "HLLSketchMerge") else kind


def _merge_aggregators(
    analyses: Sequence[SegmentAnalysis], strategy: str
) -> dict[str, dict[str, Any] | None] | None:
    ordered = sorted(analyses, key=lambda a: (a.start, a.id))
    if strategy == "strict" and any(a.aggregators is None for a in ordered):
        return None
    known = [a.aggregators for a in ordered if a.aggregators is not None]
    names = list(dict.fromkeys(name for aggs in known for name in aggs))
    out: dict[str, dict[str, Any] | None] = {}
    for name in names:
        found = [aggs[name] for aggs in known if name in aggs]
        if strategy in ("earliest", "latest"):
            out[name] = found[0] if strategy == "earliest" else found[-1]
            continue
        present = [a for a in found if a is not None]
        if len(present) != len(found) or len({_family(a) for a in present}) != 1:
            if strategy == "strict":
                return None
            out[name] = None
            continue
        out[name] = present[0] if len(present) == 1 else _combining(present[0])
    return out or None


def _same_or_none(values: Sequence[Any]) -> Any:
    first = values[0]
    return first if all(v == first for v in values[1:]) else None


def merge_analyses(analyses: Sequence[SegmentAnalysis], strategy: str) -> SegmentAnalysis:
    """Druid's merge of several segments' analyses into one."""
    if len(analyses) == 1:
        return analyses[0]
    ids = {a.id for a in analyses}
    columns: dict[str, ColumnAnalysis] = {}
    for a in analyses:
        for name, col in a.columns.items():
            columns[name] = columns[name].fold(col) if name in columns else col
    intervals: tuple[Interval, ...] | None = None
    if any(a.intervals is not None for a in analyses):
        intervals = tuple(condense(iv for a in analyses for iv in (a.intervals or ())))
    return SegmentAnalysis(
        ids.pop() if len(ids) == 1 else "merged",
        min(a.start for a in analyses),
        intervals,
        columns,
        sum(a.size for a in analyses),
        sum(a.num_rows for a in analyses),
        _merge_aggregators(analyses, strategy),
        _same_or_none([a.query_granularity for a in analyses]),
        _same_or_none([a.rollup for a in analyses]),
    )


class SegmentMetadataToolchest(Toolchest[SegmentMetadataQuery]):
    """Partials are lists of :class:`SegmentAnalysis` (one, when ``merge`` is on)."""

    query_type = "segmentMetadata"
    model = SegmentMetadataQuery

    def process(
        self, query: SegmentMetadataQuery, views: Sequence[SegmentView], ctx: SegmentContext
    ) -> list[SegmentAnalysis]:
        interval = ctx.descriptor.interval if ctx.descriptor is not None else ctx.segment.info.interval
        return [analyze_segment(ctx.segment, segment_id_of(ctx), interval, query)]

    def merge(
        self, query: SegmentMetadataQuery, partials: Sequence[list[SegmentAnalysis]]
    ) -> list[SegmentAnalysis]:
        # A segment reached through several query intervals is analysed once per interval; keep one.
        analyses = list({a.id: a for part in partials for a in part}.values())
        if query.merge and analyses:
            return [merge_analyses(analyses, query.merge_strategy)]
        return analyses

    def needs_rows(self, query: SegmentMetadataQuery) -> bool:
        return False

    def finalize(self, query: SegmentMetadataQuery, merged: list[SegmentAnalysis]) -> list[Any]:
        return [a.to_json() for a in sorted(merged, key=_by_id)]


def _by_id(analysis: SegmentAnalysis) -> str:
    return analysis.id


register(SegmentMetadataToolchest())
