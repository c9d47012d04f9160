"""A parsed statement as a tree of plan nodes: :class:`Planner`.

Each FROM source becomes a node: a datasource a native query (:mod:`grove.sql.native`), a system
table its rows, a subquery or CTE the node of its own query, no FROM a single empty row. A SELECT over
anything but a datasource runs in memory (:mod:`grove.sql.post`) over its input node; UNION ALL
concatenates its branches. Planning never runs a query, so ``EXPLAIN PLAN FOR`` shows the native
queries without executing them.

Exact ``COUNT(DISTINCT x)`` (``useApproximateCountDistinct: false``) is planned as Druid plans it: an
inner groupBy on the grouping keys plus ``x`` (other aggregates computed per inner group), and an outer
aggregation over its result, here in memory. As in Druid, one distinct column per query.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import orjson
from sqlglot import exp

from grove.query.runner import QueryRunner
from grove.sql import operand as T
from grove.sql import post
from grove.sql.aggregates import AggCall
from grove.sql.analysis import Key, Output, SelectAnalysis, analyze
from grove.sql.catalog import Catalog, ColumnInfo, DatasourceTable, SystemTable, Table
from grove.sql.context import PlannerContext
from grove.sql.errors import SqlError, SqlUnsupported
from grove.sql.native import NativePlan, plan_native, scan_columns
from grove.sql.operand import Operand, column_operand
from grove.sql.post import MemoryAgg, Relation
from grove.sql.values import json_rows, no_collection


class Node(Protocol):
    """A planned relation."""

    @property
    def columns(self) -> list[ColumnInfo]: ...

    def run(self, runner: QueryRunner) -> Relation:
        """Execute (native queries through ``runner``) and return the rows."""
        ...

    def natives(self) -> list[NativePlan]:
        """The native queries this node runs, in order."""
        ...

    def resources(self) -> list[dict[str, str]]:
        """The tables this node reads (EXPLAIN's RESOURCES)."""
        ...

    def bind(self, query_id: str) -> Node:
        """This plan with its native queries' ``sqlQueryId`` and ``queryId`` set to ``query_id``; shares
        everything else with this plan (a cached plan is bound to each statement that reuses it)."""
        ...


@dataclass
class NativeNode:
    plan: NativePlan
    datasource: str

    @property
    def columns(self) -> list[ColumnInfo]:
        return self.plan.output_columns

    def run(self, runner: QueryRunner) -> Relation:
        result = self.plan.run(runner)
        with no_collection():
            return self.plan.finish(result)

    def json_rows(self, runner: QueryRunner, tz: str, stringify_arrays: bool) -> list[list[Any]]:
        """The statement's rows in JSON form, when this node is the whole statement (see
        :meth:`NativePlan.json_rows`; otherwise through :meth:`run`)."""
        result = self.plan.run(runner)
        with no_collection():
            rows = self.plan.json_rows(result, tz)
            if rows is not None:
                return rows
            return json_rows(self.plan.finish(result), tz, stringify_arrays)

    def natives(self) -> list[NativePlan]:
        return [self.plan]

    def resources(self) -> list[dict[str, str]]:
        return [{"name": self.datasource, "type": "DATASOURCE"}]

    def bind(self, query_id: str) -> NativeNode:
        return replace(self, plan=self.plan.bind(query_id))


@dataclass
class SystemNode:
    table: SystemTable

    @property
    def columns(self) -> list[ColumnInfo]:
        return list(self.table.columns)

    def run(self, runner: QueryRunner) -> Relation:
        return Relation.from_rows(self.table.columns, self.table.rows())

    def natives(self) -> list[NativePlan]:
        return []

    def resources(self) -> list[dict[str, str]]:
        return [{"name": self.table.qualified_name, "type": "SYSTEM_TABLE"}]

    def bind(self, query_id: str) -> SystemNode:
        return self


_ONE_ROW = ColumnInfo("__grove_one_row", T.BIGINT, "LONG")


@dataclass
class ValuesNode:
    """The single row a SELECT without FROM reads."""

    @property
    def columns(self) -> list[ColumnInfo]:
        return [_ONE_ROW]

    def run(self, runner: QueryRunner) -> Relation:
        return Relation([_ONE_ROW], [[0]])

    def natives(self) -> list[NativePlan]:
        return []

    def resources(self) -> list[dict[str, str]]:
        return []

    def bind(self, query_id: str) -> ValuesNode:
        return self


@dataclass
class MemoryNode:
    """A SELECT evaluated in memory over its input."""

    child: Node
    analysis: SelectAnalysis

    @property
    def columns(self) -> list[ColumnInfo]:
        return [
            ColumnInfo(o.name, o.operand.type, T.native_type(o.operand.type), o.operand.multi_value)
            for o in self.analysis.outputs
        ]

    def run(self, runner: QueryRunner) -> Relation:
        return post.run_select(self.analysis, self.child.run(runner))

    def natives(self) -> list[NativePlan]:
        return self.child.natives()

    def resources(self) -> list[dict[str, str]]:
        return self.child.resources()

    def bind(self, query_id: str) -> MemoryNode:
        return replace(self, child=self.child.bind(query_id))


@dataclass
class ExactDistinctNode:
    """Exact COUNT(DISTINCT): a native inner grouping and an in-memory outer aggregation."""

    inner: NativeNode
    analysis: SelectAnalysis
    keys: list[tuple[str, Operand]]
    aggs: list[MemoryAgg]
    derived: list[tuple[str, Operand]] = field(default_factory=list)  # AVG from its sum and count

    @property
    def columns(self) -> list[ColumnInfo]:
        return [
            ColumnInfo(o.name, o.operand.type, T.native_type(o.operand.type)) for o in self.analysis.outputs
        ]

    def run(self, runner: QueryRunner) -> Relation:
        a = self.analysis
        grouped = post.aggregate(self.inner.run(runner), self.keys, self.aggs)
        if self.derived:
            columns = [(c.name, column_operand(c.name, c.sql_type)) for c in grouped.columns]
            grouped = post.finish(grouped, columns + self.derived)
        outputs = [(o.name, o.operand) for o in a.outputs]
        return post.finish(grouped, outputs, a.having_operand, a.order, a.offset, a.limit)

    def natives(self) -> list[NativePlan]:
        return self.inner.natives()

    def resources(self) -> list[dict[str, str]]:
        return self.inner.resources()

    def bind(self, query_id: str) -> ExactDistinctNode:
        return replace(self, inner=self.inner.bind(query_id))


@dataclass
class UnionNode:
    """UNION ALL of its branches, then the union's own ORDER BY/LIMIT/OFFSET (in memory)."""

    branches: list[Node]
    finish: SelectAnalysis | None = None

    @property
    def columns(self) -> list[ColumnInfo]:
        if self.finish is not None:
            return [
                ColumnInfo(o.name, o.operand.type, T.native_type(o.operand.type)) for o in self.finish.outputs
            ]
        return self.branches[0].columns

    def run(self, runner: QueryRunner) -> Relation:
        rel = post.concat([b.run(runner) for b in self.branches])
        return post.run_select(self.finish, rel) if self.finish is not None else rel

    def natives(self) -> list[NativePlan]:
        return [n for b in self.branches for n in b.natives()]

    def resources(self) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for b in self.branches:
            out += [r for r in b.resources() if r not in out]
        return out

    def bind(self, query_id: str) -> UnionNode:
        return replace(self, branches=[b.bind(query_id) for b in self.branches])


@dataclass
class Planner:
    catalog: Catalog
    ctx: PlannerContext
    ctes: dict[str, exp.Expression] = field(default_factory=dict)
    tables: list[tuple[tuple[str, ...], Table]] = field(default_factory=list)  # what the plan read

    def plan(self, node: exp.Expression) -> Node:
        """The plan of a query expression (SELECT, UNION ALL, a parenthesised query)."""
        if isinstance(node, exp.Subquery):
            return self.plan(node.this)
        if isinstance(node, exp.Union):
            if node.args.get("distinct"):
                raise SqlUnsupported("UNION without ALL is not supported (as in Druid); use UNION ALL")
            return self._union(node)
        if isinstance(node, exp.Intersect | exp.Except):
            raise SqlUnsupported(f"{node.key.upper()} is not supported by grove")
        if isinstance(node, exp.Select):
            return self._select(node)
        raise SqlUnsupported(f"Unsupported statement [{node.key.upper()}]; grove runs SELECT statements")

    def _union(self, node: exp.Union) -> Node:
        branches: list[Node] = []

        def walk(item: exp.Expression, top: bool) -> None:
            if isinstance(item, exp.Union) and (top or not _has_modifiers(item)):
                if item.args.get("distinct"):
                    raise SqlUnsupported("UNION without ALL is not supported (as in Druid); use UNION ALL")
                walk(item.this, False)
                walk(item.expression, False)
            else:
                branches.append(self.plan(item))

        walk(node, True)
        width = len(branches[0].columns)
        for b in branches[1:]:
            if len(b.columns) != width:
                raise SqlError("Column count mismatch in UNION ALL")
        union = UnionNode(branches)
        if _has_modifiers(node):
            columns = branches[0].columns
            select = exp.select(*[exp.column(c.name, quoted=True) for c in columns])
            for key in ("order", "limit", "offset"):
                if node.args.get(key) is not None:
                    select.set(key, node.args[key])
            union.finish = analyze(select, columns, set(), self.ctx)
        return union

    def _select(self, select: exp.Select) -> Node:
        with_ = select.args.get("with_")
        if with_ is not None:
            for cte in with_.expressions:
                self.ctes[cte.alias] = cte.this
        source = select.args.get("from_")
        if source is None:
            return MemoryNode(ValuesNode(), analyze(select, [_ONE_ROW], set(), self.ctx, star_columns=[]))
        rel = source.this
        qualifiers = {rel.alias_or_name} if rel.alias_or_name else set()
        if isinstance(rel, exp.Subquery):
            child = self.plan(rel.this)
            return MemoryNode(child, analyze(select, child.columns, qualifiers, self.ctx))
        if not isinstance(rel, exp.Table):
            raise SqlUnsupported(f"Unsupported FROM clause [{rel.sql()}]")
        if rel.args.get("joins"):
            raise SqlUnsupported("JOIN is not supported by grove")
        parts = tuple(p.name for p in rel.parts)
        if len(parts) == 1 and parts[0] in self.ctes:
            child = self.plan(self.ctes[parts[0]])
            return MemoryNode(child, analyze(select, child.columns, qualifiers, self.ctx))
        qualifiers.add(rel.name)
        table = self.catalog.resolve(parts)
        self.tables.append((parts, table))
        if isinstance(table, SystemTable):
            node = SystemNode(table)
            return MemoryNode(node, analyze(select, node.columns, qualifiers, self.ctx))
        return self._datasource(select, table, qualifiers)

    def _datasource(self, select: exp.Select, table: DatasourceTable, qualifiers: set[str]) -> Node:
        columns = list(table.columns)
        analysis = analyze(select, columns, qualifiers, self.ctx, star_columns=scan_columns(columns))
        exact = [c for c in analysis.aggs if c.fn == "COUNT" and c.distinct]
        if exact and not self.ctx.flag("useApproximateCountDistinct", True):
            return self._exact_distinct(analysis, exact, table.name)
        return NativeNode(plan_native(analysis, table.name, self.ctx), table.name)

    def _exact_distinct(self, a: SelectAnalysis, exact: list[AggCall], datasource: str) -> Node:
        targets = {c.args[0].expr for c in exact}
        if len(targets) > 1:
            raise SqlUnsupported(
                "Exact COUNT(DISTINCT) of more than one column is not supported; "
                "set useApproximateCountDistinct to true"
            )
        if any(c.filter is not None for c in exact):
            raise SqlUnsupported(
                "Exact COUNT(DISTINCT) with FILTER is not supported; set useApproximateCountDistinct to true"
            )
        target = exact[0].args[0]
        inner_keys = [*a.keys, Key("dx", target)]
        partial: list[AggCall] = []
        outer: list[MemoryAgg] = []
        derived: list[tuple[str, Operand]] = []
        for call in a.aggs:
            if call.distinct:
                outer.append(MemoryAgg(call.name, "count", column_operand("dx", target.type), None, T.BIGINT))
                continue
            if call.fn == "AVG":
                # The average of each outer group: its sum over its non-null count.
                total, count = f"p{len(partial)}", f"p{len(partial) + 1}"
                sum_type = T.BIGINT if call.args[0].type == T.BIGINT else T.DOUBLE
                partial.append(AggCall(total, "SUM", call.args, False, call.filter, sum_type))
                partial.append(AggCall(count, "COUNT", call.args, False, call.filter, T.BIGINT))
                outer.append(
                    MemoryAgg(f"{call.name}:sum", "sum", column_operand(total, sum_type), None, sum_type)
                )
                outer.append(
                    MemoryAgg(
                        f"{call.name}:count", "sum", column_operand(count, T.BIGINT), None, T.BIGINT, True
                    )
                )
                text = f'case_searched(("{call.name}:count" == 0), null, (cast("{call.name}:sum", \'DOUBLE\') / "{call.name}:count"))'
                refs = frozenset((f"{call.name}:sum", f"{call.name}:count"))
                derived.append((call.name, Operand(text, T.DOUBLE, refs)))
                continue
            combine = _COMBINE.get(call.fn)
            if combine is None:
                raise SqlUnsupported(
                    f"{call.fn} together with an exact COUNT(DISTINCT) is not supported; "
                    "set useApproximateCountDistinct to true"
                )
            name = f"p{len(partial)}"
            partial.append(AggCall(name, call.fn, call.args, False, call.filter, call.type))
            outer.append(
                MemoryAgg(
                    call.name, combine, column_operand(name, call.type), None, call.type, call.fn == "COUNT"
                )
            )
        outputs = [Output(k.name, column_operand(k.name, k.type)) for k in inner_keys]
        outputs += [Output(p.name, column_operand(p.name, p.type)) for p in partial]
        inner = SelectAnalysis(
            a.columns, a.where, True, inner_keys, partial, outputs, None, None, [], None, 0, a.input_tr
        )
        node = NativeNode(plan_native(inner, datasource, self.ctx), datasource)
        keys = [(k.name, column_operand(k.name, k.type)) for k in a.keys]
        return ExactDistinctNode(node, a, keys, outer, derived)


_COMBINE = {"COUNT": "sum", "SUM": "sum", "MIN": "min", "MAX": "max"}


def _has_modifiers(node: exp.Expression) -> bool:
    return any(node.args.get(k) is not None for k in ("order", "limit", "offset"))


def explain_rows(node: Node) -> list[list[Any]]:
    """EXPLAIN PLAN FOR's one row: PLAN (the native queries), RESOURCES and ATTRIBUTES, as JSON text."""
    plan = [p.explain() for p in node.natives()]
    return [
        [
            orjson.dumps(plan).decode(),
            orjson.dumps(node.resources()).decode(),
            orjson.dumps({"statementType": "SELECT"}).decode(),
        ]
    ]
