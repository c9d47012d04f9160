"""A segment source over segments held in memory: incremental indexes, files opened by hand, tests.

Each datasource's segments become one visible timeline entry each, covering the segment's interval;
versions are not compared (use the metadata-backed source for that).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from grove.common.intervals import Interval
from grove.query.runner import SegmentRef
from grove.segment.segment import Segment


class StaticSegmentSource:
    def __init__(self, segments: Mapping[str, Sequence[Segment]]) -> None:
        self._segments = {ds: list(segs) for ds, segs in segments.items()}

    def has_datasource(self, datasource: str) -> bool:
        return datasource in self._segments

    def segment_refs(self, datasource: str, intervals: Sequence[Interval]) -> list[SegmentRef]:
        refs = []
        for seg in self._segments.get(datasource, []):
            for iv in intervals:
                part = iv.intersect(seg.info.interval)
                if part is not None:
                    refs.append(SegmentRef(None, part, functools.partial(_same, seg), ready=True))
        return refs


def _same(segment: Segment) -> Segment:
    return segment
