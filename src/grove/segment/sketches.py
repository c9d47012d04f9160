"""Approximate distinct counts: HyperLogLog and theta (KMV) sketches over whole columns.

Sketches are stored per row in a *sparse* form so that rollup, merging and query-time aggregation are
array operations rather than per-row objects:

* HLL: a row's sketch is its set of non-zero registers, each packed as ``register << 6 | rho``
  (uint32). Unioning sketches is "max rho per (group, register)". The estimate uses Ertl's improved
  raw estimator ("New cardinality estimation algorithms for HyperLogLog sketches", 2017), which is
  unbiased across the whole range without empirical bias tables; relative standard error is
  about 1.04/sqrt(2^lgK).
* Theta: a row's sketch is its sorted set of 64-bit hashes below the row's theta (``2^64-1`` while
  the sketch is exact). Union keeps the ``size`` smallest hashes below the smallest theta;
  intersection and difference follow the theta-sketch set algebra. Relative standard error is about
  1/sqrt(size).

A batch of sketches is a :class:`SketchArray`: ``offsets`` (int64, n+1) into ``entries``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

HLL_DEFAULT_LGK = 14
HLL_MIN_LGK, HLL_MAX_LGK = 4, 21
THETA_DEFAULT_SIZE = 16384
THETA_EXACT = np.uint64(0xFFFFFFFFFFFFFFFF)
_TWO64 = float(2**64)


@dataclass(frozen=True, slots=True)
class SketchArray:
    """``n`` sketches: entries of sketch i are ``entries[offsets[i]:offsets[i+1]]``.

    For theta sketches ``thetas`` holds each sketch's theta (uint64), or is None when all are exact.
    """

    kind: str  # "hll" | "theta"
    param: int  # lgK for hll, size for theta
    offsets: np.ndarray
    entries: np.ndarray
    thetas: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def parents(self) -> np.ndarray:
        """For every entry, the index of the sketch it belongs to."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths())

    def slice(self, start: int, stop: int) -> SketchArray:
        """Sketches ``[start, stop)``, sharing the entries (a view, not a copy)."""
        lo, hi = int(self.offsets[start]), int(self.offsets[stop])
        thetas = self.thetas[start:stop] if self.thetas is not None else None
        return SketchArray(
            self.kind, self.param, self.offsets[start : stop + 1] - lo, self.entries[lo:hi], thetas
        )

    def take(self, rows: np.ndarray) -> SketchArray:
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths()[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        starts = self.offsets[:-1][rows]
        idx = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1], dtype=np.int64)
        thetas = self.thetas[rows] if self.thetas is not None else None
        return SketchArray(self.kind, self.param, offsets, self.entries[idx], thetas)

    def estimates(self) -> np.ndarray:
        if self.kind == "hll":
            return hll_estimate_sparse(self.parents(), self.entries, len(self), self.param)
        return theta_estimate(self)

    @staticmethod
    def concat(parts: list[SketchArray]) -> SketchArray:
        first = parts[0]
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for p in parts:
            offsets.append(p.offsets[1:] + base)
            base += int(p.offsets[-1])
        thetas = None
        if any(p.thetas is not None for p in parts):
            thetas = np.concatenate(
                [p.thetas if p.thetas is not None else np.full(len(p), THETA_EXACT) for p in parts]
            )
        return SketchArray(
            first.kind,
            first.param,
            np.concatenate(offsets),
            np.concatenate([p.entries for p in parts]),
            thetas,
        )


# --- HLL ---------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _hll_entries(hashes: np.ndarray, lgk: int, out: np.ndarray) -> None:
    q = 64 - lgk
    top = np.uint64(1) << np.uint64(63)
    for i in range(hashes.shape[0]):
        h = hashes[i]
        reg = h >> np.uint64(q)
        w = h << np.uint64(lgk)
        rho = 1
        while rho <= q and (w & top) == 0:
            w = w << np.uint64(1)
            rho += 1
        out[i] = np.uint32((reg << np.uint64(6)) | np.uint64(rho))


def hll_entries(hashes: np.ndarray, lgk: int) -> np.ndarray:
    """Packed ``register << 6 | rho`` for every hash."""
    out = np.empty(len(hashes), dtype=np.uint32)
    _hll_entries(np.ascontiguousarray(hashes, dtype=np.uint64), lgk, out)
    return out


def hll_union_groups(groups: np.ndarray, entries: np.ndarray, num_groups: int, lgk: int) -> SketchArray:
    """Union of HLL entries by group: one sparse sketch per group (max rho per register)."""
    groups = np.asarray(groups, dtype=np.uint64)
    key = (groups << np.uint64(lgk + 6)) | entries.astype(np.uint64)
    key.sort()
    # After sorting, the last entry of each (group, register) run carries the largest rho.
    gr = key >> np.uint64(6)
    last = np.ones(len(key), dtype=bool)
    if len(key) > 1:
        last[:-1] = gr[1:] != gr[:-1]
    kept = key[last]
    owner = (kept >> np.uint64(lgk + 6)).astype(np.int64)
    offsets = np.zeros(num_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=num_groups), out=offsets[1:])
    mask = np.uint64((1 << (lgk + 6)) - 1)
    return SketchArray("hll", lgk, offsets, (kept & mask).astype(np.uint32))


