"""Native queries over HTTP against a real ``grove serve``: every query type end to end, ``?pretty``,
``X-Druid-Query-Id``, cancellation, timeouts (504), load shedding (429), the broker's datasource views,
status, Prometheus metrics and the OpenAPI docs.

Druid's tutorial data is the dataset (``serving.wikipedia_spec``). A "slow" query is a groupBy over
1,440 one-minute intervals, which keeps the engine busy for a good fraction of a second: long enough
to be cancelled, timed out or to hold the only query slot while others arrive.
"""

from __future__ import annotations

import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serving import ServerProcess, ingest, query, serving, wait_queryable, wikipedia_spec  # noqa: E402

ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}
DAY = ["2015-09-12/2015-09-13"]


def _minutes(n: int) -> list[str]:
    """``n`` one-minute intervals of 2015-09-12 with a second between them (so none merge)."""
    start = datetime(2015, 9, 12, tzinfo=UTC)
    out = []
    for i in range(n):
        lo = start + timedelta(minutes=i)
        hi = lo + timedelta(seconds=59)
        out.append(f"{lo:%Y-%m-%dT%H:%M:%S}Z/{hi:%Y-%m-%dT%H:%M:%S}Z")
    return out


def slow(**context: Any) -> dict[str, Any]:
    return {
        "queryType": "groupBy",
        "dataSource": "wikipedia",
        "intervals": _minutes(1440),
        "granularity": "all",
        "dimensions": ["page"],
        "aggregations": [{"type": "count", "name": "edits"}],
        "limitSpec": {
            "type": "default",
            "limit": 3,
            "columns": [{"dimension": "edits", "direction": "descending"}],
        },
        "context": context,
    }


TIME_BOUNDARY = {"queryType": "timeBoundary", "dataSource": "wikipedia"}


def refused(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["error"] == error, body
    message: str = body["errorMessage"]
    return message


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("queries-http") / "home"
    with serving(home) as url, httpx.Client(base_url=url, timeout=60) as c:
        ingest(c, wikipedia_spec())
        wait_queryable(c)
        yield c


# --- query types -----------------------------------------------------------------------------------------


def test_a_big_groupby_answer_is_the_same_written_from_columns_or_from_rows(client: httpx.Client) -> None:
    # Over 1,000 rows, the server writes the JSON straight from the result columns; ``?pretty`` builds
    # rows and indents them. Both must hold the same answer, nulls, floats and odd strings included.
    body = {
        "queryType": "groupBy",
        "dataSource": "wikipedia",
        "intervals": DAY,
        "granularity": "hour",
        "dimensions": ["channel", "page", "cityName"],
        "aggregations": [
            {"type": "count", "name": "edits"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
            {"type": "doubleSum", "name": "delta_d", "fieldName": "delta"},
        ],
        "postAggregations": [
            {
                "type": "arithmetic",
                "name": "per_edit",
                "fn": "/",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "added"},
                    {"type": "fieldAccess", "fieldName": "edits"},
                ],
            }
        ],
    }
    columns = query(client, body)
    response = client.post("/druid/v2/?pretty", json=body)
    assert response.status_code == 200, response.text
    rows = response.json()
    assert len(columns) > 10_000
    assert columns == rows
    assert any(r["event"]["cityName"] is None for r in columns)


