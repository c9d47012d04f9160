"""Batch ingestion throughput and peak memory of grove, with DuckDB loading the same files for context.

What is measured, and why:

* **Throughput.** Generated ads events (``grove.ingest.sample``; 2M rows over 7 days by default) are
  ingested from JSON lines and from Parquet, each with hourly rollup (the spec of ``examples/``) and
  without rollup (``queryGranularity: none``). The timed span is one ``Database.ingest(spec)`` call on an
  empty datasource: all six steps of a write (read, partition, build, merge, push, publish), but not
  start-up. A long-lived database keeps its pool warm and has loaded its compiled kernels, so before the
  clock starts the pool is warmed (``db.workers.warm()``) and a small JSON file is ingested untimed into
  another datasource (``--cold`` skips that and times a fresh database's first write). Each case runs
  ``--repeat`` times, each time in a fresh home folder and a fresh database, and the run with the median
  wall time is reported. Rows/s per core divides by the size of the worker pool (one process per core by
  default): that is the unit of the targets of issue 2 (300,000 rows/s per core from JSON lines,
  1,000,000 from Parquet; Druid publishes about 23,000 rows/s per core for a wide schema).
* **Where the time goes.** grove's own per-stage timings (build = read+filter+partition+index, merge,
  push, publish) and the CPU seconds of the parent and of each worker over the span, so that idle cores
  (too few splits, a serial stage) show up as CPU use well below ``cores × wall``.
* **Peak memory.** The peak resident set (``VmHWM``) of every worker process and of the parent over the
  span. Each run uses a fresh pool, and peaks are reset just before the span (see :mod:`common`), so a
  figure belongs to one ingestion only. A separate case ingests JSON lines at two sizes with the same
  small ``maxRowsInMemory``, the days growing with the rows so that only the input grows, not the
  segments: if memory is bounded by ``maxRowsInMemory`` the peak barely moves while the input triples.
  The largest size is ingested once more into the original days, to show what larger segments cost.
* **DuckDB, for context.** DuckDB (``SET threads=2``) loads the same files into a table with the same
  hourly rollup (``CREATE TABLE AS SELECT date_trunc('hour', ts), dims, count(*), sum(...),
  approx_count_distinct(user_id) ... GROUP BY ALL``; without rollup, the parsed rows as they are) in a
  file database, in a child process so that its memory is measured alone. It is a peer, not a target:
  DuckDB keeps a distinct-count number where grove keeps a mergeable HLL sketch, and it neither sorts
  nor indexes (grove sorts by time and dimensions and writes dictionaries per segment).

Files are read from the page cache (they are generated, or reused, just before), so this measures CPU
cost, not disk speed. The exit code is 0 whatever the figures: this is a measurement, not a test.

Run ``.venv/bin/python bench/ingest.py`` (about three minutes on 2 cores) or ``--quick`` for a smoke
test; ``bench/README.md`` explains every column of the output.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from rich.console import Console

import grove
from common import (
    DATA_DIR,
    RESULTS_DIR,
    Column,
    ProcessMeter,
    ProcessUsage,
    cpu_cores,
    format_bytes,
    format_count,
    format_ratio,
    machine_info,
    make_console,
    median_index,
    print_table,
    timed,
    verdict,
    wait_for_idle,
    write_result,
)
from grove.ingest.sample import write_ads
from grove.ingest.workers import WorkerPool

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SPEC_FILES = {"json": EXAMPLES / "ads-index.json", "parquet": EXAMPLES / "ads-index-parquet.json"}
FORMAT_NAMES = {"json": "JSON lines", "parquet": "Parquet"}

TARGET_ROWS_PER_CORE = {"json": 300_000, "parquet": 1_000_000}  # issue 2, on a 2-core machine
DRUID_ROWS_PER_CORE = 23_000  # Druid's published native batch figure for a wide schema

# What the ingestion adds to a worker's memory (peak minus the resident set before it) may be this much
# larger for the largest scale input than for the smallest and still count as bounded: the input grows
# threefold by default, so memory that followed the input would grow far more.
BOUNDED_GROWTH = 1.25


# --------------------------------------------------------------------------------------------------------
# Data and specs.


def data_file(data_dir: Path, fmt: str, rows: int, days: int, seed: int) -> Path:
    """The cached sample file for these arguments, generated first when it is not there yet."""
    path = data_dir / f"ads-{rows}r-{days}d-s{seed}.{fmt}"
    if not path.exists():
        # In a child process, so that the generator's memory does not stay in this process's resident
        # set and inflate the parent's peak RSS. write_ads writes aside and renames: a cached file is
        # always complete.
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as child:
            child.submit(write_ads, path, rows, days, seed).result()
    return path


def ingest_spec(
    fmt: str, path: Path, *, rollup: bool, max_rows_in_memory: int | None = None
) -> dict[str, Any]:
    """The example spec for ``fmt``, reading ``path``; hourly rollup, or none at all."""
    spec: dict[str, Any] = json.loads(SPEC_FILES[fmt].read_text(encoding="utf-8"))
    inner = spec["spec"]
    inner["ioConfig"]["inputSource"] = {"type": "local", "baseDir": str(path.parent), "filter": path.name}
    if not rollup:
        inner["dataSchema"]["granularitySpec"].update(rollup=False, queryGranularity="none")
    if max_rows_in_memory is not None:
        inner["tuningConfig"]["maxRowsInMemory"] = max_rows_in_memory
    return spec


# --------------------------------------------------------------------------------------------------------
# One grove ingestion.


@dataclass
class GroveRun:
    """One timed ``db.ingest``: rows in and out, wall time, stage timings and per-process usage."""

    rows: int
    rows_after_rollup: int
    segments: int
    wall_seconds: float
    cores: int
    timings_ms: dict[str, int]
    processes: list[ProcessUsage]
    other_cpu_seconds: float = 0.0
    steal_seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.wall_seconds

    @property
    def rows_per_core(self) -> float:
        return self.rows_per_second / self.cores

    def usage(self, role: str) -> list[ProcessUsage]:
        return [p for p in self.processes if p.role == role]

    @property
    def cpu_seconds(self) -> float:
        return sum(p.cpu_seconds for p in self.processes)

    @property
    def cpu_share(self) -> float:
        """CPU seconds over ``cores × wall``: 1.0 means every core was busy the whole time."""
        return self.cpu_seconds / (self.cores * self.wall_seconds)

    @property
    def disturbed(self) -> bool:
        """Other processes or the hypervisor took over a tenth of the machine during the run."""
        return self.other_cpu_seconds + self.steal_seconds > 0.1 * self.cores * self.wall_seconds

    @property
    def busy_workers(self) -> int:
        """Workers that used the CPU for more than a tenth of the span (the others had no split to read)."""
        return sum(1 for p in self.usage("worker") if p.cpu_seconds > 0.1 * self.wall_seconds)

    @property
    def worker_peak(self) -> int:
        return max((p.peak_rss_bytes for p in self.usage("worker")), default=0)

    @property
    def worker_peak_above_baseline(self) -> int:
        return max((p.peak_above_baseline_bytes for p in self.usage("worker")), default=0)

    @property
    def parent_peak(self) -> int:
        return max((p.peak_rss_bytes for p in self.usage("parent")), default=0)

    @property
    def parent_peak_above_baseline(self) -> int:
        return max((p.peak_above_baseline_bytes for p in self.usage("parent")), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "rowsAfterRollup": self.rows_after_rollup,
            "segments": self.segments,
            "wallSeconds": self.wall_seconds,
            "cores": self.cores,
            "rowsPerSecond": self.rows_per_second,
            "rowsPerSecondPerCore": self.rows_per_core,
            "timingsMs": self.timings_ms,
            "cpuSeconds": self.cpu_seconds,
            "cpuShare": self.cpu_share,
            "busyWorkers": self.busy_workers,
            "otherCpuSeconds": self.other_cpu_seconds,
            "stealSeconds": self.steal_seconds,
            "disturbed": self.disturbed,
            "processes": [asdict(p) for p in self.processes],
        }


def worker_pids(pool: WorkerPool) -> list[int]:
    """The pids of a warm pool's worker processes.

    A hack: WorkerPool does not expose its processes, and neither does ProcessPoolExecutor, whose
    private ``_processes`` maps pid to Process (CPython 3.8–3.13). The benchmark needs the pids to read
    the workers' CPU time and memory from /proc while they are alive. Returns [] if the private
    attributes change, and the report then shows no worker figures rather than failing.
    """
    executor = getattr(pool, "_executor", None)
    processes = getattr(executor, "_processes", None) or {}
    return sorted(int(pid) for pid in processes)


def ingest_once(
    spec: dict[str, Any],
    tmp_root: Path,
    workers: int,
    *,
    warmup: dict[str, Any] | None = None,
    wait_idle: float = 0.0,
) -> GroveRun:
    """Ingest ``spec`` into a fresh database under a new temporary home; time only ``db.ingest``.

    The pool is warmed first (``db.workers.warm()``); then ``warmup``, when given, is ingested untimed
    so that what a long-lived database has done once (numba loading its compiled kernels, Arrow
    allocating its pools) is not counted either. Peak memory is reset after the warm-up.
    """
    with tempfile.TemporaryDirectory(prefix="grove-bench-", dir=tmp_root) as home:
        db = grove.open(home, ingest_workers=workers)
        try:
            db.workers.warm()
            if warmup is not None:
                db.ingest(warmup)
            wait_for_idle(wait_idle)
            processes = {os.getpid(): "parent"} | {pid: "worker" for pid in worker_pids(db.workers)}
            meter = ProcessMeter(processes)
            meter.start()
            with timed() as watch:
                summary = db.ingest(spec)
            reading = meter.stop()
            return GroveRun(
                rows=summary.stats.processed,
                rows_after_rollup=summary.rows_after_rollup,
                segments=len(summary.segments),
                wall_seconds=watch.seconds,
                cores=db.workers.workers,
                timings_ms=dict(summary.timings_ms),
                processes=reading.processes,
                other_cpu_seconds=reading.other_cpu_seconds,
                steal_seconds=reading.steal_seconds,
            )
        finally:
            db.close()


def warmup_spec(data_dir: Path, args: argparse.Namespace, *, rollup: bool) -> dict[str, Any]:
    """A small JSON ingestion into another datasource, cut into at least one split per worker.

    JSON rather than the case's format because grove only splits a file for several workers past 4 MiB
    per worker, which a small Parquet file never reaches (and Parquet reading has nothing to warm up).
    """
    rows = max(50_000, 20_000 * (args.workers or cpu_cores()))  # ~280 bytes a row: over 4 MiB per worker
    spec = ingest_spec("json", data_file(data_dir, "json", rows, args.days, args.seed), rollup=rollup)
    spec["spec"]["dataSchema"]["dataSource"] = "warmup"
    return spec


# --------------------------------------------------------------------------------------------------------
# One DuckDB load, in a child process.

_DUCKDB_CHILD = r"""
import json, os, resource, sys, time
import duckdb

