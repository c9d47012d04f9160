"""What a SELECT asks for, independent of where it runs: :func:`analyze`.

The analysis resolves the select list (``*``, aliases, ``EXPR$n`` names), the grouping keys (names,
ordinals, aliases and expressions), every aggregate call (deduplicated, named ``a0``, ``a1``... as
Druid names them), HAVING, ORDER BY (ordinals and aliases), LIMIT and OFFSET. Expressions before
aggregation are translated in the :class:`InputScope` (table columns); after aggregation in the
:class:`PostScope`, where a grouping key is the column ``d<n>`` and an aggregate call the column
``a<n>``, so outputs, HAVING and ORDER BY become expressions over those names. The native planner
(:mod:`grove.sql.native`) and the in-memory engine (:mod:`grove.sql.post`) both consume the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from grove.sql import aggregates as A
from grove.sql import operand as T
from grove.sql.catalog import ColumnInfo
from grove.sql.context import PlannerContext
from grove.sql.errors import SqlError, SqlUnsupported
from grove.sql.expressions import Translator
from grove.sql.operand import Operand, column_operand

_TIME_FLOOR = re.compile(r"^timestamp_floor\(\"__time\", '([^']+)', null, '([^']+)'\)$")


@dataclass
class Key:
    """A grouping key: output name ``d<n>``, its operand over the input, and its time granularity
    (``{"type": "period", ...}``) when it is a floor of ``__time``."""

    name: str
    operand: Operand
    time_floor: dict[str, Any] | None = None

    @property
    def type(self) -> str:
        return self.operand.type


@dataclass
class Output:
    name: str
    operand: Operand


@dataclass
class OrderItem:
    operand: Operand
    descending: bool


@dataclass
class SelectAnalysis:
    """A SELECT resolved against its input columns (see the module docstring)."""

    columns: list[ColumnInfo]
    where: exp.Expression | None
    aggregate: bool
    keys: list[Key]
    aggs: list[A.AggCall]
    outputs: list[Output]
    having: exp.Expression | None
    having_operand: Operand | None
    order: list[OrderItem]
    limit: int | None
    offset: int
    input_tr: Translator
    post_tr: Translator | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def key_names(self) -> set[str]:
        return {k.name for k in self.keys}

    @property
    def agg_names(self) -> set[str]:
        return {a.name for a in self.aggs}


class InputScope:
    """Columns of the FROM relation, addressed bare or qualified by the table's name or alias."""

    def __init__(self, columns: list[ColumnInfo], qualifiers: set[str]) -> None:
        self.columns = {c.name: c for c in columns}
        self.qualifiers = qualifiers

    def resolve(self, node: exp.Expression, tr: Translator) -> Operand | None:
        if isinstance(node, exp.Column):
            name = node.name
            table = node.table
            if table and table not in self.qualifiers:
                raise SqlError(f"Table '{table}' not found")
            info = self.columns.get(name)
            if info is None:
                if isinstance(node.this, exp.Star):
                    raise SqlError("'*' is only allowed in SELECT and COUNT(*)")
                where = f"table '{table}'" if table else "any table"
                raise SqlError(f"Column '{name}' not found in {where}")
            return column_operand(info.name, info.sql_type, info.druid_type, info.multi_value)
        if isinstance(node, exp.Filter | exp.AggFunc) or A.is_aggregate_name(node):
            raise SqlError(f"Aggregate functions are not allowed here: [{node.sql()}]")
        return None


