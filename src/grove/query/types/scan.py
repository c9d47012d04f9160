"""scan: raw rows, in batches, in Druid's result shape.

Result: a list of batches ``{"segmentId", "columns", "events", "rowSignature"}``. ``events`` holds at
most ``batchSize`` rows, each a ``{column: value}`` object (``resultFormat`` ``list``) or a list of
values in ``columns`` order (``compactedList``). ``__time`` is epoch milliseconds, a missing column or
value is null, and a multi-value string row is null when empty, a string with one value and a list of
strings with more, as Druid's dimension selectors return them. ``rowSignature`` lists each column's
type (``LONG``, ``FLOAT``, ``DOUBLE``, ``STRING``); a column no segment has carries no type.

``columns`` empty means ``__time``, the virtual columns, the dimensions and the metrics of each segment.
Sketch metrics hold grove's own sketch encoding, which is not Druid's wire form: they are left out of
the default columns and naming one is refused.

``order`` ``none`` returns segments in time order and rows in segment order; ``offset`` and ``limit``
count rows across that sequence, and segments past the limit are never filtered or decoded. With
``order`` ``ascending``/``descending`` (or an ``orderBy`` on ``__time``) rows are merged by time across
segments before ``offset`` and ``limit`` apply, and batches carry a null ``segmentId``, as in Druid. Rows
are decoded (Arrow ``take`` per column) only for the page that is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import BeforeValidator, model_validator

from grove.common.models import NonEmptyStr, NonNegativeInt, Str, WireModel, spec_error, unsupported
from grove.errors import Unsupported
from grove.query.base import BaseQuery, LenientBool
from grove.query.common import records
from grove.query.registry import SegmentContext, Toolchest, register
from grove.query.types.segmentmetadata import segment_id_of
from grove.query.view import TIME, SegmentView
from grove.segment.columns import NumericColumn, StringColumn

DEFAULT_BATCH_SIZE = 20480
"""Druid's default ``batchSize`` (``0`` also means this)."""


def _lower(value: Any) -> Any:
    # Druid parses orders with valueOf(toUpperCase(...)), so any case is accepted.
    return value.lower() if isinstance(value, str) else value


ScanOrder = Annotated[Literal["none", "ascending", "descending"], BeforeValidator(_lower)]


def _result_format(value: Any) -> Any:
    if value == "valueVector":
        raise unsupported("Scan resultFormat [valueVector] is not supported; use list or compactedList")
    return value


ResultFormat = Annotated[Literal["list", "compactedList"], BeforeValidator(_result_format)]


class ScanOrderBy(WireModel):
    """One ``orderBy`` entry: ``{"columnName": "__time", "order": "ascending"}``."""

    column_name: NonEmptyStr
    order: ScanOrder

    @model_validator(mode="after")
    def _needs_direction(self) -> ScanOrderBy:
        if self.order == "none":
            raise spec_error(f"Order required for column [{self.column_name}]", field="order")
        return self


class ScanQuery(BaseQuery):
    """Druid's scan query. ``limit`` 0 or absent means no limit; ``legacy`` is accepted and ignored
    (Druid removed legacy mode)."""

    query_type: Literal["scan"]
    columns: tuple[Str, ...] = ()
    limit: NonNegativeInt | None = None
    offset: NonNegativeInt = 0
    batch_size: NonNegativeInt = DEFAULT_BATCH_SIZE
    order: ScanOrder = "none"
    order_by: tuple[ScanOrderBy, ...] = ()
    result_format: ResultFormat = "list"
    legacy: LenientBool | None = None

    @model_validator(mode="after")
    def _check_ordering(self) -> ScanQuery:
        for i, entry in enumerate(self.order_by):
            if entry.column_name != TIME:
                raise unsupported(
                    f"Scan ordering by column [{entry.column_name}] is not supported; grove orders scans by "
                    f"[{TIME}] only",
                    field=f"orderBy[{i}].columnName",
                )
        if len(self.order_by) > 1:
            raise spec_error(f"Column [{TIME}] appears more than once", field="orderBy[1].columnName")
        if self.order_by and self.order != "none" and self.order != self.order_by[0].order:
            raise spec_error("[order] and [orderBy] disagree", field="order")
        if self.time_order != "none" and self.columns and TIME not in self.columns:
            raise spec_error(
                f"The [{TIME}] column must be selected if the results are time-ordered", field="columns"
            )
        return self

    @property
    def time_order(self) -> str:
        """``none``, ``ascending`` or ``descending``, from ``orderBy`` or ``order``."""
        return self.order_by[0].order if self.order_by else self.order

    @property
    def row_limit(self) -> int | None:
        return self.limit or None

    @property
    def rows_per_batch(self) -> int:
        return self.batch_size or DEFAULT_BATCH_SIZE


# --- reading one segment ------------------------------------------------------------------------------


@dataclass
class _Piece:
    """Selected rows of one view: ``rows`` (absolute, sorted) or, when None, all of ``[lo, hi)``."""

    view: SegmentView
    rows: np.ndarray | None

    @property
    def count(self) -> int:
        return self.view.size if self.rows is None else len(self.rows)

    def rows_at(self, positions: np.ndarray) -> np.ndarray:
        if self.rows is None:
            return positions.astype(np.int64) + self.view.lo
        return self.rows[positions]