def hwm_and_rss():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) * 1024
    return out

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

def machine_busy():  # all CPUs: user nice system irq softirq, and steal, in seconds
    f = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / tick, f[7] / tick

args = json.loads(sys.argv[1])
con = duckdb.connect(args["database"])
con.execute(f"SET threads={int(args['threads'])}")
con.execute(f"DESCRIBE SELECT * FROM {args['source']}").fetchall()  # loads the reader, reads metadata
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
baseline = hwm_and_rss()["VmRSS"]
(busy0, steal0), cpu0, t0 = machine_busy(), cpu(), time.perf_counter()
con.execute(args["sql"])
con.execute("CHECKPOINT")
wall = time.perf_counter() - t0
cpu_seconds = cpu() - cpu0
busy1, steal1 = machine_busy()
peak = hwm_and_rss()["VmHWM"]
rows = con.execute("SELECT count(*) FROM ads").fetchone()[0]
con.close()
print(json.dumps({"wallSeconds": wall, "cpuSeconds": cpu_seconds, "rowsOut": rows,
                  "peakRssBytes": peak, "baselineRssBytes": baseline,
                  "otherCpuSeconds": max(0.0, busy1 - busy0 - cpu_seconds), "stealSeconds": steal1 - steal0}))
"""

_DUCKDB_JSON_COLUMNS = (
    "{'timestamp': 'VARCHAR', 'advertiser_id': 'VARCHAR', 'campaign_id': 'VARCHAR', "
    "'ad_group_id': 'VARCHAR', 'pin_id': 'VARCHAR', 'country': 'VARCHAR', 'device': 'VARCHAR', "
    "'placement': 'VARCHAR', 'user_id': 'VARCHAR', 'impressions': 'BIGINT', 'clicks': 'BIGINT', "
    "'spend_micros': 'BIGINT'}"
)
_DIMS = "advertiser_id, campaign_id, ad_group_id, pin_id, country, device, placement"


def duckdb_sql(fmt: str, path: Path, *, rollup: bool) -> tuple[str, str]:
    """The source expression and the CREATE TABLE statement for one case, mirroring grove's spec."""
    quoted = "'" + str(path).replace("'", "''") + "'"
    if fmt == "json":
        # Columns declared, as grove's spec declares them, so DuckDB does not sample the file for a schema.
        source = f"read_json({quoted}, format = 'newline_delimited', columns = {_DUCKDB_JSON_COLUMNS})"
    else:
        source = f"read_parquet({quoted})"
    if rollup:
        select = (
            f"SELECT date_trunc('hour', CAST(\"timestamp\" AS TIMESTAMP)) AS __time, {_DIMS}, "
            'count(*) AS "count", sum(impressions) AS impressions, sum(clicks) AS clicks, '
            "sum(spend_micros) AS spend_micros, approx_count_distinct(user_id) AS reach "
            f"FROM {source} GROUP BY ALL"
        )
    else:
        select = (
            f'SELECT CAST("timestamp" AS TIMESTAMP) AS __time, {_DIMS}, user_id, impressions, clicks, '
            f"spend_micros FROM {source}"
        )
    return source, f"CREATE TABLE ads AS {select}"


