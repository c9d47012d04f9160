"""segmentMetadata on every segment flavour, on Druid's tutorial data, and when merging segments.

Druid facts (docs/querying/segmentmetadataquery.md; SegmentAnalyzer, ColumnAnalysis, SegmentAnalysis,
SegmentMetadataQueryQueryToolChest): one analysis per segment with ``id``, ``intervals``, ``columns``
(sorted, ``__time`` included), ``size``, ``numRows``, ``aggregators``, ``timestampSpec``,
``queryGranularity`` and ``rollup``; default analyses ``cardinality``, ``interval``, ``minmax``;
string cardinality counts null when present and min/max come from the sorted dictionary (null first);
sizes estimate text (8 bytes per number, 10 per timestamp, UTF-8 bytes per value, one per row and
column); merging sums sizes and rows, keeps the largest cardinality, condenses intervals, names the
result ``merged`` and merges aggregators strictly (null on any conflict) or leniently (null per
conflicting column), turning each into its combining form.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from adsdata import INTERVAL, ROWS
from flavours import DAY, T0, Dataset, make_runner

import grove
from grove.errors import InvalidQuery
from grove.query.runner import QueryRunner

Run = Callable[[dict[str, Any]], list[Any]]
ROOT = Path(__file__).resolve().parents[3]
WIKI = ROOT / "tests" / "data" / "wikiticker-2015-09-12-sampled.json.gz"

STRINGS = ["campaign", "country", "device", "promo", "tags", "user"]
LONGS = ["age", "clicks", "count", "imp_max", "imp_min", "impressions"]
DOUBLES = ["bid", "spend", "spend_max", "spend_min"]
SKETCHES = {
    "users_hll": ("COMPLEX<HLLSketchBuild>", "HLLSketchBuild"),
    "users_hu": ("COMPLEX<hyperUnique>", "hyperUnique"),
    "users_theta": ("COMPLEX<thetaSketchBuild>", "thetaSketchBuild"),
}
ALL_ANALYSES = ["cardinality", "size", "interval", "aggregators", "minmax", "queryGranularity", "rollup"]


def metadata(datasource: Any = "ads", **fields: Any) -> dict[str, Any]:
    return {"queryType": "segmentMetadata", "dataSource": datasource, **fields}


def segment_rows(run: Run) -> dict[str, list[dict[str, Any]]]:
    """The rows of each segment (by id), read with scan in segment order."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    scan = {
        "queryType": "scan",
        "dataSource": "ads",
        "intervals": [INTERVAL],
        "columns": ["__time", *STRINGS],
    }
    for batch in run(scan):
        out[batch["segmentId"]].extend(batch["events"])
    return out


def string_facts(rows: list[dict[str, Any]], column: str) -> tuple[int, bool, Any, Any]:
    """(cardinality, hasNulls, minValue, maxValue) as Druid reports a string column."""
    values: list[Any] = []
    for r in rows:
        v = r[column]
        values.extend(v if isinstance(v, list) else [v])
    present = {v for v in values if v is not None}
    has_nulls = any(v is None for v in values)
    low = None if has_nulls or not present else min(present)
    return len(present) + has_nulls, has_nulls, low, max(present) if present else None


def test_default_analysis_per_segment(run: Run) -> None:
    _check_default_analysis(run)


def _check_default_analysis(run: Run) -> None:
    result = run(metadata(intervals=[INTERVAL]))
    rows = segment_rows(run)
    assert [r["id"] for r in result] == sorted(rows)
    assert sum(r["numRows"] for r in result) == len(ROWS)
    for analysis in result:
        seg_rows = rows[analysis["id"]]
        assert analysis["numRows"] == len(seg_rows)
        day = (seg_rows[0]["__time"] - T0) // DAY
        start = f"2020-01-0{day + 1}T00:00:00.000Z"
        assert analysis["intervals"] == [f"{start}/2020-01-0{day + 2}T00:00:00.000Z"]
        assert analysis["size"] == 0 and analysis["aggregators"] is None
        assert analysis["queryGranularity"] is None and analysis["rollup"] is None
        assert analysis["timestampSpec"] is None
        columns = analysis["columns"]
        assert list(columns) == sorted([*STRINGS, *LONGS, *DOUBLES, "ratio", "__time", *SKETCHES])
        for name in STRINGS:
            col = columns[name]
            facts = (col["cardinality"], col["hasNulls"], col["minValue"], col["maxValue"])
            assert facts == string_facts(seg_rows, name), name
            assert col["typeSignature"] == col["type"] == "STRING"
            assert col["hasMultipleValues"] == (name == "tags")
        for names, kind in ((LONGS, "LONG"), (DOUBLES, "DOUBLE"), (["ratio"], "FLOAT"), (["__time"], "LONG")):
            for name in names:
                col = columns[name]
                assert (col["typeSignature"], col["type"], col["cardinality"], col["minValue"]) == (
                    kind,
                    kind,
                    None,
                    None,
                )
        for name, (signature, type_name) in SKETCHES.items():
            assert (columns[name]["typeSignature"], columns[name]["type"]) == (signature, type_name)
        assert columns["age"]["hasNulls"] == any(
            r["age"] is None for r in ROWS if r["__time"] in {x["__time"] for x in seg_rows}
        )
        assert all(c["errorMessage"] is None for c in columns.values())


