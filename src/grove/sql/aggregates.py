"""The SQL aggregate functions grove plans: native aggregators, and the in-memory equivalent.

:data:`AGGREGATES` maps a SQL aggregate name to an :class:`AggregateFunction` with two halves:

* ``native`` writes the aggregators (and post-aggregator) Druid plans for the call
  (``docs/querying/sql-aggregations.md``): ``COUNT(*)`` a ``count``; ``COUNT(x)`` a count filtered on
  ``x IS NOT NULL``; ``SUM``/``MIN``/``MAX`` a ``longSum``/``doubleSum``/... of the column (or of an
  inline expression); ``AVG`` a sum and a non-null count divided by a ``quotient`` post-aggregator;
  ``COUNT(DISTINCT x)`` and ``APPROX_COUNT_DISTINCT`` a rounded ``cardinality`` aggregator (or the
  sketch aggregator a sketch column needs); the DataSketches functions ``HLLSketchBuild``/
  ``thetaSketch``; ``EARLIEST``/``LATEST``/``ANY_VALUE`` the ``*First``/``*Last``/``*Any`` family.
* ``memory`` names the pyarrow hash aggregation that computes the same over an in-memory relation
  (subquery results and system tables), where distinct counts are exact.

``FILTER (WHERE ...)`` wraps every native aggregator of a call in a ``filtered`` aggregator; in
memory it nulls the rows the filter rejects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlglot import exp

from grove.sql import operand as T
from grove.sql.errors import SqlError
from grove.sql.operand import Operand


@dataclass
class AggCall:
    """One aggregate call of a statement; ``name`` is its output name (``a0``, ``a1``...)."""

    name: str
    fn: str
    args: list[Operand]
    distinct: bool
    filter: exp.Expression | None
    type: str


class NativeAggContext(Protocol):
    approximate_distinct: bool

    def column_of(self, op: Operand) -> str:
        """A column holding ``op``: its own name, or a new expression virtual column."""
        ...


@dataclass
class NativeAgg:
    """Native pieces of one call: aggregators and (when the value needs one) a post-aggregator."""

    aggregators: list[dict[str, Any]]
    post: list[dict[str, Any]]


@dataclass(frozen=True)
class AggregateFunction:
    name: str
    min_args: int
    max_args: int
    result_type: Callable[[list[Operand], bool], str]
    native: Callable[[AggCall, NativeAggContext], NativeAgg]
    memory: (
        str  # pyarrow hash aggregation: count_all, count, count_distinct, sum, min, max, mean, first, last
    )


AGGREGATES: dict[str, AggregateFunction] = {}


# --- recognising calls --------------------------------------------------------------------------------

_NODE_NAMES: dict[type[exp.Expression], str] = {
    exp.Count: "COUNT",
    exp.Sum: "SUM",
    exp.Min: "MIN",
    exp.Max: "MAX",
    exp.Avg: "AVG",
    exp.AnyValue: "ANY_VALUE",
    exp.ApproxDistinct: "APPROX_COUNT_DISTINCT",
}


@dataclass
class CallSyntax:
    """An aggregate call as written: name, argument nodes, DISTINCT, and its FILTER condition."""

    fn: str
    args: list[exp.Expression]
    distinct: bool
    filter: exp.Expression | None


def call_of(node: exp.Expression) -> CallSyntax | None:
    """The aggregate call ``node`` is, or None when it is not an aggregate call."""
    condition = None
    if isinstance(node, exp.Filter):
        where = node.expression
        condition = where.this if isinstance(where, exp.Where) else where
        node = node.this
    name = _NODE_NAMES.get(type(node))
    if name is None and isinstance(node, exp.Anonymous) and str(node.this).upper() in AGGREGATES:
        name = str(node.this).upper()
    if name is None:
        if condition is not None:
            raise SqlError(f"FILTER must follow an aggregate function, not [{node.sql()}]")
        return None
    distinct = False
    if isinstance(node, exp.Anonymous):
        args = list(node.expressions)
    else:
        first = node.this
        if isinstance(first, exp.Distinct):
            distinct = True
            args = list(first.expressions)
        elif isinstance(first, exp.Star) or first is None:
            args = []
        else:
            args = [first, *node.expressions]
    return CallSyntax(name, args, distinct, condition)


def is_aggregate_name(node: exp.Expression) -> bool:
    """Whether ``node`` is a call of a Druid aggregate sqlglot does not know (EARLIEST, ...)."""
    return isinstance(node, exp.Anonymous) and str(node.this).upper() in AGGREGATES


def contains_aggregate(node: exp.Expression) -> bool:
    for child in node.walk():
        if isinstance(child, exp.Filter | exp.AggFunc) or (
            isinstance(child, exp.Anonymous) and str(child.this).upper() in AGGREGATES
        ):
            return True
    return False


def lookup(fn: str, args: list[Operand], distinct: bool) -> AggregateFunction:
    found = AGGREGATES.get(fn)
    if found is None:
        raise SqlError(f"No match found for function signature {fn}")
    if not found.min_args <= len(args) <= found.max_args:
        raise SqlError(f"Invalid number of arguments to function '{fn}'")
    if distinct and fn != "COUNT":
        raise SqlError(f"DISTINCT is only allowed in COUNT, not in [{fn}]")
    return found


# --- helpers ------------------------------------------------------------------------------------------

# The native aggregator family of each SQL type (``longSum``, ``doubleFirst``, ``stringAny``...);
# strings have only the first/last/any family.
_PREFIX = {
    T.BIGINT: "long",
    T.TIMESTAMP: "long",
    T.DATE: "long",
    T.BOOLEAN: "long",
    T.DOUBLE: "double",
    T.FLOAT: "float",
}
_FAMILY = {**_PREFIX, T.VARCHAR: "string"}


def _numeric_prefix(fn: str, op: Operand) -> str:
    prefix = _PREFIX.get(op.type)
    if prefix is None:
        if op.type == T.NULL:
            return "double"
        raise SqlError(f"Cannot apply '{fn}' to arguments of type '{fn}(<{op.type}>)'")
    return prefix


def _field(agg: dict[str, Any], op: Operand, ctx: NativeAggContext, inline: bool) -> dict[str, Any]:
    """``fieldName`` for a column, else an inline ``expression`` (sums, min, max) or a virtual column."""
    if op.column is not None:
        agg["fieldName"] = op.column
    elif inline:
        agg["expression"] = op.expr
    else:
        agg["fieldName"] = ctx.column_of(op)
    return agg


def _not_null(column: str) -> dict[str, Any]:
    return {"type": "not", "field": {"type": "null", "column": column}}


def _filtered(agg: dict[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    return {"type": "filtered", "name": agg["name"], "aggregator": agg, "filter": condition}


def _same_type(args: list[Operand], approx: bool) -> str:
    return args[0].type if args[0].type != T.NULL else T.DOUBLE


def _bigint(args: list[Operand], approx: bool) -> str:
    return T.BIGINT


def _double(args: list[Operand], approx: bool) -> str:
    return T.DOUBLE


def _literal_arg(call: AggCall, index: int, default: Any) -> Any:
    if len(call.args) <= index:
        return default
    op = call.args[index]
    if not op.is_constant:
        raise SqlError(f"Argument {index + 1} of {call.fn} must be a literal")
    return op.constant()


def _register(fn: AggregateFunction) -> None:
    AGGREGATES[fn.name] = fn


# --- the functions ------------------------------------------------------------------------------------


def _count(call: AggCall, ctx: NativeAggContext) -> NativeAgg:
    if call.distinct:
        return _approx_distinct(call, ctx)
    if not call.args or (call.args[0].is_constant and call.args[0].constant() is not None):
        return NativeAgg([{"type": "count", "name": call.name}], [])
    column = ctx.column_of(call.args[0])
    return NativeAgg([_filtered({"type": "count", "name": call.name}, _not_null(column))], [])


def _sum(call: AggCall, ctx: NativeAggContext) -> NativeAgg:
    arg = call.args[0]
    return NativeAgg(
        [_field({"type": f"{_numeric_prefix(call.fn, arg)}Sum", "name": call.name}, arg, ctx, True)], []
    )


def _min_max(op: str) -> Callable[[AggCall, NativeAggContext], NativeAgg]:
    def build(call: AggCall, ctx: NativeAggContext) -> NativeAgg:
        arg = call.args[0]
        agg = {"type": f"{_numeric_prefix(call.fn, arg)}{op}", "name": call.name}
        return NativeAgg([_field(agg, arg, ctx, True)], [])

    return build


def _avg(call: AggCall, ctx: NativeAggContext) -> NativeAgg:
    arg = call.args[0]
    prefix = _numeric_prefix("AVG", arg)
    total = _field(
        {"type": f"{'long' if prefix == 'long' else 'double'}Sum", "name": f"{call.name}:sum"}, arg, ctx, True
    )
    count: dict[str, Any] = {"type": "count", "name": f"{call.name}:count"}
    if arg.column is not None or not arg.is_constant:
        count = _filtered(count, _not_null(ctx.column_of(arg)))
    post = {
        "type": "arithmetic",
        "name": call.name,
        "fn": "quotient",
        "fields": [
            {"type": "fieldAccess", "fieldName": f"{call.name}:sum"},
            {"type": "fieldAccess", "fieldName": f"{call.name}:count"},
        ],
    }
    return NativeAgg([total, count], [post])


def _sketch(op: Operand) -> str | None:
    native = op.native or ""
    if native.startswith("COMPLEX<"):
        return native[len("COMPLEX<") : -1]
    return None


def _approx_distinct(call: AggCall, ctx: NativeAggContext) -> NativeAgg:
    """Druid's builtin approximate distinct count: ``cardinality`` (``hyperUnique`` on such columns)."""
    arg = call.args[0]
    sketch = _sketch(arg)
    if sketch == "hyperUnique":
        return NativeAgg(
            [{"type": "hyperUnique", "name": call.name, "fieldName": arg.column, "round": True}], []
        )
    if sketch is not None and sketch.startswith("HLLSketch"):
        return _hll(call, ctx)
    if sketch is not None and sketch.startswith("theta"):
        return _theta(call, ctx)
    column = ctx.column_of(arg)
    field = {"type": "default", "dimension": column, "outputName": column, "outputType": "STRING"}
    return NativeAgg(
        [{"type": "cardinality", "name": call.name, "fields": [field], "byRow": False, "round": True}], []
    )


