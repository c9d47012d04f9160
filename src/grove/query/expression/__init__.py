"""Druid's expression language: parsed once into a frozen tree, evaluated vectorised over columns.

Used by ingestion transforms, virtual columns, expression filters and post-aggregators::

    expr = parse_expression("concat(upper(country), '-', cast(clicks * 2, 'STRING'))")
    expr.required_columns()              # frozenset({'country', 'clicks'})
    evaluate(expr, {"country": ..., "clicks": ...}, num_rows)   # -> pyarrow.Array
"""

from grove.query.expression.evaluator import evaluate, evaluate_scalar
from grove.query.expression.functions import FUNCTIONS, FunctionRegistry
from grove.query.expression.nodes import (
    ArrayLiteral,
    BinaryOp,
    Call,
    EvalContext,
    Expr,
    FunctionSpec,
    Identifier,
    Literal,
    UnaryOp,
)
from grove.query.expression.parser import parse_expression
from grove.query.expression.values import ExprType, truthy_masks

__all__ = [
    "FUNCTIONS",
    "ArrayLiteral",
    "BinaryOp",
    "Call",
    "EvalContext",
    "Expr",
    "ExprType",
    "FunctionRegistry",
    "FunctionSpec",
    "Identifier",
    "Literal",
    "UnaryOp",
    "evaluate",
    "evaluate_scalar",
    "parse_expression",
    "truthy_masks",
]
