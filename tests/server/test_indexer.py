"""The task API over HTTP against a real ``grove serve``: Druid's tutorial spec, task status, listing,
reports, invalid specs and shutdown."""

from __future__ import annotations

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

from serving import (  # noqa: E402
    events_spec,
    inline_spec,
    query,
    serving,
    submit,
    wait_for_task,
    wikipedia_spec,
    write_events,
)

TASKS = "/druid/indexer/v1"
ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}
STATUS_KEYS = {
    "id",
    "groupId",
    "type",
    "createdTime",
    "queueInsertionTime",
    "statusCode",
    "status",
    "runnerStatusCode",
    "duration",
    "location",
    "dataSource",
    "errorMsg",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("indexer") / "home"
    with serving(home) as url, httpx.Client(base_url=url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def wikipedia_task(client: httpx.Client) -> str:
    """Druid's tutorial task, submitted once per server."""
    return submit(client, wikipedia_spec())


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS
    message: str = body["errorMessage"]
    return message


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()]


# --- Druid's tutorial ------------------------------------------------------------------------------------


def test_druid_tutorial_spec_ingests_and_gives_druids_answers(
    client: httpx.Client, wikipedia_task: str
) -> None:
    status = wait_for_task(client, wikipedia_task)
    assert set(status) == STATUS_KEYS
    assert status["statusCode"] == status["status"] == "SUCCESS", status
    assert status["id"] == status["groupId"] == wikipedia_task
    assert status["type"] == "index_parallel" and status["dataSource"] == "wikipedia"
    assert status["runnerStatusCode"] == "NONE" and status["errorMsg"] is None
    assert status["duration"] >= 0
    assert status["location"]["port"] == int(client.base_url.port or 0)

    # Druid's documented answers for its tutorial data (docs/tutorials/tutorial-query.md).
    [boundary] = query(client, {"queryType": "timeBoundary", "dataSource": "wikipedia"})
    assert boundary["result"] == {
        "minTime": "2015-09-12T00:46:58.771Z",
        "maxTime": "2015-09-12T23:59:59.200Z",
    }
    [total] = query(
        client,
        {
            "queryType": "timeseries",
            "dataSource": "wikipedia",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "aggregations": [
                {"type": "count", "name": "edits"},
                {"type": "longSum", "name": "added", "fieldName": "added"},
            ],
        },
    )
    assert total["result"] == {"edits": 39244, "added": 9385573}
    [top] = query(
        client,
        {
            "queryType": "topN",
            "dataSource": "wikipedia",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "dimension": "page",
            "metric": "edits",
            "threshold": 3,
            "aggregations": [{"type": "count", "name": "edits"}],
        },
    )
    assert top["result"] == [
        {"page": "Wikipedia:Vandalismusmeldung", "edits": 33},
        {"page": "User:Cyde/List of candidates for speedy deletion/Subpage", "edits": 28},
        {"page": "Jeremy Corbyn", "edits": 27},
    ]


def test_payload_and_reports_of_a_finished_task(client: httpx.Client, wikipedia_task: str) -> None:
    wait_for_task(client, wikipedia_task)
    payload = client.get(f"{TASKS}/task/{wikipedia_task}").json()
    assert payload["task"] == wikipedia_task
    assert payload["payload"]["type"] == "index_parallel"
    assert payload["payload"]["spec"] == wikipedia_spec()["spec"]
    assert payload["payload"]["dataSource"] == "wikipedia" and payload["payload"]["id"] == wikipedia_task

    reports = client.get(f"{TASKS}/task/{wikipedia_task}/reports").json()
    stats = reports["ingestionStatsAndErrors"]
    assert stats["type"] == "ingestionStatsAndErrors" and stats["taskId"] == wikipedia_task
    assert stats["payload"]["ingestionState"] == "COMPLETED"
    assert stats["payload"]["errorMsg"] is None and stats["payload"]["unparseableEvents"] == {}
    build = stats["payload"]["rowStats"]["buildSegments"]
    assert build["processed"] == 39244
    assert build["unparseable"] == build["thrownAway"] == build["processedWithError"] == 0
    summary = reports["groveIngestSummary"]["payload"]
    assert summary["dataSource"] == "wikipedia" and summary["rowsAfterRollup"] == 39244
    [segment] = summary["segments"]
    assert segment["interval"] == "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"


def test_task_listings_and_their_filters(client: httpx.Client, wikipedia_task: str) -> None:
    wait_for_task(client, wikipedia_task)
    everything = client.get(f"{TASKS}/tasks").json()
    assert wikipedia_task in [t["id"] for t in everything]
    assert all(set(t) == STATUS_KEYS for t in everything)
    assert wikipedia_task in ids(client.get(f"{TASKS}/tasks", params={"state": "complete"}))
    assert wikipedia_task in ids(client.get(f"{TASKS}/tasks", params={"state": "COMPLETE"}))
    assert wikipedia_task not in ids(client.get(f"{TASKS}/tasks", params={"state": "running"}))
    assert wikipedia_task in ids(client.get(f"{TASKS}/completeTasks"))
    assert wikipedia_task not in ids(client.get(f"{TASKS}/runningTasks"))
    assert ids(client.get(f"{TASKS}/waitingTasks")) == ids(client.get(f"{TASKS}/pendingTasks")) == []
    assert ids(client.get(f"{TASKS}/tasks", params={"datasource": "wikipedia"})) == [wikipedia_task]
    assert ids(client.get(f"{TASKS}/tasks", params={"datasource": "nothing"})) == []
    assert ids(client.get(f"{TASKS}/tasks", params={"type": "index"})) == []
    assert wikipedia_task in ids(client.get(f"{TASKS}/tasks", params={"type": "index_parallel"}))
    assert len(ids(client.get(f"{TASKS}/tasks", params={"state": "complete", "max": 1}))) == 1
    assert ids(client.get(f"{TASKS}/tasks", params={"state": "complete", "max": 0})) == []
    now = time.gmtime()
    today = f"{now.tm_year:04d}-{now.tm_mon:02d}-{now.tm_mday:02d}"
    window = {"createdTimeInterval": f"{today}_P2D"}
    assert wikipedia_task in ids(client.get(f"{TASKS}/tasks", params=window))
    assert ids(client.get(f"{TASKS}/tasks", params={"createdTimeInterval": "2000-01-01_2000-01-02"})) == []

    assert "[sleeping]" in error(client.get(f"{TASKS}/tasks", params={"state": "sleeping"}), 400)
    error(client.get(f"{TASKS}/tasks", params={"max": -1}), 400)
    assert "createdTimeInterval" in error(
        client.get(f"{TASKS}/tasks", params={"createdTimeInterval": "yesterday"}), 400
    )
    assert client.get(f"{TASKS}/supervisor").json() == []


# --- refusals ------------------------------------------------------------------------------------------


def _without(spec: dict[str, Any], *path: str) -> dict[str, Any]:
    node = spec
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return spec


def test_invalid_specs_are_refused_with_the_path_and_run_nothing(client: httpx.Client) -> None:
    before = len(client.get(f"{TASKS}/tasks").json())

    no_datasource = _without(wikipedia_spec(), "spec", "dataSchema", "dataSource")
    assert "spec.dataSchema.dataSource" in error(client.post(f"{TASKS}/task", json=no_datasource), 400)

    bad_metric = wikipedia_spec()
    bad_metric["spec"]["dataSchema"]["metricsSpec"] = [
        {"type": "count", "name": "count"},
        {"type": "longSumm", "name": "added", "fieldName": "added"},
    ]
    message = error(client.post(f"{TASKS}/task", json=bad_metric), 400)
    assert "[longSumm]" in message and "spec.dataSchema.metricsSpec[1].type" in message

    bad_granularity = wikipedia_spec()
    bad_granularity["spec"]["dataSchema"]["granularitySpec"]["segmentGranularity"] = "fortnight"
    message = error(client.post(f"{TASKS}/task", json=bad_granularity), 400)
    assert "spec.dataSchema.granularitySpec.segmentGranularity" in message

    hadoop = {**wikipedia_spec(), "type": "index_hadoop"}
    assert "[index_hadoop]" in error(client.post(f"{TASKS}/task", json=hadoop), 400)
    error(client.post(f"{TASKS}/task", json=["not", "a", "spec"]), 400)
    error(client.post(f"{TASKS}/task", content=b'{"type": "index_parallel", ', headers=_JSON), 400)
    error(client.post(f"{TASKS}/task", content=b"{}", headers={"Content-Type": "text/csv"}), 415)

    assert len(client.get(f"{TASKS}/tasks").json()) == before
    # The server keeps serving after the refusals.
    assert client.get("/status/health").json() is True


_JSON = {"Content-Type": "application/json"}


def test_a_reused_task_id_is_a_conflict(client: httpx.Client) -> None:
    spec = {**inline_spec("reused", [{"ts": "2026-01-01T00:00:00Z", "d": "a", "n": 1}]), "id": "reused-1"}
    assert submit(client, spec) == "reused-1"
    error(client.post(f"{TASKS}/task", json=spec), 409)
    assert wait_for_task(client, "reused-1")["statusCode"] == "SUCCESS"


def test_unknown_tasks_are_404(client: httpx.Client) -> None:
    for path in ("", "/status", "/reports"):
        assert "[no-such-task]" in error(client.get(f"{TASKS}/task/no-such-task{path}"), 404)
    error(client.post(f"{TASKS}/task/no-such-task/shutdown"), 404)
    error(client.post(f"{TASKS}/datasources/no-such-datasource/shutdownAllTasks"), 404)


# --- shutdown --------------------------------------------------------------------------------------------


def test_shutdown_stops_a_running_task_with_nothing_published(client: httpx.Client, tmp_path: Path) -> None:
    folder = write_events(tmp_path / "events", files=4, rows_per_file=25_000)
    task_id = submit(client, events_spec("stopped", folder))
    running = client.get(f"{TASKS}/task/{task_id}/status").json()["status"]
    assert running["statusCode"] == "RUNNING" and running["runnerStatusCode"] == "RUNNING"
    assert running["duration"] == -1
    assert task_id in ids(client.get(f"{TASKS}/runningTasks"))

    response = client.post(f"{TASKS}/task/{task_id}/shutdown")
    assert response.status_code == 200 and response.json() == {"task": task_id}

    status = wait_for_task(client, task_id)
    assert status["statusCode"] == "FAILED"
    assert "shut down" in status["errorMsg"]
    report = client.get(f"{TASKS}/task/{task_id}/reports").json()["ingestionStatsAndErrors"]["payload"]
    assert report["errorMsg"] == status["errorMsg"]
    unused_too = client.get("/druid/coordinator/v1/metadata/datasources", params={"includeUnused": ""})
    assert "stopped" not in unused_too.json()
    assert "stopped" not in client.get("/druid/v2/datasources").json()
    # A finished task cannot be shut down again.
    assert "FAILED" in error(client.post(f"{TASKS}/task/{task_id}/shutdown"), 404)
