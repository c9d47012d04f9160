"""The ingestion spec: Druid's tutorial specs parse and round-trip; every bad input names its path."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from grove.common.granularity import Granularity
from grove.common.intervals import Interval
from grove.errors import InvalidInput, InvalidSpec, Unsupported
from grove.ingest.spec import (
    CsvInputFormat,
    DataSchema,
    DimensionSchema,
    DynamicPartitionsSpec,
    ExpressionTransform,
    HashedPartitionsSpec,
    IngestionSpec,
    InlineInputSource,
    JsonInputFormat,
    LocalInputSource,
    ParquetInputFormat,
    TsvInputFormat,
    UnsupportedSpec,
)
from grove.query.spec.aggregators import CountAggregator, NumericAggregator
from grove.query.spec.filters import OrFilter

DATASETS = Path("/work/shared/datasets")

# Druid's quickstart wikipedia spec (inputSource form), reading the shared copy of its sample data.
WIKIPEDIA: dict[str, Any] = {
    "type": "index_parallel",
    "spec": {
        "dataSchema": {
            "dataSource": "wikipedia",
            "timestampSpec": {"column": "time", "format": "iso"},
            "dimensionsSpec": {
                "dimensions": [
                    "channel",
                    "cityName",
                    "comment",
                    "countryIsoCode",
                    "countryName",
                    "isAnonymous",
                    "isMinor",
                    "isNew",
                    "isRobot",
                    "isUnpatrolled",
                    "metroCode",
                    "namespace",
                    "page",
                    "regionIsoCode",
                    "regionName",
                    "user",
                    {"name": "added", "type": "long"},
                    {"name": "deleted", "type": "long"},
                    {"name": "delta", "type": "long"},
                ]
            },
            "metricsSpec": [],
            "granularitySpec": {
                "type": "uniform",
                "segmentGranularity": "day",
                "queryGranularity": "none",
                "intervals": ["2015-09-12/2015-09-13"],
                "rollup": False,
            },
        },
        "ioConfig": {
            "type": "index_parallel",
            "inputSource": {
                "type": "local",
                "baseDir": str(DATASETS),
                "filter": "wikiticker-2015-09-12-sampled.json.gz",
            },
            "inputFormat": {"type": "json"},
            "appendToExisting": False,
        },
        "tuningConfig": {
            "type": "index_parallel",
            "partitionsSpec": {"type": "dynamic"},
            "maxRowsInMemory": 25000,
        },
    },
}

# Druid's legacy quickstart spec (parser and firehose), as it shipped before 0.17.
LEGACY_WIKIPEDIA: dict[str, Any] = {
    "type": "index",
    "spec": {
        "dataSchema": {
            "dataSource": "wikipedia",
            "parser": {
                "type": "string",
                "parseSpec": {
                    "format": "json",
                    "dimensionsSpec": {"dimensions": ["channel", "page", {"name": "added", "type": "long"}]},
                    "timestampSpec": {"column": "time", "format": "iso"},
                },
            },
            "metricsSpec": [],
            "granularitySpec": {
                "type": "uniform",
                "segmentGranularity": "day",
                "queryGranularity": "none",
                "intervals": ["2015-09-12/2015-09-13"],
                "rollup": False,
            },
        },
        "ioConfig": {
            "type": "index",
            "firehose": {
                "type": "local",
                "baseDir": "quickstart/tutorial/",
                "filter": "wikiticker-2015-09-12-sampled.json.gz",
            },
            "appendToExisting": False,
        },
        "tuningConfig": {"type": "index", "maxRowsPerSegment": 5000000, "maxRowsInMemory": 25000},
    },
}

# Druid's transform tutorial.
TRANSFORM: dict[str, Any] = {
    "type": "index_parallel",
    "spec": {
        "dataSchema": {
            "dataSource": "transform-tutorial",
            "timestampSpec": {"column": "timestamp", "format": "iso"},
            "dimensionsSpec": {"dimensions": ["animal", {"name": "location", "type": "long"}]},
            "metricsSpec": [
                {"type": "count", "name": "count"},
                {"type": "longSum", "name": "number", "fieldName": "number"},
                {"type": "longSum", "name": "triple-number", "fieldName": "triple-number"},
            ],
            "granularitySpec": {
                "type": "uniform",
                "segmentGranularity": "day",
                "queryGranularity": "minute",
                "intervals": ["2018-01-01/2018-01-03"],
                "rollup": True,
            },
            "transformSpec": {
                "transforms": [
                    {"type": "expression", "name": "animal", "expression": "concat('super-', animal)"},
                    {"type": "expression", "name": "triple-number", "expression": "number * 3"},
                ],
                "filter": {
                    "type": "or",
                    "fields": [
                        {"type": "selector", "dimension": "animal", "value": "super-mongoose"},
                        {"type": "selector", "dimension": "triple-number", "value": "300"},
                        {"type": "selector", "dimension": "location", "value": "3"},
                    ],
                },
            },
        },
        "ioConfig": {
            "type": "index_parallel",
            "inputSource": {"type": "local", "baseDir": str(DATASETS), "filter": "transform-data.json"},
            "inputFormat": {"type": "json"},
            "appendToExisting": False,
        },
        "tuningConfig": {"type": "index_parallel", "maxRowsPerSegment": 5000000, "maxRowsInMemory": 25000},
    },
}

# The example at the top of Druid's ingestion spec reference (with a flattenSpec).
REFERENCE_EXAMPLE: dict[str, Any] = {
    "type": "index_parallel",
    "spec": {
        "dataSchema": {
            "dataSource": "wikipedia",
            "timestampSpec": {"column": "timestamp", "format": "auto"},
            "dimensionsSpec": {"dimensions": ["page", "language", {"type": "long", "name": "userId"}]},
            "metricsSpec": [
                {"type": "count", "name": "count"},
                {"type": "doubleSum", "name": "bytes_added_sum", "fieldName": "bytes_added"},
                {"type": "doubleSum", "name": "bytes_deleted_sum", "fieldName": "bytes_deleted"},
            ],
            "granularitySpec": {
                "segmentGranularity": "day",
                "queryGranularity": "none",
                "intervals": ["2013-08-31/2013-09-01"],
            },
        },
        "ioConfig": {
            "type": "index_parallel",
            "inputSource": {
                "type": "local",
                "baseDir": "examples/indexing/",
                "filter": "wikipedia_data.json",
            },
            "inputFormat": {
                "type": "json",
                "flattenSpec": {
                    "useFieldDiscovery": True,
                    "fields": [{"type": "path", "name": "userId", "expr": "$.user.id"}],
                },
            },
        },
        "tuningConfig": {"type": "index_parallel"},
    },
}

# A spec as Druid itself stores it (explicit nulls, YEAR, {"type": "none"}, empty transformSpec).
STORED_BY_DRUID: dict[str, Any] = {
    "type": "index_parallel",
    "id": "index_parallel_lineitem_2018-04-20T22:12:43.610Z",
    "spec": {
        "dataSchema": {
            "dataSource": "lineitem",
            "timestampSpec": {"column": "l_shipdate", "format": "yyyy-MM-dd"},
            "dimensionsSpec": {"dimensions": ["l_orderkey", "l_partkey", "l_shipmode", "l_comment"]},
            "metricsSpec": [
                {"type": "count", "name": "count"},
                {"type": "longSum", "name": "l_quantity", "fieldName": "l_quantity", "expression": None},
                {"type": "doubleSum", "name": "l_tax", "fieldName": "l_tax", "expression": None},
            ],
            "granularitySpec": {
                "type": "uniform",
                "segmentGranularity": "YEAR",
                "queryGranularity": {"type": "none"},
                "rollup": True,
                "intervals": ["1980-01-01T00:00:00.000Z/2020-01-01T00:00:00.000Z"],
            },
            "transformSpec": {"filter": None, "transforms": []},
        },
        "ioConfig": {
            "type": "index_parallel",
            "inputSource": {"type": "local", "baseDir": "/path/to/data/", "filter": "lineitem.tbl.5"},
            "inputFormat": {
                "type": "tsv",
                "delimiter": "|",
                "columns": [
                    "l_orderkey",
                    "l_partkey",
                    "l_shipmode",
                    "l_comment",
                    "l_quantity",
                    "l_tax",
                    "l_shipdate",
                ],
            },
            "appendToExisting": False,
        },
        "tuningConfig": {
            "type": "index_parallel",
            "maxRowsInMemory": 1000000,
            "maxTotalRows": 20000000,
            "partitionsSpec": None,
        },
    },
    "context": {"priority": 50},
}


def spec_with(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``base`` (WIKIPEDIA) with the dotted ``path`` set (or deleted when value is DELETE)."""
    doc = copy.deepcopy(base or WIKIPEDIA)
    node: Any = doc
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