@numba.njit(cache=True, nogil=True)
def _hll_union_runs(
    offsets: np.ndarray,
    entries: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    out: np.ndarray,
    counts: np.ndarray,
) -> None:
    pos = 0
    num_groups = starts.shape[0]
    end = order.shape[0]
    scratch = np.empty(entries.shape[0], dtype=np.uint32)
    for g in range(num_groups):
        lo = starts[g]
        hi = starts[g + 1] if g + 1 < num_groups else end
        total = 0
        for i in range(lo, hi):
            row = order[i]
            total += offsets[row + 1] - offsets[row]
        if total == 0:
            counts[g] = 0
            continue
        if hi - lo == 1 and total == 1:
            out[pos] = entries[offsets[order[lo]]]
            pos += 1
            counts[g] = 1
            continue
        buf = scratch[:total]
        k = 0
        for i in range(lo, hi):
            row = order[i]
            for j in range(offsets[row], offsets[row + 1]):
                buf[k] = entries[j]
                k += 1
        buf.sort()
        kept = 0
        for i in range(total):
            # Sorted by register then rho: the last entry of a register carries its largest rho.
            if i + 1 < total and (buf[i + 1] >> 6) == (buf[i] >> 6):
                continue
            out[pos] = buf[i]
            pos += 1
            kept += 1
        counts[g] = kept


