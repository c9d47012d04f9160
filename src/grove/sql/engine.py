"""Running a SQL statement: :class:`SqlEngine`.

``execute`` prepares the text (:mod:`grove.sql.text`: EXPLAIN, parameters, literal IN lists), parses
it with sqlglot (the parse of a prepared text is cached, so a statement repeated with other
parameters or another IN list is parsed once), plans it (:mod:`grove.sql.planner`), and either runs
the plan or, for ``EXPLAIN PLAN FOR``, returns Druid's PLAN/RESOURCES/ATTRIBUTES row.

Context parameters read here (``docs/querying/sql-query-context.md``): ``sqlQueryId``,
``sqlTimeZone``, ``sqlCurrentTimestamp``, ``useApproximateCountDistinct``, ``useApproximateTopN``,
``enableTimeBoundaryPlanning`` (default true in grove), ``sqlStringifyArrays``. The whole context is
passed on to the native queries, with ``sqlQueryId`` and ``queryId`` set to the statement's id, so
cancelling the statement's id cancels its running native query.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from grove.common.time import now_ms, parse_timestamp, zone
from grove.errors import InvalidInput
from grove.query.runner import QueryRunner
from grove.sql import operand as T
from grove.sql.catalog import Catalog
from grove.sql.context import PlannerContext
from grove.sql.errors import SqlError, SqlParseError, SqlUnsupported
from grove.sql.planner import Node, Planner, explain_rows
from grove.sql.result import SqlResult
from grove.sql.text import prepare
from grove.sql.values import json_rows, no_collection

EXPLAIN_COLUMNS = ("PLAN", "RESOURCES", "ATTRIBUTES")


@lru_cache(maxsize=512)
def _parse(text: str) -> exp.Expression:
    try:
        statements = sqlglot.parse(text, read="druid")
    except ParseError as e:
        raise SqlParseError(_parse_message(e)) from None
    except TokenError as e:
        raise SqlParseError(f"Invalid SQL: {e}") from None
    found = [s for s in statements if s is not None]
    if len(found) != 1:
        raise SqlParseError("Expected exactly one SQL statement")
    statement = found[0]
    if not isinstance(statement, exp.Expression):
        raise SqlParseError("Expected a SQL statement")
    if isinstance(statement, exp.Command):
        raise SqlUnsupported(f"Unsupported statement [{statement.name}]; grove runs SELECT statements")
    for select in statement.find_all(exp.Select):
        # sqlglot accepts a bare ``SELECT`` (and ``SELECT FROM t``); Calcite, and so Druid, does not.
        if not select.expressions:
            raise SqlParseError("Incorrect syntax near [SELECT]: expected at least one expression to select")
    return statement


def _parse_message(e: ParseError) -> str:
    if e.errors:
        first = e.errors[0]
        token = first.get("highlight") or ""
        return f"Incorrect syntax near [{token}] (line [{first.get('line')}], column [{first.get('col')}]): {first.get('description')}"
    return f"Invalid SQL: {e}"


class SqlEngine:
    """Plans Druid SQL into native queries and runs them. Thread-safe: holds no per-statement state."""

    def __init__(self, runner: QueryRunner, catalog: Catalog) -> None:
        self.runner = runner
        self.catalog = catalog

    def plan(
        self,
        sql: str,
        *,
        parameters: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> tuple[Node, PlannerContext, bool, str]:
        """The plan of a statement without running it: (plan, context, is EXPLAIN, query id)."""
        context = dict(context or {})
        query_id = str(context.get("sqlQueryId") or uuid.uuid4())
        prepared = prepare(sql, parameters)
        tree = _parse(prepared.text)  # shared with other statements: planning only reads it
        tz = str(context.get("sqlTimeZone") or "UTC")
        try:
            zone(tz)
            current = context.get("sqlCurrentTimestamp")
            now = parse_timestamp(str(current)) if current is not None else now_ms()
        except InvalidInput as e:
            raise SqlError(e.message) from None
        native_context = {**context, "sqlQueryId": query_id, "queryId": query_id}
        ctx = PlannerContext(context, prepared.in_lists, now, tz, native_context)
        node = Planner(self.catalog, ctx).plan(tree)
        return node, ctx, prepared.explain, query_id

    def execute(
        self,
        sql: str,
        *,
        parameters: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> SqlResult:
        """Run one statement. Raises SqlError (400) naming what cannot be parsed or planned, and the
        native engine's errors (timeouts, cancellation, resource limits) as they are."""
        node, ctx, explain, query_id = self.plan(sql, parameters=parameters, context=context)
        natives = [p.query for p in node.natives()]
        if explain:
            n = len(EXPLAIN_COLUMNS)
            return SqlResult(
                list(EXPLAIN_COLUMNS), [T.VARCHAR] * n, ["STRING"] * n, explain_rows(node), query_id, natives
            )
        relation = node.run(self.runner)
        with no_collection():
            rows = json_rows(relation, ctx.tz, ctx.flag("sqlStringifyArrays", True))
        columns = node.columns
        return SqlResult(
            [c.name for c in columns],
            [_sql_type(c.sql_type) for c in columns],
            [T.native_type(c.sql_type) if c.sql_type != T.OTHER else c.druid_type for c in columns],
            rows,
            query_id,
            natives,
        )


def _sql_type(sql_type: str) -> str:
    return T.VARCHAR if sql_type == T.NULL else sql_type
