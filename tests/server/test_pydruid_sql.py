"""pydruid's DB-API and SQLAlchemy dialect against a real ``grove serve``, as their users call them.

``pydruid.db.connect(host, port, path='/druid/v2/sql/', scheme='http')`` posts ``{"query", "context",
"header"}`` and reads the ``object`` result format as a stream; its cursor substitutes ``%(name)s``
parameters itself. The SQLAlchemy dialect (``druid://host:port/druid/v2/sql/``) reads tables and columns
from ``INFORMATION_SCHEMA`` and maps ``JDBC_TYPE`` to SQLAlchemy types; ``pandas.read_sql`` runs on it.
Answers are checked against DuckDB over Druid's tutorial file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import httpx
import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal
from pydruid.db import connect
from pydruid.db.api import Connection, Type
from pydruid.db.exceptions import ProgrammingError

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serving import DATA, ingest, serving, wait_queryable, wikipedia_spec  # noqa: E402

# pydruid 0.6.9's dialect predates SQLAlchemy 2's names for two hooks; SQLAlchemy warns and carries on.
pytestmark = [
    pytest.mark.filterwarnings("ignore:The dbapi\\(\\) classmethod:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Dialect druid.rest will not make use of SQL compilation caching"),
]

TOP_CHANNELS = "SELECT channel, COUNT(*) AS c FROM wikipedia GROUP BY channel ORDER BY c DESC LIMIT 5"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("pydruid-sql") / "home"
    with serving(home) as base, httpx.Client(base_url=base, timeout=60) as client:
        ingest(client, wikipedia_spec())
        wait_queryable(client)
        yield base


@pytest.fixture(scope="module")
def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


@pytest.fixture
def conn(address: tuple[str, int]) -> Iterator[Connection]:
    connection = connect(host=address[0], port=address[1], path="/druid/v2/sql/", scheme="http")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def engine(address: tuple[str, int]) -> Iterator[sa.Engine]:
    created = sa.create_engine(f"druid://{address[0]}:{address[1]}/druid/v2/sql/")
    yield created
    created.dispose()


@pytest.fixture(scope="module")
def oracle() -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB over Druid's tutorial file."""
    con = duckdb.connect()
    source = DATA / "wikiticker-2015-09-12-sampled.json.gz"
    con.execute(f"CREATE TABLE wikipedia AS SELECT channel, page, added FROM read_json_auto('{source}')")
    yield con
    con.close()


