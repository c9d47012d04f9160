"""The incremental index: a mutable, queryable set of rows for one time chunk, rolled up as it grows.

Rows arrive as RowBlocks. Each block is sorted (and rolled up, when the schema says so) on arrival;
blocks are compacted together now and then so that rollup across blocks keeps memory down. A query
sees a consistent :class:`InMemorySegment` snapshot; ``persist`` writes the rows as a segment file and
empties the index (the caller keeps the file as one piece of the final segment).
"""

from __future__ import annotations

import os
import threading

from grove.segment.block import RowBlock, union_schema
from grove.segment.format import write_segment
from grove.segment.rollup import sort_rows
from grove.segment.schema import SegmentSchema
from grove.segment.segment import InMemorySegment, SegmentInfo

_COMPACT_EVERY = 8


class IncrementalIndex:
    def __init__(self, info: SegmentInfo, schema: SegmentSchema) -> None:
        self.info = info
        self.schema = schema
        self._blocks: list[RowBlock] = []
        self._rows = 0
        self._snapshot: InMemorySegment | None = None
        self._lock = threading.Lock()

    @property
    def num_rows(self) -> int:
        """Rows held now (after rollup within and across the blocks compacted so far)."""
        return self._rows

    def add(self, block: RowBlock) -> None:
        """Add rows (any order); they are sorted and rolled up here."""
        if block.num_rows == 0:
            return
        block = sort_rows(block, self.schema.rollup)
        with self._lock:
            self._blocks.append(block)
            self._rows += block.num_rows
            self._snapshot = None
            if len(self._blocks) >= _COMPACT_EVERY:
                self._compact()

    def _compact(self) -> RowBlock:
        if len(self._blocks) == 1:
            return self._blocks[0]
        schema = union_schema([self.schema] + [b.schema for b in self._blocks])
        merged = sort_rows(RowBlock.concat(self._blocks, schema), schema.rollup)
        self.schema = schema
        self._blocks = [merged]
        self._rows = merged.num_rows
        return merged

    def snapshot(self) -> InMemorySegment:
        """A consistent queryable view of every row added so far."""
        with self._lock:
            if self._snapshot is None:
                block = self._compact() if self._blocks else RowBlock.empty(self.schema)
                self._snapshot = InMemorySegment(self.info, block)
            return self._snapshot

    def persist(self, path: str | os.PathLike[str]) -> int:
        """Write all rows as a segment file at ``path`` and empty the index; returns the file size."""
        snap = self.snapshot()
        size = write_segment(path, self.info, snap.block)
        with self._lock:
            self._blocks = []
            self._rows = 0
            self._snapshot = None
        return size
