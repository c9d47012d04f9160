"""Bad input over HTTP against a real ``grove serve``: every refusal has the right status and Druid's error
body (exactly ``error``, ``errorMessage``, ``errorClass`` and ``host``, the message naming the offending
field where there is one), and the server keeps serving: after each refusal a good query still gets
its right answer from the same, still running, process.

The server runs with a small ``max_request_bytes`` so that oversized bodies are cheap to send.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serving import ServerProcess, ingest, inline_spec, wait_for_task  # noqa: E402

LIMIT = 1_000_000
DS = "bad_input"
ROWS: list[dict[str, Any]] = [
    {"ts": f"2026-01-0{day}T0{hour}:00:00Z", "d": f"v{(day * hour) % 5}", "n": day * 10 + hour}
    for day in (1, 2, 3)
    for hour in range(5)
]
ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}
JSON = {"Content-Type": "application/json"}
TASK = "/druid/indexer/v1/task"

GOOD = {
    "queryType": "timeseries",
    "dataSource": DS,
    "intervals": ["2026-01-01/2026-01-04"],
    "granularity": "all",
    "aggregations": [{"type": "count", "name": "rows"}, {"type": "longSum", "name": "n", "fieldName": "n"}],
}
GOOD_ANSWER = [
    {"timestamp": "2026-01-01T00:00:00.000Z", "result": {"rows": 15, "n": sum(r["n"] for r in ROWS)}}
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("bad-input") / "home"
    with ServerProcess(home, "--max-request-bytes", str(LIMIT)) as s:
        with httpx.Client(base_url=s.url, timeout=60) as c:
            ingest(c, inline_spec(DS, ROWS))
            deadline = time.monotonic() + 10
            while c.post("/druid/v2/", json=GOOD).json() != GOOD_ANSWER:
                assert time.monotonic() < deadline, "the test datasource never became queryable"
                time.sleep(0.05)
        yield s
        assert s.process is not None and s.process.poll() is None, "the server died:\n" + s.output()


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def refused(response: httpx.Response, status: int, *named: str) -> dict[str, Any]:
    """Assert Druid's error body with ``status``, its message naming each of ``named``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS, body
    assert all(isinstance(body[key], str) and body[key] for key in ERROR_KEYS), body
    assert body["host"] == f"127.0.0.1:{response.url.port}"
    for name in named:
        assert name in body["errorMessage"], body
    return body


def still_serving(client: httpx.Client, server: ServerProcess) -> None:
    assert server.process is not None and server.process.poll() is None, (
        "the server died:\n" + server.output()
    )
    response = client.post("/druid/v2/", json=GOOD)
    assert response.status_code == 200, response.text
    assert response.json() == GOOD_ANSWER
    assert client.get("/status/health").json() is True


def query(**changes: Any) -> dict[str, Any]:
    """GOOD with ``changes`` (a value of None removes the field)."""
    out = {**GOOD, **changes}
    return {k: v for k, v in out.items() if v is not None}


