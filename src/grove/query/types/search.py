"""search: the dimension values matching a search spec, with the number of rows holding each.

Result: ``[{"timestamp": ..., "result": [{"dimension": d, "value": v, "count": n}, ...]}, ...]``, one
entry per time bucket with hits. Hits are sorted by value in the ``sort`` ordering (``lexicographic`` by
default; ``alphanumeric``, ``strlen``, ``numeric``, ``version``), then by dimension name, and cut to
``limit`` (default 1000) per bucket. A multi-value row counts once for each of its values.

``searchDimensions`` takes names or dimension specs (the hit's ``dimension`` is the output name; an
extraction function applies before matching); without it every dimension of each segment is searched,
numeric ones by their text (``12``, ``1.5``), as in Druid. ``query`` is a search spec (``contains``,
``insensitive_contains``, ``fragment``, ``regex``); without one every value matches, null included.
Null values never match a search spec.

The predicate runs once per distinct value present among the selected rows, never per row; rows are
counted per (bucket, value code) with one ``bincount``. grove counts exactly per time bucket of the
query granularity (Druid stamps each segment's hits with the segment's start and merges by bucket);
with granularity ``all`` the single bucket carries the earliest segment start, as in Druid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BeforeValidator

from grove.common.granularity import AllGranularity
from grove.common.models import GranularityField, NonNegativeInt, WireModel
from grove.common.time import format_timestamps
from grove.errors import Unsupported
from grove.query.base import BaseQuery
from grove.query.common import selection_of
from grove.query.expression.values import java_double_strings
from grove.query.extraction import search_predicate
from grove.query.grouping import dimension_codes
from grove.query.ordering import sort_keys
from grove.query.registry import SegmentContext, Toolchest, register
from grove.query.selection import Selection
from grove.query.spec.dimensions import DefaultDimensionSpec, DimensionSpec
from grove.query.spec.extraction import SearchQuerySpec
from grove.query.view import SegmentView

DEFAULT_LIMIT = 1000
_STRING = pa.large_string()
_HITS_SCHEMA = pa.schema(
    [("bucket", pa.int64()), ("dimension", _STRING), ("value", _STRING), ("count", pa.int64())]
)


def _sort_object(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


class SearchSortSpec(WireModel):
    """How hits are ordered by value: ``{"type": "lexicographic"}`` (a bare name is accepted too)."""

    type: Literal["lexicographic", "alphanumeric", "strlen", "numeric", "version"] = "lexicographic"


class SearchQuery(BaseQuery):
    """Druid's search query. ``limit`` 0 means the default (1000), as in Druid."""

    query_type: Literal["search"]
    granularity: GranularityField = AllGranularity()
    search_dimensions: tuple[DimensionSpec, ...] | None = None
    query: SearchQuerySpec | None = None
    sort: Annotated[SearchSortSpec, BeforeValidator(_sort_object)] = SearchSortSpec()
    limit: NonNegativeInt = DEFAULT_LIMIT

    @property
    def hit_limit(self) -> int:
        return self.limit or DEFAULT_LIMIT


def _text(values: pa.Array) -> pa.Array:
    """Dimension values as Druid's search sees them: strings, numbers in Java's text form."""
    t = values.type
    if pa.types.is_large_string(t):
        return values
    if pa.types.is_string(t) or pa.types.is_null(t):
        return values.cast(_STRING)
    if pa.types.is_floating(t):
        return java_double_strings(values).cast(_STRING)
    return pc.cast(values, _STRING)


def _matcher(spec: Any) -> Callable[[pa.Array], np.ndarray]:
    """A vectorised predicate over distinct values; null never matches a spec, and all matches no spec."""
    if spec is None:
        return lambda values: np.ones(len(values), dtype=bool)
    predicate = search_predicate(spec)

    def match(values: pa.Array) -> np.ndarray:
        valid = values.is_valid().to_numpy(zero_copy_only=False)
        try:
            hits = np.asarray(predicate(values.fill_null("")), dtype=bool)
        except pa.ArrowInvalid as e:
            # Patterns are checked with Python's re; Arrow matches with RE2, which lacks look-arounds
            # and back-references.
            raise Unsupported(
                f"Regular expression not supported at query.pattern: {e}", "query.pattern"
            ) from None
        return hits & valid

    return match