DELETE = object()


def same_message(actual: str, expected: str) -> bool:
    """Expected messages ending in ``...`` pin only their start: the rest is worded by another module."""
    assert "\x00" not in actual
    return actual.startswith(expected[:-3]) if expected.endswith("...") else actual == expected


def parse_fails(data: Any) -> InvalidSpec:
    with pytest.raises(InvalidSpec) as info:
        IngestionSpec.parse(data)
    return info.value


# --- documented specs -------------------------------------------------------------------------------


def test_wikipedia_tutorial_spec() -> None:
    spec = IngestionSpec.parse(WIKIPEDIA)
    assert spec.type == "index_parallel"
    assert spec.data_source == "wikipedia"
    assert spec.namespace == ""
    schema = spec.spec.data_schema
    assert schema.timestamp_spec.column == "time" and schema.timestamp_spec.format == "iso"
    dims = schema.dimensions_spec.dimensions
    assert len(dims) == 19
    assert dims[0] == DimensionSchema(name="channel")
    assert dims[16] == DimensionSchema(type="long", name="added")
    assert schema.dimensions_spec.names[-1] == "delta"
    assert not schema.dimensions_spec.is_schemaless
    assert schema.metrics_spec == ()
    gran = schema.granularity_spec
    assert gran.segment_granularity == Granularity.parse("day")
    assert gran.query_granularity == Granularity.parse("none")
    assert gran.rollup is False
    assert gran.intervals == (Interval.parse("2015-09-12/2015-09-13"),)
    io = spec.spec.io_config
    assert io.input_source == LocalInputSource(
        base_dir=str(DATASETS), filter="wikiticker-2015-09-12-sampled.json.gz"
    )
    assert io.input_format == JsonInputFormat()
    assert (io.append_to_existing, io.drop_existing) == (False, False)
    tuning = spec.spec.tuning_config
    assert tuning.max_rows_in_memory == 25000
    assert tuning.partitions_spec == DynamicPartitionsSpec()
    assert tuning.effective_max_rows_per_segment == 5_000_000
    assert tuning.max_parse_exceptions == 2**31 - 1
    assert tuning.max_num_concurrent_sub_tasks == 1


def test_wikipedia_spec_matches_its_data() -> None:
    spec = IngestionSpec.parse(WIKIPEDIA)
    source = spec.spec.io_config.input_source
    assert isinstance(source, LocalInputSource) and source.base_dir is not None
    with gzip.open(Path(source.base_dir) / source.filter, "rt") as f:
        row = json.loads(f.readline())
    assert spec.spec.data_schema.timestamp_spec.column in row
    assert set(spec.spec.data_schema.dimensions_spec.names) <= set(row)


@pytest.mark.parametrize(
    "doc",
    [WIKIPEDIA, TRANSFORM, REFERENCE_EXAMPLE, STORED_BY_DRUID],
    ids=["wiki", "transform", "reference", "stored"],
)
def test_documented_specs_round_trip(doc: dict[str, Any]) -> None:
    spec = IngestionSpec.parse(doc)
    out = spec.to_json()
    assert IngestionSpec.parse(out) == spec
    assert IngestionSpec.parse(json.dumps(out)) == spec
    assert out["spec"]["dataSchema"]["dataSource"] == doc["spec"]["dataSchema"]["dataSource"]


def test_transform_tutorial_spec() -> None:
    spec = IngestionSpec.parse(TRANSFORM)
    transform = spec.spec.data_schema.transform_spec
    assert transform is not None
    assert transform.transforms[0] == ExpressionTransform(
        name="animal", expression="concat('super-', animal)"
    )
    assert isinstance(transform.filter, OrFilter)
    assert transform.filter.required_columns() == {"animal", "triple-number", "location"}
    metrics = spec.spec.data_schema.metrics_spec
    assert metrics[0] == CountAggregator(name="count")
    assert isinstance(metrics[2], NumericAggregator) and metrics[2].required_fields() == {"triple-number"}
    assert spec.spec.data_schema.granularity_spec.query_granularity == Granularity.parse("minute")


