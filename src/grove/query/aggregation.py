"""Aggregators at query time: per-segment partial states, merging, and finalized values.

Every aggregator model of :mod:`grove.query.spec.aggregators` maps to an :class:`Aggregation` with
three steps, the same for every query type:

* ``aggregate(view, selection)`` folds the selected rows of one segment view into one state per group
  (compiled kernels; no per-row Python);
* ``combine(states, remaps, num_groups)`` merges partial states whose groups map into a common group
  space — this is what a broker does with partial results;
* ``finalize(state)`` gives each group's value (sketches become estimates unless asked not to).

Nulls follow Druid's SQL-compatible mode: aggregators skip null inputs, and a group without any
non-null input is null (count is never null).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.errors import InvalidQuery, Unsupported
from grove.query import kernels as K
from grove.query.expression import Expr, parse_expression
from grove.query.grouping import dimension_codes
from grove.query.selection import Selection
from grove.query.spec import aggregators as A
from grove.query.spec import dimensions as D
from grove.query.view import TIME, SegmentView
from grove.segment.columns import NumericColumn, SketchColumn, StringColumn
from grove.segment.hashing import hash_array, hash_numbers
from grove.segment.sketches import (
    HLL_DEFAULT_LGK,
    SketchArray,
    hll_dense_registers,
    hll_entries,
    hll_estimate_dense,
    hll_union_groups,
    theta_estimate,
    theta_union_groups,
)

_DENSE_HLL_LIMIT = 64 << 20  # bytes of dense registers before switching to sparse sketches


# --- states -----------------------------------------------------------------------------------------


@dataclass
class NumState:
    """Per-group value and count of non-null inputs (count 0 ⇒ null)."""

    values: np.ndarray
    counts: np.ndarray


@dataclass
class FirstLastState:
    values: np.ndarray | pa.Array
    times: np.ndarray
    counts: np.ndarray


@dataclass
class HllState:
    """Dense registers (groups × 2^lgK) or sparse per-group sketches."""

    lgk: int
    registers: np.ndarray | None = None
    sparse: SketchArray | None = None

    def num_groups(self) -> int:
        return self.registers.shape[0] if self.registers is not None else len(self.sparse or [])

    def as_sparse(self) -> SketchArray:
        if self.sparse is not None:
            return self.sparse
        assert self.registers is not None
        g, reg = np.nonzero(self.registers)
        rho = self.registers[g, reg].astype(np.uint32)
        entries = (reg.astype(np.uint32) << np.uint32(6)) | rho
        offsets = np.zeros(self.registers.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(g, minlength=self.registers.shape[0]), out=offsets[1:])
        return SketchArray("hll", self.lgk, offsets, entries)

    def estimates(self) -> np.ndarray:
        if self.registers is not None:
            return hll_estimate_dense(self.registers, self.lgk)
        assert self.sparse is not None
        return self.sparse.estimates()


@dataclass
class ThetaState:
    sketches: SketchArray


State = NumState | FirstLastState | HllState | ThetaState


@dataclass
class Finalized:
    """Final values of one aggregator: a numpy array (with null mask) or a list of Python values."""

    values: np.ndarray | list[Any]
    nulls: np.ndarray | None = None

    def take(self, idx: np.ndarray) -> Finalized:
        if isinstance(self.values, list):
            return Finalized([self.values[int(i)] for i in idx], None)
        return Finalized(self.values[idx], self.nulls[idx] if self.nulls is not None else None)

    def to_list(self) -> list[Any]:
        if isinstance(self.values, list):
            return self.values
        out = self.values.tolist()
        if self.nulls is not None and self.nulls.any():
            for i in np.flatnonzero(self.nulls).tolist():
                out[i] = None
        return out


# --- inputs -----------------------------------------------------------------------------------------


@dataclass
class _Numbers:
    """A numeric input: ``values[r - base]`` is row r; ``nulls`` likewise (empty = no nulls)."""

    values: np.ndarray
    nulls: np.ndarray
    base: int


def numeric_input(view: SegmentView, field_name: str | None, expression: Expr | None, kind: str) -> _Numbers:
    """The values an aggregator reads: a column, a parsed string column, or an expression."""
    dtype = np.int64 if kind == "long" else np.float64
    if expression is not None:
        arr = view.evaluate(expression)
        return _arrow_numbers(arr, dtype, view.lo)
    assert field_name is not None
    if field_name == TIME:
        return _Numbers(view.segment.time(), K.EMPTY_NULLS, 0)
    col = view.column(field_name)
    if col is None:
        return _Numbers(np.zeros(view.size, dtype=dtype), np.ones(view.size, dtype=bool), view.lo)
    if isinstance(col, NumericColumn):
        values = col.values if col.values.dtype == dtype else col.values.astype(dtype)
        return _Numbers(values, col.nulls if col.nulls is not None else K.EMPTY_NULLS, 0)
    if isinstance(col, StringColumn):
        # Druid parses string values as numbers; parse each dictionary value once.
        if col.multi_value:
            raise Unsupported(f"Numeric aggregation over multi-value column [{field_name}] is not supported")
        parsed = (
            pc.cast(col.dictionary, pa.float64(), safe=False)
            if len(col.dictionary)
            else pa.array([], pa.float64())
        )
        numbers = np.concatenate([[np.nan], _to_float(parsed)])
        valid = ~np.isnan(numbers)
        values = np.nan_to_num(numbers).astype(dtype)[col.codes[view.lo : view.hi]]
        nulls = ~valid[col.codes[view.lo : view.hi]]
        return _Numbers(values, nulls, view.lo)
    raise InvalidQuery(f"Column [{field_name}] holds sketches and cannot be summed")


def _to_float(arr: pa.Array) -> np.ndarray:
    return arr.fill_null(np.nan).to_numpy(zero_copy_only=False).astype(np.float64)


def _arrow_numbers(arr: pa.Array, dtype: Any, base: int) -> _Numbers:
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.float64(), safe=False)
    nulls = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else K.EMPTY_NULLS
    values = arr.fill_null(0).to_numpy(zero_copy_only=False)
    if dtype is np.int64 and values.dtype.kind == "f":
        values = np.trunc(values)
    return _Numbers(np.ascontiguousarray(values, dtype=dtype), nulls, base)


def _run(
    kernel_rows: Callable[..., None],
    kernel_range: Callable[..., None],
    src: _Numbers,
    sel: Selection,
    out: np.ndarray,
    counts: np.ndarray,
) -> None:
    if sel.rows is None:
        kernel_range(src.values, sel.lo - src.base, sel.groups, src.nulls, out, counts)
    else:
        rows = sel.rows - src.base if src.base else sel.rows
        kernel_rows(src.values, rows, sel.groups, src.nulls, out, counts)


# --- aggregations -----------------------------------------------------------------------------------


class Aggregation:
    """One aggregator of a query (see module docstring)."""

    name: str
    #: "long" | "double" | "float" | "string" | "hll" | "theta" — the finalized type
    result_type: str = "double"

    def aggregate(self, view: SegmentView, sel: Selection) -> State:
        raise NotImplementedError

    def empty(self, num_groups: int) -> State:
        raise NotImplementedError

    def combine(self, states: Sequence[State], remaps: Sequence[np.ndarray], num_groups: int) -> State:
        raise NotImplementedError

    def concat(self, states: Sequence[State], sizes: Sequence[int]) -> State:
        """The states of groups that no two of ``states`` share, one after the other (``sizes``
        groups each): the combination whose remaps are consecutive ranges."""
        remaps, start = [], 0
        for size in sizes:
            remaps.append(np.arange(start, start + size, dtype=np.int64))
            start += size
        return self.combine(states, remaps, start)

    def take(self, state: State, idx: np.ndarray) -> State:
        raise NotImplementedError

    def finalize(self, state: State) -> Finalized:
        raise NotImplementedError

    def raw(self, state: State) -> Any:
        """The unfinalized value per group, for ``fieldAccess`` post-aggregators."""
        return self.finalize(state)


class _NumericBase(Aggregation):
    kind: str = "long"
    op: str = "sum"

    def dtype(self) -> Any:
        return np.int64 if self.kind == "long" else np.float64

    def _identity(self) -> Any:
        """The neutral start of an accumulator (min starts at +max, max at -max); masked when empty."""
        if self.op == "sum":
            return 0
        if self.kind == "long":
            info = np.iinfo(np.int64)
            return int(info.max) if self.op == "min" else int(info.min)
        return np.inf if self.op == "min" else -np.inf

    def empty(self, num_groups: int) -> NumState:
        return NumState(
            np.full(num_groups, self._identity(), dtype=self.dtype()), np.zeros(num_groups, dtype=np.int64)
        )

    def take(self, state: State, idx: np.ndarray) -> NumState:
        assert isinstance(state, NumState)
        return NumState(state.values[idx], state.counts[idx])

    def combine(self, states: Sequence[State], remaps: Sequence[np.ndarray], num_groups: int) -> NumState:
        out = self.empty(num_groups)
        fold = {"sum": np.add, "min": np.minimum, "max": np.maximum}[self.op]
        for st, remap in zip(states, remaps, strict=True):
            assert isinstance(st, NumState)
            present = st.counts > 0
            fold.at(out.values, remap[present], st.values[present].astype(out.values.dtype, copy=False))
            np.add.at(out.counts, remap, st.counts)
        return out

    def concat(self, states: Sequence[State], sizes: Sequence[int]) -> NumState:
        parts = [st for st in states if isinstance(st, NumState)]
        if len(parts) != len(states):
            return cast(NumState, super().concat(states, sizes))
        values = np.concatenate([st.values.astype(self.dtype(), copy=False) for st in parts])
        counts = np.concatenate([st.counts for st in parts])
        empty = counts == 0
        if empty.any():
            # As combine leaves them: an empty group holds the identity.
            values[empty] = self._identity()
        return NumState(values, counts)

    def finalize(self, state: State) -> Finalized:
        assert isinstance(state, NumState)
        nulls = state.counts == 0
        values = state.values
        if nulls.any() and self.op != "sum":
            values = np.where(nulls, 0, values)
        if self.kind == "float":
            values = float_as_printed(values)
        return Finalized(values, nulls if nulls.any() else None)


def float_as_printed(values: np.ndarray) -> np.ndarray:
    """Values rounded to 32-bit floats, as the doubles of their shortest decimal form.

    Druid's float aggregators return a Java float, which its JSON prints in the shortest form
    (``0.1``, not the float's exact double ``0.10000000149011612``); Arrow prints floats that way.
    """
    printed = pc.cast(pa.array(values.astype(np.float32), pa.float32()), pa.string())
    return np.asarray(pc.cast(printed, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


class NumericAggregation(_NumericBase):
    """longSum/doubleSum/floatSum/…Min/…Max over a column or expression."""

    def __init__(self, model: A.NumericAggregator, path: str) -> None:
        self.name = model.name
        self.kind = model.value_type if model.value_type != "string" else "double"
        self.op = model.op
        self.result_type = self.kind
        self.field = model.field_name
        self.expression = (
            parse_expression(model.expression, f"{path}.expression") if model.expression else None
        )

    def aggregate(self, view: SegmentView, sel: Selection) -> NumState:
        compute_kind = "long" if self.kind == "long" else "double"
        src = numeric_input(view, self.field, self.expression, compute_kind)
        state = self.empty(sel.num_groups)
        kernels = {
            "sum": (K.sum_rows, K.sum_range),
            "min": (K.min_rows, K.min_range),
            "max": (K.max_rows, K.max_range),
        }
        kr, kg = kernels[self.op]
        _run(kr, kg, src, sel, state.values, state.counts)
        return state


class CountAggregation(_NumericBase):
    kind = "long"
    op = "sum"
    result_type = "long"

    def __init__(self, model: A.CountAggregator, path: str) -> None:
        self.name = model.name

    def aggregate(self, view: SegmentView, sel: Selection) -> NumState:
        counts = np.bincount(sel.groups, minlength=sel.num_groups).astype(np.int64)
        return NumState(counts, np.ones(sel.num_groups, dtype=np.int64))

    def empty(self, num_groups: int) -> NumState:
        # A count is 0, never null, even for a group without rows.
        return NumState(np.zeros(num_groups, dtype=np.int64), np.ones(num_groups, dtype=np.int64))


class FirstLastAggregation(Aggregation):
    def __init__(self, model: A.FirstLastAggregator | A.AnyAggregator, path: str) -> None:
        self.name = model.name
        self.kind = model.value_type
        self.last = getattr(model, "op", "first") == "last"
        self.field = model.field_name
        self.time_column = getattr(model, "time_column", TIME)
        self.max_bytes = getattr(model, "max_string_bytes", 1024)
        self.result_type = self.kind

    def _times(self, view: SegmentView) -> np.ndarray:
        if self.time_column == TIME:
            return view.segment.time()
        col = view.column(self.time_column)
        if not isinstance(col, NumericColumn):
            raise InvalidQuery(f"timeColumn [{self.time_column}] of aggregator [{self.name}] must be numeric")
        return col.values.astype(np.int64)

    def aggregate(self, view: SegmentView, sel: Selection) -> FirstLastState:
        times = self._times(view)
        rows = sel.row_numbers()
        g = sel.num_groups
        out_time = np.zeros(g, dtype=np.int64)
        counts = np.zeros(g, dtype=np.int64)
        if self.kind == "string":
            col = view.column(self.field)
            codes_src = _string_codes(col, view)
            out = np.zeros(g, dtype=np.int64)
            K.first_last_rows(
                codes_src.values, times, rows, sel.groups, codes_src.nulls, out, out_time, counts, self.last
            )
            values = _decode_strings(col, out, counts, self.max_bytes)
            return FirstLastState(values, out_time, counts)
        src = numeric_input(view, self.field, None, "long" if self.kind == "long" else "double")
        out_num = np.zeros(g, dtype=src.values.dtype)
        shifted_times = times if src.base == 0 else times[src.base :]
        K.first_last_rows(
            src.values,
            shifted_times,
            rows - src.base,
            sel.groups,
            src.nulls,
            out_num,
            out_time,
            counts,
            self.last,
        )
        return FirstLastState(out_num, out_time, counts)

    def empty(self, num_groups: int) -> FirstLastState:
        values: Any = (
            pa.nulls(num_groups, pa.large_string())
            if self.kind == "string"
            else np.zeros(num_groups, np.float64 if self.kind != "long" else np.int64)
        )
        return FirstLastState(values, np.zeros(num_groups, np.int64), np.zeros(num_groups, np.int64))

    def take(self, state: State, idx: np.ndarray) -> FirstLastState:
        assert isinstance(state, FirstLastState)
        values = state.values.take(pa.array(idx)) if isinstance(state.values, pa.Array) else state.values[idx]
        return FirstLastState(values, state.times[idx], state.counts[idx])

    def combine(
        self, states: Sequence[State], remaps: Sequence[np.ndarray], num_groups: int
    ) -> FirstLastState:
        # Concatenate candidates and keep, per group, the earliest (latest) non-empty one.
        cand_groups, cand_times, cand_idx, cand_counts = [], [], [], []
        values_parts: list[Any] = []
        base = 0
        for st, remap in zip(states, remaps, strict=True):
            assert isinstance(st, FirstLastState)
            cand_groups.append(remap)
            cand_times.append(st.times)
            cand_counts.append(st.counts)
            cand_idx.append(np.arange(len(remap)) + base)
            values_parts.append(st.values)
            base += len(remap)
        groups = np.concatenate(cand_groups) if cand_groups else np.zeros(0, np.int64)
        times = np.concatenate(cand_times) if cand_times else np.zeros(0, np.int64)
        counts = np.concatenate(cand_counts) if cand_counts else np.zeros(0, np.int64)
        present = counts > 0
        order_time = -times if self.last else times
        order = np.lexsort((np.arange(len(groups)), order_time, ~present, groups))
        first = np.ones(len(order), dtype=bool)
        first[1:] = groups[order][1:] != groups[order][:-1]
        winners = order[first]
        out = self.empty(num_groups)
        win_groups = groups[winners]
        if self.kind == "string":
            all_values = (
                pa.concat_arrays([v.cast(pa.large_string()) for v in values_parts])
                if values_parts
                else pa.array([], pa.large_string())
            )
            vals = np.empty(num_groups, dtype=object)
            vals[:] = None
            picked = all_values.take(pa.array(winners)).to_pylist()
            for g, v in zip(win_groups.tolist(), picked, strict=True):
                vals[g] = v
            out.values = pa.array(vals.tolist(), pa.large_string())
        else:
            all_num = np.concatenate(values_parts) if values_parts else np.zeros(0)
            assert isinstance(out.values, np.ndarray)
            out.values = out.values.astype(all_num.dtype) if len(all_num) else out.values
            out.values[win_groups] = all_num[winners]
        out.times[win_groups] = times[winners]
        np.add.at(out.counts, groups, counts)
        return out

    def finalize(self, state: State) -> Finalized:
        assert isinstance(state, FirstLastState)
        nulls = state.counts == 0
        if isinstance(state.values, pa.Array):
            values = state.values.to_pylist()
            return Finalized([None if n else v for v, n in zip(values, nulls.tolist(), strict=True)])
        return Finalized(state.values, nulls if nulls.any() else None)


@dataclass
class _Codes:
    values: np.ndarray
    nulls: np.ndarray


def _string_codes(col: Any, view: SegmentView) -> _Codes:
    if col is None:
        n = view.num_rows
        return _Codes(np.zeros(n, np.int64), np.ones(n, dtype=bool))
    if not isinstance(col, StringColumn) or col.multi_value:
        raise Unsupported("string first/last needs a single-value string column")
    codes = col.codes.astype(np.int64)
    return _Codes(codes, codes == 0)


def _decode_strings(col: Any, codes: np.ndarray, counts: np.ndarray, max_bytes: int) -> pa.Array:
    if col is None:
        return pa.nulls(len(codes), pa.large_string())
    values = col.values_with_null().take(pa.array(np.where(counts > 0, codes, 0)))
    return pc.utf8_slice_codeunits(values, 0, max_bytes) if max_bytes else values


class HllAggregation(Aggregation):
    """HLLSketchBuild/HLLSketchMerge/hyperUnique/cardinality: merges stored sketches or builds from values."""

    result_type = "double"

    def __init__(
        self,
        name: str,
        fields: Sequence[str],
        lgk: int,
        *,
        round_: bool,
        finalize: bool,
        by_row: bool = False,
        kind: str = "HLLSketch",
        specs: Sequence[Any] | None = None,
    ) -> None:
        self.name = name
        self.fields = list(fields)
        # cardinality's dimension specs, parallel to ``fields`` (None: read the column as it is)
        self.specs = list(specs) if specs is not None else [None] * len(self.fields)
        self.lgk = lgk
        self.round = round_
        self.should_finalize = finalize
        self.by_row = by_row
        self.kind = kind
        self.result_type = "long" if round_ else "double"

    def empty(self, num_groups: int) -> HllState:
        if num_groups * (1 << self.lgk) <= _DENSE_HLL_LIMIT:
            return HllState(self.lgk, registers=np.zeros((num_groups, 1 << self.lgk), dtype=np.uint8))
        return HllState(
            self.lgk,
            sparse=SketchArray("hll", self.lgk, np.zeros(num_groups + 1, np.int64), np.zeros(0, np.uint32)),
        )

    def _entries(self, view: SegmentView, sel: Selection) -> tuple[np.ndarray, np.ndarray]:
        """(group, packed entry) pairs of the selection at this aggregation's lgK."""
        groups_parts, entry_parts = [], []
        rows = sel.row_numbers()
        hashes_by_row: list[tuple[np.ndarray, np.ndarray]] = []
        for fname, spec in zip(self.fields, self.specs, strict=True):
            col = view.column(fname) if fname != TIME else None
            if spec is not None:
                hashes, valid, parents = _spec_hashes(view, sel, spec)
                if self.by_row:
                    hashes_by_row.append((hashes, parents))
                    continue
                groups_parts.append(sel.groups[parents[valid]])
                entry_parts.append(hll_entries(hashes[valid], self.lgk))
                continue
            if isinstance(col, SketchColumn):
                sk = col.sketches
                if sk.kind != "hll":
                    raise InvalidQuery(f"Column [{fname}] holds theta sketches, not HLL sketches")
                lengths = sk.lengths()[rows]
                starts = sk.offsets[:-1][rows]
                idx = np.repeat(starts, lengths) + (
                    np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
                )
                entries = sk.entries[idx].astype(np.uint32)
                grp = np.repeat(sel.groups, lengths)
                if sk.param != self.lgk:
                    entries = (
                        downsample_hll(entries, sk.param, self.lgk)
                        if sk.param > self.lgk
                        else _upsample_error(fname)
                    )
                groups_parts.append(grp)
                entry_parts.append(entries)
                continue
            hashes, valid, parents = _value_hashes(view, fname, rows)
            if self.by_row:
                hashes_by_row.append((hashes, parents))
                continue
            groups_parts.append(sel.groups[parents[valid]])
            entry_parts.append(hll_entries(hashes[valid], self.lgk))
        if self.by_row and hashes_by_row:
            combined = np.zeros(len(rows), dtype=np.uint64)
            for hashes, parents in hashes_by_row:
                per_row = np.zeros(len(rows), dtype=np.uint64)
                np.add.at(per_row, parents, hashes)
                with np.errstate(over="ignore"):
                    combined = combined * np.uint64(31) + per_row
            groups_parts.append(sel.groups)
            entry_parts.append(hll_entries(hash_numbers(combined.view(np.int64)), self.lgk))
        if not groups_parts:
            return np.zeros(0, np.int64), np.zeros(0, np.uint32)
        return np.concatenate(groups_parts).astype(np.int64), np.concatenate(entry_parts)

    def aggregate(self, view: SegmentView, sel: Selection) -> HllState:
        groups, entries = self._entries(view, sel)
        state = self.empty(sel.num_groups)
        if state.registers is not None:
            if len(entries):
                K.hll_rows(
                    np.arange(len(entries) + 1, dtype=np.int64),
                    entries,
                    np.arange(len(entries), dtype=np.int64),
                    groups,
                    state.registers,
                )
            return state
        return HllState(self.lgk, sparse=hll_union_groups(groups, entries, sel.num_groups, self.lgk))

    def take(self, state: State, idx: np.ndarray) -> HllState:
        assert isinstance(state, HllState)
        if state.registers is not None:
            return HllState(state.lgk, registers=state.registers[idx])
        assert state.sparse is not None
        return HllState(state.lgk, sparse=state.sparse.take(idx))

    def concat(self, states: Sequence[State], sizes: Sequence[int]) -> State:
        lgk = states[0].lgk if states and isinstance(states[0], HllState) else self.lgk
        if all(isinstance(s, HllState) and s.registers is not None and s.lgk == lgk for s in states):
            return HllState(lgk, registers=np.concatenate([cast(HllState, s).registers for s in states]))
        return super().concat(states, sizes)

    def combine(self, states: Sequence[State], remaps: Sequence[np.ndarray], num_groups: int) -> HllState:
        lgk = min([s.lgk for s in states if isinstance(s, HllState)] + [self.lgk])
        dense = num_groups * (1 << lgk) <= _DENSE_HLL_LIMIT
        if dense and all(
            isinstance(s, HllState) and s.registers is not None and s.lgk == lgk for s in states
        ):
            out = np.zeros((num_groups, 1 << lgk), dtype=np.uint8)
            for st, remap in zip(states, remaps, strict=True):
                assert isinstance(st, HllState) and st.registers is not None
                if len(np.unique(remap)) == len(remap):
                    # Each partial group lands on its own merged group: one vectorised maximum.
                    out[remap] = np.maximum(out[remap], st.registers)
                else:
                    np.maximum.at(out, remap, st.registers)
            return HllState(lgk, registers=out)
        groups_parts, entry_parts = [], []
        for st, remap in zip(states, remaps, strict=True):
            assert isinstance(st, HllState)
            sp = st.as_sparse()
            entries = sp.entries if st.lgk == lgk else downsample_hll(sp.entries, st.lgk, lgk)
            groups_parts.append(remap[sp.parents()])
            entry_parts.append(entries)
        groups = np.concatenate(groups_parts) if groups_parts else np.zeros(0, np.int64)
        entries = np.concatenate(entry_parts) if entry_parts else np.zeros(0, np.uint32)
        if dense:
            return HllState(lgk, registers=hll_dense_registers(groups, entries, num_groups, lgk))
        return HllState(lgk, sparse=hll_union_groups(groups, entries, num_groups, lgk))

    def finalize(self, state: State) -> Finalized:
        assert isinstance(state, HllState)
        if not self.should_finalize:
            return Finalized(self._serialized(state))
        est = state.estimates()
        if self.round:
            return Finalized(np.rint(est).astype(np.int64))
        return Finalized(est)

    def raw(self, state: State) -> Any:
        return state

    def _serialized(self, state: HllState) -> list[str]:
        sp = state.as_sparse()
        out = []
        for i in range(len(sp)):
            body = sp.entries[sp.offsets[i] : sp.offsets[i + 1]].astype("<u4").tobytes()
            out.append(base64.b64encode(bytes([1, state.lgk]) + body).decode())
        return out


def _upsample_error(name: str) -> np.ndarray:
    raise InvalidQuery(f"Column [{name}] holds sketches smaller than the requested lgK; lower lgK")


def downsample_hll(entries: np.ndarray, from_lgk: int, to_lgk: int) -> np.ndarray:
    """Re-express packed HLL entries at a smaller lgK (the dropped register bits lead the rest)."""
    shift = from_lgk - to_lgk
    reg = (entries >> np.uint32(6)).astype(np.int64)
    rho = (entries & np.uint32(63)).astype(np.int64)
    new_reg = reg >> shift
    dropped = reg & ((1 << shift) - 1)
    # Leading zeros of the dropped bits (as a shift-bit number), +1; all-zero adds the old rho.
    bit_len = np.zeros(len(dropped), dtype=np.int64)
    nz = dropped > 0
    bit_len[nz] = np.floor(np.log2(dropped[nz])).astype(np.int64) + 1
    new_rho = np.where(nz, shift - bit_len + 1, shift + rho)
    new_rho = np.minimum(new_rho, 64 - to_lgk + 1)
    return ((new_reg.astype(np.uint32) << np.uint32(6)) | new_rho.astype(np.uint32)).astype(np.uint32)


def _value_hashes(
    view: SegmentView, name: str, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashes of a column's values at ``rows``: (hashes, valid mask, index of the row of each)."""
    if name == TIME:
        return hash_numbers(view.segment.time()[rows]), np.ones(len(rows), bool), np.arange(len(rows))
    col = view.column(name)
    if col is None:
        return np.zeros(0, np.uint64), np.zeros(0, bool), np.zeros(0, np.int64)
    if isinstance(col, StringColumn):
        by_code, _ = hash_array(col.dictionary)
        by_code = np.concatenate([[np.uint64(0)], by_code])
        if col.offsets is None:
            codes = col.codes[rows]
            return by_code[codes], codes != 0, np.arange(len(rows))
        lengths = np.diff(col.offsets)[rows]
        starts = col.offsets[:-1][rows]
        idx = np.repeat(starts, lengths) + (
            np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        )
        codes = col.codes[idx]
        return by_code[codes], codes != 0, np.repeat(np.arange(len(rows)), lengths)
    if isinstance(col, NumericColumn):
        values = col.values[rows]
        valid = ~col.nulls[rows] if col.nulls is not None else np.ones(len(rows), bool)
        return hash_numbers(values), valid, np.arange(len(rows))
    raise InvalidQuery(f"Column [{name}] holds sketches of another kind")


def _spec_hashes(view: SegmentView, sel: Selection, spec: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashes of a dimension spec's values over the selection (as :func:`_value_hashes`)."""
    dc = dimension_codes(spec, view, sel)
    by_code, valid_code = hash_array(dc.values)
    hashes = np.where(valid_code, by_code, np.uint64(0))[dc.codes]
    parents = np.arange(len(dc.codes), dtype=np.int64) if dc.positions is None else dc.positions
    return hashes, valid_code[dc.codes], parents


class ThetaAggregation(Aggregation):
    result_type = "double"

    def __init__(self, model: A.ThetaSketchAggregator, path: str) -> None:
        self.name = model.name
        self.field = model.field_name
        self.size = model.size
        self.should_finalize = model.should_finalize

    def empty(self, num_groups: int) -> ThetaState:
        return ThetaState(
            SketchArray("theta", self.size, np.zeros(num_groups + 1, np.int64), np.zeros(0, np.uint64))
        )

    def aggregate(self, view: SegmentView, sel: Selection) -> ThetaState:
        rows = sel.row_numbers()
        col = view.column(self.field)
        if isinstance(col, SketchColumn):
            sk = col.sketches
            if sk.kind != "theta":
                raise InvalidQuery(f"Column [{self.field}] holds HLL sketches, not theta sketches")
            taken = sk.take(rows)
            parents = taken.parents()
            thetas = None
            if taken.thetas is not None:
                thetas = np.full(sel.num_groups, np.iinfo(np.uint64).max, dtype=np.uint64)
                np.minimum.at(thetas, sel.groups, taken.thetas)
            return ThetaState(
                theta_union_groups(sel.groups[parents], taken.entries, sel.num_groups, self.size, thetas)
            )
        hashes, valid, parents = _value_hashes(view, self.field, rows)
        return ThetaState(
            theta_union_groups(sel.groups[parents[valid]], hashes[valid], sel.num_groups, self.size)
        )

    def take(self, state: State, idx: np.ndarray) -> ThetaState:
        assert isinstance(state, ThetaState)
        return ThetaState(state.sketches.take(idx))

    def combine(self, states: Sequence[State], remaps: Sequence[np.ndarray], num_groups: int) -> ThetaState:
        groups_parts, hashes_parts = [], []
        thetas = np.full(num_groups, np.iinfo(np.uint64).max, dtype=np.uint64)
        for st, remap in zip(states, remaps, strict=True):
            assert isinstance(st, ThetaState)
            sk = st.sketches
            groups_parts.append(remap[sk.parents()])
            hashes_parts.append(sk.entries)
            if sk.thetas is not None:
                np.minimum.at(thetas, remap, sk.thetas)
        groups = np.concatenate(groups_parts) if groups_parts else np.zeros(0, np.int64)
        hashes = np.concatenate(hashes_parts) if hashes_parts else np.zeros(0, np.uint64)
        return ThetaState(theta_union_groups(groups, hashes, num_groups, self.size, thetas))

    def finalize(self, state: State) -> Finalized:
        assert isinstance(state, ThetaState)
        if not self.should_finalize:
            sk = state.sketches
            return Finalized(
                [
                    base64.b64encode(
                        sk.entries[sk.offsets[i] : sk.offsets[i + 1]].astype("<u8").tobytes()
                    ).decode()
                    for i in range(len(sk))
                ]
            )
        return Finalized(theta_estimate(state.sketches))

    def raw(self, state: State) -> Any:
        return state


class FilteredAggregation(Aggregation):
    def __init__(self, model: A.FilteredAggregator, inner: Aggregation) -> None:
        self.name = model.name
        self.filter = model.filter
        self.inner = inner
        self.result_type = inner.result_type

    def aggregate(self, view: SegmentView, sel: Selection) -> State:
        mask = view.select(self.filter).mask()
        keep = mask[sel.row_numbers() - view.lo]
        if keep.all():
            return self.inner.aggregate(view, sel)
        return self.inner.aggregate(view, sel.subset(keep))

    def empty(self, num_groups: int) -> State:
        return self.inner.empty(num_groups)

    def combine(self, states: Sequence[State], remaps: Sequence[np.ndarray], num_groups: int) -> State:
        return self.inner.combine(states, remaps, num_groups)

    def take(self, state: State, idx: np.ndarray) -> State:
        return self.inner.take(state, idx)

    def finalize(self, state: State) -> Finalized:
        return self.inner.finalize(state)

    def raw(self, state: State) -> Any:
        return self.inner.raw(state)


def build_aggregation(model: Any, path: str) -> Aggregation:
    """The query-time implementation of an aggregator model."""
    if isinstance(model, A.CountAggregator):
        return CountAggregation(model, path)
    if isinstance(model, A.NumericAggregator):
        return NumericAggregation(model, path)
    if isinstance(model, A.FirstLastAggregator | A.AnyAggregator):
        return FirstLastAggregation(model, path)
    if isinstance(model, A.FilteredAggregator):
        return FilteredAggregation(model, build_aggregation(model.aggregator, f"{path}.aggregator"))
    if isinstance(model, A.HyperUniqueAggregator):
        return HllAggregation(
            model.name,
            [model.field_name],
            HLL_DEFAULT_LGK,
            round_=model.round,
            finalize=True,
            kind="hyperUnique",
        )
    if isinstance(model, A.HllSketchAggregator):
        return HllAggregation(
            model.name, [model.field_name], model.lg_k, round_=model.round, finalize=model.should_finalize
        )
    if isinstance(model, A.CardinalityAggregator):
        # Plain column names read the column (sketch columns included); other specs are evaluated.
        specs = [None if isinstance(f, D.DefaultDimensionSpec) else f for f in model.fields]
        return HllAggregation(
            model.name,
            [f.dimension for f in model.fields],
            HLL_DEFAULT_LGK,
            round_=model.round,
            finalize=True,
            by_row=model.by_row,
            kind="cardinality",
            specs=specs,
        )
    if isinstance(model, A.ThetaSketchAggregator):
        return ThetaAggregation(model, path)
    raise Unsupported(f"Aggregator type [{getattr(model, 'type', model)}] is not supported at {path}.type")


def build_aggregations(models: Sequence[Any], path: str = "aggregations") -> list[Aggregation]:
    out = [build_aggregation(m, f"{path}[{i}]") for i, m in enumerate(models)]
    names = [a.name for a in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise InvalidQuery(f"Duplicate aggregator name [{sorted(dup)[0]}] in {path}", path)
    return out
