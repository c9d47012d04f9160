"""The versioned interval timeline: which segments are visible, per (datasource, namespace).

Segments with the same interval and version form a *chunk*. A chunk is *complete* when every core
partition (``0 .. partitions-1`` of its shard spec) is present; incomplete chunks are invisible and hide
nothing. For every instant, the complete chunk with the highest version covering it is visible; lower
versions are overshadowed there. Partial overlaps are resolved instant by instant, so a visible entry
may cover only part of its chunk's interval; queries must clip rows to the entry's ``interval``.

A datasource's visible data is the union over its namespaces: versions only compete inside one
namespace.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from grove.common.intervals import Interval
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.segment_id import SegmentId

_KEPT_LOOKUPS = 1024  # answers of DatasourceTimeline.lookup kept per timeline


@dataclass(frozen=True, slots=True)
class Chunk:
    """All segments of one (interval, version) in one namespace."""

    interval: Interval
    version: str
    namespace: str
    segments: tuple[SegmentDescriptor, ...]

    @property
    def complete(self) -> bool:
        core = max((s.shard_spec.partitions for s in self.segments), default=0)
        if core <= 0:
            return bool(self.segments)
        present = {s.partition for s in self.segments}
        return all(p in present for p in range(core))


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """A visible piece of the timeline: ``interval`` is the visible part of ``chunk``."""

    interval: Interval
    chunk: Chunk

    @property
    def version(self) -> str:
        return self.chunk.version

    @property
    def segments(self) -> tuple[SegmentDescriptor, ...]:
        return self.chunk.segments


class _Coverage:
    """A sorted set of disjoint intervals with fast subtraction and union."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def uncovered(self, iv: Interval) -> list[Interval]:
        out: list[Interval] = []
        cursor = iv.start
        i = max(bisect.bisect_right(self._starts, iv.start) - 1, 0)
        while i < len(self._starts) and self._starts[i] < iv.end:
            s, e = self._starts[i], self._ends[i]
            if e > cursor:
                if s > cursor:
                    out.append(Interval(cursor, s))
                cursor = max(cursor, e)
            i += 1
        if cursor < iv.end:
            out.append(Interval(cursor, iv.end))
        return out

    def add(self, iv: Interval) -> None:
        lo = bisect.bisect_left(self._ends, iv.start)
        hi = bisect.bisect_right(self._starts, iv.end)
        start, end = iv.start, iv.end
        if lo < hi:
            start = min(start, self._starts[lo])
            end = max(end, self._ends[hi - 1])
        self._starts[lo:hi] = [start]
        self._ends[lo:hi] = [end]


class VersionedIntervalTimeline:
    """Visibility for the segments of one (datasource, namespace). Built from descriptors; immutable."""

    def __init__(self, segments: Iterable[SegmentDescriptor]) -> None:
        groups: dict[tuple[Interval, str], list[SegmentDescriptor]] = defaultdict(list)
        namespace = ""
        for seg in segments:
            groups[(seg.interval, seg.version)].append(seg)
            namespace = seg.namespace
        self.chunks = [
            Chunk(iv, ver, namespace, tuple(sorted(segs, key=lambda s: s.partition)))
            for (iv, ver), segs in groups.items()
        ]
        self._visible: list[TimelineEntry] = []
        self._overshadowed: list[Chunk] = []
        self._resolve()

    def _resolve(self) -> None:
        coverage = _Coverage()
        by_version: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in self.chunks:
            by_version[chunk.version].append(chunk)
        for version in sorted(by_version, reverse=True):
            complete = []
            for chunk in by_version[version]:
                parts = coverage.uncovered(chunk.interval)
                if not parts:
                    self._overshadowed.append(chunk)
                elif chunk.complete:
                    complete.append(chunk)
                    self._visible.extend(TimelineEntry(p, chunk) for p in parts)
            for chunk in complete:
                coverage.add(chunk.interval)
        self._visible.sort(key=lambda e: (e.interval.start, e.interval.end))
        # Entries of one version may overlap (chunks of equal version with different intervals), so
        # ends are not sorted; the running maximum of the ends is, and finds the first candidate.
        self._max_ends = list(itertools.accumulate((e.interval.end for e in self._visible), max))

    def lookup(self, interval: Interval) -> list[TimelineEntry]:
        """Visible entries overlapping ``interval``, clipped to it, in time order."""
        out = []
        i = bisect.bisect_right(self._max_ends, interval.start)
        while i < len(self._visible) and self._visible[i].interval.start < interval.end:
            entry = self._visible[i]
            clipped = entry.interval.intersect(interval)
            if clipped is not None:
                out.append(TimelineEntry(clipped, entry.chunk))
            i += 1
        return out

    def entries(self) -> list[TimelineEntry]:
        return list(self._visible)

    def overshadowed(self) -> list[SegmentDescriptor]:
        """Segments wholly hidden by higher complete versions: candidates to mark unused."""
        return [s for chunk in self._overshadowed for s in chunk.segments]

    def visible_segments(self, interval: Interval | None = None) -> list[SegmentDescriptor]:
        entries = self._visible if interval is None else self.lookup(interval)
        seen: dict[SegmentId, SegmentDescriptor] = {}
        for e in entries:
            for s in e.segments:
                seen.setdefault(s.id, s)
        return list(seen.values())


class DatasourceTimeline:
    """The union of the per-namespace timelines of one datasource."""

    def __init__(self, segments: Iterable[SegmentDescriptor]) -> None:
        by_ns: dict[str, list[SegmentDescriptor]] = defaultdict(list)
        for seg in segments:
            by_ns[seg.namespace].append(seg)
        self.namespaces = {ns: VersionedIntervalTimeline(segs) for ns, segs in sorted(by_ns.items())}
        self._lookups: dict[Interval, list[TimelineEntry]] = {}

    def lookup(self, interval: Interval) -> list[TimelineEntry]:
        # A timeline never changes once built (a new one replaces it), and reports ask for the same
        # intervals again and again: answers are kept (a copy is returned, callers may change it).
        found = self._lookups.get(interval)
        if found is None:
            found = [e for tl in self.namespaces.values() for e in tl.lookup(interval)]
            found.sort(key=lambda e: (e.interval.start, e.chunk.namespace))
            if len(self._lookups) >= _KEPT_LOOKUPS:
                self._lookups.clear()
            self._lookups[interval] = found
        return list(found)

    def overshadowed(self) -> list[SegmentDescriptor]:
        return [s for tl in self.namespaces.values() for s in tl.overshadowed()]

    def visible_segments(self, interval: Interval | None = None) -> list[SegmentDescriptor]:
        return [s for tl in self.namespaces.values() for s in tl.visible_segments(interval)]
