"""The metadata store's behaviour suite, run against every available database.

SQLite (a real file) always runs; MariaDB/MySQL and PostgreSQL run when ``GROVE_TEST_MYSQL_URL`` /
``GROVE_TEST_POSTGRES_URL`` point at a database (``eval "$(.ci/services.sh)"`` starts both). A server
database is shared by every xdist worker, so each test on it holds a machine-wide file lock for that URL
and empties the ``grove_`` tables before and after. (A lock rather than ``xdist_group``: loadgroup does not
group with pytest 9.2, pytest-dev/pytest-xdist#1386.)
"""

from __future__ import annotations

import fcntl
import hashlib
import multiprocessing
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, inspect, select, text, update

from grove.common.intervals import Interval
from grove.errors import Conflict, InvalidInput, NotFound, StorageError
from grove.metadata import SCHEMA_VERSION, MetadataStore, Replacement, SegmentRecord
from grove.metadata.schema import changes_table, metadata, schema_version_table, segment_row, segments_table
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.segment_id import SegmentId
from grove.timeline.shard import ShardSpec
from grove.timeline.timeline import DatasourceTimeline

MYSQL_URL = os.environ.get("GROVE_TEST_MYSQL_URL", "")
POSTGRES_URL = os.environ.get("GROVE_TEST_POSTGRES_URL", "")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        MYSQL_URL,
        id="mysql",
        marks=[
            pytest.mark.mysql,
            pytest.mark.skipif(not MYSQL_URL, reason="GROVE_TEST_MYSQL_URL is not set (see .ci/services.sh)"),
        ],
    ),
    pytest.param(
        POSTGRES_URL,
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL, reason="GROVE_TEST_POSTGRES_URL is not set (see .ci/services.sh)"
            ),
        ],
    ),
]

JAN = Interval.parse("2024-01-01/2024-02-01")


def day(n: int) -> Interval:
    """January ``n``th 2024 (1-based)."""
    return Interval.parse(f"2024-01-{n:02d}/P1D")


def seg(
    ds: str,
    interval: Interval,
    version: str,
    partition: int = 0,
    partitions: int = 1,
    namespace: str = "",
    **fields: object,
) -> SegmentDescriptor:
    return SegmentDescriptor(
        id=SegmentId(ds, interval, version, partition, namespace),
        shard_spec=ShardSpec(partition, partitions),
        **fields,  # type: ignore[arg-type]
    )


def ids(items: list[SegmentRecord] | list[SegmentDescriptor]) -> list[str]:
    return [str(i.descriptor.id if isinstance(i, SegmentRecord) else i.id) for i in items]


def used_ids(store: MetadataStore, ds: str) -> set[str]:
    return {str(r.descriptor.id) for r in store.segments(ds)}


_fresh_schema: set[str] = set()


def empty_database(url: str) -> None:
    """Drop the ``grove_`` tables the first time this process sees ``url``, then just empty them.

    Dropping catches tables left by an older schema; emptying is much faster than DDL on the servers.
    """
    engine = create_engine(url)
    try:
        if url not in _fresh_schema:
            metadata.drop_all(engine)
            _fresh_schema.add(url)
            return
        with engine.begin() as conn:
            present = set(inspect(conn).get_table_names())
            for table in metadata.sorted_tables:
                if table.name in present:
                    conn.execute(table.delete())
    finally:
        engine.dispose()


@contextmanager
def exclusive(url: str) -> Iterator[None]:
    """Hold a lock, machine-wide, on the database at ``url`` (tests on other workers wait for it)."""
    path = Path(tempfile.gettempdir()) / f"grove-test-db-{hashlib.sha256(url.encode()).hexdigest()[:16]}.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        # A folder that does not exist yet: the store creates it.
        yield f"sqlite:///{tmp_path}/meta/grove.db"
        return
    with exclusive(request.param):
        empty_database(request.param)
        yield request.param
        empty_database(request.param)


@pytest.fixture
def store(url: str) -> Iterator[MetadataStore]:
    with MetadataStore(url) as s:
        yield s


