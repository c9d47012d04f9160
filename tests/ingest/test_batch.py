"""Batch ingestion end to end, through ``grove.open(home).ingest(spec)`` with real files and SQLite.

Published segments are read back from deep storage (``MappedSegment`` on each load spec) and checked
against DuckDB over the raw input. The acceptance points of the foundation issue each have a test:
re-ingest and revert, namespaces, failures at any step, a SIGKILL mid-write, bad input, appends.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import (
    DATA,
    DAY,
    EXAMPLES,
    HOUR,
    REPO,
    T0,
    files_under,
    inline,
    iso,
    json_lines,
    open_segment,
    published_table,
    task,
    with_source,
)

import grove
from grove.cluster.embedded import Database
from grove.common.intervals import Interval
from grove.errors import IngestionFailed, InvalidSpec, ParseExceptionLimit, StorageError
from grove.ingest.sample import generate_ads, write_ads
from grove.metadata.store import MetadataStore
from grove.segment.columns import SketchColumn
from grove.segment.sketches import HLL_DEFAULT_LGK, hll_estimate_sparse
from grove.storage.deep import DeepStorage
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.timeline import DatasourceTimeline, VersionedIntervalTimeline

ADS_ROWS = 30_000
ADS_DAYS = 2
ADS_SEED = 7
ADS_START = "2026-01-01"
ADS_DIMS = ["advertiser_id", "campaign_id", "ad_group_id", "pin_id", "country", "device", "placement"]
ADS_SUMS = ["impressions", "clicks", "spend_micros"]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with grove.open(home=str(tmp_path / "home"), ingest_workers=1) as database:
        yield database


@pytest.fixture(scope="module")
def ads_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same generated ad events as JSON lines and as Parquet."""
    folder = tmp_path_factory.mktemp("ads")
    for suffix in ("json", "parquet"):
        write_ads(folder / f"ads-0.{suffix}", ADS_ROWS, ADS_DAYS, ADS_SEED, ADS_START)
    return folder


@pytest.fixture(scope="module")
def ads_raw() -> pa.Table:
    """The raw events, as the generator makes them (the files hold exactly these rows)."""
    return pa.concat_tables(generate_ads(ADS_ROWS, ADS_DAYS, ADS_SEED, ADS_START))


def ads_spec(
    folder: Path, fmt: str = "json", *, rollup: bool = True, datasource: str = "ads"
) -> dict[str, Any]:
    name = "ads-index-parquet.json" if fmt == "parquet" else "ads-index.json"
    spec = json.loads((EXAMPLES / name).read_text())
    schema = spec["spec"]["dataSchema"]
    schema["dataSource"] = datasource
    schema["granularitySpec"]["rollup"] = rollup
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = str(folder)
    return spec


def used(db: Database, datasource: str) -> list[SegmentDescriptor]:
    return [r.descriptor for r in db.segments(datasource)]


def task_status(db: Database, task_id: str | None = None) -> list[tuple[str, str | None]]:
    tasks = db.metadata.list_tasks()
    return [(t.status, t.error_msg) for t in tasks if task_id is None or t.id == task_id]


