"""The server's query threads: one per query admission control may hold, a query beyond them refused at
once with 429 (never left waiting for a thread), and their answers and errors passed back."""

from __future__ import annotations

import asyncio
import threading

import pytest

from grove.cluster.admission import QueryAdmission
from grove.errors import CapacityExceeded, NotFound
from grove.server.state import MAX_QUERY_THREADS, QueryThreads


def test_a_query_beyond_the_threads_is_refused_at_once() -> None:
    admission = QueryAdmission(concurrency=1, queue=2)
    threads = QueryThreads(admission)
    release = threading.Event()
    started = threading.Semaphore(0)

    def held(i: int) -> int:
        started.release()
        with admission.slot():
            assert release.wait(10)
            return i

    async def scenario() -> list[int]:
        held_queries = [asyncio.ensure_future(threads.run(held, i)) for i in range(3)]
        for _ in range(3):
            await asyncio.to_thread(started.acquire)  # every held query is on its thread
        with pytest.raises(CapacityExceeded, match=r"\[1\] running and \[\d\] waiting") as info:
            await threads.run(held, 99)
        assert info.value.status == 429
        release.set()
        return list(await asyncio.gather(*held_queries))

    try:
        assert asyncio.run(scenario()) == [0, 1, 2]

        async def after() -> int:
            return await threads.run(lambda: 7)  # capacity is back once they finish

        assert asyncio.run(after()) == 7
    finally:
        release.set()
        threads.close()


def test_errors_come_back_from_the_thread() -> None:
    threads = QueryThreads(QueryAdmission(concurrency=1, queue=0))

    def failing() -> None:
        raise NotFound("Unknown datasource [x]")

    try:
        with pytest.raises(NotFound, match="Unknown datasource"):
            asyncio.run(threads.run(failing))
    finally:
        threads.close()


def test_a_deep_queue_shares_a_bounded_number_of_threads() -> None:
    admission = QueryAdmission(concurrency=1, queue=MAX_QUERY_THREADS + 50)
    threads = QueryThreads(admission)
    try:
        assert threads.capacity == MAX_QUERY_THREADS + 51  # 429 comes only past the whole queue
        assert threads._pool._max_workers == MAX_QUERY_THREADS

        async def many() -> list[int]:
            return list(await asyncio.gather(*(threads.run(lambda i=i: i) for i in range(300))))

        assert asyncio.run(many()) == list(range(300))
    finally:
        threads.close()
