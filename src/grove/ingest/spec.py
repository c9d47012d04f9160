"""Druid's batch ingestion spec (``index_parallel`` / ``index`` tasks) as typed, frozen models.

``IngestionSpec.parse`` is the entry point: it takes the task JSON (a dict, text or bytes) and returns a
validated spec, or raises :class:`InvalidSpec` (or :class:`UnsupportedSpec` for things grove recognises
but does not do) whose ``path`` names the offending field as the user wrote it, for example
``spec.dataSchema.metricsSpec[2].type``. grove adds ``dataSchema.namespace`` to Druid's spec.

The legacy ``parser`` (in ``dataSchema``) and ``firehose`` (in ``ioConfig``) forms are refused with a
message naming the field; use ``timestampSpec``/``dimensionsSpec`` with ``inputSource``/``inputFormat``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, ValidatorFunctionWrapHandler, field_validator, model_validator

from grove.common.granularity import Granularity
from grove.common.models import (
    PATH_SENTINEL,
    Bool,
    GranularityField,
    Int,
    IntervalField,
    NonEmptyStr,
    NonNegativeInt,
    PositiveInt,
    Str,
    TaggedUnion,
    TimestampValue,
    WireModel,
    from_invalid_input,
    invalid,
    parse_model,
    spec_error,
    unsupported,
)
from grove.common.time import parse_timestamp
from grove.errors import InvalidInput, InvalidSpec, Unsupported
from grove.query.spec.aggregators import Aggregator
from grove.query.spec.filters import Filter
from grove.timeline.segment_id import validate_namespace

__all__ = [
    "CsvInputFormat",
    "DataSchema",
    "DimensionSchema",
    "DimensionsSpec",
    "DynamicPartitionsSpec",
    "ExpressionTransform",
    "GranularitySpec",
    "HashedPartitionsSpec",
    "IngestionSpec",
    "IngestionSpecBody",
    "InlineInputSource",
    "InputFormat",
    "InputSource",
    "IoConfig",
    "JsonInputFormat",
    "LocalInputSource",
    "ParquetInputFormat",
    "PartitionsSpec",
    "TimestampSpec",
    "TransformSpec",
    "TsvInputFormat",
    "TuningConfig",
    "UnsupportedSpec",
]

TIME_COLUMN = "__time"
DEFAULT_MAX_ROWS_PER_SEGMENT = 5_000_000
UNLIMITED_PARSE_EXCEPTIONS = 2**31 - 1  # Druid's "unlimited" default: Integer.MAX_VALUE
TASK_TYPES = ("index_parallel", "index")


class UnsupportedSpec(InvalidSpec, Unsupported):
    """A well-formed ingestion spec asking for something grove does not do (s3 input, range partitions)."""


def _drop_nulls(data: Any, *keys: str) -> Any:
    """Druid reads an explicit null like an absent field for these keys; so do we."""
    if isinstance(data, dict) and any(data.get(k, 0) is None for k in keys):
        return {k: v for k, v in data.items() if not (k in keys and v is None)}
    return data


# ---------------------------------------------------------------------------------------------------
# dataSchema


class TimestampSpec(WireModel):
    """Where each row's primary timestamp comes from.

    ``format`` is ``iso``, ``posix`` (seconds), ``millis``, ``micro``, ``nano``, ``auto`` (ISO or millis)
    or a Joda pattern. ``missingValue`` (ISO-8601 or epoch millis) stands in for a null or absent column.
    """

    column: NonEmptyStr = "timestamp"
    format: NonEmptyStr = "auto"
    missing_value: TimestampValue | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _drop_nulls(data, "column", "format")

    @property
    def missing_value_millis(self) -> int | None:
        """``missingValue`` as epoch milliseconds, or None when unset."""
        if self.missing_value is None or isinstance(self.missing_value, int):
            return self.missing_value
        return parse_timestamp(self.missing_value)


_UNSUPPORTED_DIMENSION_TYPES = {
    "auto": "typed schema discovery is not supported by grove; use string, long, float or double",
    "json": "nested JSON columns are not supported by grove",
    "spatial": "spatial dimensions are not supported by grove",
}


class DimensionSchema(WireModel):
    """One dimension to ingest; a plain string ``"page"`` is ``{"type": "string", "name": "page"}``.

    ``multiValueHandling`` (string dimensions only) is accepted in any case and kept upper-case.
    """

    type: Literal["string", "long", "float", "double"] = "string"
    name: NonEmptyStr
    multi_value_handling: Literal["SORTED_ARRAY", "SORTED_SET", "ARRAY"] = "SORTED_ARRAY"
    create_bitmap_index: Bool = True

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"type": "string", "name": data}
        if not isinstance(data, dict | DimensionSchema):
            raise invalid("expected a dimension name or object")
        return _drop_nulls(data, "type", "multiValueHandling", "createBitmapIndex")

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        if isinstance(value, str) and value in _UNSUPPORTED_DIMENSION_TYPES:
            raise unsupported(
                f"Unsupported dimension type [{value}]", detail=_UNSUPPORTED_DIMENSION_TYPES[value]
            )
        if isinstance(value, str) and value not in ("string", "long", "float", "double"):
            raise spec_error(f"Unknown dimension type [{value[:64]}]")
        return value

    @field_validator("multi_value_handling", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class DimensionsSpec(WireModel):
    """Which dimensions to ingest. Empty ``dimensions`` means schemaless: every input field that is not
    the timestamp, a metric input, a metric name or in ``dimensionExclusions`` becomes a string dimension.
    ``includeAllDimensions`` adds discovered fields after the listed ones."""

    dimensions: tuple[DimensionSchema, ...] = ()
    dimension_exclusions: tuple[NonEmptyStr, ...] = ()
    include_all_dimensions: Bool = False
    use_schema_discovery: Bool = False

    @model_validator(mode="wrap")
    @classmethod
    def _check(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        data = _drop_nulls(data, "dimensions", "dimensionExclusions")
        if isinstance(data, dict) and data.get("spatialDimensions"):
            raise unsupported(
                "Unsupported [spatialDimensions]",
                field="spatialDimensions",
                detail=_UNSUPPORTED_DIMENSION_TYPES["spatial"],
            )
        spec = handler(data)
        raw = data.get("dimensions") if isinstance(data, dict) else None
        excluded = set(spec.dimension_exclusions)
        seen: set[str] = set()
        for i, dim in enumerate(spec.dimensions):
            written_as_name = isinstance(raw, list) and i < len(raw) and isinstance(raw[i], str)
            where = f"dimensions[{i}]" if written_as_name else f"dimensions[{i}].name"
            if dim.name == TIME_COLUMN:
                raise spec_error(
                    f"Dimension name [{TIME_COLUMN}] is reserved for the primary timestamp", field=where
                )
            if dim.name in seen:
                raise spec_error(f"Duplicate dimension [{dim.name}]", field=where)
            if dim.name in excluded:
                raise spec_error(f"Dimension [{dim.name}] is also in [dimensionExclusions]", field=where)
            seen.add(dim.name)
        return spec

    @property
    def is_schemaless(self) -> bool:
        """True when no dimensions are listed, so they are discovered from the input."""
        return not self.dimensions

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)


class GranularitySpec(WireModel):
    """Time chunking (``segmentGranularity``), timestamp truncation (``queryGranularity``), rollup and
    the ``intervals`` to ingest (None: whatever the input holds; rows outside given intervals are dropped).
    ``arbitrary`` uses the intervals as given and requires them."""

    type: Literal["uniform", "arbitrary"] = "uniform"
    segment_granularity: GranularityField = Granularity.parse("day")
    query_granularity: GranularityField = Granularity.parse("none")
    rollup: Bool = True
    intervals: tuple[IntervalField, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _drop_nulls(data, "type", "segmentGranularity", "queryGranularity", "rollup")

    @field_validator("intervals")
    @classmethod
    def _non_empty(cls, value: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        if value is not None:
            if not value:
                raise invalid("must not be empty; leave intervals out to ingest every time chunk")
            for i, interval in enumerate(value):
                if interval.is_empty():
                    raise spec_error("Empty interval", field=f"[{i}]")
        return value

    @model_validator(mode="after")
    def _arbitrary_needs_intervals(self) -> Any:
        if self.type == "arbitrary" and self.intervals is None:
            raise spec_error("An [arbitrary] granularitySpec needs [intervals]", field="intervals")
        return self


class ExpressionTransform(WireModel):
    """Adds (or shadows) the input field ``name`` with the value of the Druid ``expression``."""

    type: Literal["expression"] = "expression"
    name: NonEmptyStr
    expression: NonEmptyStr


Transform = Annotated[ExpressionTransform, TaggedUnion("transform")]


class TransformSpec(WireModel):
    """Row transforms, applied before ``filter``; only rows passing ``filter`` are ingested."""

    filter: Filter | None = None
    transforms: tuple[Transform, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _drop_nulls(data, "transforms")

    @model_validator(mode="after")
    def _unique_names(self) -> Any:
        seen: set[str] = set()
        for i, transform in enumerate(self.transforms):
            if transform.name in seen:
                raise spec_error(f"Duplicate transform [{transform.name}]", field=f"transforms[{i}].name")
            seen.add(transform.name)
        return self


_LEGACY_PARSER = "the legacy [parser] is not supported; use timestampSpec and dimensionsSpec in dataSchema and inputFormat in ioConfig"


class DataSchema(WireModel):
    """What is ingested: datasource, timestamp, dimensions, metrics, granularity, transforms, namespace.

    ``dataSource`` follows Druid's rules: not empty, no ``/``, not starting with ``.``, no whitespace but
    spaces. Metric names are unique and differ from dimension names and ``__time``.
    """

    data_source: NonEmptyStr
    timestamp_spec: TimestampSpec
    dimensions_spec: DimensionsSpec = DimensionsSpec()
    metrics_spec: tuple[Aggregator, ...] = ()
    granularity_spec: GranularitySpec = GranularitySpec()
    transform_spec: TransformSpec | None = None
    namespace: Str = ""

    @model_validator(mode="before")
    @classmethod
    def _no_parser(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("parser") is not None:
            raise unsupported("Unsupported [parser]", field="parser", detail=_LEGACY_PARSER)
        return _drop_nulls(data, "dimensionsSpec", "metricsSpec", "granularitySpec", "namespace")

    @field_validator("data_source")
    @classmethod
    def _druid_name(cls, value: str) -> str:
        if value.startswith("."):
            raise invalid("must not start with '.'")
        if "/" in value:
            raise invalid("must not contain '/'")
        if re.search(r"[^\S ]", value):
            raise invalid("must not contain whitespace other than spaces")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        try:
            return validate_namespace(value, PATH_SENTINEL)
        except InvalidInput as e:
            raise from_invalid_input(e) from None

    @model_validator(mode="after")
    def _metric_names(self) -> Any:
        dimensions = set(self.dimensions_spec.names)
        seen: set[str] = set()
        for i, metric in enumerate(self.metrics_spec):
            where = f"metricsSpec[{i}].name"
            if metric.name == TIME_COLUMN:
                raise spec_error(
                    f"Metric name [{TIME_COLUMN}] is reserved for the primary timestamp", field=where
                )
            if metric.name in dimensions:
                raise spec_error(f"Metric [{metric.name}] has the same name as a dimension", field=where)
            if metric.name in seen:
                raise spec_error(f"Duplicate metric [{metric.name}]", field=where)
            seen.add(metric.name)
        return self


# ---------------------------------------------------------------------------------------------------
# ioConfig: input sources and formats


class LocalInputSource(WireModel):
    """Files on the local file system: those under ``baseDir`` matching the glob ``filter`` (default
    ``*``), plus ``files``. At least one of ``baseDir`` and ``files`` is required."""

    type: Literal["local"] = "local"
    base_dir: NonEmptyStr | None = None
    filter: Str = "*"
    files: tuple[NonEmptyStr, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _drop_nulls(data, "filter", "files")

    @model_validator(mode="after")
    def _something(self) -> Any:
        if self.base_dir is None and not self.files:
            raise spec_error("Set at least one of [baseDir] and [files]", field="baseDir")
        return self


class InlineInputSource(WireModel):
    """Rows given in the spec itself as text in the ``inputFormat``."""

    type: Literal["inline"] = "inline"
    data: Str


_INPUT_SOURCES = "only local and inline input sources are supported by grove"

InputSource = Annotated[
    LocalInputSource | InlineInputSource,
    TaggedUnion(
        "inputSource",
        unsupported={
            name: _INPUT_SOURCES
            for name in (
                "s3",
                "google",
                "azure",
                "azureStorage",
                "hdfs",
                "http",
                "druid",
                "sql",
                "combining",
                "oss",
                "delta",
                "iceberg",
            )
        },
    ),
]


class JsonInputFormat(WireModel):
    """One JSON object per line (or concatenated objects); ``flattenSpec`` is kept as Druid's JSON."""

    type: Literal["json"] = "json"
    flatten_spec: dict[str, Any] | None = None
    keep_null_columns: Bool = False


