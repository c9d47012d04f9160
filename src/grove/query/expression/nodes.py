"""The expression tree: frozen nodes, their text form, the columns they read and the types they produce.

Nodes are built by :func:`grove.query.expression.parse_expression` and never change. ``str(node)`` is
expression text that parses back to an equivalent tree (binary operators are fully parenthesised, as in
Druid's ``stringify``).

Multi-value columns: where an array-typed column (``ARRAY<STRING>`` for a multi-value dimension) is used
where a scalar is expected, the expression is applied to each element and the result is an array, the
way Druid implicitly maps such expressions. :func:`scalar_array_refs` finds those columns; both type
inference and evaluation use it, so :meth:`Expr.output_type` always matches what evaluation returns.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from grove.errors import InvalidInput, Unsupported
from grove.query.expression.values import ExprType, Value, operator_type


class EvalContext(Protocol):
    """What a function implementation sees while it is evaluated over a block of rows."""

    @property
    def num_rows(self) -> int: ...

    def eval(self, expr: Expr) -> Value:
        """The value of ``expr`` for every row of this context."""
        ...

    def subset(self, mask: np.ndarray) -> EvalContext:
        """A context over only the rows where ``mask`` is true (for lazily evaluated branches)."""
        ...

    def type_of(self, expr: Expr) -> ExprType | None:
        """The static type of ``expr`` given this context's column types."""
        ...


Evaluate = Callable[[EvalContext, Sequence["Expr"]], Value]
Infer = Callable[[Sequence[ExprType | None], Sequence["Expr"]], ExprType | None]
Validate = Callable[[Sequence["Expr"], str], None]


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the expression language.

    ``evaluate`` receives the unevaluated arguments and the context, so conditional functions evaluate
    only the branches they need; ``infer`` gives the result type from the argument types (None: unknown);
    ``validate`` runs at parse time on the (constant-folded) arguments and raises InvalidInput naming
    ``path`` for arguments that must be literals or are malformed. ``array_args`` are the positions
    that take arrays as arrays; anywhere else an array-typed column is mapped over element by element.
    ``fold`` allows evaluating the call at parse time when all arguments are literals.
    """

    name: str
    min_args: int
    max_args: int | None
    infer: Infer
    evaluate: Evaluate
    validate: Validate | None = None
    array_args: frozenset[int] = frozenset()
    fold: bool = True

    def check_arity(self, count: int, path: str) -> None:
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            if self.max_args is None:
                wanted = f"at least {self.min_args}"
            elif self.min_args == self.max_args:
                wanted = str(self.min_args)
            else:
                wanted = f"{self.min_args} to {self.max_args}"
            raise InvalidInput(
                f"Function [{self.name}] takes {wanted} arguments but got {count} in {path}", path
            )


class Expr(ABC):
    """A node of a parsed expression."""

    @abstractmethod
    def children(self) -> tuple[Expr, ...]:
        """Direct sub-expressions, in argument order."""

    @abstractmethod
    def infer_scalar(self, types: Mapping[str, ExprType | None]) -> ExprType | None:
        """This node's type when no multi-value mapping applies at this node."""

    @cached_property
    def _columns(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for child in self.children():
            out |= child.required_columns()
        return out

    def required_columns(self) -> frozenset[str]:
        """Names of the columns the expression reads."""
        return self._columns

    def is_constant(self) -> bool:
        """True when the expression reads no column."""
        return not self.required_columns()

    def output_type(self, input_types: Mapping[str, ExprType]) -> ExprType:
        """The type evaluation returns given the input column types.

        Columns missing from ``input_types`` are treated as missing columns (all null, of unknown type);
        an expression whose type stays unknown evaluates to null strings and reports STRING.
        """
        t = infer_type(self, input_types)
        return ExprType.STRING if t is None else t


@dataclass(frozen=True, eq=True)
class Literal(Expr):
    """A constant: an int (LONG), a float (DOUBLE), a str (STRING) or None (the null literal)."""

    value: int | float | str | None

    @property
    def type(self) -> ExprType | None:
        if self.value is None:
            return None
        if isinstance(self.value, str):
            return ExprType.STRING
        return ExprType.DOUBLE if isinstance(self.value, float) else ExprType.LONG

    def children(self) -> tuple[Expr, ...]:
        return ()

    def infer_scalar(self, types: Mapping[str, ExprType | None]) -> ExprType | None:
        return self.type

    def __str__(self) -> str:
        return literal_text(self.value)


@dataclass(frozen=True, eq=True)
class ArrayLiteral(Expr):
    """A constant array, such as ``[1, 2]``, ``['a', null]`` or ``<DOUBLE>[]``."""

    values: tuple[int | float | str | None, ...]
    array_type: ExprType

    def children(self) -> tuple[Expr, ...]:
        return ()

    def infer_scalar(self, types: Mapping[str, ExprType | None]) -> ExprType | None:
        return self.array_type

    def __str__(self) -> str:
        body = "[" + ", ".join(literal_text(v) for v in self.values) + "]"
        element = self.array_type.element
        if element is ExprType.STRING or any(v is not None for v in self.values):
            if element is ExprType.DOUBLE and all(isinstance(v, int) for v in self.values if v is not None):
                return f"<DOUBLE>{body}"
            return body
        return f"<{element.value}>{body}"


@dataclass(frozen=True, eq=True)
class Identifier(Expr):
    """A column reference, such as ``__time``, ``page`` or ``"country name"``."""

    name: str

    def children(self) -> tuple[Expr, ...]:
        return ()

    def required_columns(self) -> frozenset[str]:
        return frozenset((self.name,))

    def infer_scalar(self, types: Mapping[str, ExprType | None]) -> ExprType | None:
        return types.get(self.name)

    def __str__(self) -> str:
        if _BARE_IDENTIFIER.fullmatch(self.name) and self.name not in _KEYWORDS:
            return self.name
        return '"' + _escape(self.name, '"') + '"'


@dataclass(frozen=True, eq=True)
class UnaryOp(Expr):
    """``-x`` (negation) or ``!x`` (logical not)."""

    op: str
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def infer_scalar(self, types: Mapping[str, ExprType | None]) -> ExprType | None:
        if self.op == "!":
            return ExprType.LONG
        return infer_type(self.operand, types)

    def __str__(self) -> str:
        return f"{self.op}{self.operand}"


ARITHMETIC_OPS = frozenset({"+", "-", "*", "/", "%", "^"})
COMPARISON_OPS = frozenset({"<", "<=", ">", ">=", "==", "!="})
LOGICAL_OPS = frozenset({"&&", "||"})


@dataclass(frozen=True, eq=True)
class BinaryOp(Expr):
    """A binary operator: arithmetic (``+ - * / % ^``), comparison or logical (``&& ||``)."""

    op: str
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def infer_scalar(self, types: Mapping[str, ExprType | None]) -> ExprType | None:
        if self.op in ARITHMETIC_OPS:
            return operator_type(infer_type(self.left, types), infer_type(self.right, types))
        return ExprType.LONG

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True, eq=True)
class Call(Expr):
    """A function call; ``function`` is the registered implementation resolved at parse time."""

    name: str
    args: tuple[Expr, ...]
    function: FunctionSpec = field(compare=False, repr=False)

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def infer_scalar(self, types: Mapping[str, ExprType | None]) -> ExprType | None:
        return self.function.infer([infer_type(a, types) for a in self.args], self.args)

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(a) for a in self.args)})"


