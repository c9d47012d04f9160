"""``grove query``: the real console script in a subprocess for the main paths, ``main()`` in process
for the rest (a fresh interpreter costs seconds).

One home folder is ingested once for the module (through ``grove.open``); every test only reads it.
Results must be exactly what the Python API returns for the same query.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

import grove
from grove.cli.main import main
from grove.cli.output import console

ROWS = [
    {"ts": "2020-01-01T01:00:00Z", "page": "Main", "user": "ann", "added": 10},
    {"ts": "2020-01-01T02:00:00Z", "page": "Talk:[x]", "user": "bob", "added": 5},
    {"ts": "2020-01-02T03:00:00Z", "page": "Main", "user": "bob", "added": 7},
    {"ts": "2020-01-02T04:00:00Z", "page": "Help", "user": None, "added": 1},
]
INTERVAL = "2020-01-01/2020-01-03"


def spec() -> dict[str, Any]:
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": "edits",
                "timestampSpec": {"column": "ts", "format": "iso"},
                "dimensionsSpec": {"dimensions": ["page", "user"]},
                "metricsSpec": [
                    {"type": "count", "name": "count"},
                    {"type": "longSum", "name": "added", "fieldName": "added"},
                ],
                "granularitySpec": {"segmentGranularity": "day", "queryGranularity": "none", "rollup": False},
            },
            "ioConfig": {
                "inputSource": {
                    "type": "inline",
                    "data": "".join(orjson.dumps(r).decode() + "\n" for r in ROWS),
                },
                "inputFormat": {"type": "json"},
            },
        },
    }


QUERIES: dict[str, dict[str, Any]] = {
    "timeseries": {
        "queryType": "timeseries",
        "dataSource": "edits",
        "intervals": [INTERVAL],
        "granularity": "day",
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
    },
    "topN": {
        "queryType": "topN",
        "dataSource": "edits",
        "intervals": [INTERVAL],
        "dimension": "page",
        "metric": "added",
        "threshold": 2,
        "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
    },
    "groupBy": {
        "queryType": "groupBy",
        "dataSource": "edits",
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimensions": ["user"],
        "aggregations": [{"type": "count", "name": "rows"}],
    },
    "scan": {
        "queryType": "scan",
        "dataSource": "edits",
        "intervals": [INTERVAL],
        "columns": ["__time", "page", "added"],
    },
    "compacted": {
        "queryType": "scan",
        "dataSource": "edits",
        "intervals": [INTERVAL],
        "columns": ["page", "user"],
        "resultFormat": "compactedList",
    },
    "timeBoundary": {"queryType": "timeBoundary", "dataSource": "edits"},
}


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("query-cli") / "home"
    with grove.open(str(path)) as db:
        db.ingest(spec())
    yield path


@pytest.fixture(scope="module")
def expected(home: Path) -> dict[str, list[Any]]:
    with grove.open(str(home)) as db:
        return {name: db.query(q) for name, q in QUERIES.items()}


def grove_query(home: Path, *args: str | Path, stdin: str | None = None, cwd: Path | None = None) -> Run:
    script = Path(sys.executable).with_name("grove")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "grove.cli.main"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROVE_")}
    proc = subprocess.run(
        [*command, "--home", str(home), "query", *map(str, args)],
        input=stdin,
        cwd=cwd or home.parent,
        env={**env, "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def one_line_error(run: Run) -> str:
    assert run.code == 1, run.out
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("grove: error: "), run.err
    assert run.out == ""
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def in_process(home: Path, *args: str | Path, capsys: pytest.CaptureFixture[str], stdin: str = "") -> Run:
    """``grove --home HOME query ARGS`` through ``main()``, with tables as wide as the subprocess gets."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(console, "width", 250)
        mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        code = main(["--home", str(home), "query", *map(str, args)])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def test_console_script_prints_druid_json(home: Path, expected: dict[str, list[Any]], tmp_path: Path) -> None:
    run = grove_query(home, write(tmp_path / "scan.json", json.dumps(QUERIES["scan"])))
    assert run.code == 0, run.err
    assert json.loads(run.out) == expected["scan"]
    run = grove_query(home, "-", "--output", "json", stdin=json.dumps(QUERIES["topN"]))
    assert run.code == 0, run.err
    assert json.loads(run.out) == expected["topN"]
    unknown = {**QUERIES["scan"], "dataSource": "nope"}
    assert "Unknown datasource [nope]" in one_line_error(grove_query(home, "-", stdin=json.dumps(unknown)))


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_json_output_is_the_api_result(
    home: Path, expected: dict[str, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    run = in_process(home, write(tmp_path / "q.json", json.dumps(QUERIES[name])), capsys=capsys)
    assert run.code == 0, run.err
    assert json.loads(run.out) == expected[name]


@pytest.mark.parametrize(
    ("name", "cells"),
    [
        (
            "timeseries",
            ["timestamp", "rows", "added", "2020-01-01T00:00:00.000Z", "15", "2020-01-02T00:00:00.000Z", "8"],
        ),
        ("topN", ["timestamp", "page", "added", "Main", "17", "Talk:[x]"]),
        ("groupBy", ["timestamp", "user", "rows", "ann", "bob", "2"]),
        ("scan", ["__time", "page", "added", "1577840400000", "Talk:[x]", "Help"]),
        ("compacted", ["page", "user", "Talk:[x]", "bob"]),
    ],
)
def test_table_output(home: Path, capsys: pytest.CaptureFixture[str], name: str, cells: list[str]) -> None:
    run = in_process(home, "-", "--output", "table", capsys=capsys, stdin=json.dumps(QUERIES[name]))
    assert run.code == 0, run.err
    assert "row(s)" in run.out
    for cell in cells:
        assert cell in run.out, cell


def test_table_output_falls_back_to_json(
    home: Path, expected: dict[str, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    run = in_process(home, "-", "--output", "table", capsys=capsys, stdin=json.dumps(QUERIES["timeBoundary"]))
    assert run.code == 0, run.err
    assert json.loads(run.out) == expected["timeBoundary"]


def test_errors_are_one_line(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def error(*args: str | Path, stdin: str = "") -> str:
        return one_line_error(in_process(home, *args, capsys=capsys, stdin=stdin))

    assert "Malformed JSON" in error(write(tmp_path / "bad.json", "{not json"))
    assert "must be a JSON object" in error("-", stdin="[1, 2]")
    missing = error(tmp_path / "absent.json")
    assert "Cannot read query file" in missing and "absent.json" in missing
    assert "at limit" in error("-", stdin=json.dumps({**QUERIES["scan"], "limit": -3}))
    bad_agg = {
        **QUERIES["timeseries"],
        "aggregations": [{"type": "longSumm", "name": "x", "fieldName": "added"}],
    }
    assert "aggregations[0].type" in error("-", stdin=json.dumps(bad_agg))
    assert "Unknown datasource [nope]" in error(
        "-", stdin=json.dumps({**QUERIES["scan"], "dataSource": "nope"})
    )
    assert "queryType" in error("-", stdin=json.dumps({"dataSource": "edits"}))
