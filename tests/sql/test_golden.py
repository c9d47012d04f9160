"""The Druid SQL golden files of ``tests/golden/sql``: each file's statement still answers its rows and
plans to its native queries, and DuckDB, running the same statement on the same rows, agrees.

The files are written by ``tests/golden/sql/regen.py`` (``make golden``) from the cases of
``tests/golden/sql/cases.py``; after a deliberate change, regenerate them and review the diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqldata import assert_rows_agree

from grove.sql.engine import SqlEngine

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "sql"
if str(GOLDEN) not in sys.path:
    sys.path.insert(0, str(GOLDEN))

from cases import CASES, Case  # noqa: E402
from regen import duckdb_rows, path_of, record  # noqa: E402

FILES = sorted(GOLDEN.glob("*.json"))
REGENERATE = "run `make golden` (.venv/bin/python tests/golden/sql/regen.py) and review the diff"


def case_of(golden: dict[str, Any], name: str) -> Case:
    """The case a golden file was written for, read back from the file."""
    return Case(
        name=name,
        sql=golden["sql"],
        about=golden["about"],
        duckdb=golden["duckdb"],
        ordered=golden["ordered"],
        context=golden.get("context"),
        parameters=golden.get("parameters"),
        error="error" in golden,
    )


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden_file(engine: SqlEngine, oracle: duckdb.DuckDBPyConnection, path: Path) -> None:
    golden = json.loads(path.read_text())
    case = case_of(golden, path.stem)
    got = record(engine, case)
    for key in ("error", "columns", "native"):
        assert got.get(key) == golden.get(key), f"{key} changed: {REGENERATE}"
    if case.error:
        return
    assert_rows_agree(got["rows"], golden["rows"], ordered=case.ordered, rel_tol=1e-12, strict=True)
    if case.duckdb is not False:
        assert_rows_agree(golden["rows"], duckdb_rows(oracle, case), ordered=case.ordered)


def test_every_case_has_its_golden_file() -> None:
    assert len(FILES) >= 150
    assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"
    assert {p.stem for p in FILES} == {c.name for c in CASES}, REGENERATE
    for case in CASES:
        written = case_of(json.loads(path_of(case).read_text()), case.name)
        assert written == case, f"{case.name}: {REGENERATE}"
