"""`grove quickstart` end to end: sample data generated, ingested, queried; a second run reuses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _quickstart(home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "grove.cli.main",
            "--home",
            str(home),
            "quickstart",
            "--no-serve",
            "--rows",
            "20000",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_quickstart_generates_ingests_and_queries(tmp_path: Path) -> None:
    first = _quickstart(tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "sample" / "ads-0.json").exists()
    assert "Published 7 segment(s)" in first.stdout
    assert "Top 5 advertisers by spend" in first.stdout
    second = _quickstart(tmp_path)
    assert second.returncode == 0, second.stderr
    assert "already ingested" in second.stdout
    assert "Top 5 advertisers by spend" in second.stdout