def test_reference_example_keeps_flatten_spec() -> None:
    spec = IngestionSpec.parse(REFERENCE_EXAMPLE)
    fmt = spec.spec.io_config.input_format
    assert isinstance(fmt, JsonInputFormat)
    assert fmt.flatten_spec == REFERENCE_EXAMPLE["spec"]["ioConfig"]["inputFormat"]["flattenSpec"]
    assert spec.spec.data_schema.granularity_spec.type == "uniform"


def test_spec_stored_by_druid() -> None:
    spec = IngestionSpec.parse(STORED_BY_DRUID)
    assert spec.id == STORED_BY_DRUID["id"]
    assert spec.context == {"priority": 50}
    schema = spec.spec.data_schema
    assert schema.granularity_spec.segment_granularity == Granularity.parse("year")
    assert schema.granularity_spec.query_granularity == Granularity.parse("none")
    assert schema.transform_spec is not None and schema.transform_spec.filter is None
    fmt = spec.spec.io_config.input_format
    assert isinstance(fmt, TsvInputFormat) and fmt.delimiter == "|" and not fmt.uses_header
    assert spec.spec.tuning_config.partitions_spec == DynamicPartitionsSpec()


def test_legacy_parser_and_firehose_are_refused() -> None:
    err = parse_fails(LEGACY_WIKIPEDIA)
    assert isinstance(err, UnsupportedSpec) and isinstance(err, Unsupported)
    assert err.path == "spec.dataSchema.parser"
    assert err.message.startswith(
        "Unsupported [parser] at spec.dataSchema.parser: the legacy [parser] is not supported"
    )
    no_parser = spec_with("spec.dataSchema.parser", DELETE, LEGACY_WIKIPEDIA)
    no_parser["spec"]["dataSchema"]["timestampSpec"] = {"column": "time"}
    err = parse_fails(no_parser)
    assert isinstance(err, UnsupportedSpec)
    assert err.path == "spec.ioConfig.firehose"
    assert (
        err.message
        == "Unsupported [firehose] at spec.ioConfig.firehose: firehoses were removed from Druid; use inputSource"
    )


def test_single_dim_partitions_from_the_docs_are_unsupported() -> None:
    doc = spec_with(
        "spec.tuningConfig",
        {
            "type": "index_parallel",
            "partitionsSpec": {
                "type": "single_dim",
                "partitionDimension": "country",
                "targetRowsPerSegment": 5000000,
            },
            "maxNumConcurrentSubTasks": 2,
        },
    )
    err = parse_fails(doc)
    assert isinstance(err, UnsupportedSpec)
    assert err.path == "spec.tuningConfig.partitionsSpec.type"
    assert err.message == (
        "Unsupported partitionsSpec type [single_dim] at spec.tuningConfig.partitionsSpec.type: "
        "range partitioning is not supported by grove; use dynamic or hashed"
    )


# --- input shapes -----------------------------------------------------------------------------------


def test_json_text_and_bytes() -> None:
    text = json.dumps(WIKIPEDIA, indent=2)
    assert IngestionSpec.parse(text) == IngestionSpec.parse(WIKIPEDIA)
    assert IngestionSpec.parse(text.encode()) == IngestionSpec.parse(WIKIPEDIA)
    spec = IngestionSpec.parse(WIKIPEDIA)
    assert IngestionSpec.parse(spec) is spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"type": "index_parallel",\n  "spec": {,}}',
            "Malformed JSON: Expecting property name enclosed in double quotes at line 2, column 12",
        ),
        ('{"type": "index_parallel"', "Malformed JSON: Expecting ',' delimiter at line 1, column 26"),
        ("", "Malformed JSON: Expecting value at line 1, column 1"),
        (b'{"type": "\xff"}', "Malformed JSON: the text is not valid UTF-8"),
    ],
)
def test_malformed_json(text: str | bytes, message: str) -> None:
    err = parse_fails(text)
    assert type(err) is InvalidSpec
    assert err.message == message
    assert err.path == ""


@pytest.mark.parametrize("data", ["[1, 2]", "42", '"spec"', "null", [1], 5])
def test_top_level_must_be_an_object(data: Any) -> None:
    err = parse_fails(data)
    assert err.message == "Invalid ingestion spec at the top level: expected a JSON object"
    assert err.path == ""


def test_spec_must_be_an_object() -> None:
    err = parse_fails({"type": "index_parallel", "spec": ["dataSchema"]})
    assert err.message == "Invalid value at spec: expected an object"
    assert err.path == "spec"
    err = parse_fails({"type": "index_parallel"})
    assert err.message == "Missing required field [spec] at spec"


def test_bare_body_is_wrapped_and_paths_are_as_written() -> None:
    body = copy.deepcopy(WIKIPEDIA["spec"])
    spec = IngestionSpec.parse(body)
    assert spec.type == "index_parallel"
    assert spec == IngestionSpec.parse(WIKIPEDIA)
    body["ioConfig"]["type"] = "index"
    assert IngestionSpec.parse(body).type == "index"
    body["dataSchema"]["metricsSpec"] = [{"type": "longSumm", "name": "x"}]
    err = parse_fails(body)
    assert err.message == "Unknown aggregator type [longSumm] at dataSchema.metricsSpec[0].type"
    assert err.path == "dataSchema.metricsSpec[0].type"


def test_legacy_top_level_task_form() -> None:
    legacy = {"type": "index", **copy.deepcopy(WIKIPEDIA["spec"]), "context": {"priority": 1}}
    spec = IngestionSpec.parse(legacy)
    assert spec.type == "index"
    assert spec.context == {"priority": 1}
    legacy["type"] = "index_hadoop"
    err = parse_fails(legacy)
    assert isinstance(err, UnsupportedSpec)
    assert err.path == "type"
    # An old Kafka supervisor spec: the task type is reported, not its (different) ioConfig.
    kafka = {"type": "kafka", "dataSchema": legacy["dataSchema"], "ioConfig": {"topic": "wikipedia"}}
    err = parse_fails(kafka)
    assert isinstance(err, UnsupportedSpec)
    assert err.message.startswith("Unsupported task type [kafka] at type: ")
    err = parse_fails({**legacy, "type": "indx"})
    assert type(err) is InvalidSpec
    assert err.message == "Unknown task type [indx] at type: expected index_parallel or index"


