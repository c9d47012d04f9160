"""Vectorised evaluation of parsed expressions over whole columns.

:func:`evaluate` walks the tree once per block of rows; every node is computed for all rows at once with
pyarrow compute and numpy. Columns are fetched lazily, by name, only when a node reads them, and a
missing column is null everywhere (Druid's semantics).

Three things keep evaluation both fast and faithful to Druid's row-at-a-time semantics:

* Lazy branches. ``if``, ``case_*``, ``nvl``, ``coalesce``, ``&&`` and ``||`` evaluate a branch only on
  the rows that need it (a *subset* frame), so ``if(y != 0, x / y, 0)`` never divides by zero, just as
  in Druid where the unused branch is never evaluated.
* Dictionary shortcut. A sub-expression that reads a single dictionary-encoded column is evaluated once
  per distinct value actually present, then expanded with ``take``.
* Multi-value mapping. An array-typed column used where a scalar is expected is exploded to one row per
  element, the expression is evaluated on the elements, and the results are reassembled into arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.errors import GroveError, InvalidInput, Unsupported
from grove.query.expression.nodes import (
    ARITHMETIC_OPS,
    COMPARISON_OPS,
    ArrayLiteral,
    BinaryOp,
    Call,
    Expr,
    Identifier,
    Literal,
    UnaryOp,
    infer_type,
    scalar_array_refs,
)
from grove.query.expression.operators import arithmetic, compare, negate
from grove.query.expression.values import (
    ExprType,
    Value,
    arrow_type,
    broadcast,
    list_offsets,
    normalize_column,
    null_value,
    select,
    truthy,
    type_of,
)

Columns = Mapping[str, Any] | Callable[[str], Any]


class _Frame:
    """The columns of one block of rows, fetched on first use and normalised once."""

    def __init__(self, num_rows: int) -> None:
        self.num_rows = num_rows
        self._raw: dict[str, pa.Array] = {}
        self._decoded: dict[str, pa.Array] = {}

    def _load(self, name: str) -> pa.Array:
        raise NotImplementedError

    def raw(self, name: str) -> pa.Array:
        """The column as stored, possibly dictionary-encoded."""
        if name not in self._raw:
            self._raw[name] = self._load(name)
        return self._raw[name]

    def column(self, name: str) -> pa.Array:
        """The column with dictionary encoding removed."""
        if name not in self._decoded:
            arr = self.raw(name)
            self._decoded[name] = arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr
        return self._decoded[name]

    def column_type(self, name: str) -> ExprType | None:
        arr = self.raw(name)
        return ExprType.STRING if pa.types.is_dictionary(arr.type) else type_of(arr)


class _SourceFrame(_Frame):
    def __init__(self, columns: Columns, num_rows: int) -> None:
        super().__init__(num_rows)
        self._columns = columns

    def _load(self, name: str) -> pa.Array:
        try:
            arr = self._columns(name) if callable(self._columns) else self._columns.get(name)
        except KeyError:
            arr = None
        if arr is None:
            return pa.nulls(self.num_rows, pa.null())
        out = normalize_column(arr, name)
        if len(out) != self.num_rows:
            raise InvalidInput(f"Column [{name}] has {len(out)} rows but {self.num_rows} were expected")
        return out


class _SubsetFrame(_Frame):
    """The rows of a parent frame where a mask is true."""

    def __init__(self, parent: _Frame, mask: np.ndarray) -> None:
        super().__init__(int(mask.sum()))
        self._parent = parent
        self._mask = pa.array(mask, pa.bool_())

    def _load(self, name: str) -> pa.Array:
        return pc.filter(self._parent.raw(name), self._mask)


class _ExplodedFrame(_Frame):
    """One row per element of an array column; other columns repeat their parent row."""

    def __init__(self, parent: _Frame, name: str, lists: pa.Array) -> None:
        self._elements = pc.list_flatten(lists)
        super().__init__(len(self._elements))
        self._parent = parent
        self._name = name
        self._rows = pc.list_parent_indices(lists)

    def _load(self, name: str) -> pa.Array:
        if name == self._name:
            return self._elements
        return pc.take(self._parent.raw(name), self._rows)


class _DictionaryFrame(_Frame):
    """One row per distinct value of a dictionary column, plus a last row for null."""

    def __init__(self, name: str, values: pa.Array) -> None:
        super().__init__(len(values))
        self._name = name
        self._values = values

    def _load(self, name: str) -> pa.Array:
        if name != self._name:
            raise InvalidInput(f"Column [{name}] is not available in this evaluation")
        return self._values


class _Evaluator:
    """Evaluates expressions over one frame; implements the functions' EvalContext."""

    def __init__(self, frame: _Frame) -> None:
        self.frame = frame

    @property
    def num_rows(self) -> int:
        return self.frame.num_rows

    def subset(self, mask: np.ndarray) -> _Evaluator:
        return _Evaluator(_SubsetFrame(self.frame, mask))

    def types(self, expr: Expr) -> dict[str, ExprType | None]:
        return {c: self.frame.column_type(c) for c in expr.required_columns()}

    def type_of(self, expr: Expr) -> ExprType | None:
        return infer_type(expr, self.types(expr))

    def eval(self, expr: Expr) -> Value:
        if isinstance(expr, Literal):
            return pa.scalar(expr.value, arrow_type(expr.type))
        if isinstance(expr, ArrayLiteral):
            return pa.scalar(list(expr.values), arrow_type(expr.array_type))
        if isinstance(expr, Identifier):
            return self.frame.column(expr.name)
        refs = scalar_array_refs(expr, self.types(expr))
        if refs:
            return self._map_over(expr, refs)
        columns = expr.required_columns()
        if len(columns) == 1:
            (name,) = columns
            raw = self.frame.raw(name)
            if pa.types.is_dictionary(raw.type) and len(raw.dictionary) < self.num_rows:
                return self._on_dictionary(expr, name, raw)
        if isinstance(expr, UnaryOp):
            return self._unary(expr)
        if isinstance(expr, BinaryOp):
            return self._binary(expr)
        if isinstance(expr, Call):
            return expr.function.evaluate(self, expr.args)
        raise InvalidInput(f"Cannot evaluate expression node [{expr}]")

    def _unary(self, expr: UnaryOp) -> Value:
        value = self.eval(expr.operand)
        if expr.op == "-":
            return negate(value)
        if type_of(value) is None:
            return null_value(ExprType.LONG)
        return pc.cast(pc.invert(truthy(value)), pa.int64())

    def _binary(self, expr: BinaryOp) -> Value:
        if expr.op in ARITHMETIC_OPS:
            return arithmetic(expr.op, self.eval(expr.left), self.eval(expr.right))
        if expr.op in COMPARISON_OPS:
            return compare(expr.op, self.eval(expr.left), self.eval(expr.right))
        return self._logical(expr)

    def _logical(self, expr: BinaryOp) -> Value:
        """Three-valued ``&&``/``||``; the right side is evaluated only where the left does not decide."""
        n = self.num_rows
        left = truthy(self.eval(expr.left))
        is_and = expr.op == "&&"
        left_full = broadcast(left, n)
        decided = pc.fill_null(pc.equal(left_full, not is_and), False).to_numpy(zero_copy_only=False)
        need = ~decided
        if not need.any():
            right: Value = pa.scalar(None, pa.bool_())
        elif need.all():
            right = truthy(self.eval(expr.right))
        else:
            part = pc.cast(truthy(self.subset(need).eval(expr.right)), pa.int64())
            right = pc.cast(select(n, [(need, part)], ExprType.LONG), pa.bool_())
        combined = pc.and_kleene(left, right) if is_and else pc.or_kleene(left, right)
        return pc.cast(combined, pa.int64())

    def _map_over(self, expr: Expr, refs: frozenset[str]) -> Value:
        """Apply ``expr`` to each element of the one array column it uses as a scalar."""
        if len(refs) > 1:
            names = ", ".join(sorted(refs))
            raise Unsupported(
                f"Expressions over several multi-value columns at once [{names}] are not supported"
            )
        (name,) = refs
        lists = self.frame.column(name)
        inner = _Evaluator(_ExplodedFrame(self.frame, name, lists))
        elements = broadcast(inner.eval(expr), inner.num_rows)
        element_type = type_of(elements) or ExprType.STRING
        if element_type.is_array:
            raise Unsupported(f"Mapping [{expr}] over a multi-value column would give nested arrays")
        return pa.ListArray.from_arrays(
            pa.array(list_offsets(lists), pa.int32()),
            elements.cast(arrow_type(element_type)),
            mask=pc.is_null(lists),
        )

    def _on_dictionary(self, expr: Expr, name: str, raw: pa.Array) -> Value:
        """Evaluate on the distinct values in use (plus null), then expand to rows with ``take``."""
        size = len(raw.dictionary)
        codes = pc.fill_null(raw.indices, size).to_numpy(zero_copy_only=False).astype(np.int64)
        used = np.bincount(codes, minlength=size + 1) > 0
        # Only values present in these rows are evaluated: an unused entry must not raise an error.
        remap = np.cumsum(used) - 1
        values = pc.take(
            pa.concat_arrays([raw.dictionary, pa.nulls(1, pa.string())]), pa.array(np.flatnonzero(used))
        )
        result = _Evaluator(_DictionaryFrame(name, values)).eval(expr)
        return pc.take(broadcast(result, len(values)), pa.array(remap[codes]))


