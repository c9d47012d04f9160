"""The metadata store: segments, rules, tasks and lookups in one SQL database (SQLAlchemy Core).

SQLite (a file) is the embedded default; MySQL/MariaDB (``mysql+pymysql://``) and PostgreSQL
(``postgresql+psycopg://``) serve clusters. The drivers are imported by SQLAlchemy when an engine for
their URL is created, never by grove itself.

Concurrency. Every transaction that changes segment usage first locks the single row of
``grove_changes`` (``SELECT ... FOR UPDATE``; on SQLite the transaction itself starts with
``BEGIN IMMEDIATE``, which takes the database's write lock), so publishes, reverts and mark operations
from any number of processes run one after another, and each sees everything committed before it. One
cluster-wide lock rather than one per datasource: these transactions are short and rare next to queries,
a single publish may touch several datasources, and one lock taken first cannot deadlock. MySQL and
PostgreSQL connections run at READ COMMITTED so that statements after the lock see the previous holder's
commit (on MySQL with binary logging this needs ``binlog_format`` ROW or MIXED, the defaults).

Visibility is the timeline's business. ``publish`` marks what the new segments overshadow unused in
the same transaction, as Druid's publish does; ``mark_used`` does not re-run that step (neither does
Druid): a used but overshadowed segment stays used and the timeline hides it.

Every public method raises only :mod:`grove.errors` types; database failures become
:class:`StorageError` with a sentence that never contains a password.
"""

from __future__ import annotations

import bisect
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from grove.common.intervals import Interval, condense
from grove.common.time import format_timestamp, now_ms
from grove.errors import Conflict, GroveError, InvalidInput, NotFound, StorageError
from grove.metadata.schema import (
    LOOKUP_CHANGES,
    SCHEMA_VERSION,
    SEGMENT_CHANGES,
    LookupRecord,
    RevertResult,
    SegmentRecord,
    TaskRecord,
    changes_table,
    dumps_json,
    lookups_table,
    metadata,
    read_descriptor,
    read_lookup,
    read_rules,
    read_task,
    rules_table,
    schema_version_table,
    segment_row,
    segments_table,
    tasks_table,
)
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.segment_id import validate_namespace, validate_version
from grove.timeline.timeline import VersionedIntervalTimeline

TASK_STATUSES = ("RUNNING", "SUCCESS", "FAILED", "WAITING", "PENDING")
ACTIVE_TASK_STATUSES = ("RUNNING", "PENDING", "WAITING")

SQLITE_BUSY_TIMEOUT_S = 30
_WRITE = "grove_write"  # execution option: this transaction writes (BEGIN IMMEDIATE on SQLite)
_CHUNK = 500  # ids per IN (...) list; SQLite and some servers cap the bound parameters of a statement
_SCHEMA_ATTEMPTS = 3

_SEG = segments_table.c


@dataclass(frozen=True)
class Replacement:
    """A write that replaces, not only overshadows: ``dropExisting`` of a batch ingestion.

    Used segments of (``datasource``, ``namespace``) lying wholly inside one of ``intervals`` with a version
    below ``version`` become unused when the write publishes, even where it brought no rows.
    """

    datasource: str
    namespace: str
    intervals: tuple[Interval, ...]
    version: str