def test_unknown_fields_are_ignored_everywhere() -> None:
    doc = copy.deepcopy(WIKIPEDIA)
    doc["someTaskField"] = 1
    doc["spec"]["extra"] = {"x": 1}
    doc["spec"]["dataSchema"]["futureOption"] = True
    doc["spec"]["dataSchema"]["dimensionsSpec"]["spatialDimensions"] = []
    doc["spec"]["dataSchema"]["dimensionsSpec"]["dimensions"][16]["somethingNew"] = "x"
    doc["spec"]["ioConfig"]["inputFormat"]["assumeNewlineDelimited"] = True
    doc["spec"]["tuningConfig"]["indexSpec"] = {"bitmap": {"type": "roaring"}}
    doc["spec"]["tuningConfig"]["splitHintSpec"] = {"type": "maxSize", "maxSplitSize": 1}
    assert IngestionSpec.parse(doc) == IngestionSpec.parse(WIKIPEDIA)


def test_explicit_nulls_mean_defaults() -> None:
    doc = copy.deepcopy(WIKIPEDIA)
    schema = doc["spec"]["dataSchema"]
    schema.update({"dimensionsSpec": None, "metricsSpec": None, "transformSpec": None, "namespace": None})
    schema["granularitySpec"] = {"segmentGranularity": None, "queryGranularity": None, "intervals": None}
    doc["spec"]["tuningConfig"] = None
    spec = IngestionSpec.parse(doc)
    assert spec.spec.data_schema.dimensions_spec.is_schemaless
    assert spec.spec.data_schema.granularity_spec.segment_granularity == Granularity.parse("day")
    assert spec.spec.data_schema.granularity_spec.intervals is None
    assert spec.spec.tuning_config.max_rows_per_segment == 5_000_000


# --- dataSchema details -----------------------------------------------------------------------------


def test_dimension_schemas() -> None:
    dims = [
        "a",
        {"name": "b", "type": "double"},
        {"name": "c", "multiValueHandling": "sorted_set", "createBitmapIndex": False},
    ]
    spec = IngestionSpec.parse(spec_with("spec.dataSchema.dimensionsSpec.dimensions", dims))
    a, b, c = spec.spec.data_schema.dimensions_spec.dimensions
    assert (a.type, a.multi_value_handling, a.create_bitmap_index) == ("string", "SORTED_ARRAY", True)
    assert b.type == "double"
    assert (c.type, c.multi_value_handling, c.create_bitmap_index) == ("string", "SORTED_SET", False)
    assert DimensionSchema.model_validate("x") == DimensionSchema(name="x")


def test_schemaless_dimensions() -> None:
    spec = IngestionSpec.parse(
        spec_with(
            "spec.dataSchema.dimensionsSpec",
            {"dimensionExclusions": ["comment"], "includeAllDimensions": False},
        )
    )
    dims = spec.spec.data_schema.dimensions_spec
    assert dims.is_schemaless and dims.dimension_exclusions == ("comment",)
    assert IngestionSpec.parse(
        spec_with("spec.dataSchema.dimensionsSpec", DELETE)
    ).spec.data_schema.dimensions_spec.is_schemaless


def test_timestamp_spec() -> None:
    spec = IngestionSpec.parse(spec_with("spec.dataSchema.timestampSpec", {}))
    ts = spec.spec.data_schema.timestamp_spec
    assert (ts.column, ts.format, ts.missing_value, ts.missing_value_millis) == (
        "timestamp",
        "auto",
        None,
        None,
    )
    spec = IngestionSpec.parse(
        spec_with(
            "spec.dataSchema.timestampSpec",
            {"column": "t", "format": "millis", "missingValue": "2010-01-01T00:00:00Z"},
        )
    )
    assert spec.spec.data_schema.timestamp_spec.missing_value_millis == 1262304000000
    spec = IngestionSpec.parse(spec_with("spec.dataSchema.timestampSpec", {"missingValue": 1262304000000}))
    assert spec.spec.data_schema.timestamp_spec.missing_value_millis == 1262304000000


def test_namespace_is_grove_extension() -> None:
    spec = IngestionSpec.parse(spec_with("spec.dataSchema.namespace", "campaign-metrics.v2"))
    assert spec.namespace == "campaign-metrics.v2"
    assert spec.to_json()["spec"]["dataSchema"]["namespace"] == "campaign-metrics.v2"