# --- publishing and listing ----------------------------------------------------------------------------


def test_publish_round_trips_descriptors_and_filters(store: MetadataStore) -> None:
    rich = SegmentDescriptor(
        id=SegmentId("wiki", day(1), "2024-02-01T00:00:00.000Z", 1, "clicks"),
        shard_spec=ShardSpec(1, 2, kind="hashed", partition_dimensions=("page",)),
        load_spec={"type": "local", "path": "/deep/wiki/x"},
        dimensions=("page", "user"),
        metrics=("count", "added"),
        num_rows=1234,
        size=56789,
    )
    others = [
        seg("wiki", day(1), "2024-02-01T00:00:00.000Z", 0, 2, "clicks"),
        seg("wiki", day(2), "v1"),
        seg("wiki", day(3), "v1"),
        seg("edits", day(2), "v1"),
    ]
    before = store.changes()
    assert store.publish([rich, *others]) == []
    assert store.changes() > before

    everything = store.segments()
    assert ids(everything) == sorted(ids(everything), key=SegmentId.parse)
    assert {str(r.descriptor.id) for r in everything} == {str(s.id) for s in [rich, *others]}
    (stored,) = [r for r in everything if r.descriptor.id == rich.id]
    assert stored.descriptor == rich
    assert stored.used and stored.created.endswith("Z") and stored.used_status_last_updated >= stored.created

    assert ids(store.segments("edits")) == [str(others[3].id)]
    assert len(store.segments("wiki", namespace="clicks")) == 2
    assert ids(store.segments("wiki", namespace="")) == [str(others[1].id), str(others[2].id)]
    # Overlap, half-open: day 2 touches day 1 and day 3 only at their ends.
    assert ids(store.segments("wiki", interval=day(2))) == [str(others[1].id)]
    assert len(store.segments("wiki", interval=Interval.parse("2024-01-01T12:00/2024-01-02T01:00"))) == 3
    assert store.segments("wiki", used=False) == []
    assert store.segments("nope") == []
    assert [d.id for d in store.used_descriptors("wiki", day(3))] == [others[2].id]
    assert store.datasources() == ["edits", "wiki"]


def test_ids_are_case_sensitive(store: MetadataStore) -> None:
    # MySQL compares case-insensitively by default; the store's tables must not.
    store.publish([seg("wiki", day(1), "v1"), seg("Wiki", day(1), "v1")])
    assert len(store.segments("wiki")) == 1
    assert len(store.segments("Wiki")) == 1
    assert store.datasources() == ["Wiki", "wiki"]


def test_higher_version_overshadows_lower_in_the_same_publish(store: MetadataStore) -> None:
    old = [seg("wiki", day(1), "v1", p, 2) for p in range(2)]
    store.publish(old)
    new = seg("wiki", day(1), "v2")
    counter = store.changes()
    marked = store.publish([new])
    assert ids(marked) == ids(old)
    assert used_ids(store, "wiki") == {str(new.id)}
    assert {r.descriptor.id for r in store.segments("wiki", used=False)} == {s.id for s in old}
    assert store.changes() > counter
    assert store.datasources() == ["wiki"]


def test_publishing_an_older_version_marks_it_unused_at_once(store: MetadataStore) -> None:
    store.publish([seg("wiki", day(1), "v2")])
    late = seg("wiki", day(1), "v1")
    assert store.publish([late]) == [late]
    assert used_ids(store, "wiki") == {str(seg("wiki", day(1), "v2").id)}


def test_a_replacing_publish_drops_older_segments_inside_its_intervals(store: MetadataStore) -> None:
    old = [seg("wiki", day(d), "v1") for d in (1, 2, 3)] + [seg("wiki", JAN, "v0")]
    newer = seg("wiki", day(4), "v9")  # a later write, inside the intervals: not ours to drop
    other = seg("wiki", day(2), "v1", namespace="clicks")
    store.publish([*old, newer, other])
    fresh = seg("wiki", day(2), "v5")
    replacing = Replacement("wiki", "", (Interval(day(1).start, day(5).end),), "v5")
    dropped = store.publish([fresh], replacing)
    assert sorted(str(d.id) for d in dropped) == sorted(str(s.id) for s in old[:3])
    # The month reaches outside the intervals and stays; the other namespace is untouched.
    assert used_ids(store, "wiki") == {str(s.id) for s in (fresh, newer, other, old[3])}
    # With no segments at all, a replacing publish only drops.
    assert store.publish([], Replacement("wiki", "clicks", (day(2),), "v6")) == [other]
    assert store.publish([]) == []