class MetadataStore:
    """Segments, rules and tasks of a grove cluster in one SQL database.

    ``MetadataStore(url)`` connects, creates missing tables and records the schema version. It raises
    :class:`StorageError` when the URL is malformed, its driver is not installed, the database cannot be
    reached or is not a database, or it holds a schema version newer than this code understands.
    """

    def __init__(self, url: str) -> None:
        parsed = _parse_url(url)
        self._label = parsed.render_as_string(hide_password=True)
        self._password = parsed.password if isinstance(parsed.password, str) else None
        self._engine = self._connect(parsed)
        try:
            self._initialize()
        except BaseException:
            self._engine.dispose()
            raise

    # --- lifecycle -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Release every pooled connection; the store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MetadataStore({self._label!r})"

    # --- segments ------------------------------------------------------------------------------------

    def publish(
        self, segments: Sequence[SegmentDescriptor], replacing: Replacement | None = None
    ) -> list[SegmentDescriptor]:
        """Insert ``segments`` as used and mark unused what they overshadow, in one transaction.

        With ``replacing``, the older used segments wholly inside its intervals become unused in the same
        transaction too (``segments`` may then be empty: the write drops what was there).

        For every (datasource, namespace) touched, the used segments around the new segments' intervals
        and the new segments form a timeline; every segment overlapping a new interval that the timeline
        finds wholly overshadowed is marked unused (a new segment of a lower version than what is
        already complete there included). Returns the segments marked unused, in id order.

        Raises Conflict, writing nothing, when an id already exists in the store or appears twice in
        ``segments``; InvalidInput when a descriptor is inconsistent (its id's partition differs from its
        shard spec's) or its namespace or version is malformed; StorageError when the database fails.
        Nothing is visible to other connections before the transaction commits.
        """
        segs = list(segments)
        if not segs and replacing is None:
            return []
        _check_descriptors(segs)
        now = _now()
        rows = [segment_row(s, now) for s in segs]
        by_key: dict[tuple[str, str], list[Interval]] = defaultdict(list)
        for s in segs:
            by_key[(s.datasource, s.namespace)].append(s.interval)
        with self._write("publish segments") as conn:
            self._lock(conn)
            existing = self._existing_ids(conn, [r["id"] for r in rows])
            if existing:
                raise Conflict(
                    f"Segment [{min(existing)}] already exists in the metadata store; nothing was published"
                )
            try:
                if rows:
                    conn.execute(insert(segments_table), rows)
            except IntegrityError:
                raise Conflict("A segment being published already exists; nothing was published") from None
            unused: list[SegmentDescriptor] = []
            for (ds, ns), intervals in sorted(by_key.items()):
                new_ivs = condense(intervals)
                timeline = VersionedIntervalTimeline(self._used_around(conn, ds, ns, new_ivs))
                victims = [s for s in timeline.overshadowed() if _overlaps_any(s.interval, new_ivs)]
                self._set_used(conn, [str(s.id) for s in victims], False, now)
                unused.extend(victims)
            if replacing is not None:
                unused.extend(self._replace(conn, replacing, {s.id for s in unused}, now))
            self._bump(conn)
        return sorted(unused, key=lambda s: s.id)

    def _replace(
        self, conn: Connection, replacing: Replacement, already: set[Any], now: str
    ) -> list[SegmentDescriptor]:
        dropped: list[SegmentDescriptor] = []
        for interval in condense(replacing.intervals):
            query = self._inside(replacing.datasource, replacing.namespace, interval, used=True)
            for r in conn.execute(query.where(_SEG.version < replacing.version)):
                d = read_descriptor(r.id, r.payload)
                if d.id not in already:
                    dropped.append(d)
        self._set_used(conn, [str(d.id) for d in dropped], False, now)
        return dropped

    def segments(
        self,
        datasource: str | None = None,
        *,
        namespace: str | None = None,
        interval: Interval | None = None,
        used: bool | None = True,
    ) -> list[SegmentRecord]:
        """Segments matching every given filter, in id order (datasource, interval, version, partition).

        ``None`` means any: any datasource, any namespace (``""`` is the default namespace), any time,
        used and unused. ``interval`` selects segments overlapping it (``start < interval.end`` and
        ``end > interval.start``). Raises StorageError when the database fails or a stored payload is
        unreadable.
        """
        cond: list[ColumnElement[bool]] = []
        if datasource is not None:
            cond.append(_SEG.datasource == datasource)
        if namespace is not None:
            cond.append(_SEG.namespace == namespace)
        if interval is not None:
            cond += [_SEG.start_ms < interval.end, _SEG.end_ms > interval.start]
        if used is not None:
            cond.append(_SEG.used == used)
        query = select(_SEG.id, _SEG.payload, _SEG.used, _SEG.created_date, _SEG.used_status_last_updated)
        with self._read("list segments") as conn:
            rows = conn.execute(query.where(*cond)).all()
        records = [
            SegmentRecord(
                read_descriptor(r.id, r.payload), bool(r.used), r.created_date, r.used_status_last_updated
            )
            for r in rows
        ]
        records.sort(key=lambda r: r.descriptor.id)
        return records

    def used_descriptors(self, datasource: str, interval: Interval | None = None) -> list[SegmentDescriptor]:
        """Descriptors of the used segments of ``datasource`` (all namespaces) overlapping ``interval``."""
        return [r.descriptor for r in self.segments(datasource, interval=interval, used=True)]

    def datasources(self, include_unused: bool = False) -> list[str]:
        """Sorted names of the datasources with a used segment (with any segment if ``include_unused``)."""
        query = select(_SEG.datasource).distinct()
        if not include_unused:
            query = query.where(_SEG.used == True)  # noqa: E712 (SQL expression, not a Python comparison)
        with self._read("list datasources") as conn:
            return sorted(conn.execute(query).scalars())

    def mark_used(self, ids: Iterable[str]) -> int:
        """Mark the segments with these ids used; returns how many changed (unknown ids are skipped).

        Overshadowed segments become used too; the timeline keeps hiding them (as in Druid).
        """
        return self._mark_ids(list(ids), True)

    def mark_unused(self, ids: Iterable[str]) -> int:
        """Mark the segments with these ids unused; returns how many changed (unknown ids are skipped)."""
        return self._mark_ids(list(ids), False)

    def mark_unused_in_interval(
        self, datasource: str, interval: Interval, namespace: str | None = None
    ) -> int:
        """Mark unused every used segment of ``datasource`` lying wholly inside ``interval`` (as Druid does).

        ``namespace`` None means every namespace. Returns how many changed.
        """
        with self._write("mark segments unused") as conn:
            self._lock(conn)
            ids = [r.id for r in conn.execute(self._inside(datasource, namespace, interval, used=True))]
            changed = self._set_used(conn, ids, False, _now())
            if changed:
                self._bump(conn)
        return changed

    def mark_used_in_interval(self, datasource: str, interval: Interval, namespace: str | None = None) -> int:
        """Mark used the unused segments wholly inside ``interval`` that would not be overshadowed.

        Like Druid's ``markUsed`` by interval: among the unused segments inside ``interval`` (of one
        namespace, or every namespace when None), those that the timeline of the used segments plus the
        candidates does not overshadow become used, so old versions stay down. Returns how many changed.
        """
        with self._write("mark segments used") as conn:
            self._lock(conn)
            rows = conn.execute(self._inside(datasource, namespace, interval, used=False)).all()
            candidates: dict[str, list[SegmentDescriptor]] = defaultdict(list)
            for r in rows:
                d = read_descriptor(r.id, r.payload)
                candidates[d.namespace].append(d)
            ids: list[str] = []
            for ns, segs in sorted(candidates.items()):
                around = self._used_around(conn, datasource, ns, condense(s.interval for s in segs))
                hidden = {s.id for s in VersionedIntervalTimeline(around + segs).overshadowed()}
                ids += [str(s.id) for s in segs if s.id not in hidden]
            changed = self._set_used(conn, ids, True, _now())
            if changed:
                self._bump(conn)
        return changed

    def revert(self, datasource: str, namespace: str, interval: Interval, to_version: str) -> RevertResult:
        """Make ``to_version`` the visible version of ``interval`` again, in one transaction.

        The segments of ``to_version`` in ``namespace`` lying wholly inside ``interval`` become used; the
        used segments of the same namespace overlapping ``interval`` with a higher version (versions
        compare as strings) become unused. Other namespaces are untouched. Raises NotFound, changing
        nothing, when no segment of ``to_version`` lies inside ``interval``.
        """
        with self._write("revert segments") as conn:
            self._lock(conn)
            target = conn.execute(
                self._inside(datasource, namespace, interval, used=None).where(_SEG.version == to_version)
            ).all()
            if not target:
                raise NotFound(
                    f"No segment of version [{to_version}] in namespace [{namespace}] of datasource "
                    f"[{datasource}] lies inside [{interval}]"
                )
            newer = conn.execute(
                select(_SEG.id, _SEG.version).where(
                    _SEG.datasource == datasource,
                    _SEG.namespace == namespace,
                    _SEG.used == True,  # noqa: E712
                    _SEG.start_ms < interval.end,
                    _SEG.end_ms > interval.start,
                )
            ).all()
            now = _now()
            to_use = sorted(r.id for r in target if not r.used)
            to_drop = sorted(r.id for r in newer if r.version > to_version)
            self._set_used(conn, to_use, True, now)
            self._set_used(conn, to_drop, False, now)
            if to_use or to_drop:
                self._bump(conn)
        return RevertResult(tuple(to_use), tuple(to_drop))

    def delete_segments(self, ids: Iterable[str]) -> int:
        """Delete the rows of these segments for good (kill tasks); returns how many existed."""
        id_list = list(dict.fromkeys(ids))
        deleted = 0
        with self._write("delete segments") as conn:
            self._lock(conn)
            for chunk in _chunks(id_list):
                deleted += conn.execute(delete(segments_table).where(_SEG.id.in_(chunk))).rowcount
            if deleted:
                self._bump(conn)
        return deleted

    def delete_unused_segments(self, datasource: str, interval: Interval) -> list[SegmentDescriptor]:
        """Delete for good the unused segments of ``datasource`` lying wholly inside ``interval`` (Druid's
        kill); returns their descriptors, in id order, so their files can be removed from deep storage.

        Runs under the segment-change lock, so a segment marked used meanwhile is never deleted.
        """
        with self._write("delete unused segments") as conn:
            self._lock(conn)
            rows = conn.execute(self._inside(datasource, None, interval, used=False)).all()
            for chunk in _chunks([r.id for r in rows]):
                conn.execute(delete(segments_table).where(_SEG.id.in_(chunk), _SEG.used == False))  # noqa: E712
        return sorted((read_descriptor(r.id, r.payload) for r in rows), key=lambda d: d.id)

    def changes(self) -> int:
        """A counter that grows with every committed change of segment usage; poll it to spot news."""
        return self._counter(SEGMENT_CHANGES, "read the change counter")

    def _counter(self, row_id: int, action: str) -> int:
        with self._read(action) as conn:
            found = conn.execute(
                select(changes_table.c.counter).where(changes_table.c.id == row_id)
            ).scalar_one_or_none()
        return 0 if found is None else int(found)

    # --- rules ---------------------------------------------------------------------------------------

    def get_rules(self, datasource: str) -> list[dict[str, Any]]:
        """The current rules of ``datasource`` (``_default`` for the cluster default); [] when none."""
        query = (
            select(rules_table.c.payload)
            .where(rules_table.c.datasource == datasource)
            .order_by(rules_table.c.id.desc())
            .limit(1)
        )
        with self._read("read rules") as conn:
            payload = conn.execute(query).scalar_one_or_none()
        return [] if payload is None else read_rules(payload, datasource)

    def set_rules(
        self, datasource: str, rules: list[dict[str, Any]], author: str = "", comment: str = ""
    ) -> None:
        """Make ``rules`` the current rules of ``datasource``; earlier lists stay in the history.

        Raises InvalidInput when ``rules`` is not a list of JSON objects.
        """
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            raise InvalidInput(f"Rules of datasource [{datasource}] must be a list of JSON objects", "rules")
        row = {
            "datasource": datasource,
            "version": _now(),
            "payload": dumps_json(rules, f"rules of datasource [{datasource}]"),
            "author": author,
            "comment": comment,
        }
        with self._write("store rules") as conn:
            conn.execute(insert(rules_table), row)

    def rules_history(self, datasource: str) -> list[dict[str, Any]]:
        """Every rule list ever set for ``datasource``, newest first.

        Each entry: ``{"dataSource", "version", "rules", "author", "comment"}``.
        """
        query = (
            select(rules_table)
            .where(rules_table.c.datasource == datasource)
            .order_by(rules_table.c.id.desc())
        )
        with self._read("read rules history") as conn:
            rows = conn.execute(query).all()
        return [
            {
                "dataSource": r.datasource,
                "version": r.version,
                "rules": read_rules(r.payload, datasource),
                "author": r.author,
                "comment": r.comment,
            }
            for r in rows
        ]

    def all_rules(self) -> dict[str, list[dict[str, Any]]]:
        """The current rules of every datasource that ever had rules, ``_default`` included."""
        latest = select(func.max(rules_table.c.id)).group_by(rules_table.c.datasource).scalar_subquery()
        query = select(rules_table.c.datasource, rules_table.c.payload).where(rules_table.c.id.in_(latest))
        with self._read("read rules") as conn:
            rows = conn.execute(query).all()
        return {
            r.datasource: read_rules(r.payload, r.datasource)
            for r in sorted(rows, key=lambda r: r.datasource)
        }

    # --- lookups -------------------------------------------------------------------------------------

    def lookups(self, tier: str | None = None) -> list[LookupRecord]:
        """The registered lookups of ``tier`` (every tier when None), sorted by tier and name."""
        query = select(lookups_table).order_by(lookups_table.c.tier, lookups_table.c.name)
        if tier is not None:
            query = query.where(lookups_table.c.tier == tier)
        with self._read("read lookups") as conn:
            return [read_lookup(r) for r in conn.execute(query)]

    def get_lookup(self, tier: str, name: str) -> LookupRecord | None:
        """The lookup ``name`` of ``tier``, or None."""
        query = select(lookups_table).where(lookups_table.c.tier == tier, lookups_table.c.name == name)
        with self._read("read a lookup") as conn:
            row = conn.execute(query).first()
        return None if row is None else read_lookup(row)

    def lookup_tiers(self) -> list[str]:
        """Sorted names of the tiers with at least one lookup."""
        with self._read("read lookup tiers") as conn:
            return sorted(conn.execute(select(lookups_table.c.tier).distinct()).scalars())

    def set_lookups(self, specs: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> int:
        """Create or update lookups in one transaction: ``{tier: {name: {"version",
        "lookupExtractorFactory"}}}``, Druid's bulk form. Lookups not named are kept. Returns how many
        lookups were written.

        As in Druid, an update must carry a version that sorts strictly after the stored one (strings
        compared); otherwise Conflict naming the lookup, and nothing is written. InvalidInput when a
        tier, name or version is empty or a factory is not a JSON object. The factory JSON is stored as
        given (validating its type is the caller's business).
        """
        rows = _lookup_rows(specs, _now())
        if not rows:
            return 0
        with self._write("store lookups") as conn:
            self._lock(conn, LOOKUP_CHANGES)
            keys = {(r["tier"], r["name"]) for r in rows}
            stored = {
                (r.tier, r.name): r.version
                for r in conn.execute(
                    select(lookups_table.c.tier, lookups_table.c.name, lookups_table.c.version).where(
                        lookups_table.c.tier.in_({t for t, _ in keys})
                    )
                )
                if (r.tier, r.name) in keys
            }
            for row in rows:
                old = stored.get((row["tier"], row["name"]))
                if old is not None and not row["version"] > old:
                    raise Conflict(
                        f"Cannot update lookup [{row['name']}] of tier [{row['tier']}]: version "
                        f"[{row['version']}] is not higher than the current version [{old}]"
                    )
            for row in rows:
                key = (row["tier"], row["name"])
                if key in stored:
                    conn.execute(
                        update(lookups_table)
                        .where(lookups_table.c.tier == key[0], lookups_table.c.name == key[1])
                        .values(version=row["version"], payload=row["payload"], updated=row["updated"])
                    )
                else:
                    conn.execute(insert(lookups_table), row)
            self._bump(conn, LOOKUP_CHANGES)
        return len(rows)

    def delete_lookup(self, tier: str, name: str) -> bool:
        """Remove the lookup ``name`` of ``tier``; False when there was none."""
        with self._write("delete a lookup") as conn:
            self._lock(conn, LOOKUP_CHANGES)
            deleted = conn.execute(
                delete(lookups_table).where(lookups_table.c.tier == tier, lookups_table.c.name == name)
            ).rowcount
            if deleted:
                self._bump(conn, LOOKUP_CHANGES)
        return bool(deleted)

    def delete_lookup_tier(self, tier: str) -> int:
        """Remove every lookup of ``tier``; returns how many there were."""
        with self._write("delete a lookup tier") as conn:
            self._lock(conn, LOOKUP_CHANGES)
            deleted = int(conn.execute(delete(lookups_table).where(lookups_table.c.tier == tier)).rowcount)
            if deleted:
                self._bump(conn, LOOKUP_CHANGES)
        return deleted

    def lookup_changes(self) -> int:
        """A counter that grows with every committed lookup change; poll it to spot news."""
        return self._counter(LOOKUP_CHANGES, "read the lookup change counter")

    # --- tasks ---------------------------------------------------------------------------------------

    def insert_task(
        self,
        task_id: str,
        type: str,
        datasource: str,
        payload: dict[str, Any],
        status: str = "RUNNING",
        *,
        location: str | None = None,
    ) -> None:
        """Record a new task. Raises Conflict when ``task_id`` exists, InvalidInput for an unknown status."""
        _check_status(status)
        row = {
            "id": task_id,
            "type": type,
            "datasource": datasource,
            "created_date": _now(),
            "status": status,
            "payload": dumps_json(payload, f"payload of task [{task_id}]"),
            "location": location,
        }
        with self._write("record a task") as conn:
            if conn.execute(select(tasks_table.c.id).where(tasks_table.c.id == task_id)).first():
                raise Conflict(f"Task [{task_id}] already exists")
            try:
                conn.execute(insert(tasks_table), row)
            except IntegrityError:
                raise Conflict(f"Task [{task_id}] already exists") from None

    def update_task(
        self,
        task_id: str,
        status: str,
        *,
        error_msg: str | None = None,
        duration_ms: int | None = None,
        report: Any = None,
        location: str | None = None,
    ) -> None:
        """Set the status of a task, and each of the other fields that is not None.

        Raises NotFound for an unknown task, InvalidInput for an unknown status.
        """
        _check_status(status)
        values: dict[str, Any] = {"status": status}
        if error_msg is not None:
            values["error_msg"] = error_msg
        if duration_ms is not None:
            values["duration_ms"] = int(duration_ms)
        if report is not None:
            values["report"] = dumps_json(report, f"report of task [{task_id}]")
        if location is not None:
            values["location"] = location
        with self._write("update a task") as conn:
            if not conn.execute(select(tasks_table.c.id).where(tasks_table.c.id == task_id)).first():
                raise NotFound(f"Task [{task_id}] not found")
            conn.execute(update(tasks_table).where(tasks_table.c.id == task_id).values(**values))

    def get_task(self, task_id: str) -> TaskRecord | None:
        """The task with this id, or None."""
        with self._read("read a task") as conn:
            row = conn.execute(select(tasks_table).where(tasks_table.c.id == task_id)).first()
        return None if row is None else read_task(row)

    def list_tasks(
        self, *, status: str | None = None, datasource: str | None = None, limit: int | None = None
    ) -> list[TaskRecord]:
        """Tasks matching the filters, newest first, at most ``limit`` of them."""
        query = select(tasks_table).order_by(tasks_table.c.created_date.desc(), tasks_table.c.id.desc())
        if status is not None:
            _check_status(status)
            query = query.where(tasks_table.c.status == status)
        if datasource is not None:
            query = query.where(tasks_table.c.datasource == datasource)
        if limit is not None:
            query = query.limit(max(int(limit), 0))
        with self._read("list tasks") as conn:
            return [read_task(r) for r in conn.execute(query)]

    def fail_running_tasks(self, reason: str) -> list[str]:
        """Mark every RUNNING, PENDING or WAITING task FAILED with ``reason``; returns their ids, sorted.

        For the overlord after a crash or restart: whatever ran before cannot be still running.
        """
        active = tasks_table.c.status.in_(ACTIVE_TASK_STATUSES)
        with self._write("fail running tasks") as conn:
            ids = sorted(conn.execute(select(tasks_table.c.id).where(active)).scalars())
            for chunk in _chunks(ids):
                conn.execute(
                    update(tasks_table)
                    .where(tasks_table.c.id.in_(chunk), active)
                    .values(status="FAILED", error_msg=reason)
                )
        return ids

    # --- internals -----------------------------------------------------------------------------------

    def _connect(self, url: URL) -> Engine:
        try:
            if url.get_backend_name() != "sqlite":
                # READ COMMITTED: after taking the change lock, each statement sees the previous
                # holder's commit (see the module docstring). pre-ping survives server restarts.
                return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")
            if url.database in (None, "", ":memory:"):
                # One shared connection, or every pooled connection would see its own empty database.
                engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
            _install_sqlite_hooks(engine, wal=url.database not in (None, "", ":memory:"))
            return engine
        except (NoSuchModuleError, ModuleNotFoundError):
            raise StorageError(
                f"No database driver for the metadata store [{self._label}]: install pymysql "
                "(pip install 'grove[mysql]') or psycopg (pip install 'grove[postgres]')"
            ) from None
        except OSError as e:
            raise StorageError(
                f"Cannot create the folder of the metadata store [{self._label}]: {e.strerror}"
            ) from None
        except (ArgumentError, SQLAlchemyError) as e:
            raise StorageError(f"Cannot open the metadata store [{self._label}]: {self._reason(e)}") from None

    def _initialize(self) -> None:
        """Refuse a newer schema, create missing tables, record the version, seed the change counter."""
        self._check_schema_version()
        for attempt in range(_SCHEMA_ATTEMPTS):
            try:
                with self._write("create its tables") as conn:
                    metadata.create_all(conn, checkfirst=True)
                    self._record_schema_version(conn)
                    for row_id in (SEGMENT_CHANGES, LOOKUP_CHANGES):
                        found = conn.execute(
                            select(changes_table.c.id).where(changes_table.c.id == row_id)
                        ).first()
                        if found is None:
                            conn.execute(insert(changes_table), {"id": row_id, "counter": 0})
                return
            except StorageError as e:
                # Another process creating the same tables at the same moment makes our CREATE or INSERT
                # fail on MySQL and PostgreSQL (their DDL does not queue like SQLite's); the next attempt
                # finds them in place. The database was reachable a moment ago, in the version check.
                if attempt + 1 == _SCHEMA_ATTEMPTS or not isinstance(e.__cause__, SQLAlchemyError):
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _check_schema_version(self) -> None:
        with self._read("read the schema version") as conn:
            if not inspect(conn).has_table(schema_version_table.name):
                return
            found = conn.execute(select(schema_version_table.c.version)).scalar()
        if found is not None and int(found) > SCHEMA_VERSION:
            raise self._too_new(found)

    def _too_new(self, found: object) -> StorageError:
        return StorageError(
            f"The metadata store [{self._label}] has schema version [{found}], newer than the "
            f"[{SCHEMA_VERSION}] this grove understands; upgrade grove to open it"
        )

    def _record_schema_version(self, conn: Connection) -> None:
        found = conn.execute(
            select(schema_version_table.c.version).where(schema_version_table.c.id == 1)
        ).scalar()
        if found is None:
            conn.execute(insert(schema_version_table), {"id": 1, "version": SCHEMA_VERSION})
        elif int(found) > SCHEMA_VERSION:
            raise self._too_new(found)
        elif int(found) < SCHEMA_VERSION:
            # Upgrades between schema versions go here, before the version is raised. 1 -> 2 only added
            # a table (created above by create_all) and a change-counter row (seeded by _initialize).
            conn.execute(update(schema_version_table).values(version=SCHEMA_VERSION))

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn database failures into StorageError naming the action; grove errors pass through."""
        try:
            yield
        except GroveError:
            raise
        except (SQLAlchemyError, sqlite3.Error) as e:
            raise StorageError(f"Metadata store [{self._label}] failed to {action}: {self._reason(e)}") from e

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        with self._guard(action), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        """A transaction that commits when the block ends and rolls back when it raises."""
        with self._guard(action), self._engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    def _reason(self, e: BaseException) -> str:
        orig = getattr(e, "orig", None) or e
        lines = str(orig).strip().splitlines()
        text = (lines[0] if lines else type(orig).__name__)[:300]
        if self._password:
            # Drivers do not echo passwords, but a message must never carry one: mask it where it
            # stands alone (not inside a longer name, so "grove_test" survives the password "grove").
            text = re.sub(rf"(?<![\w.]){re.escape(self._password)}(?![\w])", "***", text)
        return text

    @staticmethod
    def _lock(conn: Connection, row_id: int = SEGMENT_CHANGES) -> None:
        """Take a cluster-wide change lock (segments by default, or lookups) until the transaction ends
        (see module docstring)."""
        conn.execute(
            select(changes_table.c.counter).where(changes_table.c.id == row_id).with_for_update()
        ).one()

    @staticmethod
    def _bump(conn: Connection, row_id: int = SEGMENT_CHANGES) -> None:
        conn.execute(
            update(changes_table)
            .where(changes_table.c.id == row_id)
            .values(counter=changes_table.c.counter + 1)
        )

    @staticmethod
    def _existing_ids(conn: Connection, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(ids):
            found.update(conn.execute(select(_SEG.id).where(_SEG.id.in_(chunk))).scalars())
        return found

    @staticmethod
    def _set_used(conn: Connection, ids: list[str], used: bool, now: str) -> int:
        changed = 0
        for chunk in _chunks(ids):
            result = conn.execute(
                update(segments_table)
                .where(_SEG.id.in_(chunk), _SEG.used == (not used))
                .values(used=used, used_status_last_updated=now)
            )
            changed += result.rowcount
        return changed

    def _mark_ids(self, ids: list[str], used: bool) -> int:
        with self._write("mark segments used" if used else "mark segments unused") as conn:
            self._lock(conn)
            changed = self._set_used(conn, list(dict.fromkeys(ids)), used, _now())
            if changed:
                self._bump(conn)
        return changed

    @staticmethod
    def _inside(datasource: str, namespace: str | None, interval: Interval, used: bool | None) -> Any:
        """Select id, payload, used and version of the segments lying wholly inside ``interval``."""
        query = select(_SEG.id, _SEG.payload, _SEG.used, _SEG.version).where(
            _SEG.datasource == datasource, _SEG.start_ms >= interval.start, _SEG.end_ms <= interval.end
        )
        if namespace is not None:
            query = query.where(_SEG.namespace == namespace)
        if used is not None:
            query = query.where(_SEG.used == used)
        return query

    @staticmethod
    def _used_around(
        conn: Connection, ds: str, ns: str, intervals: list[Interval]
    ) -> list[SegmentDescriptor]:
        """The used segments of (ds, ns) that can take part in deciding what overlaps ``intervals``.

        A segment overlapping ``intervals`` can be overshadowed only by chunks overlapping it, and all of
        those lie inside the span of every used segment overlapping the span of ``intervals``: so one
        widening of the span finds them all, however the versions are staggered.
        """
        key = (_SEG.datasource == ds, _SEG.namespace == ns, _SEG.used == True)  # noqa: E712
        span = Interval(intervals[0].start, intervals[-1].end)
        lo, hi = conn.execute(
            select(func.min(_SEG.start_ms), func.max(_SEG.end_ms)).where(
                *key, _SEG.start_ms < span.end, _SEG.end_ms > span.start
            )
        ).one()
        if lo is not None:
            span = Interval(min(int(lo), span.start), max(int(hi), span.end))
        rows = conn.execute(
            select(_SEG.id, _SEG.payload).where(*key, _SEG.start_ms < span.end, _SEG.end_ms > span.start)
        ).all()
        return [read_descriptor(r.id, r.payload) for r in rows]


# --- module helpers ----------------------------------------------------------------------------------


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError, TypeError):
        # The text itself may hold a password, so it is not repeated.
        raise StorageError(
            "Invalid metadata store URL: expected dialect+driver://user:password@host/database "
            "or sqlite:///path/to/file.db"
        ) from None


def _install_sqlite_hooks(engine: Engine, *, wal: bool) -> None:
    """Let writers from several processes queue for SQLite's lock instead of failing or deadlocking.

    The sqlite3 module (Python < 3.12) starts transactions lazily at the first write, so two readers
    that both decide to write deadlock on the upgrade. SQLAlchemy's recipe: take BEGIN away from the
    driver and emit it ourselves, IMMEDIATE (the write lock up front, waiting up to the busy timeout) for
    write transactions and plain BEGIN for reads. WAL lets readers proceed while a writer works.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            if wal:
                _enable_wal(cursor)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def _enable_wal(cursor: Any) -> None:
    """Switch the database file to WAL (a lasting property of the file), waiting out other openers.

    Switching needs a moment of exclusive access, and SQLite answers "database is locked" at once,
    without the busy handler, when another process opens a fresh file at the same time.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower() == "wal":
                return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e):
                raise
        if time.monotonic() > deadline:
            # Still correct without WAL (writers queue through BEGIN IMMEDIATE), only slower for readers.
            return
        time.sleep(0.02)


def _check_descriptors(segs: list[SegmentDescriptor]) -> None:
    seen: set[str] = set()
    for s in segs:
        sid = str(s.id)
        if sid in seen:
            raise Conflict(f"Segment [{sid}] appears twice in one publish; nothing was published")
        seen.add(sid)
        if not s.datasource:
            raise InvalidInput(f"Segment [{sid}] has an empty datasource")
        validate_namespace(s.namespace, "namespace")
        validate_version(s.version, "version")
        if s.shard_spec.partition_num != s.partition:
            raise InvalidInput(
                f"Segment [{sid}] has partition [{s.partition}] but its shard spec says "
                f"[{s.shard_spec.partition_num}]"
            )


def _lookup_rows(specs: Mapping[str, Mapping[str, Mapping[str, Any]]], now: str) -> list[dict[str, Any]]:
    """The ``grove_lookups`` rows of a bulk update, checked; InvalidInput naming the faulty field."""
    if not isinstance(specs, Mapping):
        raise InvalidInput("Lookups must be a JSON object of tiers")
    rows = []
    for tier, lookups in specs.items():
        if not isinstance(tier, str) or not tier:
            raise InvalidInput("A lookup tier name must not be empty", "tier")
        if not isinstance(lookups, Mapping):
            raise InvalidInput(f"Lookups of tier [{tier}] must be a JSON object", tier)
        for name, spec in lookups.items():
            path = f"{tier}.{name}"
            if not isinstance(name, str) or not name:
                raise InvalidInput(f"A lookup name in tier [{tier}] is empty", tier)
            if not isinstance(spec, Mapping):
                raise InvalidInput(f"Lookup [{name}] of tier [{tier}] must be a JSON object", path)
            version = spec.get("version")
            if not isinstance(version, str) or not version:
                raise InvalidInput(f"Lookup [{name}] of tier [{tier}] needs a [version]", f"{path}.version")
            factory = spec.get("lookupExtractorFactory")
            if not isinstance(factory, Mapping):
                raise InvalidInput(
                    f"Lookup [{name}] of tier [{tier}] needs a [lookupExtractorFactory] object",
                    f"{path}.lookupExtractorFactory",
                )
            rows.append(
                {
                    "tier": tier,
                    "name": name,
                    "version": version,
                    "payload": dumps_json(dict(factory), f"lookupExtractorFactory of lookup [{name}]"),
                    "updated": now,
                }
            )
    return rows


def _check_status(status: str) -> None:
    if status not in TASK_STATUSES:
        raise InvalidInput(
            f"Unknown task status [{status}]: expected one of {', '.join(TASK_STATUSES)}", "status"
        )


def _overlaps_any(iv: Interval, condensed: list[Interval]) -> bool:
    """Whether ``iv`` overlaps one of ``condensed`` (sorted and disjoint, as ``condense`` returns them).

    Of the intervals starting before ``iv`` ends, the last one also ends last, so it alone decides.
    """
    k = bisect.bisect_left(condensed, iv.end, key=lambda c: c.start)
    return k > 0 and condensed[k - 1].end > iv.start


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _now() -> str:
    return format_timestamp(now_ms())