def test_merged_sizes_match_druids_formula(run: Run) -> None:
    [merged] = run(metadata(merge=True, analysisTypes=["size"]))
    n = len(ROWS)
    columns = merged["columns"]
    assert columns["__time"]["size"] == 10 * n
    assert all(columns[c]["size"] == 8 * n for c in [*LONGS, *DOUBLES, "ratio"])
    assert all(columns[c]["size"] == 0 for c in SKETCHES)
    for name in STRINGS:
        values = [v for r in ROWS for v in (r[name] if isinstance(r[name], list) else [r[name]])]
        assert columns[name]["size"] == sum(len(v.encode()) for v in values if v is not None), name
    assert merged["size"] == len(columns) * n + sum(c["size"] for c in columns.values())
    assert columns["country"]["cardinality"] == 0  # cardinality not asked for
    assert columns["country"]["minValue"] is None and columns["country"]["maxValue"] is None


def test_merge_folds_columns_and_intervals(run: Run) -> None:
    per_segment = run(metadata())
    [merged] = run(metadata(merge="true"))
    assert merged["id"] == "merged"
    assert merged["intervals"] == ["2020-01-01T00:00:00.000Z/2020-01-04T00:00:00.000Z"]
    assert merged["numRows"] == len(ROWS)
    for name in STRINGS:
        cols = [a["columns"][name] for a in per_segment]
        assert merged["columns"][name]["cardinality"] == max(c["cardinality"] for c in cols)
        assert merged["columns"][name]["hasNulls"] == any(c["hasNulls"] for c in cols)
        maxima = [c["maxValue"] for c in cols if c["maxValue"] is not None]
        assert merged["columns"][name]["maxValue"] == max(maxima)
    assert merged["columns"]["country"]["minValue"] is None  # null is the smallest value
    assert merged["columns"]["device"]["minValue"] == "desktop"


def test_to_include(run: Run) -> None:
    assert run(metadata(merge=True, toInclude={"type": "none"}))[0]["columns"] == {}
    listed = run(metadata(merge=True, toInclude={"type": "list", "columns": ["device", "__time", "nope"]}))
    assert list(listed[0]["columns"]) == ["__time", "device"]
    everything = run(metadata(merge=True, toInclude={"type": "all"}))
    assert len(everything[0]["columns"]) == 1 + len(STRINGS) + len(LONGS) + len(DOUBLES) + 1 + len(SKETCHES)


def test_aggregators_granularity_and_rollup(run: Run) -> None:
    one = run(metadata(intervals=["2020-01-01/2020-01-01T01"], analysisTypes=ALL_ANALYSES))[0]
    assert one["aggregators"]["count"] == {"type": "count", "name": "count"}
    assert one["aggregators"]["imp_min"] == {"type": "longMin", "name": "imp_min", "fieldName": "impressions"}
    assert one["queryGranularity"] == {"type": "none"} and one["rollup"] is False
    [merged] = run(metadata(merge=True, analysisTypes=ALL_ANALYSES))
    aggs = merged["aggregators"]
    assert aggs["count"] == {"type": "longSum", "name": "count", "fieldName": "count"}
    assert aggs["imp_min"] == {"type": "longMin", "name": "imp_min", "fieldName": "imp_min"}
    assert aggs["users_hll"]["type"] == "HLLSketchMerge" and aggs["users_hll"]["fieldName"] == "users_hll"
    [rolled] = run(metadata("ads_rollup", merge=True, analysisTypes=["queryGranularity", "rollup"]))
    assert rolled["queryGranularity"] == {
        "type": "period",
        "period": "P1D",
        "timeZone": "UTC",
        "origin": None,
    }
    assert rolled["rollup"] is True
    union = {"type": "union", "dataSources": ["ads", "ads_rollup"]}
    [both] = run(metadata(union, merge=True, analysisTypes=["queryGranularity", "rollup"]))
    assert both["queryGranularity"] is None and both["rollup"] is None


