"""``grove query FILE.json``: run a Druid native query against the embedded database.

The query comes from a file, or from standard input with ``-``. The default output is Druid's result
JSON; ``--output table`` prints it as a table for people (timeseries: timestamp and result columns;
topN: one row per ranked value; groupBy: the event columns; scan: the events), and as JSON for the
other types. A query that cannot be read or run raises a :class:`~grove.errors.GroveError`, which
the ``grove`` command prints as one ``grove: error:`` line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from rich.markup import escape
from rich.table import Table

from grove.cli.output import console, print_json
from grove.cluster.embedded import Database
from grove.errors import InvalidInput, InvalidQuery

OpenDatabase = Callable[[argparse.Namespace], Database]


def add_query_command(sub: Any, open_database: OpenDatabase) -> None:
    """Register ``grove query`` on the ``grove`` sub-command parsers; ``open_database`` opens the db
    from the global options."""
    text = "run a Druid native query (JSON file, or - for standard input) and print the result"
    p = sub.add_parser("query", help=text, description=text)
    p.add_argument("file", help="the query file (JSON), or - for standard input")
    p.add_argument(
        "--output", choices=("json", "table"), default="json", help="Druid's result JSON (default) or a table"
    )

    def handler(args: argparse.Namespace) -> int:
        return run_query_command(args, open_database)

    p.set_defaults(handler=handler)


def run_query_command(args: argparse.Namespace, open_database: OpenDatabase) -> int:
    """Read the query, run it, print the result; raises GroveError (bad file, JSON or query)."""
    query = read_query(args.file)
    with open_database(args) as db:
        result = db.query(query)
    if args.output == "table":
        print_table(str(query.get("queryType")), result)
    else:
        print_json(result)
    return 0


def read_query(path: str) -> dict[str, Any]:
    """The query object in ``path`` (``-`` for standard input); InvalidQuery when it is not JSON."""
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as e:
        raise InvalidInput(f"Cannot read query file [{path}]: {e.strerror}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise InvalidQuery(f"Malformed JSON in query file [{path}]: {e}") from None
    if not isinstance(data, dict):
        raise InvalidQuery(f"The query in [{path}] must be a JSON object")
    return data


# --- tables ---------------------------------------------------------------------------------------------


def print_table(query_type: str, result: list[Any]) -> None:
    """Print a result as a rich table (JSON for types without a tabular form)."""
    rows = _table_rows(query_type, result)
    if rows is None:
        print_json(result)
        return
    columns = list(dict.fromkeys(name for row in rows for name in row))
    table = Table(title=escape(f"{query_type}: {len(rows)} row(s)"))
    for name in columns:
        table.add_column(escape(name), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(name)) for name in columns))
    console.print(table)


def _table_rows(query_type: str, result: Sequence[Any]) -> list[dict[str, Any]] | None:
    if not all(isinstance(item, Mapping) for item in result):
        return None
    if query_type == "timeseries":
        return [{"timestamp": r.get("timestamp"), **(r.get("result") or {})} for r in result]
    if query_type == "topN":
        return [{"timestamp": r.get("timestamp"), **row} for r in result for row in r.get("result") or []]
    if query_type == "groupBy":
        return [{"timestamp": r.get("timestamp"), **(r.get("event") or {})} for r in result]
    if query_type == "scan":
        rows: list[dict[str, Any]] = []
        for batch in result:
            names = batch.get("columns") or []
            for event in batch.get("events") or []:
                rows.append(
                    dict(event) if isinstance(event, Mapping) else dict(zip(names, event, strict=False))
                )
        return rows
    return None


def _cell(value: Any) -> str:
    """A value as table text; brackets are escaped so that rich does not read them as markup."""
    if value is None:
        return ""
    return escape(value if isinstance(value, str) else orjson.dumps(value).decode())
