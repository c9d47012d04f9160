"""grove.ingest.sample: realistic generated ads events, and the example specs that load them."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from grove.common.time import parse_timestamp
from grove.errors import InvalidInput, StorageError
from grove.ingest.sample import ADS_SCHEMA, generate_ads, write_ads

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DATA = ROOT / "tests" / "data"

COLUMNS = [
    "timestamp",
    "advertiser_id",
    "campaign_id",
    "ad_group_id",
    "pin_id",
    "country",
    "device",
    "placement",
    "user_id",
    "impressions",
    "clicks",
    "spend_micros",
]
DIMENSIONS = ["advertiser_id", "campaign_id", "ad_group_id", "pin_id", "country", "device", "placement"]
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def week() -> pa.Table:
    """200k events over a week, in chunks of 64k rows, as one table."""
    return pa.concat_tables(generate_ads(200_000, 7, 11, chunk_rows=65_536))


def _per(table: pa.Table, key: str, value: str) -> pa.Table:
    return table.group_by(key).aggregate([(value, "count_distinct")])


# --------------------------------------------------------------------------------------------------
# Shape


def test_schema_and_types(week: pa.Table) -> None:
    assert week.schema == ADS_SCHEMA
    assert week.column_names == COLUMNS
    for name in COLUMNS[:9]:
        assert week.schema.field(name).type == pa.string()
    for name in COLUMNS[9:]:
        assert week.schema.field(name).type == pa.int64()
    assert all(week.column(name).null_count == 0 for name in COLUMNS)


def test_id_formats(week: pa.Table) -> None:
    patterns = {
        "advertiser_id": r"adv_\d{6}",
        "campaign_id": r"cmp_\d{7}",
        "ad_group_id": r"ag_\d{8}",
        "pin_id": r"pin_\d{12}",
        "user_id": r"u_\d{11}",
        "country": r"[A-Z]{2}",
    }
    sample = week.slice(0, 5_000)
    for name, pattern in patterns.items():
        assert pc.all(pc.match_substring_regex(sample.column(name), f"^{pattern}$")).as_py(), name
    assert set(pc.unique(week.column("device")).to_pylist()) == {"mobile", "desktop", "tablet", "tv"}
    assert set(pc.unique(week.column("placement")).to_pylist()) == {
        "feed",
        "search",
        "related",
        "video",
        "shopping",
    }
    assert 35 <= len(pc.unique(week.column("country"))) <= 45


@pytest.mark.parametrize(("rows", "chunk_rows"), [(1, 10), (999, 1_000), (1_000, 1_000), (5_003, 1_000)])
def test_row_counts_exact(rows: int, chunk_rows: int) -> None:
    sizes = [t.num_rows for t in generate_ads(rows, 2, 3, chunk_rows=chunk_rows)]
    assert sum(sizes) == rows
    assert all(0 < size <= chunk_rows for size in sizes)
    assert sizes[:-1] == [chunk_rows] * (len(sizes) - 1)


def test_zero_rows_yields_nothing() -> None:
    assert list(generate_ads(0, 1, 1)) == []


# --------------------------------------------------------------------------------------------------
# Determinism


def test_same_seed_same_tables() -> None:
    first = list(generate_ads(20_000, 3, 7, chunk_rows=6_000))
    second = list(generate_ads(20_000, 3, 7, chunk_rows=6_000))
    assert len(first) == len(second) == 4
    assert all(a.equals(b) for a, b in zip(first, second, strict=True))


def test_different_seed_differs() -> None:
    a = pa.concat_tables(generate_ads(5_000, 3, 7))
    b = pa.concat_tables(generate_ads(5_000, 3, 8))
    assert not a.equals(b)
    assert a.column("pin_id").to_pylist() != b.column("pin_id").to_pylist()


@pytest.mark.parametrize("suffix", [".json", ".json.gz", ".parquet"])
def test_same_seed_same_bytes(tmp_path: Path, suffix: str) -> None:
    one = write_ads(tmp_path / f"a{suffix}", 30_000, 2, 5)
    two = write_ads(tmp_path / f"b{suffix}", 30_000, 2, 5)
    other = write_ads(tmp_path / f"c{suffix}", 30_000, 2, 6)
    assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()
    assert (tmp_path / f"a{suffix}").read_bytes() != (tmp_path / f"c{suffix}").read_bytes()
    assert {k: v for k, v in one.items() if k != "path"} == {k: v for k, v in two.items() if k != "path"}
    assert other["rows"] == 30_000


# --------------------------------------------------------------------------------------------------
# Distributions


def test_hierarchy_is_consistent(week: pa.Table) -> None:
    for child, parent in [
        ("pin_id", "ad_group_id"),
        ("pin_id", "campaign_id"),
        ("pin_id", "advertiser_id"),
        ("ad_group_id", "campaign_id"),
        ("campaign_id", "advertiser_id"),
    ]:
        counts = _per(week, child, parent).column(f"{parent}_count_distinct")
        assert pc.max(counts).as_py() == 1, (child, parent)
    # Parents own several children: the hierarchy is not one-to-one.
    assert pc.max(_per(week, "advertiser_id", "campaign_id").column(1)).as_py() > 10
    assert pc.max(_per(week, "campaign_id", "ad_group_id").column(1)).as_py() > 2
    assert pc.max(_per(week, "ad_group_id", "pin_id").column(1)).as_py() > 2


def test_hierarchy_holds_across_chunks_and_runs_of_one_seed() -> None:
    # The same seed and row count give the same entity universe whatever the chunking.
    a = pa.concat_tables(generate_ads(30_000, 2, 4, chunk_rows=7_000))
    b = pa.concat_tables(generate_ads(30_000, 2, 4, chunk_rows=30_000))
    both = pa.concat_tables([a, b])
    assert pc.max(_per(both, "pin_id", "advertiser_id").column(1)).as_py() == 1
    assert pc.max(_per(both, "pin_id", "ad_group_id").column(1)).as_py() == 1


def test_advertisers_are_skewed(week: pa.Table) -> None:
    counts = np.sort(pc.value_counts(week.column("advertiser_id")).field("counts").to_numpy())[::-1]
    rows = week.num_rows
    assert 300 <= counts.size <= 5_000
    assert 0.05 < counts[0] / rows < 0.25  # one huge advertiser
    assert 0.3 < counts[:10].sum() / rows < 0.6  # the top ten take a large share
    assert counts[0] > 50 * np.median(counts)  # and a long tail


def test_advertiser_count_scales_with_rows() -> None:
    small = pa.concat_tables(generate_ads(20_000, 1, 1))
    assert 200 <= len(pc.unique(small.column("advertiser_id"))) <= 300
    # isqrt(1M) = 1,000 advertisers exist; nearly all of them show up in a million events.
    (large,) = generate_ads(1_000_000, 1, 1)
    assert 950 <= len(pc.unique(large.column("advertiser_id"))) <= 1_000


def test_country_device_placement_are_skewed(week: pa.Table) -> None:
    def shares(name: str) -> dict[str, float]:
        vc = pc.value_counts(week.column(name))
        counts = vc.field("counts").to_numpy()
        return dict(zip(vc.field("values").to_pylist(), counts / counts.sum(), strict=True))

    country = shares("country")
    assert max(country, key=lambda k: country[k]) == "US"
    assert 0.3 < country["US"] < 0.4
    device = shares("device")
    assert device["mobile"] > device["desktop"] > device["tablet"] > device["tv"]
    placement = shares("placement")
    assert max(placement, key=lambda k: placement[k]) == "feed"


def test_pin_cardinality_is_high(week: pa.Table) -> None:
    assert len(pc.unique(week.column("pin_id"))) > 10_000


def test_users_repeat_and_reach_is_below_events(week: pa.Table) -> None:
    users = pc.value_counts(week.column("user_id")).field("counts").to_numpy()
    assert users.size < week.num_rows / 3
    assert users.max() > 10  # heavy users exist
    assert users.max() < 100 * users.mean()  # but activity is capped
    advertisers = pc.value_counts(week.column("advertiser_id"))
    top = advertisers.field("values")[int(np.argmax(advertisers.field("counts").to_numpy()))].as_py()
    events = week.filter(pc.equal(week.column("advertiser_id"), top))
    reach = len(pc.unique(events.column("user_id")))
    assert reach < 0.95 * events.num_rows
    # A user lives in one country.
    assert pc.max(_per(week, "user_id", "country").column(1)).as_py() == 1


def test_metrics(week: pa.Table) -> None:
    impressions = week.column("impressions").to_numpy()
    clicks = week.column("clicks").to_numpy()
    spend = week.column("spend_micros").to_numpy()
    assert impressions.min() >= 1
    assert 0.8 < (impressions == 1).mean() < 0.9
    assert (clicks >= 0).all() and (clicks <= impressions).all()
    assert (spend >= 0).all()
    assert 0.005 < clicks.sum() / impressions.sum() < 0.03
    cpm_dollars = spend.sum() / impressions.sum() / 1_000
    assert 2 < cpm_dollars < 15


def test_ctr_depends_on_placement(week: pa.Table) -> None:
    per = week.group_by("placement").aggregate([("clicks", "sum"), ("impressions", "sum")]).to_pylist()
    ctr = {r["placement"]: r["clicks_sum"] / r["impressions_sum"] for r in per}
    assert ctr["search"] > ctr["feed"] > ctr["video"]


def test_cpm_depends_on_country(week: pa.Table) -> None:
    per = week.group_by("country").aggregate([("spend_micros", "sum"), ("impressions", "sum")]).to_pylist()
    cpm = {r["country"]: r["spend_micros_sum"] / r["impressions_sum"] for r in per}
    assert cpm["US"] > 5 * cpm["IN"]


# --------------------------------------------------------------------------------------------------
# Time


def test_timestamp_text_is_iso_millis_utc(week: pa.Table) -> None:
    sample = week.column("timestamp").to_pylist()[::997]
    for text in sample:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", text), text
        assert parse_timestamp(text) >= 0


def test_time_range(week: pa.Table) -> None:
    start = parse_timestamp("2026-01-01")
    ms = np.array([parse_timestamp(t) for t in week.column("timestamp").to_pylist()[::50]])
    assert ms.min() >= start and ms.max() < start + 7 * DAY_MS
    assert ms.max() - ms.min() > 6.5 * DAY_MS  # the whole week is covered


def test_time_range_with_start_instant() -> None:
    table = pa.concat_tables(generate_ads(20_000, 2, 1, start="2026-03-01T12:00:00Z", chunk_rows=3_000))
    ms = np.array([parse_timestamp(t) for t in table.column("timestamp").to_pylist()])
    start = parse_timestamp("2026-03-01T12:00:00Z")
    assert ms.min() >= start and ms.max() < start + 2 * DAY_MS


def test_diurnal_pattern(week: pa.Table) -> None:
    hours = pc.cast(pc.utf8_slice_codeunits(week.column("timestamp"), 11, 13), pa.int64()).to_numpy()
    per_hour = np.bincount(hours, minlength=24)
    assert per_hour[20] > 2.5 * per_hour[8]  # US afternoon vs. the quiet hours


def test_rows_are_roughly_but_not_strictly_ordered() -> None:
    table = pa.concat_tables(generate_ads(50_000, 1, 2, chunk_rows=10_000))
    ms = np.array([parse_timestamp(t) for t in table.column("timestamp").to_pylist()])
    steps = np.diff(ms)
    assert (steps < 0).any()  # late events: not sorted
    assert (steps < -5_000).mean() < 0.03  # but only a little out of order
    # Chunks follow each other in time.
    chunk_starts = ms[::10_000]
    assert (np.diff(chunk_starts) > 0).all()


# --------------------------------------------------------------------------------------------------
# Files


def test_json_lines_round_trip_parquet(tmp_path: Path) -> None:
    json_summary = write_ads(tmp_path / "ads.json", 25_000, 2, 9)
    parquet_summary = write_ads(tmp_path / "ads.parquet", 25_000, 2, 9)
    lines = (tmp_path / "ads.json").read_bytes().splitlines()
    assert len(lines) == 25_000
    rows = [orjson.loads(line) for line in lines]
    assert list(rows[0]) == COLUMNS
    parquet = pq.read_table(tmp_path / "ads.parquet")
    assert parquet.schema.remove_metadata() == ADS_SCHEMA
    assert rows == parquet.to_pylist()
    assert parquet.equals(pa.concat_tables(generate_ads(25_000, 2, 9)))
    for key in ("rows", "advertisers", "campaigns", "ad_groups", "pins", "users", "impressions", "clicks"):
        assert json_summary[key] == parquet_summary[key], key


def test_parquet_row_groups(tmp_path: Path) -> None:
    write_ads(tmp_path / "ads.parquet", 1_500_001, 1, 1)
    meta = pq.ParquetFile(tmp_path / "ads.parquet").metadata
    assert meta.num_rows == 1_500_001
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1_000_000, 500_001]
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_json_gz_is_gzipped_json(tmp_path: Path) -> None:
    write_ads(tmp_path / "ads.json", 10_000, 1, 3)
    write_ads(tmp_path / "ads.json.gz", 10_000, 1, 3)
    assert gzip.decompress((tmp_path / "ads.json.gz").read_bytes()) == (tmp_path / "ads.json").read_bytes()


def test_summary_matches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "still" / "ads-0.parquet"  # missing folders are created
    summary = write_ads(path, 40_000, 3, 2, start="2026-02-01")
    table = pq.read_table(path)
    assert summary["path"] == str(path)
    assert summary["format"] == "parquet"
    assert summary["rows"] == table.num_rows == 40_000
    assert summary["bytes"] == path.stat().st_size
    assert summary["start"] == "2026-02-01T00:00:00.000Z"
    assert summary["end"] == "2026-02-04T00:00:00.000Z"
    for key, column in [
        ("advertisers", "advertiser_id"),
        ("campaigns", "campaign_id"),
        ("ad_groups", "ad_group_id"),
        ("pins", "pin_id"),
        ("users", "user_id"),
    ]:
        assert summary[key] == len(pc.unique(table.column(column))), key
    for key in ("impressions", "clicks", "spend_micros"):
        assert summary[key] == pc.sum(table.column(key)).as_py(), key
    assert [p.name for p in path.parent.iterdir()] == ["ads-0.parquet"]  # no temporary file left


def test_zero_rows_file(tmp_path: Path) -> None:
    summary = write_ads(tmp_path / "empty.json", 0, 1, 1)
    assert summary["rows"] == 0 and summary["advertisers"] == 0
    assert (tmp_path / "empty.json").read_bytes() == b""
    write_ads(tmp_path / "empty.parquet", 0, 1, 1)
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


@pytest.mark.parametrize("name", ["ads.csv", "ads", "ads.gz", "ads.json.bz2", "ads.parquet.zst", ".json"])
def test_unsupported_suffix(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(f"[{tmp_path / name}]")):
        write_ads(tmp_path / name, 10, 1, 1)
    assert not list(tmp_path.iterdir())


def test_unwritable_path(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StorageError, match="Cannot write sample data"):
        write_ads(tmp_path / "file" / "ads.json", 10, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rows": -1}, "rows"),
        ({"days": 0}, "days"),
        ({"seed": -1}, "seed"),
        ({"chunk_rows": 0}, "chunk_rows"),
        ({"chunk_rows": 100_000_000}, "chunk_rows"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, int], field: str) -> None:
    args = {"rows": 10, "days": 1, "seed": 1, "chunk_rows": 10} | kwargs
    with pytest.raises(InvalidInput) as info:
        generate_ads(args["rows"], args["days"], args["seed"], chunk_rows=args["chunk_rows"])
    assert info.value.path == field


def test_invalid_start() -> None:
    with pytest.raises(InvalidInput, match="Invalid timestamp"):
        generate_ads(10, 1, 1, start="yesterday")


def test_invalid_arguments_write_nothing(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        write_ads(tmp_path / "sub" / "ads.json", 10, 0, 1)
    assert not (tmp_path / "sub").exists()


# --------------------------------------------------------------------------------------------------
# Example specs


def _load(name: str) -> dict[str, object]:
    data = json.loads((EXAMPLES / name).read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("name", "pattern", "fmt"),
    [("ads-index.json", "ads-*.json", "json"), ("ads-index-parquet.json", "ads-*.parquet", "parquet")],
)
def test_ads_example_specs(name: str, pattern: str, fmt: str) -> None:
    task = _load(name)
    assert task["type"] == "index_parallel"
    spec = task["spec"]
    assert isinstance(spec, dict)
    schema, io, tuning = spec["dataSchema"], spec["ioConfig"], spec["tuningConfig"]
    assert schema["dataSource"] == "ads"
    assert schema["timestampSpec"] == {"column": "timestamp", "format": "iso"}
    assert schema["dimensionsSpec"]["dimensions"] == DIMENSIONS
    metrics = {m["name"]: m for m in schema["metricsSpec"]}
    assert metrics["count"] == {"type": "count", "name": "count"}
    for column in ("impressions", "clicks", "spend_micros"):
        assert metrics[column] == {"type": "longSum", "name": column, "fieldName": column}
    assert metrics["reach"]["type"] == "HLLSketchBuild"
    assert metrics["reach"]["fieldName"] == "user_id"
    granularity = schema["granularitySpec"]
    assert (granularity["segmentGranularity"], granularity["queryGranularity"], granularity["rollup"]) == (
        "day",
        "hour",
        True,
    )
    assert io["type"] == "index_parallel"
    assert io["inputSource"] == {"type": "local", "baseDir": "var/sample", "filter": pattern}
    assert io["inputFormat"]["type"] == fmt
    assert tuning["type"] == "index_parallel"
    assert tuning["partitionsSpec"]["type"] in ("dynamic", "hashed")
    assert tuning["partitionsSpec"]["maxRowsPerSegment"] == 5_000_000
    # Every column the spec reads is one the generator writes.
    read = {m["fieldName"] for m in schema["metricsSpec"] if "fieldName" in m}
    assert read | set(DIMENSIONS) | {"timestamp"} <= set(ADS_SCHEMA.names)


def test_wikipedia_example_spec() -> None:
    task = _load("wikipedia-index.json")
    assert task["type"] == "index_parallel"
    spec = task["spec"]
    assert isinstance(spec, dict)
    schema, io = spec["dataSchema"], spec["ioConfig"]
    assert schema["dataSource"] == "wikipedia"
    assert schema["timestampSpec"] == {"column": "time", "format": "iso"}
    assert schema["granularitySpec"]["intervals"] == ["2015-09-12/2015-09-13"]
    assert schema["granularitySpec"]["rollup"] is False
    assert io["inputSource"] == {
        "type": "local",
        "baseDir": "tests/data",
        "filter": "wikiticker-2015-09-12-sampled.json.gz",
    }
    assert io["inputFormat"] == {"type": "json"}
    assert (ROOT / io["inputSource"]["baseDir"] / io["inputSource"]["filter"]).is_file()


def test_tutorial_data_is_present_and_documented() -> None:
    readme = (DATA / "README.md").read_text()
    for name in (
        "wikiticker-2015-09-12-sampled.json.gz",
        "rollup-data.json",
        "transform-data.json",
        "updates-data.json",
        "updates-data2.json",
        "updates-data3.json",
        "updates-data4.json",
        "null_example.jsonl",
        "ingestion-tutorial-data.json",
    ):
        assert (DATA / name).is_file(), name
        assert name in readme or name.startswith("updates-data"), name
    with gzip.open(DATA / "wikiticker-2015-09-12-sampled.json.gz") as f:
        assert sum(1 for _ in f) == 39_244


@pytest.mark.parametrize("name", ["ads-index.json", "ads-index-parquet.json", "wikipedia-index.json"])
def test_example_specs_parse(name: str) -> None:
    spec_module = pytest.importorskip("grove.ingest.spec")
    spec = spec_module.IngestionSpec.parse((EXAMPLES / name).read_bytes())
    assert spec.type == "index_parallel"
    assert spec.data_source == ("wikipedia" if name.startswith("wikipedia") else "ads")
