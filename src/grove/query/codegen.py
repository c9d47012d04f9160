"""Specialised aggregation kernels, generated per query shape and compiled once.

A general kernel that handles any number of filters, group dimensions and metrics pays for its
generality on every row (measured 2-4x slower than a kernel written for one shape). So the fast path
describes what it needs as a :class:`KernelShape` — how many filter lookup tables, how many group
dimensions, which metrics with which operation, whether rows come as a list or a range, whether the
passing rows must be written out — and gets a kernel generated for exactly that shape. The source is
written to a cache folder and imported from there, so numba's on-disk cache keeps the compiled code
across processes; a shape is compiled once per machine.

Accumulators are two row-major matrices with one row per group: ``acc_i`` (int64: column 0 counts
rows, then long metrics and per-metric non-null counts) and ``acc_f`` (float64: double metrics).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class MetricSlot:
    """One metric folded by a kernel: op ``sum``/``min``/``max`` into column ``col`` of ``acc_i``
    (``is_float`` False) or ``acc_f``; ``seen_col`` (in ``acc_i``) counts its non-null inputs when
    the metric has nulls (``has_nulls``) or is a min/max (which must know its first value)."""

    op: str
    is_float: bool
    col: int
    has_nulls: bool
    seen_col: int


@dataclass(frozen=True, slots=True)
class KernelShape:
    """A kernel's shape. ``terms`` are the filter tests, one per column: ``eq`` (the code equals one
    value), ``range`` (the code lies in ``[a, b)``: a bound over a sorted dictionary) or ``lut`` (a
    lookup table over codes). Comparisons let the compiler vectorise the loop; a lookup table does
    not. ``remapped[i]`` says whether dimension i's codes go through a remap table; plain codes are
    used as they are, saving a lookup per row."""

    terms: tuple[str, ...]
    dims: int
    metrics: tuple[MetricSlot, ...]
    mode: str  # "range": bucket row ranges; "rows": a row list; "ranges": given row ranges
    emit: bool
    remapped: tuple[bool, ...] = ()

    def key(self) -> str:
        return hashlib.sha1(repr(self).encode()).hexdigest()[:16]


def _source(shape: KernelShape) -> str:
    nd = shape.dims
    rows_mode = shape.mode == "rows"
    row_arrays: list[str] = []

    def row(name: str) -> str:
        """How the loop reads a per-row array: through the row list, or a bucket slice.

        Bucket slices indexed from 0 let the compiler see every index is non-negative, so it drops
        numba's negative-index handling and vectorises the loop.
        """
        if rows_mode:
            return f"{name}[r]"
        if name not in row_arrays:
            row_arrays.append(name)
        return f"{name}_[i]"

    args = ["rs", "re", "rg"] if shape.mode == "ranges" else ["rows", "row_bounds", "bounds", "bstride"]
    tests = []
    for i, kind in enumerate(shape.terms):
        code = row(f"f{i}c")
        if kind == "eq":
            args.append(f"f{i}c, f{i}a")
            tests.append(f"({code} == f{i}a)")
        elif kind == "range":
            args.append(f"f{i}c, f{i}a, f{i}b")
            tests.append(f"({code} >= f{i}a) & ({code} < f{i}b)")
        else:
            args.append(f"f{i}c, f{i}l")
            tests.append(f"(f{i}l[{code}] != 0)")
    remapped = shape.remapped or (True,) * nd
    args += [f"d{i}c, d{i}m, s{i}" if remapped[i] else f"d{i}c, s{i}" for i in range(nd)]
    args += [f"m{j}v" + (f", m{j}n" if m.has_nulls else "") for j, m in enumerate(shape.metrics)]
    args += ["acc_i", "acc_f", "out_rows", "out_groups"]
    # Without group dimensions a bucket is one group: accumulate in locals (registers) and store
    # once per bucket, which avoids a chain of read-modify-writes through memory on every row.
    scalar = nd == 0
    body: list[str] = []
    if tests:
        body.append(f"            p = np.int64({' & '.join(tests)})")
    else:
        body.append("            p = np.int64(1)")
    if nd:
        parts = []
        for i in range(nd):
            code = row(f"d{i}c")
            parts.append(f"d{i}m[{code}] * s{i}" if remapped[i] else f"np.int64({code}) * s{i}")
        body.append(f"            h = g + {' + '.join(parts)}")
    else:
        body.append("            h = g")
    body.append("            cnt += p" if scalar else "            acc_i[h, 0] += p")
    for j, m in enumerate(shape.metrics):
        acc = "acc_f" if m.is_float else "acc_i"
        q = f"q{j}"
        value = row(f"m{j}v")
        body.append(
            f"            {q} = p & np.int64(not {row(f'm{j}n')})" if m.has_nulls else f"            {q} = p"
        )
        cmp = "<" if m.op == "min" else ">"
        # Adding a masked value (all bits or none) instead of multiplying keeps integer sums
        # vectorisable.
        masked = f"{value} * {q}" if m.is_float else f"({value} & -{q})"
        if scalar:
            if m.op == "sum":
                body += [f"            t{j} += {masked}", f"            u{j} += {q}"]
            else:
                body += [
                    f"            if {q}:",
                    f"                if u{j} == 0 or {value} {cmp} t{j}:",
                    f"                    t{j} = {value}",
                    f"                u{j} += 1",
                ]
        elif m.op == "sum":
            body.append(f"            {acc}[h, {m.col}] += {masked}")
            if m.has_nulls:
                body.append(f"            acc_i[h, {m.seen_col}] += {q}")
        else:
            body += [
                f"            if {q}:",
                f"                if acc_i[h, {m.seen_col}] == 0 or {value} {cmp} {acc}[h, {m.col}]:",
                f"                    {acc}[h, {m.col}] = {value}",
                f"                acc_i[h, {m.seen_col}] += 1",
            ]
    if shape.emit:
        body += [
            "            out_rows[k] = r" if rows_mode else "            out_rows[k] = start + i",
            "            out_groups[k] = h",
        ]
    body.append("            k += p")
    lines = [
        "import numba",
        "import numpy as np",
        "",
        "",
        "@numba.njit(cache=True, nogil=True)",
        f"def kernel({', '.join(args)}):",
        "    k = 0",
        "    zi = acc_i[0, 0] * 0",
        "    zf = acc_f[0, 0] * 0",
    ]
    if shape.mode == "ranges":
        lines += [
            "    for b in range(rs.shape[0]):",
            "        start = rs[b]",
            "        stop = re[b]",
            "        g = rg[b]",
        ]
    else:
        lines += [
            "    for b in range(bounds.shape[0] - 1):",
            "        start = row_bounds[b]" if rows_mode else "        start = bounds[b]",
            "        stop = row_bounds[b + 1]" if rows_mode else "        stop = bounds[b + 1]",
            "        g = b * bstride",
        ]
    lines += [f"        {name}_ = {name}[start:stop]" for name in row_arrays]
    if scalar:
        lines.append("        cnt = zi")
        for j, m in enumerate(shape.metrics):
            lines.append(f"        t{j} = {'zf' if m.is_float else 'zi'}")
            lines.append(f"        u{j} = zi")
    if rows_mode:
        lines += ["        for i in range(start, stop):", "            r = rows[i]"]
    else:
        lines += ["        for i in range(stop - start):"]
    lines += body
    if scalar:
        lines.append("        acc_i[g, 0] += cnt")
        for j, m in enumerate(shape.metrics):
            acc = "acc_f" if m.is_float else "acc_i"
            cmp = "<" if m.op == "min" else ">"
            if m.op == "sum":
                lines.append(f"        {acc}[g, {m.col}] += t{j}")
                if m.has_nulls:
                    lines.append(f"        acc_i[g, {m.seen_col}] += u{j}")
            else:
                lines += [
                    f"        if u{j} > 0:",
                    f"            if acc_i[g, {m.seen_col}] == 0 or t{j} {cmp} {acc}[g, {m.col}]:",
                    f"                {acc}[g, {m.col}] = t{j}",
                    f"            acc_i[g, {m.seen_col}] += u{j}",
                ]
    lines += ["    return k", ""]
    return "\n".join(lines)


def _cache_dir() -> Path:
    base = os.environ.get("GROVE_KERNEL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "grove", "kernels"
    )
    # A kernel file is rewritten whenever its generated source changes, so one folder serves every
    # grove version; numba keys its compiled cache on the file's contents and timestamp.
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


_LOADED: dict[KernelShape, Callable[..., Any]] = {}
_LOCK = threading.Lock()


def kernel_for(shape: KernelShape) -> Callable[..., Any]:
    """The compiled kernel of ``shape`` (generated and imported on first use)."""
    found = _LOADED.get(shape)
    if found is not None:
        return found
    with _LOCK:
        found = _LOADED.get(shape)
        if found is not None:
            return found
        source = _source(shape)
        name = f"grove_kernel_{shape.key()}"
        path = _cache_dir() / f"{name}.py"
        if not path.exists() or path.read_text() != source:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        kernel: Callable[..., Any] = module.kernel
        _LOADED[shape] = kernel
        return kernel