def test_namespaces_have_independent_timelines(store: MetadataStore) -> None:
    base = seg("ads", day(1), "v1")
    clicks = seg("ads", day(1), "v1", namespace="clicks")
    store.publish([base, clicks])
    assert used_ids(store, "ads") == {str(base.id), str(clicks.id)}

    clicks2 = seg("ads", day(1), "v2", namespace="clicks")
    assert store.publish([clicks2]) == [clicks]
    assert used_ids(store, "ads") == {str(base.id), str(clicks2.id)}
    (kept,) = store.segments("ads", namespace="")
    assert kept.descriptor == base and kept.used_status_last_updated == kept.created


def test_a_day_republished_inside_a_month_keeps_the_month(store: MetadataStore) -> None:
    month = seg("wiki", JAN, "v1")
    store.publish([month])
    assert store.publish([seg("wiki", day(15), "v2")]) == []
    assert str(month.id) in used_ids(store, "wiki")
    # The day is visible, the rest of the month still comes from v1.
    timeline = DatasourceTimeline(store.used_descriptors("wiki"))
    assert [(str(e.interval), e.version) for e in timeline.lookup(JAN)] == [
        ("2024-01-01T00:00:00.000Z/2024-01-15T00:00:00.000Z", "v1"),
        ("2024-01-15T00:00:00.000Z/2024-01-16T00:00:00.000Z", "v2"),
        ("2024-01-16T00:00:00.000Z/2024-02-01T00:00:00.000Z", "v1"),
    ]
    # A full month of a higher version hides both.
    marked = store.publish([seg("wiki", JAN, "v3")])
    assert sorted(ids(marked)) == sorted([str(month.id), str(seg("wiki", day(15), "v2").id)])


def test_staggered_versions_that_together_cover_a_segment_overshadow_it(store: MetadataStore) -> None:
    month = seg("wiki", JAN, "v1")
    first_half = seg("wiki", Interval.parse("2024-01-01/2024-01-16"), "v2")
    second_half = seg("wiki", Interval.parse("2024-01-16/2024-02-01"), "v3")
    store.publish([month])
    assert store.publish([first_half]) == []
    # The month is covered by v2 (not touched by this publish) and v3 together.
    assert store.publish([second_half]) == [month]
    assert used_ids(store, "wiki") == {str(first_half.id), str(second_half.id)}


def test_an_incomplete_partition_set_overshadows_nothing(store: MetadataStore) -> None:
    old = seg("wiki", day(1), "v1")
    store.publish([old])
    assert store.publish([seg("wiki", day(1), "v2", 0, 2)]) == []
    assert str(old.id) in used_ids(store, "wiki")
    assert store.publish([seg("wiki", day(1), "v2", 1, 2)]) == [old]
    assert used_ids(store, "wiki") == {str(seg("wiki", day(1), "v2", p, 2).id) for p in range(2)}


def test_duplicate_ids_conflict_and_write_nothing(store: MetadataStore) -> None:
    first = seg("wiki", day(1), "v1")
    store.publish([first])
    counter = store.changes()
    fresh = seg("wiki", day(2), "v1")
    overshadowing = seg("wiki", day(1), "v9")
    with pytest.raises(Conflict, match=r"already exists"):
        store.publish([fresh, overshadowing, first])
    with pytest.raises(Conflict, match=r"twice"):
        store.publish([fresh, fresh])
    assert ids(store.segments(used=None)) == [str(first.id)]
    assert store.segments()[0].used
    assert store.changes() == counter


