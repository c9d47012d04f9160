"""Compiled kernels for grouped aggregation.

Each kernel folds a metric into per-group accumulators in one pass, reading the metric either at an
array of selected rows (``*_rows``) or over a contiguous row range (``*_range``), so the selected
values are never copied out first. Kernels release the GIL, so segments aggregate in parallel threads.
Nulls: a row whose ``nulls`` flag is set is skipped; ``counts`` tracks non-null inputs per group so
engines can tell an empty group (null in SQL-compatible mode) from a zero.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def sum_rows(values, rows, groups, nulls, out, counts):
    has_nulls = nulls.shape[0] > 0
    for i in range(rows.shape[0]):
        r = rows[i]
        if has_nulls and nulls[r]:
            continue
        g = groups[i]
        out[g] += values[r]
        counts[g] += 1


@numba.njit(cache=True, nogil=True)
def sum_range(values, lo, groups, nulls, out, counts):
    has_nulls = nulls.shape[0] > 0
    for i in range(groups.shape[0]):
        r = lo + i
        if has_nulls and nulls[r]:
            continue
        g = groups[i]
        out[g] += values[r]
        counts[g] += 1


@numba.njit(cache=True, nogil=True)
def min_rows(values, rows, groups, nulls, out, counts):
    has_nulls = nulls.shape[0] > 0
    for i in range(rows.shape[0]):
        r = rows[i]
        if has_nulls and nulls[r]:
            continue
        g = groups[i]
        v = values[r]
        if counts[g] == 0 or v < out[g]:
            out[g] = v
        counts[g] += 1


@numba.njit(cache=True, nogil=True)
def min_range(values, lo, groups, nulls, out, counts):
    has_nulls = nulls.shape[0] > 0
    for i in range(groups.shape[0]):
        r = lo + i
        if has_nulls and nulls[r]:
            continue
        g = groups[i]
        v = values[r]
        if counts[g] == 0 or v < out[g]:
            out[g] = v
        counts[g] += 1


@numba.njit(cache=True, nogil=True)
def max_rows(values, rows, groups, nulls, out, counts):
    has_nulls = nulls.shape[0] > 0
    for i in range(rows.shape[0]):
        r = rows[i]
        if has_nulls and nulls[r]:
            continue
        g = groups[i]
        v = values[r]
        if counts[g] == 0 or v > out[g]:
            out[g] = v
        counts[g] += 1


@numba.njit(cache=True, nogil=True)
def max_range(values, lo, groups, nulls, out, counts):
    has_nulls = nulls.shape[0] > 0
    for i in range(groups.shape[0]):
        r = lo + i
        if has_nulls and nulls[r]:
            continue
        g = groups[i]
        v = values[r]
        if counts[g] == 0 or v > out[g]:
            out[g] = v
        counts[g] += 1


@numba.njit(cache=True, nogil=True)
def first_last_rows(values, times, rows, groups, nulls, out, out_time, counts, last):
    """Earliest (or latest, with ``last``) non-null value per group; ties keep the first row seen."""
    has_nulls = nulls.shape[0] > 0
    for i in range(rows.shape[0]):
        r = rows[i]
        if has_nulls and nulls[r]:
            continue
        g = groups[i]
        t = times[r]
        if counts[g] == 0 or (t > out_time[g] if last else t < out_time[g]):
            out[g] = values[r]
            out_time[g] = t
        counts[g] += 1


@numba.njit(cache=True, nogil=True)
def count_groups(groups, out):
    for i in range(groups.shape[0]):
        out[groups[i]] += 1


@numba.njit(cache=True, nogil=True)
def hll_rows(offsets, entries, rows, groups, registers):
    """Fold the sparse HLL sketches of the selected rows into dense per-group registers."""
    for i in range(rows.shape[0]):
        r = rows[i]
        g = groups[i]
        for k in range(offsets[r], offsets[r + 1]):
            e = entries[k]
            reg = e >> 6
            rho = np.uint8(e & 63)
            if registers[g, reg] < rho:
                registers[g, reg] = rho


@numba.njit(cache=True, nogil=True)
def hll_range(offsets, entries, lo, groups, registers):
    for i in range(groups.shape[0]):
        r = lo + i
        g = groups[i]
        for k in range(offsets[r], offsets[r + 1]):
            e = entries[k]
            reg = e >> 6
            rho = np.uint8(e & 63)
            if registers[g, reg] < rho:
                registers[g, reg] = rho


@numba.njit(cache=True, nogil=True)
def hll_single_entry_rows(entries, rows, groups, registers):
    """The same when every row holds exactly one entry (rollup off): ``entries[r]`` is row r's."""
    for i in range(rows.shape[0]):
        e = entries[rows[i]]
        reg = e >> 6
        rho = np.uint8(e & 63)
        g = groups[i]
        if registers[g, reg] < rho:
            registers[g, reg] = rho


