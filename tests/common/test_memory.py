"""keep_freed_memory: freed arrays are reused from the heap instead of being mapped (and faulted) anew."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import resource, sys
import numpy as np
from grove.common.memory import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
a = np.ones(8 << 20, dtype=np.uint8); del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(8 << 20, dtype=np.uint8); del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_second_array_of_the_same_size_reuses_the_freed_memory() -> None:
    # 8 MB mapped anew faults hundreds of times (pages or huge pages); kept on the heap, almost none.
    assert _faults("default") > 200
    assert _faults("keep") < 50


def test_arrow_allocates_from_the_heap_after_arrow_uses_the_heap() -> None:
    probe = (
        "import pyarrow as pa\n"
        "from grove.common.memory import arrow_uses_the_heap\n"
        "arrow_uses_the_heap()\n"
        "kept = pa.array(range(1000))\n"
        "print(pa.default_memory_pool().backend_name, pa.system_memory_pool().bytes_allocated() > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["system", "True"]
