"""The versioned interval timeline: Druid's overshadowing rules, namespaces, and a brute-force oracle."""

from __future__ import annotations

import random
from collections import defaultdict

from grove.common.intervals import Interval
from grove.common.time import parse_timestamp
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.segment_id import SegmentId
from grove.timeline.shard import ShardSpec
from grove.timeline.timeline import DatasourceTimeline, TimelineEntry, VersionedIntervalTimeline

DAY = 86_400_000
SEPT = parse_timestamp("2015-09-01")
OCT = parse_timestamp("2015-10-01")


def seg(
    start: int, end: int, version: str, partition: int = 0, partitions: int = 1, namespace: str = ""
) -> SegmentDescriptor:
    return SegmentDescriptor(
        SegmentId("ds", Interval(start, end), version, partition, namespace), ShardSpec(partition, partitions)
    )


def day(n: int) -> int:
    return SEPT + (n - 1) * DAY


def ids(segments: list[SegmentDescriptor]) -> list[SegmentId]:
    return sorted(s.id for s in segments)


def visible(entries: list[TimelineEntry]) -> list[tuple[int, int, str]]:
    return [(e.interval.start, e.interval.end, e.version) for e in entries]


def test_higher_complete_version_wins() -> None:
    v1 = [seg(day(1), day(2), "v1", p, 2) for p in range(2)]
    v2 = [seg(day(1), day(2), "v2", p, 3) for p in range(3)]
    tl = VersionedIntervalTimeline(v1 + v2)
    assert visible(tl.entries()) == [(day(1), day(2), "v2")]
    assert tl.visible_segments() == v2
    assert ids(tl.overshadowed()) == ids(v1)
    # Versions compare as strings, as in Druid.
    tl = VersionedIntervalTimeline(
        [seg(0, 10, "2015-09-20T10:00:00.000Z"), seg(0, 10, "2015-09-03T10:00:00.000Z")]
    )
    assert visible(tl.entries()) == [(0, 10, "2015-09-20T10:00:00.000Z")]


def test_day_rewritten_inside_a_month() -> None:
    month = seg(SEPT, OCT, "v1")
    rewritten = seg(day(10), day(11), "v2")
    tl = VersionedIntervalTimeline([month, rewritten])
    assert visible(tl.entries()) == [(SEPT, day(10), "v1"), (day(10), day(11), "v2"), (day(11), OCT, "v1")]
    assert tl.overshadowed() == []  # the month is still partly visible
    assert tl.entries()[0].chunk.interval == Interval(SEPT, OCT)  # clipped entry, whole chunk
    # Lookups are clipped to the query interval.
    assert visible(tl.lookup(Interval(day(9) + 5, day(10) + 7))) == [
        (day(9) + 5, day(10), "v1"),
        (day(10), day(10) + 7, "v2"),
    ]
    assert visible(tl.lookup(Interval(day(20), day(21)))) == [(day(20), day(21), "v1")]
    assert tl.visible_segments(Interval(day(10), day(11))) == [rewritten]
    assert tl.visible_segments(Interval(day(1), day(11))) == [month, rewritten]


def test_month_rewritten_over_days_hides_them_all() -> None:
    days = [seg(day(d), day(d + 1), "v1") for d in range(1, 31)]
    month = seg(SEPT, OCT, "v2")
    tl = VersionedIntervalTimeline([*days, month])
    assert visible(tl.entries()) == [(SEPT, OCT, "v2")]
    assert ids(tl.overshadowed()) == ids(days)


def test_old_month_under_new_days() -> None:
    # Every day of the month rewritten at a higher version: the month is fully hidden.
    month = seg(SEPT, OCT, "v1")
    days = [seg(day(d), day(d + 1), "v2") for d in range(1, 31)]
    tl = VersionedIntervalTimeline([month, *days])
    assert tl.overshadowed() == [month]
    assert len(tl.entries()) == 30
    # One day missing: the month shows through on that day only.
    tl = VersionedIntervalTimeline([month, *days[:14], *days[15:]])
    assert tl.overshadowed() == []
    assert [e for e in visible(tl.entries()) if e[2] == "v1"] == [(day(15), day(16), "v1")]


