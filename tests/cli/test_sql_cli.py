"""``grove sql``: the real console script in a subprocess for the main paths, ``main()`` in process for
the rest. Output must be exactly what the Python API answers, in Druid's formats for ``json``/``csv``.
"""

from __future__ import annotations

import argparse
import csv
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
from grove.cli.sql import context_entry

ROWS = [
    {"ts": "2020-01-01T01:00:00Z", "page": "Main", "user": "ann", "added": 10},
    {"ts": "2020-01-01T02:00:00Z", "page": "Talk:[x]", "user": "bob", "added": 5},
    {"ts": "2020-01-02T03:00:00Z", "page": "Main", "user": "bob", "added": 7},
    {"ts": "2020-01-02T04:00:00Z", "page": "Help, me", "user": None, "added": 1},
]
BY_PAGE = "SELECT page, SUM(added) AS added, COUNT(*) AS edits FROM edits GROUP BY page ORDER BY added DESC"
BY_PAGE_ROWS = [["Main", 17, 2], ["Talk:[x]", 5, 1], ["Help, me", 1, 1]]


def spec() -> dict[str, Any]:
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": "edits",
                "timestampSpec": {"column": "ts", "format": "iso"},
                "dimensionsSpec": {"dimensions": ["page", "user"]},
                "metricsSpec": [{"type": "longSum", "name": "added", "fieldName": "added"}],
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


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("sql-cli") / "home"
    with grove.open(str(path)) as db:
        db.ingest(spec())
    yield path


def grove_sql(home: Path, *args: str, stdin: str | None = None) -> Run:
    script = Path(sys.executable).with_name("grove")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "grove.cli.main"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROVE_")}
    proc = subprocess.run(
        [*command, "--home", str(home), "sql", *args],
        input=stdin,
        cwd=home.parent,
        env={**env, "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def in_process(home: Path, *args: str, capsys: pytest.CaptureFixture[str], stdin: str = "") -> Run:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(console, "width", 250)
        mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        code = main(["--home", str(home), "sql", *args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def one_line_error(run: Run) -> str:
    assert run.code == 1, run.out
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("grove: error: "), run.err
    assert run.out == ""
    return lines[0]


def test_console_script_json_and_stdin(home: Path) -> None:
    run = grove_sql(home, BY_PAGE, "--output", "json")
    assert run.code == 0, run.err
    # Druid's object result format, as POST /druid/v2/sql/ answers it.
    assert (
        run.out
        == orjson.dumps(
            [dict(zip(["page", "added", "edits"], r, strict=True)) for r in BY_PAGE_ROWS]
        ).decode()
        + "\n"
    )
    run = grove_sql(home, "-", "--output", "json", stdin="SELECT COUNT(*) AS c FROM edits")
    assert run.code == 0, run.err
    assert json.loads(run.out) == [{"c": 4}]
    assert "nope" in one_line_error(grove_sql(home, "SELECT * FROM nope"))


def test_the_same_rows_as_the_python_api(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with grove.open(str(home)) as db:
        expected = db.sql(BY_PAGE)
    assert expected.rows == BY_PAGE_ROWS
    run = in_process(home, BY_PAGE, "--output", "json", capsys=capsys)
    assert run.code == 0, run.err
    assert [list(r.values()) for r in json.loads(run.out)] == expected.rows


def test_table_output(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = in_process(home, BY_PAGE, capsys=capsys)
    assert run.code == 0, run.err
    assert "3 row(s)" in run.out
    for cell in ("page", "added", "edits", "Main", "17", "Talk:[x]", "Help, me"):
        assert cell in run.out, cell


def test_table_shows_nulls_blank(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = in_process(home, "SELECT user, page FROM edits WHERE page = 'Help, me'", capsys=capsys)
    assert run.code == 0, run.err
    assert "1 row(s)" in run.out and "None" not in run.out and "null" not in run.out


def test_csv_output(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = in_process(home, BY_PAGE, "--output", "csv", capsys=capsys)
    assert run.code == 0, run.err
    # Druid's csv format with a header row: quoted where needed, then a blank line.
    assert run.out == 'page,added,edits\nMain,17,2\nTalk:[x],5,1\n"Help, me",1,1\n\n'
    assert list(csv.reader(io.StringIO(run.out.rstrip("\n")))) == [
        ["page", "added", "edits"],
        *[[str(v) for v in r] for r in BY_PAGE_ROWS],
    ]


def test_context(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    top = "SELECT page, SUM(added) AS added FROM edits GROUP BY page ORDER BY added DESC LIMIT 2"
    for flags in (
        [],
        ["--context", "useApproximateTopN=false"],
        ["--context", "sqlQueryId=cli-1", "--context", "x=1"],
    ):
        run = in_process(home, top, "--output", "json", *flags, capsys=capsys)
        assert run.code == 0, run.err
        assert json.loads(run.out) == [{"page": "Main", "added": 17}, {"page": "Talk:[x]", "added": 5}]


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("useApproximateTopN=false", ("useApproximateTopN", False)),
        ("timeout=5000", ("timeout", 5000)),
        ("sqlTimeZone=America/Los_Angeles", ("sqlTimeZone", "America/Los_Angeles")),
        ('name="quoted"', ("name", "quoted")),
        ("empty=", ("empty", "")),
        ("a=b=c", ("a", "b=c")),
    ],
)
def test_context_entries(text: str, entry: tuple[str, Any]) -> None:
    assert context_entry(text) == entry


@pytest.mark.parametrize("text", ["novalue", "=x", " =x"])
def test_bad_context_entries(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        context_entry(text)


def test_bad_context_flag_is_a_usage_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--home", str(home), "sql", "SELECT 1", "--context", "novalue"])
    assert e.value.code == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_errors_are_one_line(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def error(*args: str, stdin: str = "") -> str:
        return one_line_error(in_process(home, *args, capsys=capsys, stdin=stdin))

    assert "empty" in error("   ")
    assert "empty" in error("-", stdin="\n")
    assert "nope" in error("SELECT nope FROM edits")
    assert "nowhere" in error("SELECT * FROM nowhere")
    assert error("SELEC page FROM edits")


def test_help_lists_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sql", "--help"])
    out = capsys.readouterr().out
    assert "--output" in out and "--context" in out and "KEY=VALUE" in out