@numba.njit(cache=True, nogil=True)
def hll_hashes(hashes, groups, lgk, registers):
    """Fold raw 64-bit hashes (cardinality of a dimension) into dense per-group registers."""
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
        g = groups[i]
        if registers[g, reg] < rho:
            registers[g, reg] = rho


EMPTY_NULLS = np.zeros(0, dtype=np.bool_)


@numba.njit(cache=True, nogil=True)
def hll_buckets(offsets, entries, use_rows, rows, bounds, registers):
    """Fold the sketches of each time bucket's rows into that bucket's dense registers.

    Bucket b holds rows ``[bounds[b], bounds[b+1])`` of the segment, or with ``use_rows`` the rows
    ``rows[bounds[b]:bounds[b+1]]``. Rows that hold exactly one entry each (no rollup) read it
    directly.
    """
    single = offsets.shape[0] - 1 == entries.shape[0] and offsets[offsets.shape[0] - 1] == entries.shape[0]
    for b in range(bounds.shape[0] - 1):
        for i in range(bounds[b], bounds[b + 1]):
            r = rows[i] if use_rows else i
            if single:
                e = entries[r]
                reg = e >> 6
                rho = np.uint8(e & 63)
                if registers[b, reg] < rho:
                    registers[b, reg] = rho
                continue
            for k in range(offsets[r], offsets[r + 1]):
                e = entries[k]
                reg = e >> 6
                rho = np.uint8(e & 63)
                if registers[b, reg] < rho:
                    registers[b, reg] = rho


@numba.njit(cache=True, inline="always")
def _lower_bound(codes, w, left, right):
    """The first position in ``[left, right)`` whose code is not below ``w`` (codes sorted there)."""
    while left < right:
        mid = (left + right) >> 1
        if codes[mid] < w:
            left = mid + 1
        else:
            right = mid
    return left


@numba.njit(cache=True, nogil=True)
def prefix_ranges(runs, lo, hi, codes, wanted, out_start, out_stop, out_code):
    """Row ranges of the ``wanted`` codes (sorted) inside each time run, within rows [lo, hi).

    Inside a run of equal time the first dimension's codes are sorted, so each wanted code's rows
    there are one range, found by binary search. Returns how many ranges were written.
    """
    n = 0
    for t in range(runs.shape[0] - 1):
        a = max(runs[t], lo)
        b = min(runs[t + 1], hi)
        if a >= b:
            continue
        pos = a
        for w in wanted:
            # First row at or after pos whose code is >= w: gallop forward (wanted codes grow, so
            # the next one is usually near), then binary search the last step.
            if pos >= b:
                break
            step = 1
            left = pos
            while pos + step < b and codes[pos + step] < w:
                left = pos + step
                step *= 2
            left = _lower_bound(codes, w, left, min(pos + step, b))
            if left >= b:
                break
            if codes[left] != w:
                pos = left
                continue
            start = left
            left = _lower_bound(codes, w + 1, left, b)  # past the last row holding w
            out_start[n] = start
            out_stop[n] = left
            out_code[n] = w
            n += 1
            pos = left
    return n


@numba.njit(cache=True, nogil=True)
def pick_runs(run_codes, lut, first, last, out):
    """The runs among ``first..last-1`` whose code ``lut`` keeps; returns how many were written."""
    n = 0
    for i in range(first, last):
        if lut[run_codes[i]]:
            out[n] = i
            n += 1
    return n


