"""Tokenizer and precedence-climbing parser for Druid's expression language.

The grammar is Druid's (``Expr.g4``). Operators, from the tightest binding to the loosest:

=================  ===========================  ==============
``!`` ``-``        unary not, unary minus       prefix
``^``              power                        right to left
``*`` ``/`` ``%``  multiplicative               left to right
``+`` ``-``        additive                     left to right
``<`` ``<=`` ``>`` ``>=`` ``==`` ``!=``  comparison  left to right
``&&`` ``||``      logical and, or (one level)  left to right
=================  ===========================  ==============

So ``-2 ^ 2`` is 4 and ``a || b && c`` is ``(a || b) && c``, as in Druid. Literals: longs (``12``),
doubles (``1.5``, ``1.``, ``1e-3``, ``NaN``, ``Infinity``), single-quoted strings with Java escapes,
``null`` and arrays (``[1, 2]``, ``['a', null]``, ``<DOUBLE>[]``, ``ARRAY<LONG>[1]``). Identifiers are bare
(``[_$a-zA-Z][_$a-zA-Z0-9]*``) or double-quoted with escapes. Function names are case-insensitive.

Sub-expressions that read no column are evaluated once here (constant folding), so ``1 + 2`` parses to
``3`` and ``timestamp_floor(__time, 'P' + '1D')`` gets a literal period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grove.errors import GroveError, InvalidInput, Unsupported
from grove.query.expression.evaluator import evaluate_scalar
from grove.query.expression.functions import FUNCTIONS, FunctionRegistry
from grove.query.expression.nodes import (
    ArrayLiteral,
    BinaryOp,
    Call,
    Expr,
    Identifier,
    Literal,
    UnaryOp,
)
from grove.query.expression.values import LONG_MAX, ExprType

_BINDING = {
    "||": 10,
    "&&": 10,
    "<": 20,
    "<=": 20,
    ">": 20,
    ">=": 20,
    "==": 20,
    "!=": 20,
    "+": 30,
    "-": 30,
    "*": 40,
    "/": 40,
    "%": 40,
    "^": 50,
}
_PREFIX = 60
_TWO_CHAR = ("<=", ">=", "==", "!=", "&&", "||", "->")
_ONE_CHAR = "-!^*/%+<>()[],"
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE]-?[0-9]+)?")
_NAME = re.compile(r"[_$a-zA-Z][_$a-zA-Z0-9]*")
_TYPED = re.compile(r"<(LONG|DOUBLE|STRING)>|ARRAY<(LONG|DOUBLE|STRING)>")
_SIMPLE_ESCAPES = {
    "'": "'",
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # long, double, string, name, quoted, null, op, typed, eof
    text: str
    pos: int
    value: object = None


class _Parser:
    def __init__(self, text: str, path: str, registry: FunctionRegistry) -> None:
        self.text = text
        self.path = path
        self.registry = registry
        self.tokens = self._tokenize()
        self.i = 0

    # -- errors ------------------------------------------------------------------------------------------

    def error(self, message: str) -> InvalidInput:
        return InvalidInput(f"Invalid expression at {self.path}: {message}", self.path)

    def unexpected(self, token: _Token) -> InvalidInput:
        if token.kind == "eof":
            return self.error(f"unexpected end of expression at position {token.pos}")
        return self.error(f"unexpected '{token.text}' at position {token.pos}")

    # -- tokens ------------------------------------------------------------------------------------------

    def _tokenize(self) -> list[_Token]:
        text, i = self.text, 0
        out: list[_Token] = []
        while i < len(text):
            ch = text[i]
            if ch in " \t\r\n":
                i += 1
                continue
            typed = _TYPED.match(text, i)
            if typed:
                out.append(_Token("typed", typed.group(0), i, typed.group(1) or typed.group(2)))
                i = typed.end()
                continue
            if ch.isdigit():
                m = _NUMBER.match(text, i)
                assert m is not None
                literal = m.group(0)
                kind = "double" if any(c in literal for c in ".eE") else "long"
                out.append(_Token(kind, literal, i, float(literal) if kind == "double" else int(literal)))
                i = m.end()
                continue
            name = _NAME.match(text, i)
            if name:
                word = name.group(0)
                if word == "null":
                    out.append(_Token("null", word, i))
                elif word in ("NaN", "Infinity"):
                    out.append(_Token("double", word, i, float("nan") if word == "NaN" else float("inf")))
                else:
                    out.append(_Token("name", word, i, word))
                i = name.end()
                continue
            if ch in "'\"":
                value, end = self._quoted(i)
                out.append(_Token("string" if ch == "'" else "quoted", text[i:end], i, value))
                i = end
                continue
            two = text[i : i + 2]
            if two in _TWO_CHAR:
                out.append(_Token("op", two, i))
                i += 2
                continue
            if ch in _ONE_CHAR:
                out.append(_Token("op", ch, i))
                i += 1
                continue
            raise self.error(f"unexpected '{ch}' at position {i}")
        out.append(_Token("eof", "", len(text)))
        return out

    def _quoted(self, start: int) -> tuple[str, int]:
        """The unescaped content of the quoted literal at ``start`` and the position after it."""
        text, quote = self.text, self.text[start]
        out: list[str] = []
        i = start + 1
        while i < len(text):
            ch = text[i]
            if ch == quote:
                return "".join(out), i + 1
            if ch == "\\":
                nxt = text[i + 1 : i + 2]
                if nxt in _SIMPLE_ESCAPES:
                    out.append(_SIMPLE_ESCAPES[nxt])
                    i += 2
                    continue
                hexa = text[i + 2 : i + 6]
                if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", hexa):
                    out.append(chr(int(hexa, 16)))
                    i += 6
                    continue
                raise self.error(f"invalid escape at position {i}")
            out.append(ch)
            i += 1
        raise self.error(f"unterminated {'string' if quote == chr(39) else 'identifier'} at position {start}")

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def expect(self, op: str) -> _Token:
        token = self.advance()
        if token.kind != "op" or token.text != op:
            raise self.unexpected(token)
        return token

    def at(self, op: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "op" and token.text == op

    # -- grammar -----------------------------------------------------------------------------------------

    def parse(self) -> Expr:
        expr = self.expression(0)
        if self.peek().kind != "eof":
            raise self.unexpected(self.peek())
        if expr.is_constant() and not isinstance(expr, Literal | ArrayLiteral):
            # Parts that failed to fold may sit in branches never taken; the whole either folds or fails.
            return self.fold(expr, everything=True)
        return expr

    def expression(self, min_binding: int) -> Expr:
        left = self.prefix()
        while True:
            token = self.peek()
            binding = _BINDING.get(token.text) if token.kind == "op" else None
            if binding is None or binding < min_binding:
                return left
            self.advance()
            right = self.expression(binding if token.text == "^" else binding + 1)
            left = self.fold(BinaryOp(token.text, left, right))

    def prefix(self) -> Expr:
        token = self.advance()
        kind = token.kind
        if kind == "op" and token.text in ("-", "!"):
            following = self.peek()
            if token.text == "-" and following.kind == "long" and following.value == LONG_MAX + 1:
                self.advance()
                return Literal(-(LONG_MAX + 1))
            return self.fold(UnaryOp(token.text, self.expression(_PREFIX)))
        if kind == "long":
            assert isinstance(token.value, int)
            if token.value > LONG_MAX:
                raise self.error(f"long literal out of range at position {token.pos}")
            return Literal(token.value)
        if kind in ("double", "string"):
            assert isinstance(token.value, float | str)
            return Literal(token.value)
        if kind == "null":
            return Literal(None)
        if kind == "quoted":
            return Identifier(str(token.value))
        if kind == "name":
            if self.at("("):
                return self.call(token)
            return Identifier(str(token.value))
        if kind == "typed":
            return self.array(ExprType.parse(str(token.value)), self.expect("["))
        if kind == "op" and token.text == "(":
            expr = self.expression(0)
            self.expect(")")
            return expr
        if kind == "op" and token.text == "[":
            return self.array(None, token)
        raise self.unexpected(token)

    def array(self, element: ExprType | None, opening: _Token) -> Expr:
        values: list[int | float | str | None] = []
        kinds: set[str] = set()
        if not self.at("]"):
            while True:
                token = self.advance()
                sign = 1
                if token.kind == "op" and token.text == "-" and self.peek().kind in ("long", "double"):
                    sign, token = -1, self.advance()
                if token.kind not in ("long", "double", "string", "null"):
                    raise self.unexpected(token)
                kinds.add(token.kind)
                value = token.value
                if isinstance(value, int | float):
                    values.append(sign * value)
                elif isinstance(value, str) or value is None:
                    values.append(value)
                if self.at("]"):
                    break
                self.expect(",")
        self.expect("]")
        kinds.discard("null")
        if element is None:
            if not kinds or kinds == {"string"}:
                element = ExprType.STRING
            elif kinds == {"long"}:
                element = ExprType.LONG
            elif "string" not in kinds:
                element = ExprType.DOUBLE
            else:
                raise self.error(f"array literal mixes strings and numbers at position {opening.pos}")
        elif element is not ExprType.STRING and "string" in kinds:
            raise self.error(f"array literal of {element.value} holds a string at position {opening.pos}")
        converted = tuple(_convert(v, element) for v in values)
        return ArrayLiteral(converted, element.as_array())

    def call(self, name_token: _Token) -> Expr:
        name = str(name_token.value)
        self.expect("(")
        args: list[Expr] = []
        if self._lambda_ahead():
            raise Unsupported(f"Lambda expressions (in [{name}]) are not supported in {self.path}")
        if not self.at(")"):
            while True:
                args.append(self.expression(0))
                if self.at(")"):
                    break
                self.expect(",")
        self.expect(")")
        spec = self.registry.get(name)
        if spec is None:
            raise InvalidInput(f"Unknown function [{name}] in {self.path}", self.path)
        spec.check_arity(len(args), self.path)
        if spec.validate is not None:
            spec.validate(args, self.path)
        call = Call(spec.name, tuple(args), spec)
        return self.fold(call) if spec.fold else call

    def _lambda_ahead(self) -> bool:
        if self.peek().kind == "name" and self.at("->", 1):
            return True
        if not self.at("("):
            return False
        j = 1
        while self.peek(j).kind == "name" or self.at(",", j):
            j += 1
        return self.at(")", j) and self.at("->", j + 1)

    def fold(self, expr: Expr, everything: bool = False) -> Expr:
        """Evaluate a node whose children are all literals; a null result is left unfolded.

        A node that fails to evaluate stays unfolded (it may be in a branch that is never taken, as in
        ``if(0, 1 / 0, 2)``), unless ``everything`` says it is the whole expression.
        """
        if not everything and not all(isinstance(c, Literal | ArrayLiteral) for c in expr.children()):
            return expr
        try:
            value = evaluate_scalar(expr)
            t = expr.output_type({})
        except Unsupported:
            raise
        except GroveError as e:
            if not everything:
                return expr
            raise self.error(e.message) from None
        if value is None:
            return expr
        if t.is_array:
            return ArrayLiteral(tuple(_convert(v, t.element) for v in value), t)
        return Literal(_convert(value, t))


def _convert(value: object, t: ExprType) -> int | float | str | None:
    if value is None:
        return None
    if t is ExprType.LONG:
        return int(value) if isinstance(value, int | float) else int(str(value))
    if t is ExprType.DOUBLE:
        return float(value) if isinstance(value, int | float) else float(str(value))
    return value if isinstance(value, str) else str(value)


def parse_expression(text: str, path: str = "expression", registry: FunctionRegistry = FUNCTIONS) -> Expr:
    """Parse Druid expression text into a tree, folding constant sub-expressions.

    Raises InvalidInput naming ``path`` for syntax errors (with the character position, counted from
    0), unknown functions, wrong argument counts and malformed literal arguments; Unsupported for
    lambda expressions.
    """
    if not isinstance(text, str):
        raise InvalidInput(f"Invalid expression at {path}: expected a string", path)
    try:
        return _Parser(text, path, registry).parse()
    except RecursionError:
        raise InvalidInput(f"Invalid expression at {path}: nested too deeply", path) from None
