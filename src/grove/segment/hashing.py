"""64-bit hashes of column values, and order-preserving prefix keys of strings, computed in compiled
kernels over Arrow buffers.

Sketches (approximate distinct counts) and hash partitioning need a well-mixed 64-bit hash of every
value. Strings are hashed straight from an Arrow array's offset and data buffers (FNV-1a over the
bytes, then the MurmurHash3 finaliser for avalanche); numbers hash their 64-bit pattern through the
same finaliser. The hash is stable across processes and releases: it is part of the segment format.
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_NUMERIC_SEED = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(cache=True, inline="always")
def _fmix64(k: np.uint64) -> np.uint64:
    k ^= k >> _S33
    k *= _M1
    k ^= k >> _S33
    k *= _M2
    k ^= k >> _S33
    return k


@numba.njit(cache=True, nogil=True)
def _hash_utf8(offsets: np.ndarray, data: np.ndarray, out: np.ndarray) -> None:
    for i in range(out.shape[0]):
        h = _FNV_OFFSET
        start = offsets[i]
        end = offsets[i + 1]
        for j in range(start, end):
            h ^= np.uint64(data[j])
            h *= _FNV_PRIME
        h ^= np.uint64(end - start)
        out[i] = _fmix64(h)


@numba.njit(cache=True, nogil=True)
def _hash_u64(values: np.ndarray, out: np.ndarray) -> None:
    for i in range(values.shape[0]):
        out[i] = _fmix64(values[i] ^ _NUMERIC_SEED)


def hash_strings(arr: pa.Array) -> np.ndarray:
    """uint64 hashes of a string array (nulls hash as the empty string; callers mask them)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_dictionary(arr.type):
        codes = arr.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        by_code = hash_strings(arr.dictionary)
        hashed = by_code[codes] if len(by_code) else np.empty(len(codes), dtype=np.uint64)
        if arr.null_count:
            # Null slots hash as the empty string, exactly as in a plain string array.
            hashed[arr.is_null().to_numpy(zero_copy_only=False)] = hash_strings(pa.array([""]))[0]
        return hashed
    out = np.empty(len(arr), dtype=np.uint64)
    if len(arr) == 0:
        return out
    offsets, data = utf8_buffers(arr)
    _hash_utf8(offsets, data, out)
    return out


def hash_numbers(values: np.ndarray) -> np.ndarray:
    """uint64 hashes of numbers: longs by value, floats by their IEEE-754 bit pattern."""
    v = np.ascontiguousarray(values)
    if v.dtype.kind == "f":
        v = v.astype(np.float64).view(np.uint64)
    else:
        v = v.astype(np.int64).view(np.uint64)
    out = np.empty(len(v), dtype=np.uint64)
    _hash_u64(v, out)
    return out


def hash_array(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of any Arrow array plus its validity mask (True where the value is not null)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = (
            arr.combine_chunks()
            if arr.num_chunks != 1
            else (arr.chunk(0) if arr.num_chunks else pa.array([], arr.type))
        )
    valid = (
        np.ones(len(arr), dtype=bool)
        if arr.null_count == 0
        else arr.is_valid().to_numpy(zero_copy_only=False)
    )
    t = arr.type
    if pa.types.is_dictionary(t):
        t = t.value_type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            arr = arr.dictionary_decode()
    if pa.types.is_boolean(t):
        arr = arr.cast(pa.int8())
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        vals = arr.fill_null(0).to_numpy(zero_copy_only=False)
        return hash_numbers(
            vals.astype(np.float64) if pa.types.is_floating(t) else vals.astype(np.int64)
        ), valid
    return hash_strings(arr), valid


@numba.njit(cache=True, nogil=True)
def _prefix_keys(offsets: np.ndarray, data: np.ndarray, out: np.ndarray) -> None:
    for i in range(out.shape[0]):
        start = offsets[i]
        end = offsets[i + 1]
        for half in range(2):
            key = np.uint64(0)
            for k in range(8):
                j = start + half * 8 + k
                byte = np.uint64(data[j]) if j < end else np.uint64(0)
                key = (key << np.uint64(8)) | byte
            out[i, half] = key


def prefix_keys(arr: pa.Array) -> np.ndarray:
    """Per string, its first 16 bytes as two big-endian uint64 (zero padded): comparing keys
    compares strings by bytes, except that strings equal in their first 16 bytes (or that differ
    only by trailing zero bytes there) tie and must be compared in full."""
    out = np.zeros((len(arr), 2), dtype=np.uint64)
    if len(arr):
        offsets, data = utf8_buffers(arr)
        _prefix_keys(offsets, data, out)
    return out


def utf8_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's value offsets (len + 1, into the data buffer) and its UTF-8 data buffer,
    without copying (nulls are empty); other types are cast to strings first."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.large_string())
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=offset_type)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
    return offsets, data


@numba.njit(cache=True, nogil=True)
def _set_insert(hashes: np.ndarray, slots: np.ndarray) -> None:
    mask = np.uint64(slots.shape[0] - 1)
    for i in range(hashes.shape[0]):
        j = np.int64(hashes[i] & mask)
        while slots[j] >= 0:
            j = np.int64((np.uint64(j) + np.uint64(1)) & mask)
        slots[j] = i


@numba.njit(cache=True, nogil=True)
def _set_probe(slots, set_hashes, set_offsets, set_data, hashes, offsets, data, out):
    """``out[d] = 1`` for each string d (``hashes``, ``offsets``, ``data``) that the set holds."""
    mask = np.uint64(slots.shape[0] - 1)
    for d in range(hashes.shape[0]):
        h = hashes[d]
        j = np.int64(h & mask)
        while True:
            i = slots[j]
            if i < 0:
                break
            if set_hashes[i] == h:
                a, b = set_offsets[i], set_offsets[i + 1]
                c, e = offsets[d], offsets[d + 1]
                if b - a == e - c:
                    same = True
                    for k in range(b - a):
                        if set_data[a + k] != data[c + k]:
                            same = False
                            break
                    if same:
                        out[d] = 1
                        break
            j = np.int64((np.uint64(j) + np.uint64(1)) & mask)


class StringSet:
    """A set of strings that a string array is tested against in compiled code, by hash and then byte
    for byte: built once (for an ``in`` filter, once per query), probed with each segment's
    dictionary and its cached hashes."""

    def __init__(self, values: pa.Array) -> None:
        values = values.drop_null()
        self._offsets, self._data = utf8_buffers(values)
        self._hashes = hash_strings(values) if len(values) else np.zeros(0, dtype=np.uint64)
        size = 8
        while size < 2 * len(values):
            size *= 2
        self._slots = np.full(size, -1, dtype=np.int64)
        _set_insert(self._hashes, self._slots)

    def members(self, strings: pa.Array, hashes: np.ndarray) -> np.ndarray:
        """uint8 per string of ``strings`` (whose :func:`hash_strings` are ``hashes``): 1 when the
        set holds it."""
        out = np.zeros(len(strings), dtype=np.uint8)
        if len(strings):
            offsets, data = utf8_buffers(strings)
            _set_probe(self._slots, self._hashes, self._offsets, self._data, hashes, offsets, data, out)
        return out
