"""Helpers shared by grove's benchmarks: machine info, timing, process CPU and memory, tables, results.

Every benchmark in ``bench/`` prints a rich table for people and writes the same figures as JSON under
``bench/results/<name>-<timestamp>.json`` (with the machine they were taken on) for later comparison.

CPU time and memory are read from ``/proc`` (Linux only) rather than from ``resource.getrusage``:
``RUSAGE_CHILDREN`` only counts children that have exited and been waited for, and grove keeps its
ingestion workers alive between writes, so a live pool is invisible to it. ``/proc/<pid>/stat`` gives
the CPU time of any live process, and ``/proc/<pid>/status`` its resident set (``VmRSS``) and the peak
of that resident set over the process lifetime (``VmHWM``). Writing ``5`` to ``/proc/<pid>/clear_refs``
resets the peak to the current resident set (Linux 4.0+, own processes only), which lets a long-lived
process be measured case by case.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console, JustifyMethod
from rich.table import Table

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = BENCH_DIR / ".data"

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --------------------------------------------------------------------------------------------------------
# The machine.


@dataclass(frozen=True)
class Machine:
    """What a result was measured on; written into every result file."""

    cpu_model: str
    cores: int  # CPUs this process may run on (affinity), which is what a pool "per core" uses
    ram_bytes: int
    python: str
    system: str
    packages: dict[str, str]

    def line(self) -> str:
        """One line for the bottom of a report."""
        versions = ", ".join(f"{name} {version}" for name, version in self.packages.items())
        return (
            f"{self.cpu_model} · {self.cores} cores · {format_bytes(self.ram_bytes)} RAM · "
            f"Python {self.python} · {versions} · {self.system}"
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def machine_info(packages: Sequence[str] = ("grove", "numpy", "pyarrow", "duckdb")) -> Machine:
    """Describe this machine and the versions of ``packages`` (``"-"`` for one not installed)."""
    return Machine(
        cpu_model=_cpu_model(),
        cores=cpu_cores(),
        ram_bytes=_ram_bytes(),
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
        packages={name: _version(name) for name in packages},
    )


def cpu_cores() -> int:
    """CPUs available to this process (its affinity mask, so a container's limit when it sets one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _ram_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


# --------------------------------------------------------------------------------------------------------
# Timing.


@dataclass
class Stopwatch:
    """Wall-clock seconds of a ``with timed() as watch:`` block, on the monotonic high-resolution clock."""

    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


def median(values: Iterable[float]) -> float:
    """The median (the mean of the middle two for an even count); raises ValueError when empty."""
    return float(statistics.median(list(values)))


def median_index(values: Sequence[float]) -> int:
    """Index of the run whose value is the (lower) median, so its other figures can be reported with it."""
    if not values:
        raise ValueError("median_index() of an empty sequence")
    order = sorted(range(len(values)), key=lambda i: values[i])
    return order[(len(order) - 1) // 2]


# --------------------------------------------------------------------------------------------------------
# Process CPU and memory, from /proc.


@dataclass(frozen=True)
class ProcessSample:
    """One reading of a live process: CPU seconds so far (user + system), resident and peak resident bytes."""

    pid: int
    cpu_seconds: float
    rss_bytes: int
    peak_rss_bytes: int


def sample_process(pid: int) -> ProcessSample | None:
    """Read ``pid``'s CPU time and memory from /proc; None when the process is gone (or not Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            stat = f.read()
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            status = f.read()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may itself contain spaces or ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), 1-based
    memory = {}
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            memory[key] = int(value.split()[0]) * 1024
    return ProcessSample(pid, (utime + stime) / _CLOCK_TICKS, memory.get("VmRSS", 0), memory.get("VmHWM", 0))


def reset_peak_rss(pid: int) -> bool:
    """Reset ``pid``'s peak resident set (VmHWM) to its current one; False when the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class ProcessUsage:
    """What one process used between :meth:`ProcessMeter.start` and :meth:`ProcessMeter.stop`.

    ``peak_rss_bytes`` is the peak over the measured span when ``peak_was_reset``; otherwise it is the
    peak over the process lifetime, which can only overstate the span's peak.
    """

    pid: int
    role: str
    cpu_seconds: float
    baseline_rss_bytes: int
    peak_rss_bytes: int
    peak_was_reset: bool

    @property
    def peak_above_baseline_bytes(self) -> int:
        return max(0, self.peak_rss_bytes - self.baseline_rss_bytes)


@dataclass(frozen=True)
class SystemSample:
    """Machine-wide CPU seconds so far, summed over all CPUs: busy (not idle or waiting) and stolen.

    Steal is time the hypervisor gave this virtual machine's CPUs to someone else.
    """

    busy_seconds: float
    steal_seconds: float


def sample_system() -> SystemSample | None:
    """Read the machine-wide CPU counters from /proc/stat; None when they cannot be read."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    ticks = ([int(x) for x in fields[1:9]] + [0] * 8)[:8]  # older kernels have fewer fields
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    return SystemSample((user + nice + system + irq + softirq) / _CLOCK_TICKS, steal / _CLOCK_TICKS)


def wait_for_idle(timeout: float, *, busy_cores: float = 0.25, window: float = 1.0) -> bool:
    """Wait until the machine is idle (under ``busy_cores`` CPUs busy over a ``window``), up to ``timeout`` s.

    On a shared machine other work steals the cores being measured; waiting for a quiet moment before
    a timed span removes most of that noise. Returns True when the machine was idle, False on timeout
    (or when /proc/stat cannot be read); the caller measures anyway and reports the disturbance.
    """
    if timeout <= 0:
        return True
    deadline = time.monotonic() + timeout
    while True:
        before = sample_system()
        time.sleep(window)
        after = sample_system()
        if before is None or after is None:
            return False
        if (after.busy_seconds - before.busy_seconds) / window < busy_cores:
            return True
        if time.monotonic() + window > deadline:
            return False


@dataclass(frozen=True)
class MeterReading:
    """What :class:`ProcessMeter` saw over one span: per-process usage and what the rest of the machine did.

    ``other_cpu_seconds`` is CPU time spent by processes other than the measured ones (and by the kernel
    outside them); together with ``steal_seconds`` it tells whether the span was disturbed.
    """

    processes: list[ProcessUsage]
    busy_cpu_seconds: float
    steal_seconds: float

    @property
    def cpu_seconds(self) -> float:
        return sum(p.cpu_seconds for p in self.processes)

    @property
    def other_cpu_seconds(self) -> float:
        return max(0.0, self.busy_cpu_seconds - self.cpu_seconds)


@dataclass
class ProcessMeter:
    """CPU seconds and peak memory of a fixed set of live processes over a span of time.

    ``processes`` maps a pid to a role (``"parent"``, ``"worker"``, ``"server"`` ...). :meth:`start` records
    each process's CPU time and resident set and resets its peak; :meth:`stop` reads them again. A
    process that has gone by :meth:`stop` is reported with what was last known of it. Machine-wide CPU
    counters are read too, so that work by other processes during the span shows up.
    """

    processes: Mapping[int, str]
    _start: dict[int, ProcessSample] = field(default_factory=dict)
    _reset: dict[int, bool] = field(default_factory=dict)
    _system: SystemSample | None = None

    def start(self) -> None:
        self._start.clear()
        for pid in self.processes:
            self._reset[pid] = reset_peak_rss(pid)
            sample = sample_process(pid)
            if sample is not None:
                self._start[pid] = sample
        self._system = sample_system()

    def stop(self) -> MeterReading:
        system = sample_system()
        usage = []
        for pid, role in self.processes.items():
            before = self._start.get(pid)
            after = sample_process(pid) or before
            if before is None or after is None:
                continue
            usage.append(
                ProcessUsage(
                    pid,
                    role,
                    after.cpu_seconds - before.cpu_seconds,
                    before.rss_bytes,
                    max(after.peak_rss_bytes, before.rss_bytes),
                    self._reset.get(pid, False),
                )
            )
        if system is None or self._system is None:
            return MeterReading(usage, sum(p.cpu_seconds for p in usage), 0.0)
        return MeterReading(
            usage,
            system.busy_seconds - self._system.busy_seconds,
            system.steal_seconds - self._system.steal_seconds,
        )


# --------------------------------------------------------------------------------------------------------
# Formatting and tables.


def format_bytes(n: float) -> str:
    """Binary units, three significant figures: ``512 B``, ``1.50 KiB``, ``731 MiB``, ``22.4 GiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            if unit == "B":
                return f"{int(value)} B"
            digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
            return f"{value:.{digits}f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_count(n: float) -> str:
    """An integer with thousands separators."""
    return f"{round(n):,}"


def format_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}×"


def verdict(value: float, target: float) -> str:
    """Rich markup for ``PASS`` (value reaches target) or ``MISS``."""
    return "[bold green]PASS[/]" if value >= target else "[bold red]MISS[/]"


@dataclass(frozen=True)
class Column:
    """A table column: header, alignment (``"left"``/``"right"``/``"center"``) and wrapping policy."""

    header: str
    justify: JustifyMethod = "right"
    no_wrap: bool = True


def print_table(
    console: Console,
    title: str,
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str | None = None,
) -> None:
    """Print a table; a plain string column is a left-aligned header (for the row labels)."""
    table = Table(title=title, caption=caption, caption_justify="left", title_justify="left")
    for col in columns:
        if isinstance(col, str):
            table.add_column(col, justify="left", no_wrap=True)
        else:
            table.add_column(col.header, justify=col.justify, no_wrap=col.no_wrap)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def make_console() -> Console:
    """A console that keeps wide tables readable in logs: at least 160 columns when not a terminal."""
    console = Console(log_path=False)
    if not console.is_terminal:
        console = Console(log_path=False, width=max(console.width, 160))
    return console


# --------------------------------------------------------------------------------------------------------
# Results.


def write_result(
    name: str,
    payload: Mapping[str, Any],
    *,
    machine: Machine | None = None,
    directory: Path = RESULTS_DIR,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Path:
    """Write ``payload`` as ``<directory>/<name>-<UTC timestamp>.json`` with the machine and command line.

    Returns the path written. The file appears complete or not at all (written aside, then renamed).
    """
    stamp = now()
    document = {
        "benchmark": name,
        "timestamp": stamp.isoformat(timespec="seconds"),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "machine": (machine or machine_info()).to_json(),
        **payload,
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{stamp.strftime('%Y%m%dT%H%M%SZ')}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