@numba.njit(cache=True, nogil=True)
def search_runs(time_runs, run_codes, wanted, first, last, out):
    """The runs among ``first..last-1`` holding one of the ``wanted`` codes (sorted), by binary search.

    Time run t spans runs ``[time_runs[t], time_runs[t+1])``, whose codes are sorted and distinct, so
    each wanted code is at most one run there. Returns how many were written, in run order.
    """
    n = 0
    for t in range(time_runs.shape[0] - 1):
        a = max(time_runs[t], first)
        b = min(time_runs[t + 1], last)
        pos = a
        for w in wanted:
            if pos >= b:
                break
            left = _lower_bound(run_codes, w, pos, b)
            if left < b and run_codes[left] == w:
                out[n] = left
                n += 1
                left += 1
            pos = left
    return n


@numba.njit(cache=True, nogil=True)
def run_totals(bounds, values, out):
    """``out[i]``: the sum of ``values`` over run i's rows ``[bounds[i], bounds[i+1])``, added in
    row order (as the aggregation kernels add a range's rows)."""
    for i in range(bounds.shape[0] - 1):
        t = out[i] * 0
        for r in range(bounds[i], bounds[i + 1]):
            t += values[r]
        out[i] = t


@numba.njit(cache=True, nogil=True)
def fold_whole_runs(
    runs, bounds, run_codes, lo, hi, bucket_bounds, space, stride, totals_i, cols_i, totals_f, cols_f,
    acc_i, acc_f,
):  # fmt: skip
    """Fold the given ``runs`` (in row order) that lie wholly inside rows [lo, hi) into per-group
    accumulators, from their totals; runs the edges cut are skipped.

    A run's group is its time bucket (``bucket_bounds`` are the buckets' row boundaries) times
    ``space`` plus its code times ``stride``; its row count goes to ``acc_i[g, 0]``, and the total
    ``totals_i[k][run]`` of each long metric k to ``acc_i[g, cols_i[k]]`` (doubles likewise into
    ``acc_f``). Returns the rows folded.
    """
    b = 0
    rows = 0
    for j in range(runs.shape[0]):
        i = runs[j]
        start = bounds[i]
        stop = bounds[i + 1]
        if start < lo or stop > hi:
            continue
        while bucket_bounds[b + 1] <= start:
            b += 1
        g = b * space + run_codes[i] * stride
        acc_i[g, 0] += stop - start
        rows += stop - start
        for k in range(cols_i.shape[0]):
            acc_i[g, cols_i[k]] += totals_i[k][i]
        for k in range(cols_f.shape[0]):
            acc_f[g, cols_f[k]] += totals_f[k][i]
    return rows


@numba.njit(cache=True, nogil=True)
def fold_picked_runs(
    bucket_rows, time_rows, time_first_run, run_bounds, run_codes, wanted, wanted_slots, slot_of_code,
    search, totals_i, totals_f, acc_i, acc_f,
):  # fmt: skip
    """Add the totals of the runs whose code is wanted into per-(bucket, slot) accumulators.

    Bucket k spans rows ``[bucket_rows[k], bucket_rows[k+1])``, which begin and end on boundaries of
    time runs (``time_rows``); time run t spans runs ``[time_first_run[t], time_first_run[t+1])``,
    whose codes are sorted and distinct. The runs are found by binary search for each of the sorted
    ``wanted`` codes (``search``; the run of ``wanted[i]`` goes to slot ``wanted_slots[i]``) or by
    reading every run's code c (its slot is ``slot_of_code[c]``, -1 when not wanted). ``acc_i[k, s, 0]`` counts rows; ``acc_i[k, s, 1 + m]`` adds
    ``totals_i[m][run]`` and ``acc_f[k, s, m]`` adds ``totals_f[m][run]`` (a tuple holds one
    placeholder array when its accumulator has no metric column). Returns the rows added.
    """
    rows = 0
    t = 0
    last = time_rows.shape[0] - 1
    for k in range(bucket_rows.shape[0] - 1):
        lo = bucket_rows[k]
        hi = bucket_rows[k + 1]
        while t < last and time_rows[t] < lo:
            t += 1
        while t < last and time_rows[t] < hi:
            a = time_first_run[t]
            b = time_first_run[t + 1]
            if search:
                pos = a
                for i in range(wanted.shape[0]):
                    if pos >= b:
                        break
                    w = wanted[i]
                    r = _lower_bound(run_codes, w, pos, b)
                    if r < b and run_codes[r] == w:
                        rows += _fold_run(r, k, wanted_slots[i], run_bounds, totals_i, totals_f, acc_i, acc_f)
                        r += 1
                    pos = r
            else:
                for r in range(a, b):
                    s = slot_of_code[run_codes[r]]
                    if s >= 0:
                        rows += _fold_run(r, k, s, run_bounds, totals_i, totals_f, acc_i, acc_f)
            t += 1
    return rows