def test_granularity_spec_forms() -> None:
    spec = IngestionSpec.parse(
        spec_with(
            "spec.dataSchema.granularitySpec",
            {
                "segmentGranularity": {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"},
                "queryGranularity": "PT1H",
                "intervals": ["2015-09-12/P1D"],
            },
        )
    )
    gran = spec.spec.data_schema.granularity_spec
    assert gran.rollup is True
    assert gran.segment_granularity.to_json() == {
        "type": "period",
        "period": "P1D",
        "timeZone": "America/Los_Angeles",
    }
    assert gran.intervals == (Interval.parse("2015-09-12/2015-09-13"),)
    arbitrary = spec_with(
        "spec.dataSchema.granularitySpec", {"type": "arbitrary", "intervals": ["2015-09-12/2015-09-13"]}
    )
    assert IngestionSpec.parse(arbitrary).spec.data_schema.granularity_spec.type == "arbitrary"


# --- ioConfig details -------------------------------------------------------------------------------


def test_input_sources_and_formats() -> None:
    spec = IngestionSpec.parse(
        spec_with(
            "spec.ioConfig",
            {
                "type": "index_parallel",
                "inputSource": {"type": "inline", "data": "a,b\n1,2"},
                "inputFormat": {"type": "csv", "findColumnsFromHeader": True},
            },
        )
    )
    io = spec.spec.io_config
    assert io.input_source == InlineInputSource(data="a,b\n1,2")
    assert isinstance(io.input_format, CsvInputFormat) and io.input_format.uses_header
    files = IngestionSpec.parse(
        spec_with("spec.ioConfig.inputSource", {"type": "local", "files": ["/a.json", "/b.json"]})
    )
    source = files.spec.io_config.input_source
    assert isinstance(source, LocalInputSource)
    assert (source.base_dir, source.filter, source.files) == (None, "*", ("/a.json", "/b.json"))
    csv = IngestionSpec.parse(
        spec_with(
            "spec.ioConfig.inputFormat",
            {"type": "csv", "columns": ["time", "page"], "skipHeaderRows": 1, "listDelimiter": "|"},
        )
    )
    fmt = csv.spec.io_config.input_format
    assert isinstance(fmt, CsvInputFormat)
    assert (fmt.columns, fmt.skip_header_rows, fmt.list_delimiter, fmt.uses_header) == (
        ("time", "page"),
        1,
        "|",
        False,
    )
    legacy_header = IngestionSpec.parse(
        spec_with("spec.ioConfig.inputFormat", {"type": "tsv", "hasHeaderRow": True})
    )
    tsv = legacy_header.spec.io_config.input_format
    assert isinstance(tsv, TsvInputFormat) and tsv.uses_header and tsv.delimiter == "\t"
    parquet = IngestionSpec.parse(
        spec_with("spec.ioConfig.inputFormat", {"type": "parquet", "binaryAsString": True})
    )
    assert parquet.spec.io_config.input_format == ParquetInputFormat(binary_as_string=True)


# --- tuningConfig details ---------------------------------------------------------------------------


def test_partitions_and_effective_values() -> None:
    tuning = IngestionSpec.parse(
        spec_with("spec.tuningConfig", {"maxRowsPerSegment": 100})
    ).spec.tuning_config
    assert tuning.effective_max_rows_per_segment == 100
    tuning = IngestionSpec.parse(
        spec_with(
            "spec.tuningConfig",
            {
                "maxRowsPerSegment": 100,
                "partitionsSpec": {"type": "dynamic", "maxRowsPerSegment": 7, "maxTotalRows": 9},
            },
        )
    ).spec.tuning_config
    assert tuning.effective_max_rows_per_segment == 7
    assert tuning.partitions_spec == DynamicPartitionsSpec(max_rows_per_segment=7, max_total_rows=9)
    hashed = IngestionSpec.parse(
        spec_with(
            "spec.tuningConfig",
            {
                "forceGuaranteedRollup": True,
                "partitionsSpec": {"type": "hashed", "partitionDimensions": ["page"]},
            },
        )
    ).spec.tuning_config
    ps = hashed.partitions_spec
    assert isinstance(ps, HashedPartitionsSpec)
    assert ps.partition_dimensions == ("page",) and ps.effective_target_rows_per_segment == 5_000_000
    assert hashed.effective_max_rows_per_segment == 5_000_000 and hashed.force_guaranteed_rollup
    shards = IngestionSpec.parse(
        spec_with("spec.tuningConfig.partitionsSpec", {"type": "hashed", "numShards": 4})
    ).spec.tuning_config
    assert isinstance(shards.partitions_spec, HashedPartitionsSpec)
    assert shards.partitions_spec.effective_target_rows_per_segment is None
    legacy = IngestionSpec.parse(
        spec_with("spec.tuningConfig.partitionsSpec", {"type": "hashed", "maxRowsPerSegment": 1000})
    ).spec.tuning_config
    assert isinstance(legacy.partitions_spec, HashedPartitionsSpec)
    assert legacy.partitions_spec.target_rows_per_segment == 1000


def test_parse_exception_settings() -> None:
    tuning = IngestionSpec.parse(WIKIPEDIA).spec.tuning_config
    assert tuning.effective_max_parse_exceptions == 2**31 - 1
    assert (tuning.log_parse_exceptions, tuning.max_saved_parse_exceptions) == (False, 0)
    tuning = IngestionSpec.parse(spec_with("spec.tuningConfig.maxParseExceptions", 10)).spec.tuning_config
    assert tuning.effective_max_parse_exceptions == 10
    tuning = IngestionSpec.parse(
        spec_with("spec.tuningConfig.reportParseExceptions", True)
    ).spec.tuning_config
    assert tuning.effective_max_parse_exceptions == 0


# --- errors -----------------------------------------------------------------------------------------

METRICS = "spec.dataSchema.metricsSpec"
DIMS = "spec.dataSchema.dimensionsSpec.dimensions"


@pytest.mark.parametrize(
    ("path", "value", "message", "error_path"),
    [
        # unknown types at depth
        (
            METRICS,
            [
                {"type": "count", "name": "c"},
                {"type": "longSum", "name": "s", "fieldName": "x"},
                {"type": "longSumm", "name": "t", "fieldName": "x"},
            ],
            "Unknown aggregator type [longSumm] at spec.dataSchema.metricsSpec[2].type",
            "spec.dataSchema.metricsSpec[2].type",
        ),
        (
            METRICS,
            [
                {
                    "type": "filtered",
                    "name": "f",
                    "filter": {"type": "and", "fields": [{"type": "bogus"}]},
                    "aggregator": {"type": "count", "name": "c"},
                }
            ],
            "Unknown filter type [bogus] at spec.dataSchema.metricsSpec[0].filter.fields[0].type",
            "spec.dataSchema.metricsSpec[0].filter.fields[0].type",
        ),
        (
            "spec.dataSchema.transformSpec",
            {"transforms": [{"type": "javascript_expr", "name": "x", "expression": "1"}]},
            "Unknown transform type [javascript_expr] at spec.dataSchema.transformSpec.transforms[0].type",
            "spec.dataSchema.transformSpec.transforms[0].type",
        ),
        (
            "spec.dataSchema.transformSpec",
            {"filter": {"type": "selector", "dimension": "d", "extractionFn": {"type": "uppr"}}},
            "Unknown extractionFn type [uppr] at spec.dataSchema.transformSpec.filter.extractionFn.type",
            "spec.dataSchema.transformSpec.filter.extractionFn.type",
        ),
        (
            "spec.ioConfig.inputFormat",
            {"type": "jsonl"},
            "Unknown inputFormat type [jsonl] at spec.ioConfig.inputFormat.type",
            "spec.ioConfig.inputFormat.type",
        ),
        (
            "spec.ioConfig.inputSource",
            {"type": "locl", "baseDir": "/x"},
            "Unknown inputSource type [locl] at spec.ioConfig.inputSource.type",
            "spec.ioConfig.inputSource.type",
        ),
        (
            "spec.tuningConfig.partitionsSpec",
            {"type": "dynamc"},
            "Unknown partitionsSpec type [dynamc] at spec.tuningConfig.partitionsSpec.type",
            "spec.tuningConfig.partitionsSpec.type",
        ),
        (
            DIMS,
            ["a", {"type": "str", "name": "b"}],
            "Unknown dimension type [str] at spec.dataSchema.dimensionsSpec.dimensions[1].type",
            "spec.dataSchema.dimensionsSpec.dimensions[1].type",
        ),
        # missing required fields
        (
            METRICS,
            [{"type": "count", "name": "c"}, {"type": "longSum", "name": "s"}],
            "Missing required field [fieldName] at spec.dataSchema.metricsSpec[1].fieldName",
            "spec.dataSchema.metricsSpec[1].fieldName",
        ),
        (
            "spec.dataSchema.dataSource",
            DELETE,
            "Missing required field [dataSource] at spec.dataSchema.dataSource",
            "spec.dataSchema.dataSource",
        ),
        (
            "spec.dataSchema.timestampSpec",
            DELETE,
            "Missing required field [timestampSpec] at spec.dataSchema.timestampSpec",
            "spec.dataSchema.timestampSpec",
        ),
        (
            "spec.dataSchema",
            DELETE,
            "Missing required field [dataSchema] at spec.dataSchema",
            "spec.dataSchema",
        ),
        ("spec.ioConfig", DELETE, "Missing required field [ioConfig] at spec.ioConfig", "spec.ioConfig"),
        (
            "spec.ioConfig.inputFormat",
            DELETE,
            "Missing required field [inputFormat] at spec.ioConfig.inputFormat",
            "spec.ioConfig.inputFormat",
        ),
        (
            "spec.ioConfig.inputSource.type",
            DELETE,
            "Missing required field [type] at spec.ioConfig.inputSource.type",
            "spec.ioConfig.inputSource.type",
        ),
        ("type", DELETE, "Missing required field [type] at type", "type"),
        (
            DIMS,
            [{"type": "long"}],
            "Missing required field [name] at spec.dataSchema.dimensionsSpec.dimensions[0].name",
            "spec.dataSchema.dimensionsSpec.dimensions[0].name",
        ),
        (
            "spec.ioConfig.inputSource",
            {"type": "inline"},
            "Missing required field [data] at spec.ioConfig.inputSource.data",
            "spec.ioConfig.inputSource.data",
        ),
        (
            "spec.dataSchema.transformSpec",
            {"transforms": [{"type": "expression", "name": "x"}]},
            "Missing required field [expression] at spec.dataSchema.transformSpec.transforms[0].expression",
            "spec.dataSchema.transformSpec.transforms[0].expression",
        ),
        # wrong types
        (
            "spec.tuningConfig.maxRowsPerSegment",
            "5000000",
            "Invalid value at spec.tuningConfig.maxRowsPerSegment: expected an integer",
            "spec.tuningConfig.maxRowsPerSegment",
        ),
        (
            "spec.tuningConfig.maxRowsPerSegment",
            True,
            "Invalid value at spec.tuningConfig.maxRowsPerSegment: expected an integer",
            "spec.tuningConfig.maxRowsPerSegment",
        ),
        (
            "spec.tuningConfig.maxRowsPerSegment",
            1.5,
            "Invalid value at spec.tuningConfig.maxRowsPerSegment: expected an integer",
            "spec.tuningConfig.maxRowsPerSegment",
        ),
        (
            "spec.tuningConfig.maxRowsPerSegment",
            0,
            "Invalid value at spec.tuningConfig.maxRowsPerSegment: must be greater than 0",
            "spec.tuningConfig.maxRowsPerSegment",
        ),
        (
            "spec.tuningConfig.maxRowsInMemory",
            -5,
            "Invalid value at spec.tuningConfig.maxRowsInMemory: must be greater than 0",
            "spec.tuningConfig.maxRowsInMemory",
        ),
        (
            "spec.tuningConfig.maxNumConcurrentSubTasks",
            0,
            "Invalid value at spec.tuningConfig.maxNumConcurrentSubTasks: must be greater than 0",
            "spec.tuningConfig.maxNumConcurrentSubTasks",
        ),
        (
            "spec.tuningConfig.maxParseExceptions",
            -1,
            "Invalid value at spec.tuningConfig.maxParseExceptions: must be at least 0",
            "spec.tuningConfig.maxParseExceptions",
        ),
        (
            "spec.tuningConfig.maxBytesInMemory",
            -2,
            "Invalid value at spec.tuningConfig.maxBytesInMemory: must be -1 (no limit), 0 (default) or a positive number of bytes",
            "spec.tuningConfig.maxBytesInMemory",
        ),
        (
            "spec.tuningConfig.partitionsSpec",
            {"type": "dynamic", "maxRowsPerSegment": "10"},
            "Invalid value at spec.tuningConfig.partitionsSpec.maxRowsPerSegment: expected an integer",
            "spec.tuningConfig.partitionsSpec.maxRowsPerSegment",
        ),
        (
            "spec.tuningConfig.logParseExceptions",
            "true",
            "Invalid value at spec.tuningConfig.logParseExceptions: expected a boolean",
            "spec.tuningConfig.logParseExceptions",
        ),
        (
            "spec.dataSchema.granularitySpec.rollup",
            "false",
            "Invalid value at spec.dataSchema.granularitySpec.rollup: expected a boolean",
            "spec.dataSchema.granularitySpec.rollup",
        ),
        (
            "spec.ioConfig.appendToExisting",
            1,
            "Invalid value at spec.ioConfig.appendToExisting: expected a boolean",
            "spec.ioConfig.appendToExisting",
        ),
        (
            "spec.dataSchema.dataSource",
            12,
            "Invalid value at spec.dataSchema.dataSource: expected a string",
            "spec.dataSchema.dataSource",
        ),
        (
            "spec.dataSchema.metricsSpec",
            {"type": "count"},
            "Invalid value at spec.dataSchema.metricsSpec: expected a list",
            "spec.dataSchema.metricsSpec",
        ),
        (
            "spec.dataSchema.dimensionsSpec",
            ["a"],
            "Invalid value at spec.dataSchema.dimensionsSpec: expected an object",
            "spec.dataSchema.dimensionsSpec",
        ),
        (
            DIMS,
            "page",
            "Invalid value at spec.dataSchema.dimensionsSpec.dimensions: expected a list",
            "spec.dataSchema.dimensionsSpec.dimensions",
        ),
        (
            DIMS,
            ["a", 5],
            "Invalid value at spec.dataSchema.dimensionsSpec.dimensions[1]: expected a dimension name or object",
            "spec.dataSchema.dimensionsSpec.dimensions[1]",
        ),
        (
            "spec.ioConfig.inputSource",
            "local",
            "Invalid value at spec.ioConfig.inputSource: expected an object",
            "spec.ioConfig.inputSource",
        ),
        (
            "spec.tuningConfig",
            5,
            "Invalid value at spec.tuningConfig: expected an object",
            "spec.tuningConfig",
        ),
        (
            "spec.dataSchema.timestampSpec.missingValue",
            "someday",
            "Invalid timestamp [someday] at spec.dataSchema.timestampSpec.missingValue...",
            "spec.dataSchema.timestampSpec.missingValue",
        ),
        # enumerations
        (
            "spec.dataSchema.dimensionsSpec.dimensions.0",
            {"name": "a", "multiValueHandling": "unsorted"},
            "Invalid value [UNSORTED] at spec.dataSchema.dimensionsSpec.dimensions[0].multiValueHandling: expected 'SORTED_ARRAY', 'SORTED_SET' or 'ARRAY'",
            "spec.dataSchema.dimensionsSpec.dimensions[0].multiValueHandling",
        ),
        (
            "spec.ioConfig.type",
            "kafka",
            "Invalid value [kafka] at spec.ioConfig.type: expected 'index_parallel' or 'index'",
            "spec.ioConfig.type",
        ),
        (
            "type",
            "index_paralel",
            "Unknown task type [index_paralel] at type: expected index_parallel or index",
            "type",
        ),
        (
            "spec.dataSchema.granularitySpec.type",
            "fixed",
            "Invalid value [fixed] at spec.dataSchema.granularitySpec.type: expected 'uniform' or 'arbitrary'",
            "spec.dataSchema.granularitySpec.type",
        ),
        # granularities and intervals
        (
            "spec.dataSchema.granularitySpec.segmentGranularity",
            "dya",
            "Unknown granularity [dya] at spec.dataSchema.granularitySpec.segmentGranularity...",
            "spec.dataSchema.granularitySpec.segmentGranularity",
        ),
        (
            "spec.dataSchema.granularitySpec.queryGranularity",
            {"type": "period", "period": "PT1X"},
            "Invalid period [PT1X] at spec.dataSchema.granularitySpec.queryGranularity...",
            "spec.dataSchema.granularitySpec.queryGranularity",
        ),
        (
            "spec.dataSchema.granularitySpec.intervals",
            [],
            "Invalid value at spec.dataSchema.granularitySpec.intervals: must not be empty; leave intervals out to ingest every time chunk",
            "spec.dataSchema.granularitySpec.intervals",
        ),
        (
            "spec.dataSchema.granularitySpec.intervals",
            ["2015-09-12/2015-09-13", "2015-09-13/2015-09-12"],
            "Invalid interval [2015-09-13/2015-09-12] at spec.dataSchema.granularitySpec.intervals[1]: its end is before its start",
            "spec.dataSchema.granularitySpec.intervals[1]",
        ),
        (
            "spec.dataSchema.granularitySpec.intervals",
            ["2015-09-12/2015-09-12"],
            "Empty interval at spec.dataSchema.granularitySpec.intervals[0]",
            "spec.dataSchema.granularitySpec.intervals[0]",
        ),
        (
            "spec.dataSchema.granularitySpec",
            {"type": "arbitrary"},
            "An [arbitrary] granularitySpec needs [intervals] at spec.dataSchema.granularitySpec.intervals",
            "spec.dataSchema.granularitySpec.intervals",
        ),
        # names
        (
            "spec.dataSchema.dataSource",
            "",
            "Invalid value at spec.dataSchema.dataSource: must not be empty",
            "spec.dataSchema.dataSource",
        ),
        (
            "spec.dataSchema.dataSource",
            "ads/clicks",
            "Invalid value at spec.dataSchema.dataSource: must not contain '/'",
            "spec.dataSchema.dataSource",
        ),
        (
            "spec.dataSchema.dataSource",
            ".hidden",
            "Invalid value at spec.dataSchema.dataSource: must not start with '.'",
            "spec.dataSchema.dataSource",
        ),
        (
            "spec.dataSchema.dataSource",
            "ads\tclicks",
            "Invalid value at spec.dataSchema.dataSource: must not contain whitespace other than spaces",
            "spec.dataSchema.dataSource",
        ),
        (
            "spec.dataSchema.namespace",
            "_bad",
            "Invalid namespace [_bad] at spec.dataSchema.namespace...",
            "spec.dataSchema.namespace",
        ),
        (
            DIMS,
            ["page", "user", "page"],
            "Duplicate dimension [page] at spec.dataSchema.dimensionsSpec.dimensions[2]",
            "spec.dataSchema.dimensionsSpec.dimensions[2]",
        ),
        (
            DIMS,
            ["page", {"name": "page", "type": "long"}],
            "Duplicate dimension [page] at spec.dataSchema.dimensionsSpec.dimensions[1].name",
            "spec.dataSchema.dimensionsSpec.dimensions[1].name",
        ),
        (
            DIMS,
            ["__time"],
            "Dimension name [__time] is reserved for the primary timestamp at spec.dataSchema.dimensionsSpec.dimensions[0]",
            "spec.dataSchema.dimensionsSpec.dimensions[0]",
        ),
        (
            "spec.dataSchema.dimensionsSpec",
            {"dimensions": ["page"], "dimensionExclusions": ["page"]},
            "Dimension [page] is also in [dimensionExclusions] at spec.dataSchema.dimensionsSpec.dimensions[0]",
            "spec.dataSchema.dimensionsSpec.dimensions[0]",
        ),
        (
            METRICS,
            [{"type": "count", "name": "n"}, {"type": "longSum", "name": "n", "fieldName": "x"}],
            "Duplicate metric [n] at spec.dataSchema.metricsSpec[1].name",
            "spec.dataSchema.metricsSpec[1].name",
        ),
        (
            METRICS,
            [{"type": "longSum", "name": "added", "fieldName": "added"}],
            "Metric [added] has the same name as a dimension at spec.dataSchema.metricsSpec[0].name",
            "spec.dataSchema.metricsSpec[0].name",
        ),
        (
            METRICS,
            [{"type": "count", "name": "__time"}],
            "Metric name [__time] is reserved for the primary timestamp at spec.dataSchema.metricsSpec[0].name",
            "spec.dataSchema.metricsSpec[0].name",
        ),
        (
            METRICS,
            [
                {
                    "type": "filtered",
                    "filter": {"type": "true"},
                    "aggregator": {"type": "count", "name": "page"},
                }
            ],
            "Metric [page] has the same name as a dimension at spec.dataSchema.metricsSpec[0].name",
            "spec.dataSchema.metricsSpec[0].name",
        ),
        (
            "spec.dataSchema.transformSpec",
            {
                "transforms": [
                    {"type": "expression", "name": "x", "expression": "1"},
                    {"type": "expression", "name": "x", "expression": "2"},
                ]
            },
            "Duplicate transform [x] at spec.dataSchema.transformSpec.transforms[1].name",
            "spec.dataSchema.transformSpec.transforms[1].name",
        ),
        # ioConfig rules
        (
            "spec.ioConfig.inputSource",
            {"type": "local", "filter": "*.json"},
            "Set at least one of [baseDir] and [files] at spec.ioConfig.inputSource.baseDir",
            "spec.ioConfig.inputSource.baseDir",
        ),
        (
            "spec.ioConfig.inputFormat",
            {"type": "csv"},
            "Set [columns], or set [findColumnsFromHeader] to true at spec.ioConfig.inputFormat.columns",
            "spec.ioConfig.inputFormat.columns",
        ),
        (
            "spec.ioConfig.inputFormat",
            {"type": "csv", "columns": ["a", "b", "a"]},
            "Duplicate column [a] at spec.ioConfig.inputFormat.columns[2]",
            "spec.ioConfig.inputFormat.columns[2]",
        ),
        (
            "spec.ioConfig.inputFormat",
            {"type": "tsv", "columns": ["a"], "delimiter": ""},
            "Invalid value at spec.ioConfig.inputFormat.delimiter: must not be empty",
            "spec.ioConfig.inputFormat.delimiter",
        ),
        (
            "spec.ioConfig.inputFormat",
            {"type": "csv", "findColumnsFromHeader": True, "skipHeaderRows": -1},
            "Invalid value at spec.ioConfig.inputFormat.skipHeaderRows: must be at least 0",
            "spec.ioConfig.inputFormat.skipHeaderRows",
        ),
        (
            "spec.ioConfig.dropExisting",
            True,
            "Cannot both [appendToExisting] and [dropExisting] at spec.ioConfig.dropExisting",
            "spec.ioConfig.dropExisting",
        ),
        # tuningConfig rules
        (
            "spec.tuningConfig.partitionsSpec",
            {"type": "hashed", "numShards": 2, "targetRowsPerSegment": 10},
            "Set only one of [numShards] and [targetRowsPerSegment] at spec.tuningConfig.partitionsSpec.targetRowsPerSegment",
            "spec.tuningConfig.partitionsSpec.targetRowsPerSegment",
        ),
        (
            "spec.tuningConfig.partitionsSpec",
            {"type": "hashed", "partitionFunction": "md5"},
            "Invalid value [md5] at spec.tuningConfig.partitionsSpec.partitionFunction: expected 'murmur3_32_abs'",
            "spec.tuningConfig.partitionsSpec.partitionFunction",
        ),
    ],
)
def test_bad_specs(path: str, value: Any, message: str, error_path: str) -> None:
    doc = spec_with(path, value)
    if path == "spec.ioConfig.dropExisting":
        doc["spec"]["ioConfig"]["appendToExisting"] = True
    err = parse_fails(doc)
    assert type(err) is InvalidSpec
    assert same_message(err.message, message)
    assert err.path == error_path


@pytest.mark.parametrize(
    ("path", "value", "error_path", "message_start"),
    [
        (
            "spec.ioConfig.inputSource",
            {"type": "s3", "uris": ["s3://bucket/a.json"]},
            "spec.ioConfig.inputSource.type",
            "Unsupported inputSource type [s3]",
        ),
        (
            "spec.ioConfig.inputSource",
            {"type": "http", "uris": ["https://x/a.json"]},
            "spec.ioConfig.inputSource.type",
            "Unsupported inputSource type [http]",
        ),
        (
            "spec.ioConfig.inputSource",
            {"type": "druid", "dataSource": "x", "interval": "2015/2016"},
            "spec.ioConfig.inputSource.type",
            "Unsupported inputSource type [druid]",
        ),
        (
            "spec.ioConfig.inputFormat",
            {"type": "avro_ocf"},
            "spec.ioConfig.inputFormat.type",
            "Unsupported inputFormat type [avro_ocf]",
        ),
        (
            "spec.tuningConfig.partitionsSpec",
            {"type": "range", "partitionDimensions": ["a"]},
            "spec.tuningConfig.partitionsSpec.type",
            "Unsupported partitionsSpec type [range]",
        ),
        (
            DIMS,
            ["a", {"type": "auto", "name": "b"}],
            "spec.dataSchema.dimensionsSpec.dimensions[1].type",
            "Unsupported dimension type [auto]",
        ),
        (
            DIMS,
            [{"type": "json", "name": "b"}],
            "spec.dataSchema.dimensionsSpec.dimensions[0].type",
            "Unsupported dimension type [json]",
        ),
        (
            "spec.dataSchema.dimensionsSpec",
            {"dimensions": ["a"], "spatialDimensions": [{"dimName": "coords", "dims": ["lat", "long"]}]},
            "spec.dataSchema.dimensionsSpec.spatialDimensions",
            "Unsupported [spatialDimensions]",
        ),
        (
            METRICS,
            [{"type": "quantilesDoublesSketch", "name": "q", "fieldName": "x"}],
            "spec.dataSchema.metricsSpec[0].type",
            "Unsupported aggregator type [quantilesDoublesSketch]",
        ),
        (
            "spec.dataSchema.transformSpec",
            {"filter": {"type": "javascript", "dimension": "d", "function": "f"}},
            "spec.dataSchema.transformSpec.filter.type",
            "Unsupported filter type [javascript]",
        ),
        ("type", "kafka", "type", "Unsupported task type [kafka]"),
        ("type", "index_hadoop", "type", "Unsupported task type [index_hadoop]"),
    ],
)
def test_unsupported_specs(path: str, value: Any, error_path: str, message_start: str) -> None:
    err = parse_fails(spec_with(path, value))
    assert type(err) is UnsupportedSpec
    assert isinstance(err, Unsupported) and isinstance(err, InvalidSpec) and isinstance(err, InvalidInput)
    assert err.status == 400 and err.druid_error == "Unsupported operation"
    assert err.path == error_path
    assert err.message.startswith(f"{message_start} at {error_path}: ")


def test_models_can_be_built_in_python() -> None:
    schema = DataSchema(
        data_source="ads",
        timestamp_spec={"column": "ts"},
        metrics_spec=(CountAggregator(name="rows"),),
    )
    assert schema.dimensions_spec.is_schemaless
    assert schema.granularity_spec.segment_granularity == Granularity.parse("day")
    assert schema.namespace == ""