def sums_by_key(table: pa.Table, keys: list[str], sums: list[str]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """``{key: (sum, ...)}`` computed by DuckDB."""
    con = duckdb.connect()
    con.register("t", table)
    cols = ", ".join(f'"{k}"' for k in keys)
    aggs = ", ".join(f'sum("{s}")' for s in sums)
    rows = con.execute(f"SELECT {cols}, {aggs} FROM t GROUP BY ALL").fetchall()
    return {tuple(r[: len(keys)]): tuple(r[len(keys) :]) for r in rows}


# --- rollup correctness against DuckDB ------------------------------------------------------------------


@pytest.mark.parametrize(
    "dims",
    [
        ADS_DIMS,  # the example spec's: down to the pin, so few events share an hour
        ["country", "device"],  # coarse: most events roll up
    ],
    ids=["example-dimensions", "coarse-dimensions"],
)
def test_hourly_rollup_matches_duckdb_on_generated_ads(
    db: Database, ads_dir: Path, ads_raw: pa.Table, dims: list[str]
) -> None:
    spec = ads_spec(ads_dir)
    assert spec["spec"]["dataSchema"]["dimensionsSpec"]["dimensions"] == ADS_DIMS
    spec["spec"]["dataSchema"]["dimensionsSpec"]["dimensions"] = dims
    summary = db.ingest(spec)
    segments = used(db, "ads")
    assert [str(s.interval) for s in segments] == [
        "2026-01-01T00:00:00.000Z/2026-01-02T00:00:00.000Z",
        "2026-01-02T00:00:00.000Z/2026-01-03T00:00:00.000Z",
    ]
    assert sorted(str(s.id) for s in segments) == sorted(str(s.id) for s in summary.segments)
    assert summary.stats.processed == ADS_ROWS
    assert summary.stats.unparseable == summary.stats.thrown_away == summary.stats.processed_with_error == 0

    oracle = duckdb.connect()
    oracle.register("raw", ads_raw)
    expected = {
        tuple(r[:-4]): tuple(r[-4:])
        for r in oracle.execute(
            f"""SELECT epoch_ms(date_trunc('hour', CAST("timestamp" AS TIMESTAMP))) AS hour, {", ".join(dims)},
                       count(*), sum(impressions), sum(clicks), sum(spend_micros)
                FROM raw GROUP BY ALL"""
        ).fetchall()
    }
    got_table = published_table(segments)
    columns = ["__time", *dims, "count", *ADS_SUMS]
    got = {
        tuple(r[:-4]): tuple(r[-4:])
        for r in zip(*(got_table.column(c).to_pylist() for c in columns), strict=True)
    }
    # Perfect rollup: one row per (hour, dimensions), holding the sums of the raw rows in it.
    assert got_table.num_rows == len(expected) == summary.rows_after_rollup
    assert got == expected
    if len(dims) < len(ADS_DIMS):
        assert got_table.num_rows < ADS_ROWS / 2  # the data really rolled up

    # Reach per hour: the union of the rows' HLL sketches within three standard errors of exact.
    exact = dict(
        oracle.execute(
            """SELECT epoch_ms(date_trunc('hour', CAST("timestamp" AS TIMESTAMP))), count(DISTINCT user_id)
               FROM raw GROUP BY 1"""
        ).fetchall()
    )
    hours = sorted(exact)
    index = {h: i for i, h in enumerate(hours)}
    groups, entries, lgk = [], [], HLL_DEFAULT_LGK  # the example spec leaves lgK at its default
    for descriptor in segments:
        seg = open_segment(descriptor)
        reach = seg.column("reach")
        assert isinstance(reach, SketchColumn) and reach.sketches.param == lgk
        row_hour = np.array([index[int(t)] for t in seg.time()], dtype=np.int64)
        groups.append(row_hour[reach.sketches.parents()])
        entries.append(reach.sketches.entries)
    estimates = hll_estimate_sparse(np.concatenate(groups), np.concatenate(entries), len(hours), lgk)
    relative_error = 1.04 / math.sqrt(1 << lgk)
    for hour, estimate in zip(hours, estimates, strict=True):
        assert abs(estimate - exact[hour]) <= 3 * relative_error * exact[hour], (
            iso(hour),
            estimate,
            exact[hour],
        )


def test_without_rollup_every_row_is_kept(db: Database, ads_dir: Path, ads_raw: pa.Table) -> None:
    summary = db.ingest(ads_spec(ads_dir, rollup=False))
    table = published_table(used(db, "ads"))
    assert table.num_rows == summary.rows_after_rollup == ADS_ROWS
    assert set(table.column("count").to_pylist()) == {1}
    for metric in ADS_SUMS:
        assert sum(table.column(metric).to_pylist()) == sum(ads_raw.column(metric).to_pylist())
    # Rows keep their hour (queryGranularity) but not their minutes.
    assert all(t % HOUR == 0 for t in table.column("__time").to_pylist())
    oracle = duckdb.connect()
    oracle.register("raw", ads_raw)
    expected = oracle.execute(
        """SELECT epoch_ms(date_trunc('hour', CAST("timestamp" AS TIMESTAMP))), country, count(*)
           FROM raw GROUP BY ALL"""
    ).fetchall()
    assert sums_by_key(table, ["__time", "country"], ["count"]) == {(h, c): (n,) for h, c, n in expected}


def test_parquet_input_publishes_the_same_rows_as_json(db: Database, ads_dir: Path) -> None:
    db.ingest(ads_spec(ads_dir, "json", datasource="from_json"))
    db.ingest(ads_spec(ads_dir, "parquet", datasource="from_parquet"))
    keys = ["__time", *ADS_DIMS]

    def rows(ds: str) -> list[tuple[Any, ...]]:
        table = published_table(used(db, ds))
        return sorted(zip(*(table.column(c).to_pylist() for c in [*keys, "count", *ADS_SUMS]), strict=True))

    assert rows("from_json") == rows("from_parquet")


def _dictionary_rows(group: int, n: int) -> list[dict[str, Any]]:
    """Rows of one Parquet row group: each group has its own values, first seen out of sorted order."""
    words = [["zeta", "", None, "alpha", "Émile"], ["b", None, "zeta", "a"], ["", "", "m"]][group % 3]
    return [
        {
            "ts": iso(T0 + (group * n + i) * 97_000),  # about 27 hours per group: chunks span groups
            "d": words[(i * 7) % len(words)],
            "e": None if group == 1 else f"e{(i * 13 + group) % 3}",  # all null in one group
            "user": f"u{(i * 31) % 5}",  # a dimension that is also the reach sketch's input
            "tags": None if i % 5 == 0 else [words[i % len(words)] or "", f"t{i % 3}"],
            "v": i % 11,
        }
        for i in range(n)
    ]


def _dictionary_spec(datasource: str, source: dict[str, Any], fmt: dict[str, Any]) -> dict[str, Any]:
    return task(
        datasource=datasource,
        timestamp={"column": "ts", "format": "iso"},
        dimensions=["d", "e", "user", "tags"],
        metrics=[
            {"type": "count", "name": "count"},
            {"type": "longSum", "name": "v", "fieldName": "v"},
            {"type": "HLLSketchBuild", "name": "reach", "fieldName": "user"},
        ],
        granularity={"segmentGranularity": "day", "queryGranularity": "hour"},
        source=source,
        fmt=fmt,
        tuning={"type": "index_parallel", "maxRowsInMemory": 1500},  # batches of 1,500 rows, many pieces
    )


def test_parquet_dictionary_pages_publish_what_json_publishes(db: Database, tmp_path: Path) -> None:
    """String dimensions are read from Parquet's dictionary pages; the result must not change.

    Three row groups with different dictionaries (values first seen out of sorted order, nulls next
    to empty strings, a column null in a whole group), several read batches per group, one group
    written with a tiny dictionary page so that its later pages fall back to plain encoding, a
    multi-value column, and a dimension that also feeds the reach sketch.
    """
    groups = [_dictionary_rows(g, 4000) for g in range(3)]
    strings = [(name, pa.string()) for name in ("ts", "d", "e", "user")]
    schema = pa.schema([*strings, ("tags", pa.list_(pa.string())), ("v", pa.int64())])
    folder = tmp_path / "in"
    folder.mkdir()
    with pq.ParquetWriter(folder / "rows.parquet", schema) as writer:
        for rows in groups:
            writer.write_table(pa.Table.from_pylist(rows, schema), row_group_size=len(rows))
    fallback = folder / "fallback.parquet"
    rows = _dictionary_rows(3, 4000)
    pq.write_table(pa.Table.from_pylist(rows, schema), fallback, dictionary_pagesize_limit=64)
    assert pq.ParquetFile(folder / "rows.parquet").metadata.num_row_groups == 3
    (tmp_path / "rows.json").write_text(json_lines([r for g in [*groups, rows] for r in g]))

    files = [str(folder / "rows.parquet"), str(fallback)]
    from_parquet = db.ingest(_dictionary_spec("pq", {"type": "local", "files": files}, {"type": "parquet"}))
    json_source = {"type": "local", "files": [str(tmp_path / "rows.json")]}
    from_json = db.ingest(_dictionary_spec("js", json_source, {"type": "json"}))
    assert from_parquet.stats.to_json() == from_json.stats.to_json()
    assert from_parquet.rows_after_rollup == from_json.rows_after_rollup < 16_000

    def published(ds: str) -> list[tuple[Any, ...]]:
        table = published_table(used(db, ds))
        names = ["__time", "d", "e", "user", "tags", "count", "v"]
        return sorted(zip(*(table.column(c).to_pylist() for c in names), strict=True), key=repr)

    assert published("pq") == published("js")

    def grouped(ds: str) -> list[dict[str, Any]]:
        result = db.query(
            {
                "queryType": "groupBy",
                "dataSource": ds,
                "intervals": ["2019-12-01/2020-02-01"],
                "granularity": "hour",
                "dimensions": ["d", "e", "tags"],
                "aggregations": [
                    {"type": "longSum", "name": "count", "fieldName": "count"},
                    {"type": "longSum", "name": "v", "fieldName": "v"},
                    {"type": "HLLSketchMerge", "name": "reach", "fieldName": "reach"},
                ],
            }
        )
        return sorted(result, key=repr)

    assert grouped("pq") == grouped("js")
    by_d = {row["event"]["d"] for row in grouped("pq")}
    assert {None, "", "zeta", "alpha", "Émile", "a", "b", "m"} <= by_d  # null and "" stay apart


# --- input formats and sources -------------------------------------------------------------------------

SMALL: list[dict[str, Any]] = [
    {"ts": iso(T0 + i * 7 * 60_000), "d": "abc"[i % 3], "v": i}
    for i in range(60)  # seven minutes apart: seven hours of data
]


def small_expected() -> dict[tuple[Any, ...], tuple[Any, ...]]:
    table = pa.table(
        {
            "__time": [T0 + (i * 7 * 60_000) // HOUR * HOUR for i in range(60)],
            "d": [r["d"] for r in SMALL],
            "count": [1] * 60,
            "v": [r["v"] for r in SMALL],
        }
    )
    return sums_by_key(table, ["__time", "d"], ["count", "v"])


def small_spec(source: dict[str, Any], fmt: dict[str, Any]) -> dict[str, Any]:
    return task(
        timestamp={"column": "ts", "format": "iso"},
        granularity={"segmentGranularity": "day", "queryGranularity": "hour"},
        source=source,
        fmt=fmt,
    )


def write_delimited(path: Path, sep: str, header: bool) -> None:
    lines = [sep.join(["ts", "d", "v"])] if header else []
    lines += [sep.join([r["ts"], r["d"], str(r["v"])]) for r in SMALL]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("rows.json", {"type": "json"}),
        ("rows.json.gz", {"type": "json"}),
        ("rows.csv", {"type": "csv", "findColumnsFromHeader": True}),
        ("rows.csv", {"type": "csv", "columns": ["ts", "d", "v"], "skipHeaderRows": 1}),
        ("plain.csv", {"type": "csv", "columns": ["ts", "d", "v"]}),
        ("rows.tsv", {"type": "tsv", "findColumnsFromHeader": True}),
        ("plain.tsv", {"type": "tsv", "columns": ["ts", "d", "v"]}),
        ("rows.parquet", {"type": "parquet"}),
    ],
)
def test_every_input_format_from_local_files(
    db: Database, tmp_path: Path, name: str, fmt: dict[str, Any]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / name
    if name.endswith(".json"):
        path.write_text(json_lines(SMALL))
    elif name.endswith(".json.gz"):
        path.write_bytes(gzip.compress(json_lines(SMALL).encode()))
    elif name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pylist(SMALL), path)
    else:
        write_delimited(path, "," if name.endswith(".csv") else "\t", header=name.startswith("rows"))
    summary = db.ingest(small_spec({"type": "local", "files": [str(path)]}, fmt))
    assert summary.stats.processed == 60 and summary.stats.unparseable == 0
    got = sums_by_key(published_table(used(db, "t")), ["__time", "d"], ["count", "v"])
    assert got == small_expected()


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_inline_input(db: Database, kind: str) -> None:
    fmt: dict[str, Any] = {"type": "json"}
    source = inline(SMALL)
    if kind == "csv":
        text = "ts,d,v\n" + "".join(f"{r['ts']},{r['d']},{r['v']}\n" for r in SMALL)
        source, fmt = {"type": "inline", "data": text}, {"type": "csv", "findColumnsFromHeader": True}
    db.ingest(small_spec(source, fmt))
    assert sums_by_key(published_table(used(db, "t")), ["__time", "d"], ["count", "v"]) == small_expected()