class PostScope:
    """Names after aggregation: grouping keys (``d<n>``), aggregate calls (``a<n>``), select aliases."""

    def __init__(self, input_tr: Translator, keys: list[Key], ctx: PlannerContext) -> None:
        self.input_tr = input_tr
        self.keys = keys
        self.by_expr = {k.operand.expr: k for k in keys}
        self.aggs: list[A.AggCall] = []
        self._agg_index: dict[tuple[Any, ...], A.AggCall] = {}
        self.aliases: dict[str, Operand] = {}
        self.alias_first = False
        self.ctx = ctx
        self._aggregates: dict[int, tuple[exp.Expression, bool]] = {}

    def _has_aggregate(self, node: exp.Expression) -> bool:
        """:func:`contains_aggregate`, remembered per node (resolve asks again for every subtree)."""
        found = self._aggregates.get(id(node))
        if found is None:
            found = self._aggregates[id(node)] = (node, A.contains_aggregate(node))
        return found[1]

    def key_operand(self, key: Key) -> Operand:
        return Operand(
            f'"{key.name}"',
            key.type,
            frozenset((key.name,)),
            key.name,
            T.native_type(key.type),
            key.operand.multi_value,
        )

    def resolve(self, node: exp.Expression, tr: Translator) -> Operand | None:
        call = A.call_of(node)
        if call is not None:
            return self._register(call)
        if isinstance(node, exp.Column):
            name = node.name
            if self.alias_first and not node.table and name in self.aliases:
                return self.aliases[name]
            try:
                op = self.input_tr.translate(node)
            except SqlError:
                if not node.table and name in self.aliases:
                    return self.aliases[name]
                raise
            key = self.by_expr.get(op.expr)
            if key is not None:
                return self.key_operand(key)
            raise SqlError(f"Expression '{name}' is not being grouped")
        if isinstance(node, exp.Literal | exp.Null | exp.Boolean | exp.Paren) or self._has_aggregate(node):
            return None
        try:
            op = self.input_tr.translate(node)
        except SqlError:
            return None
        key = self.by_expr.get(op.expr)
        if key is not None:
            return self.key_operand(key)
        if op.is_constant:
            return op
        return None

    def _register(self, call: A.CallSyntax) -> Operand:
        args = [self.input_tr.translate(a) for a in call.args]
        fn = A.lookup(call.fn, args, call.distinct)
        if call.filter is not None:
            self.input_tr.translate(call.filter)  # validate the condition's columns now
        marker = (
            call.fn,
            tuple(a.expr for a in args),
            call.distinct,
            call.filter.sql() if call.filter is not None else None,
        )
        found = self._agg_index.get(marker)
        if found is None:
            if fn.name == "COUNT" and args and not call.distinct and args[0].type == T.OTHER:
                raise SqlError("COUNT of a sketch column is not supported; use APPROX_COUNT_DISTINCT")
            found = A.AggCall(
                f"a{len(self.aggs)}",
                call.fn,
                args,
                call.distinct,
                call.filter,
                fn.result_type(args, call.distinct),
            )
            self.aggs.append(found)
            self._agg_index[marker] = found
        return Operand(
            f'"{found.name}"', found.type, frozenset((found.name,)), found.name, T.native_type(found.type)
        )


def output_name(node: exp.Expression, position: int) -> str:
    """The column name of a select item: its alias, a bare column's name, or ``EXPR$<position>``."""
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
        return node.name
    return f"EXPR${position}"


