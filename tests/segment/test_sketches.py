"""HLL and theta sketches: accuracy, exact mergeability, theta set algebra, SketchArray plumbing."""

from __future__ import annotations

import numpy as np
import pytest

from grove.segment.hashing import hash_numbers
from grove.segment.sketches import (
    THETA_EXACT,
    SketchArray,
    hll_dense_registers,
    hll_entries,
    hll_estimate_dense,
    hll_estimate_sparse,
    hll_union_groups,
    hll_union_runs,
    theta_estimate,
    theta_set_op,
    theta_union_groups,
)


def distinct_hashes(seed: int, n: int) -> np.ndarray:
    """Hashes of ``n`` distinct random 62-bit integers."""
    rng = np.random.default_rng(seed)
    values = np.unique(rng.integers(0, 2**62, int(n * 1.01) + 10))
    rng.shuffle(values)
    return hash_numbers(values[:n])


def hll_sketch(hashes: np.ndarray, lgk: int) -> SketchArray:
    return hll_union_groups(np.zeros(len(hashes), np.int64), hll_entries(hashes, lgk), 1, lgk)


def hll_estimate(hashes: np.ndarray, lgk: int) -> float:
    entries = hll_entries(hashes, lgk)
    return float(hll_estimate_sparse(np.zeros(len(entries), np.int64), entries, 1, lgk)[0])


# --- HLL ---------------------------------------------------------------------------------------------


def test_hll_one_million_distinct_at_lgk_14_within_two_percent() -> None:
    n = 1_000_000
    hashes = distinct_hashes(7, n)
    est = hll_estimate(hashes, 14)
    assert abs(est - n) / n < 0.02
    # Duplicates do not change the estimate.
    assert hll_estimate(np.concatenate([hashes, hashes[:300_000]]), 14) == pytest.approx(est)


@pytest.mark.parametrize("lgk", [11, 12])
def test_hll_error_within_three_standard_errors(lgk: int) -> None:
    se = 1.04 / np.sqrt(2**lgk)
    n = 200_000
    z = []
    for seed in range(10, 18):
        est = hll_estimate(distinct_hashes(seed, n), lgk)
        z.append((est - n) / n / se)
    assert max(abs(v) for v in z) < 3, z
    assert float(np.sqrt(np.mean(np.square(z)))) < 1.6, z  # the spread is about one standard error


@pytest.mark.parametrize("n", [0, 1, 2, 10, 100, 1000])
@pytest.mark.parametrize("lgk", [11, 12, 14])
def test_hll_small_cardinalities_are_near_exact(n: int, lgk: int) -> None:
    est = hll_estimate(distinct_hashes(n + lgk, n), lgk)
    if n == 0:
        assert est == 0
    else:
        assert abs(est - n) <= max(0.5, 0.02 * n), est


def test_hll_entries_pack_register_and_rho() -> None:
    lgk = 4
    top = np.uint64(1) << np.uint64(63)
    hashes = np.array(
        [0, top, top >> np.uint64(4), (np.uint64(5) << np.uint64(60)) | np.uint64(1)], dtype=np.uint64
    )
    entries = hll_entries(hashes, lgk)
    reg = (entries >> 6).tolist()
    rho = (entries & 63).tolist()
    # All-zero remaining bits give the largest rho, 64 - lgK + 1.
    assert reg == [0, 8, 0, 5] and rho == [61, 61, 1, 60]


@pytest.mark.parametrize("lgk", [4, 11, 21])
def test_hll_union_equals_sketch_of_union(lgk: int) -> None:
    rng = np.random.default_rng(lgk)
    hashes = distinct_hashes(lgk, 20_000)
    # Items spread over 300 rows (with repeats), the rows over 7 groups.
    rows = rng.integers(0, 300, len(hashes) * 2)
    items = np.concatenate([hashes, hashes[rng.integers(0, len(hashes), len(hashes))]])
    per_row = hll_union_groups(rows, hll_entries(items, lgk), 300, lgk)
    row_group = rng.integers(0, 7, 300)
    unioned = hll_union_groups(row_group[per_row.parents()], per_row.entries, 7, lgk)
    for g in range(7):
        direct = hll_sketch(items[row_group[rows] == g], lgk)
        got = unioned.entries[unioned.offsets[g] : unioned.offsets[g + 1]]
        assert got.tolist() == direct.entries.tolist()
    # Across "segments": concatenated sketch arrays, unioned into one group.
    halves = [per_row.take(np.arange(0, 150)), per_row.take(np.arange(150, 300))]
    together = SketchArray.concat(halves)
    total = hll_union_groups(np.zeros(len(together.entries), np.int64), together.entries, 1, lgk)
    assert total.entries.tolist() == hll_sketch(items, lgk).entries.tolist()
    assert together.estimates().sum() == pytest.approx(per_row.estimates().sum())


