"""The queryable segment interface shared by every flavour.

A :class:`Segment` is data: time-sorted rows of one datasource chunk, with columns reachable by
name. The flavours are :class:`InMemorySegment` (built from a RowBlock, e.g. an incremental index
snapshot) and the memory-mapped segment of :mod:`grove.segment.format` (persisted or merged). Query
engines only use this interface.
"""

from __future__ import annotations

import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from grove.common.intervals import Interval
from grove.segment.block import RowBlock
from grove.segment.columns import Column, NumericColumn, StringColumn
from grove.segment.schema import SegmentSchema


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """Identity of a segment's data (the metadata store holds the full descriptor)."""

    datasource: str
    interval: Interval
    version: str = ""
    namespace: str = ""
    partition: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "dataSource": self.datasource,
            "interval": str(self.interval),
            "version": self.version,
            "namespace": self.namespace,
            "partition": self.partition,
        }

    @staticmethod
    def from_json(obj: dict[str, Any]) -> SegmentInfo:
        return SegmentInfo(
            obj["dataSource"],
            Interval.parse(obj["interval"]),
            obj.get("version", ""),
            obj.get("namespace", ""),
            int(obj.get("partition", 0)),
        )


_MISSING = object()


class DerivedMemory:
    """The bytes that open segments' derived values (:meth:`Segment.derived`) hold, against a limit.

    Derived values (runs of the first dimension and their metric totals) speed up filters on a
    segment's first dimension; the limit (setting ``query_index_memory_mb``) keeps them from growing
    with the data a node serves: past it, segments keep nothing more and queries read rows instead.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, size: int, *, always: bool = False) -> bool:
        """Count ``size`` more bytes if they fit under the limit (or ``always``); whether they did."""
        with self._lock:
            if self.used + size > self.limit and not always:
                return False
            self.used += size
            return True

    def release(self, held: list[int]) -> None:
        with self._lock:
            self.used -= held[0]
            held[0] = 0


#: shared by every segment of the process
DERIVED_MEMORY = DerivedMemory(1024 << 20)
_DERIVED_LOCK = threading.Lock()


def _nbytes(value: Any) -> int:
    """Memory an array, or a tuple of arrays, holds (other values count as nothing)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, tuple):
        return sum(_nbytes(v) for v in value)
    return 0