@dataclass
class DuckRun:
    """One timed DuckDB load (CREATE TABLE AS SELECT + CHECKPOINT) in a child process."""

    wall_seconds: float
    cpu_seconds: float
    rows_out: int
    peak_rss_bytes: int
    baseline_rss_bytes: int
    other_cpu_seconds: float
    steal_seconds: float
    threads: int

    @property
    def disturbed(self) -> bool:
        """Other processes or the hypervisor took over a tenth of DuckDB's threads' time."""
        return self.other_cpu_seconds + self.steal_seconds > 0.1 * self.threads * self.wall_seconds


def duckdb_once(fmt: str, path: Path, *, rollup: bool, threads: int, tmp_root: Path) -> DuckRun:
    """Load ``path`` into a new DuckDB file database in a child process; raises RuntimeError on failure."""
    source, sql = duckdb_sql(fmt, path, rollup=rollup)
    with tempfile.TemporaryDirectory(prefix="duckdb-bench-", dir=tmp_root) as tmp:
        args = {"database": str(Path(tmp) / "ads.duckdb"), "threads": threads, "source": source, "sql": sql}
        done = subprocess.run(
            [sys.executable, "-c", _DUCKDB_CHILD, json.dumps(args)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"DuckDB load failed: {done.stderr.strip().splitlines()[-1:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return DuckRun(
        out["wallSeconds"],
        out["cpuSeconds"],
        out["rowsOut"],
        out["peakRssBytes"],
        out["baselineRssBytes"],
        out["otherCpuSeconds"],
        out["stealSeconds"],
        threads,
    )


# --------------------------------------------------------------------------------------------------------
# Cases.


@dataclass(frozen=True)
class Case:
    fmt: str  # "json" or "parquet"
    rollup: bool

    @property
    def name(self) -> str:
        return f"{self.fmt}-{'rollup' if self.rollup else 'no-rollup'}"

    @property
    def label(self) -> str:
        return f"{FORMAT_NAMES[self.fmt]}, {'hourly rollup' if self.rollup else 'no rollup'}"

    @property
    def target(self) -> int:
        return TARGET_ROWS_PER_CORE[self.fmt]


CASES = (Case("json", True), Case("json", False), Case("parquet", True), Case("parquet", False))


@dataclass
class CaseResult:
    case: Case
    runs: list[GroveRun]
    duck_runs: list[DuckRun] = field(default_factory=list)
    duck_threads: int = 2

    @property
    def run(self) -> GroveRun:
        """The run with the median wall time; its other figures are reported with it."""
        return self.runs[median_index([r.wall_seconds for r in self.runs])]

    @property
    def duck(self) -> DuckRun | None:
        if not self.duck_runs:
            return None
        return self.duck_runs[median_index([r.wall_seconds for r in self.duck_runs])]

    @property
    def duck_rows_per_core(self) -> float | None:
        duck = self.duck
        return None if duck is None else self.run.rows / duck.wall_seconds / self.duck_threads

    @property
    def speed_vs_duckdb(self) -> float | None:
        """grove's rows/s per core over DuckDB's (above 1: grove loads faster per core)."""
        duck = self.duck_rows_per_core
        return None if duck is None else self.run.rows_per_core / duck

    def to_json(self) -> dict[str, Any]:
        run = self.run
        return {
            "case": self.case.name,
            "format": self.case.fmt,
            "rollup": self.case.rollup,
            "targetRowsPerSecondPerCore": self.case.target,
            "pass": run.rows_per_core >= self.case.target,
            "median": {
                "wallSeconds": run.wall_seconds,
                "rowsPerSecondPerCore": run.rows_per_core,
                "workerPeakRssBytes": run.worker_peak,
                "parentPeakRssBytes": run.parent_peak,
            },
            "bestRowsPerSecondPerCore": max(r.rows_per_core for r in self.runs),
            "undisturbedRuns": sum(1 for r in self.runs if not r.disturbed),
            "runs": [r.to_json() for r in self.runs],
            "duckdb": {
                "threads": self.duck_threads,
                "rowsPerSecondPerCore": self.duck_rows_per_core,
                "groveOverDuckdbPerCore": self.speed_vs_duckdb,
                "runs": [asdict(r) for r in self.duck_runs],
            },
        }


@dataclass(frozen=True)
class ScaleRun:
    """One run of the memory-boundedness case: ``rows`` events spread over ``days`` days."""

    rows: int
    days: int
    run: GroveRun

    @property
    def rows_per_day(self) -> int:
        return self.rows // self.days

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "days": self.days, **self.run.to_json()}


