"""Batch ingestion: the six steps of a write, run in parallel worker processes.

1. filter   — parse timestamps, transform, filter, keep rows inside the intervals (:mod:`.filtering`)
2. partition — bucket rows into time chunks, hash them for hashed partitioning (:mod:`.partitioning`)
3. build    — incremental indexes with rollup, persisted whenever ``maxRowsInMemory`` fills
              (:mod:`.indexing`); steps 1–3 run per input split in worker processes
4. merge    — each chunk's pieces into final segments (:mod:`.merging`), chunks in parallel
5. push     — segment files to deep storage
6. publish  — every segment of the write in one metadata transaction

Nothing is visible before step 6 commits. If any step fails, what was pushed is deleted and the
working folder removed; a write killed outright leaves at most unreferenced files, never a segment
marked used.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grove.common.intervals import Interval
from grove.common.time import format_timestamp, now_ms, parse_timestamp
from grove.errors import GroveError, IngestionFailed, InvalidInput, ParseExceptionLimit
from grove.ingest.filtering import filter_rows
from grove.ingest.indexing import BlockEncoder, IndexBuilder, Piece
from grove.ingest.input import InputSplit, create_splits, read_split
from grove.ingest.merging import AppendTarget, BuiltSegment, merge_chunk
from grove.ingest.partitioning import ChunkMapper
from grove.ingest.plan import IngestPlan
from grove.ingest.spec import IngestionSpec
from grove.ingest.stats import RowStats
from grove.ingest.workers import WorkerPool, worker_progress
from grove.metadata import MetadataStore, Replacement
from grove.storage.deep import DeepStorage
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.timeline import VersionedIntervalTimeline

Progress = Callable[..., None]
"""Called as ``progress(event, **data)``: ``("plan", splits=n)`` once, then ``("stage", name=...)``,
``("rows", rows=k)`` as rows are read and ``("split", done=1)`` as each input split finishes."""

_BATCH_ROWS = 262_144
_MIN_SPLIT_BYTES = 4 << 20


@dataclass
class IngestSummary:
    """What a write did: the segments it published and what happened to every input row."""

    task_id: str
    datasource: str
    namespace: str
    segments: list[SegmentDescriptor]
    stats: RowStats
    overshadowed: list[str] = field(default_factory=list)
    timings_ms: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_after_rollup(self) -> int:
        return sum(s.num_rows for s in self.segments)

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task_id,
            "dataSource": self.datasource,
            "namespace": self.namespace,
            "segments": [
                {
                    "id": str(s.id),
                    "interval": str(s.interval),
                    "version": s.version,
                    "partition": s.partition,
                    "numRows": s.num_rows,
                    "size": s.size,
                }
                for s in self.segments
            ],
            "rowStats": self.stats.to_json(),
            "rowsAfterRollup": self.rows_after_rollup,
            "overshadowed": self.overshadowed,
            "timingsMs": self.timings_ms,
            "warnings": self.warnings,
        }


# --- worker side ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildJob:
    """Steps 1–3 for a set of input splits, run by one worker."""

    spec: dict[str, Any]
    splits: list[InputSplit]
    version: str
    visible_chunks: list[tuple[Interval, Interval]]
    work_dir: str
    worker: int
    task_id: str = ""


@dataclass
class BuildResult:
    pieces: list[Piece]
    stats: RowStats


def run_build_job(job: BuildJob, progress: Progress | None = None) -> BuildResult:
    """Read, filter, partition and index the job's splits; persist pieces under ``job.work_dir``."""
    plan = IngestPlan.from_spec(IngestionSpec.parse(job.spec))
    fmt = plan.spec.spec.io_config.input_format
    builder = IndexBuilder(
        plan,
        job.version,
        ChunkMapper(plan.segment_granularity, job.visible_chunks),
        Path(job.work_dir),
        job.worker,
    )
    stats = RowStats()
    columns = plan.input_columns()
    strings = [d.name for d in plan.dimensions or () if d.type == "string"]
    dictionary = plan.dictionary_columns()
    encoder = BlockEncoder(plan)
    report = progress or worker_progress(job.task_id)
    # A read batch is never bigger than the rows a worker may hold, so memory follows maxRowsInMemory.
    batch_rows = min(_BATCH_ROWS, max(plan.max_rows_in_memory, 1024))
    for split in job.splits:
        for batch in read_split(
            split,
            fmt,
            batch_rows=batch_rows,
            columns=columns,
            string_columns=strings,
            dictionary_columns=dictionary,
        ):
            stats.malformed += batch.parse_errors
            for sample in batch.error_samples:
                stats.note(sample)
            kept = filter_rows(batch.table, plan, stats)
            if kept.num_rows:
                builder.add(encoder.encode(kept, stats))
            report("rows", rows=batch.rows_read)
        report("split", done=1)
    builder.persist_all()
    return BuildResult(builder.pieces, stats)


