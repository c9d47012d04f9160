"""`grove quickstart` end to end: sample data generated, ingested, queried; a second run reuses it."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def test_served_quickstart_prints_examples_that_work(tmp_path: Path) -> None:
    """The curl commands quickstart prints (native and SQL) answer against the server it starts."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grove.cli.main",
            "--home",
            str(tmp_path),
            "quickstart",
            "--rows",
            "20000",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # A hung quickstart is killed, which ends its output and fails the test below.
    guard = threading.Timer(240, proc.kill)
    guard.start()
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not any(line.startswith("API docs:") for line in lines):
            line = proc.stdout.readline()
            assert line, "quickstart ended before printing its examples:\n" + "".join(lines)
            lines.append(line)
        commands = [line.strip() for line in lines if line.startswith("curl ")]
        assert len(commands) == 2, lines
        for command in commands:
            found = re.fullmatch(r"curl -s -X POST -H '[^']*' '([^']+)' -d '(.+)'", command)
            assert found is not None, command
            url, body = found.groups()
            answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=60)
            assert answer.status_code == 200, answer.text
            assert answer.json(), command
        top = httpx.post(
            f"http://localhost:{port}/druid/v2/sql/",
            json={"query": "SELECT SUM(clicks) FROM ads", "resultFormat": "array"},
            timeout=60,
        ).json()
        by_country = httpx.post(
            url, content=body, headers={"Content-Type": "application/json"}, timeout=60
        ).json()
        assert sum(r["clicks"] for r in by_country) <= top[0][0]
    finally:
        guard.cancel()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
