"""Regenerate the Druid SQL golden files from what grove answers now.

    .venv/bin/python tests/golden/sql/regen.py           # (re)write every case's file, delete stale ones
    .venv/bin/python tests/golden/sql/regen.py --check   # report differences, write nothing
    make golden                                          # the same as the first

Each case of ``cases.py`` is run on the ads rows of ``tests/query/adsdata.py`` (the SQL tests' engine)
and written to ``<name>.json`` beside this file: the statement, its columns, rows and native queries.
Files of cases no longer listed are deleted. Cases DuckDB can run are also run there, and a
disagreement is reported (exit status 1) so that a wrong answer is not recorded unnoticed.
``tests/sql/test_golden.py`` checks the files against grove and DuckDB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_SQL_TESTS = str(HERE.parents[1] / "sql")
for _path in (str(HERE), _SQL_TESTS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import duckdb  # noqa: E402
from cases import CASES, Case  # noqa: E402
from sqldata import assert_rows_agree, duck, make_engine  # noqa: E402

from grove.errors import InvalidInput  # noqa: E402
from grove.sql.engine import SqlEngine  # noqa: E402

WIDTH = 100
KEYS = ("about", "sql", "context", "parameters", "duckdb", "ordered", "columns", "rows", "native", "error")


def record(engine: SqlEngine, case: Case) -> dict[str, Any]:
    """The golden record of ``case``: the case itself, then grove's columns, rows and native queries
    (without their ``context``), or the message of the error an ``error`` case is refused with."""
    out: dict[str, Any] = {"about": case.about, "sql": case.sql}
    if case.context is not None:
        out["context"] = case.context
    if case.parameters is not None:
        out["parameters"] = case.parameters
    out["duckdb"] = case.duckdb
    out["ordered"] = case.ordered
    try:
        result = engine.execute(case.sql, context=case.context, parameters=case.parameters)
    except InvalidInput as e:  # a statement refused (SqlError) or a query failing (division by zero)
        if not case.error:
            raise
        out["error"] = e.message
        return out
    if case.error:
        raise AssertionError(f"Case [{case.name}] was expected to fail but answered")
    out["columns"] = [{"name": n, "type": t} for n, t in zip(result.columns, result.sql_types, strict=True)]
    out["rows"] = result.rows
    out["native"] = [{k: v for k, v in q.items() if k != "context"} for q in result.native]
    return json.loads(render(out))  # as read back from the file: lists, not tuples


def duckdb_rows(con: duckdb.DuckDBPyConnection, case: Case) -> list[list[Any]]:
    """DuckDB's answer to ``case`` (its ``duckdb`` spelling, or the statement itself)."""
    statement = case.duckdb if isinstance(case.duckdb, str) else case.sql
    values = [p["value"] for p in case.parameters or []]
    return [list(r) for r in con.execute(statement, values).fetchall()]


def render(golden: dict[str, Any]) -> str:
    """A golden record as JSON text: keys in a fixed order, one column or row a line, other values
    broken over lines only where they do not fit, so that a regenerated file's diff shows what changed."""
    items = []
    for key in KEYS:
        if key not in golden:
            continue
        value = golden[key]
        if key in ("columns", "rows") and value:
            text = "[\n" + ",\n".join(f"    {_compact(v)}" for v in value) + "\n  ]"
        else:
            text = _pretty(value, 2)
        items.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(items) + "\n}\n"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _pretty(value: Any, indent: int) -> str:
    """``value`` on one line if it fits in :data:`WIDTH` columns from ``indent``, else one member a line."""
    text = _compact(value)
    if indent + len(text) <= WIDTH or not isinstance(value, dict | list) or not value:
        return text
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        members = [f"{pad}{_compact(k)}: {_pretty(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + " " * indent + "}"
    members = [f"{pad}{_pretty(v, indent + 2)}" for v in value]
    return "[\n" + ",\n".join(members) + "\n" + " " * indent + "]"


def path_of(case: Case) -> Path:
    return HERE / f"{case.name}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="report differences without writing")
    args = parser.parse_args(argv)
    names = [c.name for c in CASES]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        print(f"Duplicate case names: {sorted(duplicates)}", file=sys.stderr)
        return 1
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        engine, runner = make_engine(Path(tmp))
        con = duck()
        try:
            for case in CASES:
                try:
                    golden = record(engine, case)
                except Exception as e:  # report every failing case, not only the first
                    problems.append(f"{case.name}: {type(e).__name__}: {e}")
                    continue
                problems += _disagreement(con, case, golden)
                path = path_of(case)
                old = json.loads(path.read_text()) if path.exists() else None
                if old == golden:
                    continue
                if args.check:
                    problems.append(f"{path.name}: {'differs' if old is not None else 'missing'}")
                else:
                    path.write_text(render(golden))
                    print(f"wrote {path.name}")
        finally:
            con.close()
            runner.close()
    for stale in sorted(set(HERE.glob("*.json")) - {path_of(c) for c in CASES}):
        if args.check:
            problems.append(f"{stale.name}: no case")
        else:
            stale.unlink()
            print(f"deleted {stale.name}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(CASES)} cases, {len(problems)} problems")
    return 1 if problems else 0


def _disagreement(con: duckdb.DuckDBPyConnection, case: Case, golden: dict[str, Any]) -> list[str]:
    if case.duckdb is False or "error" in golden:
        return []
    try:
        assert_rows_agree(golden["rows"], duckdb_rows(con, case), ordered=case.ordered)
    except (AssertionError, duckdb.Error) as e:
        return [f"{case.name}: DuckDB disagrees: {str(e)[:300]}"]
    return []


if __name__ == "__main__":
    sys.exit(main())
