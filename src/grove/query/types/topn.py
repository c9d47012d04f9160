"""topN: the top ``threshold`` values of one dimension per time bucket, ranked by a metric.

Result: ``[{"timestamp": "...", "result": [{dimension: value, metric: ...}, ...]}]``. grove computes
exact per-segment aggregates for every value and merges them before ranking, so its topN is exact
where Druid's is approximate. Metric specs: a metric name or ``numeric`` (descending), ``inverted``
(ascending), ``dimension`` (by value, ``lexicographic``/``alphanumeric``/``numeric``/``strlen``/
``version``, with ``previousStop``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np

from grove.common.granularity import AllGranularity
from grove.common.models import (
    GranularityField,
    NonEmptyStr,
    PositiveInt,
    StringValue,
    TaggedUnion,
    WireModel,
)
from grove.common.time import format_timestamps
from grove.errors import InvalidQuery
from grove.query.aggregation import Aggregation, build_aggregations
from grove.query.base import BaseQuery
from grove.query.common import stamp
from grove.query.fastpath import FastPlan, plan_query
from grove.query.ordering import sort_keys
from grove.query.postaggregation import apply_post_aggregations, post_aggregator_names
from grove.query.registry import SegmentContext, Toolchest, register
from grove.query.spec.aggregators import Aggregator
from grove.query.spec.dimensions import DimensionSpec
from grove.query.spec.postaggregators import PostAggregator
from grove.query.types.groupby import TIME_KEY, KeyedPartial, merge_keyed, process_keyed
from grove.query.view import SegmentView


class NumericMetricSpec(WireModel):
    type: Literal["numeric"] = "numeric"
    metric: NonEmptyStr


class InvertedMetricSpec(WireModel):
    type: Literal["inverted"] = "inverted"
    metric: TopNMetricSpec


class DimensionMetricSpec(WireModel):
    type: Literal["dimension", "lexicographic", "alphaNumeric"] = "dimension"
    ordering: str = "lexicographic"
    previous_stop: StringValue | None = None


def _metric_string(value: Any) -> dict[str, Any]:
    return {"type": "numeric", "metric": value}


TopNMetricSpec = Annotated[
    NumericMetricSpec | InvertedMetricSpec | DimensionMetricSpec,
    TaggedUnion("topN metric", string_form=_metric_string),
]
InvertedMetricSpec.model_rebuild()


class TopNQuery(BaseQuery):
    query_type: Literal["topN"]
    granularity: GranularityField = AllGranularity()
    dimension: DimensionSpec
    threshold: PositiveInt
    metric: TopNMetricSpec
    aggregations: tuple[Aggregator, ...] = ()
    post_aggregations: tuple[PostAggregator, ...] = ()


def _ranking(
    metric: Any, columns: dict[str, list[Any]], dim_name: str, invert: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(sort key ascending = best first, keep mask) for a metric spec."""
    n = len(columns[dim_name])
    if isinstance(metric, InvertedMetricSpec):
        return _ranking(metric.metric, columns, dim_name, not invert)
    if isinstance(metric, NumericMetricSpec):
        if metric.metric not in columns:
            raise InvalidQuery(
                f"topN metric [{metric.metric}] is not an aggregator or post-aggregator", "metric"
            )
        vals = np.array([np.nan if v is None else float(v) for v in columns[metric.metric]], dtype=np.float64)
        # Descending by default; nulls last either way.
        key = np.where(np.isnan(vals), np.inf, -vals if not invert else vals)
        return key, np.ones(n, dtype=bool)
    ordering = (
        metric.ordering.lower()
        if metric.type == "dimension"
        else ("alphanumeric" if metric.type == "alphaNumeric" else "lexicographic")
    )
    values = columns[dim_name]
    if metric.previous_stop is None:
        return sort_keys(values, ordering, descending=invert).astype(np.float64), np.ones(n, dtype=bool)
    # Rank the stop value together with the values so that the ranks are comparable.
    ranks = sort_keys([*values, metric.previous_stop], ordering, descending=invert)
    return ranks[:-1].astype(np.float64), ranks[:-1] > ranks[-1]


class TopNToolchest(Toolchest[TopNQuery]):
    query_type = "topN"
    splittable = True
    model = TopNQuery

    def prepare(self, query: TopNQuery) -> tuple[list[Aggregation], FastPlan | None]:
        aggs = build_aggregations(query.aggregations)
        return aggs, plan_query(query, [query.dimension], aggs)

    def process(self, query: TopNQuery, views: Sequence[SegmentView], ctx: SegmentContext) -> KeyedPartial:
        aggs, plan = ctx.prepared if ctx.prepared is not None else self.prepare(query)
        return process_keyed(query, views, [query.dimension], aggs, plan)

    def merge(self, query: TopNQuery, partials: Sequence[KeyedPartial]) -> KeyedPartial:
        return merge_keyed(build_aggregations(query.aggregations), partials)

    def finalize(self, query: TopNQuery, merged: KeyedPartial) -> list[Any]:
        aggs = build_aggregations(query.aggregations)
        post_aggregator_names(query.post_aggregations)
        n = merged.keys.num_rows
        if n == 0:
            return []
        dim_name = query.dimension.output_name
        times = stamp(merged.keys.column(TIME_KEY).to_numpy(), query.granularity, merged.start)
        finals = apply_post_aggregations(aggs, merged.states, query.post_aggregations, n)
        columns: dict[str, list[Any]] = {dim_name: merged.keys.column(dim_name).to_pylist()}
        for name, fin in finals.items():
            columns[name] = fin.to_list()
        key, keep = _ranking(query.metric, columns, dim_name)
        tie = sort_keys(columns[dim_name], "lexicographic")
        out: list[Any] = []
        names = [dim_name, *finals]
        for bucket in np.unique(times):
            idx = np.flatnonzero((times == bucket) & keep)
            order = idx[np.lexsort((tie[idx], key[idx]))][: query.threshold]
            result = [{name: columns[name][i] for name in names} for i in order.tolist()]
            when = format_timestamps(np.array([bucket]), query.granularity.tz)[0]
            out.append({"timestamp": when, "result": result})
        return out


register(TopNToolchest())
