"""Druid's SQL tutorial on Druid's tutorial data gives the answers Druid's docs print.

The data is ingested with Druid's own spec (``examples/wikipedia-index.json``, only ``baseDir`` made
absolute). The queries and answers are those of Druid's "Tutorial: Querying data"
(``docs/content/tutorials/tutorial-query.md`` of Druid 0.13-0.15, whose ``dsql`` sessions ran on this same
file, ``wikiticker-2015-09-12-sampled.json.gz``): the top pages by edits, lines deleted per hour, the
channels that added the most, five raw rows, and ``EXPLAIN PLAN FOR`` the top pages planning into a topN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import grove
from grove.cluster.embedded import Database

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
DAY = "\"__time\" BETWEEN TIMESTAMP '2015-09-12 00:00:00' AND TIMESTAMP '2015-09-13 00:00:00'"


def tutorial_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads((REPO / "examples" / "wikipedia-index.json").read_text())
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = str(DATA)
    return spec


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with grove.open(str(tmp_path_factory.mktemp("tutorial-sql") / "home")) as database:
        database.ingest(tutorial_spec())
        yield database


TOP_PAGES = (
    f"SELECT page, COUNT(*) AS Edits FROM wikipedia WHERE {DAY} GROUP BY page ORDER BY Edits DESC LIMIT 10"
)


def test_top_pages(db: Database) -> None:
    result = db.sql(TOP_PAGES)
    assert result.columns == ["page", "Edits"]
    assert result.rows == [
        ["Wikipedia:Vandalismusmeldung", 33],
        ["User:Cyde/List of candidates for speedy deletion/Subpage", 28],
        ["Jeremy Corbyn", 27],
        ["Wikipedia:Administrators' noticeboard/Incidents", 21],
        ["Flavia Pennetta", 20],
        ["Total Drama Presents: The Ridonculous Race", 18],
        ["User talk:Dudeperson176123", 18],
        ["Wikipédia:Le Bistro/12 septembre 2015", 18],
        ["Wikipedia:In the news/Candidates", 17],
        ["Wikipedia:Requests for page protection", 17],
    ]


LINES_DELETED = [
    1761, 16208, 14543, 13101, 12040, 6399, 9036, 11409, 11616, 17509, 19406, 16284,
    18672, 30520, 18025, 26399, 24759, 19634, 17345, 19305, 22265, 16394, 16379, 15289,
]  # fmt: skip


@pytest.mark.parametrize("group_by", ["FLOOR(__time to HOUR)", "1"])
def test_lines_deleted_per_hour(db: Database, group_by: str) -> None:
    result = db.sql(
        "SELECT FLOOR(__time to HOUR) AS HourTime, SUM(deleted) AS LinesDeleted "
        f"FROM wikipedia WHERE {DAY} GROUP BY {group_by}"
    )
    assert result.columns == ["HourTime", "LinesDeleted"]
    assert result.sql_types == ["TIMESTAMP", "BIGINT"]
    assert result.rows == [[f"2015-09-12T{h:02d}:00:00.000Z", n] for h, n in enumerate(LINES_DELETED)]
    assert result.native[0]["queryType"] == "timeseries"


def test_channels_that_added_the_most(db: Database) -> None:
    result = db.sql(
        f"SELECT channel, SUM(added) FROM wikipedia WHERE {DAY} GROUP BY channel ORDER BY SUM(added) DESC LIMIT 5"
    )
    assert result.columns == ["channel", "EXPR$1"]  # an unaliased expression is named EXPR$<position>
    assert result.rows == [
        ["#en.wikipedia", 3045299],
        ["#it.wikipedia", 711011],
        ["#fr.wikipedia", 642555],
        ["#ru.wikipedia", 640698],
        ["#es.wikipedia", 634670],
    ]


def test_five_raw_rows(db: Database) -> None:
    result = db.sql(
        "SELECT user, page FROM wikipedia WHERE \"__time\" BETWEEN TIMESTAMP '2015-09-12 02:00:00' AND "
        "TIMESTAMP '2015-09-12 03:00:00' LIMIT 5"
    )
    assert result.columns == ["user", "page"]
    assert result.rows == [
        ["Thiago89", "Campeonato Mundial de Voleibol Femenino Sub-20 de 2015"],
        ["91.34.200.249", "Friede von Schönbrunn"],
        ["TuHan-Bot", "Trĩ vàng"],
        ["Lowercase sigmabot III", "User talk:ErrantX"],
        ["BattyBot", "Hans W. Jung"],
    ]
    assert result.native[0]["queryType"] == "scan"


def test_explain_plan_for_top_pages_is_a_top_n(db: Database) -> None:
    # Druid's plan: {"queryType":"topN", "dimension": page as d0, "metric": a0, "threshold":10,
    # "intervals": ["2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.001Z"], "granularity": all,
    # "aggregations": [{"type":"count","name":"a0"}]}
    result = db.sql("EXPLAIN PLAN FOR " + TOP_PAGES)
    [plan] = result.native
    assert plan["queryType"] == "topN"
    assert plan["threshold"] == 10
    assert plan["aggregations"] == [{"type": "count", "name": "a0"}]
    intervals = plan["intervals"]
    if isinstance(intervals, dict):
        intervals = intervals["intervals"]
    assert intervals == ["2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.001Z"]
    dimension = plan["dimension"]
    assert (dimension["dimension"] if isinstance(dimension, dict) else dimension) == "page"
    # EXPLAIN returns the plan as rows too, and runs nothing.
    assert result.rows and "topN" in json.dumps(result.rows)


def test_the_same_answers_through_druid_schema_and_quoting(db: Database) -> None:
    quoted = db.sql(
        f'SELECT "page", COUNT(*) AS "Edits" FROM "druid"."wikipedia" WHERE {DAY} '
        'GROUP BY "page" ORDER BY "Edits" DESC LIMIT 10'
    )
    assert quoted.rows == db.sql(TOP_PAGES).rows
