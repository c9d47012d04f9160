"""Running a SQL statement: :class:`SqlEngine`.

``execute`` prepares the text (:mod:`grove.sql.text`: EXPLAIN, parameters, literal IN lists), parses
it with sqlglot (the parse of a prepared text is cached, so a statement repeated with other
parameters or another IN list is parsed once), plans it (:mod:`grove.sql.planner`), and either runs
the plan or, for ``EXPLAIN PLAN FOR``, returns Druid's PLAN/RESOURCES/ATTRIBUTES row. The plans of
recent statements are kept (:class:`PlanCache`): a dashboard sending the same statement again skips
parsing and planning, never running its native queries.

Context parameters read here (``docs/querying/sql-query-context.md``): ``sqlQueryId``,
``sqlTimeZone``, ``sqlCurrentTimestamp``, ``useApproximateCountDistinct``, ``useApproximateTopN``,
``enableTimeBoundaryPlanning`` (default true in grove), ``sqlStringifyArrays``. The whole context is
passed on to the native queries, with ``sqlQueryId`` and ``queryId`` set to the statement's id, so
cancelling the statement's id cancels its running native query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import orjson
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from grove.common.ids import random_uuid
from grove.common.time import now_ms, parse_timestamp, zone
from grove.errors import InvalidInput
from grove.query.lookups import LookupMap, using_lookups
from grove.query.runner import QueryRunner
from grove.sql import operand as T
from grove.sql.catalog import Catalog, Table
from grove.sql.context import PlannerContext
from grove.sql.dialect import Calcite
from grove.sql.errors import SqlError, SqlParseError, SqlUnsupported
from grove.sql.planner import NativeNode, Node, Planner, explain_rows
from grove.sql.result import SqlResult
from grove.sql.text import prepare
from grove.sql.values import json_rows, no_collection

EXPLAIN_COLUMNS = ("PLAN", "RESOURCES", "ATTRIBUTES")
PLAN_CACHE_SIZE = 256  # statements whose plans are kept
_QUERY_IDS = frozenset(("sqlQueryId", "queryId"))  # new for every statement: not part of a plan's key


@lru_cache(maxsize=512)
def _parse(text: str) -> exp.Expression:
    try:
        statements = sqlglot.parse(text, dialect=Calcite)
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


@dataclass(frozen=True)
class CachedPlan:
    """A statement's plan, its planner context, whether it is an EXPLAIN, and what it read from the
    catalog: the tables it resolved and the lookups it looked up (a constant key is looked up while
    planning)."""

    node: Node
    ctx: PlannerContext
    explain: bool
    tables: tuple[tuple[tuple[str, ...], Table], ...] = ()
    lookups: tuple[tuple[str, LookupMap | None], ...] = ()

    @cached_property
    def result_columns(self) -> tuple[list[str], list[str], list[str]]:
        """The names, SQL types and native types of the statement's columns (the same for every run)."""
        columns = self.node.columns
        return (
            [c.name for c in columns],
            [_sql_type(c.sql_type) for c in columns],
            [T.native_type(c.sql_type) if c.sql_type != T.OTHER else c.druid_type for c in columns],
        )


