"""Stopping ``grove serve``: killed outright while a task runs (the task is FAILED after a restart, with
nothing half-published) and stopped with SIGTERM (queries in flight get their answers, running tasks end
FAILED, the process exits 0)."""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serving import (  # noqa: E402
    ServerProcess,
    events_spec,
    ingest,
    inline_spec,
    query,
    submit,
    write_events,
)

from grove.common.config import Config  # noqa: E402
from grove.metadata.store import MetadataStore  # noqa: E402

V1 = "/druid/coordinator/v1"


def status_of(client: httpx.Client, task_id: str) -> dict[str, Any]:
    response = client.get(f"/druid/indexer/v1/task/{task_id}/status")
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()["status"]
    return status


def test_a_task_running_when_the_server_is_killed_is_failed_after_restart(tmp_path: Path) -> None:
    folder = write_events(tmp_path / "events", files=4, rows_per_file=25_000)
    home = tmp_path / "home"
    with ServerProcess(home) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        task_id = submit(client, events_spec("crashed", folder))
        time.sleep(0.3)  # into the build step
        assert status_of(client, task_id)["statusCode"] == "RUNNING"
        server.kill()

    with ServerProcess(home) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        status = status_of(client, task_id)
        assert status["statusCode"] == "FAILED" and status["errorMsg"]
        assert client.get("/druid/indexer/v1/runningTasks").json() == []
        # Nothing of it was published, not even as unused segments.
        assert "crashed" not in client.get(f"{V1}/metadata/datasources", params={"includeUnused": ""}).json()
        assert "crashed" not in client.get("/druid/v2/datasources").json()
        # The restarted server runs tasks as usual.
        ingest(client, inline_spec("after_crash", [{"ts": "2026-01-01T00:00:00Z", "d": "a", "n": 1}]))
        assert "after_crash" in client.get("/druid/v2/datasources").json()


_HEAVY = {
    "queryType": "groupBy",
    "dataSource": "events",
    "intervals": ["2026-01-01/2026-01-03"],
    "granularity": "all",
    "dimensions": ["user", "page"],
    "aggregations": [{"type": "longSum", "name": "n", "fieldName": "n"}],
    "limitSpec": {"type": "default", "limit": 5, "columns": [{"dimension": "n", "direction": "descending"}]},
}


def _gauges(client: httpx.Client) -> dict[str, float]:
    text = client.get("/metrics").text
    found = re.findall(
        r'^(grove_queries_total\{type="groupBy"\}|grove_queries_running|grove_queries_waiting) (\S+)$',
        text,
        re.M,
    )
    return {name: float(value) for name, value in found}


def test_sigterm_answers_queries_in_flight_and_fails_running_tasks(tmp_path: Path) -> None:
    folder = write_events(tmp_path / "events", files=4, rows_per_file=20_000)
    # Bigger, so that the task is still running once the queries in flight are answered.
    more = write_events(tmp_path / "more", files=4, rows_per_file=80_000, seed=8)
    home = tmp_path / "home"
    # One query at a time, so that the queries sent together queue up and stay in flight for a while.
    server = ServerProcess(home, "--query-concurrency", "1").start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            ingest(client, events_spec("events", folder))
            expected = query(client, _HEAVY)
            assert len(expected) == 5
            sent = _gauges(client).get('grove_queries_total{type="groupBy"}', 0.0)

            answers: list[httpx.Response] = []

            def ask() -> None:
                with httpx.Client(base_url=server.url, timeout=120) as own:
                    answers.append(own.post("/druid/v2/", json=_HEAVY))

            threads = [threading.Thread(target=ask) for _ in range(4)]
            for t in threads:
                t.start()
            # Wait until the server holds all four queries and at least one of them is still unanswered.
            deadline = time.monotonic() + 30
            while True:
                gauges = _gauges(client)
                arrived = gauges.get('grove_queries_total{type="groupBy"}', 0.0) - sent
                busy = gauges.get("grove_queries_running", 0.0) + gauges.get("grove_queries_waiting", 0.0)
                if arrived >= 4 and busy >= 1:
                    break
                assert time.monotonic() < deadline, f"the queries never arrived together: {gauges}"
                time.sleep(0.005)
            task_id = submit(client, events_spec("interrupted", more))
            assert status_of(client, task_id)["statusCode"] == "RUNNING"

        code = server.terminate()
        for t in threads:
            t.join(60)
        assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
        assert all(a.json() == expected for a in answers)
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill()

    with MetadataStore(Config.load({"home": str(home)}, environ={}).metadata_url) as metadata:
        task = metadata.get_task(task_id)
        assert task is not None and task.status == "FAILED" and task.error_msg
        assert metadata.segments("interrupted", used=None) == []
        assert metadata.list_tasks(status="RUNNING") == []
    # uvicorn re-raises the SIGTERM it stopped for; `grove serve` swallows it after a graceful stop.
    assert code == 0, server.output()
