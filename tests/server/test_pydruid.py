"""The pydruid client against a real ``grove serve``, checked against DuckDB over the same file.

pydruid is the Python client Druid's docs list; it builds native queries from its own helpers
(aggregators, ``Dimension`` filters, ``Field``/``Const`` post-aggregator arithmetic, ``Aggregation``
havings) and posts them to ``{url}/{endpoint}``. Its results and their ``export_pandas()`` frames are
compared with what DuckDB computes from Druid's tutorial file, ingested here with Druid's tutorial spec.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from pydruid.client import PyDruid
from pydruid.utils.aggregators import count, doublesum, longmax, longsum
from pydruid.utils.filters import Dimension, Filter
from pydruid.utils.having import Aggregation
from pydruid.utils.postaggregator import Const, Field

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serving import DATA, ingest, serving, wikipedia_spec  # noqa: E402

INTERVAL = "2015-09-12/2015-09-13"
ISO = "%Y-%m-%dT%H:%M:%S.%gZ"  # DuckDB's strftime: %g is milliseconds


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("pydruid") / "home"
    with serving(home) as base, httpx.Client(base_url=base, timeout=60) as client:
        ingest(client, wikipedia_spec())
        yield base


@pytest.fixture(scope="module")
def druid(url: str) -> PyDruid:
    return PyDruid(url, "druid/v2")


@pytest.fixture(scope="module")
def oracle() -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB over Druid's tutorial file, with booleans as Druid ingests them ("true"/"false")."""
    con = duckdb.connect()
    source = DATA / "wikiticker-2015-09-12-sampled.json.gz"
    con.execute(
        f"""CREATE TABLE wikipedia AS SELECT
              epoch_ms(time::TIMESTAMP) AS t, channel, namespace, page, "user",
              CAST(isRobot AS VARCHAR) AS isRobot, added, deleted, delta
            FROM read_json_auto('{source}')"""
    )
    yield con
    con.close()


def frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    result: pd.DataFrame = con.execute(sql).df()
    return result