def test_incomplete_partition_sets_are_invisible_and_overshadow_nothing() -> None:
    v1 = [seg(0, 10, "v1", p, 2) for p in range(2)]
    v2_partial = [seg(0, 10, "v2", 0, 3), seg(0, 10, "v2", 2, 3)]  # partition 1 missing
    tl = VersionedIntervalTimeline(v1 + v2_partial)
    assert visible(tl.entries()) == [(0, 10, "v1")]
    assert tl.overshadowed() == []
    assert tl.visible_segments() == v1
    # Once the missing partition arrives, v2 takes over.
    tl = VersionedIntervalTimeline([*v1, *v2_partial, seg(0, 10, "v2", 1, 3)])
    assert visible(tl.entries()) == [(0, 10, "v2")]
    assert ids(tl.overshadowed()) == ids(v1)
    # An incomplete chunk that is itself wholly covered by a higher version is overshadowed.
    tl = VersionedIntervalTimeline([*v2_partial, seg(0, 10, "v3")])
    assert ids(tl.overshadowed()) == ids(v2_partial)


def test_appended_partitions_join_the_complete_core_set() -> None:
    core = [seg(0, 10, "v1", p, 2) for p in range(2)]
    appended = [seg(0, 10, "v1", 2, 2), seg(0, 10, "v1", 5, 2)]
    tl = VersionedIntervalTimeline(core + appended)
    assert visible(tl.entries()) == [(0, 10, "v1")]
    assert [s.partition for s in tl.visible_segments()] == [0, 1, 2, 5]
    # Appended partitions alone do not make an incomplete core set visible.
    tl = VersionedIntervalTimeline([core[0], *appended])
    assert tl.entries() == []
    # A chunk with no core partitions (partitions=0) is complete as soon as any segment exists.
    tl = VersionedIntervalTimeline([seg(0, 10, "v1", 0, 0), seg(0, 10, "v1", 3, 0)])
    assert [s.partition for s in tl.visible_segments()] == [0, 3]


def test_overshadowed_lists_exactly_the_fully_hidden_segments() -> None:
    a = seg(0, 10, "v1")
    b = seg(0, 5, "v2")
    c = seg(5, 10, "v3")
    d = seg(2, 8, "v0")
    e = seg(20, 30, "v0")
    tl = VersionedIntervalTimeline([a, b, c, d, e])
    # a is covered by b and c together; d by a; e by nothing.
    assert ids(tl.overshadowed()) == ids([a, d])
    assert visible(tl.entries()) == [(0, 5, "v2"), (5, 10, "v3"), (20, 30, "v0")]


def test_namespaces_never_overshadow_each_other() -> None:
    default_v1 = seg(0, 10, "v1")
    other_v2 = seg(0, 10, "v2", 0, 1, "spend")
    other_v1 = seg(0, 10, "v1", 0, 1, "spend")
    default_v3_part = seg(4, 6, "v3")
    dtl = DatasourceTimeline([default_v1, other_v2, other_v1, default_v3_part])
    assert set(dtl.namespaces) == {"", "spend"}
    assert dtl.overshadowed() == [other_v1]
    entries = dtl.lookup(Interval(0, 10))
    got = sorted((e.interval.start, e.interval.end, e.version, e.chunk.namespace) for e in entries)
    assert got == [
        (0, 4, "v1", ""),
        (0, 10, "v2", "spend"),
        (4, 6, "v3", ""),
        (6, 10, "v1", ""),
    ]
    assert [e.interval.start for e in entries] == sorted(e.interval.start for e in entries)
    assert ids(dtl.visible_segments()) == ids([default_v1, default_v3_part, other_v2])
    assert ids(dtl.visible_segments(Interval(4, 5))) == ids([default_v3_part, other_v2])


def test_empty_timeline() -> None:
    tl = VersionedIntervalTimeline([])
    assert tl.entries() == [] and tl.lookup(Interval(0, 10)) == [] and tl.overshadowed() == []
    assert DatasourceTimeline([]).lookup(Interval.eternity()) == []


def test_lookup_clips_to_the_query_interval() -> None:
    tl = VersionedIntervalTimeline([seg(0, 100, "v1"), seg(40, 60, "v2")])
    assert visible(tl.lookup(Interval(10, 50))) == [(10, 40, "v1"), (40, 50, "v2")]
    assert visible(tl.lookup(Interval(100, 200))) == []
    assert visible(tl.lookup(Interval(50, 50))) == []
    assert visible(tl.lookup(Interval.eternity())) == [(0, 40, "v1"), (40, 60, "v2"), (60, 100, "v1")]


# --- randomized comparison with a brute-force reference -----------------------------------------