def topn(**changes: Any) -> dict[str, Any]:
    base = {
        "queryType": "topN",
        "dataSource": DS,
        "intervals": ["2026-01-01/2026-01-04"],
        "granularity": "all",
        "dimension": "d",
        "metric": "rows",
        "threshold": 3,
        "aggregations": [{"type": "count", "name": "rows"}],
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def _not(depth: int) -> dict[str, Any]:
    f: dict[str, Any] = {"type": "selector", "dimension": "d", "value": "v1"}
    for _ in range(depth):
        f = {"type": "not", "field": f}
    return f


# (body, status, fragments the message must name); a body that is bytes is sent as it is.
NATIVE: dict[str, tuple[Any, int, tuple[str, ...]]] = {
    # malformed JSON
    "truncated": (b'{"queryType": "timeseries", ', 400, ("Malformed JSON",)),
    "unterminated-string": (b'{"queryType": "timese', 400, ("Malformed JSON",)),
    "trailing-garbage": (orjson.dumps(GOOD) + b" x", 400, ("Malformed JSON",)),
    "invalid-utf8": (b'\xff\xfe{"queryType": "timeseries"}', 400, ("Malformed JSON",)),
    "nan-literal": (b'{"queryType": "timeseries", "threshold": NaN}', 400, ("Malformed JSON",)),
    "single-quotes": (b"{'queryType': 'timeseries'}", 400, ("Malformed JSON",)),
    "nested-too-deep": (b"[" * 5000 + b"]" * 5000, 400, ("Malformed JSON",)),
    # not a JSON object
    "array": (b"[]", 400, ("JSON object",)),
    "array-of-query": (orjson.dumps([GOOD]), 400, ("JSON object",)),
    "string": (b'"x"', 400, ("JSON object",)),
    "string-holding-a-query": (orjson.dumps(json.dumps(GOOD)), 400, ("JSON object",)),
    "number": (b"3", 400, ("JSON object",)),
    "null": (b"null", 400, ("JSON object",)),
    "true": (b"true", 400, ("JSON object",)),
    "empty": (b"", 400, ("empty",)),
    "blank": (b"  \n\t ", 400, ("empty",)),
    # unknown things
    "unknown-query-type": (query(queryType="bogus"), 400, ("[bogus]", "queryType")),
    "missing-query-type": (query(queryType=None), 400, ("[queryType]",)),
    "unknown-datasource": (query(dataSource="no_such_datasource"), 404, ("[no_such_datasource]",)),
    "unknown-aggregator-type": (
        query(
            aggregations=[
                {"type": "count", "name": "rows"},
                {"type": "longSumm", "name": "n", "fieldName": "n"},
            ]
        ),
        400,
        ("[longSumm]", "aggregations[1]"),
    ),
    "unknown-filter-type": (query(filter={"type": "sorta", "dimension": "d"}), 400, ("[sorta]", "filter")),
    "unknown-granularity": (query(granularity="fortnight"), 400, ("[fortnight]", "granularity")),
    "unknown-post-aggregator-field": (
        query(postAggregations=[{"type": "fieldAccess", "name": "z", "fieldName": "nope"}]),
        400,
        ("[nope]",),
    ),
    "unknown-arithmetic-fn": (
        query(
            postAggregations=[
                {
                    "type": "arithmetic",
                    "name": "z",
                    "fn": "%%",
                    "fields": [{"type": "fieldAccess", "fieldName": "n"}, {"type": "constant", "value": 1}],
                }
            ]
        ),
        400,
        ("[%%]", "postAggregations[0].fn"),
    ),
    # invalid intervals
    "interval-end-before-start": (
        query(intervals=["2026-01-03/2026-01-01"]),
        400,
        ("intervals", "2026-01-03/2026-01-01"),
    ),
    "interval-not-iso": (query(intervals=["yesterday"]), 400, ("[yesterday]", "intervals")),
    "interval-not-a-list": (query(intervals=3), 400, ("intervals",)),
    "intervals-empty": (query(intervals=[]), 400, ("intervals",)),
    # missing required fields
    "missing-intervals": (query(intervals=None), 400, ("[intervals]",)),
    "missing-topn-dimension": (topn(dimension=None), 400, ("[dimension]",)),
    "missing-topn-threshold": (topn(threshold=None), 400, ("[threshold]",)),
    "missing-aggregator-field-name": (
        query(aggregations=[{"type": "longSum", "name": "n"}]),
        400,
        ("[fieldName]", "aggregations[0]"),
    ),
    "missing-aggregator-name": (
        query(aggregations=[{"type": "longSum", "fieldName": "n"}]),
        400,
        ("[name]", "aggregations[0]"),
    ),
    "missing-groupby-dimension-name": (
        {**query(queryType="groupBy"), "dimensions": [{"type": "default", "outputName": "x"}]},
        400,
        ("[dimension]", "dimensions[0]"),
    ),
    # wrong field types
    "threshold-not-a-number": (topn(threshold="ten"), 400, ("threshold",)),
    "threshold-negative": (topn(threshold=-1), 400, ("threshold",)),
    "aggregations-not-a-list": (
        query(aggregations={"type": "count", "name": "rows"}),
        400,
        ("aggregations",),
    ),
    "aggregator-not-an-object": (query(aggregations=["count"]), 400, ("aggregations[0]",)),
    "in-values-not-a-list": (
        query(filter={"type": "in", "dimension": "d", "values": "v1"}),
        400,
        ("filter.values",),
    ),
    "datasource-a-number": (query(dataSource=42), 400, ("dataSource",)),
    "context-not-an-object": (query(context="fast"), 400, ("context",)),
    "descending-not-a-boolean": (query(descending="maybe"), 400, ("descending",)),
    "groupby-dimensions-not-a-list": (
        {**query(queryType="groupBy"), "dimensions": "d"},
        400,
        ("dimensions",),
    ),
    "scan-limit-negative": (
        {"queryType": "scan", "dataSource": DS, "intervals": ["2026-01-01/2026-01-04"], "limit": -5},
        400,
        ("limit",),
    ),
    "duplicate-output-names": (
        query(
            aggregations=[{"type": "count", "name": "x"}, {"type": "longSum", "name": "x", "fieldName": "n"}]
        ),
        400,
        ("[x]",),
    ),
    "filter-nested-too-deep": (query(filter=_not(400)), 400, ("filter",)),
}


@pytest.mark.parametrize("case", list(NATIVE))
def test_bad_native_queries_are_refused(case: str, client: httpx.Client, server: ServerProcess) -> None:
    body, status, named = NATIVE[case]
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    # The plain paths are the server's fast path; ?pretty goes through FastAPI's route: same refusals.
    bodies = []
    for path in ("/druid/v2/", "/druid/v2", "/druid/v2/?pretty"):
        bodies.append(refused(client.post(path, content=content, headers=JSON), status, *named))
        still_serving(client, server)
    assert bodies[0] == bodies[1] == bodies[2]


@pytest.mark.parametrize(
    "content_type", ["text/csv", "application/xml", "application/x-jackson-smile", "multipart/form-data"]
)
def test_wrong_content_types_are_415(content_type: str, client: httpx.Client, server: ServerProcess) -> None:
    for path in ("/druid/v2/", "/druid/v2/?pretty"):
        response = client.post(path, content=orjson.dumps(GOOD), headers={"Content-Type": content_type})
        refused(response, 415, f"[{content_type}]")
    refused(client.post(TASK, content=b"{}", headers={"Content-Type": content_type}), 415)
    still_serving(client, server)


def test_json_content_types_that_are_accepted(client: httpx.Client, server: ServerProcess) -> None:
    for content_type in ("application/json; charset=utf-8", "APPLICATION/JSON", "text/plain"):
        response = client.post(
            "/druid/v2/", content=orjson.dumps(GOOD), headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, response.text
        assert response.json() == GOOD_ANSWER
    # No content type at all (as some clients send).
    response = client.post("/druid/v2/", content=orjson.dumps(GOOD))
    assert response.status_code == 200, response.text


def _oversized_query() -> bytes:
    values = [f"value-{i:09d}" for i in range(LIMIT // 12)]
    body = orjson.dumps(query(filter={"type": "in", "dimension": "d", "values": values}))
    assert len(body) > LIMIT
    return body


def test_oversized_bodies_are_413(client: httpx.Client, server: ServerProcess) -> None:
    body = _oversized_query()
    # With Content-Length: refused before the body is read.
    refused(client.post("/druid/v2/", content=body, headers=JSON), 413, f"[{LIMIT}]")
    still_serving(client, server)

    # Chunked, without a length: refused once more than the limit has arrived.
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    refused(client.post("/druid/v2/", content=chunks(), headers=JSON), 413, f"[{LIMIT}]")
    still_serving(client, server)
    refused(client.post("/druid/v2/?pretty", content=chunks(), headers=JSON), 413, f"[{LIMIT}]")
    still_serving(client, server)
    refused(client.post(TASK, content=body, headers=JSON), 413, f"[{LIMIT}]")
    still_serving(client, server)


def test_a_huge_in_list_within_the_limit_is_answered(client: httpx.Client, server: ServerProcess) -> None:
    values = [f"value-{i:07d}" for i in range(60_000)] + ["v1", "v3"]
    body = orjson.dumps(query(filter={"type": "in", "dimension": "d", "values": values}))
    assert 500_000 < len(body) < LIMIT
    response = client.post("/druid/v2/", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    wanted = [r for r in ROWS if r["d"] in ("v1", "v3")]
    assert response.json() == [
        {
            "timestamp": "2026-01-01T00:00:00.000Z",
            "result": {"rows": len(wanted), "n": sum(r["n"] for r in wanted)},
        }
    ]
    still_serving(client, server)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/druid/v2/", "POST"),
        ("PUT", "/druid/v2/", "POST"),
        ("GET", "/druid/v2", "POST"),
        ("GET", "/druid/v2/sql/", "POST"),
        ("GET", TASK, "POST"),
        ("POST", "/status/health", "GET"),
        ("DELETE", "/status", "GET"),
        ("POST", "/druid/v2/datasources", "GET"),
    ],
)
def test_wrong_methods_are_405(
    method: str, path: str, allowed: str, client: httpx.Client, server: ServerProcess
) -> None:
    response = client.request(method, path)
    refused(response, 405, f"[{method}]", f"[{path}]")
    assert allowed in response.headers["allow"]
    still_serving(client, server)


def test_unknown_paths_and_ids_are_404(client: httpx.Client, server: ServerProcess) -> None:
    refused(client.get("/druid/v3/"), 404, "[/druid/v3/]")
    refused(client.post("/druid/v2/nonsense/x", json=GOOD), 404)
    refused(client.get("/druid/v2/datasources/no_such_datasource"), 404, "[no_such_datasource]")
    refused(client.get("/druid/v2/datasources/no_such_datasource/candidates"), 404, "[no_such_datasource]")
    refused(client.get(f"{TASK}/no-such-task/status"), 404, "[no-such-task]")
    still_serving(client, server)


def test_bad_candidates_intervals_are_400(client: httpx.Client, server: ServerProcess) -> None:
    response = client.get(f"/druid/v2/datasources/{DS}/candidates", params={"intervals": "yesterday"})
    refused(response, 400, "[yesterday]", "intervals")
    still_serving(client, server)


def test_bad_sql_is_400_with_the_error_body(client: httpx.Client, server: ServerProcess) -> None:
    refused(client.post("/druid/v2/sql/", json={"query": "SELECT * FROM"}), 400, "[FROM]")
    refused(client.post("/druid/v2/sql", json={"query": f"SELECT nope FROM {DS}"}), 400, "nope")
    still_serving(client, server)


# --- task specs ------------------------------------------------------------------------------------------


def _spec(datasource: str = "bad_task") -> dict[str, Any]:
    return inline_spec(datasource, [{"ts": "2026-02-01T00:00:00Z", "d": "a", "n": 1}])


def _edit(path: str, value: Any) -> dict[str, Any]:
    """A spec with the field at dotted ``path`` set to ``value`` (removed when value is ``...``)."""
    spec = _spec()
    node: Any = spec
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return spec


TASKS: dict[str, tuple[Any, int, tuple[str, ...]]] = {
    "malformed-json": (b'{"type": "index_parallel", ', 400, ("Malformed JSON",)),
    "array": (b"[]", 400, ("JSON object",)),
    "number": (b"3", 400, ("JSON object",)),
    "string-holding-a-spec": (orjson.dumps(json.dumps(_spec("smuggled"))), 400, ("JSON object",)),
    "empty": (b"", 400, ("empty",)),
    "missing-datasource": (_edit("spec.dataSchema.dataSource", ...), 400, ("spec.dataSchema.dataSource",)),
    "missing-input-source": (_edit("spec.ioConfig.inputSource", ...), 400, ("spec.ioConfig.inputSource",)),
    "unknown-metric-type": (
        _edit("spec.dataSchema.metricsSpec.1.type", "longSumm"),
        400,
        ("[longSumm]", "spec.dataSchema.metricsSpec[1].type"),
    ),
    "unknown-input-format": (
        _edit("spec.ioConfig.inputFormat", {"type": "xml"}),
        400,
        ("[xml]", "spec.ioConfig.inputFormat"),
    ),
    "unknown-segment-granularity": (
        _edit("spec.dataSchema.granularitySpec.segmentGranularity", "fortnight"),
        400,
        ("spec.dataSchema.granularitySpec.segmentGranularity",),
    ),
    "interval-end-before-start": (
        _edit("spec.dataSchema.granularitySpec.intervals", ["2026-02-02/2026-02-01"]),
        400,
        ("spec.dataSchema.granularitySpec.intervals[0]",),
    ),
    "timestamp-spec-not-an-object": (
        _edit("spec.dataSchema.timestampSpec", "ts"),
        400,
        ("spec.dataSchema.timestampSpec",),
    ),
    "dimensions-not-a-list": (
        _edit("spec.dataSchema.dimensionsSpec.dimensions", "d"),
        400,
        ("spec.dataSchema.dimensionsSpec.dimensions",),
    ),
    "max-rows-not-a-number": (
        _edit("spec.tuningConfig", {"type": "index_parallel", "maxRowsInMemory": "lots"}),
        400,
        ("spec.tuningConfig.maxRowsInMemory",),
    ),
    "unknown-task-type": (_edit("type", "index_hadoop"), 400, ("[index_hadoop]",)),
}


@pytest.mark.parametrize("case", list(TASKS))
def test_bad_task_specs_are_refused_and_run_nothing(
    case: str, client: httpx.Client, server: ServerProcess
) -> None:
    body, status, named = TASKS[case]
    before = len(client.get("/druid/indexer/v1/tasks").json())
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    refused(client.post(TASK, content=content, headers=JSON), status, *named)
    assert len(client.get("/druid/indexer/v1/tasks").json()) == before
    still_serving(client, server)


def test_a_task_whose_input_is_missing_fails_and_publishes_nothing(
    client: httpx.Client, server: ServerProcess, tmp_path: Path
) -> None:
    spec = _spec("missing_input")
    spec["spec"]["ioConfig"]["inputSource"] = {
        "type": "local",
        "baseDir": str(tmp_path / "does-not-exist"),
        "filter": "*.json",
    }
    response = client.post(TASK, json=spec)
    assert response.status_code == 200, response.text
    status = wait_for_task(client, response.json()["task"])
    assert status["statusCode"] == "FAILED" and status["errorMsg"], status
    assert "missing_input" not in client.get("/druid/v2/datasources").json()
    still_serving(client, server)