@dataclass
class ScaleResult:
    """The memory-boundedness case: one spec and ``maxRowsInMemory`` at growing input sizes.

    ``series`` grows the input at a constant number of rows per day, so that every size makes segments
    (one per day) of the same size and only the input grows: this is what the verdict is about.
    ``dense`` puts the largest input into the smallest number of days, so the segments grow with it,
    to show the separate effect of segment size (bounded by ``maxRowsPerSegment``) on the merge.
    """

    max_rows_in_memory: int
    series: list[ScaleRun] = field(default_factory=list)
    dense: ScaleRun | None = None

    @property
    def peak_ratio(self) -> float:
        """Peak worker RSS of the largest input over that of the smallest."""
        return self.series[-1].run.worker_peak / max(1, self.series[0].run.worker_peak)

    @property
    def growth_ratio(self) -> float:
        """The same for what the ingestion added (peak minus the worker's resident set before it)."""
        first, last = self.series[0].run, self.series[-1].run
        return last.worker_peak_above_baseline / max(1, first.worker_peak_above_baseline)

    @property
    def dense_growth_ratio(self) -> float | None:
        if self.dense is None:
            return None
        return self.dense.run.worker_peak_above_baseline / max(
            1, self.series[0].run.worker_peak_above_baseline
        )

    @property
    def input_growth(self) -> float:
        return self.series[-1].rows / max(1, self.series[0].rows)

    @property
    def bounded(self) -> bool:
        return self.growth_ratio <= BOUNDED_GROWTH

    def to_json(self) -> dict[str, Any]:
        return {
            "maxRowsInMemory": self.max_rows_in_memory,
            "inputGrowth": self.input_growth,
            "workerPeakRatio": self.peak_ratio,
            "workerGrowthRatio": self.growth_ratio,
            "denseWorkerGrowthRatio": self.dense_growth_ratio,
            "boundedGrowthLimit": BOUNDED_GROWTH,
            "bounded": self.bounded,
            "series": [r.to_json() for r in self.series],
            "dense": self.dense.to_json() if self.dense is not None else None,
        }


# --------------------------------------------------------------------------------------------------------
# Report.


def _disturbance(run: GroveRun | DuckRun) -> str:
    if not run.disturbed:
        return ""
    return (
        f" [yellow](disturbed: others used {run.other_cpu_seconds:.1f} CPU s, "
        f"steal {run.steal_seconds:.1f} s)[/]"
    )


def _seconds(x: float) -> str:
    return f"{x:.2f}"


def _rate(x: float | None) -> str:
    return "-" if x is None else format_count(x)


def print_report(
    console: Console,
    results: list[CaseResult],
    scale: ScaleResult | None,
    args: argparse.Namespace,
    machine_line: str,
) -> None:
    """The three tables (throughput, where time and memory go, memory boundedness) and the machine line."""
    repeat = args.repeat
    state = "first ingestion of a fresh database" if args.cold else "warm database"
    if results:
        rows = []
        for r in results:
            run = r.run
            rows.append(
                [
                    r.case.label,
                    format_count(run.rows),
                    format_count(run.rows_after_rollup),
                    _seconds(run.wall_seconds),
                    format_count(run.rows_per_second),
                    f"[bold]{format_count(run.rows_per_core)}[/]",
                    format_count(r.case.target),
                    verdict(run.rows_per_core, r.case.target),
                    f"{run.rows_per_core / DRUID_ROWS_PER_CORE:.1f}×",
                    _rate(r.duck_rows_per_core),
                    format_ratio(r.speed_vs_duckdb),
                ]
            )
        print_table(
            console,
            f"grove batch ingestion — median of {repeat} run(s), {results[0].run.cores} worker process(es), "
            f"{state}",
            [
                "case",
                Column("rows in"),
                Column("rows out"),
                Column("wall s"),
                Column("rows/s"),
                Column("rows/s/core"),
                Column("target/core"),
                Column("result", "center"),
                Column("× Druid"),
                Column("DuckDB rows/s/core"),
                Column("grove ÷ DuckDB"),
            ],
            rows,
            caption=(
                f"Targets (issue 2): {format_count(TARGET_ROWS_PER_CORE['json'])} rows/s/core from JSON lines, "
                f"{format_count(TARGET_ROWS_PER_CORE['parquet'])} from Parquet. Druid's published figure: "
                f"~{format_count(DRUID_ROWS_PER_CORE)} rows/s/core (wide schema); × Druid is grove over that. "
                f"DuckDB: SET threads={results[0].duck_threads}, same rollup, context only."
            ),
        )
        times, memory = [], []
        for r in results:
            run, t, duck = r.run, r.run.timings_ms, r.duck
            parent = sum(p.cpu_seconds for p in run.usage("parent"))
            workers = sum(p.cpu_seconds for p in run.usage("worker"))
            times.append(
                [
                    r.case.label,
                    *(format_count(t.get(stage, 0)) for stage in ("build", "merge", "push", "publish")),
                    f"{parent:.1f}",
                    f"{workers:.1f}",
                    f"{run.cpu_share:.0%}",
                    f"{run.busy_workers}/{len(run.usage('worker'))}",
                    f"{run.other_cpu_seconds + run.steal_seconds:.1f}",
                ]
            )
            memory.append(
                [
                    r.case.label,
                    format_bytes(run.worker_peak),
                    format_bytes(run.worker_peak_above_baseline),
                    format_bytes(run.parent_peak),
                    format_bytes(run.parent_peak_above_baseline),
                    "-" if duck is None else format_bytes(duck.peak_rss_bytes),
                ]
            )
        print_table(
            console,
            "Where the time goes (the median run)",
            [
                "case",
                Column("build ms"),
                Column("merge ms"),
                Column("push ms"),
                Column("publish ms"),
                Column("parent CPU s"),
                Column("workers CPU s"),
                Column("CPU use"),
                Column("busy workers"),
                Column("others CPU s"),
            ],
            times,
            caption=(
                "build = read + filter + partition + index, merge = pieces into segments (both in the workers, "
                "except a single split, which the parent builds itself). CPU use = CPU s ÷ (cores × wall). "
                "Busy workers used the CPU for over a tenth of the wall time. Others = CPU s used meanwhile "
                "by other processes, plus hypervisor steal: well above 0 means a disturbed run."
            ),
        )
        print_table(
            console,
            "Peak memory (the median run)",
            [
                "case",
                Column("worker peak RSS"),
                Column("worker growth"),
                Column("parent peak RSS"),
                Column("parent growth"),
                Column("DuckDB peak RSS"),
            ],
            memory,
            caption=(
                "Peak resident set (VmHWM) over the ingestion, the largest over workers; growth is the peak "
                "minus the resident set just before the ingestion (after warming)."
            ),
        )
    if scale is not None:
        srows = []
        for sr in [*scale.series, *([scale.dense] if scale.dense is not None else [])]:
            run = sr.run
            srows.append(
                [
                    format_count(sr.rows),
                    str(sr.days),
                    format_count(sr.rows_per_day),
                    "denser segments" if sr is scale.dense else "",
                    _seconds(run.wall_seconds),
                    format_count(run.rows_per_core),
                    format_bytes(run.worker_peak),
                    format_bytes(run.worker_peak_above_baseline),
                ]
            )
        if args.quick:
            result = "no verdict (--quick sizes are too small for one)"
        else:
            result = "[bold green]PASS[/]" if scale.bounded else "[bold red]MISS[/]"
        dense = ""
        if scale.dense is not None:
            dense = (
                f" The same input in {scale.dense.days} days (segments ×{scale.input_growth:.1f} larger; merge "
                "memory follows segment size, bounded by maxRowsPerSegment): growth "
                f"×{format_ratio(scale.dense_growth_ratio).rstrip('×')}."
            )
        print_table(
            console,
            f"Memory bounded by maxRowsInMemory ({format_count(scale.max_rows_in_memory)}), not input size "
            "(JSON lines, hourly rollup)",
            [
                Column("rows in"),
                Column("days"),
                Column("rows/day"),
                Column("", "left"),
                Column("wall s"),
                Column("rows/s/core"),
                Column("worker peak RSS"),
                Column("worker growth"),
            ],
            srows,
            caption=(
                f"Input ×{scale.input_growth:.1f} at the same rows per day → worker growth ×{scale.growth_ratio:.2f}, "
                f"worker peak RSS ×{scale.peak_ratio:.2f}: {result} (bounded: growth at most ×{BOUNDED_GROWTH})."
                f"{dense} Growth is the peak minus the worker's resident set before the ingestion. grove reads "
                "input in batches of 262,144 rows whatever maxRowsInMemory says, so keep every size above that "
                "per worker."
            ),
        )
    console.print(f"[dim]{machine_line}[/]")


# --------------------------------------------------------------------------------------------------------
# Command line.


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/ingest.py",
        description="Measure grove's batch ingestion (rows/s per core, peak memory) against its targets.",
    )
    p.add_argument(
        "--rows",
        type=int,
        default=None,
        help="generated events per case (default 2,000,000; 200,000 with --quick)",
    )
    p.add_argument("--days", type=int, default=7, help="days the events span (default 7)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per case; the median is reported (default 3; 1 with --quick)",
    )
    p.add_argument(
        "--cases",
        default=",".join(c.name for c in CASES),
        help="comma-separated cases to run (default: all of " + ", ".join(c.name for c in CASES) + ")",
    )
    p.add_argument(
        "--workers", type=int, default=0, help="ingestion worker processes; 0 = one per core (default)"
    )
    p.add_argument(
        "--scale-rows",
        default=None,
        help="input sizes of the memory-boundedness case, comma-separated; empty to skip "
        "(default 1000000,3000000; 600000,1200000 with --quick)",
    )
    p.add_argument(
        "--scale-max-rows-in-memory",
        type=int,
        default=None,
        help="maxRowsInMemory of the memory-boundedness case (default 250,000; 100,000 with --quick)",
    )
    p.add_argument(
        "--cold",
        action="store_true",
        help="time the first ingestion of a fresh database (no untimed warm-up ingestion before it)",
    )
    p.add_argument(
        "--wait-idle",
        type=float,
        default=None,
        help="before each timed run, wait up to this many seconds for the machine to be idle "
        "(default 30, 5 with --quick; 0 to never wait)",
    )
    p.add_argument("--duckdb-threads", type=int, default=2, help="DuckDB threads (default 2)")
    p.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB comparison")
    p.add_argument("--data-dir", type=Path, default=DATA_DIR, help="cache of generated input files")
    p.add_argument(
        "--tmp-dir", type=Path, default=None, help="where temporary homes go (default: system temp)"
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON result is written")
    p.add_argument("--no-write", action="store_true", help="print only; do not write a result file")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: smaller defaults for --rows, --repeat, --scale-rows, --scale-max-rows-in-memory and "
        "--wait-idle",
    )
    args = p.parse_args(argv)
    # Explicit options win; otherwise the defaults of a full run, or of a smoke test with --quick.
    presets = {
        "rows": (2_000_000, 200_000),
        "repeat": (3, 1),
        "scale_rows": ("1000000,3000000", "600000,1200000"),
        "scale_max_rows_in_memory": (250_000, 100_000),
        "wait_idle": (30.0, 5.0),
    }
    for name, (full, quick) in presets.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    known = {c.name: c for c in CASES}
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    args.case_list = [known[n] for n in names]
    args.scale_list = sorted(int(x) for x in args.scale_rows.split(",") if x.strip())
    if len(args.scale_list) == 1:
        p.error("--scale-rows needs at least two sizes (or none)")
    if args.repeat < 1 or args.rows < 1:
        p.error("--repeat and --rows must be at least 1")
    return args


def run_cases(
    args: argparse.Namespace, console: Console, files: dict[str, Path], tmp_root: Path
) -> list[CaseResult]:
    """The throughput cases: each ``--repeat`` times in grove, then as often in DuckDB."""
    results: list[CaseResult] = []
    for case in args.case_list:
        spec = ingest_spec(case.fmt, files[case.fmt], rollup=case.rollup)
        warmup = None if args.cold else warmup_spec(args.data_dir, args, rollup=case.rollup)
        result = CaseResult(case, [], duck_threads=args.duckdb_threads)
        for i in range(args.repeat):
            run = ingest_once(spec, tmp_root, args.workers, warmup=warmup, wait_idle=args.wait_idle)
            if run.rows != args.rows:
                console.log(f"[yellow]warning[/]: {case.name} ingested {run.rows:,} of {args.rows:,} rows")
            result.runs.append(run)
            console.log(
                f"grove  {case.name:<17} run {i + 1}/{args.repeat}: {run.wall_seconds:6.2f} s, "
                f"{run.rows_per_core:>10,.0f} rows/s/core, stages {run.timings_ms}{_disturbance(run)}"
            )
        for i in range(0 if args.no_duckdb else args.repeat):
            wait_for_idle(args.wait_idle)
            path = files[case.fmt]
            try:
                duck = duckdb_once(
                    case.fmt, path, rollup=case.rollup, threads=args.duckdb_threads, tmp_root=tmp_root
                )
            except RuntimeError as e:  # DuckDB is context only: report without it rather than fail
                console.log(f"[yellow]warning[/]: {case.name}: {e}; no DuckDB figures for this case")
                break
            result.duck_runs.append(duck)
            console.log(
                f"duckdb {case.name:<17} run {i + 1}/{args.repeat}: {duck.wall_seconds:6.2f} s, "
                f"{duck.rows_out:,} rows out{_disturbance(duck)}"
            )
        if result.duck is not None and result.duck.rows_out != result.run.rows_after_rollup:
            console.log(
                f"[yellow]note[/]: {case.name}: grove kept {result.run.rows_after_rollup:,} rows after "
                f"rollup, DuckDB {result.duck.rows_out:,}"
            )
        results.append(result)
    return results


