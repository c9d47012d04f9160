"""A column source over Arrow arrays, so filters and expressions can run on rows that are not a segment.

Used for ingestion rows (transformSpec filters) and for query result rows (groupBy ``having``).
Columns are encoded for the filter engine on first use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from grove.query.expression import evaluate, parse_expression, truthy_masks
from grove.query.filters import ExpressionMatcher
from grove.segment.columns import Column, NumericColumn
from grove.segment.encode import encode_numeric, encode_strings

TIME = "__time"


class ArrowColumns:
    """Columns by name from ``lookup`` (an Arrow array, or None when absent); ``__time`` from ``times``."""

    def __init__(
        self, lookup: Callable[[str], pa.Array | None], num_rows: int, times: np.ndarray | None = None
    ) -> None:
        self._lookup = lookup
        self._num_rows = num_rows
        self._times = times
        self._cache: dict[str, Column | None] = {}

    @staticmethod
    def of_table(table: pa.Table, times: np.ndarray | None = None) -> ArrowColumns:
        def lookup(name: str) -> pa.Array | None:
            if name not in table.column_names:
                return None
            col = table.column(name)
            return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)

        return ArrowColumns(lookup, table.num_rows, times)

    @property
    def num_rows(self) -> int:
        return self._num_rows

    def arrow(self, name: str) -> pa.Array | None:
        if name == TIME and self._times is not None:
            return pa.array(self._times, pa.int64())
        return self._lookup(name)

    def column(self, name: str) -> Column | None:
        if name not in self._cache:
            self._cache[name] = self._encode(name)
        return self._cache[name]

    def _encode(self, name: str) -> Column | None:
        if name == TIME and self._times is not None:
            return NumericColumn("long", self._times)
        arr = self.arrow(name)
        if arr is None:
            return None
        t = arr.type
        if pa.types.is_integer(t) or pa.types.is_boolean(t):
            return encode_numeric(arr, "long")[0]
        if pa.types.is_floating(t):
            return encode_numeric(arr, "double")[0]
        return encode_strings(arr)

    def expression_matcher(self, path: str) -> ExpressionMatcher:
        def match(text: str, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
            result = evaluate(parse_expression(text, path), self.arrow, self.num_rows)
            t, u = truthy_masks(result)
            return t[lo:hi], u[lo:hi]

        return match