def run_merge_job(
    spec: dict[str, Any],
    chunk: Interval,
    pieces: list[str],
    version: str,
    out_dir: str,
    append: AppendTarget | None,
) -> list[BuiltSegment]:
    plan = IngestPlan.from_spec(IngestionSpec.parse(spec))
    return merge_chunk(plan, chunk, [Path(p) for p in pieces], version, Path(out_dir), append)


# --- orchestration ----------------------------------------------------------------------------------


def next_version(metadata: MetadataStore, datasource: str, namespace: str) -> str:
    """A version (ISO-8601 of now) strictly greater than every version the datasource/namespace has."""
    version = format_timestamp(now_ms())
    existing = [r.descriptor.version for r in metadata.segments(datasource, namespace=namespace, used=None)]
    if existing:
        top = max(existing)
        if top >= version:
            try:
                version = format_timestamp(parse_timestamp(top) + 1)
            except InvalidInput:
                version = top + "1"
    return version


class BatchIngestion:
    """Runs one batch write end to end. Construct, then :meth:`run`."""

    def __init__(
        self,
        spec: IngestionSpec,
        *,
        metadata: MetadataStore,
        deep_storage: DeepStorage,
        work_root: Path,
        workers: int = 1,
        task_id: str | None = None,
        progress: Progress | None = None,
        raw_spec: dict[str, Any] | None = None,
        pool: WorkerPool | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.spec = spec
        self.raw_spec = raw_spec if raw_spec is not None else spec.to_json()
        self.plan = IngestPlan.from_spec(spec)
        self.metadata = metadata
        self.deep = deep_storage
        self.workers = max(1, workers)
        self.task_id = task_id or f"index_parallel_{self.plan.datasource}_{uuid.uuid4().hex[:12]}"
        self.work_dir = Path(work_root) / self.task_id
        self.progress = progress or (lambda event, **data: None)
        self.timings: dict[str, int] = {}
        self._pushed: list[SegmentDescriptor] = []
        self._pool = pool
        self.cancel = cancel or threading.Event()

    def run(self) -> IngestSummary:
        """Run all six steps; raises a GroveError (with nothing left visible) when the write fails."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "owner.pid").write_text(str(os.getpid()))
        try:
            return self._run()
        except GroveError:
            self._rollback()
            raise
        except Exception as e:
            self._rollback()
            raise IngestionFailed(
                f"Ingestion of [{self.plan.datasource}] failed: {type(e).__name__}: {e}"
            ) from e
        finally:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def _stage(self, name: str) -> Callable[[], None]:
        self._check_cancel()
        self.progress("stage", name=name)
        start = time.perf_counter()

        def done() -> None:
            self.timings[name] = int((time.perf_counter() - start) * 1000)

        return done

    def _run(self) -> IngestSummary:
        if self._pool is not None:
            return self._run_steps(self._pool)
        with WorkerPool(self.workers) as pool:
            return self._run_steps(pool)

    def _run_steps(self, pool: WorkerPool) -> IngestSummary:
        plan = self.plan
        io = self.spec.spec.io_config
        splits = create_splits(
            io.input_source, io.input_format, min_splits=self.workers, min_split_bytes=_MIN_SPLIT_BYTES
        )
        self.progress("plan", splits=len(splits))
        version = next_version(self.metadata, plan.datasource, plan.namespace)
        appends, visible_chunks = self._append_targets() if plan.append else ({}, [])
        warnings: list[str] = []

        done = self._stage("build")
        pieces, stats = self._build(pool, splits, version, visible_chunks)
        done()
        if stats.parse_exceptions > plan.max_parse_exceptions:
            raise ParseExceptionLimit(
                f"Ingestion of [{plan.datasource}] failed: {stats.parse_exceptions} row(s) could not be parsed, "
                f"more than maxParseExceptions [{plan.max_parse_exceptions}]"
                + (f"; first: {stats.samples[0]}" if stats.samples else "")
            )
        done = self._stage("merge")
        built = self._merge(pool, pieces, version, appends)
        done()
        replacing = None
        if plan.drop_existing and plan.intervals:
            replacing = Replacement(plan.datasource, plan.namespace, plan.intervals, version)
        if not built:
            warnings.append(
                "No rows were ingested; older segments inside the intervals were dropped (dropExisting)."
                if replacing
                else "No rows were ingested, so nothing was published."
            )
        done = self._stage("push")
        descriptors = self._push(built)
        done()
        done = self._stage("publish")
        overshadowed = self.metadata.publish(descriptors, replacing) if descriptors or replacing else []
        done()
        return IngestSummary(
            self.task_id,
            plan.datasource,
            plan.namespace,
            descriptors,
            stats,
            [str(s.id) for s in overshadowed],
            dict(self.timings),
            warnings,
        )

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise IngestionFailed(f"Task [{self.task_id}] was shut down before it finished")

    def _append_targets(self) -> tuple[dict[Interval, AppendTarget], list[tuple[Interval, Interval]]]:
        """The visible chunks of the namespace to append into, and the (visible part, chunk) pieces."""
        records = self.metadata.segments(self.plan.datasource, namespace=self.plan.namespace, used=True)
        timeline = VersionedIntervalTimeline(r.descriptor for r in records)
        targets: dict[Interval, AppendTarget] = {}
        pieces: list[tuple[Interval, Interval]] = []
        for entry in timeline.entries():
            chunk = entry.chunk
            pieces.append((entry.interval, chunk.interval))
            if chunk.interval in targets:
                continue
            core = max(s.shard_spec.partitions for s in chunk.segments)
            nxt = max(s.partition for s in chunk.segments) + 1
            targets[chunk.interval] = AppendTarget(chunk.version, nxt, core)
        return targets, pieces

    def _build(
        self,
        pool: WorkerPool,
        splits: list[InputSplit],
        version: str,
        visible: list[tuple[Interval, Interval]],
    ) -> tuple[list[Piece], RowStats]:
        jobs = [
            BuildJob(self.raw_spec, part, version, visible, str(self.work_dir / "pieces"), i, self.task_id)
            for i, part in enumerate(_assign(splits, self.workers))
            if part
        ]
        (self.work_dir / "pieces").mkdir(parents=True, exist_ok=True)
        stats = RowStats()
        pieces: list[Piece] = []
        if len(jobs) <= 1:
            results = [run_build_job(job, self.progress) for job in jobs]
        else:
            futures = [pool.submit(run_build_job, job) for job in jobs]
            pool.wait(futures, self.task_id, self.progress, self.cancel)
            results = [f.result() for f in futures]
        for result in results:
            pieces.extend(result.pieces)
            stats.add(result.stats)
        return pieces, stats

    def _merge(
        self, pool: WorkerPool, pieces: list[Piece], version: str, appends: dict[Interval, AppendTarget]
    ) -> list[BuiltSegment]:
        by_chunk: dict[Interval, list[str]] = defaultdict(list)
        rows: dict[Interval, int] = defaultdict(int)
        for p in pieces:
            by_chunk[p.chunk].append(str(p.path))
            rows[p.chunk] += p.num_rows
        if not by_chunk:
            return []
        merged_root = self.work_dir / "merged"
        chunks = sorted(by_chunk)
        args = [
            (
                self.raw_spec,
                chunk,
                by_chunk[chunk],
                version,
                str(merged_root / str(chunk.start)),
                appends.get(chunk),
            )
            for chunk in chunks
        ]
        built: list[BuiltSegment] = []
        if len(args) == 1 or self.workers == 1:
            for a in args:
                built.extend(run_merge_job(*a))
        else:
            # Chunks held in several pieces are rewritten, the rest mostly moved into place: the
            # rewrites go first, largest first, so that the moves fill the other workers meanwhile
            # instead of a rewrite starting last and running alone.
            def rewritten_rows(i: int) -> int:
                return rows[chunks[i]] if len(by_chunk[chunks[i]]) > 1 else 0

            first = sorted(range(len(args)), key=rewritten_rows, reverse=True)
            futures = {i: pool.submit(run_merge_job, *args[i]) for i in first}
            pool.wait(list(futures.values()), self.task_id, self.progress, self.cancel)
            for i in range(len(args)):
                built.extend(futures[i].result())
        for p in pieces:
            p.path.unlink(missing_ok=True)
        return built

    def _push(self, built: list[BuiltSegment]) -> list[SegmentDescriptor]:
        def push(b: BuiltSegment) -> SegmentDescriptor:
            load_spec, size = self.deep.push(b.directory, b.descriptor.id)
            descriptor = b.descriptor.with_load_spec(load_spec, size)
            self._pushed.append(descriptor)
            return descriptor

        with ThreadPoolExecutor(max(1, min(4, len(built)))) as pool:
            return list(pool.map(push, built))

    def _rollback(self) -> None:
        for d in self._pushed:
            with contextlib.suppress(GroveError):
                self.deep.delete(d.load_spec)
        self._pushed.clear()


def _assign(splits: list[InputSplit], workers: int) -> list[list[InputSplit]]:
    """Spread splits over workers, largest first, each to the least-loaded worker."""
    loads = [0] * workers
    parts: list[list[InputSplit]] = [[] for _ in range(workers)]
    for split in sorted(splits, key=lambda s: -s.size):
        i = loads.index(min(loads))
        parts[i].append(split)
        loads[i] += max(split.size, 1)
    return parts
