"""Builders shared by the ingestion tests: specs as Druid JSON, plans, and published segments read back.

Specs are plain dicts in Druid's wire shape, so every test goes through ``IngestionSpec.parse`` exactly
as a user's spec would. Published segments are read back from deep storage with ``MappedSegment``, the
way a historical would, never through the ingestion code under test.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from grove.ingest.filtering import FilteredRows, filter_rows
from grove.ingest.plan import IngestPlan
from grove.ingest.spec import IngestionSpec
from grove.ingest.stats import RowStats
from grove.segment.columns import SketchColumn
from grove.segment.format import MappedSegment
from grove.timeline.descriptor import SegmentDescriptor

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
EXAMPLES = REPO / "examples"

HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_577_836_800_000  # 2020-01-01T00:00:00Z

Spec = dict[str, Any]


def task(
    *,
    datasource: str = "t",
    namespace: str | None = None,
    timestamp: dict[str, Any] | None = None,
    dimensions: Sequence[Any] | None = ("d",),
    exclusions: Sequence[str] = (),
    metrics: Sequence[dict[str, Any]] | None = None,
    granularity: dict[str, Any] | None = None,
    transform: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
    fmt: dict[str, Any] | None = None,
    append: bool = False,
    tuning: dict[str, Any] | None = None,
) -> Spec:
    """An ``index_parallel`` task in Druid's JSON; every part has a small default."""
    schema: dict[str, Any] = {
        "dataSource": datasource,
        "timestampSpec": timestamp or {"column": "ts", "format": "auto"},
        "dimensionsSpec": {"dimensions": list(dimensions or ()), "dimensionExclusions": list(exclusions)},
        "metricsSpec": list(
            metrics
            if metrics is not None
            else [{"type": "count", "name": "count"}, {"type": "longSum", "name": "v", "fieldName": "v"}]
        ),
        "granularitySpec": granularity or {"segmentGranularity": "day", "queryGranularity": "none"},
    }
    if namespace is not None:
        schema["namespace"] = namespace
    if transform is not None:
        schema["transformSpec"] = transform
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": schema,
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": source or {"type": "inline", "data": ""},
                "inputFormat": fmt or {"type": "json"},
                "appendToExisting": append,
            },
            "tuningConfig": {"type": "index_parallel", **(tuning or {})},
        },
    }


def inline(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """An inline input source holding ``rows`` as JSON lines."""
    return {"type": "inline", "data": json_lines(rows)}


def json_lines(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(orjson.dumps(r).decode() + "\n" for r in rows)


def with_source(spec: Spec, source: dict[str, Any]) -> Spec:
    out = copy.deepcopy(spec)
    out["spec"]["ioConfig"]["inputSource"] = source
    return out


def plan_of(spec: Spec) -> IngestPlan:
    return IngestPlan.from_spec(IngestionSpec.parse(spec))


def filtered(table: pa.Table, spec: Spec) -> tuple[FilteredRows, RowStats]:
    """Step 1 on one table, with fresh stats."""
    stats = RowStats()
    return filter_rows(table, plan_of(spec), stats), stats


def iso(ms: int) -> str:
    return np.datetime_as_string(np.datetime64(ms, "ms"), unit="ms") + "Z"


# --- published segments -----------------------------------------------------------------------------


def open_segment(descriptor: SegmentDescriptor) -> MappedSegment:
    """The published segment's file, opened from its load spec as a historical would."""
    assert descriptor.load_spec["type"] == "local", descriptor.load_spec
    return MappedSegment(descriptor.load_spec["path"])


def segment_table(segment: MappedSegment) -> pa.Table:
    """Every non-sketch column of a segment decoded with ``to_arrow()``, plus ``__time``."""
    columns: dict[str, pa.Array] = {"__time": pa.array(np.asarray(segment.time(), dtype=np.int64))}
    for name in (*segment.schema.dimension_names, *segment.schema.metric_names):
        col = segment.column(name)
        if col is not None and not isinstance(col, SketchColumn):
            columns[name] = col.to_arrow()
    return pa.table(columns)


def published_table(descriptors: Iterable[SegmentDescriptor]) -> pa.Table:
    """The rows of all the given segments, one table (columns missing from a segment are null)."""
    tables = [segment_table(open_segment(d)) for d in descriptors]
    return pa.concat_tables(tables, promote_options="permissive")


def files_under(root: str | os.PathLike[str]) -> list[Path]:
    """Every regular file below ``root`` (none when it does not exist)."""
    base = Path(root)
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []
