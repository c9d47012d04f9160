"""Arrow arrays to segment columns: dictionary encoding, multi-value handling, numeric coercion.

All work is vectorised in Arrow and numpy. Strings are encoded against a dictionary sorted by UTF-8
bytes, so code order is value order (which makes sorting rows by dimension a sort of integers).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.segment.block import DICTIONARY_TYPE
from grove.segment.columns import NumericColumn, StringColumn, code_dtype
from grove.segment.schema import NUMPY_DTYPES


def _combine(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks == 0:
            return pa.array([], arr.type)
        return arr.combine_chunks() if arr.num_chunks > 1 else arr.chunk(0)
    return arr


def to_strings(arr: pa.Array) -> pa.Array:
    """Any scalar Arrow array as strings (numbers print as Druid does: 1 → "1", 1.5 → "1.5")."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_large_string(t):
        return arr
    if pa.types.is_string(t):
        return arr.cast(DICTIONARY_TYPE)
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "true", "false").cast(DICTIONARY_TYPE)
    if pa.types.is_null(t):
        return pa.nulls(len(arr), DICTIONARY_TYPE)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return arr.cast(DICTIONARY_TYPE)
    if pa.types.is_struct(t) or pa.types.is_map(t):
        # Nested values are not dimension values; keep them as their JSON-ish text.
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], DICTIONARY_TYPE)
    return pc.cast(arr, DICTIONARY_TYPE)


def encode_strings(
    arr: pa.Array | pa.ChunkedArray, multi_value_handling: str = "SORTED_ARRAY"
) -> StringColumn:
    """Encode a string (or list-of-string) array; lists make a multi-value column."""
    arr = _combine(arr)
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        return _encode_multi(arr, multi_value_handling)
    strings = to_strings(arr)
    encoded = pc.dictionary_encode(strings)
    dictionary = encoded.dictionary
    order = pc.array_sort_indices(dictionary).to_numpy()
    rank = np.empty(len(dictionary) + 1, dtype=np.int64)
    rank[order] = np.arange(1, len(dictionary) + 1)
    rank[-1] = 0  # index -1 (null) maps to code 0
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = rank[indices].astype(code_dtype(len(dictionary) + 1))
    return StringColumn(dictionary.take(pa.array(order)), codes)


class StringEncoder:
    """Encodes one string dimension batch after batch, reusing the work of the previous batch.

    Arrow dictionary arrays of strings (as read from Parquet's dictionary pages) are encoded from
    their dictionary: it is sorted, and each row's index becomes a code through one gather, instead
    of hashing every row's string. Batches of one Parquet row group carry the same dictionary; it is
    sorted once, and their columns share one dictionary object, so that concatenating them needs no
    unification. Such a column's dictionary holds every value of the input's dictionary, also values
    no row of the batch holds (merging writes only the values rows hold). Other arrays are encoded as
    :func:`encode_strings` does.
    """

    def __init__(self, multi_value_handling: str = "SORTED_ARRAY") -> None:
        self.multi_value_handling = multi_value_handling
        self._raw: pa.Array | None = None
        self._sorted: pa.Array | None = None
        self._rank: np.ndarray | None = None

    def encode(self, arr: pa.Array | pa.ChunkedArray) -> StringColumn:
        arr = _combine(arr)
        typ = arr.type
        if not (
            pa.types.is_dictionary(typ)
            and (pa.types.is_string(typ.value_type) or pa.types.is_large_string(typ.value_type))
            and arr.dictionary.null_count == 0
        ):
            return encode_strings(arr, self.multi_value_handling)
        dictionary, rank = self._ranked(arr.dictionary)
        indices = arr.indices
        if indices.null_count:
            indices = indices.fill_null(len(rank) - 1)  # the last rank is the null code 0
        return StringColumn(dictionary, rank[indices.to_numpy(zero_copy_only=False)])

    def _ranked(self, raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """The sorted distinct values of ``raw`` and the code of each of its entries, null code last."""
        if self._raw is not None and (raw is self._raw or raw.equals(self._raw)):
            assert self._sorted is not None and self._rank is not None
            return self._sorted, self._rank
        values = raw.cast(DICTIONARY_TYPE)
        order = pc.array_sort_indices(values).to_numpy()
        ordered = values.take(pa.array(order))
        # A dictionary may repeat a value: equal neighbours after sorting share a code.
        new = np.ones(len(ordered), dtype=bool)
        if len(ordered) > 1:
            same = pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
            new[1:] = ~same.to_numpy(zero_copy_only=False)
        codes = np.cumsum(new)
        rank = np.zeros(len(values) + 1, dtype=code_dtype(int(codes[-1]) + 1 if len(codes) else 1))
        rank[order] = codes
        sorted_values = ordered if new.all() else ordered.filter(pa.array(new))
        self._raw, self._sorted, self._rank = raw, sorted_values, rank
        return sorted_values, rank


def _encode_multi(arr: pa.Array, handling: str) -> StringColumn:
    n = len(arr)
    values = to_strings(pc.list_flatten(arr))
    parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False).astype(np.int64)
    keep = values.is_valid().to_numpy(zero_copy_only=False)
    inner = encode_strings(values.filter(pa.array(keep)))
    codes = inner.codes.astype(np.int64)
    parents = parents[keep]
    if handling in ("SORTED_ARRAY", "SORTED_SET", "sorted_array", "sorted_set"):
        order = np.lexsort((codes, parents))
        codes, parents = codes[order], parents[order]
        if handling.upper() == "SORTED_SET" and len(codes) > 1:
            first = np.ones(len(codes), dtype=bool)
            first[1:] = (codes[1:] != codes[:-1]) | (parents[1:] != parents[:-1])
            codes, parents = codes[first], parents[first]
    counts = np.bincount(parents, minlength=n)
    lengths = np.maximum(counts, 1)  # a row without values holds the null code
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.zeros(int(offsets[-1]), dtype=np.int64)
    first_of_parent = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=first_of_parent[1:])
    rank_in_row = np.arange(len(codes), dtype=np.int64) - first_of_parent[parents]
    flat[offsets[parents] + rank_in_row] = codes
    return StringColumn(inner.dictionary, flat.astype(code_dtype(inner.cardinality)), offsets)


