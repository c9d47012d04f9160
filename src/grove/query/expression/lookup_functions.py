"""``lookup(expr, 'name'[, 'replaceMissingValueWith'])``: Druid's expression over registered lookups.

The value of ``expr`` (as a string) is looked up in the registered lookup ``name`` of the running query
(:func:`grove.query.lookups.active_lookup`); a value without a key, null included, becomes the optional
third argument, else null. The name and the replacement must be literals. The call is never folded at
parse time: lookups belong to the query that runs, not to the text.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from grove.errors import InvalidInput
from grove.query.expression.nodes import EvalContext, Expr, FunctionSpec, returns, strict, string_literal_arg
from grove.query.expression.values import ExprType, Value, arrow_type, to_string
from grove.query.lookups import active_lookup, map_values


def _validate(args: Sequence[Expr], path: str) -> None:
    name = string_literal_arg(args, 1, "lookup", path, "lookup name")
    if not name:
        raise InvalidInput(f"Function [lookup] needs a lookup name as argument 2 in {path}", path)
    if len(args) > 2:
        string_literal_arg(args, 2, "lookup", path, "replaceMissingValueWith")


def _lookup(ctx: EvalContext, values: list[Value]) -> Value:
    name = values[1].as_py() if isinstance(values[1], pa.Scalar) else None
    replace = values[2].as_py() if len(values) > 2 and isinstance(values[2], pa.Scalar) else None
    table = active_lookup(str(name)).map
    keys = to_string(values[0])
    if isinstance(keys, pa.Scalar):
        key = keys.as_py()
        return pa.scalar(
            table[key] if key is not None and key in table else replace, arrow_type(ExprType.STRING)
        )
    return map_values(table, keys, replace_missing=replace).cast(arrow_type(ExprType.STRING))


LOOKUP_FUNCTIONS = (
    FunctionSpec("lookup", 2, 3, returns(ExprType.STRING), strict(_lookup), _validate, fold=False),
)
