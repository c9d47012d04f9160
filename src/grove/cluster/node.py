"""The all-in-one node: every Druid role in one process, over an embedded :class:`Database`.

Broker and historical: native queries through admission control, over timelines that a poller keeps
current (newly published, reverted or dropped segments show up within ``segment_poll_ms`` without a
restart; each query sees one consistent timeline, so a version swap is atomic for it). The same poller
reloads the registered lookups when another process changed them. Overlord:
ingestion tasks in the background. Coordinator: the metadata APIs (rules, used/unused segments).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from grove.cluster.admission import QueryAdmission
from grove.cluster.embedded import Database
from grove.common.config import Config
from grove.errors import GroveError

_FAILED_ON_RESTART = "The server stopped while this task was running; nothing of it was published"


class EmbeddedNode:
    """One process serving queries, tasks and metadata for a home folder."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.db = Database(config)
        self.db.segment_source.refresh_on_query = False
        self.db.segment_source.refresh(force=True)
        self.admission = QueryAdmission(config.concurrency(), config.query_queue)
        # Tasks left RUNNING by a dead process can never finish: fail them (nothing was published).
        self.db.fail_orphaned_tasks(_FAILED_ON_RESTART)
        self.started = time.time()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="segment-poller", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        period = max(self.config.segment_poll_ms, 10) / 1000
        while not self._stop.wait(period):
            try:
                self.db.segment_source.refresh()
                self.db.refresh_lookups()
            except GroveError:
                continue  # the metadata store is briefly unavailable; try again next period

    def query(self, query: Mapping[str, Any] | str | bytes) -> list[Any]:
        """Run a native query under admission control (429 when the queue is full)."""
        with self.admission.slot(self._slot_timeout_s()):
            return self.db.query(query)

    def query_json(self, query: Mapping[str, Any] | str | bytes) -> bytes | memoryview:
        """:meth:`query` with the result as JSON bytes, as the HTTP API sends it."""
        with self.admission.slot(self._slot_timeout_s()):
            return self.db.query_runner.run_json(query)

    def _slot_timeout_s(self) -> float | None:
        return self.config.query_timeout_ms / 1000 if self.config.query_timeout_ms > 0 else None

    def close(self, grace_s: float = 30.0) -> None:
        """Stop: running tasks are shut down (and recorded FAILED), then everything is closed."""
        self._stop.set()
        self.db.stop_tasks(grace_s)
        self.db.close()
