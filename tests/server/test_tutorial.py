"""Druid's own tutorial against a real ``grove serve``, the way Druid's docs walk through it.

Druid's ingestion spec for its tutorial data (``examples/wikipedia-index.json``, identical to the spec in
Druid's ``docs/tutorials/tutorial-batch.md``) is posted byte for byte, with only ``baseDir`` pointed at
``tests/data``, to ``/druid/indexer/v1/task`` as ``curl -d @wikipedia-index.json`` does. Then Druid's
tutorial queries are posted as the raw JSON text its docs show, and their answers are compared with the
answers Druid's docs print (``docs/tutorials/tutorial-query.md`` of Druid 0.13-0.16, which ran the native
topN and the SQL equivalents of the timeseries, groupBy and scan below on this same file).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serving import DATA, REPO, serving, wait_for_task, wait_queryable  # noqa: E402

# What ``curl -X POST -H 'Content-Type:application/json' -d @file`` sends.
CURL_JSON = {"Content-Type": "application/json", "Accept": "*/*", "User-Agent": "curl/8.5.0"}
DAY = '["2015-09-12/2015-09-13"]'


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("tutorial") / "home"
    with serving(home) as url, httpx.Client(base_url=url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def wikipedia(client: httpx.Client) -> str:
    """Druid's tutorial spec, submitted as its file's text with only ``baseDir`` changed; returns the
    task id once the task succeeded and the datasource is queryable."""
    text = (REPO / "examples" / "wikipedia-index.json").read_text()
    assert text.count('"baseDir" : "tests/data"') == 1
    body = text.replace('"baseDir" : "tests/data"', f'"baseDir" : "{DATA}"')
    response = client.post("/druid/indexer/v1/task", content=body.encode(), headers=CURL_JSON)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"task"}
    task_id: str = response.json()["task"]
    status = wait_for_task(client, task_id)
    assert status["statusCode"] == "SUCCESS", status
    wait_queryable(client)
    return task_id


def post(client: httpx.Client, body: str, path: str = "/druid/v2/") -> Any:
    """POST a query as raw JSON text, as ``curl -d @query.json`` does."""
    response = client.post(path, content=body.encode(), headers=CURL_JSON)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


# Druid's tutorial-query.md: "This query retrieves the 10 Wikipedia pages with the most page edits on
# 2015-09-12", posted with ``curl ... http://localhost:8082/druid/v2?pretty``.
TOP_PAGES = """{
  "queryType" : "topN",
  "dataSource" : "wikipedia",
  "intervals" : ["2015-09-12/2015-09-13"],
  "granularity" : "all",
  "dimension" : "page",
  "metric" : "count",
  "threshold" : 10,
  "aggregations" : [
    {
      "type" : "count",
      "name" : "count"
    }
  ]
}"""

TOP_PAGES_ANSWER = [
    {
        "timestamp": "2015-09-12T00:46:58.771Z",
        "result": [
            {"count": 33, "page": "Wikipedia:Vandalismusmeldung"},
            {"count": 28, "page": "User:Cyde/List of candidates for speedy deletion/Subpage"},
            {"count": 27, "page": "Jeremy Corbyn"},
            {"count": 21, "page": "Wikipedia:Administrators' noticeboard/Incidents"},
            {"count": 20, "page": "Flavia Pennetta"},
            {"count": 18, "page": "Total Drama Presents: The Ridonculous Race"},
            {"count": 18, "page": "User talk:Dudeperson176123"},
            {"count": 18, "page": "Wikipédia:Le Bistro/12 septembre 2015"},
            {"count": 17, "page": "Wikipedia:In the news/Candidates"},
            {"count": 17, "page": "Wikipedia:Requests for page protection"},
        ],
    }
]


def test_the_tutorial_spec_is_accepted_as_druid_writes_it(client: httpx.Client, wikipedia: str) -> None:
    payload = client.get(f"/druid/indexer/v1/task/{wikipedia}").json()["payload"]
    assert payload["type"] == "index_parallel"
    assert payload["spec"]["ioConfig"]["inputSource"]["baseDir"] == str(DATA)
    assert client.get("/druid/v2/datasources").json() == ["wikipedia"]
    columns = client.get("/druid/v2/datasources/wikipedia").json()
    assert {"channel", "page", "user", "added", "deleted", "delta"} <= set(columns["dimensions"])
    assert columns["metrics"] == []  # the spec's metricsSpec is empty: rollup is off


def test_top_pages_is_druids_documented_answer(client: httpx.Client, wikipedia: str) -> None:
    assert post(client, TOP_PAGES, "/druid/v2?pretty") == TOP_PAGES_ANSWER
    assert post(client, TOP_PAGES, "/druid/v2/") == TOP_PAGES_ANSWER


def test_top_pages_posted_without_a_content_type_as_curl_d_does(client: httpx.Client, wikipedia: str) -> None:
    # ``curl -d @file`` without ``-H`` sends application/x-www-form-urlencoded.
    response = client.post(
        "/druid/v2/",
        content=TOP_PAGES.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == TOP_PAGES_ANSWER


def test_time_boundary(client: httpx.Client, wikipedia: str) -> None:
    answer = post(client, '{"queryType": "timeBoundary", "dataSource": "wikipedia"}')
    assert answer == [
        {
            "timestamp": "2015-09-12T00:46:58.771Z",
            "result": {"minTime": "2015-09-12T00:46:58.771Z", "maxTime": "2015-09-12T23:59:59.200Z"},
        }
    ]
    [max_only] = post(client, '{"queryType": "timeBoundary", "dataSource": "wikipedia", "bound": "maxTime"}')
    assert max_only["result"] == {"maxTime": "2015-09-12T23:59:59.200Z"}


def test_timeseries_counts_every_edit(client: httpx.Client, wikipedia: str) -> None:
    body = f"""{{
      "queryType": "timeseries",
      "dataSource": "wikipedia",
      "intervals": {DAY},
      "granularity": "all",
      "aggregations": [
        {{"type": "count", "name": "count"}},
        {{"type": "longSum", "name": "added", "fieldName": "added"}},
        {{"type": "longSum", "name": "deleted", "fieldName": "deleted"}}
      ]
    }}"""
    assert post(client, body) == [
        {
            # With granularity "all", Druid stamps the bucket with the first time the segment's data
            # covers within the query interval (as in the documented topN answer).
            "timestamp": "2015-09-12T00:46:58.771Z",
            "result": {"count": 39244, "added": 9385573, "deleted": 394298},
        }
    ]


# The hourly lines deleted of tutorial-query.md's "Timeseries" example
# (SELECT FLOOR(__time to HOUR) AS HourTime, SUM(deleted) ...), as Druid printed it.
LINES_DELETED_BY_HOUR = [
    1761, 16208, 14543, 13101, 12040, 6399, 9036, 11409, 11616, 17509, 19406, 16284,
    18672, 30520, 18025, 26399, 24759, 19634, 17345, 19305, 22265, 16394, 16379, 15289,
]  # fmt: skip


def test_hourly_timeseries_is_druids_documented_answer(client: httpx.Client, wikipedia: str) -> None:
    body = f"""{{
      "queryType": "timeseries",
      "dataSource": "wikipedia",
      "intervals": {DAY},
      "granularity": "hour",
      "aggregations": [{{"type": "longSum", "name": "LinesDeleted", "fieldName": "deleted"}}]
    }}"""
    answer = post(client, body)
    assert [row["timestamp"] for row in answer] == [f"2015-09-12T{h:02d}:00:00.000Z" for h in range(24)]
    assert [row["result"]["LinesDeleted"] for row in answer] == LINES_DELETED_BY_HOUR


def test_group_by_channel_is_druids_documented_answer(client: httpx.Client, wikipedia: str) -> None:
    # tutorial-query.md's "GroupBy" example: SUM(added) by channel, the five largest.
    body = f"""{{
      "queryType": "groupBy",
      "dataSource": "wikipedia",
      "intervals": {DAY},
      "granularity": "all",
      "dimensions": ["channel"],
      "aggregations": [
        {{"type": "count", "name": "edits"}},
        {{"type": "longSum", "name": "added", "fieldName": "added"}}
      ],
      "limitSpec": {{
        "type": "default",
        "limit": 5,
        "columns": [{{"dimension": "added", "direction": "descending", "dimensionOrder": "numeric"}}]
      }}
    }}"""
    answer = post(client, body)
    assert {row["version"] for row in answer} == {"v1"}
    # groupBy stamps granularity "all" rows with the start of the query's first interval.
    assert {row["timestamp"] for row in answer} == {"2015-09-12T00:00:00.000Z"}
    assert [(row["event"]["channel"], row["event"]["added"]) for row in answer] == [
        ("#en.wikipedia", 3045299),
        ("#it.wikipedia", 711011),
        ("#fr.wikipedia", 642555),
        ("#ru.wikipedia", 640698),
        ("#es.wikipedia", 634670),
    ]
    assert answer[0]["event"]["edits"] == 11549


def test_group_by_channel_ordered_by_edits(client: httpx.Client, wikipedia: str) -> None:
    body = f"""{{
      "queryType": "groupBy",
      "dataSource": "wikipedia",
      "intervals": {DAY},
      "granularity": "all",
      "dimensions": ["channel"],
      "aggregations": [{{"type": "count", "name": "edits"}}],
      "limitSpec": {{"type": "default", "limit": 3, "columns": [{{"dimension": "edits", "direction": "descending"}}]}}
    }}"""
    assert [row["event"] for row in post(client, body)] == [
        {"channel": "#en.wikipedia", "edits": 11549},
        {"channel": "#vi.wikipedia", "edits": 9747},
        {"channel": "#de.wikipedia", "edits": 2523},
    ]


def test_scan_is_druids_documented_answer(client: httpx.Client, wikipedia: str) -> None:
    # tutorial-query.md's "Scan" example: user and page of the first five edits from 02:00 to 03:00.
    body = """{
      "queryType": "scan",
      "dataSource": "wikipedia",
      "intervals": ["2015-09-12T02:00:00.000Z/2015-09-12T03:00:00.001Z"],
      "columns": ["__time", "user", "page"],
      "limit": 5,
      "order": "ascending"
    }"""
    events = [event for batch in post(client, body) for event in batch["events"]]
    assert [event.pop("__time") for event in events] == [
        1442023203145,
        1442023206684,
        1442023210812,
        1442023215139,
        1442023217603,
    ]
    assert events == [
        {"user": "Thiago89", "page": "Campeonato Mundial de Voleibol Femenino Sub-20 de 2015"},
        {"user": "91.34.200.249", "page": "Friede von Schönbrunn"},
        {"user": "TuHan-Bot", "page": "Trĩ vàng"},
        {"user": "Lowercase sigmabot III", "page": "User talk:ErrantX"},
        {"user": "BattyBot", "page": "Hans W. Jung"},
    ]