def same_frame(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns (in any order) and the same rows in the same order, numbers within 1e-9."""
    assert sorted(actual.columns) == sorted(expected.columns)
    actual = actual[list(expected.columns)].reset_index(drop=True)
    assert_frame_equal(actual, expected.reset_index(drop=True), check_dtype=False, rtol=1e-9)


def test_timeseries_with_filter_and_post_aggregations(
    druid: PyDruid, oracle: duckdb.DuckDBPyConnection
) -> None:
    result = druid.timeseries(
        datasource="wikipedia",
        granularity="hour",
        intervals=INTERVAL,
        filter=Dimension("channel") == "#en.wikipedia",
        aggregations={"edits": count("count"), "added": longsum("added"), "deleted": doublesum("deleted")},
        post_aggregations={
            "net": Field("added") - Field("deleted"),
            "added_per_edit": Field("added") / Field("edits"),
        },
    )
    expected = frame(
        oracle,
        f"""SELECT count(*) AS edits, sum(added)::BIGINT AS added, sum(deleted)::DOUBLE AS deleted,
                   (sum(added) - sum(deleted))::DOUBLE AS net, sum(added) / count(*) AS added_per_edit,
                   strftime(time_bucket(INTERVAL 1 HOUR, make_timestamp(t * 1000)), '{ISO}') AS timestamp
            FROM wikipedia WHERE channel = '#en.wikipedia' GROUP BY ALL ORDER BY timestamp""",
    )
    assert len(expected) == 24  # every hour has edits: no empty bucket to fill
    assert len(result.result) == 24
    first = result.result[0]
    assert first["timestamp"] == "2015-09-12T00:00:00.000Z"
    assert isinstance(first["result"]["edits"], int) and isinstance(first["result"]["added"], int)
    assert isinstance(first["result"]["deleted"], float)
    same_frame(result.export_pandas(), expected)


def test_topn_with_and_filter_and_arithmetic(druid: PyDruid, oracle: duckdb.DuckDBPyConnection) -> None:
    result = druid.topn(
        datasource="wikipedia",
        granularity="all",
        intervals=INTERVAL,
        dimension="page",
        metric="edits",
        threshold=7,
        filter=(Dimension("namespace") == "Main") & (Dimension("isRobot") == "false"),
        aggregations={"edits": count("count"), "added": longsum("added"), "biggest": longmax("added")},
        post_aggregations={"pct_of_biggest": (Field("added") / Field("biggest")) * Const(100)},
    )
    expected = frame(
        oracle,
        """SELECT page, count(*) AS edits, sum(added)::BIGINT AS added, max(added) AS biggest,
                  CASE WHEN max(added) = 0 THEN 0 ELSE sum(added) / max(added) * 100 END AS pct_of_biggest
           FROM wikipedia WHERE namespace = 'Main' AND isRobot = 'false'
           GROUP BY page ORDER BY edits DESC, page""",
    )
    [bucket] = result.result
    assert bucket["timestamp"] == "2015-09-12T00:46:58.771Z"
    got = result.export_pandas()
    assert len(got) == 7
    assert set(got["timestamp"]) == {"2015-09-12T00:46:58.771Z"}
    # topN orders by the metric only; pages tied at the cut may come in any order, so compare each
    # returned page with its own exact figures, and the metric column with the true top 7.
    assert list(got["edits"]) == list(expected["edits"][:7])
    by_page = expected.set_index("page")
    same_frame(
        got.drop(columns="timestamp"),
        by_page.loc[list(got["page"])].reset_index()[["page", "edits", "added", "biggest", "pct_of_biggest"]],
    )


def test_groupby_with_or_filter_having_and_limit(druid: PyDruid, oracle: duckdb.DuckDBPyConnection) -> None:
    channels = ("#en.wikipedia", "#de.wikipedia", "#fr.wikipedia", "#vi.wikipedia")
    either: Filter = Dimension("channel") == channels[0]
    for channel in channels[1:]:
        either = either | (Dimension("channel") == channel)
    result = druid.groupby(
        datasource="wikipedia",
        granularity="all",
        intervals=INTERVAL,
        dimensions=["channel", "isRobot"],
        filter=either,
        aggregations={"edits": count("count"), "added": longsum("added"), "delta": doublesum("delta")},
        post_aggregations={"avg_delta": Field("delta") / Field("edits")},
        having=Aggregation("edits") > 300,
        limit_spec={
            "type": "default",
            "limit": 6,
            "columns": [{"dimension": "edits", "direction": "descending", "dimensionOrder": "numeric"}],
        },
    )
    in_list = ", ".join(f"'{c}'" for c in channels)
    expected = frame(
        oracle,
        f"""SELECT channel, isRobot, count(*) AS edits, sum(added)::BIGINT AS added,
                   sum(delta)::DOUBLE AS delta, sum(delta) / count(*) AS avg_delta
            FROM wikipedia WHERE channel IN ({in_list})
            GROUP BY ALL HAVING count(*) > 300 ORDER BY edits DESC LIMIT 6""",
    )
    assert expected["edits"].is_unique  # no ties: the order is fully determined
    assert all(row["version"] == "v1" for row in result.result)
    got = result.export_pandas()
    assert set(got["timestamp"]) == {"2015-09-12T00:00:00.000Z"}
    same_frame(got.drop(columns="timestamp"), expected)


def test_groupby_by_hour_matches_duckdb_row_for_row(
    druid: PyDruid, oracle: duckdb.DuckDBPyConnection
) -> None:
    result = druid.groupby(
        datasource="wikipedia",
        granularity="hour",
        intervals="2015-09-12T06:00:00Z/2015-09-12T09:00:00Z",
        dimensions=["namespace"],
        filter=~(Dimension("isRobot") == "true"),
        aggregations={"edits": count("count"), "deleted": longsum("deleted")},
    )
    expected = frame(
        oracle,
        f"""SELECT namespace, count(*) AS edits, sum(deleted)::BIGINT AS deleted,
                   strftime(time_bucket(INTERVAL 1 HOUR, make_timestamp(t * 1000)), '{ISO}') AS timestamp
            FROM wikipedia
            WHERE isRobot <> 'true'
              AND t >= epoch_ms(TIMESTAMP '2015-09-12 06:00:00') AND t < epoch_ms(TIMESTAMP '2015-09-12 09:00:00')
            GROUP BY ALL ORDER BY timestamp, namespace""",
    )
    assert len(expected) > 20
    same_frame(result.export_pandas(), expected)


def test_time_boundary_and_scan(druid: PyDruid) -> None:
    boundary = druid.time_boundary(datasource="wikipedia")
    assert boundary.result == [
        {
            "timestamp": "2015-09-12T00:46:58.771Z",
            "result": {"minTime": "2015-09-12T00:46:58.771Z", "maxTime": "2015-09-12T23:59:59.200Z"},
        }
    ]
    rows = druid.scan(
        datasource="wikipedia",
        granularity="all",
        intervals="2015-09-12T02:00:00Z/2015-09-12T03:00:00Z",
        columns=["__time", "user", "page"],
        filter=Dimension("user") == "Thiago89",
        limit=3,
    )
    got = rows.export_pandas()
    assert list(got.columns) == ["__time", "user", "page"]
    assert set(got["user"]) == {"Thiago89"} and 1 <= len(got) <= 3


def test_errors_raise_pydruids_error_with_groves_message(druid: PyDruid) -> None:
    with pytest.raises(OSError) as bad_aggregator:
        druid.timeseries(
            datasource="wikipedia",
            granularity="all",
            intervals=INTERVAL,
            aggregations={"added": {"type": "longSumm", "fieldName": "added"}},
        )
    text = str(bad_aggregator.value)
    assert "HTTP Error 400" in text
    assert "Unknown aggregator type [longSumm]" in text and "aggregations[0]" in text

    with pytest.raises(OSError) as unknown:
        druid.topn(
            datasource="no_such_datasource",
            granularity="all",
            intervals=INTERVAL,
            dimension="page",
            metric="edits",
            threshold=3,
            aggregations={"edits": count("count")},
        )
    assert "HTTP Error 404" in str(unknown.value)
    assert "Unknown datasource [no_such_datasource]" in str(unknown.value)

    # The server keeps answering the same client.
    assert len(druid.time_boundary(datasource="wikipedia").result) == 1


def test_an_empty_interval_answers_one_row_of_empty_aggregates(druid: PyDruid) -> None:
    # Like Druid, timeseries with granularity "all" answers one row even when no row matches.
    result = druid.timeseries(
        datasource="wikipedia",
        granularity="all",
        intervals="2016-01-01/2016-01-02",
        aggregations={"edits": count("count"), "added": longsum("added")},
    )
    assert result.result == [{"timestamp": "2016-01-01T00:00:00.000Z", "result": {"edits": 0, "added": None}}]
    got = result.export_pandas()
    assert list(got["edits"]) == [0] and got["added"].isna().all()
