"""Group keys: dimension specs evaluated over a segment view, and grouping rows by them.

A dimension spec yields, for each selected row, a code into a small array of distinct output values
(:class:`DimensionCodes`). Multi-value dimensions yield one entry per value, as Druid groups a row
under each of its values; :func:`group_rows` explodes the selection accordingly and combines the
codes of several dimensions (and a time bucket) into dense group ids with sort-free arithmetic when
the key space is small, and a hash/sort otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.errors import InvalidQuery
from grove.query.extraction import apply_extraction
from grove.query.lookups import active_lookup, map_values
from grove.query.selection import Selection
from grove.query.spec import dimensions as D
from grove.query.spec.extraction import LookupOptions
from grove.query.view import TIME, SegmentView
from grove.segment.columns import NumericColumn, SketchColumn, StringColumn

_STRING = pa.large_string()


@dataclass
class DimensionCodes:
    """For each entry: the selection position it came from and its code into ``values``.

    ``positions`` is None when entries are exactly the selection (one per selected row).
    """

    positions: np.ndarray | None
    codes: np.ndarray
    values: pa.Array


def _rows_codes_single(codes: np.ndarray, sel: Selection) -> np.ndarray:
    return sel.gather(codes).astype(np.int64)


def _string_entries(col: StringColumn, sel: Selection) -> tuple[np.ndarray | None, np.ndarray]:
    """(positions, codes) of a string column over the selection, exploding multi-value rows."""
    if col.offsets is None:
        return None, _rows_codes_single(col.codes, sel)
    rows = sel.row_numbers()
    lengths = np.diff(col.offsets)[rows]
    starts = col.offsets[:-1][rows]
    total = int(lengths.sum())
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    idx = np.repeat(starts, lengths) + within
    positions = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    return positions, col.codes[idx].astype(np.int64)


def dimension_codes(spec: Any, view: SegmentView, sel: Selection) -> DimensionCodes:
    """Evaluate a dimension spec over the selected rows of a view."""
    if isinstance(
        spec, D.ListFilteredDimensionSpec | D.RegexFilteredDimensionSpec | D.PrefixFilteredDimensionSpec
    ):
        inner = dimension_codes(spec.delegate, view, sel)
        return _filter_values(spec, inner)
    name = spec.dimension
    extraction = getattr(spec, "extraction_fn", None)
    col = None if name == TIME else view.column(name)
    if name == TIME or isinstance(col, NumericColumn):
        values = view.segment.time() if name == TIME else col.values  # type: ignore[union-attr]
        nulls = None if name == TIME else col.nulls  # type: ignore[union-attr]
        out = _numeric_codes(values, nulls, sel, getattr(col, "kind", "long"))
    elif isinstance(col, StringColumn):
        positions, codes = _string_entries(col, sel)
        out = DimensionCodes(positions, codes, col.values_with_null())
    elif col is None:
        out = DimensionCodes(None, np.zeros(sel.size, dtype=np.int64), pa.nulls(1, _STRING))
    elif isinstance(col, SketchColumn):
        raise InvalidQuery(f"Cannot group by sketch column [{name}]")
    else:
        raise InvalidQuery(f"Cannot group by column [{name}]")
    if extraction is not None:
        out = _map_values(out, apply_extraction(extraction, _as_strings(out.values)))
    elif isinstance(spec, D.LookupDimensionSpec):
        out = _map_values(out, _lookup(spec, _as_strings(out.values)))
    return _with_output_type(out, spec.output_type)


def _numeric_codes(values: np.ndarray, nulls: np.ndarray | None, sel: Selection, kind: str) -> DimensionCodes:
    picked = sel.gather(values)
    null_mask = sel.gather(nulls) if nulls is not None else None
    uniq, inverse = np.unique(picked, return_inverse=True)
    codes = inverse.astype(np.int64) + 1
    if null_mask is not None:
        codes[null_mask] = 0
    arr = pa.array(uniq)
    return DimensionCodes(None, codes, pa.concat_arrays([pa.nulls(1, arr.type), arr]))


def _as_strings(values: pa.Array) -> pa.Array:
    if pa.types.is_large_string(values.type):
        return values
    if pa.types.is_string(values.type):
        return values.cast(_STRING)
    if pa.types.is_floating(values.type):
        from grove.query.expression.values import java_double_strings

        return java_double_strings(values).cast(_STRING)
    return pc.cast(values, _STRING)


def _map_values(dc: DimensionCodes, mapped: pa.Array) -> DimensionCodes:
    """Replace each value by ``mapped`` (aligned with ``dc.values``), merging values that collide."""
    encoded = pc.dictionary_encode(mapped, null_encoding="encode")
    remap = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return DimensionCodes(dc.positions, remap[dc.codes], encoded.dictionary)


def _lookup(spec: D.LookupDimensionSpec, values: pa.Array) -> pa.Array:
    """The values mapped through the spec's inline map, or the registered lookup it names."""
    opts: LookupOptions = spec
    table = dict(spec.lookup.map) if spec.lookup is not None else active_lookup(str(spec.name), "name").map
    return map_values(
        table,
        values,
        retain_missing=opts.retain_missing_value,
        replace_missing=opts.replace_missing_value_with,
    )