def test_inconsistent_descriptors_are_refused(store: MetadataStore) -> None:
    bad = SegmentDescriptor(SegmentId("wiki", day(1), "v1", 1), ShardSpec(0, 2))
    with pytest.raises(InvalidInput, match=r"partition"):
        store.publish([bad])
    with pytest.raises(InvalidInput, match=r"namespace"):
        store.publish([seg("wiki", day(1), "v1", namespace="_bad")])
    assert store.publish([]) == []
    assert store.segments(used=None) == []


# --- changing usage ------------------------------------------------------------------------------------


def test_mark_used_and_unused_by_id(store: MetadataStore) -> None:
    a, b = seg("wiki", day(1), "v1"), seg("wiki", day(2), "v1")
    store.publish([a, b])
    counter = store.changes()
    assert store.mark_unused([str(a.id), str(b.id), "wiki_unknown"]) == 2
    assert store.changes() > counter
    counter = store.changes()
    assert store.mark_unused([str(a.id)]) == 0
    assert store.changes() == counter
    assert store.datasources() == []
    assert store.datasources(include_unused=True) == ["wiki"]
    assert store.mark_used([str(a.id)]) == 1
    assert used_ids(store, "wiki") == {str(a.id)}
    (record,) = store.segments("wiki")
    assert record.used_status_last_updated >= record.created


def test_mark_used_leaves_overshadowed_segments_to_the_timeline(store: MetadataStore) -> None:
    old, new = seg("wiki", day(1), "v1"), seg("wiki", day(1), "v2")
    store.publish([old])
    store.publish([new])
    assert store.mark_used([str(old.id)]) == 1
    assert used_ids(store, "wiki") == {str(old.id), str(new.id)}
    visible = DatasourceTimeline(store.used_descriptors("wiki")).visible_segments()
    assert [s.id for s in visible] == [new.id]


def test_mark_by_interval_takes_segments_wholly_inside(store: MetadataStore) -> None:
    inside = [seg("wiki", day(2), "v1"), seg("wiki", day(3), "v1", namespace="clicks")]
    straddling = seg("wiki", Interval.parse("2024-01-04/2024-01-06"), "v1")
    store.publish([*inside, straddling])
    window = Interval.parse("2024-01-02/2024-01-05")
    assert store.mark_unused_in_interval("wiki", window, namespace="clicks") == 1
    assert store.mark_unused_in_interval("wiki", window) == 1
    assert used_ids(store, "wiki") == {str(straddling.id)}
    assert store.mark_used_in_interval("wiki", window, namespace="") == 1
    assert store.mark_used_in_interval("wiki", window) == 1
    assert len(store.segments("wiki")) == 3


def test_mark_used_in_interval_brings_back_only_what_would_be_visible(store: MetadataStore) -> None:
    v1, v2 = seg("wiki", day(1), "v1"), seg("wiki", day(1), "v2")
    store.publish([v1])
    store.publish([v2])
    assert store.mark_unused_in_interval("wiki", day(1)) == 1
    assert store.segments("wiki") == []
    assert store.mark_used_in_interval("wiki", day(1)) == 1
    assert used_ids(store, "wiki") == {str(v2.id)}


def test_revert_both_ways(store: MetadataStore) -> None:
    good = [seg("wiki", day(1), "v1"), seg("wiki", day(2), "v1")]
    bad = [seg("wiki", day(1), "v2"), seg("wiki", day(2), "v2")]
    other_ns = seg("wiki", day(1), "v3", namespace="clicks")
    store.publish([*good, other_ns])
    store.publish(bad)
    assert used_ids(store, "wiki") == {*map(str, (s.id for s in bad)), str(other_ns.id)}

    counter = store.changes()
    window = Interval.parse("2024-01-01/2024-01-03")
    result = store.revert("wiki", "", window, "v1")
    assert sorted(result.marked_used) == sorted(ids(good))
    assert sorted(result.marked_unused) == sorted(ids(bad))
    assert (result.used_count, result.unused_count) == (2, 2)
    assert used_ids(store, "wiki") == {*map(str, (s.id for s in good)), str(other_ns.id)}
    assert store.changes() > counter

    # And forward again: v2 becomes used; v1 stays used but the timeline hides it.
    forward = store.revert("wiki", "", window, "v2")
    assert sorted(forward.marked_used) == sorted(ids(bad)) and forward.marked_unused == ()
    visible = DatasourceTimeline(store.used_descriptors("wiki", window)).visible_segments()
    assert {str(s.id) for s in visible} == {*map(str, (s.id for s in bad)), str(other_ns.id)}

    with pytest.raises(NotFound, match=r"v7"):
        store.revert("wiki", "", window, "v7")
    with pytest.raises(NotFound):
        store.revert("wiki", "clicks", window, "v1")