def evaluate(expr: Expr, columns: Columns, num_rows: int) -> pa.Array:
    """Evaluate ``expr`` for ``num_rows`` rows.

    ``columns`` maps a column name to its values (a pyarrow Array or ChunkedArray, possibly dictionary
    encoded) or is a function that returns them; only the columns the expression reads are requested,
    and a column that is absent (None, or a KeyError) is null in every row. The result is an int64,
    float64 or string array (a list array for array results) of ``num_rows`` rows with nulls.

    Raises InvalidInput for type errors and for data Druid also rejects (a long division by zero),
    Unsupported for what grove does not evaluate, and GroveError (an internal error) for anything
    unexpected; no other exception escapes.
    """
    try:
        value = _Evaluator(_SourceFrame(columns, num_rows)).eval(expr)
        if type_of(value) is None:
            value = value.cast(pa.string())
        out = broadcast(value, num_rows)
        if pa.types.is_dictionary(out.type):
            out = out.dictionary_decode()
        return out
    except GroveError:
        raise
    except (pa.ArrowException, ValueError, TypeError, OverflowError, ArithmeticError) as e:
        raise InvalidInput(f"Failed to evaluate expression [{expr}]: {type(e).__name__}") from e
    except Exception as e:
        # Anything else is a defect here, not a bad request: report it as an internal error.
        raise GroveError(f"Failed to evaluate expression [{expr}]: {type(e).__name__}") from e


def evaluate_scalar(expr: Expr, bindings: Mapping[str, Any] | None = None) -> Any:
    """Evaluate ``expr`` for one row whose columns are Python values (int, float, str, None, list).

    Returns a Python int, float, str, list or None. Used for constants and post-aggregators.
    """
    columns = {name: _one_row(name, value) for name, value in (bindings or {}).items()}
    return evaluate(expr, columns, 1)[0].as_py()


def _one_row(name: str, value: Any) -> pa.Array:
    if isinstance(value, bool):
        return pa.array([int(value)], pa.int64())
    if value is None or isinstance(value, int | float | str):
        try:
            return pa.array([value])
        except (pa.ArrowException, OverflowError):
            raise InvalidInput(f"Binding [{name}] does not fit an expression type") from None
    if isinstance(value, list | tuple):
        try:
            return pa.array([list(value)])
        except pa.ArrowException:
            raise InvalidInput(f"Binding [{name}] mixes element types") from None
    raise InvalidInput(f"Binding [{name}] has a type expressions cannot read")