def scalar_array_refs(expr: Expr, types: Mapping[str, ExprType | None]) -> frozenset[str]:
    """Array-typed columns that ``expr`` uses where a scalar is expected (and so maps over).

    Arguments in a function's array positions are not followed: they map on their own when evaluated.
    """
    out: set[str] = set()
    for i, child in enumerate(expr.children()):
        if isinstance(expr, Call) and i in expr.function.array_args:
            continue
        if isinstance(child, Identifier):
            t = types.get(child.name)
            if t is not None and t.is_array:
                out.add(child.name)
        else:
            out |= scalar_array_refs(child, types)
    return frozenset(out)


def infer_type(expr: Expr, types: Mapping[str, ExprType | None]) -> ExprType | None:
    """Static type of ``expr`` (None: unknown, always null), mapping over multi-value columns."""
    refs = scalar_array_refs(expr, types)
    if not refs:
        return expr.infer_scalar(types)
    inner: dict[str, ExprType | None] = dict(types)
    for name in refs:
        t = types[name]
        inner[name] = None if t is None else t.element
    t = expr.infer_scalar(inner)
    if t is not None and t.is_array:
        raise Unsupported(f"Mapping [{expr}] over a multi-value column would give nested arrays")
    return ExprType.STRING_ARRAY if t is None else t.as_array()


_BARE_IDENTIFIER = re.compile(r"[_$a-zA-Z][_$a-zA-Z0-9]*")
_KEYWORDS = frozenset({"null", "NaN", "Infinity"})
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _escape(text: str, quote: str) -> str:
    out = []
    for ch in text:
        if ch == quote:
            out.append("\\" + quote)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def literal_text(value: int | float | str | None) -> str:
    """Expression text for a literal value that parses back to the same value and type."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + _escape(value, "'") + "'"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value).replace("e+", "e")
    return str(value)


# ---------------------------------------------------------------------------------------------------------
# Helpers for declaring functions


def strict(fn: Callable[[EvalContext, list[Value]], Value]) -> Evaluate:
    """Evaluate for a function that needs every argument on every row."""

    def evaluate(ctx: EvalContext, args: Sequence[Expr]) -> Value:
        return fn(ctx, [ctx.eval(a) for a in args])

    return evaluate


def returns(t: ExprType | None) -> Infer:
    """Infer for a function whose result type does not depend on its arguments."""

    def infer(types: Sequence[ExprType | None], args: Sequence[Expr]) -> ExprType | None:
        return t

    return infer


def literal_arg(
    args: Sequence[Expr], index: int, function: str, path: str, what: str
) -> int | float | str | None:
    """The value of literal argument ``index``; InvalidInput when the argument is not a literal."""
    arg = args[index]
    if not isinstance(arg, Literal):
        raise InvalidInput(
            f"Function [{function}] needs a literal {what} as argument {index + 1} in {path}", path
        )
    return arg.value


def string_literal_arg(args: Sequence[Expr], index: int, function: str, path: str, what: str) -> str | None:
    """Like :func:`literal_arg` for a string (or null) literal."""
    value = literal_arg(args, index, function, path, what)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(
            f"Function [{function}] needs a string {what} as argument {index + 1} in {path}", path
        )
    return value
