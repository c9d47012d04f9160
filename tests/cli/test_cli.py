"""The ``grove`` command, driven as users drive it: the real console script in a subprocess.

Every call starts a fresh Python (about a second and a half), so each test strings a few calls into a
user's session over its own home folder rather than paying for one call per assertion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq

from grove.metadata.store import MetadataStore

REPO = Path(__file__).resolve().parents[2]
SEGMENT_KEYS = {
    "id",
    "dataSource",
    "namespace",
    "interval",
    "version",
    "partition",
    "used",
    "size",
    "numRows",
}
T0 = "2020-01-01"


def grove_command() -> list[str]:
    script = Path(sys.executable).with_name("grove")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grove.cli.main"]


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def grove(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Run:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GROVE_")}
    proc = subprocess.run(
        [*grove_command(), *map(str, args)],
        cwd=cwd,
        env={**base, "COLUMNS": "250", **(env or {})},  # wide enough that tables never fold
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def ok(run: Run) -> Run:
    assert run.code == 0, run.err
    return run


def failed(run: Run) -> str:
    """The one-line error of a failed command."""
    assert run.code != 0
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("grove: error: ")
    assert run.out == ""
    return lines[0]


def small_spec(datasource: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": datasource,
                "timestampSpec": {"column": "ts", "format": "iso"},
                "dimensionsSpec": {"dimensions": ["d"]},
                "metricsSpec": [{"type": "count", "name": "count"}],
                "granularitySpec": {"segmentGranularity": "day", "queryGranularity": "none"},
            },
            "ioConfig": {
                "inputSource": {
                    "type": "inline",
                    "data": "".join(orjson.dumps(r).decode() + "\n" for r in rows),
                },
                "inputFormat": {"type": "json"},
            },
        },
    }


def write_spec(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(json.dumps(spec))
    return path


def ads_spec(data_dir: Path, fmt: str, datasource: str) -> dict[str, Any]:
    name = "ads-index-parquet.json" if fmt == "parquet" else "ads-index.json"
    spec: dict[str, Any] = json.loads((REPO / "examples" / name).read_text())
    spec["spec"]["dataSchema"]["dataSource"] = datasource
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = str(data_dir)
    return spec


# --- generate, ingest, list -------------------------------------------------------------------------


def test_generate_ingest_and_list_json_and_parquet(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    generate = ["generate", "ads", "--rows", "3000", "--days", "1", "--seed", "5", "--out"]
    summary = ok(grove(*generate, "data/ads-0.json", "--output", "json", cwd=tmp_path)).json()
    assert summary["rows"] == 3000 and summary["format"] == "json"
    lines = (tmp_path / "data" / "ads-0.json").read_text().splitlines()
    assert len(lines) == 3000
    assert {"timestamp", "advertiser_id", "user_id", "impressions", "spend_micros"} <= set(
        json.loads(lines[0])
    )
    run = ok(grove(*generate, "data/ads-0.parquet", cwd=tmp_path))
    assert "3,000 ad events" in run.out
    table = pq.read_table(tmp_path / "data" / "ads-0.parquet")
    assert table.num_rows == 3000
    assert sum(table.column("impressions").to_pylist()) == summary["impressions"]

    # Ingest the JSON lines with JSON output, the Parquet (same events) with the table.
    json_spec = write_spec(tmp_path / "json.json", ads_spec(tmp_path / "data", "json", "ads"))
    report = ok(grove(*home, "ingest", json_spec, "--output", "json", cwd=tmp_path)).json()
    assert report["dataSource"] == "ads" and report["rowStats"]["processed"] == 3000
    [segment] = report["segments"]
    assert segment["id"].startswith("ads_2026-01-01T00:00:00.000Z_2026-01-02T00:00:00.000Z_")
    assert segment["numRows"] == report["rowsAfterRollup"] > 0
    parquet_spec = write_spec(
        tmp_path / "parquet.json", ads_spec(tmp_path / "data", "parquet", "ads_parquet")
    )
    printed = ok(grove(*home, "ingest", parquet_spec, cwd=tmp_path)).out
    assert "Published 1 segment(s) of [ads_parquet]" in printed
    assert "rows read 3,000" in printed

    listed = ok(grove(*home, "segments", "list", "--output", "json", cwd=tmp_path)).json()
    assert all(set(s) == SEGMENT_KEYS for s in listed)
    by_ds = {s["dataSource"]: s for s in listed}
    assert sorted(by_ds) == ["ads", "ads_parquet"]
    ads = by_ds["ads"]
    assert (
        ads["id"] == segment["id"] and ads["numRows"] == segment["numRows"] and ads["size"] == segment["size"]
    )
    assert (ads["namespace"], ads["partition"], ads["used"]) == ("", 0, True)
    assert ads["interval"] == "2026-01-01T00:00:00.000Z/2026-01-02T00:00:00.000Z"
    assert ads["id"].endswith(ads["version"])
    # The same events through Parquet roll up to the same rows as through JSON.
    assert by_ds["ads_parquet"]["numRows"] == ads["numRows"]
    assert by_ds["ads_parquet"]["id"] in printed
    assert f"{ads['numRows']:,}" in printed

    assert ok(grove(*home, "datasources", "--output", "json", cwd=tmp_path)).json() == ["ads", "ads_parquet"]


def test_reingest_list_all_and_revert(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    spec = write_spec(
        tmp_path / "spec.json", small_spec("wiki", [{"ts": T0, "d": "a"}, {"ts": T0, "d": "b"}])
    )
    first = ok(grove(*home, "ingest", spec, "--output", "json", cwd=tmp_path)).json()
    second = ok(grove(*home, "ingest", spec, "--output", "json", cwd=tmp_path)).json()
    [a], [b] = first["segments"], second["segments"]
    assert b["version"] > a["version"]
    assert second["overshadowed"] == [a["id"]]

    run = ok(
        grove(*home, "segments", "revert", "--datasource", "wiki", "--interval", a["interval"],
              "--to-version", a["version"], "--output", "json", cwd=tmp_path)
    )  # fmt: skip
    assert run.json() == {"markedUsed": [a["id"]], "markedUnused": [b["id"]]}
    listed = grove(
        *home, "segments", "list", "--datasource", "wiki", "--all", "--output", "json", cwd=tmp_path
    )
    assert {s["id"]: s["used"] for s in ok(listed).json()} == {a["id"]: True, b["id"]: False}
    table = ok(grove(*home, "segments", "list", "--all", cwd=tmp_path)).out
    assert "2 segment(s)" in table
    assert a["version"] in table and b["version"] in table


# --- global options -----------------------------------------------------------------------------------


def test_metadata_url_and_deep_storage_options(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.json", small_spec("opt", [{"ts": T0, "d": "a"}]))
    meta, deep = tmp_path / "elsewhere" / "meta.db", tmp_path / "elsewhere" / "deep"
    options: list[str | Path] = [
        "--home",
        tmp_path / "home",
        "--metadata-url",
        f"sqlite:///{meta}",
        "--deep-storage",
        f"file://{deep}",
    ]
    [segment] = ok(grove(*options, "ingest", spec, "--output", "json", cwd=tmp_path)).json()["segments"]
    assert meta.is_file()
    assert not (tmp_path / "home" / "metadata.db").exists()
    assert any(p.name == "segment.grove" for p in deep.rglob("*"))
    assert not (tmp_path / "home" / "deep-storage").exists()
    listed = ok(grove(*options, "segments", "list", "--output", "json", cwd=tmp_path)).json()
    assert [s["id"] for s in listed] == [segment["id"]]
    # The same home without those options sees another (empty) metadata store.
    assert ok(grove("--home", tmp_path / "home", "datasources", cwd=tmp_path)).out == ""


def test_home_from_grove_home_and_the_default(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.json", small_spec("env", [{"ts": T0, "d": "a"}]))
    ok(grove("ingest", spec, "--quiet", cwd=tmp_path, env={"GROVE_HOME": str(tmp_path / "from-env")}))
    assert (tmp_path / "from-env" / "metadata.db").is_file()
    assert not (tmp_path / "var").exists()
    with MetadataStore(f"sqlite:///{tmp_path / 'from-env' / 'metadata.db'}") as store:
        assert store.datasources() == ["env"]
    # Neither --home nor GROVE_HOME: ./var under the working folder.
    assert ok(grove("datasources", "--output", "json", cwd=tmp_path)).json() == []
    assert (tmp_path / "var" / "metadata.db").is_file()


# --- errors -------------------------------------------------------------------------------------------


def test_errors_exit_non_zero_with_one_line(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    message = failed(grove(*home, "ingest", tmp_path / "missing.json", cwd=tmp_path))
    assert "missing.json" in message

    (tmp_path / "broken.json").write_text('{"type": "index_parallel", "spec": {')
    assert "Malformed JSON" in failed(grove(*home, "ingest", tmp_path / "broken.json", cwd=tmp_path))

    bad = small_spec("x", [{"ts": T0}])
    bad["spec"]["dataSchema"]["metricsSpec"] = [
        {"type": "count", "name": "c"},
        {"type": "longSumm", "name": "y"},
    ]
    message = failed(grove(*home, "ingest", write_spec(tmp_path / "bad.json", bad), cwd=tmp_path))
    assert "[longSumm]" in message and "spec.dataSchema.metricsSpec[1].type" in message

    message = failed(
        grove(*home, "segments", "revert", "--datasource", "nope", "--interval", "2020-01-01/2020-01-02",
              "--to-version", "2020-01-01T00:00:00.000Z", cwd=tmp_path)
    )  # fmt: skip
    assert "[nope]" in message


def test_spec_from_standard_input(tmp_path: Path) -> None:
    spec = json.dumps(small_spec("stdin", [{"ts": T0, "d": "a"}]))
    proc = subprocess.run(
        [*grove_command(), "--home", str(tmp_path / "home"), "ingest", "-", "--output", "json"],
        input=spec,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("GROVE_")},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["dataSource"] == "stdin"