def test_base_dir_filter_and_files(db: Database, tmp_path: Path) -> None:
    base = tmp_path / "in"
    (base / "2020" / "01").mkdir(parents=True)
    (base / "2020" / "01" / "part-a.json").write_text(json_lines(SMALL[:20]))
    (base / "2020" / "part-b.json").write_text(json_lines(SMALL[20:40]))
    (base / "ignored.csv").write_text("not,json\n")
    (base / "part-c.json.bak").write_text("{broken")
    extra = tmp_path / "elsewhere.json"
    extra.write_text(json_lines(SMALL[40:]))
    source = {"type": "local", "baseDir": str(base), "filter": "part-*.json", "files": [str(extra)]}
    summary = db.ingest(small_spec(source, {"type": "json"}))
    assert summary.stats.rows_read == 60 and summary.stats.malformed == 0
    assert sums_by_key(published_table(used(db, "t")), ["__time", "d"], ["count", "v"]) == small_expected()

    only_base = {"type": "local", "baseDir": str(base), "filter": "part-b.json"}
    summary = db.ingest(small_spec(only_base, {"type": "json"}))
    assert summary.stats.rows_read == 20


def test_druid_wikipedia_tutorial_spec_ingests_every_row(db: Database) -> None:
    spec = json.loads((EXAMPLES / "wikipedia-index.json").read_text())
    assert spec["spec"]["ioConfig"]["inputSource"]["baseDir"] == "tests/data"
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = str(DATA)
    summary = db.ingest(spec)
    assert summary.stats.processed == summary.stats.rows_read == 39_244
    assert summary.stats.unparseable == summary.stats.thrown_away == 0
    [segment] = used(db, "wikipedia")
    assert str(segment.interval) == "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"
    assert segment.num_rows == 39_244  # rollup is off
    seg = open_segment(segment)
    assert seg.num_rows == 39_244
    assert {d.name: d.type for d in seg.schema.dimensions}["added"] == "long"
    table = published_table([segment])
    assert table.column("channel").null_count == 0
    with gzip.open(DATA / "wikiticker-2015-09-12-sampled.json.gz") as f:
        raw = [orjson.loads(line) for line in f]
    assert sum(table.column("added").to_pylist()) == sum(r["added"] for r in raw)
    assert sorted(table.column("page").to_pylist()) == sorted(r["page"] for r in raw)