@numba.njit(cache=True, inline="always")
def _fold_run(r, k, s, run_bounds, totals_i, totals_f, acc_i, acc_f):
    n = run_bounds[r + 1] - run_bounds[r]
    acc_i[k, s, 0] += n
    for m in range(acc_i.shape[2] - 1):
        acc_i[k, s, m + 1] += totals_i[m][r]
    for m in range(acc_f.shape[2]):
        acc_f[k, s, m] += totals_f[m][r]
    return n


@numba.njit(cache=True, nogil=True)
def code_totals(run_codes, run_values, out):
    """``out[c]``: the sum of ``run_values`` over the runs of code c, added in run order."""
    for r in range(run_codes.shape[0]):
        out[run_codes[r]] += run_values[r]


@numba.njit(cache=True, nogil=True)
def fold_codes(wanted, wanted_slots, k, rows_by_code, totals_i, totals_f, acc_i, acc_f):
    """Add each wanted code's totals over a whole segment (``rows_by_code``, ``totals_i[m]``,
    ``totals_f[m]``, indexed by code) into bucket k, slot ``wanted_slots[i]`` for ``wanted[i]``, of
    the accumulators of :func:`fold_picked_runs`. Returns the rows added."""
    rows = 0
    for i in range(wanted.shape[0]):
        w = wanted[i]
        s = wanted_slots[i]
        n = rows_by_code[w]
        acc_i[k, s, 0] += n
        rows += n
        for m in range(acc_i.shape[2] - 1):
            acc_i[k, s, m + 1] += totals_i[m][w]
        for m in range(acc_f.shape[2]):
            acc_f[k, s, m] += totals_f[m][w]
    return rows


@numba.njit(cache=True, inline="always")
def _key_less(a_keys, i, b_keys, j):
    """Whether the prefix key of string i of a sorts before that of string j of b."""
    if a_keys[i, 0] != b_keys[j, 0]:
        return a_keys[i, 0] < b_keys[j, 0]
    return a_keys[i, 1] < b_keys[j, 1]


@numba.njit(cache=True, nogil=True)
def match_sorted_strings(d_offsets, d_data, d_keys, q_offsets, q_data, q_keys, out):
    """``out[j]`` = the index in the sorted, distinct strings d of query string j (the query strings
    sorted and distinct too), or -1 when d lacks it.

    One forward walk through both by their prefix keys (:func:`grove.segment.hashing.prefix_keys`),
    which sort as the strings do but tie for strings equal in their first 16 bytes: it gallops over
    stretches of d that hold no query string, then compares the strings whose keys tie in full.
    """
    nd = d_offsets.shape[0] - 1
    i = 0
    for j in range(q_offsets.shape[0] - 1):
        out[j] = -1
        if i >= nd:
            continue
        # Gallop to a stretch whose end's key is not below q[j]'s, then binary search it: i becomes
        # the first string of d whose key is not below q[j]'s.
        step = 1
        lo = i
        while lo + step < nd and _key_less(d_keys, lo + step, q_keys, j):
            i = lo + step
            step *= 2
        hi = min(lo + step, nd)
        while i < hi:
            mid = (i + hi) // 2
            if _key_less(d_keys, mid, q_keys, j):
                i = mid + 1
            else:
                hi = mid
        # The strings whose keys tie with q[j]'s, compared in full (past the 16 bytes keys hold).
        q0 = q_offsets[j]
        length = q_offsets[j + 1] - q0
        t = i
        while t < nd and d_keys[t, 0] == q_keys[j, 0] and d_keys[t, 1] == q_keys[j, 1]:
            d0 = d_offsets[t]
            if d_offsets[t + 1] - d0 == length:
                same = True
                for k in range(16, length):
                    if d_data[d0 + k] != q_data[q0 + k]:
                        same = False
                        break
                if same:
                    out[j] = t
                    break
            t += 1