class _LookupRecorder(Catalog):
    """The catalog as the planner's functions see it: it remembers every lookup they read."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(catalog.source)
        self.read: list[tuple[str, LookupMap | None]] = []

    def lookup(self, name: str) -> LookupMap | None:
        found = super().lookup(name)
        self.read.append((name, found))
        return found


class PlanCache:
    """The plans of the most recently run statements (least recently used dropped first; thread-safe).

    A plan is keyed by the statement's text, its parameters and its context less the query ids (see
    :func:`plan_key`). It is reused only while every table it read still resolves to the same table
    and columns (:meth:`SqlEngine.execute` checks that on every hit), so a segment that adds or widens
    a column, or a datasource dropped, makes the statement plan again. Only plans are kept, never
    results: the native queries of a reused plan run every time.
    """

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._plans: OrderedDict[tuple[str, bytes, bytes], CachedPlan] = OrderedDict()

    def __len__(self) -> int:
        return len(self._plans)

    def get(self, key: tuple[str, bytes, bytes]) -> CachedPlan | None:
        with self._lock:
            found = self._plans.get(key)
            if found is not None:
                self._plans.move_to_end(key)
            return found

    def put(self, key: tuple[str, bytes, bytes], plan: CachedPlan) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)

    def discard(self, key: tuple[str, bytes, bytes]) -> None:
        with self._lock:
            self._plans.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()


def plan_key(
    sql: str, parameters: list[dict[str, Any]] | None, context: dict[str, Any]
) -> tuple[str, bytes, bytes] | None:
    """The cache key of a statement: its text, parameters and context without the query ids; None
    when the parameters or context cannot be written as JSON (such a statement is not cached)."""
    try:
        params = orjson.dumps(parameters, option=orjson.OPT_SORT_KEYS) if parameters else b""
        rest = {k: v for k, v in context.items() if k not in _QUERY_IDS}
        ctx = orjson.dumps(rest, option=orjson.OPT_SORT_KEYS) if rest else b""
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None
    return sql, params, ctx


class SqlEngine:
    """Plans Druid SQL into native queries and runs them. Thread-safe: the only state it keeps between
    statements is its :class:`PlanCache`."""

    def __init__(self, runner: QueryRunner, catalog: Catalog, plan_cache_size: int = PLAN_CACHE_SIZE) -> None:
        self.runner = runner
        self.catalog = catalog
        self.plans = PlanCache(plan_cache_size)

    def plan(
        self,
        sql: str,
        *,
        parameters: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> tuple[Node, PlannerContext, bool, str]:
        """The plan of a statement without running it: (plan, context, is EXPLAIN, query id). Always
        plans anew (the plan cache is :meth:`execute`'s)."""
        context = dict(context or {})
        query_id = str(context.get("sqlQueryId") or random_uuid())
        planned = self._plan(sql, parameters, context, query_id)
        return planned.node, planned.ctx, planned.explain, query_id

    def _plan(
        self, sql: str, parameters: list[dict[str, Any]] | None, context: dict[str, Any], query_id: str
    ) -> CachedPlan:
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
        recorder = _LookupRecorder(self.catalog)
        ctx = PlannerContext(context, prepared.in_lists, now, tz, native_context, recorder)
        planner = Planner(self.catalog, ctx)
        node = planner.plan(tree)
        return CachedPlan(node, ctx, prepared.explain, tuple(planner.tables), tuple(recorder.read))

    def _cached_plan(
        self, sql: str, parameters: list[dict[str, Any]] | None, context: dict[str, Any], query_id: str
    ) -> tuple[CachedPlan, Node]:
        """The statement's plan and its node bound to ``query_id``: reused from the cache while what
        it read from the catalog is unchanged, else planned (and kept, unless it depends on the
        current time)."""
        key = plan_key(sql, parameters, context)
        cached = self.plans.get(key) if key is not None else None
        if cached is not None:
            if self._catalog_unchanged(cached):
                return cached, cached.node.bind(query_id)
            assert key is not None
            self.plans.discard(key)
        planned = self._plan(sql, parameters, context, query_id)
        if key is not None and (not planned.ctx.read_now or "sqlCurrentTimestamp" in context):
            self.plans.put(key, planned)
        return planned, planned.node

    def _catalog_unchanged(self, plan: CachedPlan) -> bool:
        """Whether every table the plan resolved and every lookup it read is still the same."""
        for parts, table in plan.tables:
            try:
                if self.catalog.resolve(parts) != table:
                    return False
            except SqlError:
                return False
        for name, found in plan.lookups:
            current = self.catalog.lookup(name)
            if current is not found and current != found:
                return False
        return True

    def execute(
        self,
        sql: str,
        *,
        parameters: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> SqlResult:
        """Run one statement. Raises SqlError (400) naming what cannot be parsed or planned, and the
        native engine's errors (timeouts, cancellation, resource limits) as they are."""
        context = dict(context or {})
        query_id = str(context.get("sqlQueryId") or random_uuid())
        planned, node = self._cached_plan(sql, parameters, context, query_id)
        ctx, explain = planned.ctx, planned.explain
        natives = [p.query for p in node.natives()]
        if explain:
            n = len(EXPLAIN_COLUMNS)
            return SqlResult(
                list(EXPLAIN_COLUMNS), [T.VARCHAR] * n, ["STRING"] * n, explain_rows(node), query_id, natives
            )
        stringify = ctx.flag("sqlStringifyArrays", True)
        with using_lookups(self.runner.lookups):  # for expressions the SQL layer evaluates itself
            if isinstance(node, NativeNode):
                rows = node.json_rows(self.runner, ctx.tz, stringify)
            else:
                relation = node.run(self.runner)
                with no_collection():
                    rows = json_rows(relation, ctx.tz, stringify)
        names, sql_types, native_types = planned.result_columns
        return SqlResult(list(names), list(sql_types), list(native_types), rows, query_id, natives)


def _sql_type(sql_type: str) -> str:
    return T.VARCHAR if sql_type == T.NULL else sql_type