def expected_top_channels(oracle: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    rows = oracle.execute(
        "SELECT channel, COUNT(*) AS c FROM wikipedia GROUP BY channel ORDER BY c DESC, channel LIMIT 5"
    ).fetchall()
    return [(str(r[0]), int(r[1])) for r in rows]


# --- DB-API -----------------------------------------------------------------------------------------------


def test_cursor_execute_fetchall_description(conn: Connection, oracle: duckdb.DuckDBPyConnection) -> None:
    cursor = conn.cursor()
    cursor.execute(TOP_CHANNELS)
    rows = cursor.fetchall()
    assert [tuple(r) for r in rows] == expected_top_channels(oracle)
    assert rows[0].channel == "#en.wikipedia" and rows[0].c == 11549
    assert cursor.description == [
        ("channel", Type.STRING, None, None, None, None, True),
        ("c", Type.NUMBER, None, None, None, None, False),
    ]


def test_fetchone_fetchmany_iteration(conn: Connection, oracle: duckdb.DuckDBPyConnection) -> None:
    expected = expected_top_channels(oracle)
    cursor = conn.cursor()
    cursor.execute(TOP_CHANNELS)
    assert tuple(cursor.fetchone()) == expected[0]
    assert [tuple(r) for r in cursor.fetchmany(2)] == expected[1:3]
    assert [tuple(r) for r in cursor] == expected[3:]
    assert cursor.fetchone() is None
    cursor.execute(TOP_CHANNELS)
    assert cursor.rowcount == 5


def test_parameters_are_substituted_by_pydruid(conn: Connection, oracle: duckdb.DuckDBPyConnection) -> None:
    cursor = conn.cursor()
    cursor.execute(
        "SELECT COUNT(*) AS c, SUM(added) AS added FROM wikipedia WHERE channel = %(channel)s AND added > %(min)s",
        {"channel": "#en.wikipedia", "min": 100},
    )
    [row] = cursor.fetchall()
    count, added = oracle.execute(
        "SELECT COUNT(*), SUM(added) FROM wikipedia WHERE channel = '#en.wikipedia' AND added > 100"
    ).fetchone() or (None, None)
    assert (row.c, row.added) == (count, added)
    # A quote inside a value is escaped by pydruid and read back by grove.
    cursor.execute(
        "SELECT COUNT(*) AS c FROM wikipedia WHERE page = %(page)s",
        {"page": "Wikipedia:Administrators' noticeboard/Incidents"},
    )
    assert cursor.fetchall()[0].c == 21


def test_header_and_context(address: tuple[str, int]) -> None:
    connection = connect(
        host=address[0],
        port=address[1],
        path="/druid/v2/sql/",
        scheme="http",
        header=True,
        context={"useApproximateTopN": False, "sqlQueryId": "pydruid-1"},
    )
    cursor = connection.cursor()
    cursor.execute(TOP_CHANNELS)
    # With header=True pydruid takes the description from Druid's header object (names, no types).
    assert cursor.description == [("channel", None), ("c", None)]
    assert len(cursor.fetchall()) == 5
    connection.close()


def test_errors_are_programming_errors(conn: Connection) -> None:
    cursor = conn.cursor()
    with pytest.raises(ProgrammingError) as e:
        cursor.execute("SELECT nope FROM wikipedia")
    assert "nope" in str(e.value)
    cursor.execute("SELECT COUNT(*) AS c FROM wikipedia")
    assert cursor.fetchall()[0].c == 39244


def test_no_rows(conn: Connection) -> None:
    cursor = conn.cursor()
    cursor.execute("SELECT page FROM wikipedia WHERE channel = 'no such channel'")
    assert cursor.fetchall() == []


# --- SQLAlchemy ---------------------------------------------------------------------------------------------


def test_inspector_lists_tables(engine: sa.Engine) -> None:
    inspector = sa.inspect(engine)
    assert "wikipedia" in inspector.get_table_names()
    assert inspector.get_table_names(schema="druid") == ["wikipedia"]
    assert {"druid", "sys"} <= set(inspector.get_schema_names())
    # pydruid 0.6.9's has_table predates the keyword arguments SQLAlchemy 2's Inspector passes; its
    # query (COUNT(*) > 0 over INFORMATION_SCHEMA.TABLES) is run through the dialect directly.
    with engine.connect() as connection:
        assert engine.dialect.has_table(connection, "wikipedia")
        assert not engine.dialect.has_table(connection, "nowhere")


def test_inspector_lists_columns_with_types(engine: sa.Engine) -> None:
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("wikipedia")}
    assert next(iter(columns)) == "__time"
    assert set(columns) == {
        "__time", "channel", "cityName", "comment", "countryIsoCode", "countryName", "isAnonymous", "isMinor",
        "isNew", "isRobot", "isUnpatrolled", "metroCode", "namespace", "page", "regionIsoCode", "regionName",
        "user", "added", "deleted", "delta",
    }  # fmt: skip
    # pydruid maps INFORMATION_SCHEMA.COLUMNS.JDBC_TYPE (java.sql.Types) to SQLAlchemy types.
    assert isinstance(columns["__time"]["type"], sa.TIMESTAMP)
    assert isinstance(columns["channel"]["type"], sa.String)
    assert isinstance(columns["added"]["type"], sa.BigInteger)
    assert columns["channel"]["nullable"] is True


def test_pandas_read_sql(engine: sa.Engine, oracle: duckdb.DuckDBPyConnection) -> None:
    frame = pd.read_sql(TOP_CHANNELS, engine)
    expected = pd.DataFrame(expected_top_channels(oracle), columns=["channel", "c"])
    assert_frame_equal(frame.reset_index(drop=True), expected, check_dtype=False)


def test_sqlalchemy_core_select(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT COUNT(*) AS c FROM wikipedia WHERE channel = '#en.wikipedia'")
        )
        assert rows.fetchall() == [(11549,)]