def test_revert_only_restores_segments_inside_the_interval(store: MetadataStore) -> None:
    old_month, new_day = seg("wiki", JAN, "v1"), seg("wiki", day(1), "v2")
    store.publish([old_month])
    store.publish([new_day])
    with pytest.raises(NotFound):
        store.revert("wiki", "", day(1), "v1")
    assert used_ids(store, "wiki") == {str(old_month.id), str(new_day.id)}


def test_delete_segments(store: MetadataStore) -> None:
    a, b = seg("wiki", day(1), "v1"), seg("wiki", day(1), "v2")
    store.publish([a])
    store.publish([b])
    assert store.delete_segments([str(a.id), str(a.id), "missing"]) == 1
    assert ids(store.segments(used=None)) == [str(b.id)]
    assert store.delete_segments([]) == 0


# --- rules and tasks -----------------------------------------------------------------------------------


def test_rules_keep_their_history(store: MetadataStore) -> None:
    assert store.get_rules("wiki") == []
    assert store.all_rules() == {}
    hot = [{"type": "loadByPeriod", "period": "P1M", "tieredReplicants": {"hot": 2}}]
    cold = [{"type": "loadForever", "tieredReplicants": {"cold": 1}}]
    store.set_rules("wiki", hot, author="ana", comment="first")
    store.set_rules("wiki", cold, author="bo", comment="cheaper")
    store.set_rules("_default", [{"type": "loadForever", "tieredReplicants": {"_default_tier": 2}}])
    assert store.get_rules("wiki") == cold
    history = store.rules_history("wiki")
    assert [(h["rules"], h["author"], h["comment"]) for h in history] == [
        (cold, "bo", "cheaper"),
        (hot, "ana", "first"),
    ]
    assert all(h["dataSource"] == "wiki" and h["version"].endswith("Z") for h in history)
    assert store.all_rules() == {"_default": store.get_rules("_default"), "wiki": cold}
    store.set_rules("wiki", [])
    assert store.get_rules("wiki") == []
    with pytest.raises(InvalidInput):
        store.set_rules("wiki", [1, 2])  # type: ignore[list-item]


def test_tasks(store: MetadataStore) -> None:
    spec = {"type": "index_parallel", "spec": {"dataSchema": {"dataSource": "wiki"}}}
    store.insert_task("t1", "index_parallel", "wiki", spec)
    time.sleep(0.005)  # creation instants have millisecond precision; keep the order unambiguous
    store.insert_task("t2", "kill", "wiki", {"type": "kill"}, status="PENDING")
    time.sleep(0.005)
    store.insert_task("t3", "index_parallel", "edits", spec, status="WAITING", location="host:8100")
    time.sleep(0.005)
    store.insert_task("t4", "compact", "edits", {"type": "compact"}, status="SUCCESS")
    with pytest.raises(Conflict):
        store.insert_task("t1", "kill", "wiki", {})
    with pytest.raises(InvalidInput):
        store.insert_task("t9", "kill", "wiki", {}, status="DONE")

    t1 = store.get_task("t1")
    assert t1 is not None and t1.payload == spec and t1.status == "RUNNING" and t1.report is None
    assert store.get_task("nope") is None
    assert [t.id for t in store.list_tasks()] == ["t4", "t3", "t2", "t1"]
    assert [t.id for t in store.list_tasks(datasource="wiki")] == ["t2", "t1"]
    assert [t.id for t in store.list_tasks(status="WAITING")] == ["t3"]
    assert [t.id for t in store.list_tasks(limit=2)] == ["t4", "t3"]

    report = {"ingestionStatsAndErrors": {"rowsProcessed": 10}}
    store.update_task("t1", "SUCCESS", duration_ms=1234, report=report)
    t1 = store.get_task("t1")
    assert t1 is not None and (t1.status, t1.duration_ms, t1.report) == ("SUCCESS", 1234, report)
    with pytest.raises(NotFound):
        store.update_task("nope", "FAILED")

    assert store.fail_running_tasks("Overlord restarted") == ["t2", "t3"]
    t3 = store.get_task("t3")
    assert t3 is not None and (t3.status, t3.error_msg, t3.location) == (
        "FAILED",
        "Overlord restarted",
        "host:8100",
    )
    assert [t.status for t in store.list_tasks()] == ["SUCCESS", "FAILED", "FAILED", "SUCCESS"]
    assert store.fail_running_tasks("again") == []


