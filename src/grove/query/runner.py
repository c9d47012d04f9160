"""Running a native query: parse, find segments, process them in parallel, merge, finalize.

The runner asks a :class:`SegmentSource` for the visible segments of the query's datasources that
overlap its intervals (pruning by interval happens there, before any segment is opened), builds one
view per (segment, query interval), and runs the type's engine on each segment in a thread pool (the
kernels release the GIL). ``context.timeout`` is enforced: when it passes, the query stops and fails
with Druid's timeout error; a cancelled query fails the same way with Druid's cancellation error.
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from grove.common.gcpause import gc_paused
from grove.common.intervals import Interval
from grove.common.jsonout import dumps
from grove.common.models import parse_model
from grove.errors import GroveError, InvalidInput, InvalidQuery, NotFound, QueryCancelled, QueryTimeout
from grove.query.base import BaseQuery
from grove.query.lookups import LookupRegistry, using_lookups
from grove.query.registry import SegmentContext, Toolchest, toolchest_for
from grove.query.view import SegmentView, VirtualColumnSpec
from grove.segment.segment import Segment
from grove.timeline.descriptor import SegmentDescriptor


@dataclass(frozen=True)
class SegmentRef:
    """A visible segment: its descriptor, the part of it the timeline shows, and how to open it."""

    descriptor: SegmentDescriptor | None
    visible: Interval
    open: Callable[[], Segment]
    #: opening is instant (the segment is in memory or already mapped), not a pull from deep storage
    ready: bool = False


class SegmentSource(Protocol):
    """Where segments come from: an embedded node, a historical, or a test."""

    def segment_refs(self, datasource: str, intervals: Sequence[Interval]) -> list[SegmentRef]:
        """Visible segments of ``datasource`` overlapping ``intervals`` (clipped to what is visible)."""
        ...

    def has_datasource(self, datasource: str) -> bool: ...


_POLL_SECONDS = 0.05


_MIN_SPLIT_ROWS = 131_072  # rows below which a segment is not worth splitting across threads
_INLINE_ROWS = 200_000  # total rows below which a query runs on the calling thread
# Work left after the first unit (estimated from its time) below which the rest runs here too.
_INLINE_SECONDS = 0.003
# Runs in a row that went to the threads after which a kept query skips timing its first segment.
_POOLED_AFTER = 2
# Parsing a query (pydantic) costs ~0.25 ms for a small one and more for long IN lists: reports repeat
# the same queries, so parsed queries are kept, this many of at most this size of JSON each.
_PARSED_ENTRIES = 256
_PARSED_KEY_BYTES = 256 * 1024


class _Cancelled(Exception):
    pass


def _parse_key(data: Mapping[str, Any]) -> bytes | None:
    """What identifies a query's parse: its JSON without the context, when the context is a plain
    object (parsing reads nothing from it) and the query is small enough to keep; None otherwise."""
    context = data.get("context", {})
    if not isinstance(context, dict):
        return None
    try:
        key = orjson.dumps({k: v for k, v in data.items() if k != "context"})
    except TypeError:
        return None
    return key if len(key) <= _PARSED_KEY_BYTES else None


class ParsedQuery:
    """A kept parse (see QueryRunner.parse and QueryRunner.keep) and, once a run has made it, the query
    type's prepared work (plans, aggregator objects), which depends on the parsed query alone, not on
    its context."""

    __slots__ = ("_prepared", "pooled", "query", "toolchest")

    def __init__(self, toolchest: Toolchest[Any], query: BaseQuery) -> None:
        self.toolchest, self.query = toolchest, query
        self._prepared: Any = _UNSET
        #: runs in a row whose first segment (loaded already) showed the rest worth sharing among threads
        #: (see QueryRunner._run)
        self.pooled = 0

    def prepared(self, query: BaseQuery) -> Any:
        found = self._prepared
        if found is _UNSET:
            found = self._prepared = self.toolchest.prepare(query)
        return found


_UNSET = object()


class QueryRunner:
    """Runs native queries over a segment source. Thread-safe; share one per node."""

    def __init__(
        self,
        source: SegmentSource,
        threads: int | None = None,
        default_timeout_ms: int | None = None,
        lookups: LookupRegistry | None = None,
    ) -> None:
        self.source = source
        #: the registered lookups queries resolve names against (none registered when None)
        self.lookups = lookups
        self.default_timeout_ms = default_timeout_ms
        self._threads = threads or os.cpu_count() or 2
        self._pool = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 2, thread_name_prefix="grove-query"
        )
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        # Parsed queries by their JSON without the context (see _parse_key), least recently used first.
        self._parsed: OrderedDict[bytes, ParsedQuery] = OrderedDict()

    def _units(self, toolchest: Toolchest[Any], refs: list[SegmentRef]) -> list[tuple[SegmentRef, int, int]]:
        """Work units: one per segment, or several row ranges of a large segment when there are
        fewer segments than threads and the query type can merge partial results of one segment."""
        if not toolchest.splittable or len(refs) >= self._threads:
            return [(ref, 0, 1) for ref in refs]
        units: list[tuple[SegmentRef, int, int]] = []
        for ref in refs:
            rows = ref.descriptor.num_rows if ref.descriptor is not None else ref.open().num_rows
            parts = max(1, min(self._threads, rows // _MIN_SPLIT_ROWS))
            units.extend((ref, i, parts) for i in range(parts))
        return units

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def parse(self, data: Mapping[str, Any] | str | bytes | BaseQuery) -> tuple[Toolchest[Any], BaseQuery]:
        """The toolchest and typed model of a native query (raises InvalidQuery naming the field)."""
        toolchest, query, _ = self._parse(data)
        return toolchest, query

    def _parse(
        self, data: Mapping[str, Any] | str | bytes | BaseQuery
    ) -> tuple[Toolchest[Any], BaseQuery, ParsedQuery | None]:
        """:meth:`parse`, with the kept parse when there is one (None otherwise)."""
        if isinstance(data, BaseQuery):
            return toolchest_for(data.query_type), data, None
        if isinstance(data, str | bytes):
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError as e:
                raise InvalidQuery(f"Malformed JSON: {e}") from None
        if not isinstance(data, Mapping):
            raise InvalidQuery("A native query must be a JSON object")
        key = _parse_key(data)
        if key is not None:
            with self._lock:
                hit = self._parsed.get(key)
                if hit is not None:
                    self._parsed.move_to_end(key)
            if hit is not None:
                # Only the context differs between runs of one query (a fresh queryId each time): a
                # dict field, copied in without validating the rest again.
                return hit.toolchest, hit.query.model_copy(update={"context": data.get("context", {})}), hit
        entry = self.keep(data)
        if key is None:
            return entry.toolchest, entry.query, None
        with self._lock:
            self._parsed[key] = entry
            while len(self._parsed) > _PARSED_ENTRIES:
                self._parsed.popitem(last=False)
        return entry.toolchest, entry.query, entry

    def keep(self, data: Mapping[str, Any]) -> ParsedQuery:
        """A native query parsed once for :meth:`run_kept`, which runs it again and again with other
        contexts (as SQL runs the native query of a cached plan). Raises InvalidQuery naming the field."""
        toolchest = toolchest_for(data.get("queryType"))
        return ParsedQuery(toolchest, parse_model(toolchest.model, dict(data), error=InvalidQuery))

    def run_kept(self, kept: ParsedQuery, context: Mapping[str, Any]) -> list[Any]:
        """:meth:`run` of a kept query with ``context`` as its context (nothing else is parsed again)."""
        with using_lookups(self.lookups):
            query = kept.query.model_copy(update={"context": context})
            result: list[Any] = self._run_parsed(kept.toolchest, query, kept, as_json=False)
            return result

    def cancel(self, query_id: str) -> bool:
        """Cancel a running query by its ``context.queryId``; False when no such query runs."""
        with self._lock:
            event = self._running.get(query_id)
        if event is None:
            return False
        event.set()
        return True

    def run(self, data: Mapping[str, Any] | str | bytes | BaseQuery) -> list[Any]:
        # Lookups resolve against this runner's registry everywhere inside the query (worker threads
        # included, see _run), so extraction functions and expressions need not carry it along.
        with using_lookups(self.lookups):
            toolchest, query, entry = self._parse(data)
            result: list[Any] = self._run_parsed(toolchest, query, entry, as_json=False)
            return result

    def run_json(self, data: Mapping[str, Any] | str | bytes | BaseQuery) -> bytes | memoryview:
        """Like :meth:`run`, with the result as JSON bytes (what a server sends; possibly a memoryview
        of them): big answers are written straight from their columns when the query type can (see
        ``Toolchest.finalize_json``)."""
        with using_lookups(self.lookups):
            toolchest, query, entry = self._parse(data)
            text: bytes | memoryview = self._run_parsed(toolchest, query, entry, as_json=True)
            return text

    def _run_parsed(
        self, toolchest: Toolchest[Any], query: BaseQuery, entry: ParsedQuery | None, *, as_json: bool
    ) -> Any:
        query_id = query.query_id
        cancel = threading.Event()
        if query_id:
            with self._lock:
                self._running[query_id] = cancel
        try:
            return self._run(toolchest, query, entry, cancel, as_json)
        except InvalidInput as e:
            # Parts shared with ingestion (expressions, extraction functions) raise the generic
            # InvalidInput; inside a query it is the query that is invalid.
            if type(e) is InvalidInput:
                raise InvalidQuery(e.message, e.path) from None
            raise
        finally:
            if query_id:
                with self._lock:
                    self._running.pop(query_id, None)

    def _run(
        self,
        toolchest: Toolchest[Any],
        query: BaseQuery,
        entry: ParsedQuery | None,
        cancel: threading.Event,
        as_json: bool,
    ) -> Any:
        timeout = (
            query.context_int("timeout", self.default_timeout_ms)
            if self.default_timeout_ms is not None
            else query.timeout_ms
        )
        deadline = time.monotonic() + timeout / 1000 if timeout > 0 else None
        intervals = query.condensed_intervals
        refs: list[SegmentRef] = []
        for ds in query.data_source:
            if not self.source.has_datasource(ds):
                raise NotFound(f"Unknown datasource [{ds}]")
            refs.extend(self.source.segment_refs(ds, intervals))
        virtual = VirtualColumnSpec.from_models(query.virtual_columns)
        prepared = entry.prepared(query) if entry is not None else toolchest.prepare(query)

        def work(batch: Iterable[tuple[SegmentRef, int, int]], premerge: bool = True) -> list[Any]:
            partials = []
            for ref, part, parts in batch:
                if cancel.is_set() or (deadline is not None and time.monotonic() > deadline):
                    raise _Cancelled
                segment = ref.open()
                views = []
                for visible in self._visible(intervals, ref):
                    view = SegmentView(segment, visible, virtual)
                    views.append(view.part(part, parts) if parts > 1 else view)
                ctx = SegmentContext(segment, ref.descriptor, ref.visible, prepared)
                partials.append(toolchest.process(query, views, ctx))
            # Aggregating types merge associatively, so each pool thread merges its own share first
            # (on the calling thread, the final merge takes them all at once).
            if premerge and toolchest.splittable and len(partials) > 1:
                return [toolchest.merge(query, partials)]
            return partials

        def here(batch: list[tuple[SegmentRef, int, int]]) -> Any:
            return self._stopping(query, deadline, timeout, lambda: work(batch, premerge=False))

        if refs and all(ref.ready for ref in refs):
            # Some queries are answered for all segments at once (see Toolchest.process_all).
            def opened() -> Iterator[tuple[Segment, list[SegmentView]]]:
                for ref in refs:
                    if cancel.is_set() or (deadline is not None and time.monotonic() > deadline):
                        raise _Cancelled
                    segment = ref.open()
                    views = [SegmentView(segment, v, virtual) for v in self._visible(intervals, ref)]
                    yield segment, views

            whole = self._stopping(
                query, deadline, timeout, lambda: toolchest.process_all(query, prepared, opened())
            )
            if whole is not None:
                return self._finish(toolchest, query, [whole], deadline, timeout, as_json)
        units = self._units(toolchest, refs)
        if self._small(refs):
            # A handful of small segments: handing them to threads costs more than it saves.
            return self._finish(toolchest, query, here(units), deadline, timeout, as_json)
        # The first unit runs alone and is timed: when units are cheap (an index picks a few rows of
        # big segments, as for one advertiser's report), the rest run on this thread, since handing
        # them to threads would cost more than it saves. A first segment that must be loaded first runs
        # on a pool thread, so that a cancel or timeout is noticed even while it loads. A kept parse
        # remembers a query that went to the threads twice in a row, timed on a loaded segment (a
        # first run may also work out what later runs reuse), and its next runs go there straight away.
        partials: list[Any] = []
        if entry is None or entry.pooled < _POOLED_AFTER:
            started = time.perf_counter()
            loaded = units[0][0].ready
            if loaded:
                partials = here(units[:1])
            else:
                partials = self._gather(query, [self._submit(work, units[:1])], cancel, deadline, timeout)
            if (time.perf_counter() - started) * (len(units) - 1) <= _INLINE_SECONDS:
                if entry is not None:
                    entry.pooled = 0
                return self._finish(toolchest, query, partials + here(units[1:]), deadline, timeout, as_json)
            if entry is not None and loaded:
                entry.pooled += 1
            units = units[1:]
        partials += self._spread(query, work, units, cancel, deadline, timeout)
        return self._finish(toolchest, query, partials, deadline, timeout, as_json)

    def _spread(
        self,
        query: BaseQuery,
        work: Callable[[Iterable[tuple[SegmentRef, int, int]]], list[Any]],
        units: list[tuple[SegmentRef, int, int]],
        cancel: threading.Event,
        deadline: float | None,
        timeout: int,
    ) -> list[Any]:
        """The partial results of ``units``, run by the pool's threads, which take them one at a time
        from a shared queue (a thread that gets slower units, or less of the machine, takes fewer), and
        by this thread too when every segment is loaded (otherwise it waits, so that a cancel or timeout
        is noticed even while a segment loads)."""
        queue = iter(units)  # next() hands each unit to one thread: it runs under the GIL
        helping = all(ref.ready for ref, _, _ in units)
        tasks = max(1, min(self._threads - helping, len(units) - helping))
        futures = [self._submit(work, queue) for _ in range(tasks)]
        mine: list[Any] = []
        if helping:
            try:
                mine = self._stopping(query, deadline, timeout, lambda: work(queue))
            except BaseException:
                cancel.set()  # the pool's threads stop before their next unit
                raise
        return mine + self._gather(query, futures, cancel, deadline, timeout)

    @staticmethod
    def _visible(intervals: Sequence[Interval], ref: SegmentRef) -> list[Interval]:
        """The parts of the query's intervals that the segment shows."""
        return [v for v in (iv.intersect(ref.visible) for iv in intervals) if v is not None]

    @staticmethod
    def _stopping(query: BaseQuery, deadline: float | None, timeout: int, run: Callable[[], Any]) -> Any:
        """``run()`` on this thread, a stop between its segments raised as Druid's timeout or
        cancellation error."""
        try:
            return run()
        except _Cancelled:
            if deadline is not None and time.monotonic() >= deadline:
                raise QueryTimeout(
                    f"Query [{query.query_id or 'unnamed'}] timed out after [{timeout}] ms"
                ) from None
            raise QueryCancelled(f"Query [{query.query_id or 'unnamed'}] was cancelled") from None

    def _submit(self, work: Callable[[Any], Any], batch: Iterable[Any]) -> Future[Any]:
        # In a copy of this thread's context, so the query's lookups are active in the pool thread.
        return self._pool.submit(contextvars.copy_context().run, work, batch)

    def _gather(
        self,
        query: BaseQuery,
        futures: list[Future[Any]],
        cancel: threading.Event,
        deadline: float | None,
        timeout: int,
    ) -> list[Any]:
        """The partial results of ``futures``, waking up now and then so that a cancel or the deadline
        stops the query even while segments still run (the error of a failed unit is raised)."""
        while True:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0)
            step = _POLL_SECONDS if remaining is None else min(remaining, _POLL_SECONDS)
            done, pending = wait(futures, timeout=step, return_when=FIRST_EXCEPTION)
            failed = any(f.exception() is not None for f in done)
            expired = deadline is not None and time.monotonic() >= deadline
            if not pending or failed or expired or cancel.is_set():
                break
        for f in futures:
            if f.done() and f.exception() is not None and not isinstance(f.exception(), _Cancelled):
                for p in pending:
                    p.cancel()
                error = f.exception()
                if isinstance(error, GroveError):
                    raise error
                raise error  # type: ignore[misc]
        if pending or cancel.is_set() or any(isinstance(f.exception(), _Cancelled) for f in done):
            for p in pending:
                p.cancel()
            cancel.set()
            if deadline is not None and time.monotonic() >= deadline:
                raise QueryTimeout(f"Query [{query.query_id or 'unnamed'}] timed out after [{timeout}] ms")
            raise QueryCancelled(f"Query [{query.query_id or 'unnamed'}] was cancelled")
        return [p for f in futures for p in f.result()]

    def _finish(
        self,
        toolchest: Toolchest[Any],
        query: BaseQuery,
        partials: list[Any],
        deadline: float | None,
        timeout: int,
        as_json: bool,
    ) -> Any:
        merged = toolchest.merge(query, partials) if partials else toolchest.empty(query)
        if deadline is not None and time.monotonic() > deadline:
            raise QueryTimeout(f"Query [{query.query_id or 'unnamed'}] timed out after [{timeout}] ms")
        with gc_paused():
            if not as_json:
                return toolchest.finalize(query, merged)
            text = toolchest.finalize_json(query, merged)
            return text if text is not None else dumps(toolchest.finalize(query, merged))

    def _small(self, refs: list[SegmentRef]) -> bool:
        """Whether a query reads so little that it should run on the calling thread."""
        # Only segments whose size is known without opening them qualify; a query on the calling thread
        # notices a cancel between segments only, which for this little work comes soon enough.
        total = 0
        for ref in refs:
            if ref.descriptor is None:
                return False
            total += ref.descriptor.num_rows
            if total > _INLINE_ROWS:
                return False
        return True
