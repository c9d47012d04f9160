"""Value hashes: a pure-Python reference of the documented algorithm, pinned values, Arrow layouts."""

from __future__ import annotations

import random
import struct

import numpy as np
import pyarrow as pa
import pytest

from grove.query import kernels as K
from grove.segment.hashing import StringSet, hash_array, hash_numbers, hash_strings, prefix_keys, utf8_buffers

MASK = (1 << 64) - 1


def fmix64(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & MASK
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & MASK
    k ^= k >> 33
    return k


def ref_string(s: str) -> int:
    """FNV-1a over the UTF-8 bytes, xor the length, then the MurmurHash3 finaliser."""
    data = s.encode()
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & MASK
    h ^= len(data)
    return fmix64(h)


def ref_long(v: int) -> int:
    return fmix64((v & MASK) ^ 0x9E3779B97F4A7C15)


def ref_double(v: float) -> int:
    (bits,) = struct.unpack("<Q", struct.pack("<d", v))
    return fmix64(bits ^ 0x9E3779B97F4A7C15)


# Pinned: these are part of the segment format (sketches store them). A change here breaks every
# stored sketch, so it must be deliberate.
PINNED_STRINGS = {
    "": 0xEFD01F60BA992926,
    "a": 0x25AD9D1B70DE62D1,
    "druid": 0x352280CDA8097A0B,
    "日本": 0x417C0510B0843F9D,
}
PINNED_LONGS = {
    0: 0x9CA066F1A4AB2EEA,
    1: 0x25B775FAECA8F520,
    -1: 0x3CD617BBBCC39640,
    1 << 40: 0xB3DD12E3FE9BC237,
}
PINNED_DOUBLES = {1.5: 0x35AFCF05F2013659, -2.25: 0x271DF059AEDE376C}


def test_pinned_values() -> None:
    strings = list(PINNED_STRINGS)
    assert hash_strings(pa.array(strings)).tolist() == list(PINNED_STRINGS.values())
    assert [ref_string(s) for s in strings] == list(PINNED_STRINGS.values())
    longs = np.array(list(PINNED_LONGS), dtype=np.int64)
    assert hash_numbers(longs).tolist() == list(PINNED_LONGS.values())
    doubles = np.array(list(PINNED_DOUBLES), dtype=np.float64)
    assert hash_numbers(doubles).tolist() == list(PINNED_DOUBLES.values())


def _random_strings(rng: random.Random, n: int) -> list[str]:
    alphabet = "abcXYZ019 _-é日本🙂\x00"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 20))) for _ in range(n)]


def test_strings_match_the_reference() -> None:
    values = _random_strings(random.Random(1), 2000)
    got = hash_strings(pa.array(values)).tolist()
    assert got == [ref_string(s) for s in values]
    assert hash_strings(pa.array(values, pa.large_string())).tolist() == got
    assert hash_strings(pa.chunked_array([values[:700], values[700:]])).tolist() == got
    assert len(set(got)) == len(set(values))


def test_numbers_match_the_reference() -> None:
    rng = np.random.default_rng(2)
    longs = rng.integers(-(2**63), 2**63 - 1, 2000, dtype=np.int64)
    assert hash_numbers(longs).tolist() == [ref_long(int(v)) for v in longs]
    doubles = rng.normal(size=2000)
    assert hash_numbers(doubles).tolist() == [ref_double(float(v)) for v in doubles]
    # Smaller widths hash like their int64/float64 value.
    assert hash_numbers(np.array([1, -7], dtype=np.int32)).tolist() == [ref_long(1), ref_long(-7)]
    assert hash_numbers(np.array([1.5], dtype=np.float32)).tolist() == [ref_double(1.5)]
    assert hash_numbers(np.zeros(0, dtype=np.int64)).tolist() == []


def test_dictionary_arrays_agree_with_plain_strings() -> None:
    values = [*_random_strings(random.Random(3), 300), None, "", None]
    plain = pa.array(values)
    expected = hash_strings(plain)
    assert hash_strings(plain.dictionary_encode()).tolist() == expected.tolist()
    assert hash_strings(pa.array(values, pa.large_string()).dictionary_encode()).tolist() == expected.tolist()
    hashes, valid = hash_array(plain.dictionary_encode())
    assert hashes[valid].tolist() == expected[valid].tolist()
    assert valid.tolist() == [v is not None for v in values]
    # Nulls hash like the empty string in every layout.
    empty = ref_string("")
    assert hash_strings(pa.array([None, None], pa.string()).dictionary_encode()).tolist() == [empty, empty]
    assert hash_strings(pa.array([None], pa.string())).tolist() == [empty]


def test_sliced_arrays_hash_their_own_values() -> None:
    values = _random_strings(random.Random(4), 100)
    arr = pa.array(values)
    for start, length in ((0, 100), (1, 10), (37, 50), (99, 1), (50, 0)):
        part = values[start : start + length]
        expected = [ref_string(s) for s in part]
        assert hash_strings(arr.slice(start, length)).tolist() == expected
        assert hash_strings(arr.cast(pa.large_string()).slice(start, length)).tolist() == expected
        assert hash_strings(arr.dictionary_encode().slice(start, length)).tolist() == expected
        assert hash_array(arr.slice(start, length))[0].tolist() == expected
    numbers = pa.array(list(range(-50, 50)), pa.int64())
    assert hash_array(numbers.slice(10, 5))[0].tolist() == [ref_long(v) for v in range(-40, -35)]
    floats = pa.array([0.5 * i for i in range(20)], pa.float64())
    assert hash_array(floats.slice(3, 4))[0].tolist() == [ref_double(0.5 * i) for i in range(3, 7)]


