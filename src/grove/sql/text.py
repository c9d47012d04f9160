"""The statement text before parsing: EXPLAIN, ``?`` parameters, and literal IN lists.

:func:`prepare` makes one linear pass over the text (a regular expression that steps over string
literals, quoted identifiers and comments, so nothing inside them is touched) and:

* strips ``EXPLAIN PLAN FOR`` and a trailing ``;``;
* binds ``?`` placeholders, in order, to the typed ``parameters`` of the request, written as SQL
  literals (Druid binds parameters as literals too);
* lifts every IN list made only of literals out of the text: ``x IN ('a', 'b', ...)`` becomes
  ``x IN ("<marker>")`` and the values are kept aside as Python values. A 10,000-value list then costs
  one regular-expression match instead of 10,000 parser objects, and the text left is the same for
  every list, so its parse is cached.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from grove.sql.errors import SqlError

IN_LIST_PREFIX = "__grove_in_list_"

_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+PLAN\s+(?:(?:WITH|WITHOUT)\s+\w+\s+)*FOR\s+", re.IGNORECASE)
_SCAN = re.compile(
    r"""'[^']*(?:''[^']*)*'   # string literal
      |"[^"]*(?:""[^"]*)*"    # quoted identifier
      |--[^\n]*               # line comment
      |/\*.*?\*/              # block comment
      |(?P<param>\?)
      |(?P<in>\bIN\s*\()""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
_LITERAL = r"(?:'[^']*(?:''[^']*)*'|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NULL\b)"
_LIST = re.compile(rf"\s*{_LITERAL}(?:\s*,\s*{_LITERAL})*\s*\)", re.IGNORECASE)
_STRING_LITERAL = r"'[^']*(?:''[^']*)*'"
_STRING_LIST = re.compile(rf"\s*{_STRING_LITERAL}(?:\s*,\s*{_STRING_LITERAL})*\s*\)")
_STRING = re.compile(r"'([^']*(?:''[^']*)*)'")
_ITEM = re.compile(r"'([^']*(?:''[^']*)*)'|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(NULL)", re.IGNORECASE)

_STRING_TYPES = frozenset({"VARCHAR", "CHAR", "STRING"})
_INTEGER_TYPES = frozenset({"BIGINT", "INTEGER", "INT", "SMALLINT", "TINYINT", "LONG"})
_FLOAT_TYPES = frozenset({"DOUBLE", "FLOAT", "REAL", "DECIMAL"})


class LiteralList(list[Any]):
    """The values of a lifted IN list; ``strings`` when every value is a string literal."""

    strings: bool = False


@dataclass
class Prepared:
    """The text to parse, whether it was an EXPLAIN, and the IN lists lifted out of it."""

    text: str
    explain: bool = False
    in_lists: list[LiteralList] = field(default_factory=list)


def prepare(sql: str, parameters: list[dict[str, Any]] | None = None) -> Prepared:
    """Strip EXPLAIN, bind parameters and lift literal IN lists (see the module docstring).

    Raises SqlError when the number of ``?`` placeholders and parameters differ, or a parameter's
    type or value cannot be written as a SQL literal.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise SqlError("The SQL statement is empty")
    text = sql.strip()
    explain = False
    m = _EXPLAIN.match(text)
    if m:
        explain = True
        text = text[m.end() :]
    text = text.rstrip().rstrip(";").rstrip()
    params = list(parameters or [])
    if params or "?" in text:
        text = _bind(text, params)
    text, lists = _lift(text)
    return Prepared(text, explain, lists)


def _bind(text: str, params: list[Any]) -> str:
    """``text`` with each ``?`` placeholder replaced by its parameter's SQL literal."""
    out: list[str] = []
    pos = 0
    used = 0
    for m in _SCAN.finditer(text):
        if m.group("param") is None:
            continue
        if used >= len(params):
            raise SqlError(f"No value bound for parameter (position [{used + 1}])")
        out.append(text[pos : m.start()])
        out.append(_parameter_literal(params[used], used))
        used += 1
        pos = m.end()
    out.append(text[pos:])
    if used != len(params):
        raise SqlError(f"The statement has [{used}] parameter placeholders but [{len(params)}] parameters")
    return "".join(out)


def _lift(text: str) -> tuple[str, list[LiteralList]]:
    """``text`` with every literal IN list replaced by a marker, and the lists' values."""
    out: list[str] = []
    lists: list[LiteralList] = []
    pos = 0
    search = _SCAN.search
    while True:
        m = search(text, pos)
        if m is None:
            break
        if m.group("in") is not None:
            strings = _STRING_LIST.match(text, m.end())
            body = strings or _LIST.match(text, m.end())
            if body is not None:
                out.append(text[pos : m.end()])
                out.append(f'"{IN_LIST_PREFIX}{len(lists)}")')
                lists.append(_values(text[m.end() : body.end() - 1], strings is not None))
                pos = body.end()
                continue
        # A literal, identifier, comment or an IN of expressions: copied untouched.
        out.append(text[pos : m.end()])
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), lists


def _values(body: str, strings_only: bool) -> LiteralList:
    """The Python values of a list of SQL literals (the text between the parentheses)."""
    if strings_only:
        # Only string literals (the common case, and the one with 10,000 values): no per-item work.
        found = _STRING.findall(body)
        out = LiteralList([t.replace("''", "'") for t in found] if "''" in body else found)
        out.strings = True
        return out
    values = LiteralList()
    append = values.append
    for text, number, null in _ITEM.findall(body):
        if null:
            append(None)
        elif number:
            append(float(number) if any(c in number for c in ".eE") else int(number))
        else:
            append(text.replace("''", "'") if "''" in text else text)
    return values


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parameter_literal(param: Any, index: int) -> str:
    """A typed request parameter (``{"type": "VARCHAR", "value": "x"}``) as a SQL literal."""
    where = f"parameter (position [{index + 1}])"
    if not isinstance(param, dict) or "value" not in param:
        raise SqlError(f"A {where} must be an object with [type] and [value]")
    value = param.get("value")
    kind = str(param.get("type") or "").upper()
    if value is None:
        return "NULL"
    try:
        if kind in _STRING_TYPES or (not kind and isinstance(value, str)):
            return _sql_string(str(value))
        if kind == "BOOLEAN" or (not kind and isinstance(value, bool)):
            flag = value if isinstance(value, bool) else str(value).strip().lower() == "true"
            return "TRUE" if flag else "FALSE"
        if kind in _INTEGER_TYPES or (not kind and isinstance(value, int)):
            return str(int(value))
        if kind in _FLOAT_TYPES or (not kind and isinstance(value, float)):
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return repr(number)
        if kind == "TIMESTAMP":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return f"MILLIS_TO_TIMESTAMP({int(value)})"
            return f"TIMESTAMP {_sql_string(str(value))}"
        if kind == "DATE":
            return f"DATE {_sql_string(str(value))}"
    except (TypeError, ValueError):
        raise SqlError(f"The value of {where} is not a valid [{kind or type(value).__name__}]") from None
    raise SqlError(f"Unsupported type [{kind}] of {where}")
