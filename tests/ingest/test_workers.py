"""The worker pool: processes started once (their initializer included) and reused between writes."""

from __future__ import annotations

import os

from grove.ingest.workers import WorkerPool


def test_workers_start_once_and_run_jobs_in_other_processes() -> None:
    with WorkerPool(2) as pool:
        pool.warm()  # runs each worker's initializer (progress queue, allocator settings) and imports
        first = {pool.submit(os.getpid).result() for _ in range(6)}
        again = {pool.submit(os.getpid).result() for _ in range(6)}
    assert os.getpid() not in first
    assert len(first | again) <= 2  # the same two processes serve every job