def test_hash_array_types_and_validity() -> None:
    h, valid = hash_array(pa.array([1, None, 3], pa.int64()))
    assert valid.tolist() == [True, False, True] and h[[0, 2]].tolist() == [ref_long(1), ref_long(3)]
    h, valid = hash_array(pa.array([1, 2], pa.int32()))
    assert h.tolist() == [ref_long(1), ref_long(2)] and valid.all()
    h, _ = hash_array(pa.array([1.5, None], pa.float32()))
    assert h[0] == ref_double(1.5)
    h, valid = hash_array(pa.array([True, False, None]))
    assert h[:2].tolist() == [ref_long(1), ref_long(0)] and valid.tolist() == [True, True, False]
    h, _ = hash_array(pa.array([7, 8, 7], pa.int64()).dictionary_encode())
    assert h.tolist() == [ref_long(7), ref_long(8), ref_long(7)]
    h, _ = hash_array(pa.chunked_array([pa.array(["a"]), pa.array(["b", "c"])]))
    assert h.tolist() == [ref_string(s) for s in "abc"]
    h, valid = hash_array(pa.chunked_array([], pa.string()))
    assert len(h) == 0 and len(valid) == 0
    h, _ = hash_array(pa.array([b"a", b"druid"], pa.binary()))
    assert h.tolist() == [ref_string("a"), ref_string("druid")]


@pytest.mark.parametrize("n", [0, 1, 10_000])
def test_hashes_are_well_mixed(n: int) -> None:
    h = hash_strings(pa.array([f"user-{i}" for i in range(n)]))
    assert h.dtype == np.uint64 and len(h) == n
    if n > 1000:
        # Every bit is set in about half of the hashes.
        bits = ((h[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).mean(axis=0)
        assert np.all(np.abs(bits - 0.5) < 0.03)


def _members(values: list[str | None], probe: pa.Array) -> list[bool]:
    found = StringSet(pa.array(values, pa.string())).members(probe, hash_strings(probe))
    return [bool(x) for x in found]


@pytest.mark.parametrize("size", [0, 1, 7, 1000])
def test_string_set_agrees_with_a_python_set(size: int) -> None:
    rng = random.Random(size)
    alphabet = ["a", "b", "é", "日", "", "\x00"]

    def word() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 6)))

    values = [word() for _ in range(size)] + ([None] if size else [])  # null in the list is ignored
    probe_list = sorted({word() for _ in range(3000)} | {v for v in values if v is not None})
    probe = pa.array(probe_list, pa.large_string())
    want = {v for v in values if v is not None}
    assert _members(values, probe) == [p in want for p in probe_list]


def test_string_set_tells_prefixes_duplicates_and_slices_apart() -> None:
    values = ["adv_1", "adv_1", "adv_10", ""]
    probe = pa.array(["x", "adv_1", "adv_", "adv_10", "adv_100", "", "adv_1"], pa.large_string())
    assert _members(values, probe) == [False, True, False, True, False, True, True]
    sliced = probe.slice(2, 3)  # a dictionary that starts at an offset
    assert _members(values, sliced) == [False, True, False]
    assert _members(values, pa.array([], pa.large_string())) == []


def _word(rng: random.Random, length: int) -> str:
    # Few letters, zero bytes and multi-byte characters: many shared prefixes, longer than 16 bytes too.
    return "".join(rng.choice(["a", "b", "\x00", "é", "日"]) for _ in range(rng.randrange(0, length)))


def test_prefix_keys_sort_as_the_strings_do() -> None:
    rng = random.Random(3)
    words = sorted({_word(rng, 24) for _ in range(3000)}, key=lambda w: w.encode())
    keys = prefix_keys(pa.array(words, pa.large_string()))
    assert keys.dtype == np.uint64 and keys.shape == (len(words), 2)
    for a, b, ka, kb in zip(words, words[1:], keys, keys[1:], strict=False):
        ka_t, kb_t = tuple(int(x) for x in ka), tuple(int(x) for x in kb)
        assert ka_t <= kb_t  # never out of order ...
        if ka_t == kb_t:  # ... and tied only when the first 16 bytes (zero padded) agree
            assert a.encode()[:16].ljust(16, b"\0") == b.encode()[:16].ljust(16, b"\0")
    one = prefix_keys(pa.array(["a", "ab\x00", "ab"], pa.string()))
    a, ab = ord("a") << 56, (ord("a") << 56) | (ord("b") << 48)
    assert one[:, 0].tolist() == [a, ab, ab]
    assert one[:, 1].tolist() == [0, 0, 0]  # "ab\0" and "ab" tie: compared in full


@pytest.mark.parametrize("seed", range(4))
def test_matching_sorted_strings_agrees_with_a_dict(seed: int) -> None:
    rng = random.Random(seed)
    # Long shared prefixes, so that many strings tie on their 16-byte keys.
    stem = "advertiser-000000" if seed % 2 else ""
    pool = sorted({stem + _word(rng, 8) for _ in range(2000)}, key=lambda w: w.encode())
    dictionary = sorted(rng.sample(pool, len(pool) // 2), key=lambda w: w.encode())
    query = sorted(rng.sample(pool, rng.randrange(1, len(pool))), key=lambda w: w.encode())
    d, q = pa.array(dictionary, pa.large_string()), pa.array(query, pa.string())
    out = np.empty(len(query), dtype=np.int64)
    K.match_sorted_strings(*utf8_buffers(d), prefix_keys(d), *utf8_buffers(q), prefix_keys(q), out)
    index = {w: i for i, w in enumerate(dictionary)}
    assert out.tolist() == [index.get(w, -1) for w in query]