def test_every_query_type_end_to_end(client: httpx.Client) -> None:
    [series] = query(
        client,
        {
            "queryType": "timeseries",
            "dataSource": "wikipedia",
            "intervals": DAY,
            "granularity": "all",
            "filter": {"type": "selector", "dimension": "channel", "value": "#en.wikipedia"},
            "aggregations": [
                {"type": "count", "name": "edits"},
                {"type": "longSum", "name": "added", "fieldName": "added"},
            ],
            "postAggregations": [
                {
                    "type": "arithmetic",
                    "name": "added_per_edit",
                    "fn": "/",
                    "fields": [
                        {"type": "fieldAccess", "fieldName": "added"},
                        {"type": "fieldAccess", "fieldName": "edits"},
                    ],
                }
            ],
        },
    )
    assert series["result"] == {"edits": 11549, "added": 3045299, "added_per_edit": 3045299 / 11549}

    [top] = query(
        client,
        {
            "queryType": "topN",
            "dataSource": "wikipedia",
            "intervals": DAY,
            "granularity": "all",
            "dimension": "channel",
            "metric": "edits",
            "threshold": 2,
            "aggregations": [{"type": "count", "name": "edits"}],
        },
    )
    assert top["result"] == [
        {"channel": "#en.wikipedia", "edits": 11549},
        {"channel": "#vi.wikipedia", "edits": 9747},
    ]

    grouped = query(
        client,
        {
            "queryType": "groupBy",
            "dataSource": "wikipedia",
            "intervals": DAY,
            "granularity": "all",
            "dimensions": ["isRobot"],
            "aggregations": [{"type": "count", "name": "edits"}],
            "having": {"type": "greaterThan", "aggregation": "edits", "value": 16000},
        },
    )
    assert [row["event"] for row in grouped] == [{"isRobot": "false", "edits": 23824}]

    batches = query(
        client,
        {
            "queryType": "scan",
            "dataSource": "wikipedia",
            "intervals": DAY,
            "columns": ["__time", "page"],
            "filter": {"type": "selector", "dimension": "page", "value": "Jeremy Corbyn"},
            "limit": 100,
        },
    )
    events = [e for b in batches for e in b["events"]]
    assert len(events) == 27 and {e["page"] for e in events} == {"Jeremy Corbyn"}
    assert all(set(b) >= {"segmentId", "columns", "events"} for b in batches)

    [found] = query(
        client,
        {
            "queryType": "search",
            "dataSource": "wikipedia",
            "intervals": DAY,
            "granularity": "all",
            "searchDimensions": ["page"],
            "query": {"type": "insensitive_contains", "value": "corbyn"},
            "limit": 2,
        },
    )
    assert found["result"][0] == {"dimension": "page", "value": "Jeremy Corbyn", "count": 27}

    [boundary] = query(client, TIME_BOUNDARY)
    assert boundary["result"]["maxTime"] == "2015-09-12T23:59:59.200Z"

    [metadata] = query(client, {"queryType": "segmentMetadata", "dataSource": "wikipedia", "intervals": DAY})
    assert metadata["numRows"] == 39244
    assert {"__time", "channel", "page", "added"} <= set(metadata["columns"])

    [latest] = query(client, {"queryType": "dataSourceMetadata", "dataSource": "wikipedia"})
    assert latest["result"] == {"maxIngestedEventTime": "2015-09-12T23:59:59.200Z"}


def test_pretty_indents_the_same_result(client: httpx.Client) -> None:
    compact = client.post("/druid/v2/", json=TIME_BOUNDARY)
    pretty = client.post("/druid/v2/?pretty", json=TIME_BOUNDARY)
    no_slash = client.post("/druid/v2?pretty", json=TIME_BOUNDARY)
    assert compact.status_code == pretty.status_code == no_slash.status_code == 200
    assert b"\n" not in compact.content
    assert pretty.content.count(b"\n") >= 5 and b'\n  {\n    "timestamp"' in pretty.content
    assert compact.json() == pretty.json() == no_slash.json()


def test_query_id_header(client: httpx.Client) -> None:
    given = client.post("/druid/v2/", json={**TIME_BOUNDARY, "context": {"queryId": "my-query-1"}})
    assert given.status_code == 200 and given.headers["X-Druid-Query-Id"] == "my-query-1"
    # Without a queryId Druid makes one up, and says which.
    first = client.post("/druid/v2/", json=TIME_BOUNDARY).headers["X-Druid-Query-Id"]
    second = client.post("/druid/v2", json={**TIME_BOUNDARY, "context": {"priority": 1}}).headers[
        "X-Druid-Query-Id"
    ]
    assert str(uuid.UUID(first)) == first and str(uuid.UUID(second)) == second and first != second


# --- cancellation and timeouts ------------------------------------------------------------------------------


