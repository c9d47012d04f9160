"""SQL scalar expressions (sqlglot trees) as Druid expressions: the :class:`Translator`.

The translator walks a sqlglot expression and returns an :class:`~grove.sql.operand.Operand`. Names
are resolved by a :class:`Scope` first, at every node: the input scope knows table columns; the
scope after aggregation (in :mod:`grove.sql.analysis`) maps grouping keys and aggregate calls to
their output names. Operators, literals, CASE, CAST and the time arithmetic of intervals are handled
here; named functions come from the table in :mod:`grove.sql.functions` (this module never lists
them). Semantics follow Druid's SQL-compatible mode: nulls propagate, comparisons with null are null,
and boolean results are 1/0/null.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlglot import exp

from grove.common.time import MAX_INSTANT, MIN_INSTANT
from grove.sql import functions as F
from grove.sql import operand as T
from grove.sql.context import PlannerContext
from grove.sql.errors import SqlError, SqlUnsupported
from grove.sql.operand import Operand, literal, literal_operand
from grove.sql.time import INTERVAL_MILLIS, INTERVAL_MONTHS, parse_sql_timestamp, unit_name


class Scope(Protocol):
    def resolve(self, node: exp.Expression, tr: Translator) -> Operand | None:
        """The operand ``node`` stands for in this scope, or None to translate it structurally."""
        ...


COMPARISONS: dict[type[exp.Expression], str] = {
    exp.EQ: "==",
    exp.NEQ: "!=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}
_ARITHMETIC: dict[type[exp.Expression], str] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
}

# SQL type names of CAST targets -> (SQL type, Druid cast type)
_CAST_TYPES = {
    "VARCHAR": (T.VARCHAR, "STRING"),
    "CHAR": (T.VARCHAR, "STRING"),
    "TEXT": (T.VARCHAR, "STRING"),
    "NVARCHAR": (T.VARCHAR, "STRING"),
    "BIGINT": (T.BIGINT, "LONG"),
    "INT": (T.BIGINT, "LONG"),
    "SMALLINT": (T.BIGINT, "LONG"),
    "TINYINT": (T.BIGINT, "LONG"),
    "DOUBLE": (T.DOUBLE, "DOUBLE"),
    "DECIMAL": (T.DOUBLE, "DOUBLE"),
    "FLOAT": (T.FLOAT, "DOUBLE"),
    "BOOLEAN": (T.BOOLEAN, "LONG"),
    "TIMESTAMP": (T.TIMESTAMP, "LONG"),
    "DATE": (T.DATE, "LONG"),
}


class Translator:
    """Translates SQL expressions in one scope.

    With ``memo`` (for scopes whose answers never change, such as a table's columns) each node is
    translated once: planning asks for the same WHERE nodes several times (time intervals, filters).
    The memo keeps the nodes alive, so their ids cannot be reused by other nodes meanwhile.
    """

    def __init__(self, scope: Scope, ctx: PlannerContext, memo: bool = False) -> None:
        self.scope = scope
        self.ctx = ctx
        self._memo: dict[int, tuple[exp.Expression, Operand]] | None = {} if memo else None

    def translate(self, node: exp.Expression) -> Operand:
        """The operand of ``node``; raises SqlError naming what cannot be translated."""
        memo = self._memo
        if memo is None:
            return self._translate(node)
        found = memo.get(id(node))
        if found is not None:
            return found[1]
        out = self._translate(node)
        memo[id(node)] = (node, out)
        return out

    def _translate(self, node: exp.Expression) -> Operand:
        resolved = self.scope.resolve(node, self)
        if resolved is not None:
            return resolved
        kind = type(node)
        if kind is exp.Paren:
            return self.translate(node.this)
        if isinstance(node, exp.Literal):
            return _literal(node)
        if kind is exp.Null:
            return Operand("null", T.NULL, value=None)
        if kind is exp.Boolean:
            return Operand("1" if node.this else "0", T.BOOLEAN, value=bool(node.this))
        if kind is exp.Column:
            raise SqlError(f"Column '{node.name}' not found in any table")
        if kind in COMPARISONS:
            return self.compare(node.this, COMPARISONS[kind], node.expression)
        if kind in _ARITHMETIC:
            return self._arithmetic(node, _ARITHMETIC[kind])
        if kind is exp.DPipe:
            return self.call("CONCAT", [node.this, node.expression])
        if kind is exp.Neg:
            inner = self.translate(node.this)
            if inner.type not in T.NUMERIC and inner.type != T.NULL:
                raise SqlError(f"Cannot apply '-' to arguments of type '-<{inner.type}>'")
            value = -inner.value if inner.has_value and inner.value is not None else T.MISSING
            return Operand(f"-{inner.expr}", inner.type, inner.refs, value=value)
        if kind is exp.And or kind is exp.Or:
            return self._logical(node, "&&" if kind is exp.And else "||")
        if kind is exp.Not:
            inner = self.translate(node.this)
            return Operand(f"!{_wrap(inner.expr)}", T.BOOLEAN, inner.refs)
        if isinstance(node, exp.Is):
            return self._is(node)
        if kind is exp.Between:
            x = node.this
            low = self.compare(x, ">=", node.args["low"])
            high = self.compare(x, "<=", node.args["high"])
            return Operand(f"({low.expr} && {high.expr})", T.BOOLEAN, low.refs | high.refs)
        if isinstance(node, exp.In):
            return self._in(node)
        if kind is exp.Like or kind is exp.Escape:
            return self._like(node)
        if isinstance(node, exp.Case):
            return self._case(node)
        if kind is exp.Cast or kind is exp.TryCast:
            return self.cast(self.translate(node.this), _type_name(node.args["to"]))
        if isinstance(node, exp.Interval):
            return _interval(node)
        if kind is exp.Coalesce:
            return self.call("COALESCE", [node.this, *node.expressions])
        if isinstance(node, exp.Subquery | exp.Select | exp.Exists):
            raise SqlUnsupported("Subqueries in expressions are not supported by grove")
        if isinstance(node, exp.Window):
            raise SqlUnsupported("Window functions (OVER) are not supported by grove")
        if isinstance(node, exp.Star):
            raise SqlError("'*' is only allowed in SELECT and COUNT(*)")
        found = F.call_of(node)
        if found is not None:
            return self.call(found[0], found[1])
        raise SqlUnsupported(f"Unsupported SQL construct [{_short(node)}]")

    # --- pieces -----------------------------------------------------------------------------------------

    def call(self, name: str, args: list[exp.Expression]) -> Operand:
        """A named function over argument nodes, through :data:`grove.sql.functions.FUNCTIONS`."""
        return F.apply(name, [self.translate(a) for a in args], self.ctx)

    def compare(self, left_node: exp.Expression, op: str, right_node: exp.Expression) -> Operand:
        left, right = self.translate(left_node), self.translate(right_node)
        left, right = coerce_pair(left, right, self.ctx.tz)
        return Operand(f"({left.expr} {op} {right.expr})", T.BOOLEAN, left.refs | right.refs)

    def _arithmetic(self, node: exp.Expression, op: str) -> Operand:
        left, right = self.translate(node.this), self.translate(node.expression)
        if left.type in T.TIMES or right.type in T.TIMES:
            return _time_arithmetic(left, op, right, self.ctx)
        for side in (left, right):
            if side.type not in T.NUMERIC and side.type not in (T.NULL, T.BOOLEAN):
                raise SqlError(
                    f"Cannot apply '{op}' to arguments of type '<{left.type}> {op} <{right.type}>'"
                )
        numeric = [t for t in (left.type, right.type) if t in T.NUMERIC]
        out_type = T.common_numeric(numeric[0], numeric[-1]) if numeric else T.BIGINT
        return Operand(f"({left.expr} {op} {right.expr})", out_type, left.refs | right.refs)

    def _logical(self, node: exp.Expression, op: str) -> Operand:
        parts: list[Operand] = []
        stack = [node]
        while stack:  # flatten long AND/OR chains without deep recursion
            item = stack.pop()
            if type(item) is type(node):
                stack.append(item.expression)
                stack.append(item.this)
            else:
                parts.append(self.translate(item))
        refs = frozenset().union(*(p.refs for p in parts))
        return Operand("(" + f" {op} ".join(p.expr for p in parts) + ")", T.BOOLEAN, refs)

    def _is(self, node: exp.Is) -> Operand:
        subject = self.translate(node.this)
        target = node.expression
        if isinstance(target, exp.Null):
            return Operand(f"isnull({subject.expr})", T.BOOLEAN, subject.refs)
        if isinstance(target, exp.Boolean):
            if target.this:
                return Operand(f"(nvl({subject.expr}, 0) != 0)", T.BOOLEAN, subject.refs)
            return Operand(f"(nvl({subject.expr}, 1) == 0)", T.BOOLEAN, subject.refs)
        raise SqlUnsupported(f"Unsupported IS predicate [{_short(node)}]")

    def _in(self, node: exp.In) -> Operand:
        if node.args.get("query") is not None:
            raise SqlUnsupported("IN with a subquery is not supported by grove")
        subject = self.translate(node.this)
        items = node.expressions
        values = self.ctx.in_list(items[0]) if len(items) == 1 else None
        if values is None:
            operands = [coerce_pair(subject, self.translate(i), self.ctx.tz)[1] for i in items]
            if all(o.has_value for o in operands):
                values = [o.value for o in operands]
            else:
                parts = [f"({subject.expr} == {o.expr})" for o in operands]
                refs = subject.refs.union(*(o.refs for o in operands))
                return Operand("(" + " || ".join(parts) + ")", T.BOOLEAN, refs)
        values = [coerce_value(v, subject.type, self.ctx.tz) for v in values]
        present = [v for v in dict.fromkeys(values) if v is not None]
        if not present:
            return Operand("null", T.BOOLEAN)
        array = "[" + ", ".join(literal(v) for v in present) + "]"
        text = f"scalar_in_array({subject.expr}, {array})"
        if None in values:  # x IN (..., NULL) is never false, only true or unknown
            text = f"case_searched({text}, 1, null)"
        return Operand(text, T.BOOLEAN, subject.refs)

    def _like(self, node: exp.Expression) -> Operand:
        escape = None
        if isinstance(node, exp.Escape):
            escape = self.translate(node.expression)
            node = node.this
        subject = self.translate(node.this)
        pattern = self.translate(node.expression)
        args = [subject.expr, pattern.expr] + ([escape.expr] if escape is not None else [])
        text = f"like({', '.join(args)})"
        if node.args.get("negate"):
            text = f"!{text}"
        return Operand(text, T.BOOLEAN, subject.refs | pattern.refs)

    def _case(self, node: exp.Case) -> Operand:
        subject = self.translate(node.this) if node.this is not None else None
        parts: list[Operand] = []
        results: list[Operand] = []
        for branch in node.args.get("ifs") or []:
            cond = self.translate(branch.this)
            if subject is not None:
                subject, cond = coerce_pair(subject, cond, self.ctx.tz)
            parts.append(cond)
            results.append(self.translate(branch.args["true"]))
        default = node.args.get("default")
        otherwise = self.translate(default) if default is not None else literal_operand(None, T.NULL)
        out_type = result_type([*results, otherwise])
        results = [self.cast(r, out_type) if r.type not in (out_type, T.NULL) else r for r in results]
        if otherwise.type not in (out_type, T.NULL):
            otherwise = self.cast(otherwise, out_type)
        args: list[str] = [subject.expr] if subject is not None else []
        for cond, res in zip(parts, results, strict=True):
            args += [cond.expr, res.expr]
        args.append(otherwise.expr)
        refs = frozenset().union(*(o.refs for o in [*parts, *results, otherwise]))
        if subject is not None:
            refs = refs | subject.refs
        name = "case_simple" if subject is not None else "case_searched"
        return Operand(f"{name}({', '.join(args)})", out_type, refs)

    def _date(self, ts: Operand) -> Operand:
        """A TIMESTAMP rounded down to its day: a DATE."""
        day = F.apply("FLOOR", [ts, literal_operand("DAY", T.VARCHAR)], self.ctx)
        return Operand(day.expr, T.DATE, day.refs, value=day.value)

    def cast(self, value: Operand, target: str) -> Operand:
        """CAST(value AS target), as Druid plans it (no-ops between types of one runtime type)."""
        found = _CAST_TYPES.get(target)
        if found is None:
            raise SqlUnsupported(f"CAST to [{target}] is not supported by grove")
        sql_type, druid = found
        source = value.type
        if value.has_value and value.value is None:
            return Operand("null", sql_type, value=None)
        if sql_type in T.TIMES:
            if source == T.VARCHAR:
                if value.has_value:
                    ms = parse_sql_timestamp(str(value.value), self.ctx.tz)
                    text = str(ms)
                    if sql_type == T.DATE:
                        return self._date(literal_operand(ms, T.TIMESTAMP))
                    return Operand(text, sql_type, value=ms)
                text = f"timestamp_parse({value.expr}, null, {literal(self.ctx.tz)})"
                value = Operand(text, T.TIMESTAMP, value.refs)
            elif source not in T.TIMES and source not in T.NUMERIC:
                raise SqlError(f"Cast function cannot convert value of type {source} to type {sql_type}")
            if sql_type == T.DATE and source != T.DATE:
                return self._date(Operand(value.expr, T.TIMESTAMP, value.refs, value=value.value))
            return Operand(value.expr, sql_type, value.refs, value=value.value)
        if source in T.TIMES and sql_type == T.VARCHAR:
            pattern = "yyyy-MM-dd" if source == T.DATE else "yyyy-MM-dd HH:mm:ss"
            text = f"timestamp_format({value.expr}, {literal(pattern)}, {literal(self.ctx.tz)})"
            return Operand(text, T.VARCHAR, value.refs)
        if source == sql_type or (source in T.TIMES and sql_type == T.BIGINT):
            return Operand(
                value.expr, sql_type, value.refs, value.column, value.native, value.multi_value, value.value
            )
        if sql_type == T.BOOLEAN:
            return Operand(f"({value.expr} != 0)", T.BOOLEAN, value.refs)
        return Operand(f"CAST({value.expr}, {literal(druid)})", sql_type, value.refs)


# --- helpers -----------------------------------------------------------------------------------------


def _literal(node: exp.Literal) -> Operand:
    if node.is_string:
        return literal_operand(node.this, T.VARCHAR)
    text = str(node.this)
    if any(c in text for c in ".eE"):
        return literal_operand(float(text), T.DOUBLE)
    return literal_operand(int(text), T.BIGINT)


def _interval(node: exp.Interval) -> Operand:
    unit = node.args.get("unit")
    if unit is None or not isinstance(unit, exp.Var | exp.Literal):
        raise SqlUnsupported(f"Unsupported INTERVAL literal [{_short(node)}]")
    name = unit_name(unit).rstrip("S") if unit_name(unit) not in ("MILLISECONDS",) else "MILLISECOND"
    raw = node.this.this if isinstance(node.this, exp.Literal) else node.this.sql()
    try:
        amount = int(str(raw).strip())
    except ValueError:
        raise SqlUnsupported(f"Unsupported INTERVAL literal [{_short(node)}]") from None
    if name in INTERVAL_MILLIS:
        return Operand(
            str(amount * INTERVAL_MILLIS[name]), T.INTERVAL_MS, value=amount * INTERVAL_MILLIS[name]
        )
    if name in INTERVAL_MONTHS:
        return Operand(
            str(amount * INTERVAL_MONTHS[name]), T.INTERVAL_MONTHS, value=amount * INTERVAL_MONTHS[name]
        )
    raise SqlUnsupported(f"Unsupported INTERVAL unit [{name}]")


def _time_arithmetic(left: Operand, op: str, right: Operand, ctx: PlannerContext) -> Operand:
    """TIMESTAMP ± INTERVAL (and INTERVAL + TIMESTAMP)."""
    if left.type in (T.INTERVAL_MS, T.INTERVAL_MONTHS) and op == "+":
        left, right = right, left
    if left.type not in T.TIMES or right.type not in (T.INTERVAL_MS, T.INTERVAL_MONTHS) or op not in "+-":
        raise SqlError(f"Cannot apply '{op}' to arguments of type '<{left.type}> {op} <{right.type}>'")
    amount = right.value if op == "+" else -right.value
    refs = left.refs
    if right.type == T.INTERVAL_MS:
        value = left.value + amount if left.has_value and left.value is not None else T.MISSING
        text = f"({left.expr} {op} {right.expr})"
        return Operand(str(value) if value is not T.MISSING else text, T.TIMESTAMP, refs, value=value)
    text = f"timestamp_shift({left.expr}, 'P1M', {amount}, {literal(ctx.tz)})"
    out = Operand(text, T.TIMESTAMP, refs)
    if out.is_constant:
        ms = out.constant()
        return Operand(literal(ms), T.TIMESTAMP, value=ms)
    return out


def coerce_value(value: Any, target: str, tz: str) -> Any:
    """A literal value converted for comparison with a ``target``-typed operand (Calcite's implicit casts)."""
    if value is None:
        return None
    if target in T.TIMES and isinstance(value, str):
        return parse_sql_timestamp(value, tz)
    if target in T.NUMERIC and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise SqlError(f"Cannot compare a {target} with the string literal '{value}'") from None
        return int(number) if target == T.BIGINT and number.is_integer() else number
    if target == T.VARCHAR and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def coerce_pair(left: Operand, right: Operand, tz: str) -> tuple[Operand, Operand]:
    """Operands made comparable: a constant on one side takes the other side's type."""
    if right.has_value and left.type != right.type and left.type not in (T.NULL, T.OTHER):
        converted = coerce_value(right.value, left.type, tz)
        if converted is not right.value:
            right = literal_operand(converted, left.type)
    elif left.has_value and left.type != right.type and right.type not in (T.NULL, T.OTHER):
        converted = coerce_value(left.value, right.type, tz)
        if converted is not left.value:
            left = literal_operand(converted, right.type)
    return left, right


def result_type(operands: list[Operand]) -> str:
    """The type of CASE/COALESCE-like results: the common type of the non-null branches."""
    types = [o.type for o in operands if o.type != T.NULL]
    if not types:
        return T.VARCHAR
    if all(t == types[0] for t in types):
        return types[0]
    if all(t in T.NUMERIC for t in types):
        out = types[0]
        for t in types[1:]:
            out = T.common_numeric(out, t)
        return out
    if all(t in T.TIMES for t in types):
        return T.TIMESTAMP
    return T.VARCHAR


def _type_name(node: exp.Expression) -> str:
    if isinstance(node, exp.DataType):
        return node.this.name if hasattr(node.this, "name") else str(node.this)
    return node.sql().upper()


def _wrap(text: str) -> str:
    return text if text.startswith("(") and text.endswith(")") else f"({text})"


def _short(node: exp.Expression) -> str:
    text = node.sql(dialect="druid")
    return text if len(text) <= 60 else text[:57] + "..."


def time_constant(op: Operand) -> int | None:
    """The epoch ms of a constant TIMESTAMP/DATE operand, or None."""
    if op.type not in T.TIMES or not op.is_constant:
        return None
    value = op.constant()
    if value is None:
        return None
    return max(MIN_INSTANT, min(MAX_INSTANT, int(value)))