def _hll(call: AggCall, ctx: NativeAggContext) -> NativeAgg:
    arg = call.args[0]
    sketch = _sketch(arg)
    agg: dict[str, Any] = {
        "type": "HLLSketchMerge" if sketch is not None else "HLLSketchBuild",
        "name": call.name,
        "fieldName": arg.column if sketch is not None else ctx.column_of(arg),
    }
    lg_k = _literal_arg(call, 1, None)
    if lg_k is not None:
        agg["lgK"] = lg_k
    tgt = _literal_arg(call, 2, None)
    if tgt is not None:
        agg["tgtHllType"] = tgt
    agg["round"] = True
    return NativeAgg([agg], [])


def _theta(call: AggCall, ctx: NativeAggContext) -> NativeAgg:
    arg = call.args[0]
    sketch = _sketch(arg)
    agg: dict[str, Any] = {
        "type": "thetaSketch",
        "name": call.name,
        "fieldName": arg.column if sketch is not None else ctx.column_of(arg),
        "isInputThetaSketch": sketch is not None,
        "shouldFinalize": True,
    }
    size = _literal_arg(call, 1, None)
    if size is not None:
        agg["size"] = size
    return NativeAgg([agg], [])


def _first_last(op: str, by: bool = False) -> Callable[[AggCall, NativeAggContext], NativeAgg]:
    def build(call: AggCall, ctx: NativeAggContext) -> NativeAgg:
        arg = call.args[0]
        family = _FAMILY.get(arg.type)
        if family is None:
            raise SqlError(f"Cannot apply '{call.fn}' to arguments of type '{call.fn}(<{arg.type}>)'")
        agg: dict[str, Any] = {"type": f"{family}{op}", "name": call.name, "fieldName": ctx.column_of(arg)}
        size_index = 2 if by else 1
        if by:
            agg["timeColumn"] = ctx.column_of(call.args[1])
        size = _literal_arg(call, size_index, None)
        if size is not None and family == "string":
            agg["maxStringBytes"] = size
        return NativeAgg([agg], [])

    return build


