"""Serializing many roaring bitmaps at once, in a compiled kernel.

A segment stores one roaring bitmap per dictionary value. Building each through pyroaring costs a few
microseconds of Python per value, which dominates for high-cardinality dimensions; here all of a
column's bitmaps are written in one pass over the rows sorted by code, in the portable roaring format
(the ``12346`` cookie: array and bitset containers, no run containers), which pyroaring reads back.
A single-value column's bitmaps are written straight from its codes, without sorting rows by code.
"""

from __future__ import annotations

import numba
import numpy as np

_COOKIE_NO_RUN = 12346
_ARRAY_MAX = 4096
_BITSET_BYTES = 8192


@numba.njit(cache=True, nogil=True)
def _sizes(rows: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> None:
    for code in range(len(starts) - 1):
        lo, hi = starts[code], starts[code + 1]
        total = 8
        i = lo
        while i < hi:
            key = rows[i] >> 16
            card = 0
            prev = -1
            while i < hi and (rows[i] >> 16) == key:
                if rows[i] != prev:
                    card += 1
                    prev = rows[i]
                i += 1
            total += 8 + (2 * card if card <= _ARRAY_MAX else _BITSET_BYTES)
        sizes[code] = total


@numba.njit(cache=True, inline="always")
def _put16(out: np.ndarray, pos: int, v: int) -> None:
    out[pos] = v & 0xFF
    out[pos + 1] = (v >> 8) & 0xFF


@numba.njit(cache=True, inline="always")
def _start_bitmap(out: np.ndarray, base: int, ncont: int) -> tuple[int, int, int]:
    """Write a run-less bitmap's cookie and container count at ``base``; returns where its key
    headers, its container offsets and its container data start."""
    _put32(out, base, _COOKIE_NO_RUN)
    _put32(out, base + 4, ncont)
    header = base + 8
    offset_header = header + 4 * ncont
    return header, offset_header, offset_header + 4 * ncont


@numba.njit(cache=True, inline="always")
def _put32(out: np.ndarray, pos: int, v: int) -> None:
    out[pos] = v & 0xFF
    out[pos + 1] = (v >> 8) & 0xFF
    out[pos + 2] = (v >> 16) & 0xFF
    out[pos + 3] = (v >> 24) & 0xFF


@numba.njit(cache=True, nogil=True)
def _write(rows: np.ndarray, starts: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    for code in range(len(starts) - 1):
        lo, hi = starts[code], starts[code + 1]
        base = offsets[code]
        # First pass over this code's rows: count containers.
        ncont = 0
        i = lo
        while i < hi:
            key = rows[i] >> 16
            while i < hi and (rows[i] >> 16) == key:
                i += 1
            ncont += 1
        header, offset_header, data = _start_bitmap(out, base, ncont)
        c = 0
        i = lo
        while i < hi:
            key = rows[i] >> 16
            j = i
            card = 0
            prev = -1
            while j < hi and (rows[j] >> 16) == key:
                if rows[j] != prev:
                    card += 1
                    prev = rows[j]
                j += 1
            _put16(out, header + 4 * c, key)
            _put16(out, header + 4 * c + 2, card - 1)
            _put32(out, offset_header + 4 * c, data - base)
            if card <= _ARRAY_MAX:
                prev = -1
                for k in range(i, j):
                    if rows[k] != prev:
                        _put16(out, data, rows[k] & 0xFFFF)
                        data += 2
                        prev = rows[k]
            else:
                for k in range(i, j):
                    low = rows[k] & 0xFFFF
                    byte = data + (low >> 3)
                    out[byte] |= 1 << (low & 7)
                data += _BITSET_BYTES
            c += 1
            i = j


@numba.njit(cache=True, nogil=True)
def _rows_by_code(codes: np.ndarray, rows: np.ndarray, starts: np.ndarray) -> None:
    for i in range(codes.shape[0]):
        starts[codes[i] + 1] += 1
    for c in range(starts.shape[0] - 1):
        starts[c + 1] += starts[c]
    pos = starts[:-1].copy()
    for i in range(codes.shape[0]):
        c = codes[i]
        rows[pos[c]] = i
        pos[c] += 1


def rows_by_code(codes: np.ndarray, cardinality: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions grouped by code (ascending within a code) and int64 ``starts`` (cardinality+1):
    code c's positions are ``positions[starts[c]:starts[c+1]]``. One counting sort, in two passes."""
    positions = np.empty(len(codes), dtype=np.int64)
    starts = np.zeros(cardinality + 1, dtype=np.int64)
    _rows_by_code(codes, positions, starts)
    return positions, starts


@numba.njit(cache=True, nogil=True)
def _code_bitmaps(codes: np.ndarray, cardinality: int, keys: int) -> tuple[np.ndarray, np.ndarray]:
    # Values per (code, container key) decide every size; then each row goes straight to its place,
    # rows ascending, so array containers come out sorted without sorting rows by code first.
    where = np.zeros((cardinality, keys), dtype=np.int64)
    for i in range(codes.shape[0]):
        where[codes[i], i >> 16] += 1
    offsets = np.zeros(cardinality + 1, dtype=np.int64)
    for c in range(cardinality):
        total = 8
        for k in range(keys):
            card = where[c, k]
            if card:
                total += 8 + (2 * card if card <= _ARRAY_MAX else _BITSET_BYTES)
        offsets[c + 1] = offsets[c] + total
    out = np.zeros(offsets[cardinality], dtype=np.uint8)
    for c in range(cardinality):
        base = offsets[c]
        ncont = 0
        for k in range(keys):
            if where[c, k]:
                ncont += 1
        header, offset_header, data = _start_bitmap(out, base, ncont)
        j = 0
        for k in range(keys):
            card = where[c, k]
            if card:
                _put16(out, header + 4 * j, k)
                _put16(out, header + 4 * j + 2, card - 1)
                _put32(out, offset_header + 4 * j, data - base)
                # From here on: where the container's next value goes (a bitset's start, negated).
                if card <= _ARRAY_MAX:
                    where[c, k] = data
                    data += 2 * card
                else:
                    where[c, k] = -data - 1
                    data += _BITSET_BYTES
                j += 1
    for i in range(codes.shape[0]):
        c = codes[i]
        k = i >> 16
        pos = where[c, k]
        low = i & 0xFFFF
        if pos >= 0:
            _put16(out, pos, low)
            where[c, k] = pos + 2
        else:
            byte = -pos - 1 + (low >> 3)
            out[byte] |= 1 << (low & 7)
    return offsets, out


def serialize_code_bitmaps(codes: np.ndarray, cardinality: int) -> tuple[np.ndarray, np.ndarray]:
    """The bitmaps of a single-value column (row i holds ``codes[i]``), as :func:`serialize_bitmaps`
    returns them for ``rows_by_code(codes, cardinality)``, byte for byte."""
    keys = (len(codes) + 0xFFFF) >> 16
    if cardinality * keys > 2 * len(codes) + (1 << 16):
        # The (code, container) table would outgrow the column: sort rows by code instead.
        return serialize_bitmaps(*rows_by_code(codes, cardinality))
    offsets, out = _code_bitmaps(codes, cardinality, keys)
    return offsets, out


def serialize_bitmaps(rows: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Serialize one bitmap per code: ``rows[starts[c]:starts[c+1]]`` ascending are code c's rows.

    Returns int64 offsets (codes+1) into the returned uint8 blob.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    sizes = np.empty(len(starts) - 1, dtype=np.int64)
    _sizes(rows, starts, sizes)
    offsets = np.zeros(len(starts), dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.zeros(int(offsets[-1]), dtype=np.uint8)
    _write(rows, starts, offsets, out)
    return offsets, out