def test_hashed_partitions_are_all_published_and_visible(db: Database) -> None:
    rows = [{"ts": iso(T0 + i), "d": f"d{i % 17}", "v": i} for i in range(300)]
    spec = task(
        source=inline(rows),
        tuning={"partitionsSpec": {"type": "hashed", "numShards": 4, "partitionDimensions": ["d"]}},
    )
    summary = db.ingest(spec)
    segments = used(db, "t")
    assert sorted(s.partition for s in segments) == [0, 1, 2, 3]
    assert {s.shard_spec.kind for s in segments} == {"hashed"}
    assert len(VersionedIntervalTimeline(segments).visible_segments()) == 4
    table = published_table(segments)
    assert table.num_rows == summary.rows_after_rollup == 300
    assert sum(table.column("v").to_pylist()) == sum(range(300))


# --- versions, revert and namespaces --------------------------------------------------------------------


def day_rows(day: int, n: int = 10, v: int = 1) -> list[dict[str, Any]]:
    return [{"ts": iso(T0 + day * DAY + i * HOUR), "d": f"k{i}", "v": v} for i in range(n)]


def test_reingest_overshadows_and_revert_brings_the_first_version_back(db: Database) -> None:
    first = db.ingest(task(source=inline(day_rows(0, v=1))))
    second = db.ingest(task(source=inline(day_rows(0, v=2))))
    [a], [b] = first.segments, second.segments
    assert b.version > a.version
    assert b.interval == a.interval
    assert second.overshadowed == [str(a.id)]
    flags = {str(r.descriptor.id): r.used for r in db.segments("t", include_unused=True)}
    assert flags == {str(a.id): False, str(b.id): True}
    assert [str(d.id) for d in used(db, "t")] == [str(b.id)]
    assert set(published_table(used(db, "t")).column("v").to_pylist()) == {2}

    result = db.revert("t", a.interval, a.version)
    assert result.marked_used == (str(a.id),) and result.marked_unused == (str(b.id),)
    flags = {str(r.descriptor.id): r.used for r in db.segments("t", include_unused=True)}
    assert flags == {str(a.id): True, str(b.id): False}
    assert set(published_table(used(db, "t")).column("v").to_pylist()) == {1}
    # The reverted-away version's files stay in deep storage, so it can be brought back in turn.
    assert DeepStorage(db.config.deep_storage).exists(b.load_spec)
    db.revert("t", str(b.interval), b.version)
    # Forward again: the older version stays used (reverts only hide newer ones) but overshadowed.
    assert [str(d.id) for d in VersionedIntervalTimeline(used(db, "t")).visible_segments()] == [str(b.id)]

    third = db.ingest(task(source=inline(day_rows(0, v=3))))
    assert third.segments[0].version > b.version


