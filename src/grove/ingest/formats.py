"""Input formats: text blocks and Parquet row groups to Arrow tables, shaped the way ingestion needs.

:mod:`grove.ingest.input` cuts a split into blocks of whole lines; this module turns one block into a
table with Arrow's vectorised readers and then shapes it (:class:`BatchShaper`): ``flattenSpec`` fields,
pruning to the columns the caller asked for, ``listDelimiter`` multi-values and string dimensions.

JSON blocks are parsed by ``pyarrow.json`` with the types learned from earlier blocks (faster than
inferring, and with unused fields skipped when the caller names its columns). A block Arrow refuses —
a malformed line, or a field whose JSON kind changes between rows (number here, string there) — is parsed
again line by line with orjson: bad lines are counted with their line numbers, conflicting values are
made to agree (scalars become text, scalars next to arrays become one-element arrays, objects next to
anything else become JSON text), and the repaired block goes through Arrow again. Only such blocks pay
for Python per line.

CSV and TSV follow Druid: every line is one record (no newlines inside quoted values), empty fields are
null, TSV has no quoting, a row with too few values is padded with nulls and one with too many loses the
extra values, and values containing the list delimiter (default ``\\u0001``) become multi-value lists.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq

from grove.errors import IngestionFailed, InvalidSpec, Unsupported

__all__ = ["DEFAULT_LIST_DELIMITER", "BatchShaper", "ParsedBlock", "iter_parquet", "text_parser"]

DEFAULT_LIST_DELIMITER = "\u0001"  # Druid's default listDelimiter (ctrl-A)
FLATTEN_PATH = "spec.ioConfig.inputFormat.flattenSpec"
_MAX_SAMPLES = 10
_PROBE_BYTES = 64 << 10


@dataclass
class ParsedBlock:
    """One block of text as a table, with the records that could not be read at all."""

    table: pa.Table
    parse_errors: int
    error_samples: list[str]


# --------------------------------------------------------------------------------------------------------
# flattenSpec.


@dataclass(frozen=True)
class _FlattenField:
    name: str
    root: str
    steps: tuple[str | int, ...]


@dataclass(frozen=True)
class _FlattenPlan:
    discovery: bool
    fields: tuple[_FlattenField, ...]


_JSONPATH_STEP = re.compile(r"\.([A-Za-z_$@][\w$@\-]*)|\[(-?\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_JQ_STEP = re.compile(r"\.([A-Za-z_][\w]*)|\.?\[(-?\d+)\]|\.?\[\"([^\"]*)\"\]")


def _compile_flatten(spec: Mapping[str, Any] | None) -> _FlattenPlan | None:
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise InvalidSpec(f"Invalid {FLATTEN_PATH}: expected an object", FLATTEN_PATH)
    discovery = spec.get("useFieldDiscovery", spec.get("use_field_discovery", True))
    fields: list[_FlattenField] = []
    for i, raw in enumerate(spec.get("fields") or ()):
        where = f"{FLATTEN_PATH}.fields[{i}]"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise InvalidSpec(f"Missing name in {where}", where)
        name, kind, expr = raw["name"], raw.get("type", "root"), raw.get("expr")
        if kind == "root":
            fields.append(_FlattenField(name, expr if isinstance(expr, str) and expr else name, ()))
        elif kind in ("path", "jq"):
            if not isinstance(expr, str) or not expr:
                raise InvalidSpec(f"Missing expr for flattenSpec field [{name}] in {where}", f"{where}.expr")
            steps = _parse_path(expr, kind)
            if not steps or not isinstance(steps[0], str):
                raise Unsupported(
                    f"Unsupported {kind} expression [{expr}] in flattenSpec field [{name}]", f"{where}.expr"
                )
            fields.append(_FlattenField(name, steps[0], steps[1:]))
        elif kind == "tree":
            nodes = raw.get("nodes")
            if not nodes or not all(isinstance(n, str) and n for n in nodes):
                raise InvalidSpec(
                    f"Missing nodes for flattenSpec field [{name}] in {where}", f"{where}.nodes"
                )
            fields.append(_FlattenField(name, nodes[0], tuple(nodes[1:])))
        else:
            raise Unsupported(f"Unknown flattenSpec field type [{kind}] in {where}", f"{where}.type")
    return _FlattenPlan(bool(discovery), tuple(fields))


def _parse_path(expr: str, kind: str) -> tuple[str | int, ...]:
    """``$.a.b[0]`` (JSONPath) or ``.a.b[0]`` (jq) as steps; () when the expression is not that simple."""
    text = expr.strip()
    if kind == "path":
        if not text.startswith("$"):
            return ()
        text, step_re = text[1:], _JSONPATH_STEP
    else:
        step_re = _JQ_STEP
    steps: list[str | int] = []
    pos = 0
    while pos < len(text):
        m = step_re.match(text, pos)
        if m is None:
            return ()
        key = next(g for g in m.groups() if g is not None)
        steps.append(int(key) if m.group(2) is not None else key)
        pos = m.end()
    return tuple(steps)


def _flatten(table: pa.Table, plan: _FlattenPlan) -> pa.Table:
    columns: dict[str, pa.ChunkedArray] = {}
    if plan.discovery:
        columns.update(zip(table.column_names, table.columns, strict=True))
    for field in plan.fields:
        columns[field.name] = _follow(table, field)
    return pa.table(columns) if columns else table.select([])


def _follow(table: pa.Table, field: _FlattenField) -> pa.ChunkedArray:
    if field.root not in table.column_names:
        return pa.chunked_array([pa.nulls(table.num_rows)])
    column = table.column(field.root)
    for step in field.steps:
        typ = column.type
        if isinstance(step, str) and pa.types.is_struct(typ) and typ.get_field_index(step) >= 0:
            column = pc.struct_field(column, step)
        elif isinstance(step, int) and (pa.types.is_list(typ) or pa.types.is_large_list(typ)):
            column = pa.chunked_array([_list_element(chunk, step) for chunk in column.chunks], typ.value_type)
        else:
            return pa.chunked_array([pa.nulls(table.num_rows)])
    return column


def _list_element(lists: pa.Array, index: int) -> pa.Array:
    """Element ``index`` of each list (negative counts from the end); null where there is none."""
    offsets = lists.offsets.to_numpy()
    lengths = np.diff(offsets)
    pos = np.full(len(lists), index, dtype=np.int64) if index >= 0 else lengths + index
    valid = (pos >= 0) & (pos < lengths) & ~np.asarray(lists.is_null(), dtype=bool)
    values = lists.values
    if len(values) == 0 or not valid.any():
        return pa.nulls(len(lists), type=values.type)
    take = np.where(valid, offsets[:-1] + pos, 0)
    return values.take(pa.array(take, mask=~valid))


# --------------------------------------------------------------------------------------------------------
# Shaping a raw table for the caller.


class BatchShaper:
    """Turns a table as read into the columns the caller asked for, with string dimensions as strings.

    ``columns`` (when given) keeps only those output names, missing ones simply absent; ``string_columns``
    come out as strings (numbers and booleans as their text, lists as lists of strings, objects as JSON
    text). Columns that are null in every row of a batch are dropped unless the format keeps them
    (``keepNullColumns``): absent and null mean the same to ingestion. Raises InvalidSpec/Unsupported for
    a bad ``flattenSpec`` when built.
    """

    def __init__(
        self, input_format: Any, columns: Sequence[str] | None, string_columns: Sequence[str]
    ) -> None:
        self.format_type: str = input_format.type
        self.flatten = _compile_flatten(getattr(input_format, "flatten_spec", None))
        self.columns = None if columns is None else tuple(dict.fromkeys(columns))
        self.string_columns = frozenset(string_columns)
        self.keep_null_columns = bool(getattr(input_format, "keep_null_columns", False))
        self.binary_as_string = bool(getattr(input_format, "binary_as_string", False))
        delimiter = getattr(input_format, "list_delimiter", None)
        self.list_delimiter = (
            (delimiter or DEFAULT_LIST_DELIMITER) if self.format_type in ("csv", "tsv") else None
        )
        self.needed = self._needed_inputs()

    def _needed_inputs(self) -> frozenset[str] | None:
        """Raw top-level fields the output depends on; None when every field may be needed."""
        plan = self.flatten
        if plan is None:
            return None if self.columns is None else frozenset(self.columns)
        by_name = {f.name: f for f in plan.fields}
        if self.columns is None:
            return None if plan.discovery else frozenset(f.root for f in plan.fields)
        needed = set()
        for name in self.columns:
            if name in by_name:
                needed.add(by_name[name].root)
            elif plan.discovery:
                needed.add(name)
        return frozenset(needed)

    @property
    def has_nested_paths(self) -> bool:
        return self.flatten is not None and any(f.steps for f in self.flatten.fields)

    def shape(self, table: pa.Table) -> pa.Table:
        if self.flatten is not None:
            table = _flatten(table, self.flatten)
        if self.columns is not None:
            present = set(table.column_names)
            table = table.select([c for c in self.columns if c in present])
        if not self.keep_null_columns:
            nulls = [i for i, f in enumerate(table.schema) if pa.types.is_null(f.type)]
            if nulls:
                table = table.drop_columns([table.column_names[i] for i in nulls])
        for i, field in enumerate(table.schema):
            column = table.column(i)
            new = column
            if self.list_delimiter is not None and pa.types.is_string(field.type):
                new = _split_lists(new, self.list_delimiter)
            binary = pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)
            if field.name in self.string_columns or (binary and self.binary_as_string):
                new = _as_strings(new)
            if new is not column:
                table = table.set_column(i, field.name, new)
        return table


def _split_lists(column: pa.ChunkedArray, delimiter: str) -> pa.ChunkedArray:
    """Values holding ``delimiter`` become lists (empty parts null, like Druid); others stay scalars."""
    if not pc.any(pc.match_substring(column, delimiter)).as_py():
        return column
    lists = pc.split_pattern(column, delimiter)
    chunks = []
    for chunk in lists.chunks:
        values = chunk.values
        values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
        chunks.append(pa.ListArray.from_arrays(chunk.offsets, values, mask=chunk.is_null()))
    return pa.chunked_array(chunks, pa.list_(pa.string()))


def _as_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    typ = column.type
    if pa.types.is_string(typ) or _is_string_dictionary(typ):
        return column
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        if pa.types.is_string(typ.value_type):
            return column if pa.types.is_list(typ) else column.cast(pa.list_(pa.string()))
        try:
            return column.cast(pa.list_(pa.string()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pa.chunked_array(
                [pa.array([_texts(v) for v in column.to_pylist()], pa.list_(pa.string()))]
            )
    try:
        return column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Objects, maps and invalid UTF-8: rare shapes for a string dimension, done in Python.
    return pa.chunked_array([pa.array([_text(v) for v in column.to_pylist()], pa.string())])


def _is_string_dictionary(typ: pa.DataType) -> bool:
    return pa.types.is_dictionary(typ) and (
        pa.types.is_string(typ.value_type) or pa.types.is_large_string(typ.value_type)
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return orjson.dumps(value, default=str).decode()


def _texts(values: Any) -> list[str | None] | None:
    return None if values is None else [_text(v) for v in values]


# --------------------------------------------------------------------------------------------------------
# JSON.

Locate = Callable[[int], str]  # line index within a block -> "name line N" for error messages


class JsonBlockParser:
    """Parses blocks of newline-delimited JSON objects, carrying learned column types between blocks."""

    def __init__(self, shaper: BatchShaper) -> None:
        self.shaper = shaper
        self.carried: dict[str, pa.DataType] = {}

    def parse(self, data: bytes, locate: Locate) -> ParsedBlock:
        table = self._read_fast(data)
        if table is None or not (data.isascii() or _valid_utf8(table)):
            # Arrow's JSON reader does not check UTF-8; a line orjson refuses is malformed, as in Druid.
            return self._read_line_by_line(data, locate)
        return ParsedBlock(self._settle(table, data), 0, [])

    def _read_fast(self, data: bytes) -> pa.Table | None:
        if not self.carried:
            self._probe(data)
        needed = self.shaper.needed
        if (
            needed is not None
            and self.carried
            and not self.shaper.has_nested_paths
            and not any(_is_nested(self.carried.get(c)) for c in needed)
        ):
            # Only the needed fields, unknown ones as null placeholders: Arrow skips everything else.
            # Fields go in the order the data has them, which Arrow's parser matches fastest.
            known = [(c, t) for c, t in self.carried.items() if c in needed]
            schema = pa.schema(known + [(c, pa.null()) for c in sorted(needed - self.carried.keys())])
            table = _read_json(data, schema, "ignore")
            if table is not None:
                return table
        elif self.carried:
            # With "infer", fields missing from explicit structs are still read (and new columns too).
            table = _read_json(data, pa.schema(list(self.carried.items())), "infer")
            if table is not None:
                return table
        return _read_json(data, None, "infer")

    def _probe(self, data: bytes) -> None:
        """Learn the column types from the first lines so that the first block already parses typed."""
        head = data[:_PROBE_BYTES]
        cut = head.rfind(b"\n") + 1
        table = _read_json(head[:cut] if cut else head, None, "infer")
        if table is not None:
            self._learn(table.schema)

    def _settle(self, table: pa.Table, data: bytes) -> pa.Table:
        """Re-read columns Arrow took for timestamps as text, then keep the types for the next block."""
        as_time = [f for f in table.schema if _has_time(f.type)]
        if as_time:
            # Arrow's JSON reader turns ISO-looking strings into timestamps (dropping their zone and any
            # text a Joda pattern would read differently), also inside arrays and objects; input columns
            # must come out as written.
            schema = pa.schema([(f.name, _without_time(f.type)) for f in as_time])
            again = _read_json(data, schema, "infer")
            if again is not None:
                table = again
        self._learn(table.schema)
        return table

    def _learn(self, schema: pa.Schema) -> None:
        for field in schema:
            if not pa.types.is_null(field.type):
                self.carried[field.name] = _without_time(field.type)

    def _read_line_by_line(self, data: bytes, locate: Locate) -> ParsedBlock:
        rows: list[dict[str, Any]] = []
        errors = 0
        samples: list[str] = []
        for i, line in enumerate(data.split(b"\n")):
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                value = _MALFORMED
            if type(value) is not dict:
                errors += 1
                if len(samples) < _MAX_SAMPLES:
                    reason = "malformed JSON" if value is _MALFORMED else "not a JSON object"
                    samples.append(f"{locate(i)}: {reason}")
                continue
            rows.append(value)
        if not rows:
            return ParsedBlock(pa.table({}), errors, samples)
        _unify_objects(rows)
        payload = b"\n".join(orjson.dumps(row) for row in rows)
        table = _read_json(payload, None, "infer")
        if table is None:
            # Arrow and orjson disagree about something the repair did not cover: count, never drop quietly.
            if len(samples) < _MAX_SAMPLES:
                samples.append(f"{locate(0)}: block of {len(rows)} records could not be converted")
            return ParsedBlock(pa.table({}), errors + len(rows), samples)
        return ParsedBlock(self._settle(table, payload), errors, samples)


_MALFORMED = object()


def _valid_utf8(table: pa.Table) -> bool:
    try:
        table.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _read_json(data: bytes, schema: pa.Schema | None, unexpected: str) -> pa.Table | None:
    """One block through Arrow's JSON reader, or None when Arrow refuses it."""
    options = pjson.ReadOptions(use_threads=False, block_size=max(len(data) + 1, 1 << 16))
    parse = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior=unexpected)
    try:
        return pjson.read_json(pa.BufferReader(data), read_options=options, parse_options=parse)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None


