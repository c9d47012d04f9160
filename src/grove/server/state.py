"""What route handlers reach through ``request.app.state``: the node, its metrics, settings and the
threads queries run on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request

from grove.cluster.admission import QueryAdmission
from grove.cluster.node import EmbeddedNode
from grove.errors import CapacityExceeded
from grove.server.metrics import NodeMetrics

T = TypeVar("T")


# At most this many query threads, however deep the queue: queries beyond them wait for a thread (in
# the order they came), still counted against the queue.
MAX_QUERY_THREADS = 256


class QueryThreads:
    """The threads the server runs queries on: one for each query admission control may hold (running or
    waiting for a slot, see :class:`~grove.cluster.admission.QueryAdmission`, up to
    :data:`MAX_QUERY_THREADS`), and a query beyond what admission holds is answered 429 at once rather
    than left waiting. Handing a query to these costs less than anyio's shared threads (~65 µs here
    against ~105-145 µs a round trip)."""

    def __init__(self, admission: QueryAdmission) -> None:
        self.admission = admission
        self.capacity = admission.concurrency + admission.queue
        # Threads start as they are needed: one client sending queries in turn reuses one.
        self._pool = ThreadPoolExecutor(
            max_workers=min(self.capacity, MAX_QUERY_THREADS), thread_name_prefix="grove-http-query"
        )
        self._in_flight = 0  # touched on the event loop's thread only

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a query thread; CapacityExceeded when every thread holds a query."""
        if self._in_flight >= self.capacity:
            raise CapacityExceeded(
                f"Too many concurrent queries: [{self.admission.running}] running and "
                f"[{self.admission.waiting}] waiting"
            )
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self._in_flight -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class ServerState:
    node: EmbeddedNode
    metrics: NodeMetrics
    host: str
    max_request_bytes: int
    threads: QueryThreads = field(init=False)

    def __post_init__(self) -> None:
        self.threads = QueryThreads(self.node.admission)


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.grove
    return state