def _memory_type(args: list[Operand], approx: bool) -> str:
    return args[0].type if args[0].type != T.NULL else T.VARCHAR


_register(AggregateFunction("COUNT", 0, 1, _bigint, _count, "count"))
_register(AggregateFunction("SUM", 1, 1, _same_type, _sum, "sum"))
_register(AggregateFunction("MIN", 1, 1, _same_type, _min_max("Min"), "min"))
_register(AggregateFunction("MAX", 1, 1, _same_type, _min_max("Max"), "max"))
_register(AggregateFunction("AVG", 1, 1, _double, _avg, "mean"))
for _name in ("APPROX_COUNT_DISTINCT", "APPROX_COUNT_DISTINCT_BUILTIN"):
    _register(AggregateFunction(_name, 1, 1, _bigint, _approx_distinct, "count_distinct"))
_register(AggregateFunction("APPROX_COUNT_DISTINCT_DS_HLL", 1, 3, _bigint, _hll, "count_distinct"))
_register(AggregateFunction("APPROX_COUNT_DISTINCT_DS_THETA", 1, 2, _bigint, _theta, "count_distinct"))
_register(AggregateFunction("EARLIEST", 1, 2, _memory_type, _first_last("First"), "first"))
_register(AggregateFunction("LATEST", 1, 2, _memory_type, _first_last("Last"), "last"))
_register(AggregateFunction("EARLIEST_BY", 2, 3, _memory_type, _first_last("First", by=True), "first"))
_register(AggregateFunction("LATEST_BY", 2, 3, _memory_type, _first_last("Last", by=True), "last"))
_register(AggregateFunction("ANY_VALUE", 1, 2, _memory_type, _first_last("Any"), "first"))


def native_aggregation(call: AggCall, ctx: NativeAggContext, condition: dict[str, Any] | None) -> NativeAgg:
    """The native pieces of ``call``, each aggregator wrapped in ``condition`` when it has a FILTER."""
    fn = AGGREGATES[call.fn]
    if call.fn in ("MIN", "MAX", "SUM", "AVG") and call.args[0].type == T.VARCHAR:
        raise SqlError(f"Cannot apply '{call.fn}' to arguments of type '{call.fn}(<VARCHAR>)'")
    out = fn.native(call, ctx)
    if condition is not None:
        out.aggregators = [_filtered(a, condition) for a in out.aggregators]
    return out


def result_type(fn: str, args: list[Operand], distinct: bool) -> str:
    return AGGREGATES[fn].result_type(args, distinct)