def _has_time(typ: pa.DataType) -> bool:
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        return True
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return _has_time(typ.value_type)
    if pa.types.is_struct(typ):
        return any(_has_time(typ.field(i).type) for i in range(typ.num_fields))
    return False


def _without_time(typ: pa.DataType) -> pa.DataType:
    """``typ`` with every timestamp or date inside it replaced by string."""
    if not _has_time(typ):
        return typ
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return pa.list_(_without_time(typ.value_type))
    if pa.types.is_struct(typ):
        return pa.struct(
            [typ.field(i).with_type(_without_time(typ.field(i).type)) for i in range(typ.num_fields)]
        )
    return pa.string()


def _is_nested(typ: pa.DataType | None) -> bool:
    if typ is None:
        return False
    if pa.types.is_struct(typ) or pa.types.is_map(typ):
        return True
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return _is_nested(typ.value_type) or pa.types.is_list(typ.value_type)
    return False


def _kind(value: Any) -> str:
    t = type(value)
    if t is dict:
        return "o"
    if t is list:
        return "a"
    if t is str:
        return "s"
    if t is bool:
        return "b"
    return "n"  # int and float: Arrow promotes between them itself


def _unify(values: list[Any]) -> list[Any] | None:
    """Make the values at one JSON path agree on a kind Arrow can type; None when they already do."""
    kinds = {_kind(v) for v in values if v is not None}
    if len(kinds) <= 1:
        if kinds == {"o"}:
            _unify_objects(values)
        elif kinds == {"a"}:
            _unify_lists(values)
        return None
    if "o" in kinds:
        return [v if v is None or type(v) is str else _json_text(v) for v in values]
    if "a" in kinds:
        lists = [v if v is None or type(v) is list else [v] for v in values]
        _unify_lists(lists)
        return lists
    return [v if v is None or type(v) is str else _json_text(v) for v in values]


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _unify_objects(objects: list[Any]) -> None:
    keys: dict[str, None] = {}
    for obj in objects:
        if obj is not None:
            keys.update(dict.fromkeys(obj))
    for key in keys:
        holders = [obj for obj in objects if obj is not None and key in obj]
        new = _unify([obj[key] for obj in holders])
        if new is not None:
            for obj, value in zip(holders, new, strict=True):
                obj[key] = value