@dataclass
class ScanChunk:
    """What one segment contributes: its selected rows in time order, decoded only on demand.

    The filter runs on the first call to :meth:`pieces` (in the query pool for eager chunks, during
    finalize for limited unordered scans, so that segments past the limit are never filtered).
    """

    segment_id: str
    sort_key: tuple[int, str, int]
    columns: tuple[str, ...]
    views: Sequence[SegmentView]
    filter: Any
    _pieces: list[_Piece] | None = field(default=None, repr=False)

    def pieces(self) -> list[_Piece]:
        if self._pieces is None:
            out = []
            for view in self.views:
                if view.size == 0:
                    continue
                if self.filter is None:
                    out.append(_Piece(view, None))
                    continue
                rows = view.select(self.filter)
                if not rows.is_empty():
                    out.append(_Piece(view, rows.indices()))
            self._pieces = out
        return self._pieces

    def count(self) -> int:
        return sum(p.count for p in self.pieces())

    def times(self) -> np.ndarray:
        """``__time`` of every selected row, in order."""
        parts = [p.view.segment.time()[p.rows_at(np.arange(p.count))] for p in self.pieces()]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def keep(self, first: int | None = None, last: int | None = None) -> None:
        """Keep only the first ``first`` or the last ``last`` selected rows (candidates for a limit)."""
        total = self.count()
        lo, hi = 0, total
        if first is not None:
            hi = min(total, first)
        if last is not None:
            lo = max(0, total - last)
        if (lo, hi) != (0, total):
            kept = self._slice(lo, hi)
            self._pieces = kept

    def _slice(self, lo: int, hi: int) -> list[_Piece]:
        out = []
        start = 0
        for p in self.pieces():
            a, b = max(lo - start, 0), min(hi - start, p.count)
            if a < b:
                out.append(_Piece(p.view, p.rows_at(np.arange(a, b))))
            start += p.count
        return out

    def decode(
        self, positions: np.ndarray, columns: Sequence[str]
    ) -> tuple[list[list[Any]], list[str | None]]:
        """Values of ``columns`` at the selected-row ``positions`` (sorted), and each column's type."""
        pieces = self.pieces()
        bounds = np.cumsum([0] + [p.count for p in pieces])
        which = np.searchsorted(bounds, positions, side="right") - 1
        values: list[list[Any]] = [[] for _ in columns]
        types: list[str | None] = [None] * len(columns)
        for k, p in enumerate(pieces):
            local = positions[which == k] - bounds[k]
            if not len(local):
                continue
            rows = p.rows_at(local)
            for j, name in enumerate(columns):
                vals, kind = _decode(p.view, name, rows)
                values[j].extend(vals)
                types[j] = types[j] or kind
        return values, types


def _decode(view: SegmentView, name: str, rows: np.ndarray) -> tuple[list[Any], str | None]:
    """Python values of one column at absolute ``rows``, and the column's Druid type."""
    if name == TIME:
        return view.segment.time()[rows].tolist(), "LONG"
    col = view.column(name)
    if col is None:
        return [None] * len(rows), None
    if isinstance(col, StringColumn):
        return _strings(col, rows), "STRING"
    if isinstance(col, NumericColumn):
        mask = col.nulls[rows] if col.nulls is not None else None
        arr = pa.array(col.values[rows], mask=mask)
        if col.kind == "float":
            # Druid writes a float as its shortest decimal (0.1f as 0.1), not as the widened double;
            # Arrow's float-to-text cast gives that shortest form.
            arr = arr.cast(pa.string()).cast(pa.float64())
        return arr.to_pylist(), col.kind.upper()
    raise Unsupported(f"Scan cannot return sketch column [{name}]; query it with an aggregator instead")


def _strings(col: StringColumn, rows: np.ndarray) -> list[Any]:
    if col.offsets is None:
        return col.values_with_null().take(pa.array(col.codes[rows])).to_pylist()
    picked = col.take(rows)
    assert picked.offsets is not None
    lengths = np.diff(picked.offsets)
    flat = picked.decode(picked.codes)
    out: list[Any] = pa.LargeListArray.from_arrays(pa.array(picked.offsets, pa.int64()), flat).to_pylist()
    # One value comes out as a plain string (an empty row holds the single null code, so it is null).
    for i in np.flatnonzero(lengths == 1).tolist():
        out[i] = out[i][0]
    return out


def _virtual_names(query: ScanQuery) -> set[str]:
    return {vc.name for vc in query.virtual_columns}


def _default_columns(query: ScanQuery, ctx: SegmentContext) -> tuple[str, ...]:
    schema = ctx.segment.schema
    names = [TIME, *(vc.name for vc in query.virtual_columns), *schema.dimension_names]
    names += [m.name for m in schema.metrics if not m.is_sketch]
    return tuple(dict.fromkeys(names))


