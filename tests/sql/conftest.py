"""Shared setup of the SQL tests: one engine over the ads rows (persisted segments) and DuckDB.

Helpers live in ``sqldata.py`` beside this file; the suite runs with ``--import-mode=importlib``, so
this folder is put on ``sys.path`` here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from sqldata import duck, make_engine  # noqa: E402

from grove.sql.engine import SqlEngine  # noqa: E402
from grove.sql.result import SqlResult  # noqa: E402


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlEngine]:
    sql_engine, runner = make_engine(tmp_path_factory.mktemp("sql-ads"))
    yield sql_engine
    runner.close()


@pytest.fixture(scope="session")
def oracle() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duck()
    yield con
    con.close()


@pytest.fixture
def sql(engine: SqlEngine) -> Callable[..., SqlResult]:
    def run(statement: str, **kwargs: Any) -> SqlResult:
        return engine.execute(statement, **kwargs)

    return run


@pytest.fixture
def native(engine: SqlEngine) -> Callable[..., dict[str, Any]]:
    """The one native query a statement plans to (context left out), without running it."""

    def plan(statement: str, **kwargs: Any) -> dict[str, Any]:
        node, _, _, _ = engine.plan(statement, **kwargs)
        queries = [p.query for p in node.natives()]
        assert len(queries) == 1, queries
        return {k: v for k, v in queries[0].items() if k != "context"}

    return plan
