"""Result rows written straight to JSON bytes from columns, for answers that leave as JSON (HTTP).

Building a Python dict per row and then encoding it costs ~0.4 µs per row twice over (7,000 groupBy
rows: ~2 ms to build, ~0.7 ms to encode). Rows leaving over HTTP need only bytes, so here each column
is encoded once by orjson — a numeric column as one array, a string column as its distinct values —
into *pieces* (byte ranges of one buffer), each followed by the constant text that comes after it in
a row (``,"clicks":`` after an advertiser, ``}}`` after the last value), and a compiled kernel lays
rows out piece by piece. The bytes are exactly what ``orjson.dumps`` of
the rows would give (tests compare them), in about half the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_NULL = b"null"


@dataclass(frozen=True)
class Pieces:
    """Encoded JSON values: value ``i`` is ``buf[starts[i]:ends[i]]``."""

    buf: np.ndarray  # uint8
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64


@dataclass(frozen=True)
class JsonColumn:
    """One value per row: ``pieces`` and, per row, the index of its piece."""

    pieces: Pieces
    index: np.ndarray  # int64, one per row


def number_column(values: np.ndarray, nulls: np.ndarray | None = None, suffix: bytes = b"") -> JsonColumn:
    """A numeric column as orjson writes its values (as Python ints, floats or bools), each followed
    by ``suffix``; rows flagged in ``nulls`` (and NaN or infinite floats, as orjson does) are ``null``."""
    kind = values.dtype.kind
    if kind == "f":
        # float32 values must print as the doubles Python sees (0.1f is 0.10000000149011612).
        values = values.astype(np.float64, copy=False)
    elif kind in "iu":
        values = values.astype(np.int64, copy=False)
    elif kind != "b":
        raise TypeError(f"not a numeric column: {values.dtype}")
    n = len(values)
    text = orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
    # Numbers hold no commas: the commas between them are where the suffixes go.
    commas = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == ord(","))
    joined = text.replace(b",", suffix) + suffix if n else b""
    grow = len(suffix) - 1
    starts = np.empty(n + 1, dtype=np.int64)
    ends = np.empty(n + 1, dtype=np.int64)
    if n:
        starts[0] = 0
        starts[1:n] = commas + 1 + grow * np.arange(1, n, dtype=np.int64)
        ends[: n - 1] = starts[1:n]
        ends[n - 1] = len(joined)
    starts[n], ends[n] = len(joined), len(joined) + len(_NULL) + len(suffix)  # the null piece
    index = np.arange(n, dtype=np.int64)
    if nulls is not None and nulls.any():
        index[nulls] = n
    return JsonColumn(Pieces(np.frombuffer(joined + _NULL + suffix, dtype=np.uint8), starts, ends), index)


def string_column(values: pa.Array | pa.ChunkedArray, suffix: bytes = b"") -> JsonColumn:
    """A string column: each distinct value encoded once (followed by ``suffix``); nulls are ``null``."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks() if encoded.num_chunks != 1 else encoded.chunk(0)
    distinct = encoded.dictionary.to_pylist()
    pieces = string_pieces(distinct, suffix)
    index = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False).astype(np.int64)
    return JsonColumn(pieces, index)


def constant_column(text: bytes, n: int) -> JsonColumn:
    """The same JSON text on every row."""
    buf = np.frombuffer(text, dtype=np.uint8)
    return JsonColumn(
        Pieces(buf, np.zeros(1, dtype=np.int64), np.full(1, len(text), dtype=np.int64)),
        np.zeros(n, dtype=np.int64),
    )


