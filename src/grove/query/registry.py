"""The query-type registry: each query type registers its toolchest; the runner dispatches on it.

A toolchest is one query type's anatomy (STYLE: Druid's query/engine/toolchest/result): its model,
its per-segment engine (``process``), how partial results merge (``merge``, also what a broker does)
and the final result shape (``finalize``). Modules in :mod:`grove.query.types` register themselves
when imported; the runner never lists the types.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from grove.common.intervals import Interval
from grove.errors import InvalidQuery
from grove.query.base import BaseQuery
from grove.query.view import SegmentView
from grove.segment.segment import Segment
from grove.timeline.descriptor import SegmentDescriptor

Q = TypeVar("Q", bound=BaseQuery)


@dataclass(frozen=True)
class SegmentContext:
    """What an engine may know about the segment behind a view (ids, the visible interval)."""

    segment: Segment
    descriptor: SegmentDescriptor | None
    visible: Interval
    prepared: Any = None  # what the toolchest's prepare() returned for this query


class Toolchest(ABC, Generic[Q]):
    """One query type. Subclasses set ``query_type`` and ``model`` and register an instance."""

    query_type: str
    model: type[Q]
    #: True when partial results of parts of one segment merge correctly (aggregating types), so a
    #: large segment may be split across threads.
    splittable: bool = False

    @abstractmethod
    def process(self, query: Q, views: Sequence[SegmentView], ctx: SegmentContext) -> Any:
        """The partial result of one segment (its views are the query intervals inside it)."""

    @abstractmethod
    def merge(self, query: Q, partials: Sequence[Any]) -> Any:
        """Merge partial results (from segments, or from other nodes) into one partial result."""

    @abstractmethod
    def finalize(self, query: Q, merged: Any) -> list[Any]:
        """The result JSON (a list, in Druid's shape for this type)."""

    def finalize_json(self, query: Q, merged: Any) -> bytes | memoryview | None:
        """The result as JSON bytes (or a memoryview of them), exactly what
        ``grove.common.jsonout.dumps(finalize(...))`` gives, when this type can write them faster than
        building rows; None otherwise (the default)."""
        return None

    def process_all(
        self, query: Q, prepared: Any, segments: Iterable[tuple[Segment, Sequence[SegmentView]]]
    ) -> Any:
        """The partial result of all the query's segments at once (each with its views), when this
        type answers the query that way (see :mod:`grove.query.runtotals`); None otherwise, and the
        runner processes the segments one by one. ``segments`` opens them as it is read."""
        return None

    def prepare(self, query: Q) -> Any:
        """Work done once per query before any segment (plans, aggregator objects); passed to
        ``process`` as ``ctx.prepared``."""
        return None

    def empty(self, query: Q) -> Any:
        """The partial result when no segment matches."""
        return self.merge(query, [])

    def needs_rows(self, query: Q) -> bool:
        """False for types answered from segment metadata alone (no filter, no rows read)."""
        return True


_REGISTRY: dict[str, Toolchest[Any]] = {}
_loaded = False


def register(toolchest: Toolchest[Any]) -> Toolchest[Any]:
    _REGISTRY[toolchest.query_type] = toolchest
    return toolchest


def _load_types() -> None:
    global _loaded
    if _loaded:
        return
    package = importlib.import_module("grove.query.types")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"grove.query.types.{info.name}")
    _loaded = True


def toolchest_for(query_type: Any) -> Toolchest[Any]:
    _load_types()
    if not isinstance(query_type, str):
        raise InvalidQuery("Missing required field [queryType]", "queryType")
    found = _REGISTRY.get(query_type)
    if found is None:
        known = ", ".join(sorted(_REGISTRY))
        raise InvalidQuery(
            f"Unknown query type [{query_type}] at queryType; known types: {known}", "queryType"
        )
    return found


def query_types() -> list[str]:
    _load_types()
    return sorted(_REGISTRY)