def run_scale(args: argparse.Namespace, console: Console, tmp_root: Path) -> ScaleResult | None:
    """The memory-boundedness case, JSON lines with hourly rollup, one run per size.

    Each ``--scale-rows`` size spans ``--days`` times its multiple of the smallest size (constant rows per
    day, so constant segment size); then the largest size once more over ``--days`` (denser segments).
    """
    if not args.scale_list:
        return None
    scale = ScaleResult(args.scale_max_rows_in_memory)
    warmup = None if args.cold else warmup_spec(args.data_dir, args, rollup=True)
    smallest = args.scale_list[0]
    plan = [(rows, max(1, round(args.days * rows / smallest))) for rows in args.scale_list]
    plan.append((args.scale_list[-1], args.days))
    for i, (rows, days) in enumerate(plan):
        with console.status(f"Preparing {rows:,} rows of JSON lines over {days} days…"):
            path = data_file(args.data_dir, "json", rows, days, args.seed)
        spec = ingest_spec("json", path, rollup=True, max_rows_in_memory=args.scale_max_rows_in_memory)
        run = ScaleRun(
            rows, days, ingest_once(spec, tmp_root, args.workers, warmup=warmup, wait_idle=args.wait_idle)
        )
        if i < len(args.scale_list):
            scale.series.append(run)
        else:
            scale.dense = run
        console.log(
            f"grove  scale {rows:>11,} rows over {days:>3} days: {run.run.wall_seconds:6.2f} s, "
            f"worker peak {format_bytes(run.run.worker_peak)}{_disturbance(run.run)}"
        )
    return scale


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM as an exception, so that temporary homes are removed, the worker pool is shut down and a
    # DuckDB child is killed (subprocess.run kills its child when interrupted) rather than orphaned.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    console = make_console()
    machine = machine_info()
    tmp_root = Path(args.tmp_dir or tempfile.gettempdir())
    tmp_root.mkdir(parents=True, exist_ok=True)

    formats = sorted({c.fmt for c in args.case_list})
    with console.status("Preparing input files…"):
        files = {fmt: data_file(args.data_dir, fmt, args.rows, args.days, args.seed) for fmt in formats}
    for fmt, path in files.items():
        console.log(f"{FORMAT_NAMES[fmt]}: {path} ({format_bytes(path.stat().st_size)})")

    results = run_cases(args, console, files, tmp_root)
    scale = run_scale(args, console, tmp_root)

    console.print()
    print_report(console, results, scale, args, machine.line())
    if not args.no_write:
        payload = {
            "arguments": {
                "rows": args.rows,
                "days": args.days,
                "seed": args.seed,
                "repeat": args.repeat,
                "workers": args.workers,
                "cold": args.cold,
                "waitIdleSeconds": args.wait_idle,
                "duckdbThreads": args.duckdb_threads,
                "quick": args.quick,
            },
            "targets": {
                "rowsPerSecondPerCore": TARGET_ROWS_PER_CORE,
                "druidRowsPerSecondPerCore": DRUID_ROWS_PER_CORE,
            },
            "cases": [r.to_json() for r in results],
            "memoryBoundedness": scale.to_json() if scale is not None else None,
        }
        path = write_result("ingest", payload, machine=machine, directory=args.results_dir)
        console.print(f"[dim]Result written to {path}[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