def _unify_lists(lists: list[Any]) -> None:
    elements = [e for lst in lists if lst is not None for e in lst]
    new = _unify(elements)
    if new is None:
        return
    pos = 0
    for lst in lists:
        if lst is not None:
            lst[:] = new[pos : pos + len(lst)]
            pos += len(lst)


# --------------------------------------------------------------------------------------------------------
# CSV and TSV.


class CsvBlockParser:
    """Parses blocks of delimited lines into the split's ``columns``."""

    def __init__(self, shaper: BatchShaper, columns: Sequence[str], delimiter: str, quoted: bool) -> None:
        self.shaper = shaper
        self.columns = list(columns)
        self.delimiter = delimiter
        self.quoted = quoted
        needed = shaper.needed
        # Arrow reads every column for an empty include list; the shaper drops a lone placeholder.
        self.include = [c for c in self.columns if needed is None or c in needed] or self.columns[:1]
        self.text_columns = {c for c in self.columns if c in shaper.string_columns}
        self.convert = self._convert_options()

    def _convert_options(self) -> pcsv.ConvertOptions:
        return pcsv.ConvertOptions(
            column_types={c: pa.string() for c in self.text_columns},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            true_values=[],  # Druid reads text: only numbers are worth typing here
            false_values=[],
            timestamp_parsers=[],
            include_columns=self.include,
        )

    def parse(self, data: bytes, locate: Locate) -> ParsedBlock:
        invalid: list[int] = []
        table = self._read(data, invalid)
        if table is not None and not invalid:
            temporal = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
            if not temporal:
                return ParsedBlock(table, 0, [])
            # Arrow infers dates and times even without timestamp parsers; input columns stay text.
            self.text_columns.update(temporal)
            self.convert = self._convert_options()
            table = self._read(data, invalid)
            if table is not None and not invalid:
                return ParsedBlock(table, 0, [])
        return self._read_line_by_line(data, locate)

    def _read(self, data: bytes, invalid: list[int]) -> pa.Table | None:
        def on_invalid(row: Any) -> str:
            invalid.append(row.number)
            return "skip"

        read = pcsv.ReadOptions(
            column_names=self.columns, use_threads=False, block_size=max(len(data) + 1, 1 << 16)
        )
        parse = pcsv.ParseOptions(
            delimiter=self.delimiter,
            quote_char='"' if self.quoted else False,
            newlines_in_values=False,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        )
        try:
            return pcsv.read_csv(
                pa.BufferReader(data), read_options=read, parse_options=parse, convert_options=self.convert
            )
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return None

    def _read_line_by_line(self, data: bytes, locate: Locate) -> ParsedBlock:
        """Druid's per-line reading for a block Arrow refused: pad or cut rows, count unreadable lines."""
        width = len(self.columns)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator="\n")
        errors = 0
        samples: list[str] = []
        for i, raw in enumerate(data.split(b"\n")):
            try:
                line = raw.decode("utf-8").rstrip("\r")
                if not line.strip():
                    continue
                if self.quoted:
                    values = next(csv.reader([line], delimiter=self.delimiter, strict=True))
                else:
                    values = line.split(self.delimiter)
            except (UnicodeDecodeError, csv.Error):
                errors += 1
                if len(samples) < _MAX_SAMPLES:
                    samples.append(f"{locate(i)}: malformed {'CSV' if self.quoted else 'delimited'} line")
                continue
            values = (values + [""] * width)[:width]
            if self.quoted:
                writer.writerow(values)
            else:
                out.write(self.delimiter.join(values) + "\n")
        invalid: list[int] = []
        table = self._read(out.getvalue().encode(), invalid)
        if table is None or invalid:
            if len(samples) < _MAX_SAMPLES:
                samples.append(f"{locate(0)}: block could not be converted")
            return ParsedBlock(pa.table({}), errors + max(1, data.count(b"\n")), samples)
        return ParsedBlock(table, errors, samples)