def test_cancel_a_running_query(client: httpx.Client) -> None:
    query_id = f"cancel-me-{uuid.uuid4()}"
    answers: list[httpx.Response] = []

    def run() -> None:
        with httpx.Client(base_url=client.base_url, timeout=60) as own:
            answers.append(own.post("/druid/v2/", json=slow(queryId=query_id)))

    worker = threading.Thread(target=run)
    worker.start()
    cancelled = None
    while worker.is_alive():
        response = client.delete(f"/druid/v2/{query_id}")
        if response.status_code == 202:
            cancelled = response
            break
        refused(response, 404, "Not found")  # not running yet
        time.sleep(0.002)
    worker.join(60)
    assert cancelled is not None, f"the query finished before it could be cancelled: {answers}"
    [answer] = answers
    message = refused(answer, 500, "Query cancelled")
    assert f"[{query_id}]" in message
    # Once it stopped, the id is unknown again, and the server answers the next query.
    refused(client.delete(f"/druid/v2/{query_id}"), 404, "Not found")
    assert query(client, TIME_BOUNDARY)[0]["result"]["minTime"] == "2015-09-12T00:46:58.771Z"


def test_context_timeout_is_504(client: httpx.Client) -> None:
    # The client's own timeout (60 s) bounds the wait: a query that ignored its 1 ms timeout and ran
    # to the end would answer 200, not 504.
    message = refused(
        client.post("/druid/v2/", json=slow(timeout=1, queryId="too-slow")), 504, "Query timeout"
    )
    assert "[too-slow]" in message
    assert query(client, TIME_BOUNDARY)[0]["result"]["maxTime"] == "2015-09-12T23:59:59.200Z"


# --- load shedding and the default timeout, on a server with one query slot and no queue ------------------


@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("narrow") / "home"
    options = ("--query-concurrency", "1", "--query-queue", "0", "--query-timeout-ms", "50")
    with ServerProcess(home, *options) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        ingest(c, wikipedia_spec())
        wait_queryable(c)
        yield server


def test_a_full_queue_is_429_and_the_server_recovers(narrow: ServerProcess) -> None:
    statuses: list[int] = []
    for _attempt in range(3):
        answers: list[httpx.Response] = []
        barrier = threading.Barrier(4)

        def ask(answers: list[httpx.Response] = answers, barrier: threading.Barrier = barrier) -> None:
            with httpx.Client(base_url=narrow.url, timeout=60) as own:
                barrier.wait()
                answers.append(own.post("/druid/v2/", json=slow(timeout=60_000)))

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(a.status_code for a in answers)
        assert set(statuses) <= {200, 429}, [a.text for a in answers]
        if 429 in statuses:
            break
    assert 200 in statuses and 429 in statuses, statuses
    shed = next(a for a in answers if a.status_code == 429)
    assert "[1] running" in refused(shed, 429, "Query capacity exceeded")
    with httpx.Client(base_url=narrow.url, timeout=60) as c:
        answer = c.post("/druid/v2/", json={**TIME_BOUNDARY, "context": {"timeout": 60_000}})
        assert answer.status_code == 200, answer.text
        assert 'grove_errors_total{status="429"}' in c.get("/metrics").text


