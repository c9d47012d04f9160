"""dataSourceMetadata: the time of the latest ingested event of a datasource.

Result: ``[{"timestamp": t, "result": {"maxIngestedEventTime": t}}]`` with ``t`` the latest ``__time``
(ISO-8601) of the visible segments that ``intervals`` (all of time by default) reaches, or ``[]`` when
it reaches none. As in Druid, each segment counts with its own latest event, whether or not the
query interval covers it, and no filter applies; it is read from segment metadata (the footer of
persisted segments), not from rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from grove.common.intervals import Interval
from grove.common.time import format_timestamp
from grove.query.base import BaseQuery, Intervals
from grove.query.registry import SegmentContext, Toolchest, register
from grove.query.view import SegmentView

MAX_INGESTED_EVENT_TIME = "maxIngestedEventTime"


class DataSourceMetadataQuery(BaseQuery):
    """Druid's dataSourceMetadata query (``filter`` is ignored, as in Druid)."""

    query_type: Literal["dataSourceMetadata"]
    intervals: Intervals = (Interval.eternity(),)


class DataSourceMetadataToolchest(Toolchest[DataSourceMetadataQuery]):
    """Partials are the latest event time (epoch ms) or None."""

    query_type = "dataSourceMetadata"
    model = DataSourceMetadataQuery

    def process(
        self, query: DataSourceMetadataQuery, views: Sequence[SegmentView], ctx: SegmentContext
    ) -> int | None:
        return ctx.segment.max_time

    def merge(self, query: DataSourceMetadataQuery, partials: Sequence[int | None]) -> int | None:
        times = [t for t in partials if t is not None]
        return max(times) if times else None

    def needs_rows(self, query: DataSourceMetadataQuery) -> bool:
        return False

    def finalize(self, query: DataSourceMetadataQuery, merged: int | None) -> list[Any]:
        if merged is None:
            return []
        stamp = format_timestamp(merged)
        return [{"timestamp": stamp, "result": {MAX_INGESTED_EVENT_TIME: stamp}}]


register(DataSourceMetadataToolchest())
