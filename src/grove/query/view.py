"""A query's view of one segment: the rows inside an interval, virtual columns, and a filter.

Engines never touch a segment directly. A :class:`SegmentView` covers the rows ``[lo, hi)`` whose
time lies in one query interval (segments are time-sorted, so this is a binary search) and resolves
column names to segment columns or to the query's virtual columns, computed on first use over the
view's rows only. :meth:`select` applies the query filter and returns the selected rows.

Expressions are computed over every row of the view and every branch of a conditional, but Druid
evaluates them only on the rows the query's filter selects, and a conditional only in the branch a
row takes. So a long division by zero does not fail at once: the quotient is null and the row is
remembered when the null reaches the expression's value; the query fails only if the filter selects
such a row. ``WHERE clicks > 0`` makes ``impressions / clicks`` safe, as in Druid, and so does
``if(clicks > 0, impressions / clicks, 0)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from grove.common.intervals import Interval
from grove.errors import InvalidQuery
from grove.query.expression import Expr, evaluate, parse_expression, truthy_masks
from grove.query.expression.operators import DivisionByZero, deferred_division_errors
from grove.query.filters import FilterEngine
from grove.query.rows import Rows
from grove.segment.columns import Column, NumericColumn, SketchColumn, StringColumn
from grove.segment.encode import encode_numeric, encode_strings
from grove.segment.segment import Segment

TIME = "__time"


class VirtualColumnSpec:
    """A parsed expression virtual column."""

    def __init__(self, name: str, expression: Expr, output_type: str | None) -> None:
        self.name = name
        self.expression = expression
        self.output_type = (output_type or "").upper() or None

    @staticmethod
    def from_models(models: Sequence[Any]) -> dict[str, VirtualColumnSpec]:
        out = {}
        for i, vc in enumerate(models):
            expr = parse_expression(vc.expression, f"virtualColumns[{i}].expression")
            out[vc.name] = VirtualColumnSpec(vc.name, expr, vc.output_type)
        return out


class SegmentView:
    """Rows ``[lo, hi)`` of ``segment`` (one query interval), with the query's virtual columns."""

    def __init__(
        self,
        segment: Segment,
        interval: Interval,
        virtual_columns: dict[str, VirtualColumnSpec] | None = None,
    ) -> None:
        self.segment = segment
        self.interval = interval
        self.lo, self.hi = segment.rows_in(interval)
        self.virtual_columns = virtual_columns or {}
        self._virtual: dict[str, Column | None] = {}
        # Rows whose expression value divided by zero (absolute row numbers) and the first error.
        self._bad_rows: list[tuple[np.ndarray, DivisionByZero]] = []
        self._selection: Rows | None = None

    def part(self, index: int, parts: int) -> SegmentView:
        """The ``index``-th of ``parts`` equal row ranges of this view (for splitting work)."""
        step = -(-self.size // parts)
        view = SegmentView(self.segment, self.interval, self.virtual_columns)
        view.lo = min(self.lo + index * step, self.hi)
        view.hi = min(view.lo + step, self.hi)
        return view

    @property
    def num_rows(self) -> int:
        """Rows of the whole segment (row numbers are segment rows)."""
        return self.segment.num_rows

    @property
    def size(self) -> int:
        return self.hi - self.lo

    def time(self) -> np.ndarray:
        """``__time`` of the view's rows ``[lo, hi)``."""
        return self.segment.time()[self.lo : self.hi]

    def column(self, name: str) -> Column | None:
        if name in self.virtual_columns:
            if name not in self._virtual:
                self._virtual[name] = self._compute(self.virtual_columns[name])
            return self._virtual[name]
        return self.segment.column(name)

    def arrow(self, name: str) -> pa.Array | None:
        """Values of a column over ``[lo, hi)`` as Arrow (strings decoded; multi-value as lists)."""
        if name == TIME:
            return pa.array(self.time(), pa.int64())
        col = self.column(name)
        if col is None:
            return None
        if isinstance(col, StringColumn):
            if col.multi_value:
                return col.take(np.arange(self.lo, self.hi)).to_arrow()
            return col.values_with_null().take(pa.array(col.codes[self.lo : self.hi]))
        if isinstance(col, NumericColumn):
            mask = col.nulls[self.lo : self.hi] if col.nulls is not None else None
            return pa.array(col.values[self.lo : self.hi], mask=mask)
        raise InvalidQuery(f"Column [{name}] is a sketch and cannot be used in an expression")

    def evaluate(self, expr: Expr) -> pa.Array:
        """An expression over the view's rows ``[lo, hi)``; rows that divide a long by zero are null
        and remembered (see the module docstring)."""
        with deferred_division_errors() as errors:
            values = evaluate(expr, self.arrow, self.size)
        if not errors:
            return values
        bad = np.zeros(self.size, dtype=bool)
        for e in errors:
            if e.rows.shape != (self.size,) or len(values) != self.size:
                raise e.error()  # not one value per row (array elements): fail now
            bad |= e.rows
        # A row whose value is null because of the division failed; one that took another branch
        # (``if(clicks > 0, impressions / clicks, 0)``) or replaced the null did not.
        bad &= values.is_null().to_numpy(zero_copy_only=False)
        if bad.any():
            self._note_bad_rows(np.flatnonzero(bad) + self.lo, errors[0])
        return values

    def _note_bad_rows(self, rows: np.ndarray, error: DivisionByZero) -> None:
        if self._selection is not None:
            self._check(rows, error, self._selection)
        else:
            self._bad_rows.append((rows, error))

    @staticmethod
    def _check(bad: np.ndarray, error: DivisionByZero, selection: Rows) -> None:
        if len(bad) and selection.mask()[bad - selection.lo].any():
            raise error.error()

    def _compute(self, vc: VirtualColumnSpec) -> Column:
        values = self.evaluate(vc.expression)
        return _as_column(values, vc.output_type, self.lo, self.hi)

    def select(self, filter_model: Any) -> Rows:
        """The view's rows passing ``filter_model`` (all of them when None).

        The first call selects the query's rows: from then on an expression value that divided by
        zero on a selected row fails the query (aggregator filters select again, within those rows).
        """
        engine = FilterEngine(self, self.lo, self.hi, expression_matcher=self._match_expression)
        rows = engine.rows(filter_model)
        if self._selection is None:
            self._selection = rows
            for bad, error in self._bad_rows:
                self._check(bad, error, rows)
            self._bad_rows.clear()
        return rows

    def _match_expression(self, text: str, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        result = self.evaluate(parse_expression(text, "filter.expression"))
        t, u = truthy_masks(result)
        return t[lo - self.lo : hi - self.lo], u[lo - self.lo : hi - self.lo]


def _as_column(values: pa.Array, output_type: str | None, lo: int, hi: int) -> Column:
    """Wrap computed values for rows [lo, hi) as a column addressed by segment row numbers."""
    kind = output_type
    t = values.type
    if kind is None:
        if pa.types.is_integer(t) or pa.types.is_boolean(t):
            kind = "LONG"
        elif pa.types.is_floating(t):
            kind = "DOUBLE"
        else:
            kind = "STRING"
    if kind in ("LONG", "FLOAT", "DOUBLE"):
        numeric, _ = encode_numeric(values, kind.lower())
        full = np.zeros(hi, dtype=numeric.values.dtype)
        full[lo:hi] = numeric.values
        nulls = np.zeros(hi, dtype=bool)
        nulls[:lo] = True
        if numeric.nulls is not None:
            nulls[lo:hi] = numeric.nulls
        return NumericColumn(kind.lower(), full, nulls)
    if kind.startswith("ARRAY") or pa.types.is_list(t) or pa.types.is_large_list(t):
        col = encode_strings(values)
    else:
        col = encode_strings(values)
    if lo == 0:
        return col
    if col.offsets is None:
        codes = np.zeros(hi, dtype=col.codes.dtype)
        codes[lo:hi] = col.codes
        return StringColumn(col.dictionary, codes)
    offsets = np.concatenate([np.arange(lo, dtype=np.int64), col.offsets + lo])
    codes = np.concatenate([np.zeros(lo, dtype=col.codes.dtype), col.codes])
    return StringColumn(col.dictionary, codes, offsets)


def is_sketch(col: Column | None) -> bool:
    return isinstance(col, SketchColumn)