def test_hll_dense_and_sparse_estimates_agree() -> None:
    lgk = 10
    hashes = distinct_hashes(3, 50_000)
    groups = np.random.default_rng(3).integers(0, 5, len(hashes))
    entries = hll_entries(hashes, lgk)
    sparse = hll_estimate_sparse(groups, entries, 5, lgk)
    dense = hll_estimate_dense(hll_dense_registers(groups, entries, 5, lgk), lgk)
    assert np.allclose(sparse, dense)
    for g in range(5):
        assert sparse[g] == pytest.approx(np.sum(groups == g), rel=0.1)
    empty = hll_estimate_sparse(np.zeros(0, np.int64), np.zeros(0, np.uint32), 3, lgk)
    assert empty.tolist() == [0, 0, 0]


# --- theta -------------------------------------------------------------------------------------------


def ref_theta(hashes: np.ndarray, k: int) -> tuple[list[int], int]:
    """The KMV sketch of a set: its k smallest hashes and theta (the (k+1)-th smallest)."""
    uniq = np.unique(hashes)
    if len(uniq) <= k:
        return uniq.tolist(), int(THETA_EXACT)
    return uniq[:k].tolist(), int(uniq[k])


def theta_of(sets: list[np.ndarray], k: int) -> SketchArray:
    groups = np.concatenate([np.full(len(s), i, np.int64) for i, s in enumerate(sets)])
    return theta_union_groups(groups, np.concatenate(sets), len(sets), k)


def row(sk: SketchArray, i: int) -> tuple[list[int], int]:
    entries = sk.entries[sk.offsets[i] : sk.offsets[i + 1]].tolist()
    theta = int(THETA_EXACT) if sk.thetas is None else int(sk.thetas[i])
    return entries, theta


def test_theta_exact_mode() -> None:
    hashes = distinct_hashes(1, 100)
    sk = theta_of([hashes, hashes[:10], hashes[:0]], 1024)
    assert sk.thetas is None
    assert theta_estimate(sk).tolist() == [100, 10, 0]
    assert sk.estimates().tolist() == [100, 10, 0]
    assert row(sk, 0) == ref_theta(hashes, 1024)


def test_theta_sketch_matches_kmv_reference() -> None:
    k = 256
    sets = [distinct_hashes(s, n) for s, n in ((1, 10), (2, 256), (3, 257), (4, 5000))]
    sk = theta_of(sets, k)
    assert sk.thetas is not None
    for i, s in enumerate(sets):
        assert row(sk, i) == ref_theta(s, k)
    est = theta_estimate(sk)
    assert est[:2].tolist() == [10, 256]  # exact up to k hashes
    assert est[2] == pytest.approx(257, rel=0.2)  # estimating from k+1 on
    assert est[3] == pytest.approx(5000, rel=4 / np.sqrt(k))


def _overlapping_sets(seed: int) -> tuple[np.ndarray, np.ndarray]:
    pool = distinct_hashes(seed, 90_000)
    return pool[:60_000], pool[30_000:]  # |A| = |B| = 60k, |A ∩ B| = 30k, |A ∪ B| = 90k


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_theta_union_intersect_not_match_exact_set_arithmetic(seed: int) -> None:
    k = 4096
    a_set, b_set = _overlapping_sets(seed)
    small = distinct_hashes(seed + 100, 50)
    # Row 0: both in estimation mode; row 1: exact; row 2: exact a, estimating b.
    a = theta_of([a_set, small, small], k)
    b = theta_of([b_set, small[25:], b_set], k)
    union = theta_set_op("UNION", a, b)
    inter = theta_set_op("INTERSECT", a, b)
    diff = theta_set_op("NOT", a, b)
    theta_ab = min(ref_theta(a_set, k)[1], ref_theta(b_set, k)[1])

    # The union of two sketches is exactly the sketch of the union.
    assert row(union, 0) == ref_theta(np.concatenate([a_set, b_set]), k)
    assert row(union, 1) == ref_theta(small, k)
    both = np.intersect1d(a_set, b_set)
    assert row(inter, 0) == (both[both < np.uint64(theta_ab)].tolist(), theta_ab)
    only_a = np.setdiff1d(a_set, b_set)
    assert row(diff, 0) == (only_a[only_a < np.uint64(theta_ab)].tolist(), theta_ab)
    assert row(inter, 1) == (sorted(small[25:].tolist()), int(THETA_EXACT))
    assert row(diff, 1) == (sorted(small[:25].tolist()), int(THETA_EXACT))
    assert row(inter, 2)[0] == sorted(
        h for h in small.tolist() if h < ref_theta(b_set, k)[1] and h in set(b_set.tolist())
    )

    # Estimates against the exact sizes, within four relative standard errors of the retained count.
    est_u, est_i, est_d = (theta_estimate(s)[0] for s in (union, inter, diff))
    assert est_u == pytest.approx(90_000, rel=4 / np.sqrt(k))
    assert est_i == pytest.approx(30_000, rel=4 / np.sqrt(len(row(inter, 0)[0])))
    assert est_d == pytest.approx(30_000, rel=4 / np.sqrt(len(row(diff, 0)[0])))
    assert theta_estimate(inter)[1] == 25 and theta_estimate(diff)[1] == 25