def hll_union_runs(sketches: SketchArray, order: np.ndarray, starts: np.ndarray) -> SketchArray:
    """Union of HLL sketches by runs: group ``g`` is sketches ``order[starts[g]:starts[g+1]]``.

    The same result as :func:`hll_union_groups` with those groups, without sorting every entry:
    each group's few entries are sorted on their own.
    """
    num_groups = len(starts)
    out = np.empty(len(sketches.entries), dtype=np.uint32)
    counts = np.empty(num_groups, dtype=np.int64)
    _hll_union_runs(
        np.ascontiguousarray(sketches.offsets, dtype=np.int64),
        np.ascontiguousarray(sketches.entries, dtype=np.uint32),
        np.ascontiguousarray(order, dtype=np.int64),
        np.ascontiguousarray(starts, dtype=np.int64),
        out,
        counts,
    )
    offsets = np.zeros(num_groups + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return SketchArray("hll", sketches.param, offsets, out[: offsets[-1]].copy())


@numba.njit(cache=True, nogil=True)
def _hll_dense(groups: np.ndarray, entries: np.ndarray, registers: np.ndarray) -> None:
    for i in range(entries.shape[0]):
        e = entries[i]
        reg = e >> 6
        rho = np.uint8(e & 63)
        g = groups[i]
        if registers[g, reg] < rho:
            registers[g, reg] = rho


def hll_dense_registers(groups: np.ndarray, entries: np.ndarray, num_groups: int, lgk: int) -> np.ndarray:
    """Dense ``uint8[num_groups, 2^lgK]`` registers (for few groups; memory is groups × 2^lgK)."""
    registers = np.zeros((num_groups, 1 << lgk), dtype=np.uint8)
    _hll_dense(
        np.ascontiguousarray(groups, dtype=np.int64),
        np.ascontiguousarray(entries, dtype=np.uint32),
        registers,
    )
    return registers


def _sigma(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64).copy()
    out = x.copy()
    inf = x >= 1.0
    y = 1.0
    for _ in range(80):
        x = x * x
        out = out + x * y
        y *= 2.0
    out[inf] = np.inf
    return out


def _tau(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64).copy()
    edge = (x <= 0.0) | (x >= 1.0)
    z = 1.0 - x
    y = 1.0
    for _ in range(80):
        x = np.sqrt(x)
        y *= 0.5
        z = z - (1.0 - x) ** 2 * y
    out = z / 3.0
    out[edge] = 0.0
    return out


def hll_estimate_histograms(hist: np.ndarray, lgk: int) -> np.ndarray:
    """Ertl's improved estimator from per-group register-value histograms ``[groups, q+2]``."""
    m = float(1 << lgk)
    q = 64 - lgk
    hist = hist.astype(np.float64)
    z = m * _tau(1.0 - hist[:, q + 1] / m)
    for k in range(q, 0, -1):
        z = 0.5 * (z + hist[:, k])
    z = z + m * _sigma(hist[:, 0] / m)
    alpha_inf = 1.0 / (2.0 * np.log(2.0))
    with np.errstate(divide="ignore"):
        est = alpha_inf * m * m / z
    est[hist[:, 0] >= m] = 0.0
    return est


def hll_estimate_dense(registers: np.ndarray, lgk: int) -> np.ndarray:
    q = 64 - lgk
    g = registers.shape[0]
    flat = (np.arange(g, dtype=np.int64)[:, None] * (q + 2) + registers.astype(np.int64)).ravel()
    hist = np.bincount(flat, minlength=g * (q + 2)).reshape(g, q + 2)
    return hll_estimate_histograms(hist, lgk)


def hll_estimate_sparse(groups: np.ndarray, entries: np.ndarray, num_groups: int, lgk: int) -> np.ndarray:
    """Estimate per group from (possibly duplicated) sparse entries; duplicates are unioned first."""
    q = 64 - lgk
    if len(entries) == 0:
        return np.zeros(num_groups)
    union = hll_union_groups(groups, entries, num_groups, lgk)
    owner = union.parents()
    rho = (union.entries & 63).astype(np.int64)
    hist = np.bincount(owner * (q + 2) + rho, minlength=num_groups * (q + 2)).reshape(num_groups, q + 2)
    hist[:, 0] = (1 << lgk) - union.lengths()
    return hll_estimate_histograms(hist, lgk)


# --- theta -------------------------------------------------------------------------------------------


def theta_union_groups(
    groups: np.ndarray, hashes: np.ndarray, num_groups: int, size: int, thetas: np.ndarray | None = None
) -> SketchArray:
    """Union by group of hashes (``thetas``: per-group incoming theta, default exact)."""
    groups = np.asarray(groups, dtype=np.int64)
    hashes = np.asarray(hashes, dtype=np.uint64)
    group_theta = (
        np.full(num_groups, THETA_EXACT, dtype=np.uint64) if thetas is None else thetas.astype(np.uint64)
    )
    keep = hashes < group_theta[groups]
    groups, hashes = groups[keep], hashes[keep]
    order = np.lexsort((hashes, groups))
    groups, hashes = groups[order], hashes[order]
    distinct = np.ones(len(hashes), dtype=bool)
    if len(hashes) > 1:
        distinct[1:] = (hashes[1:] != hashes[:-1]) | (groups[1:] != groups[:-1])
    groups, hashes = groups[distinct], hashes[distinct]
    counts = np.bincount(groups, minlength=num_groups)
    starts = np.zeros(num_groups + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    rank = np.arange(len(hashes), dtype=np.int64) - starts[groups]
    over = counts > size
    if over.any():
        # Groups over capacity: theta becomes the (size+1)-th smallest hash; keep the `size` below it.
        cut_idx = starts[:-1][over] + size
        group_theta = group_theta.copy()
        group_theta[over] = np.minimum(group_theta[over], hashes[cut_idx])
    keep = rank < size
    groups, hashes = groups[keep], hashes[keep]
    offsets = np.zeros(num_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=num_groups), out=offsets[1:])
    exact = bool((group_theta == THETA_EXACT).all())
    return SketchArray("theta", size, offsets, hashes, None if exact else group_theta)


def theta_estimate(sketches: SketchArray) -> np.ndarray:
    counts = sketches.lengths().astype(np.float64)
    if sketches.thetas is None:
        return counts
    frac = sketches.thetas.astype(np.float64) / _TWO64
    return np.where(sketches.thetas == THETA_EXACT, counts, counts / frac)


def theta_set_op(op: str, a: SketchArray, b: SketchArray) -> SketchArray:
    """Row-wise UNION, INTERSECT or NOT (a and not b) of two equally long theta sketch arrays."""
    n = len(a)
    ta = a.thetas if a.thetas is not None else np.full(n, THETA_EXACT, dtype=np.uint64)
    tb = b.thetas if b.thetas is not None else np.full(n, THETA_EXACT, dtype=np.uint64)
    size = max(a.param, b.param)
    if op == "UNION":
        theta = np.minimum(ta, tb)
        groups = np.concatenate([a.parents(), b.parents()])
        hashes = np.concatenate([a.entries, b.entries])
        return theta_union_groups(groups, hashes, n, size, theta)
    theta = np.minimum(ta, tb)
    pa_, pb = a.parents(), b.parents()
    ka = (pa_.astype(np.uint64), a.entries)
    in_b = _pair_membership(ka, (pb.astype(np.uint64), b.entries))
    keep = (a.entries < theta[pa_]) & (in_b if op == "INTERSECT" else ~in_b)
    groups, hashes = pa_[keep], a.entries[keep]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=n), out=offsets[1:])
    exact = bool((theta == THETA_EXACT).all())
    return SketchArray("theta", size, offsets, hashes, None if exact else theta)


def _pair_membership(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """For each (group, hash) pair of ``a``, whether it occurs in ``b``."""
    if len(b[1]) == 0:
        return np.zeros(len(a[1]), dtype=bool)
    rec = np.dtype([("g", np.uint64), ("h", np.uint64)])
    ra = np.empty(len(a[1]), dtype=rec)
    ra["g"], ra["h"] = a
    rb = np.empty(len(b[1]), dtype=rec)
    rb["g"], rb["h"] = b
    rb.sort()
    idx = np.searchsorted(rb, ra)
    idx[idx >= len(rb)] = 0
    return rb[idx] == ra