def _count(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys and how often each occurs (bincount when the key space is small)."""
    if space <= max(4 * len(keys), 1 << 20):
        counts = np.bincount(keys, minlength=space)
        present = np.flatnonzero(counts)
        return present, counts[present]
    return np.unique(keys, return_counts=True)


def _default_dimensions(view: SegmentView) -> list[DefaultDimensionSpec]:
    return [DefaultDimensionSpec(dimension=d, output_name=d) for d in view.segment.schema.dimension_names]


def _view_hits(query: SearchQuery, view: SegmentView, bucket_all: int) -> pa.Table | None:
    rows_idx, count = selection_of(view, view.select(query.filter))
    if count == 0:
        return None
    sel = Selection(rows_idx, view.lo, view.hi, np.zeros(count, dtype=np.int64), 1)
    if isinstance(query.granularity, AllGranularity):
        buckets = np.array([bucket_all], dtype=np.int64)
        bucket_codes = np.zeros(count, dtype=np.int64)
    else:
        times = view.time() if rows_idx is None else view.segment.time()[rows_idx]
        buckets, inverse = np.unique(query.granularity.bucket_starts(times), return_inverse=True)
        bucket_codes = inverse.astype(np.int64)
    match = _matcher(query.query)
    tables = []
    for spec in query.search_dimensions or _default_dimensions(view):
        dc = dimension_codes(spec, view, sel)
        width = len(dc.values)
        entry_buckets = bucket_codes if dc.positions is None else bucket_codes[dc.positions]
        keys, counts = _count(entry_buckets * width + dc.codes, len(buckets) * width)
        codes = keys % width
        # Match each distinct value that occurs once, then keep the (bucket, value) pairs that match.
        present = np.unique(codes)
        texts = _text(dc.values.take(pa.array(present)))
        matched = np.zeros(width, dtype=bool)
        matched[present] = match(texts)
        keep = matched[codes]
        if not keep.any():
            continue
        kept_codes = codes[keep]
        tables.append(
            pa.table(
                {
                    "bucket": pa.array(buckets[keys[keep] // width], pa.int64()),
                    "dimension": pa.repeat(pa.scalar(spec.output_name, _STRING), len(kept_codes)),
                    "value": texts.take(pa.array(np.searchsorted(present, kept_codes))),
                    "count": pa.array(counts[keep], pa.int64()),
                },
                schema=_HITS_SCHEMA,
            )
        )
    return pa.concat_tables(tables) if tables else None


class SearchToolchest(Toolchest[SearchQuery]):
    """Partials are Arrow tables of hits: ``bucket``, ``dimension``, ``value``, ``count``."""

    query_type = "search"
    model = SearchQuery

    def process(self, query: SearchQuery, views: Sequence[SegmentView], ctx: SegmentContext) -> pa.Table:
        start = (
            ctx.descriptor.interval.start if ctx.descriptor is not None else ctx.segment.info.interval.start
        )
        parts = [hits for view in views if (hits := _view_hits(query, view, start)) is not None]
        return self.merge(query, parts)

    def merge(self, query: SearchQuery, partials: Sequence[pa.Table]) -> pa.Table:
        tables = [t for t in partials if t.num_rows]
        if not tables:
            return _HITS_SCHEMA.empty_table()
        hits = pa.concat_tables(tables)
        if isinstance(query.granularity, AllGranularity):
            first = pc.min(hits.column("bucket")).as_py()
            hits = hits.set_column(0, "bucket", pa.array(np.full(hits.num_rows, first, np.int64)))
        if len(tables) == 1 and not isinstance(query.granularity, AllGranularity):
            return hits
        summed = hits.group_by(["bucket", "dimension", "value"], use_threads=False).aggregate(
            [("count", "sum")]
        )
        columns = {name: summed.column(name) for name in ("bucket", "dimension", "value")}
        return pa.table({**columns, "count": summed.column("count_sum")}, schema=_HITS_SCHEMA)

    def finalize(self, query: SearchQuery, merged: pa.Table) -> list[Any]:
        if merged.num_rows == 0:
            return []
        buckets = merged.column("bucket").to_numpy()
        values = merged.column("value").combine_chunks()
        dimensions = merged.column("dimension").combine_chunks()
        value_rank = sort_keys(values, query.sort.type)
        dimension_rank = sort_keys(dimensions, "lexicographic")
        order = np.lexsort((dimension_rank, value_rank, buckets))
        out: list[Any] = []
        starts = np.unique(buckets)
        stamps = format_timestamps(starts, query.granularity.tz)
        for start, stamp in zip(starts.tolist(), stamps, strict=True):
            idx = order[buckets[order] == start][: query.hit_limit]
            page = merged.take(pa.array(idx)).to_pydict()
            result = [
                {"dimension": d, "value": v, "count": c}
                for d, v, c in zip(page["dimension"], page["value"], page["count"], strict=True)
            ]
            out.append({"timestamp": stamp, "result": result})
        return out


register(SearchToolchest())
