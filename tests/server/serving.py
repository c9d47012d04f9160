"""Running ``grove serve`` as a real subprocess for the server tests, and the specs they submit.

``serving(home)`` starts ``grove --home HOME serve --port PORT`` on a free port, waits until
``/status/health`` answers, yields the base URL and on exit sends SIGTERM and waits for the exit.
:class:`ServerProcess` is the same server with its process in reach, for the tests that kill it.

The server runs in its own process group, so that :meth:`ServerProcess.kill` can take its ingestion
worker processes down with it, as a crash of the machine would, and so that nothing it started
outlives a test.

The suite runs with ``--import-mode=importlib``, which puts no test folder on ``sys.path``: the test
modules beside this file add their folder before ``import serving``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60


def grove_command() -> list[str]:
    script = Path(sys.executable).with_name("grove")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grove.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerProcess:
    """One ``grove serve`` subprocess over ``home``; :meth:`start` returns once it answers health checks.

    ``options`` are global settings flags placed before ``serve`` (``--query-concurrency``, ``1``).
    """

    def __init__(self, home: Path, *options: str) -> None:
        self.home = home
        self.options = options
        self.log = home.parent / f"{home.name}-serve.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        # Another process may take the free port before the server binds it: then try another one.
        for _attempt in range(3):
            self.port = free_port()
            if self._launch():
                return self
        raise AssertionError(f"grove serve did not start:\n{self.output()}")

    def _launch(self) -> bool:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GROVE_")}
        cmd = [*grove_command(), "--home", str(self.home), *self.options, "serve", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                cmd, cwd=self.home.parent, env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/status/health", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"grove serve did not answer within {START_TIMEOUT_S}s:\n{self.output()}")

    def terminate(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM (graceful shutdown) and wait; returns the exit code."""
        process = self._running()
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"grove serve ignored SIGTERM for {timeout}s:\n{self.output()}") from None
        finally:
            self._reap_group()

    def kill(self) -> None:
        """SIGKILL the server and every process it started (its ingestion workers)."""
        process = self._running()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _running(self) -> subprocess.Popen[bytes]:
        assert self.process is not None, "the server was never started"
        return self.process

    def _reap_group(self) -> None:
        # Worker processes normally exit with the server; a stuck one must not outlive the test.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._running().pid, signal.SIGKILL)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.terminate()
        elif self.process is not None:
            self._reap_group()


@contextlib.contextmanager
def serving(home: Path) -> Iterator[str]:
    """``grove --home HOME serve`` on a free port: yields its base URL, SIGTERM and wait on exit."""
    with ServerProcess(home) as server:
        yield server.url


# --- tasks ----------------------------------------------------------------------------------------------


def submit(client: httpx.Client, spec: dict[str, Any]) -> str:
    response = client.post("/druid/indexer/v1/task", json=spec)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["task"]
    return task_id


def wait_for_task(client: httpx.Client, task_id: str, timeout: float = 120) -> dict[str, Any]:
    """Poll the task's status until it is no longer RUNNING; returns the final status object."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/druid/indexer/v1/task/{task_id}/status")
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()["status"]
        if status["statusCode"] != "RUNNING":
            return status
        assert time.monotonic() < deadline, f"task [{task_id}] still running after {timeout}s"
        time.sleep(0.05)


def wait_queryable(client: httpx.Client, datasource: str = "wikipedia", attempts: int = 200) -> None:
    """Poll the broker until ``datasource`` is listed (published segments are picked up within a poll
    period); fails the test when it never shows up."""
    for _ in range(attempts):
        if datasource in client.get("/druid/v2/datasources").json():
            return
        time.sleep(0.05)
    pytest.fail(f"{datasource} never became queryable")


def ingest(client: httpx.Client, spec: dict[str, Any]) -> dict[str, Any]:
    """Submit a spec over HTTP and wait for it to succeed; returns the final status."""
    status = wait_for_task(client, submit(client, spec))
    assert status["statusCode"] == "SUCCESS", status
    return status


def query(client: httpx.Client, body: dict[str, Any]) -> Any:
    response = client.post("/druid/v2/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


# --- specs ----------------------------------------------------------------------------------------------


def wikipedia_spec() -> dict[str, Any]:
    """Druid's tutorial spec (examples/wikipedia-index.json) with only ``baseDir`` made absolute."""
    spec: dict[str, Any] = json.loads((REPO / "examples" / "wikipedia-index.json").read_text())
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = str(DATA)
    return spec


def inline_spec(datasource: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A small daily-segmented datasource from rows ``{"ts", "d", "n"}`` given inline."""
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": datasource,
                "timestampSpec": {"column": "ts", "format": "iso"},
                "dimensionsSpec": {"dimensions": ["d"]},
                "metricsSpec": [
                    {"type": "count", "name": "count"},
                    {"type": "longSum", "name": "n", "fieldName": "n"},
                ],
                "granularitySpec": {"segmentGranularity": "day", "queryGranularity": "none"},
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {
                    "type": "inline",
                    "data": "".join(orjson.dumps(r).decode() + "\n" for r in rows),
                },
                "inputFormat": {"type": "json"},
            },
        },
    }


def write_events(folder: Path, *, files: int = 4, rows_per_file: int = 75_000, seed: int = 7) -> Path:
    """Enough JSON-lines events (``events-*.json``, two days of 2026) that ingesting them takes a few
    seconds, so that a task can be caught while it runs."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    day_ms = 86_400_000
    for f in range(files):
        lines = []
        for i in range(rows_per_file):
            ms = rng.randrange(2 * day_ms)
            lines.append(
                f'{{"ts":{1_767_225_600_000 + ms},"user":"u{rng.randrange(10**9)}",'
                f'"page":"p{rng.randrange(200_000)}","country":"c{i % 50}","n":{rng.randrange(100)}}}\n'
            )
        (folder / f"events-{f}.json").write_text("".join(lines))
    return folder


def events_spec(datasource: str, folder: Path) -> dict[str, Any]:
    """A spec over the files of :func:`write_events`, without rollup (every event is a row)."""
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": datasource,
                "timestampSpec": {"column": "ts", "format": "millis"},
                "dimensionsSpec": {"dimensions": ["user", "page", "country"]},
                "metricsSpec": [{"type": "longSum", "name": "n", "fieldName": "n"}],
                "granularitySpec": {"segmentGranularity": "day", "queryGranularity": "none", "rollup": False},
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "local", "baseDir": str(folder), "filter": "events-*.json"},
                "inputFormat": {"type": "json"},
            },
            "tuningConfig": {"type": "index_parallel", "maxRowsInMemory": 50_000},
        },
    }
