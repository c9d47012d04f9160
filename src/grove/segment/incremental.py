"""The incremental index: a mutable, queryable set of rows for one time chunk, rolled up as it grows.

Rows arrive as RowBlocks. While rollup pays, each block is rolled up on arrival and blocks are
compacted together now and then so that rollup across blocks keeps memory down; otherwise rows are
sorted (and rolled up) once, when needed. A query sees a consistent :class:`InMemorySegment`
snapshot; ``persist`` writes the rows as a segment file and empties the index (the caller keeps the
file as one piece of the final segment). Both hold only the dictionary values some row holds.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from grove.segment.block import RowBlock, exact_dictionaries, union_schema
from grove.segment.format import write_segment
from grove.segment.radix import stable_argsort
from grove.segment.rollup import row_keys, sort_rows
from grove.segment.schema import SegmentSchema
from grove.segment.segment import InMemorySegment, SegmentInfo

_COMPACT_EVERY = 8
_ROLLUP_PAYS = 0.9  # rollup on arrival while it removes at least a tenth of the rows


class IncrementalIndex:
    """Rows of one time chunk. ``rollup_pays=False`` skips trying rollup on arrival (the caller has
    seen that its data hardly rolls up)."""

    def __init__(self, info: SegmentInfo, schema: SegmentSchema, *, rollup_pays: bool = True) -> None:
        self.info = info
        self.schema = schema
        self._blocks: list[RowBlock] = []
        self._rows = 0
        self._snapshot: InMemorySegment | None = None
        self._sorted = False
        self._rollup_pays = rollup_pays
        self._lock = threading.Lock()

    @property
    def rollup_pays(self) -> bool:
        """False once a block has shown that rolling up on arrival hardly shrinks it."""
        return self._rollup_pays

    @property
    def num_rows(self) -> int:
        """Rows held now (after rollup within and across the blocks compacted so far)."""
        return self._rows

    def add(self, block: RowBlock) -> None:
        """Add rows in any order.

        While rollup pays (it would shrink blocks by a tenth or more), each block is rolled up on
        arrival and blocks are compacted together now and then, keeping memory down. When the data
        hardly rolls up, blocks are kept as they come and sorted once, when a snapshot or persist
        needs it.
        """
        if block.num_rows == 0:
            return
        is_sorted = False
        if self.schema.rollup and self._rollup_pays:
            # The keys are counted in sorted order (a radix sort costs less than hashing them), and
            # when rollup pays, that order rolls the block up.
            key = row_keys(block)
            order = stable_argsort(key)
            ordered = key[order]
            distinct = 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))
            if distinct > block.num_rows * _ROLLUP_PAYS:
                self._rollup_pays = False
            else:
                block = sort_rows(block, True, key, order)
                is_sorted = True
        with self._lock:
            self._blocks.append(block)
            self._sorted = is_sorted and len(self._blocks) == 1
            self._rows += block.num_rows
            self._snapshot = None
            if self._rollup_pays and len(self._blocks) >= _COMPACT_EVERY:
                self._compact()

    def _compact(self) -> RowBlock:
        if len(self._blocks) == 1 and self._sorted:
            return self._blocks[0]
        schema = union_schema([self.schema] + [b.schema for b in self._blocks])
        merged = sort_rows(RowBlock.concat(self._blocks, schema), schema.rollup)
        self.schema = schema
        self._blocks = [merged]
        self._sorted = True
        self._rows = merged.num_rows
        return merged

    def snapshot(self) -> InMemorySegment:
        """A consistent queryable view of every row added so far."""
        with self._lock:
            if self._snapshot is None:
                block = self._compact() if self._blocks else RowBlock.empty(self.schema)
                self._snapshot = InMemorySegment(self.info, exact_dictionaries(block))
            return self._snapshot

    def persist(self, path: str | os.PathLike[str], *, bitmaps: bool = True, durable: bool = True) -> int:
        """Write all rows as a segment file at ``path`` and empty the index; returns the file size.

        ``bitmaps``/``durable`` as in :func:`write_segment` (an ingestion's pieces need neither).
        """
        # Take the rows out before the (slow) write, so that rows added meanwhile stay for the next
        # persist instead of being dropped with the rest; a failed write puts the taken rows back.
        with self._lock:
            block = self._compact() if self._blocks else RowBlock.empty(self.schema)
            self._blocks = []
            self._sorted = False
            self._rows = 0
            self._snapshot = None
        try:
            return write_segment(path, self.info, exact_dictionaries(block), bitmaps=bitmaps, durable=durable)
        except BaseException:
            with self._lock:
                if block.num_rows:
                    self._blocks.insert(0, block)
                    self._rows += block.num_rows
                self._snapshot = None
            raise
