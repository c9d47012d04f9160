"""The coordinator API over HTTP against a real ``grove serve``: served and metadata views, load status,
marking segments used and unused, rules, disabling and killing, and segments published by another
process becoming queryable without a restart.

Every test that changes segments works on a datasource of its own, so tests do not depend on each
other's order (pytest-xdist may spread them over two servers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serving import ServerProcess, grove_command, ingest, inline_spec, query  # noqa: E402

V1 = "/druid/coordinator/v1"
ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}
DATA_SEGMENT_KEYS = {
    "dataSource",
    "interval",
    "version",
    "loadSpec",
    "dimensions",
    "metrics",
    "shardSpec",
    "binaryVersion",
    "size",
    "identifier",
}
DAYS = ("2026-01-01", "2026-01-02", "2026-01-03")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("coordinator") / "home") as s:
        yield s


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def three_days(client: httpx.Client, datasource: str) -> list[str]:
    """Ingest 1, 2 and 3 rows on three consecutive days (one segment each); returns the segment ids."""
    rows = [
        {"ts": f"{day}T0{i}:00:00Z", "d": f"v{i}", "n": 10}
        for k, day in enumerate(DAYS)
        for i in range(k + 1)
    ]
    ingest(client, inline_spec(datasource, rows))
    response = client.get(f"{V1}/datasources/{datasource}/segments")
    assert response.status_code == 200, response.text
    segment_ids: list[str] = response.json()
    assert len(segment_ids) == 3
    return segment_ids


def rows_per_day(client: httpx.Client, datasource: str) -> dict[str, int]:
    """Rows per day as a query sees them now."""
    result = query(
        client,
        {
            "queryType": "timeseries",
            "dataSource": datasource,
            "intervals": ["2026-01-01/2026-02-01"],
            "granularity": "day",
            "aggregations": [{"type": "longSum", "name": "rows", "fieldName": "count"}],
        },
    )
    return {r["timestamp"][:10]: r["result"]["rows"] for r in result if r["result"]["rows"]}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS
    message: str = body["errorMessage"]
    return message


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


# --- views -----------------------------------------------------------------------------------------------


def test_served_and_metadata_views_of_a_datasource(client: httpx.Client, server: ServerProcess) -> None:
    segment_ids = three_days(client, "views")
    assert segment_ids == sorted(segment_ids)
    assert segment_ids[0].startswith("views_2026-01-01T00:00:00.000Z_2026-01-02T00:00:00.000Z_")

    assert "views" in ok(client.get(f"{V1}/datasources"))
    full = ok(client.get(f"{V1}/datasources/views/segments", params={"full": ""}))
    assert [s["identifier"] for s in full] == segment_ids
    assert all(set(s) >= DATA_SEGMENT_KEYS and s["dataSource"] == "views" for s in full)
    size = sum(s["size"] for s in full)
    assert size > 0

    summary = ok(client.get(f"{V1}/datasources/views"))
    assert summary == {
        "tiers": {"_default_tier": {"segmentCount": 3, "size": size, "replicatedSize": size}},
        "segments": {
            "count": 3,
            "size": size,
            "replicatedSize": size,
            "minTime": "2026-01-01T00:00:00.000Z",
            "maxTime": "2026-01-04T00:00:00.000Z",
        },
    }
    simple = ok(client.get(f"{V1}/datasources", params={"simple": ""}))
    assert {"name": "views", "properties": summary} in simple
    listed = [d for d in ok(client.get(f"{V1}/datasources", params={"full": ""})) if d["name"] == "views"]
    assert listed == [{"name": "views", "properties": {}, "segments": full}]
    assert ok(client.get(f"{V1}/datasources/views", params={"full": ""}))["segments"] == full
    assert ok(client.get(f"{V1}/datasources/views/tiers")) == ["_default_tier"]
    one = ok(client.get(f"{V1}/datasources/views/segments/{segment_ids[1]}"))
    assert one == {"metadata": full[1], "servers": [f"127.0.0.1:{server.port}"]}

    # Load status: everything used is loaded by the embedded node.
    assert ok(client.get(f"{V1}/loadstatus"))["views"] == 100.0
    assert ok(client.get(f"{V1}/loadstatus", params={"simple": ""}))["views"] == 0
    assert ok(client.get(f"{V1}/loadstatus", params={"full": ""}))["_default_tier"]["views"] == 0

    # The metadata store's view.
    assert "views" in ok(client.get(f"{V1}/metadata/datasources"))
    [meta] = [
        d for d in ok(client.get(f"{V1}/metadata/datasources", params={"full": ""})) if d["name"] == "views"
    ]
    assert meta["segments"] == full and meta["properties"]["created"].endswith("Z")
    assert ok(client.get(f"{V1}/metadata/datasources/views")) == meta
    assert ok(client.get(f"{V1}/metadata/datasources/views/segments")) == segment_ids
    assert ok(client.get(f"{V1}/metadata/datasources/views/segments", params={"full": ""})) == full
    assert ok(client.get(f"{V1}/metadata/datasources/views/segments/{segment_ids[2]}")) == full[2]
    everything = ok(client.get(f"{V1}/metadata/segments", params={"datasources": "views"}))
    assert everything == full
    statuses = ok(
        client.get(
            f"{V1}/metadata/segments", params={"datasources": "views", "includeOvershadowedStatus": ""}
        )
    )
    assert [s["overshadowed"] for s in statuses] == [False] * 3
    assert [s["replicationFactor"] for s in statuses] == [1] * 3
    assert {k: v for k, v in statuses[0].items() if k in full[0]} == full[0]


def test_unknown_datasources_and_segments_are_404(client: httpx.Client) -> None:
    for path in (
        "/datasources/nowhere",
        "/datasources/nowhere/segments",
        "/datasources/nowhere/tiers",
        "/metadata/datasources/nowhere",
        "/metadata/datasources/nowhere/segments",
    ):
        assert "[nowhere]" in error(client.get(V1 + path), 404)
    error(client.post(f"{V1}/datasources/nowhere/markUnused", json={"interval": "2026/2027"}), 404)
    error(client.post(f"{V1}/datasources/nowhere/markUsed", json={"interval": "2026/2027"}), 404)
    error(client.delete(f"{V1}/datasources/nowhere"), 404)
    error(client.delete(f"{V1}/datasources/nowhere/intervals/2026-01-01_2027-01-01"), 404)

    three_days(client, "known")
    error(client.get(f"{V1}/datasources/known/segments/known_not-an-id"), 404)
    error(client.get(f"{V1}/metadata/datasources/known/segments/known_not-an-id"), 404)


# --- marking segments -------------------------------------------------------------------------------


def test_mark_unused_and_used_by_interval_is_seen_by_the_next_query(client: httpx.Client) -> None:
    three_days(client, "by_interval")
    assert rows_per_day(client, "by_interval") == {"2026-01-01": 1, "2026-01-02": 2, "2026-01-03": 3}

    mark = {"interval": "2026-01-02/2026-01-03"}
    assert ok(client.post(f"{V1}/datasources/by_interval/markUnused", json=mark)) == {"numChangedSegments": 1}
    assert rows_per_day(client, "by_interval") == {"2026-01-01": 1, "2026-01-03": 3}
    assert len(ok(client.get(f"{V1}/datasources/by_interval/segments"))) == 2
    assert len(ok(client.get(f"{V1}/metadata/datasources/by_interval/segments"))) == 2
    assert ok(client.post(f"{V1}/datasources/by_interval/markUnused", json=mark)) == {"numChangedSegments": 0}

    assert ok(client.post(f"{V1}/datasources/by_interval/markUsed", json=mark)) == {"numChangedSegments": 1}
    assert rows_per_day(client, "by_interval") == {"2026-01-01": 1, "2026-01-02": 2, "2026-01-03": 3}

    # Only segments lying wholly inside the interval change, as in Druid.
    partial = {"interval": "2026-01-02T12:00:00Z/2026-01-04"}
    assert ok(client.post(f"{V1}/datasources/by_interval/markUnused", json=partial)) == {
        "numChangedSegments": 1
    }
    assert rows_per_day(client, "by_interval") == {"2026-01-01": 1, "2026-01-02": 2}
    # POST on the datasource marks every unused segment used again.
    assert ok(client.post(f"{V1}/datasources/by_interval")) == {"numChangedSegments": 1}
    assert rows_per_day(client, "by_interval") == {"2026-01-01": 1, "2026-01-02": 2, "2026-01-03": 3}


def test_mark_unused_and_used_by_segment_ids(client: httpx.Client) -> None:
    first, second, _ = three_days(client, "by_ids")
    other = three_days(client, "by_ids_other")[0]

    body = {"segmentIds": [first, other]}  # ids of another datasource are ignored
    assert ok(client.post(f"{V1}/datasources/by_ids/markUnused", json=body)) == {"numChangedSegments": 1}
    assert rows_per_day(client, "by_ids") == {"2026-01-02": 2, "2026-01-03": 3}
    assert rows_per_day(client, "by_ids_other")["2026-01-01"] == 1
    body = {"segmentIds": [first]}
    assert ok(client.post(f"{V1}/datasources/by_ids/markUsed", json=body)) == {"numChangedSegments": 1}
    assert rows_per_day(client, "by_ids") == {"2026-01-01": 1, "2026-01-02": 2, "2026-01-03": 3}

    # One segment at a time.
    assert ok(client.delete(f"{V1}/datasources/by_ids/segments/{second}")) == {"segmentStateChanged": True}
    assert ok(client.delete(f"{V1}/datasources/by_ids/segments/{second}")) == {"segmentStateChanged": False}
    assert rows_per_day(client, "by_ids") == {"2026-01-01": 1, "2026-01-03": 3}
    error(client.get(f"{V1}/metadata/datasources/by_ids/segments/{second}"), 404)
    unused = client.get(
        f"{V1}/metadata/datasources/by_ids/segments/{second}", params={"includeUnused": "true"}
    )
    assert ok(unused)["identifier"] == second
    assert ok(client.post(f"{V1}/datasources/by_ids/segments/{second}")) == {"segmentStateChanged": True}
    assert rows_per_day(client, "by_ids") == {"2026-01-01": 1, "2026-01-02": 2, "2026-01-03": 3}

    missing = first.replace("2026-01-01T00:00:00.000Z_2026-01-02", "2026-01-05T00:00:00.000Z_2026-01-06")
    assert f"[{missing}]" in error(
        client.post(f"{V1}/datasources/by_ids/markUsed", json={"segmentIds": [missing]}), 404
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"interval": "2026-01-01/2026-01-02", "segmentIds": ["x"]},
        {"segmentIds": []},
        {"segmentIds": "not-a-list"},
        {"interval": "2026-01-02/2026-01-01"},
        ["2026-01-01/2026-01-02"],
    ],
)
def test_mark_payloads_that_are_refused(client: httpx.Client, body: Any) -> None:
    for action in ("markUsed", "markUnused"):
        error(client.post(f"{V1}/datasources/views_of_nothing/{action}", json=body), 400)


# --- rules ---------------------------------------------------------------------------------------------


def test_rules_round_trip_with_history_and_validation(client: httpx.Client) -> None:
    rules: list[dict[str, Any]] = [
        {"type": "loadByPeriod", "period": "P1M", "includeFuture": True, "tieredReplicants": {"hot": 2}},
        {
            "type": "loadByInterval",
            "interval": "2012-01-01/2013-01-01",
            "tieredReplicants": {"_default_tier": 1},
        },
        {"type": "broadcastForever"},
        {"type": "dropBeforeByPeriod", "period": "P1Y"},
        {"type": "dropForever"},
    ]
    headers = {"X-Druid-Author": "ads-oncall", "X-Druid-Comment": "keep a month hot"}
    response = client.post(f"{V1}/rules/ruled", json=rules, headers=headers)
    assert response.status_code == 200 and response.content == b""
    stored = ok(client.get(f"{V1}/rules/ruled"))
    assert stored[0] == rules[0]
    assert stored[1]["interval"] == "2012-01-01T00:00:00.000Z/2013-01-01T00:00:00.000Z"
    assert [r["type"] for r in stored] == [r["type"] for r in rules]
    assert ok(client.get(f"{V1}/rules"))["ruled"] == stored
    assert ok(client.get(f"{V1}/rules/never-ruled")) == []

    default = [{"type": "loadForever", "tieredReplicants": {"_default_tier": 1}}]
    assert client.post(f"{V1}/rules/_default", json=default).status_code == 200
    assert ok(client.get(f"{V1}/rules/ruled", params={"full": ""})) == stored + default

    bad = [
        (
            [{"type": "loadForever"}, {"type": "loadSometimes"}],
            "Unknown rule type [loadSometimes] at rules[1].type",
        ),
        ([{"type": "dropByPeriod", "period": "P1X"}], "rules[0].period"),
        ([{"type": "dropByInterval", "interval": "2013/2012"}], "rules[0].interval"),
        ([{"type": "loadForever", "tieredReplicants": {"hot": -1}}], "rules[0].tieredReplicants.hot"),
        ([{"tieredReplicants": {"hot": 1}}], "Missing required field [type] at rules[0].type"),
        ({"type": "dropForever"}, "at rules: expected a list"),
    ]
    for body, expected in bad:
        assert expected in error(client.post(f"{V1}/rules/ruled", json=body), 400)
    assert ok(client.get(f"{V1}/rules/ruled")) == stored

    assert client.post(f"{V1}/rules/ruled", json=[]).status_code == 200
    history = ok(client.get(f"{V1}/rules/ruled/history"))
    assert [json.loads(h["payload"]) for h in history] == [stored, []]
    assert history[0]["key"] == "ruled" and history[0]["type"] == "rules"
    assert history[0]["auditInfo"]["author"] == "ads-oncall"
    assert history[0]["auditInfo"]["comment"] == "keep a month hot"
    assert [
        json.loads(h["payload"]) for h in ok(client.get(f"{V1}/rules/ruled/history", params={"count": 1}))
    ] == [[]]
    assert ok(client.get(f"{V1}/rules/ruled/history", params={"interval": "2000-01-01/2000-02-01"})) == []
    assert {"ruled", "_default"} <= {h["key"] for h in ok(client.get(f"{V1}/rules/history"))}


# --- disabling and killing -------------------------------------------------------------------------------


def _files(full: list[dict[str, Any]]) -> list[Path]:
    return [Path(s["loadSpec"]["path"]) for s in full]


def test_delete_disables_a_datasource_and_kill_deletes_only_unused_segments(client: httpx.Client) -> None:
    ids = three_days(client, "doomed")
    full = ok(client.get(f"{V1}/datasources/doomed/segments", params={"full": ""}))
    files = _files(full)
    assert all(f.exists() for f in files)

    # Kill deletes unused segments only: day 1 is unused, days 2 and 3 stay used and queryable.
    client.post(f"{V1}/datasources/doomed/markUnused", json={"interval": "2026-01-01/2026-01-02"})
    response = client.delete(f"{V1}/datasources/doomed/intervals/2026-01-01_2026-01-04")
    assert response.status_code == 200 and response.content == b""
    assert not files[0].exists() and files[1].exists() and files[2].exists()
    error(
        client.get(f"{V1}/metadata/datasources/doomed/segments/{ids[0]}", params={"includeUnused": "true"}),
        404,
    )
    assert rows_per_day(client, "doomed") == {"2026-01-02": 2, "2026-01-03": 3}

    # DELETE marks every segment unused: the datasource disappears from queries at once.
    assert ok(client.delete(f"{V1}/datasources/doomed")) == {"numChangedSegments": 2}
    assert "doomed" not in ok(client.get("/druid/v2/datasources"))
    assert "doomed" not in ok(client.get(f"{V1}/datasources"))
    error(client.get(f"{V1}/datasources/doomed"), 404)
    error(client.post("/druid/v2/", json={"queryType": "timeBoundary", "dataSource": "doomed"}), 404)
    assert "doomed" in ok(client.get(f"{V1}/metadata/datasources", params={"includeUnused": ""}))
    assert "doomed" not in ok(client.get(f"{V1}/metadata/datasources"))
    assert all(f.exists() for f in files[1:])

    error(client.delete(f"{V1}/datasources/doomed", params={"kill": "true"}), 400)
    error(client.delete(f"{V1}/datasources/doomed", params={"kill": "true", "interval": "soon"}), 400)
    response = client.delete(
        f"{V1}/datasources/doomed", params={"kill": "true", "interval": "2026-01-01_2026-02-01"}
    )
    assert response.status_code == 200
    assert not any(f.exists() for f in files)
    assert "doomed" not in ok(client.get(f"{V1}/metadata/datasources", params={"includeUnused": ""}))
    error(client.delete(f"{V1}/datasources/doomed"), 404)


# --- another process publishes -------------------------------------------------------------------------


def test_segments_published_by_the_cli_are_queryable_without_restart(
    client: httpx.Client, server: ServerProcess
) -> None:
    rows = [
        {"ts": "2026-02-01T01:00:00Z", "d": "cli", "n": 7},
        {"ts": "2026-02-01T02:00:00Z", "d": "cli", "n": 5},
    ]
    spec = server.home.parent / "from_cli.json"
    spec.write_text(json.dumps(inline_spec("from_cli", rows)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROVE_")}
    done = subprocess.run(
        [*grove_command(), "--home", str(server.home), "ingest", str(spec), "--quiet", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr

    # The server's poller picks the new segments up within its period (1 s); poll for them.
    deadline = time.monotonic() + 10
    while "from_cli" not in ok(client.get("/druid/v2/datasources")):
        assert time.monotonic() < deadline, "segments published by another process never became visible"
        time.sleep(0.05)
    [total] = query(
        client,
        {
            "queryType": "timeseries",
            "dataSource": "from_cli",
            "intervals": ["2026-02-01/2026-02-02"],
            "granularity": "all",
            "aggregations": [{"type": "longSum", "name": "n", "fieldName": "n"}],
        },
    )
    assert total["result"] == {"n": 12}
    # The CLI's task shares the metadata store, so the overlord lists it.
    [task] = ok(client.get("/druid/indexer/v1/tasks", params={"datasource": "from_cli"}))
    assert task["statusCode"] == "SUCCESS" and task["location"]["port"] == -1