def _random_segments(rng: random.Random, horizon: int) -> list[SegmentDescriptor]:
    out = []
    used = set()
    for _ in range(rng.randrange(1, 9)):
        start = rng.randrange(horizon)
        end = rng.randrange(start + 1, horizon + 1)
        version = f"v{rng.randrange(5)}"
        if (start, end, version) in used:
            continue
        used.add((start, end, version))
        core = rng.choice([0, 1, 1, 2, 3])
        partitions = list(range(core)) if core else [0]
        if core and rng.random() < 0.3:
            partitions.remove(rng.choice(partitions))  # incomplete
        if rng.random() < 0.2:
            partitions.append(core + rng.randrange(3))  # appended
        for p in sorted(set(partitions)):
            out.append(seg(start, end, version, p, core))
    return out


def _complete(chunk: list[SegmentDescriptor]) -> bool:
    core = max(s.shard_spec.partitions for s in chunk)
    present = {s.partition for s in chunk}
    return all(p in present for p in range(core)) if core else True


def _reference(segments: list[SegmentDescriptor], horizon: int) -> tuple[dict[int, set], set]:
    """Per millisecond: the chunks visible there; and the chunks hidden everywhere they cover."""
    chunks: dict[tuple[Interval, str], list[SegmentDescriptor]] = defaultdict(list)
    for s in segments:
        chunks[(s.interval, s.version)].append(s)
    complete = {k for k, v in chunks.items() if _complete(v)}
    per_ms: dict[int, set] = {}
    for t in range(horizon):
        covering = [k for k in complete if k[0].contains_instant(t)]
        if covering:
            top = max(k[1] for k in covering)
            per_ms[t] = {k for k in covering if k[1] == top}
        else:
            per_ms[t] = set()
    hidden = set()
    for k in chunks:
        iv, version = k
        if all(
            any(c[1] > version and c[0].contains_instant(t) for c in complete)
            for t in range(iv.start, iv.end)
        ):
            hidden.add(k)
    return per_ms, hidden


def test_random_timelines_match_brute_force() -> None:
    rng = random.Random(99)
    horizon = 24
    for _ in range(1500):
        segments = _random_segments(rng, horizon)
        rng.shuffle(segments)
        tl = VersionedIntervalTimeline(segments)
        per_ms, hidden = _reference(segments, horizon)
        got: dict[int, set] = {t: set() for t in range(horizon)}
        for e in tl.entries():
            for t in range(e.interval.start, e.interval.end):
                got[t].add((e.chunk.interval, e.version))
        assert got == per_ms, segments
        assert {(s.interval, s.version) for s in tl.overshadowed()} == hidden
        hidden_segments = [s for s in segments if (s.interval, s.version) in hidden]
        assert ids(tl.overshadowed()) == ids(hidden_segments)
        # lookup is the visible entries clipped to the query, for any query interval.
        for _ in range(4):
            a = rng.randrange(horizon + 2)
            b = rng.randrange(a, horizon + 3)
            q = Interval(a, b)
            expected = sorted(
                (iv.start, iv.end, e.version, e.chunk.interval)
                for e in tl.entries()
                if (iv := e.interval.intersect(q)) is not None
            )
            got_lookup = tl.lookup(q)
            assert (
                sorted((e.interval.start, e.interval.end, e.version, e.chunk.interval) for e in got_lookup)
                == expected
            )
            assert all(q.contains(e.interval) for e in got_lookup)
            chunk_keys = {(s.interval, s.version) for s in tl.visible_segments(q)}
            assert chunk_keys == {(iv, v) for (_, _, v, iv) in expected}


def test_repeated_lookups_give_the_same_answer_and_callers_cannot_change_it() -> None:
    dtl = DatasourceTimeline([seg(0, 10, "v1"), seg(4, 6, "v2"), seg(0, 10, "v1", 0, 1, "spend")])
    first = dtl.lookup(Interval(2, 8))
    expected = visible(first)
    first.clear()
    for _ in range(3):
        assert visible(dtl.lookup(Interval(2, 8))) == expected
    assert visible(dtl.lookup(Interval(5, 9))) == [(5, 6, "v2"), (5, 9, "v1"), (6, 9, "v1")]
    for start in range(2_000):  # more distinct intervals than are kept: answers stay right
        assert len(dtl.lookup(Interval(start, start + 1))) == (2 if start < 10 else 0)
