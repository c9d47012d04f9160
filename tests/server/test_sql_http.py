"""Druid SQL over HTTP against a real ``grove serve``: every request field, the query id header, every
result format, bare SQL bodies, errors in Druid's body with the server still serving, admission control.

The dataset is Druid's tutorial data (``serving.wikipedia_spec``). Requests are sent the way Druid's
SQL API docs send them (``docs/api-reference/sql-api.md``): JSON bodies with ``Content-Type:
application/json``, or the SQL text as ``text/plain`` or URL-encoded.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serving import ServerProcess, ingest, query, serving, wait_queryable, wikipedia_spec  # noqa: E402

ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}
CURL_JSON = {"Content-Type": "application/json", "Accept": "*/*", "User-Agent": "curl/8.5.0"}
QUERY_ID = "X-Druid-SQL-Query-Id"

# Druid's tutorial (docs/tutorials/tutorial-query.md of Druid 0.13-0.16, run on this same file):
# quickstart/tutorial/wikipedia-top-pages-sql.json and the answer the docs print for it.
TOP_PAGES_FILE = (
    '{\n  "query":"SELECT page, COUNT(*) AS Edits FROM wikipedia WHERE \\"__time\\" BETWEEN '
    "TIMESTAMP '2015-09-12 00:00:00' AND TIMESTAMP '2015-09-13 00:00:00' GROUP BY page ORDER BY Edits "
    'DESC LIMIT 10"\n}\n'
)
TOP_PAGES = [
    {"page": "Wikipedia:Vandalismusmeldung", "Edits": 33},
    {"page": "User:Cyde/List of candidates for speedy deletion/Subpage", "Edits": 28},
    {"page": "Jeremy Corbyn", "Edits": 27},
    {"page": "Wikipedia:Administrators' noticeboard/Incidents", "Edits": 21},
    {"page": "Flavia Pennetta", "Edits": 20},
    {"page": "Total Drama Presents: The Ridonculous Race", "Edits": 18},
    {"page": "User talk:Dudeperson176123", "Edits": 18},
    {"page": "Wikipédia:Le Bistro/12 septembre 2015", "Edits": 18},
    {"page": "Wikipedia:In the news/Candidates", "Edits": 17},
    {"page": "Wikipedia:Requests for page protection", "Edits": 17},
]
TOP_PAGES_FILE_QUERY = json.loads(TOP_PAGES_FILE)["query"]

CHANNELS = "SELECT channel, COUNT(*) AS edits, SUM(added) AS added FROM wikipedia GROUP BY channel ORDER BY edits DESC LIMIT 3"
CHANNEL_ROWS = [
    ["#en.wikipedia", 11549, 3045299],
    ["#vi.wikipedia", 9747, 295972],
    ["#de.wikipedia", 2523, 522625],
]
COUNT = "SELECT COUNT(*) AS c FROM wikipedia"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("sql-http") / "home"
    with serving(home) as url, httpx.Client(base_url=url, timeout=60) as c:
        ingest(c, wikipedia_spec())
        wait_queryable(c)
        yield c


def sql(client: httpx.Client, body: dict[str, Any], path: str = "/druid/v2/sql/") -> httpx.Response:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response


def refused(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["host"] and isinstance(body["errorMessage"], str) and body["errorClass"]
    return body


# --- Druid's documented requests --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/druid/v2/sql", "/druid/v2/sql/"])
def test_tutorial_query_file_gives_druids_documented_answer(client: httpx.Client, path: str) -> None:
    # curl -X 'POST' -H 'Content-Type:application/json' -d @quickstart/tutorial/wikipedia-top-pages-sql.json
    response = client.post(path, content=TOP_PAGES_FILE.encode(), headers=CURL_JSON)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == TOP_PAGES
    assert str(uuid.UUID(response.headers[QUERY_ID])) == response.headers[QUERY_ID]
    assert "X-Druid-SQL-Header-Included" not in response.headers


def test_sql_api_sample_request(client: httpx.Client) -> None:
    # docs/api-reference/sql-api.md, "Sample request": the query id and all three header flags.
    response = sql(
        client,
        {
            "query": "SELECT * FROM wikipedia WHERE user='BlueMoon2662'",
            "context": {"sqlQueryId": "request01"},
            "header": True,
            "typesHeader": True,
            "sqlTypesHeader": True,
        },
    )
    assert response.headers[QUERY_ID] == "request01"
    assert response.headers["X-Druid-SQL-Header-Included"] == "yes"
    header, row = response.json()
    assert next(iter(header)) == "__time" and list(header) == list(row)
    assert header["__time"] == {"type": "LONG", "sqlType": "TIMESTAMP"}
    assert header["channel"] == {"type": "STRING", "sqlType": "VARCHAR"}
    assert header["added"] == {"type": "LONG", "sqlType": "BIGINT"}
    # The documented row, as this spec ingests it (its booleans are string dimensions, nulls stay null).
    assert row["__time"] == "2015-09-12T00:47:53.259Z"
    assert (row["channel"], row["namespace"], row["user"]) == ("#ja.wikipedia", "Main", "BlueMoon2662")
    assert (row["comment"], row["page"]) == (
        "/* 対戦通算成績と得失点 */",
        "アルビレックス新潟の年度別成績一覧",
    )
    assert (row["delta"], row["added"], row["deleted"]) == (14, 14, 0)
    assert row["cityName"] is None


# --- result formats and header flags ------------------------------------------------------------------------


def test_every_result_format(client: httpx.Client) -> None:
    columns = ["channel", "edits", "added"]
    objects = [dict(zip(columns, row, strict=True)) for row in CHANNEL_ROWS]

    def body(fmt: str, **flags: bool) -> httpx.Response:
        return sql(client, {"query": CHANNELS, "resultFormat": fmt, **flags})

    r = body("object")
    assert r.headers["content-type"].startswith("application/json") and r.content.endswith(b"]\n")
    assert r.json() == objects
    r = body("array")
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == CHANNEL_ROWS
    r = body("objectLines")
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.endswith("\n\n") and [json.loads(line) for line in r.text.split("\n")[:-2]] == objects
    r = body("arrayLines", header=True)
    assert r.headers["content-type"].startswith("text/plain")
    lines = r.text.split("\n")
    assert lines[-2:] == ["", ""]
    assert [json.loads(line) for line in lines[:-2]] == [columns, *CHANNEL_ROWS]
    r = body("csv", header=True, typesHeader=True, sqlTypesHeader=True)
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text.endswith("\n\n")
    assert list(csv.reader(io.StringIO(r.text[:-1]))) == [
        columns,
        ["STRING", "LONG", "LONG"],
        ["VARCHAR", "BIGINT", "BIGINT"],
        *[[str(v) for v in row] for row in CHANNEL_ROWS],
    ]


@pytest.mark.parametrize(
    ("flags", "header_rows"),
    [
        ({}, []),
        ({"header": True}, [["channel", "edits", "added"]]),
        ({"header": True, "typesHeader": True}, [["channel", "edits", "added"], ["STRING", "LONG", "LONG"]]),
        (
            {"header": True, "sqlTypesHeader": True},
            [["channel", "edits", "added"], ["VARCHAR", "BIGINT", "BIGINT"]],
        ),
        (
            {"header": True, "typesHeader": True, "sqlTypesHeader": True},
            [["channel", "edits", "added"], ["STRING", "LONG", "LONG"], ["VARCHAR", "BIGINT", "BIGINT"]],
        ),
    ],
)
def test_header_flags(client: httpx.Client, flags: dict[str, bool], header_rows: list[list[str]]) -> None:
    response = sql(client, {"query": CHANNELS, "resultFormat": "array", **flags})
    assert response.json() == header_rows + CHANNEL_ROWS
    assert ("X-Druid-SQL-Header-Included" in response.headers) == bool(flags)


@pytest.mark.parametrize("flag", ["typesHeader", "sqlTypesHeader"])
def test_types_header_without_header_is_refused(client: httpx.Client, flag: str) -> None:
    body = refused(client.post("/druid/v2/sql/", json={"query": COUNT, flag: True}))
    assert body["errorMessage"] == f"Cannot include '{flag}' without 'header'"


def test_result_format_names_are_case_insensitive_and_unknown_ones_refused(client: httpx.Client) -> None:
    assert sql(client, {"query": COUNT, "resultFormat": "ARRAY"}).json() == [[39244]]
    body = refused(client.post("/druid/v2/sql/", json={"query": COUNT, "resultFormat": "xml"}))
    assert "[xml]" in body["errorMessage"]


# --- context, query id, parameters, nulls ------------------------------------------------------------------


def test_query_id_from_context_or_generated(client: httpx.Client) -> None:
    assert (
        sql(client, {"query": COUNT, "context": {"sqlQueryId": "my-report-7"}}).headers[QUERY_ID]
        == "my-report-7"
    )
    first = sql(client, {"query": COUNT}).headers[QUERY_ID]
    second = sql(client, {"query": COUNT, "context": {"sqlQueryId": ""}}).headers[QUERY_ID]
    assert first != second and uuid.UUID(first) and uuid.UUID(second)


def test_context_is_passed_to_the_planner(client: httpx.Client) -> None:
    exact = sql(client, {"query": TOP_PAGES_FILE_QUERY, "context": {"useApproximateTopN": False}}).json()
    assert exact == TOP_PAGES
    assert sql(
        client, {"query": COUNT, "context": None, "parameters": None, "resultFormat": None}
    ).json() == [{"c": 39244}]


def test_parameters(client: httpx.Client) -> None:
    inline = "SELECT COUNT(*) AS c, SUM(added) AS added FROM wikipedia WHERE channel = '#en.wikipedia' AND added > 100"
    expected = sql(client, {"query": inline}).json()
    assert expected[0]["c"] > 0
    body = {
        "query": "SELECT COUNT(*) AS c, SUM(added) AS added FROM wikipedia WHERE channel = ? AND added > ?",
        "parameters": [{"type": "VARCHAR", "value": "#en.wikipedia"}, {"type": "BIGINT", "value": 100}],
    }
    assert sql(client, body).json() == expected


def test_unknown_request_fields_are_ignored(client: httpx.Client) -> None:
    assert sql(client, {"query": COUNT, "somethingNew": 1}).json() == [{"c": 39244}]


def slow_sql() -> str:
    """A statement that runs long enough to be cancelled: 360 separate one-minute ranges of the day."""
    ranges = []
    for minute in range(0, 1440, 4):
        lo = f"2015-09-12 {minute // 60:02d}:{minute % 60:02d}:00"
        hi = f"2015-09-12 {minute // 60:02d}:{minute % 60:02d}:59"
        ranges.append(f"(__time >= TIMESTAMP '{lo}' AND __time < TIMESTAMP '{hi}')")
    return f"SELECT page, COUNT(*) AS edits FROM wikipedia WHERE {' OR '.join(ranges)} GROUP BY page"


def test_cancel_a_running_statement(client: httpx.Client) -> None:
    # DELETE /druid/v2/sql/{sqlQueryId} (docs/api-reference/sql-api.md, "Cancel a query").
    query_id = f"cancel-me-{uuid.uuid4()}"
    answers: list[httpx.Response] = []

    def run() -> None:
        with httpx.Client(base_url=client.base_url, timeout=60) as own:
            answers.append(
                own.post("/druid/v2/sql/", json={"query": slow_sql(), "context": {"sqlQueryId": query_id}})
            )

    worker = threading.Thread(target=run)
    worker.start()
    cancelled = None
    while worker.is_alive():
        response = client.delete(f"/druid/v2/sql/{query_id}")
        if response.status_code == 202:
            cancelled = response
            break
        refused(response, 404)  # not running yet (still being planned)
        time.sleep(0.002)
    worker.join(60)
    assert cancelled is not None, f"the statement finished before it could be cancelled: {answers}"
    [answer] = answers
    body = refused(answer, 500)
    assert body["error"] == "Query cancelled" and f"[{query_id}]" in body["errorMessage"]
    refused(client.delete(f"/druid/v2/sql/{query_id}"), 404)
    assert sql(client, {"query": COUNT}).json() == [{"c": 39244}]


# --- bare SQL bodies -----------------------------------------------------------------------------------------


def test_sql_text_as_text_plain(client: httpx.Client) -> None:
    # echo 'SELECT 1' | curl -H 'Content-Type: text/plain' .../druid/v2/sql --data @-
    response = client.post("/druid/v2/sql", content=COUNT.encode(), headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    assert response.json() == [{"c": 39244}]
    assert QUERY_ID in response.headers


def test_sql_text_url_encoded(client: httpx.Client) -> None:
    # echo 'SELECT%20...' | curl .../druid/v2/sql --data @-  (curl's default content type)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/druid/v2/sql", content=quote(COUNT).encode(), headers=form)
    assert response.status_code == 200, response.text
    assert response.json() == [{"c": 39244}]
    # curl -d @query.json without -H: a JSON object under the form content type is read as JSON.
    response = client.post("/druid/v2/sql/", content=TOP_PAGES_FILE.encode(), headers=form)
    assert response.status_code == 200, response.text
    assert response.json() == TOP_PAGES


# --- errors: Druid's body, 400 naming what is wrong; the server keeps serving --------------------------------


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"query": "SELEC page FROM wikipedia"}, "syntax near [FROM]"),
        ({"query": "SELECT nope FROM wikipedia"}, "nope"),
        ({"query": "SELECT page FROM nowhere"}, "nowhere"),
        ({"query": "SELECT a.page FROM wikipedia a JOIN wikipedia b ON a.page = b.page"}, "JOIN"),
        ({"resultFormat": "array"}, "Missing required field [query]"),
        ({"query": 42}, "query"),
        ({"query": COUNT, "header": "yes"}, "header"),
        ({"query": COUNT, "context": [1]}, "context"),
        ({"query": COUNT, "parameters": "x"}, "parameters"),
        ({"query": COUNT, "parameters": [{"value": 1}]}, "parameters[0].type"),
    ],
)
def test_bad_statements_and_fields_are_400(client: httpx.Client, body: dict[str, Any], fragment: str) -> None:
    error = refused(client.post("/druid/v2/sql/", json=body))
    assert fragment.lower() in error["errorMessage"].lower(), error


def test_bad_bodies(client: httpx.Client) -> None:
    refused(client.post("/druid/v2/sql/", content=b"{not json", headers={"Content-Type": "application/json"}))
    assert "JSON object" in refused(client.post("/druid/v2/sql/", json=[COUNT]))["errorMessage"]
    blank = client.post("/druid/v2/sql/", content=b" ", headers={"Content-Type": "text/plain"})
    assert "empty" in refused(blank)["errorMessage"]
    refused(client.post("/druid/v2/sql/", content=b"<q/>", headers={"Content-Type": "application/xml"}), 415)
    refused(client.get("/druid/v2/sql/"), 405)


def test_no_multi_stage_query_engine(client: httpx.Client) -> None:
    # Druid without its multi-stage query extension has no POST /druid/v2/sql/task; the path matches
    # only DELETE /druid/v2/sql/{sqlQueryId}, so the answer is a 405, as Druid's Jersey gives. Tools
    # probing for the task engine (the web console) take it as absent and use /druid/v2/sql/.
    response = client.post("/druid/v2/sql/task", json={"query": COUNT})
    body = refused(response, 405)
    assert "/druid/v2/sql/task" in body["errorMessage"]
    assert response.headers["allow"] == "DELETE"


def test_the_server_keeps_serving_after_errors(client: httpx.Client) -> None:
    for bad in (
        "SELECT * FROM",
        "SELECT 1; SELECT 2",
        "SELECT COUNT(*) FROM wikipedia WHERE",
        "DROP TABLE wikipedia",
        "'",
    ):
        refused(client.post("/druid/v2/sql/", json={"query": bad}))
    assert sql(client, {"query": COUNT}).json() == [{"c": 39244}]
    assert query(client, {"queryType": "timeBoundary", "dataSource": "wikipedia"})[0]["result"]["minTime"]


def test_sql_metrics(client: httpx.Client) -> None:
    sql(client, {"query": COUNT})
    metrics = client.get("/metrics").text
    assert 'grove_queries_total{type="sql"}' in metrics
    assert 'grove_query_seconds_count{type="sql"}' in metrics


def test_metadata_tables_over_http(client: httpx.Client) -> None:
    rows = sql(client, {"query": "SELECT datasource, num_rows, is_active FROM sys.segments"}).json()
    assert rows == [{"datasource": "wikipedia", "num_rows": 39244, "is_active": 1}]
    servers = sql(client, {"query": "SELECT server_type FROM sys.servers"}).json()
    assert {r["server_type"] for r in servers} == {"coordinator", "historical", "broker", "overlord"}
    tasks = sql(client, {"query": "SELECT datasource, status FROM sys.tasks"}).json()
    assert tasks == [{"datasource": "wikipedia", "status": "SUCCESS"}]
    names = sql(
        client, {"query": "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'druid'"}
    )
    assert names.json() == [{"TABLE_NAME": "wikipedia"}]


# --- admission control: SQL waits for a query slot like native queries ----------------------------------------


@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("sql-narrow") / "home"
    with ServerProcess(home, "--query-concurrency", "1", "--query-queue", "0") as server:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            ingest(c, wikipedia_spec())
            wait_queryable(c)
        yield server


SLOW_SQL = (
    "SELECT page, user, COUNT(*) AS edits, SUM(added) AS added FROM wikipedia "
    "GROUP BY page, user ORDER BY edits DESC, page LIMIT 3"
)


def test_a_full_queue_sheds_sql_with_429(narrow: ServerProcess) -> None:
    statuses: list[int] = []
    answers: list[httpx.Response] = []
    for _attempt in range(5):
        answers = []
        barrier = threading.Barrier(6)

        def ask(answers: list[httpx.Response] = answers, barrier: threading.Barrier = barrier) -> None:
            with httpx.Client(base_url=narrow.url, timeout=60) as own:
                barrier.wait()
                answers.append(own.post("/druid/v2/sql/", json={"query": SLOW_SQL}))

        threads = [threading.Thread(target=ask) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(a.status_code for a in answers)
        assert set(statuses) <= {200, 429}, [a.text for a in answers]
        if 429 in statuses:
            break
    assert 200 in statuses and 429 in statuses, statuses
    shed = refused(next(a for a in answers if a.status_code == 429), 429)
    assert shed["error"] == "Query capacity exceeded"
    with httpx.Client(base_url=narrow.url, timeout=60) as c:
        assert c.post("/druid/v2/sql/", json={"query": COUNT}).json() == [{"c": 39244}]