def test_every_queue_place_is_usable_and_one_more_is_429(tmp_path_factory: pytest.TempPathFactory) -> None:
    # 45 places: more than the 40 threads anyio lends by default, which once held back the 41st waiting
    # query (so a queue that deep never filled, and a flood waited instead of being shed). Waiting
    # queries give up after the 3 s default timeout (504), so that the flood drains quickly.
    home = tmp_path_factory.mktemp("deep") / "home"
    options = ("--query-concurrency", "1", "--query-queue", "45", "--query-timeout-ms", "3000")
    flood = 60
    with ServerProcess(home, *options) as server, httpx.Client(base_url=server.url, timeout=120) as c:
        ingest(c, wikipedia_spec())
        wait_queryable(c)
        statuses: list[int] = []
        for _attempt in range(3):
            answers: list[httpx.Response] = []
            barrier = threading.Barrier(flood)

            def ask(answers: list[httpx.Response] = answers, barrier: threading.Barrier = barrier) -> None:
                with httpx.Client(base_url=server.url, timeout=120) as own:
                    barrier.wait()
                    answers.append(own.post("/druid/v2/", json=slow()))

            threads = [threading.Thread(target=ask) for _ in range(flood)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            statuses = sorted(a.status_code for a in answers)
            assert set(statuses) <= {200, 429, 504}, [a.text for a in answers if a.status_code == 500]
            if 429 in statuses:
                break
        # Every place was taken (answered or timed out waiting) and only the overflow was shed.
        assert 1 <= statuses.count(429) <= flood - 46 and len(statuses) == flood, statuses
        assert c.post("/druid/v2/", json=slow()).status_code == 200


def test_the_default_timeout_applies_without_context_timeout(narrow: ServerProcess) -> None:
    with httpx.Client(base_url=narrow.url, timeout=60) as c:
        refused(c.post("/druid/v2/", json=slow()), 504, "Query timeout")
        # context.timeout wins over the default.
        answer = c.post("/druid/v2/", json=slow(timeout=60_000))
        assert answer.status_code == 200, answer.text
        assert len(answer.json()) == 3


# --- broker views, status, metrics, docs ------------------------------------------------------------------


def test_datasource_views(client: httpx.Client) -> None:
    assert client.get("/druid/v2/datasources").json() == ["wikipedia"]
    columns = client.get("/druid/v2/datasources/wikipedia").json()
    assert set(columns) == {"dimensions", "metrics"}
    assert {"channel", "page", "user"} <= set(columns["dimensions"])

    [candidate] = client.get(
        "/druid/v2/datasources/wikipedia/candidates",
        params={"intervals": "2015-09-12T10:00Z/2015-09-12T11:00Z"},
    ).json()
    # As Druid's timeline lookup does, the interval is the part of the segment the query would read.
    assert candidate["interval"] == "2015-09-12T10:00:00.000Z/2015-09-12T11:00:00.000Z"
    assert candidate["partitionNumber"] == 0 and candidate["size"] > 0
    assert [loc["type"] for loc in candidate["locations"]] == ["historical"]
    [whole] = client.get("/druid/v2/datasources/wikipedia/candidates").json()
    assert whole == {**candidate, "interval": "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"}
    elsewhere = client.get(
        "/druid/v2/datasources/wikipedia/candidates", params={"intervals": "2016-01-01/2016-01-02"}
    )
    assert elsewhere.status_code == 200 and elsewhere.json() == []


def test_status_and_health(client: httpx.Client) -> None:
    status = client.get("/status")
    assert status.status_code == 200
    body = status.json()
    assert isinstance(body["version"], str) and body["version"]
    assert isinstance(body["uptimeSeconds"], int) and body["uptimeSeconds"] >= 0
    health = client.get("/status/health")
    assert health.status_code == 200 and health.json() is True


def _samples(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


def test_prometheus_metrics(client: httpx.Client) -> None:
    before = _samples(client.get("/metrics").text)
    query(client, TIME_BOUNDARY)
    query(client, TIME_BOUNDARY)
    # The fast path (plain POST) and FastAPI's route (?pretty) count alike.
    refused(client.post("/druid/v2/", json={**TIME_BOUNDARY, "dataSource": "nope"}), 404, "Not found")
    refused(client.post("/druid/v2/?pretty", json={**TIME_BOUNDARY, "dataSource": "nope"}), 404, "Not found")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = _samples(response.text)

    key = 'grove_queries_total{type="timeBoundary"}'
    assert after[key] - before.get(key, 0) == 4
    assert after['grove_query_seconds_count{type="timeBoundary"}'] >= 3
    assert any(
        re.fullmatch(r'grove_query_seconds_bucket\{le="[^"]+",type="timeBoundary"\}', k) for k in after
    )
    assert after['grove_errors_total{status="404"}'] - before.get('grove_errors_total{status="404"}', 0) == 2
    assert after["grove_segments_served"] == 1
    assert after["grove_queries_running"] == 0 and after["grove_queries_waiting"] == 0
    assert "grove_rows_ingested_total" in after


def test_openapi_docs(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "swagger" in docs.text.lower()
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in (
        "/druid/v2/",
        "/druid/v2/{query_id}",
        "/druid/v2/datasources",
        "/druid/v2/sql/",
        "/status",
        "/status/health",
        "/metrics",
        "/druid/indexer/v1/task",
    ):
        assert path in paths, path
