"""The SQL scalar functions grove plans, as builders of Druid expressions.

:data:`FUNCTIONS` maps a SQL function name to a :class:`Function`: its arity and a builder that takes
the translated arguments (:class:`~grove.sql.operand.Operand`) and returns the call's operand. Names
and semantics are Druid's (``docs/querying/sql-scalar.md``); each builder writes the native expression
Druid plans for the call (1-based SQL string positions become Druid's 0-based ones, and so on).

sqlglot parses many functions into node classes of its own; :func:`call_of` maps those back to the
SQL name and its arguments (time units become string literals), so the translator looks up one table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from grove.sql import operand as T
from grove.sql.context import PlannerContext
from grove.sql.errors import SqlError, SqlUnsupported
from grove.sql.operand import Operand, literal, literal_operand
from grove.sql.time import EXTRACT_UNITS, parse_interval, unit_name, unit_period

Builder = Callable[[list[Operand], PlannerContext], Operand]


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int
    build: Builder


FUNCTIONS: dict[str, Function] = {}


def apply(name: str, args: list[Operand], ctx: PlannerContext) -> Operand:
    """The operand of ``name(args)``; raises SqlError for unknown functions or a wrong arity."""
    fn = FUNCTIONS.get(name.upper())
    if fn is None:
        signature = ", ".join(f"<{a.type}>" for a in args)
        raise SqlError(f"No match found for function signature {name.upper()}({signature})")
    if not fn.min_args <= len(args) <= fn.max_args:
        raise SqlError(
            f"Invalid number of arguments to function '{fn.name}'. Was expecting {_arity(fn)} arguments"
        )
    out = fn.build(args, ctx)
    if out.is_constant and not out.has_value and all(a.is_constant for a in args):
        # Fold constant calls once, so that TIME_PARSE('...') and friends can become query intervals.
        value = out.constant()
        if not isinstance(value, list):
            return Operand(literal(value), out.type, value=value)
    return out


def _arity(fn: Function) -> str:
    return str(fn.min_args) if fn.min_args == fn.max_args else f"{fn.min_args} to {fn.max_args}"


def _register(name: str, min_args: int, max_args: int | None = None) -> Callable[[Builder], Builder]:
    def deco(build: Builder) -> Builder:
        for alias in name.split("|"):
            FUNCTIONS[alias] = Function(
                alias, min_args, max_args if max_args is not None else min_args, build
            )
        return build

    return deco


def _refs(args: Sequence[Operand]) -> frozenset[str]:
    return frozenset().union(*(a.refs for a in args))


def _call(fn: str, args: Sequence[Operand], sql_type: str) -> Operand:
    return Operand(f"{fn}({', '.join(a.expr for a in args)})", sql_type, _refs(args))


def _string_arg(op: Operand, what: str, fn: str) -> str:
    if not op.is_constant:
        raise SqlError(f"The {what} of {fn} must be a literal")
    value = op.constant()
    if not isinstance(value, str):
        raise SqlError(f"The {what} of {fn} must be a string literal")
    return value


def _tz(args: Sequence[Operand], index: int, ctx: PlannerContext, fn: str) -> Operand:
    if len(args) > index and not (args[index].has_value and args[index].value is None):
        return literal_operand(_string_arg(args[index], "time zone", fn), T.VARCHAR)
    return literal_operand(ctx.tz, T.VARCHAR)


def _timestamp(op: Operand, fn: str) -> Operand:
    if op.type not in T.TIMES and op.type not in T.NUMERIC and op.type != T.NULL:
        raise SqlError(f"Cannot apply '{fn}' to arguments of type '{fn}(<{op.type}>)'")
    return op


# --- time --------------------------------------------------------------------------------------------


def floor_operand(
    ts: Operand, period: str, origin: Operand | None, tz: Operand, fn: str = "timestamp_floor"
) -> Operand:
    origin_expr = origin.expr if origin is not None else "null"
    text = f"{fn}({ts.expr}, {literal(period)}, {origin_expr}, {tz.expr})"
    return Operand(text, T.TIMESTAMP, ts.refs | (origin.refs if origin else frozenset()))


def _floor_ceil(fn: str, name: str) -> Builder:
    def build(args: list[Operand], ctx: PlannerContext) -> Operand:
        ts = _timestamp(args[0], name)
        period = _string_arg(args[1], "period", name)
        origin = args[2] if len(args) > 2 and not (args[2].has_value and args[2].value is None) else None
        return floor_operand(ts, period, origin, _tz(args, 3, ctx, name), fn)

    return build


FUNCTIONS["TIME_FLOOR"] = Function("TIME_FLOOR", 2, 4, _floor_ceil("timestamp_floor", "TIME_FLOOR"))
FUNCTIONS["TIME_CEIL"] = Function("TIME_CEIL", 2, 4, _floor_ceil("timestamp_ceil", "TIME_CEIL"))


def _unit_floor(fn: str, name: str) -> Builder:
    """FLOOR/CEIL(x TO unit) for timestamps, and FLOOR/CEIL(x) for numbers."""

    def build(args: list[Operand], ctx: PlannerContext) -> Operand:
        if len(args) == 1:
            x = args[0]
            if x.type not in T.NUMERIC:
                raise SqlError(f"Cannot apply '{name}' to arguments of type '{name}(<{x.type}>)'")
            return _call(name.lower(), args, T.BIGINT if x.type == T.BIGINT else x.type)
        ts = _timestamp(args[0], name)
        out = floor_operand(
            ts, unit_period(_string_arg(args[1], "unit", name)), None, literal_operand(ctx.tz, T.VARCHAR), fn
        )
        return Operand(out.expr, T.DATE if ts.type == T.DATE else T.TIMESTAMP, out.refs)

    return build


FUNCTIONS["FLOOR"] = Function("FLOOR", 1, 2, _unit_floor("timestamp_floor", "FLOOR"))
FUNCTIONS["CEIL"] = Function("CEIL", 1, 2, _unit_floor("timestamp_ceil", "CEIL"))


@_register("DATE_TRUNC", 2)
def _date_trunc(args: list[Operand], ctx: PlannerContext) -> Operand:
    period = unit_period(_string_arg(args[0], "unit", "DATE_TRUNC"))
    return floor_operand(_timestamp(args[1], "DATE_TRUNC"), period, None, literal_operand(ctx.tz, T.VARCHAR))


@_register("TIME_SHIFT", 3, 4)
def _time_shift(args: list[Operand], ctx: PlannerContext) -> Operand:
    period = literal_operand(_string_arg(args[1], "period", "TIME_SHIFT"), T.VARCHAR)
    return _call(
        "timestamp_shift",
        [_timestamp(args[0], "TIME_SHIFT"), period, args[2], _tz(args, 3, ctx, "TIME_SHIFT")],
        T.TIMESTAMP,
    )


@_register("TIMESTAMPADD", 3)
def _timestamp_add(args: list[Operand], ctx: PlannerContext) -> Operand:
    period = unit_period(_string_arg(args[0], "unit", "TIMESTAMPADD"))
    shift = [
        _timestamp(args[2], "TIMESTAMPADD"),
        literal_operand(period, T.VARCHAR),
        args[1],
        literal_operand(ctx.tz, T.VARCHAR),
    ]
    return _call("timestamp_shift", shift, T.TIMESTAMP)


def _extract(args: list[Operand], unit: str, ctx: PlannerContext, tz: Operand | None = None) -> Operand:
    if unit not in EXTRACT_UNITS:
        raise SqlError(f"Unsupported time unit [{unit}] in EXTRACT")
    ts = _timestamp(args[0], "EXTRACT")
    zone = tz if tz is not None else literal_operand(ctx.tz, T.VARCHAR)
    out_type = T.DOUBLE if unit in ("CENTURY", "MILLENNIUM") else T.BIGINT
    return _call("timestamp_extract", [ts, literal_operand(unit, T.VARCHAR), zone], out_type)


@_register("EXTRACT", 2)
def _extract_sql(args: list[Operand], ctx: PlannerContext) -> Operand:
    return _extract([args[1]], _string_arg(args[0], "unit", "EXTRACT").upper(), ctx)


@_register("TIME_EXTRACT", 1, 3)
def _time_extract(args: list[Operand], ctx: PlannerContext) -> Operand:
    unit = _string_arg(args[1], "unit", "TIME_EXTRACT").upper() if len(args) > 1 else "MILLISECOND"
    return _extract(args, unit, ctx, _tz(args, 2, ctx, "TIME_EXTRACT"))


@_register("TIME_FORMAT", 1, 3)
def _time_format(args: list[Operand], ctx: PlannerContext) -> Operand:
    pattern = args[1] if len(args) > 1 else literal_operand(None, T.NULL)
    return _call(
        "timestamp_format",
        [_timestamp(args[0], "TIME_FORMAT"), pattern, _tz(args, 2, ctx, "TIME_FORMAT")],
        T.VARCHAR,
    )


@_register("TIME_PARSE", 1, 3)
def _time_parse(args: list[Operand], ctx: PlannerContext) -> Operand:
    pattern = args[1] if len(args) > 1 else literal_operand(None, T.NULL)
    return _call("timestamp_parse", [args[0], pattern, _tz(args, 2, ctx, "TIME_PARSE")], T.TIMESTAMP)


@_register("TIME_IN_INTERVAL", 2)
def _time_in_interval(args: list[Operand], ctx: PlannerContext) -> Operand:
    ts = _timestamp(args[0], "TIME_IN_INTERVAL")
    start, end = parse_interval(_string_arg(args[1], "interval", "TIME_IN_INTERVAL"))
    return Operand(f"(({ts.expr} >= {start}) && ({ts.expr} < {end}))", T.BOOLEAN, ts.refs)


@_register("MILLIS_TO_TIMESTAMP", 1)
def _millis_to_timestamp(args: list[Operand], ctx: PlannerContext) -> Operand:
    x = args[0]
    if x.type not in T.NUMERIC and x.type != T.NULL:
        raise SqlError(f"Cannot apply 'MILLIS_TO_TIMESTAMP' to arguments of type '<{x.type}>'")
    return Operand(x.expr, T.TIMESTAMP, x.refs, x.column, x.native, value=x.value)


@_register("TIMESTAMP_TO_MILLIS", 1)
def _timestamp_to_millis(args: list[Operand], ctx: PlannerContext) -> Operand:
    x = _timestamp(args[0], "TIMESTAMP_TO_MILLIS")
    return Operand(x.expr, T.BIGINT, x.refs, x.column, x.native, value=x.value)


@_register("CURRENT_TIMESTAMP|NOW|LOCALTIMESTAMP", 0)
def _now(args: list[Operand], ctx: PlannerContext) -> Operand:
    return Operand(str(ctx.now), T.TIMESTAMP, value=ctx.now)


@_register("CURRENT_DATE", 0)
def _today(args: list[Operand], ctx: PlannerContext) -> Operand:
    out = floor_operand(_now([], ctx), "P1D", None, literal_operand(ctx.tz, T.VARCHAR))
    value = out.constant()
    return Operand(str(value), T.DATE, value=value)


# --- strings -----------------------------------------------------------------------------------------


def _strings(
    name: str, fn: str, min_args: int, max_args: int | None = None, sql_type: str = T.VARCHAR
) -> None:
    def build(args: list[Operand], ctx: PlannerContext) -> Operand:
        return _call(fn, args, sql_type)

    for alias in name.split("|"):
        FUNCTIONS[alias] = Function(alias, min_args, max_args if max_args is not None else min_args, build)


_strings("LOWER", "lower", 1)
_strings("UPPER", "upper", 1)
_strings("LENGTH|CHAR_LENGTH|CHARACTER_LENGTH|STRLEN", "strlen", 1, sql_type=T.BIGINT)
_strings("REPLACE", "replace", 3)
_strings("REVERSE", "reverse", 1)
_strings("LEFT", "left", 2)
_strings("RIGHT", "right", 2)
_strings("REPEAT", "repeat", 2)
_strings("LPAD", "lpad", 3)
_strings("RPAD", "rpad", 3)
_strings("CONTAINS_STRING", "contains_string", 2, sql_type=T.BOOLEAN)
_strings("ICONTAINS_STRING", "icontains_string", 2, sql_type=T.BOOLEAN)
_strings("REGEXP_LIKE", "regexp_like", 2, sql_type=T.BOOLEAN)
_strings("REGEXP_EXTRACT", "regexp_extract", 2, 3)
_strings("REGEXP_REPLACE", "regexp_replace", 3)


@_register("CONCAT|TEXTCAT", 1, 1000)
def _concat(args: list[Operand], ctx: PlannerContext) -> Operand:
    return _call("concat", args, T.VARCHAR)


@_register("SUBSTRING|SUBSTR", 2, 3)
def _substring(args: list[Operand], ctx: PlannerContext) -> Operand:
    start = args[1]
    begin = (
        literal_operand(start.value - 1, T.BIGINT)
        if start.has_value and start.value is not None
        else Operand(f"({start.expr} - 1)", T.BIGINT, start.refs)
    )
    length = args[2] if len(args) > 2 else literal_operand(-1, T.BIGINT)
    return _call("substring", [args[0], begin, length], T.VARCHAR)


def _trim(fn: str) -> Builder:
    def build(args: list[Operand], ctx: PlannerContext) -> Operand:
        chars = args[1] if len(args) > 1 else literal_operand(" ", T.VARCHAR)
        return _call(fn, [args[0], chars], T.VARCHAR)

    return build


FUNCTIONS["TRIM"] = FUNCTIONS["BTRIM"] = Function("TRIM", 1, 2, _trim("trim"))
FUNCTIONS["LTRIM"] = Function("LTRIM", 1, 2, _trim("ltrim"))
FUNCTIONS["RTRIM"] = Function("RTRIM", 1, 2, _trim("rtrim"))


@_register("STRPOS|POSITION", 2)
def _strpos(args: list[Operand], ctx: PlannerContext) -> Operand:
    inner = _call("strpos", args[:2], T.BIGINT)
    return Operand(f"({inner.expr} + 1)", T.BIGINT, inner.refs)


@_register("LOOKUP", 2, 3)
def _lookup(args: list[Operand], ctx: PlannerContext) -> Operand:
    """Druid's ``lookup(expr, 'name'[, 'replaceMissingValueWith'])``, the name checked in the catalog.

    A constant key is looked up at once (the lookup belongs to the statement being planned).
    """
    name = _string_arg(args[1], "lookup name", "LOOKUP")
    found = ctx.catalog.lookup(name) if ctx.catalog is not None else None
    if found is None:
        raise SqlError(f"Lookup [{name}] not found")
    replace: str | None = None
    if len(args) > 2 and not (args[2].has_value and args[2].value is None):
        replace = _string_arg(args[2], "replaceMissingValueWith", "LOOKUP")
    key = args[0]
    if key.is_constant:
        text = _call("cast", [key, literal_operand("STRING", T.VARCHAR)], T.VARCHAR).constant()
        value = found.map.get(text, replace) if text is not None else replace
        return literal_operand(value, T.VARCHAR)
    parts = [key, literal_operand(name, T.VARCHAR)]
    if replace is not None:
        parts.append(literal_operand(replace, T.VARCHAR))
    return _call("lookup", parts, T.VARCHAR)


# --- conditionals and math ---------------------------------------------------------------------------


@_register("COALESCE|NVL|IFNULL", 2, 1000)
def _coalesce(args: list[Operand], ctx: PlannerContext) -> Operand:
    from_types = [a for a in args if a.type != T.NULL]
    out_type = from_types[0].type if from_types else T.VARCHAR
    if all(a.type in T.NUMERIC or a.type == T.NULL for a in args) and from_types:
        for a in from_types[1:]:
            out_type = T.common_numeric(out_type, a.type)
    fn = "nvl" if len(args) == 2 else "coalesce"
    return _call(fn, args, out_type)


@_register("NULLIF", 2)
def _nullif(args: list[Operand], ctx: PlannerContext) -> Operand:
    a, b = args
    text = f"case_searched(({a.expr} == {b.expr}), null, {a.expr})"
    return Operand(text, a.type, a.refs | b.refs)


@_register("NVL2", 3)
def _nvl2(args: list[Operand], ctx: PlannerContext) -> Operand:
    a, b, c = args
    return Operand(
        f"if(notnull({a.expr}), {b.expr}, {c.expr})", b.type if b.type != T.NULL else c.type, _refs(args)
    )


def _math(
    name: str, fn: str, min_args: int, max_args: int | None = None, sql_type: str | None = None
) -> None:
    def build(args: list[Operand], ctx: PlannerContext) -> Operand:
        for a in args:
            if a.type not in T.NUMERIC and a.type not in (T.NULL, T.BOOLEAN):
                raise SqlError(f"Cannot apply '{name}' to arguments of type '{name}(<{a.type}>)'")
        out = sql_type or (args[0].type if args[0].type in T.NUMERIC else T.DOUBLE)
        return _call(fn, args, out)

    FUNCTIONS[name] = Function(name, min_args, max_args if max_args is not None else min_args, build)


_math("ABS", "abs", 1)
_math("EXP", "exp", 1, sql_type=T.DOUBLE)
_math("LN", "log", 1, sql_type=T.DOUBLE)
_math("LOG10", "log10", 1, sql_type=T.DOUBLE)
_math("SQRT", "sqrt", 1, sql_type=T.DOUBLE)
_math("POWER", "pow", 2, sql_type=T.DOUBLE)
_math("ROUND", "round", 1, 2)
_math("GREATEST", "greatest", 1, 1000)
_math("LEAST", "least", 1, 1000)
_math("SAFE_DIVIDE", "safe_divide", 2)
_math("SIN", "sin", 1, sql_type=T.DOUBLE)
_math("COS", "cos", 1, sql_type=T.DOUBLE)
_math("TAN", "tan", 1, sql_type=T.DOUBLE)


@_register("MOD", 2)
def _mod(args: list[Operand], ctx: PlannerContext) -> Operand:
    a, b = args
    return Operand(
        f"({a.expr} % {b.expr})",
        T.common_numeric(a.type, b.type) if a.type in T.NUMERIC and b.type in T.NUMERIC else T.BIGINT,
        a.refs | b.refs,
    )


@_register("TRUNCATE|TRUNC", 1, 2)
def _truncate(args: list[Operand], ctx: PlannerContext) -> Operand:
    x = args[0]
    digits = args[1].constant() if len(args) > 1 else 0
    if not isinstance(digits, int):
        raise SqlError("The digits of TRUNCATE must be an integer literal")
    factor = 10**digits if digits >= 0 else None
    if x.type == T.BIGINT and digits >= 0:
        return x
    if factor is None:
        scale = 10 ** (-digits)
        return Operand(f"(cast(cast({x.expr} / {scale}, 'LONG'), 'DOUBLE') * {scale})", x.type, x.refs)
    text = f"(cast(cast({x.expr} * {factor}, 'LONG'), 'DOUBLE') / {factor})"
    return Operand(text, T.DOUBLE, x.refs)


@_register("DIV", 2)
def _div(args: list[Operand], ctx: PlannerContext) -> Operand:
    return _call("div", args, T.BIGINT)


# --- sqlglot's node classes back to SQL names ---------------------------------------------------------


def _unit_literal(node: exp.Expression) -> exp.Expression:
    return exp.Literal.string(unit_name(node))


def _floor_args(node: exp.Expression) -> list[exp.Expression]:
    if node.args.get("to") is not None:
        return [node.this, _unit_literal(node.args["to"])]
    if node.args.get("decimals") is not None:
        raise SqlUnsupported(f"{node.key.upper()} with decimals is not supported by grove")
    return [node.this]


def _trim_name(node: exp.Expression) -> str:
    position = str(node.args.get("position") or "BOTH").upper()
    return {"LEADING": "LTRIM", "TRAILING": "RTRIM"}.get(position, "TRIM")


def _args(*names: str) -> Callable[[exp.Expression], list[exp.Expression]]:
    def pick(node: exp.Expression) -> list[exp.Expression]:
        return [node.args[n] for n in names if node.args.get(n) is not None]

    return pick


def _this_and_list(node: exp.Expression) -> list[exp.Expression]:
    return [node.this, *node.expressions]


_NODES: dict[
    type[exp.Expression],
    tuple[str | Callable[[exp.Expression], str], Callable[[exp.Expression], list[exp.Expression]]],
] = {
    exp.Lower: ("LOWER", _args("this")),
    exp.Upper: ("UPPER", _args("this")),
    exp.Length: ("LENGTH", _args("this")),
    exp.Substring: ("SUBSTRING", _args("this", "start", "length")),
    exp.StrPosition: ("STRPOS", _args("this", "substr")),
    exp.Trim: (_trim_name, _args("this", "expression")),
    exp.Replace: ("REPLACE", _args("this", "expression", "replacement")),
    exp.Concat: ("CONCAT", lambda n: list(n.expressions)),
    exp.Nullif: ("NULLIF", _args("this", "expression")),
    exp.Nvl2: ("NVL2", _args("this", "true", "false")),
    exp.Floor: ("FLOOR", _floor_args),
    exp.Ceil: ("CEIL", _floor_args),
    exp.DateTrunc: ("DATE_TRUNC", lambda n: [_unit_literal(n.args["unit"]), n.this]),
    exp.Extract: ("EXTRACT", lambda n: [_unit_literal(n.this), n.expression]),
    exp.Abs: ("ABS", _args("this")),
    exp.Exp: ("EXP", _args("this")),
    exp.Sqrt: ("SQRT", _args("this")),
    exp.Ln: ("LN", _args("this")),
    exp.Pow: ("POWER", _args("this", "expression")),
    exp.Round: ("ROUND", _args("this", "decimals")),
    exp.Trunc: ("TRUNCATE", _args("this", "decimals")),
    exp.Greatest: ("GREATEST", _this_and_list),
    exp.Least: ("LEAST", _this_and_list),
    exp.Left: ("LEFT", _args("this", "expression")),
    exp.Right: ("RIGHT", _args("this", "expression")),
    exp.Reverse: ("REVERSE", _args("this")),
    exp.Repeat: ("REPEAT", _args("this", "times")),
    exp.Pad: (
        lambda n: "LPAD" if n.args.get("is_left") else "RPAD",
        _args("this", "expression", "fill_pattern"),
    ),
    exp.RegexpExtract: ("REGEXP_EXTRACT", _args("this", "expression", "group")),
    exp.RegexpLike: ("REGEXP_LIKE", _args("this", "expression")),
    exp.CurrentTimestamp: ("CURRENT_TIMESTAMP", lambda n: []),
    exp.CurrentDate: ("CURRENT_DATE", lambda n: []),
    exp.Sin: ("SIN", _args("this")),
    exp.Cos: ("COS", _args("this")),
    exp.Tan: ("TAN", _args("this")),
}


def call_of(node: exp.Expression) -> tuple[str, list[exp.Expression]] | None:
    """The SQL function name and argument nodes of a function-call node, or None if it is none."""
    if isinstance(node, exp.Anonymous):
        name = str(node.this).upper()
        args = list(node.expressions)
        if name == "TIMESTAMPADD" and args:
            args[0] = _unit_literal(args[0])
        return name, args
    if isinstance(node, exp.Log):
        base = node.this
        if node.expression is None:
            return "LN", [base]
        if isinstance(base, exp.Literal) and str(base.this) == "10":
            return "LOG10", [node.expression]
        raise SqlUnsupported("LOG with a base other than 10 is not supported by grove")
    found = _NODES.get(type(node))
    if found is None:
        return None
    naming, pick = found
    return (naming if isinstance(naming, str) else naming(node)), pick(node)