# --- concurrency, schema, failures ---------------------------------------------------------------------


RACE_DAYS = range(1, 11)


def _publisher(url: str, worker: int, rounds: int, start: Event, marked: Queue[int]) -> None:
    """Publish ``rounds`` versions of the same days, three partitions each; report how many it marked."""
    store = MetadataStore(url)
    start.wait(30)
    count = 0
    for r in range(rounds):
        version = f"2024-06-01T00:00:{r:02d}.{worker:03d}Z"  # the workers' versions interleave
        count += len(
            store.publish([seg("race", day(d), version, p, 3) for d in RACE_DAYS for p in (0, 1, 2)])
        )
    store.close()
    marked.put(count)


def test_concurrent_publishers_serialize(url: str) -> None:
    rounds, workers = 10, 3
    # fork: the worker function lives in this test module, which a spawned child could not import.
    ctx = multiprocessing.get_context("fork")
    start, marked = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_publisher, args=(url, w, rounds, start, marked)) for w in range(workers)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * workers

    per_publish = len(RACE_DAYS) * 3
    total = rounds * workers * per_publish
    with MetadataStore(url) as store:
        everything = store.segments("race", used=None)
        assert len(everything) == len({r.descriptor.id for r in everything}) == total
        last = f"2024-06-01T00:00:{rounds - 1:02d}.{workers - 1:03d}Z"
        # Each publish saw every earlier one, so only the highest version is left used ...
        assert {(r.descriptor.interval, r.descriptor.version) for r in store.segments("race")} == {
            (day(d), last) for d in RACE_DAYS
        }
        assert len(store.segments("race")) == per_publish
    # ... and every other segment was marked unused exactly once: two publishes that overlapped would
    # both have marked the segments they both overshadow.
    assert sum(marked.get(timeout=10) for _ in procs) == total - per_publish


def test_publish_reads_only_after_taking_the_change_lock(url: str, store: MetadataStore) -> None:
    """A publish queued behind another writer sees what that writer committed before deciding anything.

    The other writer here is a raw connection that takes the change lock, inserts v3, and commits only
    once our publish of v2 has been waiting: v2 must then come out overshadowed by v3.
    """
    v1, v2, v3 = (seg("wiki", day(1), v) for v in ("v1", "v2", "v3"))
    store.publish([v1])
    done = threading.Event()
    outcome: list[object] = []

    def publish() -> None:
        try:
            outcome.append(store.publish([v2]))
        except BaseException as e:
            outcome.append(e)
        done.set()

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's change lock is its write lock
            else:
                conn.execute(select(changes_table).where(changes_table.c.id == 1).with_for_update()).one()
            conn.execute(insert(segments_table), segment_row(v3, "2024-01-01T00:00:00.000Z"))
            worker = threading.Thread(target=publish)
            worker.start()
            assert not done.wait(0.5), "publish did not wait for the change lock"
            conn.commit()
        assert done.wait(60)
        worker.join()
    finally:
        engine.dispose()
    assert outcome == [[v1, v2]]
    assert used_ids(store, "wiki") == {str(v3.id)}


