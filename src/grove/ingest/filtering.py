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
from grove.query.arrow_source import ArrowColumns
from grove.query.expression import evaluate
from grove.query.filters import FilterEngine

TIME = "__time"


@dataclass(frozen=True, slots=True)
class FilteredRows:
    """The rows kept from one batch: their input columns and their timestamps (epoch ms)."""

    table: pa.Table
    times: np.ndarray

    @property
    def num_rows(self) -> int:
        return len(self.times)


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
        columns = ArrowColumns.of_table(table, times)
        engine = FilterEngine(
            columns,
            expression_matcher=columns.expression_matcher("spec.dataSchema.transformSpec.filter.expression"),
        )
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
    columns = ArrowColumns.of_table(table, times)
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