def _unique(names: list[str]) -> list[str]:
    """Calcite's uniquifying of duplicate output names (``x``, ``x0``, ``x1``...)."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 0
        while candidate in seen:
            candidate = f"{name}{n}"
            n += 1
        seen.add(candidate)
        out.append(candidate)
    return out


def _int_clause(node: exp.Expression | None, what: str) -> int | None:
    if node is None:
        return None
    value: Any = node
    if isinstance(node, exp.Limit | exp.Offset):
        value = node.expression
    elif isinstance(node, exp.Fetch):
        value = node.args.get("count")
    if isinstance(value, exp.Literal) and not value.is_string and str(value.this).isdigit():
        return int(str(value.this))
    raise SqlError(f"{what} must be a non-negative integer literal")


def _ordinal(node: exp.Expression, count: int, what: str) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        text = str(node.this)
        if not text.isdigit() or not 1 <= int(text) <= count:
            raise SqlError(f"Ordinal out of range in {what}: [{text}]")
        return int(text) - 1
    return None


def time_floor_of(op: Operand) -> dict[str, Any] | None:
    """The granularity of a key that is ``timestamp_floor("__time", period, null, tz)``."""
    m = _TIME_FLOOR.match(op.expr)
    if m is None:
        return None
    return {"type": "period", "period": m.group(1), "timeZone": m.group(2)}


def _descending(item: exp.Ordered) -> bool:
    """Whether an ORDER BY item is descending; nulls sort as the smallest values (first ascending, last
    descending), so NULLS LAST ascending or NULLS FIRST descending is refused rather than ignored."""
    descending = bool(item.args.get("desc"))
    if bool(item.args.get("nulls_first")) == descending:
        wanted = "FIRST" if descending else "LAST"
        raise SqlUnsupported(
            f"NULLS {wanted} with {'DESC' if descending else 'ASC'} is not supported by grove; "
            "nulls sort as the smallest values"
        )
    return descending


def analyze(
    select: exp.Select,
    columns: list[ColumnInfo],
    qualifiers: set[str],
    ctx: PlannerContext,
    star_columns: list[ColumnInfo] | None = None,
) -> SelectAnalysis:
    """Resolve ``select`` over a relation with ``columns``; raises SqlError naming what is wrong.

    ``star_columns`` are the columns ``*`` expands to (all of ``columns`` when None).
    """
    for unsupported in ("joins", "laterals", "windows", "qualify", "pivots"):
        if select.args.get(unsupported):
            raise SqlUnsupported(f"{unsupported.upper().rstrip('S')} is not supported by grove")
    input_scope = InputScope(columns, qualifiers)
    input_tr = Translator(input_scope, ctx, memo=True)
    items: list[exp.Expression] = []
    names: list[str] = []
    for node in select.expressions:
        if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star)):
            for c in star_columns if star_columns is not None else columns:
                items.append(exp.column(c.name, quoted=True))
                names.append(c.name)
            continue
        items.append(node)
        names.append(output_name(node, len(names)))
    names = _unique(names)
    bare = [n.this if isinstance(n, exp.Alias) else n for n in items]
    where_node = select.args.get("where")
    where = where_node.this if where_node is not None else None
    group = select.args.get("group")
    having_node = select.args.get("having")
    distinct = select.args.get("distinct") is not None
    order_node = select.args.get("order")
    order_items = list(order_node.expressions) if order_node is not None else []
    aggregate = (
        group is not None
        or having_node is not None
        or distinct
        or any(A.contains_aggregate(n) for n in bare)
        or any(A.contains_aggregate(o.this) for o in order_items)
    )
    limit = _int_clause(select.args.get("limit"), "LIMIT")
    offset = _int_clause(select.args.get("offset"), "OFFSET") or 0
    if where is not None and A.contains_aggregate(where):
        raise SqlError("Aggregate expressions are not allowed in WHERE")
    if not aggregate:
        outputs = [Output(name, input_tr.translate(node)) for name, node in zip(names, bare, strict=True)]
        aliases = {o.name: o.operand for o in outputs}
        order = []
        for item in order_items:
            node = item.this
            pos = _ordinal(node, len(outputs), "ORDER BY")
            if pos is not None:
                op = outputs[pos].operand
            elif isinstance(node, exp.Column) and not node.table and node.name in aliases:
                op = aliases[node.name]
            else:
                op = input_tr.translate(node)
            order.append(OrderItem(op, _descending(item)))
        return SelectAnalysis(
            columns, where, False, [], [], outputs, None, None, order, limit, offset, input_tr
        )

    if distinct and group is not None:
        raise SqlUnsupported("SELECT DISTINCT together with GROUP BY is not supported by grove")
    key_nodes: list[exp.Expression] = []
    if distinct:
        key_nodes = list(bare)
    elif group is not None:
        for g in group.expressions:
            if isinstance(g, exp.Tuple) and not g.expressions:
                continue  # GROUP BY (): the grand total
            if isinstance(g, exp.Rollup | exp.Cube | exp.GroupingSets):
                raise SqlUnsupported("GROUPING SETS, ROLLUP and CUBE are not supported by grove")
            pos = _ordinal(g, len(bare), "GROUP BY")
            if pos is not None:
                key_nodes.append(bare[pos])
            elif (
                isinstance(g, exp.Column)
                and not g.table
                and g.name not in input_scope.columns
                and g.name in names
            ):
                key_nodes.append(bare[names.index(g.name)])
            else:
                key_nodes.append(g)
        for rollups in ("rollup", "cube", "grouping_sets"):
            if group.args.get(rollups):
                raise SqlUnsupported("GROUPING SETS, ROLLUP and CUBE are not supported by grove")
    keys: list[Key] = []
    seen: set[str] = set()
    for node in key_nodes:
        if A.contains_aggregate(node):
            raise SqlError(f"Aggregate functions are not allowed in GROUP BY: [{node.sql()}]")
        op = input_tr.translate(node)
        if op.type == T.OTHER:
            raise SqlError(f"Cannot group by the complex column [{node.sql()}]")
        if op.expr in seen or op.is_constant:
            continue
        seen.add(op.expr)
        keys.append(Key(f"d{len(keys)}", op, time_floor_of(op)))
    post = PostScope(input_tr, keys, ctx)
    post_tr = Translator(post, ctx)
    outputs = []
    for name, node in zip(names, bare, strict=True):
        op = post_tr.translate(node)
        outputs.append(Output(name, op))
        post.aliases.setdefault(name, op)
    having = having_node.this if having_node is not None else None
    having_op = post_tr.translate(having) if having is not None else None
    order = []
    post.alias_first = True
    for item in order_items:
        node = item.this
        pos = _ordinal(node, len(outputs), "ORDER BY")
        op = outputs[pos].operand if pos is not None else post_tr.translate(node)
        order.append(OrderItem(op, _descending(item)))
    post.alias_first = False
    return SelectAnalysis(
        columns,
        where,
        True,
        keys,
        post.aggs,
        outputs,
        having,
        having_op,
        order,
        limit,
        offset,
        input_tr,
        post_tr,
    )