def test_theta_union_groups_with_incoming_thetas() -> None:
    k = 64
    a_set = distinct_hashes(5, 10_000)
    sk = theta_of([a_set], k)
    assert sk.thetas is not None
    # Re-unioning a sketch with its own theta gives the same sketch.
    again = theta_union_groups(np.zeros(len(sk.entries), np.int64), sk.entries, 1, k, sk.thetas)
    assert row(again, 0) == row(sk, 0)
    # An incoming theta below some entries drops them.
    cut = np.array([sk.entries[10]], dtype=np.uint64)
    lower = theta_union_groups(np.zeros(len(sk.entries), np.int64), sk.entries, 1, k, cut)
    assert row(lower, 0) == (sk.entries[:10].tolist(), int(cut[0]))


def test_theta_mergeable_across_rows_and_segments() -> None:
    k = 128
    rng = np.random.default_rng(9)
    items = distinct_hashes(9, 20_000)
    rows = rng.integers(0, 100, len(items))
    per_row = theta_union_groups(rows, items, 100, k)
    pieces = [per_row.take(np.arange(0, 40)), per_row.take(np.arange(40, 100))]
    together = SketchArray.concat(pieces)
    thetas = np.array([together.thetas.min()], dtype=np.uint64) if together.thetas is not None else None
    total = theta_union_groups(np.zeros(len(together.entries), np.int64), together.entries, 1, k, thetas)
    assert row(total, 0) == ref_theta(items, k)


# --- SketchArray ---------------------------------------------------------------------------------------


def _sketch_rows(sk: SketchArray) -> list[tuple[list[int], int]]:
    return [row(sk, i) for i in range(len(sk))]


def test_take_and_concat() -> None:
    k = 8
    sets = [distinct_hashes(s, n) for s, n in ((1, 3), (2, 0), (3, 20), (4, 8), (5, 1))]
    sk = theta_of(sets, k)
    rows = _sketch_rows(sk)
    order = np.array([4, 0, 0, 2, 1], dtype=np.int64)
    taken = sk.take(order)
    assert _sketch_rows(taken) == [rows[i] for i in order]
    assert sk.take(np.zeros(0, np.int64)).offsets.tolist() == [0]
    exact_part = theta_of([sets[0]], k)
    assert exact_part.thetas is None
    joined = SketchArray.concat([exact_part, sk, exact_part])
    assert _sketch_rows(joined) == [rows[0], *rows, rows[0]]
    assert len(joined) == len(sk) + 2 and joined.lengths().sum() == len(joined.entries)
    assert joined.parents().tolist() == np.repeat(np.arange(len(joined)), joined.lengths()).tolist()

    hll = hll_union_groups(np.arange(5), hll_entries(distinct_hashes(6, 5), 12), 5, 12)
    assert _sketch_rows(hll.take(np.array([3, 1]))) == [row(hll, 3), row(hll, 1)]
    assert SketchArray.concat([hll, hll]).estimates().tolist() == [1.0] * 10 or np.allclose(
        SketchArray.concat([hll, hll]).estimates(), 1.0, atol=1e-3
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hll_union_runs_equals_union_by_groups(seed: int) -> None:
    """Runs of a row order (rollup's groups) give exactly what the general grouped union gives,
    with sketches of 0, 1 or many entries and groups of one row or many."""
    rng = np.random.default_rng(seed)
    lgk = 10
    n = 2000
    lengths = rng.choice([0, 1, 1, 1, 2, 7], size=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    entries = hll_entries(distinct_hashes(seed, int(offsets[-1])), lgk)
    sketches = SketchArray("hll", lgk, offsets, entries)
    order = rng.permutation(n).astype(np.int64)
    starts = np.flatnonzero(np.concatenate([[True], rng.random(n - 1) < 0.4]))
    group = np.empty(n, dtype=np.int64)
    group[order] = np.repeat(np.arange(len(starts)), np.diff(starts, append=n))
    expected = hll_union_groups(group[sketches.parents()], entries, len(starts), lgk)
    got = hll_union_runs(sketches, order, starts)
    assert got.offsets.tolist() == expected.offsets.tolist()
    assert got.entries.tolist() == expected.entries.tolist()


def test_slice_shares_entries_and_equals_take() -> None:
    sk = theta_of([distinct_hashes(s, n) for s, n in ((1, 3), (2, 0), (3, 20), (4, 8))], 8)
    part = sk.slice(1, 3)
    assert _sketch_rows(part) == _sketch_rows(sk.take(np.array([1, 2])))
    assert np.shares_memory(part.entries, sk.entries)
    assert _sketch_rows(sk.slice(2, 2)) == []