def test_reingest_replaces_only_the_chunks_it_writes(db: Database) -> None:
    db.ingest(task(source=inline(day_rows(0) + day_rows(1))))
    db.ingest(task(source=inline(day_rows(1, v=5))))
    visible = DatasourceTimeline(used(db, "t")).visible_segments()
    by_day = {(s.interval.start - T0) // DAY: s for s in visible}
    assert sorted(by_day) == [0, 1]
    assert by_day[1].version > by_day[0].version
    assert len(db.segments("t", include_unused=True)) == 3


def drop_existing(spec: dict[str, Any], *intervals: str) -> dict[str, Any]:
    spec["spec"]["dataSchema"]["granularitySpec"]["intervals"] = list(intervals)
    spec["spec"]["ioConfig"]["dropExisting"] = True
    return spec


THREE_DAYS = "2020-01-01/2020-01-04"


def test_drop_existing_replaces_every_chunk_inside_the_intervals(db: Database) -> None:
    db.ingest(task(source=inline(day_rows(0) + day_rows(1) + day_rows(2) + day_rows(5))))
    db.ingest(task(namespace="other", source=inline(day_rows(0))))
    replaced = db.ingest(drop_existing(task(source=inline(day_rows(1, v=7))), THREE_DAYS))
    days = {(d.interval.start - T0) // DAY: d.version for d in used(db, "t") if d.namespace == ""}
    # Day 1 has the new version; days 0 and 2 had no new rows and are gone; day 5 lies outside.
    assert sorted(days) == [1, 5] and days[1] == replaced.segments[0].version
    assert len(replaced.overshadowed) == 3
    # Other namespaces are other writers' data: untouched.
    assert [(d.interval.start - T0) // DAY for d in used(db, "t") if d.namespace == "other"] == [0]
    # The dropped versions stay in the store and in deep storage, so a revert brings day 0 back.
    before = next(
        r.descriptor
        for r in db.segments("t", include_unused=True)
        if r.descriptor.interval.start == T0 and r.descriptor.namespace == ""
    )
    db.revert("t", str(before.interval), before.version)
    assert T0 in {d.interval.start for d in used(db, "t") if d.namespace == ""}


def test_without_drop_existing_chunks_without_new_rows_keep_their_data(db: Database) -> None:
    db.ingest(task(source=inline(day_rows(0) + day_rows(1))))
    spec = task(source=inline(day_rows(1, v=7)))
    spec["spec"]["dataSchema"]["granularitySpec"]["intervals"] = [THREE_DAYS]
    db.ingest(spec)
    assert sorted((d.interval.start - T0) // DAY for d in used(db, "t")) == [0, 1]


def test_drop_existing_keeps_segments_reaching_outside_the_intervals(db: Database) -> None:
    month = {"segmentGranularity": "month", "queryGranularity": "none"}
    db.ingest(task(granularity=month, source=inline(day_rows(0) + day_rows(3))))
    spec = drop_existing(task(source=inline(day_rows(1, v=7))), THREE_DAYS)
    db.ingest(spec)
    # As in Druid, only segments wholly inside the intervals are replaced: the month stays, partly
    # overshadowed by the new day.
    assert sorted(str(d.interval) for d in used(db, "t")) == [
        "2020-01-01T00:00:00.000Z/2020-02-01T00:00:00.000Z",
        "2020-01-02T00:00:00.000Z/2020-01-03T00:00:00.000Z",
    ]


def test_drop_existing_with_no_rows_empties_the_intervals(db: Database) -> None:
    db.ingest(task(source=inline(day_rows(0) + day_rows(1))))
    summary = db.ingest(drop_existing(task(source=inline(day_rows(9))), THREE_DAYS))
    assert summary.segments == [] and len(summary.overshadowed) == 2
    assert "dropped" in summary.warnings[0]
    assert used(db, "t") == []
    assert len(db.segments("t", include_unused=True)) == 2


def test_drop_existing_needs_intervals(db: Database) -> None:
    spec = task(source=inline(day_rows(0)))
    spec["spec"]["ioConfig"]["dropExisting"] = True
    with pytest.raises(InvalidSpec) as err:
        db.ingest(spec)
    assert err.value.path == "spec.ioConfig.dropExisting"
    assert db.segments("t", include_unused=True) == []


def test_namespaces_share_a_datasource_and_are_versioned_apart(db: Database) -> None:
    clicks = db.ingest(task(namespace="clicks", source=inline(day_rows(0, v=1))))
    imps = db.ingest(task(namespace="impressions", source=inline(day_rows(0, v=10))))
    [c1], [i1] = clicks.segments, imps.segments
    assert (c1.namespace, i1.namespace) == ("clicks", "impressions")
    # Deep storage layout: datasource/interval/version/namespace/partition.
    deep = Path(db.config.home) / "deep-storage"
    interval = "2020-01-01T00:00:00.000Z_2020-01-02T00:00:00.000Z"
    assert Path(c1.load_spec["path"]) == deep / "t" / interval / c1.version / "clicks" / "0"
    assert c1.interval == i1.interval
    assert imps.overshadowed == []
    timeline = DatasourceTimeline(used(db, "t"))
    assert sorted(str(s.id) for s in timeline.visible_segments()) == sorted([str(c1.id), str(i1.id)])
    assert sorted(e.chunk.namespace for e in timeline.lookup(c1.interval)) == ["clicks", "impressions"]

    again = db.ingest(task(namespace="clicks", source=inline(day_rows(0, v=2))))
    [c2] = again.segments
    assert again.overshadowed == [str(c1.id)]
    flags = {str(r.descriptor.id): r.used for r in db.segments("t", include_unused=True)}
    assert flags == {str(c1.id): False, str(i1.id): True, str(c2.id): True}
    visible = DatasourceTimeline(used(db, "t")).visible_segments()
    assert sorted(str(s.id) for s in visible) == sorted([str(c2.id), str(i1.id)])
    assert sorted(set(published_table(visible).column("v").to_pylist())) == [2, 10]
    assert db.datasources() == ["t"]

    # Reverting one namespace leaves the other alone.
    db.revert("t", c1.interval, c1.version, namespace="clicks")
    visible = DatasourceTimeline(used(db, "t")).visible_segments()
    assert sorted(str(s.id) for s in visible) == sorted([str(c1.id), str(i1.id)])


# --- appends ------------------------------------------------------------------------------------------


def test_append_adds_partitions_to_the_existing_version(db: Database) -> None:
    first = db.ingest(task(source=inline(day_rows(0, v=1))))
    [base] = first.segments
    appended = db.ingest(task(source=inline(day_rows(0, n=3, v=7) + day_rows(1, n=2)), append=True))
    by_interval = {s.interval: s for s in appended.segments}
    added = by_interval[base.interval]
    assert (added.version, added.partition) == (base.version, 1)
    assert added.shard_spec.partitions == 1  # the existing core set: the appended partition is extra
    new_day = by_interval[Interval(T0 + DAY, T0 + 2 * DAY)]
    assert new_day.version > base.version and new_day.partition == 0
    assert appended.overshadowed == []
    visible = DatasourceTimeline(used(db, "t")).visible_segments()
    assert sorted(str(s.id) for s in visible) == sorted([str(base.id), str(added.id), str(new_day.id)])
    assert sum(published_table(visible).column("v").to_pylist()) == 10 * 1 + 3 * 7 + 2 * 1

    again = db.ingest(task(source=inline(day_rows(0, n=1)), append=True))
    assert [s.partition for s in again.segments] == [2]


def test_append_with_a_finer_granularity_lands_in_the_existing_chunk_or_in_the_gaps(db: Database) -> None:
    hourly = {"segmentGranularity": "hour", "queryGranularity": "none"}
    daily = {"segmentGranularity": "day", "queryGranularity": "none"}
    first = db.ingest(
        task(granularity=hourly, source=inline([{"ts": iso(T0 + 30 * 60_000), "d": "a", "v": 1}]))
    )
    [hour_chunk] = first.segments
    rows = [{"ts": iso(T0 + 45 * 60_000), "d": "b", "v": 2}, {"ts": iso(T0 + 5 * HOUR), "d": "c", "v": 3}]
    appended = db.ingest(task(granularity=daily, source=inline(rows), append=True))
    by_interval = {s.interval: s for s in appended.segments}
    assert set(by_interval) == {hour_chunk.interval, Interval(T0 + HOUR, T0 + DAY)}
    assert by_interval[hour_chunk.interval].version == hour_chunk.version
    for s in appended.segments:
        times = open_segment(s).time()
        assert s.interval.start <= times.min() and times.max() < s.interval.end
    visible = DatasourceTimeline(used(db, "t")).visible_segments()
    assert sorted(published_table(visible).column("v").to_pylist()) == [1, 2, 3]


def visible_rows(db: Database, datasource: str = "t") -> list[dict[str, Any]]:
    """What a query sees: each visible entry's rows, clipped to the part of its chunk that is visible."""
    timeline = DatasourceTimeline(used(db, datasource))
    rows = []
    for entry in timeline.lookup(Interval(T0 - 400 * DAY, T0 + 400 * DAY)):
        table = published_table(entry.segments)
        rows += [r for r in table.to_pylist() if entry.interval.start <= r["__time"] < entry.interval.end]
    return rows


def test_append_into_a_partly_overshadowed_chunk_hides_nothing(db: Database) -> None:
    # A month chunk, then one day of it re-ingested: both chunks are visible, and they overlap.
    month = {"segmentGranularity": "month", "queryGranularity": "none"}
    daily = {"segmentGranularity": "day", "queryGranularity": "none"}
    rows = [{"ts": iso(T0 + k * DAY), "d": f"day{k}", "v": 1} for k in range(31)]
    db.ingest(task(granularity=month, source=inline(rows)))
    db.ingest(task(granularity=daily, source=inline([{"ts": iso(T0 + 4 * DAY), "d": "day4-again", "v": 1}])))
    before = sorted(r["d"] for r in visible_rows(db))
    assert len(before) == 31 and "day4" not in before and "day4-again" in before
    late = [
        {"ts": iso(T0 + 9 * DAY + 5), "d": "late-in-month-chunk", "v": 1},
        {"ts": iso(T0 + 4 * DAY + 5), "d": "late-in-day-chunk", "v": 1},
    ]
    summary = db.ingest(task(granularity=daily, source=inline(late), append=True))
    assert sorted(str(s.interval) for s in summary.segments) == [
        "2020-01-01T00:00:00.000Z/2020-02-01T00:00:00.000Z",
        "2020-01-05T00:00:00.000Z/2020-01-06T00:00:00.000Z",
    ]
    assert sorted(r["d"] for r in visible_rows(db)) == sorted([*before, *(r["d"] for r in late)])


def test_append_into_visible_chunks_sharing_a_start_hides_nothing(db: Database) -> None:
    daily = {"segmentGranularity": "day", "queryGranularity": "none"}
    six_hours = {"segmentGranularity": "six_hour", "queryGranularity": "none"}
    db.ingest(
        task(
            granularity=daily,
            source=inline([{"ts": iso(T0 + k * HOUR), "d": f"h{k}", "v": 1} for k in range(24)]),
        )
    )
    db.ingest(task(granularity=six_hours, source=inline([{"ts": iso(T0 + 2 * HOUR), "d": "again", "v": 1}])))
    before = sorted(r["d"] for r in visible_rows(db))
    assert len(before) == 19 and "again" in before
    db.ingest(
        task(
            granularity=daily,
            source=inline([{"ts": iso(T0 + 3 * HOUR + 5), "d": "late", "v": 1}]),
            append=True,
        )
    )
    assert sorted(r["d"] for r in visible_rows(db)) == sorted([*before, "late"])


def test_append_with_hashed_partitions_is_refused(db: Database) -> None:
    spec = task(
        source=inline(day_rows(0)), append=True, tuning={"partitionsSpec": {"type": "hashed", "numShards": 2}}
    )
    with pytest.raises(InvalidSpec) as err:
        db.ingest(spec)
    assert err.value.path == "spec.ioConfig.appendToExisting"


# --- failures leave nothing behind ----------------------------------------------------------------------


def assert_nothing_left(db: Database, datasource: str = "t") -> None:
    assert db.segments(datasource, include_unused=True) == []
    assert files_under(Path(db.config.home) / "deep-storage") == []
    assert list(Path(db.config.tmp_dir).iterdir()) == []
    statuses = [s for s, _ in task_status(db)]
    assert statuses and statuses[0] == "FAILED"


def test_failed_publish_deletes_what_was_pushed(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    pushed: list[dict[str, Any]] = []
    real_push = DeepStorage.push

    def recording_push(self: DeepStorage, local_dir: Path, segment_id: Any) -> tuple[dict[str, Any], int]:
        result = real_push(self, local_dir, segment_id)
        pushed.append(result[0])
        return result

    def failing_publish(self: MetadataStore, segments: Any, replacing: Any = None) -> Any:
        assert len(segments) == 3
        raise StorageError("the metadata store went away")

    monkeypatch.setattr(DeepStorage, "push", recording_push)
    monkeypatch.setattr(MetadataStore, "publish", failing_publish)
    with pytest.raises(StorageError):
        db.ingest(task(source=inline(day_rows(0) + day_rows(1) + day_rows(2))))
    assert len(pushed) == 3
    assert not any(DeepStorage(db.config.deep_storage).exists(spec) for spec in pushed)
    assert_nothing_left(db)
    assert task_status(db)[0] == ("FAILED", "the metadata store went away")


def test_failed_push_deletes_the_segments_pushed_before_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_push = DeepStorage.push
    calls = itertools.count(1)  # pushes run on several threads; next() on a count is atomic
    succeeded: list[dict[str, Any]] = []

    def second_push_fails(self: DeepStorage, local_dir: Path, segment_id: Any) -> tuple[dict[str, Any], int]:
        if next(calls) == 2:
            raise OSError("disk full")
        result = real_push(self, local_dir, segment_id)
        succeeded.append(result[0])
        return result

    monkeypatch.setattr(DeepStorage, "push", second_push_fails)
    with pytest.raises(IngestionFailed) as err:
        db.ingest(task(source=inline(day_rows(0) + day_rows(1) + day_rows(2))))
    assert "disk full" in err.value.message
    assert 1 <= len(succeeded) <= 2  # a push not yet started when another failed is cancelled
    assert not any(DeepStorage(db.config.deep_storage).exists(spec) for spec in succeeded)
    assert_nothing_left(db)


def test_failure_inside_a_worker_process_fails_the_task_cleanly(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.mkdir()
    good.mkdir()
    # Two damaged gzip files: a split each, read in the two worker processes, and both fail there.
    for name in ("a.json.gz", "b.json.gz"):
        (bad / name).write_bytes(gzip.compress(json_lines(day_rows(0)).encode())[:30] + b"\x00" * 64)
    (good / "rows.json").write_text(json_lines(day_rows(1)))
    spec = task(source={"type": "local", "baseDir": str(bad)})
    with grove.open(home=str(tmp_path / "home"), ingest_workers=2) as db:
        with pytest.raises(IngestionFailed) as err:
            db.ingest(spec)
        assert "json.gz" in err.value.message
        assert_nothing_left(db)
        # The warm pool survives the failure: the next write works.
        summary = db.ingest(with_source(spec, {"type": "local", "baseDir": str(good)}))
        assert [s.num_rows for s in summary.segments] == [10]


def test_parse_exception_limit_fails_the_task_and_publishes_nothing(db: Database) -> None:
    rows = day_rows(0) + [{"ts": "not a time", "d": "x", "v": 1}] * 3
    strict = task(source=inline(rows), tuning={"maxParseExceptions": 2})
    with pytest.raises(ParseExceptionLimit) as err:
        db.ingest(strict)
    assert "maxParseExceptions [2]" in err.value.message
    assert_nothing_left(db)

    enough = task(source=inline(rows), tuning={"maxParseExceptions": 3})
    summary = db.ingest(enough)
    assert summary.stats.bad_timestamp == 3
    assert summary.rows_after_rollup == 10

    numbers = task(source=inline([{"ts": iso(T0), "d": "a", "v": "ten"}]), tuning={"maxParseExceptions": 0})
    with pytest.raises(ParseExceptionLimit):
        db.ingest(numbers)  # a row processed with an error counts too


def test_report_parse_exceptions_means_zero_tolerance(db: Database) -> None:
    rows = [*day_rows(0), {"ts": "bad", "d": "x", "v": 1}]
    with pytest.raises(ParseExceptionLimit):
        db.ingest(task(source=inline(rows), tuning={"reportParseExceptions": True}))


# --- a write killed with SIGKILL --------------------------------------------------------------------------


def grove_command() -> list[str]:
    script = Path(sys.executable).with_name("grove")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grove.cli.main"]


def test_sigkill_mid_write_leaves_nothing_used_and_the_next_open_cleans_up(tmp_path: Path) -> None:
    data = tmp_path / "big"
    try:
        for i in range(4):  # 1.5M rows in four files: several seconds of work on two cores
            write_ads(data / f"ads-{i}.json", 375_000, 1, seed=i, start=f"2026-01-0{i + 1}")
        check_sigkill_mid_write(tmp_path, data)
    finally:
        shutil.rmtree(data, ignore_errors=True)  # 400 MB: not to be kept among pytest's temporary folders


def check_sigkill_mid_write(tmp_path: Path, data: Path) -> None:
    spec = ads_spec(data)
    spec["spec"]["tuningConfig"]["maxRowsInMemory"] = 50_000
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROVE_")}
    proc = subprocess.Popen(
        [*grove_command(), "--home", str(home), "ingest", str(spec_file), "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill takes its worker processes too
    )
    try:
        # Kill it once the build has persisted a piece: part-way, with files in its working folder.
        deadline = time.monotonic() + 120
        while not list((home / "tmp").glob("*/pieces/piece-*")):
            if proc.poll() is not None:
                pytest.fail(f"the write ended before it could be killed: {proc.communicate()[1]!r}")
            assert time.monotonic() < deadline, "no piece was persisted in two minutes"
            time.sleep(0.02)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # Before anyone cleans up: no segment at all in the metadata store, let alone a used one.
    with MetadataStore(f"sqlite:///{home}/metadata.db") as store:
        assert store.segments("ads", used=True) == []
        assert store.segments("ads", used=None) == []
        [running] = store.list_tasks()
        assert running.status == "RUNNING"
    [abandoned] = list((home / "tmp").iterdir())
    assert abandoned.name == running.id

    with grove.open(home=str(home), ingest_workers=1) as db:
        assert list((home / "tmp").iterdir()) == []
        [failed] = db.metadata.list_tasks()
        assert (failed.id, failed.status) == (running.id, "FAILED")
        summary = db.ingest(spec)
        assert summary.stats.processed == 1_500_000
        assert len(used(db, "ads")) == 4


# --- bad input ------------------------------------------------------------------------------------------


def test_malformed_json_spec(db: Database) -> None:
    with pytest.raises(InvalidSpec) as err:
        db.ingest('{"type": "index_parallel", "spec": {')
    assert err.value.message.startswith("Malformed JSON")
    assert "\n" not in err.value.message
    assert db.metadata.list_tasks() == []


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (("tuningConfig", "maxRowsPerSegment", "many"), "spec.tuningConfig.maxRowsPerSegment", "integer"),
        (("tuningConfig", "maxRowsInMemory", -5), "spec.tuningConfig.maxRowsInMemory", ""),
        (("ioConfig", "appendToExisting", "sometimes"), "spec.ioConfig.appendToExisting", "boolean"),
        (("dataSchema", "dataSource", 42), "spec.dataSchema.dataSource", "string"),
        (("dataSchema", "metricsSpec", [{"type": "count", "name": "c"}, {"type": "longSumm", "name": "x"}]),
         "spec.dataSchema.metricsSpec[1].type", "longSumm"),
        (("dataSchema", "metricsSpec", [{"type": "longSum", "name": "x"}]), "spec.dataSchema.metricsSpec[0].fieldName", ""),
        (("dataSchema", "timestampSpec", None), "spec.dataSchema.timestampSpec", ""),
    ],
)  # fmt: skip
def test_bad_spec_errors_name_the_field(
    db: Database, change: tuple[str, str, Any], path: str, words: str
) -> None:
    spec = task(source=inline(day_rows(0)))
    section, key, value = change
    if value is None:
        del spec["spec"][section][key]
    else:
        spec["spec"][section][key] = value
    with pytest.raises(InvalidSpec) as err:
        db.ingest(spec)
    assert err.value.path == path
    assert path in err.value.message and words in err.value.message
    assert db.metadata.list_tasks() == []


def test_missing_timestamp_column_makes_every_row_unparseable(db: Database) -> None:
    rows = [{"time": iso(T0 + i), "d": "a", "v": i} for i in range(5)]
    summary = db.ingest(task(source=inline(rows)))
    assert (summary.stats.bad_timestamp, summary.stats.processed) == (5, 0)
    assert summary.segments == [] and used(db, "t") == []
    assert summary.warnings == ["No rows were ingested, so nothing was published."]
    assert "[ts]" in summary.stats.samples[0]

    with pytest.raises(ParseExceptionLimit):
        db.ingest(task(source=inline(rows), tuning={"maxParseExceptions": 0}))
    assert db.segments("t", include_unused=True) == []
    assert [s for s, _ in task_status(db)] == ["FAILED", "SUCCESS"]


def test_bad_timestamps_and_malformed_lines_are_counted(db: Database) -> None:
    good = day_rows(0, n=4)
    text = (
        json_lines(good[:2])
        + '{"ts": "yesterday-ish", "d": "x", "v": 1}\n'
        + '{"ts": "2020-01-01T05:00:00Z", "d": \n'
        + "not json at all\n"
        + json_lines(good[2:])
        + '{"d": "no time", "v": 2}\n'
    )
    summary = db.ingest(task(source={"type": "inline", "data": text}))
    stats = summary.stats
    assert (stats.processed, stats.bad_timestamp, stats.malformed) == (4, 2, 2)
    assert stats.unparseable == 4 and stats.rows_read == 8
    assert any("malformed" in s.lower() for s in stats.samples)
    assert summary.rows_after_rollup == 4
    report = summary.to_json()["rowStats"]
    assert report["dropped"]["malformed"] == 2 and report["dropped"]["badTimestamp"] == 2
    with pytest.raises(ParseExceptionLimit):
        db.ingest(task(source={"type": "inline", "data": text}, tuning={"maxParseExceptions": 3}))
    assert len(db.segments("t", include_unused=True)) == 1


def test_empty_input_file_succeeds_with_nothing_published(db: Database, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    summary = db.ingest(task(source={"type": "local", "files": [str(empty)]}))
    assert summary.segments == [] and summary.stats.rows_read == 0
    assert summary.warnings == ["No rows were ingested, so nothing was published."]
    assert task_status(db) == [("SUCCESS", None)]
    assert db.datasources() == []


def test_interval_without_rows_succeeds_with_a_warning(db: Database) -> None:
    spec = task(
        source=inline(day_rows(0)),
        granularity={"segmentGranularity": "day", "intervals": ["2021-01-01/2021-02-01"]},
    )
    summary = db.ingest(spec)
    assert summary.segments == []
    assert (summary.stats.outside_intervals, summary.stats.processed) == (10, 0)
    assert summary.warnings == ["No rows were ingested, so nothing was published."]
    assert files_under(Path(db.config.home) / "deep-storage") == []
    assert summary.to_json()["rowStats"]["thrownAway"] == 10


def test_missing_input_is_an_error_naming_the_field(db: Database, tmp_path: Path) -> None:
    with pytest.raises(InvalidSpec) as err:
        db.ingest(task(source={"type": "local", "baseDir": str(tmp_path / "nowhere")}))
    assert err.value.path == "spec.ioConfig.inputSource.baseDir"
    with pytest.raises(InvalidSpec) as err:
        db.ingest(task(source={"type": "local", "files": [str(REPO / "nope.json")]}))
    assert err.value.path == "spec.ioConfig.inputSource.files[0]"
    assert list(Path(db.config.tmp_dir).iterdir()) == []


def test_summary_json_names_segments_and_row_counts(db: Database) -> None:
    summary = db.ingest(task(source=inline(day_rows(0) + day_rows(0))))
    report = summary.to_json()
    [seg] = report["segments"]
    assert seg["id"] == str(summary.segments[0].id)
    assert seg["numRows"] == 10 and seg["size"] > 0
    assert report["rowStats"]["processed"] == 20
    assert report["rowsAfterRollup"] == 10
    [record] = db.metadata.list_tasks()
    assert record.status == "SUCCESS" and record.report == json.loads(json.dumps(report))


def test_progress_events_and_no_working_files_after_success(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(3):
        (folder / f"{k}.json").write_text(json_lines(day_rows(k)))
    events: list[tuple[str, dict[str, Any]]] = []
    summary = db.ingest(
        task(source={"type": "local", "baseDir": str(folder)}), progress=lambda e, **d: events.append((e, d))
    )
    assert events[0] == ("plan", {"splits": 3})
    assert [d["name"] for e, d in events if e == "stage"] == ["build", "merge", "push", "publish"]
    assert sum(d["rows"] for e, d in events if e == "rows") == summary.stats.rows_read == 30
    assert sum(d["done"] for e, d in events if e == "split") == 3
    assert set(summary.timings_ms) == {"build", "merge", "push", "publish"}
    assert list(Path(db.config.tmp_dir).iterdir()) == []


def test_spec_may_be_given_as_json_text(db: Database) -> None:
    text = json.dumps(task(source=inline(day_rows(0))))
    assert db.ingest(text).rows_after_rollup == 10
    assert db.ingest(text.encode()).rows_after_rollup == 10
    assert db.ingest(copy.deepcopy(json.loads(text))).rows_after_rollup == 10
