"""Admission control for queries: a bounded number run at once, a bounded number wait, the rest are shed.

Shedding load early (Druid answers 429 "Query capacity exceeded") keeps latency bounded for the
queries that are admitted instead of letting every query slow down together.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from grove.errors import CapacityExceeded, QueryTimeout


class QueryAdmission:
    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = max(1, concurrency)
        self.queue = max(0, queue)
        self._running = 0
        self._waiting = 0
        self._cond = threading.Condition()

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextmanager
    def slot(self, timeout_s: float | None = None) -> Iterator[None]:
        """Hold a query slot for the duration of the block.

        Raises CapacityExceeded at once when every slot is busy and the queue is full, and
        QueryTimeout when no slot frees up within ``timeout_s``.
        """
        with self._cond:
            if self._running >= self.concurrency:
                if self._waiting >= self.queue:
                    raise CapacityExceeded(
                        f"Too many concurrent queries: [{self._running}] running and [{self._waiting}] waiting"
                    )
                self._waiting += 1
                try:
                    if not self._cond.wait_for(lambda: self._running < self.concurrency, timeout_s):
                        raise QueryTimeout("Query timed out waiting for a query slot")
                finally:
                    self._waiting -= 1
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify()