def test_a_newer_schema_version_is_refused(url: str) -> None:
    MetadataStore(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(update(schema_version_table).values(version=SCHEMA_VERSION + 1))
    engine.dispose()
    with pytest.raises(StorageError, match=r"newer"):
        MetadataStore(url)

    # An older version is upgraded in place.
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(update(schema_version_table).values(version=SCHEMA_VERSION - 1))
    with MetadataStore(url):
        pass
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM grove_schema_version")).scalar() == SCHEMA_VERSION
    engine.dispose()


def test_reopening_keeps_everything(url: str) -> None:
    with MetadataStore(url) as store:
        store.publish([seg("wiki", day(1), "v1")])
        store.set_rules("wiki", [{"type": "dropForever"}])
        counter = store.changes()
    with MetadataStore(url) as store:
        assert len(store.segments("wiki")) == 1
        assert store.get_rules("wiki") == [{"type": "dropForever"}]
        assert store.changes() == counter


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "grove.db"
    with MetadataStore(f"sqlite:///{path}") as store:
        store.publish([seg("wiki", day(1), "v1")])
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            conn.close()


def test_in_memory_sqlite_works(tmp_path: Path) -> None:
    with MetadataStore("sqlite://") as store:
        store.publish([seg("wiki", day(1), "v1")])
        assert len(store.segments()) == 1


def test_a_corrupted_database_gives_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "grove.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match=r"Metadata store"):
        MetadataStore(f"sqlite:///{path}")


def test_an_unusable_sqlite_path_gives_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match=r"folder"):
        MetadataStore(f"sqlite:///{blocker}/sub/grove.db")


@pytest.mark.parametrize(
    "bad_url",
    [
        "mysql+pymysql://grove:s3cret-pw@127.0.0.1:1/grove_test",
        "postgresql+psycopg://grove:s3cret-pw@127.0.0.1:1/grove_test",
    ],
    ids=["mysql", "postgres"],
)
def test_an_unreachable_server_gives_storage_error_without_the_password(bad_url: str) -> None:
    with pytest.raises(StorageError) as info:
        MetadataStore(bad_url)
    assert "s3cret-pw" not in info.value.message
    assert "127.0.0.1" in info.value.message


@pytest.mark.parametrize(
    "bad_url", ["not a url", "nosuchdialect://u:s3cret-pw@h/db", "mssql+nosuchdriver://u:s3cret-pw@h/db"]
)
def test_a_malformed_url_gives_storage_error(bad_url: str) -> None:
    with pytest.raises(StorageError) as info:
        MetadataStore(bad_url)
    assert "s3cret-pw" not in info.value.message


# --- lookups -------------------------------------------------------------------------------------------


def lookup_spec(version: str, table: dict[str, str]) -> dict[str, object]:
    return {"version": version, "lookupExtractorFactory": {"type": "map", "map": table}}


def test_lookups_round_trip_by_tier_and_name(store: MetadataStore) -> None:
    assert store.lookups() == [] and store.lookup_tiers() == []
    before = store.lookup_changes()
    written = store.set_lookups(
        {
            "__default": {"b": lookup_spec("v1", {"k": "v"}), "a": lookup_spec("v0", {"日本": "Japan"})},
            "other": {"a": lookup_spec("x", {})},
        }
    )
    assert written == 3
    assert store.lookup_changes() == before + 1
    assert store.changes() == 0  # segment changes are counted apart
    assert [(r.tier, r.name, r.version) for r in store.lookups()] == [
        ("__default", "a", "v0"),
        ("__default", "b", "v1"),
        ("other", "a", "x"),
    ]
    assert store.lookup_tiers() == ["__default", "other"]
    record = store.get_lookup("__default", "a")
    assert record is not None
    assert record.to_json() == lookup_spec("v0", {"日本": "Japan"})
    assert record.updated.endswith("Z")
    assert [r.name for r in store.lookups("other")] == ["a"]
    assert store.get_lookup("__default", "A") is None  # names are case-sensitive
    assert store.set_lookups({}) == 0