def test_empty_interval(run: Run) -> None:
    assert run(metadata(intervals=["2019-01-01/2019-01-02"])) == []
    assert run(metadata(intervals=["2019-01-01/2019-01-02"], merge=True)) == []


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"analysisTypes": ["cardinality", "everything"]}, "analysisTypes[1]"),
        ({"toInclude": {"type": "some"}}, "toInclude.type"),
        ({"toInclude": {"type": "list"}}, "toInclude.columns"),
        ({"merge": 3}, "merge"),
        ({"aggregatorMergeStrategy": "random"}, "aggregatorMergeStrategy"),
    ],
)
def test_bad_input_names_the_field(run: Run, fields: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        run(metadata(**fields))
    assert info.value.path == path, str(info.value)


# --- conflicting segments ------------------------------------------------------------------------------


def _dataset(name: str, kind: str, values: list[Any], agg: str) -> Dataset:
    table = pa.table(
        {
            "__time": pa.array([T0 + i * 1000 for i in range(len(values))], pa.int64()),
            "m": pa.array(values, pa.int64() if kind == "long" else pa.float64()),
            "d": pa.array(["x"] * len(values), pa.string()),
        }
    )
    return Dataset(name, table, dimensions=["d"], metrics=[{"type": agg, "name": "m", "fieldName": "m"}])


@pytest.fixture(scope="module", params=["incremental", "persisted", "merged"])
def conflicts(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QueryRunner]:
    datasets = [_dataset("a", "long", [1, 2], "longSum"), _dataset("b", "double", [1.5], "doubleSum")]
    runner = make_runner(datasets, request.param, tmp_path_factory.mktemp(f"conflicts-{request.param}"))
    yield runner
    runner.close()


@pytest.mark.parametrize(
    ("fields", "aggregators"),
    [
        ({}, None),
        ({"lenientAggregatorMerge": True}, {"m": None}),
        ({"aggregatorMergeStrategy": "lenient"}, {"m": None}),
        ({"aggregatorMergeStrategy": "earliest"}, {"m": {"type": "longSum", "name": "m", "fieldName": "m"}}),
        ({"aggregatorMergeStrategy": "latest"}, {"m": {"type": "doubleSum", "name": "m", "fieldName": "m"}}),
    ],
)
def test_conflicting_aggregators(conflicts: QueryRunner, fields: dict[str, Any], aggregators: Any) -> None:
    union = {"type": "union", "dataSources": ["a", "b"]}
    [merged] = conflicts.run(metadata(union, merge=True, analysisTypes=["aggregators"], **fields))
    assert merged["aggregators"] == aggregators
    assert merged["columns"]["m"]["errorMessage"] == "error:cannot_merge_diff_types: [LONG] and [DOUBLE]"
    assert merged["columns"]["d"]["errorMessage"] is None and merged["numRows"] == 3


# --- Druid's tutorial data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wikipedia(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    spec = json.loads((ROOT / "examples" / "wikipedia-index.json").read_text())
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = str(WIKI.parent)
    db = grove.open(str(tmp_path_factory.mktemp("wiki")))
    db.ingest(spec)
    yield db
    db.close()


def test_wikipedia_matches_duckdb(wikipedia: Any) -> None:
    [analysis] = wikipedia.query({"queryType": "segmentMetadata", "dataSource": "wikipedia"})
    assert analysis["numRows"] == 39244
    assert analysis["intervals"] == ["2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"]
    con = duckdb.connect()
    con.execute(f"CREATE VIEW wiki AS SELECT * FROM read_json_auto('{WIKI}')")
    for name in ("channel", "countryName", "cityName", "page", "user", "namespace"):
        distinct, nulls, low, high = con.execute(
            f'SELECT count(DISTINCT "{name}"), count(*) - count("{name}"), min("{name}"), max("{name}") FROM wiki'
        ).fetchone() or (0, 0, None, None)
        col = analysis["columns"][name]
        assert col["cardinality"] == distinct + (1 if nulls else 0), name
        assert col["hasNulls"] == bool(nulls), name
        assert col["minValue"] == (None if nulls else low) and col["maxValue"] == high, name
    con.close()
    assert analysis["columns"]["added"]["typeSignature"] == "LONG"
