"""How grove's own long-lived processes (the server, ingestion workers) ask the C library for memory."""

from __future__ import annotations

import ctypes

import pyarrow as pa

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Let this process reuse the memory it frees instead of handing it back to the OS at once.

    Queries and ingestion allocate and free arrays of a few MB all the time. By default glibc serves
    such sizes with fresh mappings and unmaps them when freed, so every use page-faults (and the kernel
    zeroes) the memory anew: a tenth of a Parquet build, and ~4 ms of a 40 ms reach query, was that
    kernel work. Arrays up to ``mmap_threshold`` bytes now come from the heap, and up to
    ``trim_threshold`` bytes of free heap are kept for the next use; peak memory does not change, but
    an idle process holds on to what it freed. Call it only in processes grove owns, never in a user's.
    Returns False (and does nothing) where the C library has no ``mallopt``.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
    mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    return True


def arrow_uses_the_heap() -> None:
    """Let Arrow allocate from the C library's heap (that :func:`keep_freed_memory` tunes) too.

    Arrow's default allocator (mimalloc in the wheels) maps fresh memory for a process's first large
    reads, which the kernel faults in and zeroes: a fresh worker's first Parquet build (1M rows) spent
    ~0.35 s of system time, ~0.1 s once the heap serves Arrow's buffers as it serves numpy's (the two
    then also reuse each other's freed memory). Later builds of a warm process differ little. Call it
    only in processes grove owns, before they allocate Arrow memory.
    """
    pa.set_memory_pool(pa.system_memory_pool())