def test_lookup_update_needs_a_strictly_higher_version(store: MetadataStore) -> None:
    store.set_lookups({"t": {"l": lookup_spec("v2", {"a": "1"})}})
    for stale in ("v2", "v10", "v1"):  # strings compare: "v10" < "v2"
        with pytest.raises(Conflict, match=r"\[l\].*\[t\].*\[v2\]"):
            store.set_lookups({"t": {"l": lookup_spec(stale, {"a": "2"})}})
    store.set_lookups({"t": {"l": lookup_spec("v3", {"a": "3"})}})
    record = store.get_lookup("t", "l")
    assert record is not None and record.to_json() == lookup_spec("v3", {"a": "3"})


def test_a_lookup_conflict_in_a_bulk_update_writes_nothing(store: MetadataStore) -> None:
    store.set_lookups({"t": {"old": lookup_spec("v5", {})}})
    changes = store.lookup_changes()
    with pytest.raises(Conflict):
        store.set_lookups({"t": {"new": lookup_spec("v0", {}), "old": lookup_spec("v4", {})}})
    assert store.get_lookup("t", "new") is None
    assert store.lookup_changes() == changes


@pytest.mark.parametrize(
    ("specs", "path"),
    [
        ({"": {"l": lookup_spec("v", {})}}, "tier"),
        ({"t": ["l"]}, "t"),
        ({"t": {"l": "spec"}}, "t.l"),
        ({"t": {"l": {"lookupExtractorFactory": {}}}}, "t.l.version"),
        ({"t": {"l": {"version": "", "lookupExtractorFactory": {}}}}, "t.l.version"),
        ({"t": {"l": {"version": "v"}}}, "t.l.lookupExtractorFactory"),
    ],
)
def test_malformed_lookups_are_refused_naming_the_field(
    store: MetadataStore, specs: dict[str, object], path: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        store.set_lookups(specs)  # type: ignore[arg-type]
    assert info.value.path == path
    assert store.lookups() == []


def test_delete_lookups(store: MetadataStore) -> None:
    store.set_lookups(
        {"t": {"a": lookup_spec("v", {}), "b": lookup_spec("v", {})}, "u": {"a": lookup_spec("v", {})}}
    )
    changes = store.lookup_changes()
    assert store.delete_lookup("t", "a")
    assert not store.delete_lookup("t", "a")
    assert store.lookup_changes() == changes + 1
    assert store.delete_lookup_tier("t") == 1
    assert store.delete_lookup_tier("t") == 0
    assert store.lookup_tiers() == ["u"]
    # A deleted lookup can come back with any version.
    store.set_lookups({"t": {"a": lookup_spec("a0", {})}})
    assert [r.name for r in store.lookups("t")] == ["a"]


def test_lookups_survive_reopening_and_other_processes_see_them(url: str) -> None:
    with MetadataStore(url) as writer, MetadataStore(url) as reader:
        before = reader.lookup_changes()
        writer.set_lookups({"t": {"l": lookup_spec("v1", {"a": "b"})}})
        assert reader.lookup_changes() > before
        assert [r.name for r in reader.lookups()] == ["l"]
    with MetadataStore(url) as store:
        record = store.get_lookup("t", "l")
        assert record is not None and record.version == "v1"


def test_a_version_1_database_gains_the_lookups_table(url: str) -> None:
    with MetadataStore(url) as store:
        store.publish([seg("wiki", day(1), "v1")])
    # What grove wrote before lookups existed: no lookups table, one change-counter row, version 1.
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE grove_lookups"))
        conn.execute(changes_table.delete().where(changes_table.c.id == 2))
        conn.execute(update(schema_version_table).values(version=1))
    with MetadataStore(url) as store:
        assert len(store.segments("wiki")) == 1
        assert store.lookups() == [] and store.lookup_changes() == 0
        store.set_lookups({"t": {"l": lookup_spec("v1", {})}})
        assert store.lookup_changes() == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM grove_schema_version")).scalar() == SCHEMA_VERSION
    engine.dispose()
