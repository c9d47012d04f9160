"""Worker processes for batch ingestion, kept warm between writes.

A :class:`WorkerPool` starts its processes (spawned, so no state is inherited) on first use and
keeps them until closed, so a long-lived database pays the start-up cost once. Workers report
progress through a queue tagged with the task id; :meth:`WorkerPool.wait` hands each task's events to
that task's callback.
"""

from __future__ import annotations

import importlib
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any

from grove.common.memory import arrow_uses_the_heap, keep_freed_memory
from grove.errors import IngestionFailed
from grove.segment.warmup import warm_kernels

Progress = Callable[..., None]

_queue: Any = None


def _init_worker(progress_queue: Any) -> None:
    global _queue
    _queue = progress_queue
    keep_freed_memory()
    arrow_uses_the_heap()


def _ready() -> int:
    # Load what the build and merge steps run (modules and compiled kernels), so the first real task
    # does not pay for it.
    importlib.import_module("grove.ingest.batch")
    warm_kernels()
    return len(sys.modules)


def worker_progress(task_id: str) -> Progress:
    """Inside a worker: a progress callback that reports to the parent, tagged with ``task_id``."""

    def report(event: str, **data: Any) -> None:
        if _queue is not None:
            _queue.put((task_id, event, data))

    return report


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start workers without re-running the caller's script.

    Spawned processes normally import the parent's ``__main__`` file, which re-runs a script that
    calls ``grove.open(...).ingest(...)`` at top level without an ``if __name__ == "__main__"``
    guard. Workers only run functions from grove's own modules, so the main module is hidden from
    the spawn preparation while processes start.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved_spec = getattr(main, "__spec__", None)
    saved_file = getattr(main, "__file__", None)
    try:
        main.__spec__ = None
        if saved_file is not None:
            del main.__file__
        yield
    finally:
        main.__spec__ = saved_spec
        if saved_file is not None:
            main.__file__ = saved_file


class WorkerPool:
    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ProcessPoolExecutor | None = None
        self._queue: Any = None
        self._lock = threading.Lock()
        self._listeners: dict[str, Progress] = {}

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``fn(*args)`` in a worker; ``fn`` must live in an importable module."""
        with self._lock:
            if self._executor is None:
                ctx = get_context("spawn")
                self._queue = ctx.Queue()
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=ctx, initializer=_init_worker, initargs=(self._queue,)
                )
            with _main_module_hidden():
                return self._executor.submit(fn, *args)

    def warm(self) -> None:
        """Start every worker now (and load grove's ingestion code in them) rather than on first use."""
        futures = [self.submit(_ready) for _ in range(self.workers)]
        for f in futures:
            f.result()

    def wait(
        self,
        futures: list[Future[Any]],
        task_id: str,
        progress: Progress,
        cancel: threading.Event | None = None,
    ) -> None:
        """Wait for ``futures``, relaying the task's progress; the first failure is raised at once.

        When ``cancel`` is set, jobs not started yet are dropped and IngestionFailed is raised.
        """
        self._listeners[task_id] = progress
        try:
            pending = set(futures)
            while pending:
                if cancel is not None and cancel.is_set():
                    for other in pending:
                        other.cancel()
                    raise IngestionFailed(f"Task [{task_id}] was shut down before it finished")
                finished, pending = wait(pending, timeout=0.2)
                self._drain()
                for f in finished:
                    error = f.exception()
                    if error is not None:
                        for other in pending:
                            other.cancel()
                        raise error
            self._drain()
        finally:
            self._listeners.pop(task_id, None)

    def _drain(self) -> None:
        while self._queue is not None:
            try:
                task_id, event, data = self._queue.get_nowait()
            except queue.Empty:
                return
            listener = self._listeners.get(task_id)
            if listener is not None:
                listener(event, **data)
