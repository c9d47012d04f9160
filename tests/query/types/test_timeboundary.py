"""timeBoundary on every segment flavour and on Druid's tutorial data, checked against DuckDB.

Druid facts (docs/querying/timeboundaryquery.md, TimeBoundaryQuery.mergeResults): the result is
``[{"timestamp", "result": {"minTime", "maxTime"}}]``; ``bound`` ``minTime``/``maxTime`` (any case)
keeps one side and stamps the result with it, anything else returns both stamped with ``minTime``;
no rows give ``[]``; the tutorial's wikiticker data spans 2015-09-12T00:46:58.771Z to
2015-09-12T23:59:59.200Z.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from adsdata import INTERVAL, ROWS, TYPES
from flavours import table_of

import grove
from grove.common.intervals import Interval
from grove.common.time import format_timestamp
from grove.query.registry import toolchest_for
from grove.query.types.timeboundary import TimeBoundaryQuery

Run = Callable[[dict[str, Any]], list[Any]]
ROOT = Path(__file__).resolve().parents[3]
WIKI = ROOT / "tests" / "data" / "wikiticker-2015-09-12-sampled.json.gz"


def boundary(**fields: Any) -> dict[str, Any]:
    return {"queryType": "timeBoundary", "dataSource": "ads", **fields}


@pytest.fixture(scope="module")
def oracle() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.register("ads", table_of(ROWS, TYPES))
    yield con
    con.close()


def bounds(con: duckdb.DuckDBPyConnection, where: str = "TRUE", table: str = "ads") -> dict[str, str] | None:
    low, high = con.execute(f"SELECT min(__time), max(__time) FROM {table} WHERE {where}").fetchone() or (
        None,
        None,
    )
    if low is None:
        return None
    return {"minTime": format_timestamp(int(low)), "maxTime": format_timestamp(int(high))}


def test_whole_datasource(run: Run, oracle: duckdb.DuckDBPyConnection) -> None:
    want = bounds(oracle)
    assert want is not None
    assert run(boundary()) == [{"timestamp": want["minTime"], "result": want}]
    assert run(boundary(intervals=[INTERVAL])) == run(boundary())


@pytest.mark.parametrize(
    ("bound", "keys"),
    [
        ("maxTime", ["maxTime"]),
        ("MAXTIME", ["maxTime"]),
        ("minTime", ["minTime"]),
        ("both", ["minTime", "maxTime"]),
    ],
)
def test_bound(run: Run, oracle: duckdb.DuckDBPyConnection, bound: str, keys: list[str]) -> None:
    want = bounds(oracle)
    assert want is not None
    [row] = run(boundary(bound=bound))
    assert row["result"] == {k: want[k] for k in keys}
    assert row["timestamp"] == row["result"][keys[0]]


@pytest.mark.parametrize(
    ("flt", "where"),
    [
        ({"type": "selector", "dimension": "country", "value": "FR"}, "country = 'FR'"),
        ({"type": "selector", "dimension": "tags", "value": "c"}, "list_contains(tags, 'c')"),
        ({"type": "bound", "dimension": "age", "lower": "60", "ordering": "numeric"}, "age >= 60"),
        ({"type": "selector", "dimension": "country", "value": "nowhere"}, "FALSE"),
    ],
)
def test_filter_reads_the_selected_rows(
    run: Run, oracle: duckdb.DuckDBPyConnection, flt: Any, where: str
) -> None:
    want = bounds(oracle, where)
    got = run(boundary(filter=flt))
    assert got == ([] if want is None else [{"timestamp": want["minTime"], "result": want}])


@pytest.mark.parametrize(
    "intervals",
    [
        ["2020-01-02T05:00:00Z/2020-01-02T20:00:00Z"],
        ["2020-01-01T03:00:00Z/2020-01-01T04:00:00Z", "2020-01-03T22:00:00Z/2020-01-04T00:00:00Z"],
        ["2020-01-02T11:00:00Z/2020-01-02T13:00:00Z"],  # the gap without rows
        ["2019-01-01/2019-02-01"],
    ],
)
def test_intervals_clip_the_rows(run: Run, oracle: duckdb.DuckDBPyConnection, intervals: list[str]) -> None:
    spans = [Interval.parse(iv) for iv in intervals]
    want = bounds(oracle, " OR ".join(f"(__time >= {iv.start} AND __time < {iv.end})" for iv in spans))
    for flt in (None, {"type": "not", "field": {"type": "selector", "dimension": "device", "value": "none"}}):
        got = run(boundary(intervals=intervals, **({"filter": flt} if flt else {})))
        assert got == ([] if want is None else [{"timestamp": want["minTime"], "result": want}])


def test_needs_rows_only_with_a_filter() -> None:
    chest = toolchest_for("timeBoundary")
    plain = TimeBoundaryQuery.model_validate({"queryType": "timeBoundary", "dataSource": "x"})
    filtered = TimeBoundaryQuery.model_validate(
        {
            "queryType": "timeBoundary",
            "dataSource": "x",
            "filter": {"type": "selector", "dimension": "a", "value": "b"},
        }
    )
    assert not chest.needs_rows(plain) and chest.needs_rows(filtered)


# --- Druid's tutorial data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wikipedia(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    spec = json.loads((ROOT / "examples" / "wikipedia-index.json").read_text())
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = str(WIKI.parent)
    db = grove.open(str(tmp_path_factory.mktemp("wiki")))
    db.ingest(spec)
    yield db
    db.close()


def test_wikipedia_tutorial_answer(wikipedia: Any) -> None:
    result = wikipedia.query({"queryType": "timeBoundary", "dataSource": "wikipedia"})
    assert result == [
        {
            "timestamp": "2015-09-12T00:46:58.771Z",
            "result": {"minTime": "2015-09-12T00:46:58.771Z", "maxTime": "2015-09-12T23:59:59.200Z"},
        }
    ]


@pytest.mark.parametrize("country", ["France", "United States", "Japan"])
def test_wikipedia_filtered_matches_duckdb(wikipedia: Any, country: str) -> None:
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW wiki AS SELECT epoch_ms(CAST(time AS TIMESTAMP)) AS __time, countryName "
        f"FROM read_json_auto('{WIKI}')"
    )
    want = bounds(con, f"countryName = '{country}'", table="wiki")
    con.close()
    flt = {"type": "selector", "dimension": "countryName", "value": country}
    got = wikipedia.query({"queryType": "timeBoundary", "dataSource": "wikipedia", "filter": flt})
    assert want is not None and got == [{"timestamp": want["minTime"], "result": want}]