def _filter_values(spec: Any, dc: DimensionCodes) -> DimensionCodes:
    strings = _as_strings(dc.values).to_pylist()
    if isinstance(spec, D.ListFilteredDimensionSpec):
        allowed = set(spec.values)
        keep = [(v in allowed) == spec.is_whitelist for v in strings]
    elif isinstance(spec, D.RegexFilteredDimensionSpec):
        rx = re.compile(spec.pattern)
        keep = [v is not None and rx.search(v) is not None for v in strings]
    else:
        keep = [v is not None and v.startswith(spec.prefix) for v in strings]
    keep_arr = np.asarray(keep, dtype=bool)
    entry_keep = keep_arr[dc.codes]
    if dc.positions is None:
        # Single-value rows whose value is filtered out group under null.
        codes = np.where(entry_keep, dc.codes, _null_code(dc.values))
        return DimensionCodes(None, codes, dc.values)
    positions = dc.positions[entry_keep]
    codes = dc.codes[entry_keep]
    # Rows left without any value still appear once, under null.
    n_rows = int(dc.positions.max()) + 1 if len(dc.positions) else 0
    has = np.zeros(n_rows, dtype=bool)
    has[positions] = True
    missing = np.flatnonzero(~has)
    null_code = _null_code(dc.values)
    positions = np.concatenate([positions, missing])
    codes = np.concatenate([codes, np.full(len(missing), null_code, dtype=np.int64)])
    order = np.argsort(positions, kind="stable")
    return DimensionCodes(positions[order], codes[order], dc.values)


def _null_code(values: pa.Array) -> int:
    nulls = np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))
    if len(nulls):
        return int(nulls[0])
    raise InvalidQuery("internal: dimension values lack a null entry")


def _with_output_type(dc: DimensionCodes, output_type: str) -> DimensionCodes:
    t = dc.values.type
    if output_type == "STRING":
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return dc
        return _map_values(dc, _as_strings(dc.values))
    target = pa.int64() if output_type == "LONG" else pa.float64()
    if output_type == "FLOAT":
        target = pa.float32()
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        numbers = (
            pc.cast(dc.values, pa.float64(), safe=False) if len(dc.values) else pa.array([], pa.float64())
        )
        converted = numbers.cast(target, safe=False)
    else:
        converted = dc.values.cast(target, safe=False)
    return _map_values(dc, converted)


@dataclass
class Grouped:
    """Rows grouped by keys: an aggregation selection plus each group's key codes per dimension."""

    selection: Selection
    key_codes: list[np.ndarray]  # per key: code of each group
    key_values: list[pa.Array]  # per key: the values the codes index


def group_rows(
    sel: Selection,
    keys: Sequence[DimensionCodes],
    *,
    bucket: np.ndarray | None = None,
    bucket_values: pa.Array | None = None,
) -> Grouped:
    """Group the selection by ``keys`` (and a leading time ``bucket`` code per selected row)."""
    all_keys: list[DimensionCodes] = []
    if bucket is not None:
        assert bucket_values is not None
        all_keys.append(DimensionCodes(None, bucket, bucket_values))
    all_keys.extend(keys)
    positions = np.arange(sel.size, dtype=np.int64)
    entry_codes: list[np.ndarray] = []
    for k in all_keys:
        if k.positions is None:
            exploded = len(positions) != sel.size or not _is_identity(positions)
            entry_codes.append(k.codes[positions] if exploded else k.codes)
            continue
        # Explode: every current entry repeats for each value of its row.
        order = np.argsort(k.positions, kind="stable")
        kpos, kcodes = k.positions[order], k.codes[order]
        counts = np.bincount(kpos, minlength=sel.size)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rep = counts[positions]
        new_positions = np.repeat(positions, rep)
        within = np.arange(len(new_positions), dtype=np.int64) - np.repeat(np.cumsum(rep) - rep, rep)
        new_codes = kcodes[np.repeat(starts[positions], rep) + within]
        entry_codes = [c[np.repeat(np.arange(len(positions)), rep)] for c in entry_codes]
        entry_codes.append(new_codes)
        positions = new_positions
    sizes = [len(k.values) for k in all_keys]
    group_ids, key_codes = _combine_codes(entry_codes, sizes, len(positions))
    num_groups = len(key_codes[0]) if key_codes else (1 if len(positions) else 0)
    if not all_keys:
        group_ids = np.zeros(len(positions), dtype=np.int64)
        num_groups = 1
    if len(positions) == sel.size and _is_identity(positions):
        new_sel = Selection(sel.rows, sel.lo, sel.hi, group_ids, num_groups)
    else:
        rows = sel.row_numbers()[positions]
        new_sel = Selection(rows, sel.lo, sel.hi, group_ids, num_groups)
    return Grouped(new_sel, key_codes, [k.values for k in all_keys])


def _is_identity(positions: np.ndarray) -> bool:
    return len(positions) == 0 or (positions[0] == 0 and positions[-1] == len(positions) - 1)


def _combine_codes(codes: list[np.ndarray], sizes: list[int], n: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Dense group ids for the code tuples, and each group's code per key (groups in key order)."""
    if not codes:
        return np.zeros(n, dtype=np.int64), []
    space = 1
    for s in sizes:
        space *= max(s, 1)
    if space <= max(4 * n, 1 << 20):
        # Small key space: mixed-radix key, presence by bincount, no sort.
        key = np.zeros(n, dtype=np.int64)
        for c, s in zip(codes, sizes, strict=True):
            key = key * max(s, 1) + c
        present = np.bincount(key, minlength=space) > 0
        used = np.flatnonzero(present)
        dense = np.full(space, -1, dtype=np.int64)
        dense[used] = np.arange(len(used), dtype=np.int64)
        group_ids = dense[key]
        key_codes = []
        rest = used.copy()
        for s in reversed(sizes):
            key_codes.append(rest % max(s, 1))
            rest //= max(s, 1)
        key_codes.reverse()
        return group_ids, key_codes
    stacked = np.stack(codes, axis=1)
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), [uniq[:, i].astype(np.int64) for i in range(uniq.shape[1])]
