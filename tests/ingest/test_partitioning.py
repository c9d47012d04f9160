"""Step 2 of a batch write: rows to time chunks (also when appending) and partition hashes."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from ingest_helpers import DAY, HOUR, T0, filtered, plan_of, task

from grove.common.granularity import Granularity
from grove.common.intervals import Interval
from grove.ingest.indexing import to_block
from grove.ingest.partitioning import ChunkMapper, partition_hashes
from grove.ingest.plan import PARTITION_HASH
from grove.segment.block import RowBlock
from grove.segment.columns import NumericColumn


def chunks_of(mapper: ChunkMapper, times: list[int]) -> list[Interval]:
    ids = mapper.chunk_ids(np.array(times, dtype=np.int64))
    return [mapper.interval(int(i)) for i in ids]


def visible(chunks_oldest_first: list[Interval]) -> list[tuple[Interval, Interval]]:
    """(visible part, chunk) pieces when each chunk has a newer version than those before it."""
    pieces: list[tuple[Interval, Interval]] = []
    for chunk in chunks_oldest_first:
        kept: list[tuple[Interval, Interval]] = []
        for part, owner in pieces:
            if part.end > chunk.start and chunk.end > part.start:
                if part.start < chunk.start:
                    kept.append((Interval(part.start, chunk.start), owner))
                if chunk.end < part.end:
                    kept.append((Interval(chunk.end, part.end), owner))
            else:
                kept.append((part, owner))
        pieces = [*kept, (chunk, chunk)]
    return sorted(pieces)


# --- chunks -------------------------------------------------------------------------------------------


def test_rows_go_to_their_segment_granularity_bucket() -> None:
    mapper = ChunkMapper(Granularity.parse("day"))
    times = [T0, T0 + DAY - 1, T0 + DAY, T0 - 1]
    assert chunks_of(mapper, times) == [
        Interval(T0, T0 + DAY),
        Interval(T0, T0 + DAY),
        Interval(T0 + DAY, T0 + 2 * DAY),
        Interval(T0 - DAY, T0),
    ]


def test_month_buckets_follow_the_calendar() -> None:
    mapper = ChunkMapper(Granularity.parse("month"))
    feb = T0 + 31 * DAY
    assert chunks_of(mapper, [feb + 5]) == [Interval(feb, feb + 29 * DAY)]  # 2020 is a leap year


def test_append_uses_an_existing_coarser_chunk_that_covers_the_row() -> None:
    existing = [Interval(T0, T0 + DAY)]  # a day chunk; the append asks for hours
    mapper = ChunkMapper(Granularity.parse("hour"), visible(existing))
    assert chunks_of(mapper, [T0 + 5 * HOUR, T0 + DAY - 1, T0 + DAY + 1, T0 - 1]) == [
        Interval(T0, T0 + DAY),
        Interval(T0, T0 + DAY),
        Interval(T0 + DAY, T0 + DAY + HOUR),
        Interval(T0 - HOUR, T0),
    ]


def test_append_around_existing_finer_chunks_fills_only_the_gaps() -> None:
    # Existing hour chunks at 00:00 and 03:00; the append asks for days.
    existing = [Interval(T0, T0 + HOUR), Interval(T0 + 3 * HOUR, T0 + 4 * HOUR)]
    mapper = ChunkMapper(Granularity.parse("day"), visible(existing))
    got = chunks_of(mapper, [T0 + 30 * 60_000, T0 + 2 * HOUR, T0 + 3 * HOUR + 5, T0 + 5 * HOUR, T0 + DAY])
    assert got == [
        Interval(T0, T0 + HOUR),  # inside the first existing chunk
        Interval(T0 + HOUR, T0 + 3 * HOUR),  # the gap between them
        Interval(T0 + 3 * HOUR, T0 + 4 * HOUR),  # inside the second
        Interval(T0 + 4 * HOUR, T0 + DAY),  # the rest of the day after it
        Interval(T0 + DAY, T0 + 2 * DAY),  # a day without existing chunks
    ]


def test_append_into_overlapping_chunks_picks_the_one_holding_the_row() -> None:
    # A month chunk partly overshadowed by newer day chunks: the timeline shows all of them.
    month = Interval(T0, T0 + 31 * DAY)
    days = [Interval(T0 + 4 * DAY, T0 + 5 * DAY), Interval(T0 + 6 * DAY, T0 + 7 * DAY)]
    mapper = ChunkMapper(Granularity.parse("day"), visible([month, *days]))
    got = chunks_of(
        mapper, [T0 + 4 * DAY + 1, T0 + 5 * DAY, T0 + 6 * DAY + HOUR, T0 + 20 * DAY, T0 + 40 * DAY]
    )
    assert got == [days[0], month, days[1], month, Interval(T0 + 40 * DAY, T0 + 41 * DAY)]


def test_append_into_chunks_sharing_a_start_picks_the_visible_one() -> None:
    # A day chunk whose first six hours were re-ingested at six_hour granularity: both start at T0.
    day = Interval(T0, T0 + DAY)
    quarter = Interval(T0, T0 + 6 * HOUR)
    mapper = ChunkMapper(Granularity.parse("day"), visible([day, quarter]))
    assert chunks_of(mapper, [T0 + 3 * HOUR, T0 + 7 * HOUR, T0, T0 + 6 * HOUR]) == [
        quarter,
        day,
        quarter,
        day,
    ]


@pytest.mark.parametrize("seed", range(5))
def test_append_chunks_always_hold_their_rows_and_never_overlap_existing_ones(seed: int) -> None:
    rng = random.Random(seed)
    existing: list[Interval] = []
    cursor = T0
    while cursor < T0 + 4 * DAY:
        length = rng.choice([HOUR, 2 * HOUR, DAY, 90 * 60_000])
        if rng.random() < 0.5:
            existing.append(Interval(cursor, cursor + length))
        cursor += length + rng.choice([0, HOUR, 7 * HOUR])
    if seed % 2:
        # A coarse chunk partly overshadowed by the finer ones above: visible chunks may overlap.
        existing.append(Interval(T0 + DAY, T0 + 3 * DAY + HOUR // 2))
    granularity = Granularity.parse(rng.choice(["day", "hour", "six_hour", "week"]))
    pieces = visible(existing)
    mapper = ChunkMapper(granularity, pieces)
    times = sorted(rng.randrange(T0 - DAY, T0 + 5 * DAY) for _ in range(2000))
    chunks = chunks_of(mapper, times)
    for t, chunk in zip(times, chunks, strict=True):
        assert chunk.start <= t < chunk.end
        holder = [owner for part, owner in pieces if part.start <= t < part.end]
        if holder:
            assert chunk == holder[0]  # the chunk whose data is visible at the row's time
        else:
            assert not any(chunk.overlaps(part) for part, _ in pieces)
            assert granularity.truncate(chunk.start) == granularity.truncate(chunk.end - 1)


# --- partition hashes ---------------------------------------------------------------------------------


def hashed_spec(dimensions: list[Any], partition_dimensions: list[str] | None = None) -> dict[str, Any]:
    partitions: dict[str, Any] = {"type": "hashed", "numShards": 4}
    if partition_dimensions is not None:
        partitions["partitionDimensions"] = partition_dimensions
    return task(
        dimensions=dimensions,
        metrics=[{"type": "count", "name": "count"}],
        tuning={"partitionsSpec": partitions},
    )


def block_of(spec: dict[str, Any], columns: dict[str, list[Any]]) -> RowBlock:
    n = len(next(iter(columns.values())))
    rows, stats = filtered(pa.table({"ts": [T0 + i for i in range(n)], **columns}), spec)
    return to_block(rows, plan_of(spec), stats)


def hashes(spec: dict[str, Any], columns: dict[str, list[Any]], dims: list[str] | None = None) -> list[int]:
    return partition_hashes(block_of(spec, columns), dims or []).tolist()


def test_equal_dimension_values_hash_equal_even_across_blocks() -> None:
    spec = hashed_spec(["a", "b"])
    first = hashes(spec, {"a": ["x", "y", "x"], "b": ["1", "2", "1"]})
    # Another block has other values, so other dictionaries and codes for the same strings.
    second = hashes(spec, {"a": ["zzz", "x", "aaa"], "b": ["9", "1", "0"]})
    assert first[0] == first[2] == second[1]
    assert len({first[0], first[1], second[0], second[2]}) == 4


def test_hash_depends_on_every_dimension_and_on_their_order() -> None:
    spec = hashed_spec(["a", "b"])
    h = hashes(spec, {"a": ["x", "x", "y"], "b": ["y", "z", "x"]})
    assert len(set(h)) == 3  # ("x", "y") and ("y", "x") differ


def test_order_of_multi_value_values_does_not_matter() -> None:
    spec = hashed_spec([{"name": "tags", "multiValueHandling": "ARRAY"}])
    h = hashes(spec, {"tags": [["a", "b", "c"], ["c", "a", "b"], ["a", "b"], ["a", "b", "c", "d"]]})
    assert h[0] == h[1]
    assert len({h[0], h[2], h[3]}) == 3


def test_nulls_hash_consistently_and_differently_from_empty_strings() -> None:
    spec = hashed_spec(["a", {"name": "n", "type": "long"}])
    h = hashes(spec, {"a": [None, None, "", "", None], "n": [None, None, None, None, 0]})
    assert h[0] == h[1]
    assert h[2] == h[3]
    assert h[0] != h[2]
    assert h[0] != h[4]  # a null number is not zero
    missing = hashes(hashed_spec(["a", "absent"]), {"a": [None, None]})
    assert missing[0] == missing[1]


def test_numeric_dimensions_hash_by_value() -> None:
    spec = hashed_spec([{"name": "n", "type": "long"}, {"name": "x", "type": "double"}])
    h = hashes(spec, {"n": [1, 2, 1, 1], "x": [0.5, 0.5, 0.5, 0.25]})
    assert h[0] == h[2]
    assert len({h[0], h[1], h[3]}) == 3


def test_partition_dimensions_ignore_the_others() -> None:
    spec = hashed_spec(["a", "b"], partition_dimensions=["a"])
    block = block_of(spec, {"a": ["x", "x", "y"], "b": ["1", "2", "1"]})
    stored = block.columns[PARTITION_HASH]
    assert isinstance(stored, NumericColumn)
    h = partition_hashes(block, ["a"]).view(np.int64).tolist()
    assert stored.to_arrow().to_pylist() == h  # to_block stores the hash of partitionDimensions
    assert h[0] == h[1] != h[2]


def test_hashes_spread_evenly_over_shards() -> None:
    spec = hashed_spec(["a"])
    h = np.array(hashes(spec, {"a": [f"value-{i}" for i in range(8000)]}), dtype=np.uint64)
    counts = np.bincount((h % np.uint64(8)).astype(np.int64), minlength=8)
    assert counts.min() > 800  # 1,000 expected per shard; 800 is more than 6 standard deviations off
