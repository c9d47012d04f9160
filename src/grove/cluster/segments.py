"""Serving segments to queries: the local segment cache and the timeline-backed segment source.

:class:`SegmentCache` keeps segments loaded from deep storage under the segment-cache folder (local
``file://`` deep storage is read in place — copying it would only double the disk used) and keeps
opened segments memory-mapped. :class:`TimelineSegmentSource` answers the query runner with the
visible segments of a datasource: it rebuilds the timeline from the metadata store whenever the
store's change counter moves, so newly published or reverted versions are seen without a restart,
and each query sees one consistent timeline.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from grove.common.intervals import Interval
from grove.errors import CorruptSegment
from grove.metadata.store import MetadataStore
from grove.query.runner import SegmentRef
from grove.segment.format import FILE_NAME, MappedSegment
from grove.storage.deep import DeepStorage
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.segment_id import SegmentId
from grove.timeline.timeline import DatasourceTimeline

_OPEN_SEGMENTS = 4096
_RECHECK_S = 0.1


class SegmentCache:
    """Opens segments by descriptor, pulling them from deep storage into ``directory`` when needed."""

    def __init__(self, deep_storage: DeepStorage, directory: str | Path) -> None:
        self.deep = deep_storage
        self.directory = Path(directory)
        # Keyed by SegmentId (hashing it is cheaper than formatting its string form on every query).
        self._open: OrderedDict[SegmentId, MappedSegment] = OrderedDict()
        self._lock = threading.Lock()

    def local_path(self, descriptor: SegmentDescriptor) -> Path:
        spec = descriptor.load_spec
        if spec.get("type") == "local" and spec.get("path"):
            return Path(spec["path"]) / FILE_NAME
        return self.directory / descriptor.datasource / str(descriptor.id) / FILE_NAME

    def open(self, descriptor: SegmentDescriptor) -> MappedSegment:
        key = descriptor.id
        with self._lock:
            seg = self._open.get(key)
            if seg is not None:
                self._open.move_to_end(key)
                return seg
        path = self.local_path(descriptor)
        if not path.exists():
            self.deep.pull(descriptor.load_spec, path.parent)
            fresh = MappedSegment(path)
            try:
                fresh.verify()
            except CorruptSegment:
                path.unlink(missing_ok=True)
                raise
        seg = MappedSegment(path)
        with self._lock:
            self._open[key] = seg
            while len(self._open) > _OPEN_SEGMENTS:
                self._open.popitem(last=False)
        return seg

    def is_open(self, descriptor: SegmentDescriptor) -> bool:
        """Whether :meth:`open` would answer at once (the segment is mapped already)."""
        with self._lock:
            return descriptor.id in self._open

    def drop(self, keep: set[SegmentId]) -> None:
        """Forget open segments that are no longer used."""
        with self._lock:
            for key in [k for k in self._open if k not in keep]:
                del self._open[key]


class TimelineSegmentSource:
    """Visible segments from the metadata store's used segments, refreshed when they change."""

    def __init__(
        self, metadata: MetadataStore, cache: SegmentCache, *, refresh_on_query: bool = True
    ) -> None:
        """``refresh_on_query`` checks the metadata's change counter on every query (embedded use);
        a server turns it off and calls :meth:`refresh` from a poller instead."""
        self.metadata = metadata
        self.cache = cache
        self.refresh_on_query = refresh_on_query
        self._lock = threading.Lock()
        self._version = -1
        self._checked = 0.0
        self._timelines: dict[str, DatasourceTimeline] = {}

    def refresh(self, force: bool = False) -> None:
        """Reload the timelines if the metadata changed since the last load."""
        version = self.metadata.changes()
        with self._lock:
            if version == self._version and not force:
                return
        records = self.metadata.segments(None, used=True)
        by_ds: dict[str, list[SegmentDescriptor]] = {}
        for r in records:
            by_ds.setdefault(r.descriptor.datasource, []).append(r.descriptor)
        timelines = {ds: DatasourceTimeline(segs) for ds, segs in by_ds.items()}
        with self._lock:
            self._timelines = timelines
            self._version = version
        self.cache.drop({d.id for segs in by_ds.values() for d in segs})

    def timelines(self) -> dict[str, DatasourceTimeline]:
        # Embedded use checks the metadata's change counter at most every _RECHECK_S, so a burst of
        # queries costs one cheap metadata read, and writes from other processes show up promptly.
        now = time.monotonic()
        if self._version < 0 or (self.refresh_on_query and now - self._checked >= _RECHECK_S):
            self._checked = now
            self.refresh()
        with self._lock:
            return dict(self._timelines)

    def has_datasource(self, datasource: str) -> bool:
        return datasource in self.timelines()

    def segment_refs(self, datasource: str, intervals: Sequence[Interval]) -> list[SegmentRef]:
        timeline = self.timelines().get(datasource)
        if timeline is None:
            return []
        refs = []
        for iv in intervals:
            for entry in timeline.lookup(iv):
                for seg in entry.segments:
                    opener = functools.partial(self.cache.open, seg)
                    refs.append(SegmentRef(seg, entry.interval, opener, self.cache.is_open(seg)))
        return refs
