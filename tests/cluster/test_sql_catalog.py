"""``NodeCatalogSource``: what SQL learns about tables from a real embedded database.

Columns come from the footers of the visible segments, merged as Druid's broker merges segment
signatures; the system tables carry the columns of Druid's ``sys.segments``, ``sys.servers`` and
``sys.tasks``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import grove
from grove.cluster.embedded import Database
from grove.cluster.sql_catalog import NodeCatalogSource
from grove.sql.catalog import ColumnInfo

# Druid's column lists (SystemSchema.java), in order.
SEGMENT_COLUMNS = [
    "segment_id", "datasource", "start", "end", "size", "version", "partition_num", "num_replicas",
    "num_rows", "is_active", "is_published", "is_available", "is_realtime", "is_overshadowed",
    "shard_spec", "dimensions", "metrics", "last_compaction_state", "replication_factor",
]  # fmt: skip
SERVER_COLUMNS = [
    "server", "host", "plaintext_port", "tls_port", "server_type", "tier", "curr_size", "max_size",
    "is_leader", "start_time",
]  # fmt: skip
TASK_COLUMNS = [
    "task_id", "group_id", "type", "datasource", "created_time", "queue_insertion_time", "status",
    "runner_status", "duration", "location", "host", "plaintext_port", "tls_port", "error_msg",
]  # fmt: skip


def spec(
    datasource: str,
    rows: list[dict[str, Any]],
    dimensions: list[Any],
    metrics: list[dict[str, Any]],
    **schema: Any,
) -> dict[str, Any]:
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": datasource,
                "timestampSpec": {"column": "ts", "format": "iso"},
                "dimensionsSpec": {"dimensions": dimensions},
                "metricsSpec": metrics,
                "granularitySpec": {"segmentGranularity": "day", "queryGranularity": "none", "rollup": False},
                **schema,
            },
            "ioConfig": {
                "inputSource": {
                    "type": "inline",
                    "data": "".join(orjson.dumps(r).decode() + "\n" for r in rows),
                },
                "inputFormat": {"type": "json"},
            },
        },
    }


OLD_DAY = [{"ts": "2024-01-01T01:00:00Z", "page": "a", "n": 1, "added": 3, "user": "u1"}]
NEW_DAY = [
    {"ts": "2024-01-02T01:00:00Z", "page": "b", "n": "x", "added": 2, "tags": ["t1", "t2"], "user": "u2"},
    {"ts": "2024-01-02T02:00:00Z", "page": "c", "n": "y", "added": 5, "tags": "t3", "user": "u3"},
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    home = tmp_path_factory.mktemp("sql-catalog") / "home"
    with grove.open(str(home)) as database:
        # The older day: n is a long dimension, added a long metric, two sketches.
        database.ingest(
            spec(
                "edits",
                OLD_DAY,
                ["page", {"name": "n", "type": "long"}],
                [
                    {"type": "count", "name": "count"},
                    {"type": "longSum", "name": "added", "fieldName": "added"},
                    {"type": "HLLSketchBuild", "name": "users", "fieldName": "user"},
                    {"type": "thetaSketch", "name": "users_theta", "fieldName": "user"},
                ],
            )
        )
        # The newer day: n is a string, added a double, tags multi-valued, no sketches.
        database.ingest(
            spec(
                "edits",
                NEW_DAY,
                ["tags", "page", "n"],
                [
                    {"type": "count", "name": "count"},
                    {"type": "doubleSum", "name": "added", "fieldName": "added"},
                ],
            )
        )
        database.ingest(
            spec(
                "clicks",
                [{"ts": "2024-01-01T00:00:00Z", "page": "a", "added": 1}],
                ["page"],
                [{"type": "hyperUnique", "name": "pages", "fieldName": "page"}],
            )
        )
        yield database


@pytest.fixture(scope="module")
def source(db: Database) -> NodeCatalogSource:
    return NodeCatalogSource(db)


def test_datasources(source: NodeCatalogSource) -> None:
    assert source.datasources() == ["clicks", "edits"]


def test_columns_merge_the_visible_segments_newest_first(source: NodeCatalogSource) -> None:
    assert source.datasource_columns("edits") == [
        ColumnInfo("__time", "TIMESTAMP", "LONG"),
        # The newest segment's order first, then what only older segments hold.
        ColumnInfo("tags", "VARCHAR", "STRING", multi_value=True),
        ColumnInfo("page", "VARCHAR", "STRING"),
        ColumnInfo("n", "VARCHAR", "STRING"),  # LONG in the older segment: STRING is less restrictive
        ColumnInfo("count", "BIGINT", "LONG"),
        ColumnInfo("added", "DOUBLE", "DOUBLE"),  # LONG in the older segment
        ColumnInfo("users", "OTHER", "COMPLEX<HLLSketch>"),
        ColumnInfo("users_theta", "OTHER", "COMPLEX<thetaSketch>"),
    ]
    assert source.datasource_columns("clicks") == [
        ColumnInfo("__time", "TIMESTAMP", "LONG"),
        ColumnInfo("page", "VARCHAR", "STRING"),
        ColumnInfo("pages", "OTHER", "COMPLEX<hyperUnique>"),
    ]


def test_unknown_datasource_has_no_columns(source: NodeCatalogSource) -> None:
    assert source.datasource_columns("nope") == []


def test_columns_are_read_once_per_timeline(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = NodeCatalogSource(db)
    opened: list[str] = []
    real_open = db.segment_cache.open
    monkeypatch.setattr(db.segment_cache, "open", lambda d: opened.append(str(d.id)) or real_open(d))
    first = fresh.datasource_columns("edits")
    assert len(opened) == 2  # one per visible segment, footers only
    assert fresh.datasource_columns("edits") == first
    assert len(opened) == 2
    db.segment_source.refresh(force=True)  # a new timeline: merged again
    assert fresh.datasource_columns("edits") == first
    assert len(opened) == 4


def test_segment_rows(db: Database, source: NodeCatalogSource) -> None:
    rows = source.segment_rows()
    assert [list(r)[: len(SEGMENT_COLUMNS)] for r in rows] == [SEGMENT_COLUMNS] * len(rows)
    assert [r["datasource"] for r in rows] == ["clicks", "edits", "edits"]
    old = rows[1]
    record = db.segments("edits")[0].descriptor
    assert old == {
        "segment_id": str(record.id),
        "datasource": "edits",
        "start": "2024-01-01T00:00:00.000Z",
        "end": "2024-01-02T00:00:00.000Z",
        "size": record.size,
        "version": record.version,
        "partition_num": 0,
        "num_replicas": 1,
        "num_rows": 1,
        "is_active": 1,
        "is_published": 1,
        "is_available": 1,
        "is_realtime": 0,
        "is_overshadowed": 0,
        "shard_spec": orjson.dumps(record.shard_spec.to_json()).decode(),
        "dimensions": '["page","n"]',
        "metrics": '["count","added","users","users_theta"]',
        "last_compaction_state": None,
        "replication_factor": 1,
        "namespace": "",
    }
    assert record.size > 0


def test_overshadowed_segments(tmp_path: Path) -> None:
    with grove.open(str(tmp_path / "home")) as db:
        first = spec("w", [{"ts": "2024-01-01T00:00:00Z", "page": "a"}], ["page"], [])
        db.ingest(first)
        old = db.segments("w")[0].descriptor
        db.ingest(first)  # a new version of the same day: the old one is marked unused
        source = NodeCatalogSource(db)
        assert [r["version"] for r in source.segment_rows()] != [old.version]
        # Marked used again (as a revert in progress would leave it): published, overshadowed, not served.
        db.metadata.mark_used([str(old.id)])
        db.segment_source.refresh(force=True)
        rows = {r["version"]: r for r in source.segment_rows()}
        assert len(rows) == 2
        stale = rows[old.version]
        assert (stale["is_published"], stale["is_overshadowed"], stale["is_active"]) == (1, 1, 0)
        assert (stale["is_available"], stale["num_replicas"], stale["replication_factor"]) == (0, 0, 0)
        (current,) = (r for v, r in rows.items() if v != old.version)
        assert (current["is_active"], current["is_available"], current["is_overshadowed"]) == (1, 1, 0)


def test_server_rows(db: Database, source: NodeCatalogSource) -> None:
    rows = source.server_rows()
    assert [list(r) for r in rows] == [SERVER_COLUMNS] * 4
    assert [r["server_type"] for r in rows] == ["coordinator", "historical", "broker", "overlord"]
    host, port = db.config.host, db.config.port
    for r in rows:
        assert (r["server"], r["host"], r["plaintext_port"], r["tls_port"]) == (
            f"{host}:{port}",
            host,
            port,
            -1,
        )
        assert r["start_time"].endswith("Z")
    by_role = {r["server_type"]: r for r in rows}
    served = sum(r["size"] for r in source.segment_rows() if r["is_available"])
    assert by_role["historical"]["tier"] == "_default_tier"
    assert by_role["historical"]["curr_size"] == served
    assert by_role["historical"]["max_size"] >= served
    assert by_role["historical"]["is_leader"] is None and by_role["broker"]["is_leader"] is None
    assert by_role["coordinator"]["is_leader"] == 1 and by_role["overlord"]["is_leader"] == 1
    assert (by_role["broker"]["tier"], by_role["broker"]["curr_size"], by_role["broker"]["max_size"]) == (
        None,
        0,
        0,
    )


def test_any_address_reports_the_host_name(tmp_path: Path) -> None:
    with grove.open(str(tmp_path / "home"), host="0.0.0.0", port=9999) as db:
        (row, *_) = NodeCatalogSource(db).server_rows()
        assert row["server"] == f"{socket.gethostname()}:9999"


def test_task_rows(db: Database, source: NodeCatalogSource) -> None:
    rows = source.task_rows()
    assert [list(r) for r in rows] == [TASK_COLUMNS] * len(rows)
    assert len(rows) == 3 and {r["status"] for r in rows} == {"SUCCESS"}
    done = rows[0]
    task = db.metadata.list_tasks()[0]
    assert done == {
        "task_id": task.id,
        "group_id": task.id,
        "type": "index_parallel",
        "datasource": task.datasource,
        "created_time": task.created_date,
        "queue_insertion_time": task.created_date,
        "status": "SUCCESS",
        "runner_status": "NONE",
        "duration": task.duration_ms,
        "location": None,
        "host": None,
        "plaintext_port": -1,
        "tls_port": -1,
        "error_msg": None,
    }


def test_running_and_failed_tasks(tmp_path: Path) -> None:
    with grove.open(str(tmp_path / "home"), port=8123) as db:
        here = f"{socket.gethostname()}:{os.getpid()}"
        db.metadata.insert_task("mine", "index_parallel", "w", {}, status="RUNNING", location=here)
        db.metadata.insert_task(
            "waiting", "index_parallel", "w", {}, status="WAITING", location="elsewhere:1"
        )
        db.metadata.insert_task("broken", "index_parallel", "w", {}, status="RUNNING")
        db.metadata.update_task("broken", "FAILED", error_msg="It failed", duration_ms=12)
        rows = {r["task_id"]: r for r in NodeCatalogSource(db).task_rows()}
        mine = rows["mine"]
        assert (mine["status"], mine["runner_status"], mine["duration"]) == ("RUNNING", "RUNNING", -1)
        assert (mine["location"], mine["host"], mine["plaintext_port"]) == (
            "127.0.0.1:8123",
            "127.0.0.1",
            8123,
        )
        waiting = rows["waiting"]
        assert (waiting["status"], waiting["runner_status"]) == ("RUNNING", "WAITING")
        assert (waiting["location"], waiting["host"], waiting["plaintext_port"]) == (
            "elsewhere",
            "elsewhere",
            -1,
        )
        broken = rows["broken"]
        assert (broken["status"], broken["runner_status"], broken["duration"]) == ("FAILED", "NONE", 12)
        assert (broken["error_msg"], broken["location"]) == ("It failed", None)