# --- the toolchest --------------------------------------------------------------------------------


class ScanToolchest(Toolchest[ScanQuery]):
    """Partials are lists of :class:`ScanChunk`, one per segment; merging concatenates them."""

    query_type = "scan"
    model = ScanQuery

    def process(self, query: ScanQuery, views: Sequence[SegmentView], ctx: SegmentContext) -> list[ScanChunk]:
        columns = query.columns or _default_columns(query, ctx)
        for name in columns:
            metric = ctx.segment.schema.metric(name)
            if metric is not None and metric.is_sketch and name not in _virtual_names(query):
                raise Unsupported(
                    f"Scan cannot return sketch column [{name}]; query it with an aggregator instead"
                )
        seg_id = segment_id_of(ctx)
        first_view = min((v.interval.start for v in views), default=ctx.visible.start)
        key = (ctx.segment.info.interval.start, seg_id, first_view)
        chunk = ScanChunk(seg_id, key, columns, views, query.filter)
        limit = query.row_limit
        if query.time_order == "none" and limit is not None:
            return [chunk]  # lazy: finalize filters segments in order and stops at the limit
        chunk.pieces()
        if limit is not None:
            wanted = query.offset + limit
            if query.time_order == "ascending":
                chunk.keep(first=wanted)
            else:
                chunk.keep(last=wanted)
        return [chunk]

    def merge(self, query: ScanQuery, partials: Sequence[list[ScanChunk]]) -> list[ScanChunk]:
        chunks = [c for part in partials for c in part]
        return sorted(chunks, key=lambda c: c.sort_key)

    def finalize(self, query: ScanQuery, merged: list[ScanChunk]) -> list[Any]:
        if query.time_order == "none":
            return self._in_segment_order(query, merged)
        return self._in_time_order(query, merged)

    def _in_segment_order(self, query: ScanQuery, chunks: Sequence[ScanChunk]) -> list[Any]:
        skip = query.offset
        need = query.row_limit
        out: list[Any] = []
        for chunk in chunks:
            if need is not None and need <= 0:
                break
            n = chunk.count()
            if skip >= n:
                skip -= n
                continue
            stop = n if need is None else min(n, skip + need)
            positions = np.arange(skip, stop, dtype=np.int64)
            skip = 0
            if need is not None:
                need -= len(positions)
            values, types = chunk.decode(positions, chunk.columns)
            out.extend(_batches(query, chunk.segment_id, chunk.columns, values, types))
        return out

    def _in_time_order(self, query: ScanQuery, chunks: Sequence[ScanChunk]) -> list[Any]:
        columns = query.columns or tuple(dict.fromkeys(c for chunk in chunks for c in chunk.columns))
        times = [chunk.times() for chunk in chunks]
        if not times or not sum(len(t) for t in times):
            return []
        all_times = np.concatenate(times)
        owner = np.repeat(np.arange(len(chunks)), [len(t) for t in times])
        position = np.concatenate([np.arange(len(t), dtype=np.int64) for t in times])
        order = np.argsort(all_times, kind="stable")
        if query.time_order == "descending":
            order = order[::-1]  # ties come out in reverse row order, as a descending cursor reads them
        order = order[query.offset :]
        if query.row_limit is not None:
            order = order[: query.row_limit]
        if not len(order):
            return []
        # Decode each chunk's share once (in row order), then permute into the merged order.
        picked_owner = owner[order]
        picked_pos = position[order]
        parts: list[tuple[list[list[Any]], list[str | None]]] = []
        slots_in_decode_order = []
        for k, chunk in enumerate(chunks):
            slots = np.flatnonzero(picked_owner == k)
            if len(slots):
                slots = slots[np.argsort(picked_pos[slots], kind="stable")]
                parts.append(chunk.decode(picked_pos[slots], columns))
                slots_in_decode_order.append(slots)
        perm = np.argsort(np.concatenate(slots_in_decode_order)).tolist()
        values = []
        types: list[str | None] = []
        for j in range(len(columns)):
            decoded = [v for part_values, _ in parts for v in part_values[j]]
            values.append([decoded[i] for i in perm])
            types.append(next((t[j] for _, t in parts if t[j] is not None), None))
        return _batches(query, None, columns, values, types)


def _batches(
    query: ScanQuery,
    segment_id: str | None,
    columns: Sequence[str],
    values: Sequence[list[Any]],
    types: Sequence[str | None],
) -> list[dict[str, Any]]:
    """Result batches of at most ``batchSize`` rows from per-column value lists."""
    n = len(values[0]) if values else 0
    if n == 0:
        return []
    names = list(columns)
    if query.result_format == "compactedList":
        events: list[Any] = [list(row) for row in zip(*values, strict=True)]
    else:
        events = records(names, values)
    signature = [
        {"name": c, "type": t} if t is not None else {"name": c} for c, t in zip(names, types, strict=True)
    ]
    size = query.rows_per_batch
    return [
        {"segmentId": segment_id, "columns": names, "events": events[i : i + size], "rowSignature": signature}
        for i in range(0, n, size)
    ]


register(ScanToolchest())