def text_parser(
    input_format: Any, columns: Sequence[str] | None, shaper: BatchShaper
) -> JsonBlockParser | CsvBlockParser:
    """The block parser for a text ``input_format``; CSV/TSV need the split's ``columns``."""
    kind = input_format.type
    if kind == "json":
        return JsonBlockParser(shaper)
    if kind in ("csv", "tsv"):
        if not columns:
            raise InvalidSpec(
                "No columns for the csv/tsv input: set columns or findColumnsFromHeader",
                "spec.ioConfig.inputFormat.columns",
            )
        delimiter = getattr(input_format, "delimiter", None) or ("\t" if kind == "tsv" else ",")
        return CsvBlockParser(shaper, columns, delimiter, quoted=kind == "csv")
    raise Unsupported(f"Unknown text input format [{kind}]", "spec.ioConfig.inputFormat.type")


# --------------------------------------------------------------------------------------------------------
# Parquet.


def iter_parquet(
    path: str,
    row_groups: Sequence[int],
    batch_rows: int,
    needed: frozenset[str] | None,
    dictionary: frozenset[str] = frozenset(),
) -> Iterator[pa.Table]:
    """Tables of at most ``batch_rows`` rows from the given row groups, only ``needed`` top-level columns.

    String columns named in ``dictionary`` come out as Arrow dictionary arrays, read from the file's
    dictionary pages without decoding a string per row (a dictionary may differ between batches and
    may hold values no row of the batch holds). Raises IngestionFailed when the file cannot be opened
    or decoded.
    """
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
        as_dictionary = [
            f.name
            for f in schema
            if f.name in dictionary and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        ]
        if as_dictionary:
            parquet = pq.ParquetFile(path, read_dictionary=as_dictionary, metadata=parquet.metadata)
        columns = None if needed is None else [n for n in schema.names if n in needed]
        # One thread: ingestion already runs one reading process per core.
        for batch in parquet.iter_batches(
            batch_size=batch_rows, row_groups=list(row_groups), columns=columns, use_threads=False
        ):
            yield pa.Table.from_batches([batch])
    except (OSError, pa.ArrowException) as e:
        raise IngestionFailed(f"Cannot read Parquet file [{path}]: {e}") from None
