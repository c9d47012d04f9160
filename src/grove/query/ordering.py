"""Sort orders Druid uses for dimension values: lexicographic, alphanumeric, numeric, strlen, version.

:func:`sort_keys` turns a column of values into something numpy can sort by (a rank per row), so
result ordering is one ``lexsort`` over rank arrays, whatever the ordering of each column.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _alphanumeric(value: str) -> tuple[Any, ...]:
    parts = re.split(r"(\d+)", value)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != "")


def _version(value: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-_]", value))


def sort_keys(
    values: list[Any] | np.ndarray | pa.Array, ordering: str = "lexicographic", descending: bool = False
) -> np.ndarray:
    """An int64 rank per value such that sorting ranks ascending sorts the values as asked.

    Nulls sort first ascending (last descending), as in Druid.
    """
    arr = (
        values
        if isinstance(values, pa.Array)
        else pa.array(values if isinstance(values, list) else values.tolist())
    )
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    encoded = pc.dictionary_encode(arr, null_encoding="encode")
    idx = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    dictionary = encoded.dictionary
    t = dictionary.type
    plain_numbers = pa.types.is_integer(t) or pa.types.is_floating(t)
    plain_strings = pa.types.is_string(t) or pa.types.is_large_string(t)
    if (ordering == "lexicographic" and (plain_strings or plain_numbers)) or (
        ordering == "numeric" and plain_numbers
    ):
        # Distinct values never tie here, so their sorted position is their rank; nulls rank first.
        sorted_idx = pc.array_sort_indices(dictionary, null_placement="at_start").to_numpy()
        rank = np.empty(len(dictionary), dtype=np.int64)
        rank[sorted_idx] = np.arange(len(dictionary), dtype=np.int64)
        ranks = rank[idx]
        return -ranks if descending else ranks
    distinct = dictionary.to_pylist()

    def key(v: Any) -> tuple[Any, ...]:
        if v is None:
            return (0,)
        if ordering == "numeric":
            # sorting-orders.md: unparseable values sort like nulls, before numbers, and among
            # themselves lexicographically.
            try:
                return (2, float(v))
            except (TypeError, ValueError):
                return (1, str(v).encode())
        if isinstance(v, int | float) and ordering == "lexicographic":
            return (1, v)
        s = str(v)
        if ordering == "alphanumeric":
            return (1, _alphanumeric(s))
        if ordering == "strlen":
            return (1, len(s), s.encode())
        if ordering == "version":
            return (1, _version(s))
        return (1, s.encode())

    order = sorted(range(len(distinct)), key=lambda i: key(distinct[i]))
    rank = np.empty(len(distinct), dtype=np.int64)
    # Equal keys (e.g. 1 and 1.0 numerically) share a rank.
    prev = None
    r = -1
    for i in order:
        k = key(distinct[i])
        if k != prev:
            r += 1
            prev = k
        rank[i] = r
    ranks = rank[idx]
    return -ranks if descending else ranks