class _DelimitedFormat(WireModel):
    """What CSV and TSV share. Columns come from ``columns`` or, when ``findColumnsFromHeader`` is true,
    from the first row after ``skipHeaderRows``; one of the two is required. ``listDelimiter`` (None:
    Druid's default, ctrl-A) splits multi-value cells."""

    columns: tuple[NonEmptyStr, ...] = ()
    find_columns_from_header: Bool | None = None
    skip_header_rows: NonNegativeInt = 0
    list_delimiter: Str | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        data = _drop_nulls(data, "columns", "skipHeaderRows")
        # Druid's old name for findColumnsFromHeader.
        if isinstance(data, dict) and "findColumnsFromHeader" not in data and "hasHeaderRow" in data:
            return {**data, "findColumnsFromHeader": data["hasHeaderRow"]}
        return data

    @model_validator(mode="after")
    def _columns(self) -> Any:
        if not self.find_columns_from_header and not self.columns:
            raise spec_error("Set [columns], or set [findColumnsFromHeader] to true", field="columns")
        seen: set[str] = set()
        for i, column in enumerate(self.columns):
            if column in seen:
                raise spec_error(f"Duplicate column [{column}]", field=f"columns[{i}]")
            seen.add(column)
        return self

    @property
    def uses_header(self) -> bool:
        """True when column names are read from the data's header row (``columns`` is then ignored)."""
        return bool(self.find_columns_from_header)


