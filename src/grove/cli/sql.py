"""``grove sql "SELECT ..."``: run a Druid SQL statement against the embedded database.

The statement is the argument, or standard input with ``-``. ``--output table`` (the default) prints a
table for people; ``json`` prints Druid's ``object`` result format (what ``POST /druid/v2/sql/``
answers) and ``csv`` Druid's ``csv`` format with a header row, both for programs. ``--context KEY=VALUE``
(repeatable) sets a SQL query context parameter; the value is read as JSON when it parses
(``useApproximateTopN=false``, ``timeout=5000``) and as text otherwise (``sqlTimeZone=Europe/Paris``).
A statement that cannot be read, parsed, planned or run raises a :class:`~grove.errors.GroveError`,
which the ``grove`` command prints as one ``grove: error:`` line (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import orjson
from rich.markup import escape
from rich.table import Table

from grove.cli.output import console
from grove.cluster.embedded import Database
from grove.errors import InvalidInput
from grove.sql.formats import CSV, OBJECT, ResultFormat, render_bytes
from grove.sql.result import SqlResult

OpenDatabase = Callable[[argparse.Namespace], Database]

OUTPUTS = ("table", "json", "csv")


def add_sql_command(sub: Any, open_database: OpenDatabase) -> None:
    """Register ``grove sql`` on the ``grove`` sub-command parsers; ``open_database`` opens the db
    from the global options."""
    text = "run a Druid SQL statement (or - for standard input) and print the rows"
    p = sub.add_parser("sql", help=text, description=text)
    p.add_argument("statement", help='the SQL statement, e.g. "SELECT COUNT(*) FROM ads", or - for stdin')
    p.add_argument(
        "--output",
        choices=OUTPUTS,
        default="table",
        help="a table (default), Druid's JSON result (resultFormat object) or CSV with a header row",
    )
    p.add_argument(
        "--context",
        action="append",
        type=context_entry,
        default=[],
        metavar="KEY=VALUE",
        help="a SQL query context parameter (repeatable); VALUE is JSON when it parses, else text",
    )

    def handler(args: argparse.Namespace) -> int:
        return run_sql_command(args, open_database)

    p.set_defaults(handler=handler)


def context_entry(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` as ``(key, value)``, the value decoded as JSON when it is JSON."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got [{text}]")
    try:
        value: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw
    return key.strip(), value


def run_sql_command(args: argparse.Namespace, open_database: OpenDatabase) -> int:
    """Read the statement, run it, print the rows; raises GroveError (unreadable, bad or failing SQL)."""
    statement = read_statement(args.statement)
    context = dict(args.context)
    with open_database(args) as db:
        result = db.sql(statement, context=context or None)
    if args.output == "json":
        sys.stdout.write(render_bytes(result, ResultFormat(OBJECT)).decode())
    elif args.output == "csv":
        sys.stdout.write(render_bytes(result, ResultFormat(CSV, header=True)).decode())
    else:
        print_table(result)
    return 0


def read_statement(text: str) -> str:
    """The statement itself, or standard input for ``-``; InvalidInput when it is empty."""
    statement = sys.stdin.read() if text == "-" else text
    if not statement.strip():
        raise InvalidInput("The SQL statement is empty")
    return statement


def print_table(result: SqlResult) -> None:
    """The rows as a rich table titled with the row count; nulls are blank."""
    table = Table(title=f"{len(result.rows)} row(s)")
    for name in result.columns:
        table.add_column(escape(name), overflow="fold")
    for row in result.rows:
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def _cell(value: Any) -> str:
    """A value as table text; brackets are escaped so that rich does not read them as markup."""
    if value is None:
        return ""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return escape(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode())