class Segment(ABC):
    """Immutable, time-sorted rows with named columns."""

    info: SegmentInfo
    schema: SegmentSchema

    @property
    @abstractmethod
    def num_rows(self) -> int:
        """Number of rows."""

    @abstractmethod
    def time(self) -> np.ndarray:
        """The sorted int64 ``__time`` column (epoch ms)."""

    @abstractmethod
    def column(self, name: str) -> Column | None:
        """The column called ``name`` (dimension or metric), or None when the segment lacks it."""

    @property
    def size_bytes(self) -> int:
        return 0

    @property
    def column_names(self) -> tuple[str, ...]:
        return self.schema.dimension_names + self.schema.metric_names

    @property
    def min_time(self) -> int | None:
        t = self.time()
        return int(t[0]) if len(t) else None

    @property
    def max_time(self) -> int | None:
        t = self.time()
        return int(t[-1]) if len(t) else None

    def time_column(self) -> NumericColumn:
        return NumericColumn("long", self.time())

    def to_block(self) -> RowBlock:
        """All rows as a RowBlock (arrays may be views of the underlying storage)."""
        columns: dict[str, Column] = {}
        for name in self.column_names:
            col = self.column(name)
            if col is not None:
                columns[name] = col
        return RowBlock(self.schema, self.time(), columns)

    def time_runs(self) -> np.ndarray:
        """Boundaries of the runs of equal ``__time`` (int64, starts then the end), computed once.

        Rows are sorted by time and then by the dimensions in schema order, so inside one run the
        first dimension's codes are sorted: a value's rows there are one contiguous range.
        """
        return cast(np.ndarray, self.derived("time runs", self._compute_time_runs, always=True))

    def _compute_time_runs(self) -> np.ndarray:
        t = self.time()
        change = np.flatnonzero(t[1:] != t[:-1]) + 1 if len(t) > 1 else np.zeros(0, dtype=np.int64)
        return np.concatenate([[0], change, [len(t)]]).astype(np.int64)

    def prefix_runs(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Runs of rows with equal ``__time`` and first dimension, computed once: their boundaries
        (int64, starts then the end) and each run's code of the first dimension.

        Rows are sorted by time and then by the dimensions in schema order, so the rows of one
        (time, first dimension value) pair are contiguous: a filter on the first dimension selects
        whole runs by their codes, without touching the rows. None when the first dimension is not
        a single-value string column, or its runs are so short (under 4 rows on average) that
        scanning the rows costs no more.
        """
        return cast(
            "tuple[np.ndarray, np.ndarray] | None", self.derived("prefix runs", self._compute_prefix_runs)
        )

    def _compute_prefix_runs(self) -> tuple[np.ndarray, np.ndarray] | None:
        dims = self.schema.dimensions
        col = self.column(dims[0].name) if dims else None
        n = self.num_rows
        if not isinstance(col, StringColumn) or col.multi_value or n == 0:
            return None
        codes, t = col.codes, self.time()
        inner = np.flatnonzero((codes[1:] != codes[:-1]) | (t[1:] != t[:-1])) + 1
        if len(inner) * 4 > n:
            return None
        bounds = np.concatenate([[0], inner, [n]]).astype(np.int64)
        return bounds, codes[bounds[:-1]]

    def derived(self, key: Any, compute: Callable[[], Any], *, always: bool = False) -> Any:
        """A value derived from the segment's (immutable) rows, computed by ``compute`` the first time
        ``key`` is asked for and kept as long as the segment is open.

        Kept values count against the process-wide :data:`DERIVED_MEMORY`; a value that does not fit
        is not kept and None is returned (now and later), so callers fall back to reading rows.
        ``always`` keeps it anyway (still counted): for values every query of its kind needs.
        """
        memo: dict[Any, Any] | None = getattr(self, "_derived", None)
        if memo is None:
            with _DERIVED_LOCK:
                memo = getattr(self, "_derived", None)
                if memo is None:
                    memo = {}
                    # What this segment's values hold is given back when the segment goes away.
                    self._derived_bytes = held = [0]
                    weakref.finalize(self, DERIVED_MEMORY.release, held)
                    self._derived = memo
        found = memo.get(key, _MISSING)
        if found is _MISSING:
            value = compute()
            with _DERIVED_LOCK:
                # Another thread may have kept the same value meanwhile: count it once.
                found = memo.get(key, _MISSING)
                if found is _MISSING:
                    size = _nbytes(value)
                    found = value if DERIVED_MEMORY.take(size, always=always) else None
                    self._derived_bytes[0] += size if found is not None else 0
                    memo[key] = found
        return found

    def rows_in(self, interval: Interval) -> tuple[int, int]:
        """Row range ``[lo, hi)`` whose time lies in ``interval`` (time is sorted)."""
        t = self.time()
        lo = int(np.searchsorted(t, interval.start, side="left"))
        hi = int(np.searchsorted(t, interval.end, side="left"))
        return lo, hi


class InMemorySegment(Segment):
    """A segment over an in-memory RowBlock whose rows are already in segment order."""

    def __init__(self, info: SegmentInfo, block: RowBlock) -> None:
        self.info = info
        self.schema = block.schema
        self.block = block

    @property
    def num_rows(self) -> int:
        return self.block.num_rows

    def time(self) -> np.ndarray:
        return self.block.time

    def column(self, name: str) -> Column | None:
        if name == "__time":
            return self.time_column()
        return self.block.columns.get(name)

    def to_block(self) -> RowBlock:
        return self.block
