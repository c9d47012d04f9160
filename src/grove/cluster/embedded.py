"""The embedded database: every role in one process, over a home folder.

``grove.open(home="var")`` gives a :class:`Database` with SQLite metadata and local deep storage
under ``home`` (or whatever the settings say). It ingests batch specs and manages segment versions;
every write is recorded as a task in the metadata store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from grove.cluster.segments import SegmentCache, TimelineSegmentSource
from grove.cluster.sql_catalog import NodeCatalogSource
from grove.common.config import Config
from grove.common.intervals import Interval
from grove.common.time import format_timestamp, now_ms
from grove.errors import GroveError, InvalidInput, NotFound
from grove.ingest.batch import BatchIngestion, IngestSummary, Progress
from grove.ingest.spec import IngestionSpec
from grove.ingest.workers import WorkerPool
from grove.metadata.schema import LookupRecord, RevertResult, SegmentRecord
from grove.metadata.store import MetadataStore
from grove.query.lookups import DEFAULT_LOOKUP_TIER, LookupMap, LookupRegistry, parse_lookup_spec
from grove.query.runner import QueryRunner
from grove.segment.segment import DERIVED_MEMORY
from grove.sql.catalog import Catalog
from grove.sql.engine import SqlEngine
from grove.sql.result import SqlResult
from grove.storage.deep import DeepStorage


class Database:
    """An embedded grove database. Thread-compatible; close it when done (or use ``with``)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        Path(config.home).mkdir(parents=True, exist_ok=True)
        self.metadata = MetadataStore(config.metadata_url)
        self.deep_storage = DeepStorage(config.deep_storage)
        self.work_root = Path(config.tmp_dir)
        self.work_root.mkdir(parents=True, exist_ok=True)
        self.workers = WorkerPool(config.workers())
        self.segment_cache = SegmentCache(self.deep_storage, config.segment_cache)
        # Process-wide, like the segments' memory maps: the last database opened sets it.
        DERIVED_MEMORY.limit = max(config.query_index_memory_mb, 0) << 20
        self.segment_source = TimelineSegmentSource(self.metadata, self.segment_cache)
        #: the lookups of tier ``__default`` that queries resolve names against
        self.lookup_registry = LookupRegistry()
        self._lookup_changes = -1
        self._lookup_lock = threading.Lock()
        self.refresh_lookups()
        self.query_runner = QueryRunner(
            self.segment_source, config.threads(), config.query_timeout_ms, self.lookup_registry
        )
        self.sql_engine = SqlEngine(self.query_runner, Catalog(NodeCatalogSource(self)))
        self._tasks: dict[str, tuple[BatchIngestion, threading.Thread]] = {}
        #: called with the summary of every successful write (the server counts ingested rows)
        self.ingest_listeners: list[Callable[[IngestSummary], None]] = []
        self._tasks_lock = threading.Lock()
        self._clean_abandoned_work()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stop_tasks()
        self.query_runner.close()
        self.workers.close()
        self.metadata.close()

    def fail_orphaned_tasks(self, reason: str) -> list[str]:
        """Mark FAILED the RUNNING tasks of this host whose process is gone; returns their ids."""
        failed = []
        host = socket.gethostname()
        for task in self.metadata.list_tasks(status="RUNNING"):
            where = (task.location or "").rsplit(":", 1)
            if len(where) != 2 or where[0] != host:
                continue
            try:
                pid = int(where[1])
            except ValueError:
                continue
            if pid == os.getpid() and task.id in self._tasks:
                continue
            if pid == os.getpid() or not _alive(pid):
                self.metadata.update_task(task.id, "FAILED", error_msg=reason)
                failed.append(task.id)
        return failed

    def _clean_abandoned_work(self) -> None:
        """Remove working folders of writes whose process is gone, and fail their task records."""
        for task_dir in self.work_root.iterdir():
            pid_file = task_dir / "owner.pid"
            try:
                pid = int(pid_file.read_text())
            except (OSError, ValueError):
                pid = -1
            if pid > 0 and _alive(pid):
                continue
            shutil.rmtree(task_dir, ignore_errors=True)
            task = self.metadata.get_task(task_dir.name)
            if task is not None and task.status == "RUNNING":
                self.metadata.update_task(task.id, "FAILED", error_msg="The process running this task died")

    # --- ingestion --------------------------------------------------------------------------------

    def ingest(
        self, spec: Mapping[str, Any] | str | bytes | IngestionSpec, *, progress: Progress | None = None
    ) -> IngestSummary:
        """Run a batch ingestion spec to completion; returns what was published and why rows dropped.

        Raises InvalidSpec for a bad spec, IngestionFailed (or a subclass) when the write fails; a
        failed write leaves nothing visible.
        """
        job = self._prepare(spec, progress)
        return self._execute(job)

    def submit_ingest(self, spec: Mapping[str, Any] | str | bytes | IngestionSpec) -> str:
        """Validate a spec and run it as a background task; returns the task id at once.

        The task's state (RUNNING, SUCCESS, FAILED with its error) lives in the metadata store.
        Raises InvalidSpec (and runs nothing) when the spec is invalid, Conflict for a reused task id.
        """
        job = self._prepare(spec, None)
        thread = threading.Thread(
            target=self._run_quietly, args=(job,), name=f"task-{job.task_id}", daemon=True
        )
        with self._tasks_lock:
            self._tasks[job.task_id] = (job, thread)
        thread.start()
        return job.task_id

    def shutdown_task(self, task_id: str) -> bool:
        """Ask a running task to stop; it ends FAILED with nothing published. False if not running here."""
        with self._tasks_lock:
            entry = self._tasks.get(task_id)
        if entry is None:
            return False
        entry[0].cancel.set()
        return True

    def running_tasks(self) -> list[str]:
        with self._tasks_lock:
            return [tid for tid, (_, thread) in self._tasks.items() if thread.is_alive()]

    def stop_tasks(self, timeout: float = 30.0) -> None:
        """Shut down every running task and wait for them to end (failed, nothing published)."""
        with self._tasks_lock:
            entries = list(self._tasks.values())
        for job, _ in entries:
            job.cancel.set()
        for _, thread in entries:
            thread.join(timeout)

    def _prepare(
        self, spec: Mapping[str, Any] | str | bytes | IngestionSpec, progress: Progress | None
    ) -> BatchIngestion:
        parsed = IngestionSpec.parse(spec)
        raw = dict(spec) if isinstance(spec, Mapping) else parsed.to_json()
        job = BatchIngestion(
            parsed,
            metadata=self.metadata,
            deep_storage=self.deep_storage,
            work_root=self.work_root,
            workers=self.config.workers(),
            progress=progress,
            raw_spec=raw,
            pool=self.workers,
            task_id=parsed.id,
        )
        self.metadata.insert_task(
            job.task_id, parsed.type, parsed.data_source, raw, status="RUNNING", location=_location()
        )
        return job

    def _execute(self, job: BatchIngestion) -> IngestSummary:
        start = time.monotonic()
        try:
            summary = job.run()
        except GroveError as e:
            self.metadata.update_task(
                job.task_id, "FAILED", error_msg=e.message, duration_ms=_ms_since(start)
            )
            raise
        except BaseException as e:
            self.metadata.update_task(
                job.task_id, "FAILED", error_msg=f"{type(e).__name__}: {e}", duration_ms=_ms_since(start)
            )
            raise
        with contextlib.suppress(GroveError):
            # Before SUCCESS is recorded, so that whoever sees SUCCESS can query the new data at once.
            self.segment_source.refresh()
        self.metadata.update_task(
            job.task_id, "SUCCESS", duration_ms=_ms_since(start), report=summary.to_json()
        )
        return summary

    def _run_quietly(self, job: BatchIngestion) -> None:
        # A background task reports through its task record, not by raising.
        with contextlib.suppress(Exception):
            self._execute(job)

    # --- queries ----------------------------------------------------------------------------------

    def query(self, query: Mapping[str, Any] | str | bytes) -> list[Any]:
        """Run a Druid native query (a dict or JSON text); returns Druid's result JSON as Python data.

        Raises InvalidQuery naming the faulty field, NotFound for an unknown datasource, QueryTimeout
        when ``context.timeout`` passes.
        """
        return self.query_runner.run(query)

    def sql(
        self,
        sql: str,
        parameters: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> SqlResult:
        """Run a Druid SQL statement; returns its rows with their column names and types.

        ``parameters`` are typed values for the ``?`` placeholders (``[{"type": "VARCHAR", "value":
        "x"}]``), ``context`` Druid's SQL query context (``sqlQueryId``, ``sqlTimeZone``,
        ``useApproximateTopN``...). Raises SqlError (400) naming what cannot be parsed or planned, and
        the native engine's errors (NotFound, QueryTimeout, ...) as :meth:`query` does.
        """
        return self.sql_engine.execute(sql, parameters=parameters, context=context)

    # --- lookups ----------------------------------------------------------------------------------

    def refresh_lookups(self, force: bool = False) -> bool:
        """Reload the registry from the metadata store when a lookup changed there (any process);
        returns whether it reloaded. Raises StorageError when the store fails."""
        with self._lookup_lock:
            changes = self.metadata.lookup_changes()
            if changes == self._lookup_changes and not force:
                return False
            records = self.metadata.lookups(DEFAULT_LOOKUP_TIER)
            loaded = {}
            for r in records:
                try:
                    loaded[r.name] = LookupMap.from_spec(r.name, parse_lookup_spec(r.to_json()))
                except GroveError:
                    continue  # written by a newer grove or by hand: a query naming it says not found
            self.lookup_registry.replace(loaded)
            self._lookup_changes = changes
            return True

    def set_lookups(self, specs: Mapping[str, Mapping[str, Any]]) -> None:
        """Create or update lookups in bulk, Druid's ``{tier: {name: {"version",
        "lookupExtractorFactory"}}}``; queries see them at once.

        Raises InvalidInput naming the field (``tier.name.version``), Unsupported for a factory type
        other than ``map``, Conflict (nothing written) when an update does not raise a version.
        """
        if not isinstance(specs, Mapping):
            raise InvalidInput("Lookups must be a JSON object of tiers")
        for tier, lookups in specs.items():
            if not isinstance(lookups, Mapping):
                raise InvalidInput(f"Lookups of tier [{tier}] must be a JSON object", str(tier))
            for name, spec in lookups.items():
                parse_lookup_spec(spec, f"{tier}.{name}")
        self.metadata.set_lookups(specs)
        self.refresh_lookups()

    def set_lookup(
        self,
        name: str,
        mapping: Mapping[str, str],
        *,
        version: str | None = None,
        injective: bool = False,
        tier: str = DEFAULT_LOOKUP_TIER,
    ) -> str:
        """Register (or replace) the map lookup ``name``; returns its version.

        ``version`` defaults to the current time (ISO-8601), which sorts after any earlier default
        version; an explicit one must sort after the stored one (else Conflict).
        """
        version = version or format_timestamp(now_ms())
        factory = {"type": "map", "map": dict(mapping), "isOneToOne": bool(injective)}
        self.set_lookups({tier: {name: {"version": version, "lookupExtractorFactory": factory}}})
        return version

    def lookups(self, tier: str | None = None) -> list[LookupRecord]:
        """The stored lookups (of one tier, or every tier), sorted by tier and name."""
        return self.metadata.lookups(tier)

    def delete_lookup(self, name: str, tier: str = DEFAULT_LOOKUP_TIER) -> None:
        """Remove a lookup; NotFound when there is none of that name in ``tier``."""
        if not self.metadata.delete_lookup(tier, name):
            raise NotFound(f"Lookup [{name}] not found in tier [{tier}]")
        self.refresh_lookups()

    def delete_lookup_tier(self, tier: str) -> int:
        """Remove every lookup of ``tier``; returns how many there were."""
        deleted = self.metadata.delete_lookup_tier(tier)
        if deleted:
            self.refresh_lookups()
        return deleted

    # --- segments ---------------------------------------------------------------------------------

    def datasources(self) -> list[str]:
        return self.metadata.datasources()

    def segments(self, datasource: str | None = None, *, include_unused: bool = False) -> list[SegmentRecord]:
        return self.metadata.segments(datasource, used=None if include_unused else True)

    def revert(
        self, datasource: str, interval: Interval | str, to_version: str, namespace: str = ""
    ) -> RevertResult:
        """Make ``to_version`` visible again in ``interval`` and hide the newer versions there."""
        iv = Interval.parse(interval) if isinstance(interval, str) else interval
        if datasource not in self.metadata.datasources(include_unused=True):
            raise NotFound(f"Unknown datasource [{datasource}]")
        return self.metadata.revert(datasource, namespace, iv, to_version)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _location() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _ms_since(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def open_database(home: str | os.PathLike[str] | None = None, **settings: Any) -> Database:
    """Open (creating if needed) the embedded database under ``home``.

    ``settings`` override any setting of :mod:`grove.common.config` (``metadata_url``,
    ``deep_storage``, ``ingest_workers``, ...).
    """
    overrides = dict(settings)
    if home is not None:
        overrides["home"] = str(home)
    return Database(Config.load(overrides))