class CsvInputFormat(_DelimitedFormat):
    """Comma-separated values (RFC 4180 quoting)."""

    type: Literal["csv"] = "csv"


class TsvInputFormat(_DelimitedFormat):
    """Values separated by ``delimiter`` (a tab by default)."""

    type: Literal["tsv"] = "tsv"
    delimiter: NonEmptyStr = "\t"


class ParquetInputFormat(WireModel):
    """Apache Parquet files; ``binaryAsString`` reads untyped binary columns as UTF-8 strings."""

    type: Literal["parquet"] = "parquet"
    binary_as_string: Bool = False
    flatten_spec: dict[str, Any] | None = None


_INPUT_FORMATS = "only json, csv, tsv and parquet input formats are supported by grove"

InputFormat = Annotated[
    JsonInputFormat | CsvInputFormat | TsvInputFormat | ParquetInputFormat,
    TaggedUnion(
        "inputFormat",
        unsupported={
            name: _INPUT_FORMATS
            for name in (
                "avro_ocf",
                "avro_stream",
                "orc",
                "protobuf",
                "regex",
                "javascript",
                "kafka",
                "kinesis",
                "delta",
                "iceberg",
            )
        },
    ),
]


class IoConfig(WireModel):
    """Where rows come from (``inputSource``), how they are parsed (``inputFormat``), and whether the
    new segments are appended to the interval's latest version or replace it."""

    type: Literal["index_parallel", "index"] | None = None
    input_source: InputSource
    input_format: InputFormat
    append_to_existing: Bool = False
    drop_existing: Bool = False

    @model_validator(mode="before")
    @classmethod
    def _no_firehose(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("firehose") is not None:
            raise unsupported(
                "Unsupported [firehose]",
                field="firehose",
                detail="firehoses were removed from Druid; use inputSource",
            )
        return _drop_nulls(data, "appendToExisting", "dropExisting")

    @model_validator(mode="after")
    def _append_or_drop(self) -> Any:
        if self.append_to_existing and self.drop_existing:
            raise spec_error("Cannot both [appendToExisting] and [dropExisting]", field="dropExisting")
        return self


# ---------------------------------------------------------------------------------------------------
# tuningConfig


class DynamicPartitionsSpec(WireModel):
    """Best-effort partitioning: a new segment every ``maxRowsPerSegment`` rows; everything is pushed when
    ``maxTotalRows`` rows wait in all segments."""

    type: Literal["dynamic"] = "dynamic"
    max_rows_per_segment: PositiveInt | None = None
    max_total_rows: PositiveInt | None = None


class HashedPartitionsSpec(WireModel):
    """Perfect-rollup partitioning by the hash of ``partitionDimensions`` (all dimensions when empty)
    into ``numShards`` shards, or as many as ``targetRowsPerSegment`` implies (not both)."""

    type: Literal["hashed"] = "hashed"
    num_shards: PositiveInt | None = None
    target_rows_per_segment: PositiveInt | None = None
    partition_dimensions: tuple[NonEmptyStr, ...] = ()
    partition_function: Literal["murmur3_32_abs"] = "murmur3_32_abs"

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        data = _drop_nulls(data, "partitionDimensions", "partitionFunction")
        # Druid still reads the deprecated maxRowsPerSegment as targetRowsPerSegment here.
        if (
            isinstance(data, dict)
            and data.get("maxRowsPerSegment") is not None
            and "targetRowsPerSegment" not in data
        ):
            return {**data, "targetRowsPerSegment": data["maxRowsPerSegment"]}
        return data

    @model_validator(mode="after")
    def _shards_or_target(self) -> Any:
        if self.num_shards is not None and self.target_rows_per_segment is not None:
            raise spec_error(
                "Set only one of [numShards] and [targetRowsPerSegment]", field="targetRowsPerSegment"
            )
        return self

    @property
    def effective_target_rows_per_segment(self) -> int | None:
        """The row target; Druid's 5,000,000 when neither it nor ``numShards`` is set."""
        if self.target_rows_per_segment is None and self.num_shards is None:
            return DEFAULT_MAX_ROWS_PER_SEGMENT
        return self.target_rows_per_segment


_RANGE_PARTITIONS = "range partitioning is not supported by grove; use dynamic or hashed"

PartitionsSpec = Annotated[
    DynamicPartitionsSpec | HashedPartitionsSpec,
    TaggedUnion("partitionsSpec", unsupported={"single_dim": _RANGE_PARTITIONS, "range": _RANGE_PARTITIONS}),
]


class TuningConfig(WireModel):
    """How the task builds segments.

    ``maxRowsPerSegment`` here is Druid's legacy field; a dynamic ``partitionsSpec`` value wins over it
    (see ``effective_max_rows_per_segment``). ``maxBytesInMemory`` 0 means grove's default and -1 no
    byte limit. ``maxParseExceptions`` is unlimited unless set; ``reportParseExceptions`` makes it 0.
    """

    type: Literal["index_parallel", "index"] | None = None
    max_rows_per_segment: PositiveInt = DEFAULT_MAX_ROWS_PER_SEGMENT
    max_rows_in_memory: PositiveInt = 1_000_000
    max_bytes_in_memory: Int = 0
    partitions_spec: PartitionsSpec = DynamicPartitionsSpec()
    max_parse_exceptions: NonNegativeInt = UNLIMITED_PARSE_EXCEPTIONS
    max_saved_parse_exceptions: NonNegativeInt = 0
    log_parse_exceptions: Bool = False
    report_parse_exceptions: Bool = False
    max_num_concurrent_sub_tasks: PositiveInt = 1
    force_guaranteed_rollup: Bool = False

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _drop_nulls(
            data,
            "maxRowsPerSegment",
            "maxRowsInMemory",
            "maxBytesInMemory",
            "partitionsSpec",
            "maxParseExceptions",
            "maxSavedParseExceptions",
            "maxNumConcurrentSubTasks",
        )

    @field_validator("max_bytes_in_memory")
    @classmethod
    def _bytes(cls, value: int) -> int:
        if value < -1:
            raise invalid("must be -1 (no limit), 0 (default) or a positive number of bytes")
        return value

    @property
    def effective_max_rows_per_segment(self) -> int:
        """Rows per segment: the dynamic partitionsSpec's value when set, else the top-level field."""
        spec = self.partitions_spec
        if isinstance(spec, DynamicPartitionsSpec) and spec.max_rows_per_segment is not None:
            return spec.max_rows_per_segment
        return self.max_rows_per_segment

    @property
    def effective_max_parse_exceptions(self) -> int:
        """Unparseable rows tolerated before the task fails (0 when ``reportParseExceptions``)."""
        return 0 if self.report_parse_exceptions else self.max_parse_exceptions


# ---------------------------------------------------------------------------------------------------
# The task


class IngestionSpecBody(WireModel):
    """The ``spec`` of an ingestion task: ``dataSchema``, ``ioConfig`` and ``tuningConfig``."""

    data_schema: DataSchema
    io_config: IoConfig
    tuning_config: TuningConfig = TuningConfig()

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _drop_nulls(data, "tuningConfig")

    @model_validator(mode="after")
    def _append_needs_dynamic(self) -> Any:
        # As in Druid: hashed shards fix their count per write, so they cannot be appended to.
        if self.io_config.append_to_existing and isinstance(
            self.tuning_config.partitions_spec, HashedPartitionsSpec
        ):
            raise spec_error(
                "Cannot [appendToExisting] with [hashed] partitions; use dynamic partitions to append",
                field="ioConfig.appendToExisting",
            )
        if self.io_config.drop_existing and not self.data_schema.granularity_spec.intervals:
            # As in Druid: what to drop is named by the intervals, never inferred from the input.
            raise spec_error(
                "[dropExisting] needs [dataSchema.granularitySpec.intervals] naming what to replace",
                field="ioConfig.dropExisting",
            )
        return self


_UNSUPPORTED_TASKS = {
    "index_hadoop": "Hadoop ingestion is not supported; use index_parallel",
    "kafka": "streaming ingestion is submitted as a supervisor, not a task",
    "kinesis": "Kinesis ingestion is not supported by grove",
    "index_kafka": "streaming ingestion is submitted as a supervisor, not a task",
    "index_kinesis": "Kinesis ingestion is not supported by grove",
    "index_realtime": "realtime tasks were removed from Druid",
    "compact": "compaction tasks are not ingestion specs",
}


class IngestionSpec(WireModel):
    """A native batch ingestion task: ``{"type": "index_parallel", "spec": {...}}``.

    Build it with :meth:`parse`; ``model_validate`` raises pydantic errors instead of grove's.
    """

    type: Literal["index_parallel", "index"]
    id: NonEmptyStr | None = None
    spec: IngestionSpecBody
    context: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type", mode="before")
    @classmethod
    def _task_type(cls, value: Any) -> Any:
        if isinstance(value, str) and value in _UNSUPPORTED_TASKS:
            raise unsupported(f"Unsupported task type [{value}]", detail=_UNSUPPORTED_TASKS[value])
        if isinstance(value, str) and value not in TASK_TYPES:
            raise spec_error(f"Unknown task type [{value[:64]}]", detail="expected index_parallel or index")
        return value

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _drop_nulls(data, "context")

    @classmethod
    def parse(cls, data: Mapping[str, Any] | str | bytes | IngestionSpec) -> IngestionSpec:
        """Validate a task given as a dict or as JSON text/bytes.

        Accepted shapes: ``{"type": ..., "spec": {...}}`` (Druid's task); a bare ``{"dataSchema": ...,
        "ioConfig": ..., "tuningConfig": ...}``; and the legacy task with those three at the top level
        next to ``type``. The latter two are read as written, so error paths have no ``spec.`` prefix;
        their task type is ``type``, else ``ioConfig.type``, else ``index_parallel``.
        Raises InvalidSpec (UnsupportedSpec for unsupported features) naming the offending field.
        """
        if isinstance(data, IngestionSpec):
            return data
        if isinstance(data, str | bytes | bytearray):
            data = _load_json(data)
        if not isinstance(data, Mapping):
            raise InvalidSpec("Invalid ingestion spec at the top level: expected a JSON object", "")
        raw = dict(data)
        if "spec" not in raw and ("dataSchema" in raw or "ioConfig" in raw):
            if raw.get("type") is not None and raw["type"] not in TASK_TYPES:
                _parse(cls, {"type": raw["type"]})  # report the task type before its body
            body = _parse(IngestionSpecBody, raw)
            io_type = raw.get("ioConfig", {}).get("type") if isinstance(raw.get("ioConfig"), dict) else None
            task_type = raw.get("type") or io_type or "index_parallel"
            wrapped = {"type": task_type, "spec": body, "id": raw.get("id"), "context": raw.get("context")}
            return _parse(cls, {k: v for k, v in wrapped.items() if v is not None})
        return _parse(cls, raw)

    @property
    def data_source(self) -> str:
        return self.spec.data_schema.data_source

    @property
    def namespace(self) -> str:
        return self.spec.data_schema.namespace


def _parse(model: type[Any], data: Any) -> Any:
    return parse_model(model, data, "", error=InvalidSpec, unsupported_error=UnsupportedSpec)


def _load_json(text: str | bytes | bytearray) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidSpec(f"Malformed JSON: {e.msg} at line {e.lineno}, column {e.colno}", "") from None
    except UnicodeDecodeError:
        raise InvalidSpec("Malformed JSON: the text is not valid UTF-8", "") from None