def encode_numeric(arr: pa.Array | pa.ChunkedArray, kind: str) -> tuple[NumericColumn, np.ndarray]:
    """Coerce to long/float/double; returns the column and a mask of values that failed to parse.

    Nulls stay null. Strings are parsed as numbers; unparseable strings become null and are flagged
    in the returned mask so the caller can count them as parse errors.
    """
    arr = _combine(arr)
    dtype = NUMPY_DTYPES[kind]
    failed = np.zeros(len(arr), dtype=bool)
    t = arr.type
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        # The first element of each list; an empty list counts as null (list_element rejects it).
        nonempty = pc.greater(pc.list_value_length(arr), 0)
        arr = pc.list_element(pc.if_else(nonempty, arr, pa.scalar(None, t)), 0)
        t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        strings = arr.cast(pa.large_string()) if not pa.types.is_dictionary(t) else arr.cast(t.value_type)
        trimmed = pc.utf8_trim_whitespace(strings)
        blank = pc.equal(trimmed, "").fill_null(False)
        trimmed = pc.if_else(blank, pa.scalar(None, pa.large_string()), trimmed)
        try:
            parsed = pc.cast(trimmed, pa.float64())
        except pa.ArrowInvalid:
            parsed = _parse_lenient(trimmed)
        failed = pc.and_(parsed.is_null(), trimmed.is_valid()).to_numpy(zero_copy_only=False)
        arr = parsed
        t = arr.type
    if pa.types.is_boolean(t):
        arr = arr.cast(pa.int8())
    if pa.types.is_null(t):
        return NumericColumn(kind, np.zeros(len(arr), dtype=dtype), np.ones(len(arr), bool)), failed
    nulls = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
    if kind == "long" and pa.types.is_floating(arr.type):
        vals = np.trunc(arr.fill_null(0).to_numpy(zero_copy_only=False)).astype(np.int64)
    else:
        vals = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(dtype)
    return NumericColumn(kind, vals, nulls), failed


def _parse_lenient(strings: pa.Array) -> pa.Array:
    """Parse per distinct value (the slow path, only when some values are not numbers)."""
    encoded = pc.dictionary_encode(strings)
    parsed: list[float | None] = []
    for v in encoded.dictionary.to_pylist():
        try:
            parsed.append(float(v))
        except (TypeError, ValueError):
            parsed.append(None)
    return pa.array(parsed, pa.float64()).take(encoded.indices)
