"""SQL conditions as Druid's native filters.

A comparison of a column with a constant becomes the filter Druid plans for it in SQL-compatible mode
(``equals`` — ``selector`` for strings —, ``range``, ``in``, ``null``, ``like``; ``<>`` and NOT as ``not``), which the engine runs
on dictionaries and bitmaps and which carry SQL's three-valued logic. An IN list stays one ``in``
filter, however long. When one side is an expression over columns, it is given a virtual column (if
the query can have them) and filtered the same way; anything else becomes an ``expression`` filter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from grove.sql import operand as T
from grove.sql.expressions import COMPARISONS, Translator, coerce_pair, coerce_value
from grove.sql.operand import Operand
from grove.sql.tree import flatten

TRUE: dict[str, Any] = {"type": "true"}
FALSE: dict[str, Any] = {"type": "false"}
# A condition that is null (unknown) for every row, such as a comparison with NULL: no row passes it or
# its negation. Only built here; :func:`_settle` turns it into true or false before the filter leaves.
UNKNOWN: dict[str, Any] = {"type": "unknown"}

_RANGE_OPS: dict[type[exp.Expression], tuple[str, bool]] = {
    exp.GT: ("lower", True),
    exp.GTE: ("lower", False),
    exp.LT: ("upper", True),
    exp.LTE: ("upper", False),
}
_FLIPPED: dict[type[exp.Expression], type[exp.Expression]] = {
    exp.GT: exp.LT,
    exp.GTE: exp.LTE,
    exp.LT: exp.GT,
    exp.LTE: exp.GTE,
    exp.EQ: exp.EQ,
    exp.NEQ: exp.NEQ,
}
_MATCH_TYPES = {T.VARCHAR: "STRING", T.DOUBLE: "DOUBLE", T.FLOAT: "FLOAT"}


class FilterBuilder:
    """Builds native filters for conditions translated by ``tr``.

    ``column_of`` gives an expression operand a column (a virtual column); None where the query can
    have none (a groupBy ``having``), in which case such conditions become expression filters.
    """

    def __init__(self, tr: Translator, column_of: Callable[[Operand], str] | None) -> None:
        self.tr = tr
        self.column_of = column_of

    def build(self, node: exp.Expression) -> dict[str, Any]:
        """The native filter of a boolean SQL expression."""
        return _simplify(_settle(self._build(node)))

    def _build(self, node: exp.Expression) -> dict[str, Any]:
        while isinstance(node, exp.Paren):
            node = node.this
        kind = type(node)
        if kind is exp.And or kind is exp.Or:
            fields = [self._build(n) for n in flatten(node, kind)]
            return {"type": "and" if kind is exp.And else "or", "fields": fields}
        if kind is exp.Not:
            return {"type": "not", "field": self._build(node.this)}
        if kind in _FLIPPED:
            return self._comparison(node)
        if isinstance(node, exp.Between):
            return self._between(node)
        if isinstance(node, exp.In):
            return self._in(node)
        if kind is exp.Like or kind is exp.Escape:
            return self._like(node)
        if kind is exp.Is and isinstance(node.expression, exp.Null):
            subject = self.tr.translate(node.this)
            column = self._column(subject)
            if column is None:
                return self._expression(self.tr.translate(node))
            return {"type": "null", "column": column}
        return self._expression(self.tr.translate(node))

    # --- leaves ---------------------------------------------------------------------------------------

    def _expression(self, op: Operand) -> dict[str, Any]:
        if op.is_constant:
            value = op.constant()
            if value is None:
                return UNKNOWN
            return TRUE if value not in (0, "", False) else FALSE
        return {"type": "expression", "expression": op.expr}

    def _column(self, op: Operand) -> str | None:
        if op.column is not None:
            return op.column
        if op.is_constant or self.column_of is None or op.type == T.OTHER:
            return None
        return self.column_of(op)

    def _comparison(self, node: exp.Expression) -> dict[str, Any]:
        left, right = self.tr.translate(node.this), self.tr.translate(node.expression)
        left, right = coerce_pair(left, right, self.tr.ctx.tz)
        op: type[exp.Expression] = type(node)
        if left.is_constant and not right.is_constant:
            left, right, op = right, left, _FLIPPED[op]
        if not right.is_constant or left.is_constant:
            return self._expression(self.tr.compare(node.this, COMPARISONS[op], node.expression))
        value = right.constant()
        if value is None:
            return UNKNOWN
        column = self._column(left)
        if column is None:
            return self._expression(self.tr.compare(node.this, COMPARISONS[op], node.expression))
        match_type, match = _match(value, left.type)
        if op is exp.EQ or op is exp.NEQ:
            eq = _equality(column, match_type, match)
            return eq if op is exp.EQ else {"type": "not", "field": eq}
        side, is_open = _RANGE_OPS[op]
        out: dict[str, Any] = {"type": "range", "column": column, "matchValueType": match_type, side: match}
        if is_open:
            out[f"{side}Open"] = True
        return out

    def _between(self, node: exp.Between) -> dict[str, Any]:
        subject = self.tr.translate(node.this)
        low, high = self.tr.translate(node.args["low"]), self.tr.translate(node.args["high"])
        _, low = coerce_pair(subject, low, self.tr.ctx.tz)
        _, high = coerce_pair(subject, high, self.tr.ctx.tz)
        column = self._column(subject)
        if column is None or not low.is_constant or not high.is_constant:
            return self._expression(self.tr.translate(node))
        lo, hi = low.constant(), high.constant()
        if lo is None or hi is None:  # x >= lo AND x <= hi, one of them unknown
            halves = [_half(column, "lower", lo, subject.type), _half(column, "upper", hi, subject.type)]
            return {"type": "and", "fields": halves}
        lo_type, lo_value = _match(lo, subject.type)
        hi_type, hi_value = _match(hi, subject.type)
        match_type = lo_type if lo_type == hi_type else "DOUBLE"
        return {
            "type": "range",
            "column": column,
            "matchValueType": match_type,
            "lower": lo_value,
            "upper": hi_value,
        }

    def _in_values(self, node: exp.In) -> list[Any] | None:
        items = node.expressions
        values = self.tr.ctx.in_list(items[0]) if len(items) == 1 else None
        if values is not None:
            return values
        operands = [self.tr.translate(i) for i in items]
        if not all(o.is_constant for o in operands):
            return None
        return [o.constant() for o in operands]

    def _in(self, node: exp.In) -> dict[str, Any]:
        subject = self.tr.translate(node.this)
        values = self._in_values(node) if node.args.get("query") is None else None
        column = self._column(subject) if values is not None else None
        if values is None or column is None:
            return self._expression(self.tr.translate(node))
        if subject.type == T.VARCHAR and getattr(values, "strings", False):
            kept = dict.fromkeys(values)  # strings matched with a string column: no conversion
            kept.pop(None, None)
        else:
            tz = self.tr.ctx.tz
            kept = dict.fromkeys(_in_text(coerce_value(v, subject.type, tz)) for v in values if v is not None)
        found = {"type": "in", "dimension": column, "values": list(kept)} if kept else FALSE
        # x IN (..., NULL) is true for the values and unknown otherwise, so NOT IN with a NULL is never true
        return {"type": "or", "fields": [found, UNKNOWN]} if any(v is None for v in values) else found

    def _like(self, node: exp.Expression) -> dict[str, Any]:
        escape = None
        whole = node
        if isinstance(node, exp.Escape):
            escape = self.tr.translate(node.expression)
            node = node.this
        subject, pattern = self.tr.translate(node.this), self.tr.translate(node.expression)
        column = self._column(subject)
        if column is None or not pattern.is_constant or (escape is not None and not escape.is_constant):
            return self._expression(self.tr.translate(whole))
        text = pattern.constant()
        if text is None:
            return UNKNOWN
        out: dict[str, Any] = {"type": "like", "dimension": column, "pattern": str(text)}
        if escape is not None:
            out["escape"] = escape.constant()
        return {"type": "not", "field": out} if node.args.get("negate") else out


def _equality(column: str, match_type: str, match: Any) -> dict[str, Any]:
    """``column = match``: a ``selector`` for strings, a typed ``equals`` otherwise.

    Druid 28+ plans ``equals`` for both; under SQL-compatible null handling a string ``selector`` is
    the same filter (also under NOT: neither matches nulls), and the engine's fast path reads it
    straight from the column's value index.
    """
    if match_type == "STRING":
        return {"type": "selector", "dimension": column, "value": match}
    return {"type": "equals", "column": column, "matchValueType": match_type, "matchValue": match}


def _match(value: Any, column_type: str) -> tuple[str, Any]:
    """(matchValueType, matchValue) of a constant compared with a column of ``column_type``."""
    if isinstance(value, bool):
        return "LONG", int(value)
    if isinstance(value, int):
        return ("DOUBLE", float(value)) if column_type in (T.DOUBLE, T.FLOAT) else ("LONG", value)
    if isinstance(value, float):
        return "DOUBLE", value
    return _MATCH_TYPES.get(column_type, "STRING"), value


def _half(column: str, side: str, value: Any, column_type: str) -> dict[str, Any]:
    """One bound of a BETWEEN as a range filter; UNKNOWN for a NULL bound."""
    if value is None:
        return UNKNOWN
    match_type, match = _match(value, column_type)
    return {"type": "range", "column": column, "matchValueType": match_type, side: match}


def _in_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 2**53 else repr(value)
    return str(value)


def _settle(f: dict[str, Any], negated: bool = False) -> dict[str, Any]:
    """``f`` with each UNKNOWN replaced by false, or by true where an odd number of NOTs negate it.

    Pushed down through AND and OR (De Morgan's laws hold in three-valued logic), the NOTs above an
    UNKNOWN leave it unknown, and a condition built of AND and OR over it is true exactly when it is
    with false in its place; before the NOTs are pushed down, that false reads as a negated true.
    """
    kind = f["type"]
    if kind == "unknown":
        return TRUE if negated else FALSE
    if kind == "not":
        return {"type": "not", "field": _settle(f["field"], not negated)}
    if kind in ("and", "or"):
        return {"type": kind, "fields": [_settle(c, negated) for c in f["fields"]]}
    return f


def _simplify(f: dict[str, Any]) -> dict[str, Any]:
    """Fold true/false through and/or/not, drop one-field and/or, and merge ORed equalities into ``in``."""
    kind = f["type"]
    if kind == "not":
        inner = _simplify(f["field"])
        if inner["type"] in ("true", "false"):
            return FALSE if inner["type"] == "true" else TRUE
        return {"type": "not", "field": inner}
    if kind not in ("and", "or"):
        return f
    absorbing, neutral = ("false", "true") if kind == "and" else ("true", "false")
    fields = []
    for child in (_simplify(c) for c in f["fields"]):
        if child["type"] == absorbing:
            return child
        if child["type"] == neutral:
            continue
        if child["type"] == kind:
            fields.extend(child["fields"])
        else:
            fields.append(child)
    if kind == "or":
        fields = _merge_equalities(fields)
    if not fields:
        return TRUE if kind == "and" else FALSE
    return fields[0] if len(fields) == 1 else {"type": kind, "fields": fields}


def _merge_equalities(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``a = 'x' OR a = 'y' OR a IN (...)`` on one column becomes a single ``in`` filter
    (where the first of them was)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    slots: list[Any] = []
    for f in fields:
        column = None
        if f["type"] == "selector" or f["type"] == "in":
            column = f["dimension"]
        if column is None:
            slots.append(f)
        else:
            if column not in groups:
                groups[column] = []
                slots.append(column)
            groups[column].append(f)
    out = []
    for slot in slots:
        if isinstance(slot, dict):
            out.append(slot)
            continue
        group = groups[slot]
        if len(group) == 1:
            out.append(group[0])
            continue
        values: list[Any] = []
        for f in group:
            values.extend(f["values"] if f["type"] == "in" else [f["value"]])
        out.append({"type": "in", "dimension": slot, "values": list(dict.fromkeys(values))})
    return out
