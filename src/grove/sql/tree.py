"""Small helpers over sqlglot's parse trees, shared by the planner's modules."""

from __future__ import annotations

from sqlglot import exp


def flatten(node: exp.Expression, kind: type[exp.Expression]) -> list[exp.Expression]:
    """The operands of a nested chain of ``kind`` (And or Or), left to right, without recursing, so a
    chain of thousands of ORs is fine. Parentheses around a nested ``kind`` are looked through; other
    operands are returned as written."""
    out: list[exp.Expression] = []
    stack = [node]
    while stack:
        item = stack.pop()
        while isinstance(item, exp.Paren) and isinstance(item.this, kind):
            item = item.this
        if isinstance(item, kind):
            stack.append(item.expression)
            stack.append(item.this)
        else:
            out.append(item)
    return out