def string_pieces(values: Sequence[str | None], suffix: bytes = b"") -> Pieces:
    """Strings (or None) encoded by one orjson call, each followed by ``suffix``; the last piece is
    ``null`` (and the suffix)."""
    text = orjson.dumps([*values, None])
    buf = np.frombuffer(text, dtype=np.uint8)
    n = len(values) + 1
    out = np.empty(len(text) + n * len(suffix), dtype=np.uint8)
    starts = np.empty(n, dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    found = _split_strings(
        buf, 1, len(text) - 1, np.frombuffer(suffix or b" ", dtype=np.uint8), len(suffix), out, starts, ends
    )
    assert found == n
    return Pieces(out, starts, ends)


@numba.njit(cache=True, nogil=True)
def _split_strings(buf, lo, hi, suffix, suffix_len, out, starts, ends):
    # The body of a JSON array of strings and nulls as orjson writes it (no spaces): a string ends at
    # the first quote not escaped by a backslash; values are separated by one comma. Each value is
    # copied to ``out`` followed by the suffix.
    k = 0
    i = lo
    w = 0
    while i < hi:
        a = i
        if buf[i] == 110:  # null
            i += 4
        else:
            i += 1
            while buf[i] != 34:
                if buf[i] == 92:
                    i += 1
                i += 1
            i += 1
        starts[k] = w
        for j in range(a, i):
            out[w] = buf[j]
            w += 1
        for j in range(suffix_len):
            out[w] = suffix[j]
            w += 1
        ends[k] = w
        k += 1
        i += 1
    return k


def write_rows(prefix: bytes, columns: Sequence[JsonColumn], n: int) -> bytes | memoryview:
    """``n`` rows as a JSON array: row ``r`` is ``prefix`` followed by each column's piece for the row
    (pieces carry the text that follows them: ``"clicks":`` after a value, ``}`` at the end).

    The text comes as a memoryview over the buffer it was written to (copying a megabyte again costs
    ~0.5 ms); bytes when there are no rows."""
    if n == 0:
        return b"[]"
    head = np.frombuffer(prefix or b" ", dtype=np.uint8)
    bufs, starts, ends, rows = [], [], [], []
    base = piece_base = 0
    size = 2 + (n - 1) + n * len(prefix)
    for col in columns:
        p = col.pieces
        bufs.append(p.buf)
        starts.append(p.starts + base)
        ends.append(p.ends + base)
        rows.append(col.index + piece_base)
        size += int((p.ends - p.starts)[col.index].sum())
        base += len(p.buf)
        piece_base += len(p.starts)
    if columns:
        buf = np.concatenate(bufs)
        all_starts = np.concatenate(starts)
        all_ends = np.concatenate(ends)
        index = np.stack(rows)
    else:
        buf = np.zeros(1, dtype=np.uint8)
        all_starts = all_ends = np.zeros(1, dtype=np.int64)
        index = np.zeros((0, n), dtype=np.int64)
    out = np.empty(size, dtype=np.uint8)
    written = _write(head, len(prefix), buf, all_starts, all_ends, index, n, out)
    assert written == size
    return out.data


@intrinsic
def _copy(typingctx: Any, dst: Any, dst_at: Any, src: Any, src_at: Any, length: Any) -> Any:
    """``dst[dst_at : dst_at + length] = src[src_at : src_at + length]`` for uint8 arrays, as one
    ``memcpy``: pieces are a few dozen bytes, which a byte loop copies ~6x slower."""
    if not (isinstance(dst, types.Array) and isinstance(src, types.Array)):
        return None
    if dst.dtype != types.uint8 or src.dtype != types.uint8:
        return None
    sig = types.void(dst, types.intp, src, types.intp, types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> None:
        d, d_at, s, s_at, n = args
        d_arr = context.make_array(signature.args[0])(context, builder, d)
        s_arr = context.make_array(signature.args[2])(context, builder, s)
        cgutils.raw_memcpy(builder, builder.gep(d_arr.data, [d_at]), builder.gep(s_arr.data, [s_at]), n, 1)

    return sig, codegen


@numba.njit(cache=True, nogil=True)
def _write(head, head_len, buf, starts, ends, index, n, out):
    k = index.shape[0]
    w = 0
    out[w] = 91  # [
    w += 1
    for r in range(n):
        if r:
            out[w] = 44  # ,
            w += 1
        _copy(out, w, head, 0, head_len)  # type: ignore[call-arg]  # the typing context is numba's
        w += head_len
        for c in range(k):
            p = index[c, r]
            length = ends[p] - starts[p]
            _copy(out, w, buf, starts[p], length)
            w += length
    out[w] = 93  # ]
    return w + 1
