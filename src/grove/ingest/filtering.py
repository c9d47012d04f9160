"""Step 1 of a batch write: keep the rows that belong in the datasource, and say why others don't.

For each input batch: parse the timestamp column (rows without a usable timestamp are *unparseable*),
apply the expression transforms (which may replace input columns, ``__time`` included), apply the
transformSpec filter and drop rows outside the granularitySpec intervals (both *thrown away*). Every
dropped row is counted by reason; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.ingest.plan import IngestPlan
from grove.ingest.stats import RowStats
from grove.ingest.timestamps import parse_timestamps
from grove.query.expression import evaluate, parse_expression, truthy_masks
from grove.query.filters import ExpressionMatcher, FilterEngine
from grove.segment.columns import Column, NumericColumn
from grove.segment.encode import encode_numeric, encode_strings

TIME = "__time"


@dataclass(frozen=True, slots=True)
class FilteredRows:
    """The rows kept from one batch: their input columns and their timestamps (epoch ms)."""

    table: pa.Table
    times: np.ndarray

    @property
    def num_rows(self) -> int:
        return len(self.times)


class TableColumns:
    """A filter's view of an input table: columns are encoded on first use."""

    def __init__(self, table: pa.Table, times: np.ndarray) -> None:
        self._table = table
        self._times = times
        self._cache: dict[str, Column | None] = {}

    @property
    def num_rows(self) -> int:
        return self._table.num_rows

    def arrow(self, name: str) -> pa.Array | None:
        if name == TIME:
            return pa.array(self._times, pa.int64())
        if name not in self._table.column_names:
            return None
        col = self._table.column(name)
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)

    def column(self, name: str) -> Column | None:
        if name not in self._cache:
            self._cache[name] = self._encode(name)
        return self._cache[name]

    def _encode(self, name: str) -> Column | None:
        if name == TIME:
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


def _expression_matcher(columns: TableColumns) -> ExpressionMatcher:
    def match(text: str, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        expr = parse_expression(text, "spec.dataSchema.transformSpec.filter.expression")
        result = evaluate(expr, columns.arrow, columns.num_rows)
        t, u = truthy_masks(result)
        return t[lo:hi], u[lo:hi]

    return match


def filter_rows(table: pa.Table, plan: IngestPlan, stats: RowStats) -> FilteredRows:
    """Apply step 1 to one input batch, counting every dropped row in ``stats``."""
    n = table.num_rows
    if plan.timestamp_column in table.column_names:
        times, valid = parse_timestamps(
            table.column(plan.timestamp_column), plan.timestamp_format, plan.missing_timestamp
        )
    elif plan.missing_timestamp is not None:
        times, valid = np.full(n, plan.missing_timestamp, dtype=np.int64), np.ones(n, dtype=bool)
    else:
        times, valid = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    bad = n - int(valid.sum())
    if bad:
        stats.bad_timestamp += bad
        stats.note(f"{bad} row(s) without a parseable timestamp in column [{plan.timestamp_column}]")
        keep = pa.array(valid)
        table = table.filter(keep)
        times = times[valid]
    if plan.transforms and table.num_rows:
        table, times = _apply_transforms(table, times, plan, stats)
    if plan.filter is not None and table.num_rows:
        columns = TableColumns(table, times)
        engine = FilterEngine(columns, expression_matcher=_expression_matcher(columns))
        mask = engine.rows(plan.filter).mask()
        rejected = int(len(mask) - mask.sum())
        if rejected:
            stats.filtered += rejected
            table, times = table.filter(pa.array(mask)), times[mask]
    if plan.intervals is not None and table.num_rows:
        inside = np.zeros(len(times), dtype=bool)
        for iv in plan.intervals:
            inside |= (times >= iv.start) & (times < iv.end)
        outside = int(len(inside) - inside.sum())
        if outside:
            stats.outside_intervals += outside
            table, times = table.filter(pa.array(inside)), times[inside]
    stats.processed += table.num_rows
    return FilteredRows(table, times)


def _apply_transforms(
    table: pa.Table, times: np.ndarray, plan: IngestPlan, stats: RowStats
) -> tuple[pa.Table, np.ndarray]:
    columns = TableColumns(table, times)
    # Transforms see the input row, not each other's output (as in Druid).
    results = {name: evaluate(expr, columns.arrow, table.num_rows) for name, expr in plan.transforms}
    if TIME in results:
        values = results.pop(TIME)
        number = values if pa.types.is_integer(values.type) else pc.cast(values, pa.int64(), safe=False)
        valid = number.is_valid().to_numpy(zero_copy_only=False)
        times = number.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        if not valid.all():
            stats.bad_timestamp += int((~valid).sum())
            stats.note("a transform of [__time] produced null timestamps")
            keep = pa.array(valid)
            table, times = table.filter(keep), times[valid]
            results = {k: v.filter(keep) for k, v in results.items()}
    for name, values in results.items():
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, values)
        else:
            table = table.append_column(name, values)
    return table, times
