"""A :class:`~grove.sql.result.SqlResult` written in Druid's SQL ``resultFormat``s, as byte chunks.

The five formats of Druid's SQL API (``docs/api-reference/sql-api.md``), byte for byte as Druid's
writers produce them (``sql/src/main/java/org/apache/druid/sql/http/*Writer.java``):

``object`` (the default)
    ``[{"col":value,...},...]`` and a newline. With ``header`` the first object names the columns:
    ``{"col":null}``, or ``{"col":{"type":"STRING","sqlType":"VARCHAR"}}`` with ``typesHeader`` and/or
    ``sqlTypesHeader``.
``array``
    ``[[value,...],...]`` and a newline. With ``header`` the first array holds the column names, then
    one array of native types (``typesHeader``), then one of SQL types (``sqlTypesHeader``).
``objectLines`` / ``arrayLines``
    One JSON value per line (the header first, as above), then an extra blank line, so that a reader
    can tell a complete response from a truncated one.
``csv``
    One row per line, fields quoted only when they hold a comma, a quote or a line break (quotes
    doubled); nulls are empty fields; a row of one empty field is written ``""`` so it is not mistaken
    for the end; the header rows are names, native types, SQL types; then an extra blank line.

:func:`render` yields chunks of a bounded number of rows, so a large result can be streamed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from grove.common.jsonout import dumps
from grove.errors import InvalidInput
from grove.query.expression.values import java_double_str
from grove.sql.result import SqlResult

OBJECT = "object"
ARRAY = "array"
OBJECT_LINES = "objectLines"
ARRAY_LINES = "arrayLines"
CSV = "csv"
RESULT_FORMATS = (OBJECT, ARRAY, OBJECT_LINES, ARRAY_LINES, CSV)

CONTENT_TYPES = {
    OBJECT: "application/json",
    ARRAY: "application/json",
    OBJECT_LINES: "text/plain",
    ARRAY_LINES: "text/plain",
    CSV: "text/csv",
}

ROWS_PER_CHUNK = 1024
_BY_LOWER = {name.lower(): name for name in RESULT_FORMATS}


@dataclass(frozen=True, slots=True)
class ResultFormat:
    """How to write a result: Druid's ``resultFormat`` and its three header flags.

    Build it with :meth:`parse`, which refuses what Druid refuses (an unknown format; ``typesHeader``
    or ``sqlTypesHeader`` without ``header``).
    """

    name: str = OBJECT
    header: bool = False
    types_header: bool = False
    sql_types_header: bool = False

    @staticmethod
    def parse(
        name: str | None = None,
        *,
        header: bool = False,
        types_header: bool = False,
        sql_types_header: bool = False,
    ) -> ResultFormat:
        """The format named ``name`` (any case, as Druid reads it; None means ``object``).

        Raises InvalidInput for an unknown name, and for a types header asked without ``header``.
        """
        canonical = OBJECT if name is None else _BY_LOWER.get(name.lower())
        if canonical is None:
            raise InvalidInput(
                f"Unknown resultFormat [{name}]; expected one of {', '.join(RESULT_FORMATS)}", "resultFormat"
            )
        if types_header and not header:
            raise InvalidInput("Cannot include 'typesHeader' without 'header'", "typesHeader")
        if sql_types_header and not header:
            raise InvalidInput("Cannot include 'sqlTypesHeader' without 'header'", "sqlTypesHeader")
        return ResultFormat(canonical, header, types_header, sql_types_header)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.name]


def render(result: SqlResult, fmt: ResultFormat = ResultFormat()) -> Iterator[bytes]:
    """The result written in ``fmt``, as chunks of at most :data:`ROWS_PER_CHUNK` rows each."""
    if fmt.name == CSV:
        return _csv(result, fmt)
    objects = fmt.name in (OBJECT, OBJECT_LINES)
    pieces = _json_pieces(result, fmt, objects=objects, lines=fmt.name in (OBJECT_LINES, ARRAY_LINES))
    if fmt.name in (OBJECT, ARRAY):
        return _json_document(pieces)
    return _json_lines(pieces)


def render_bytes(result: SqlResult, fmt: ResultFormat = ResultFormat()) -> bytes:
    """The whole response body at once (for small results and for the CLI)."""
    return b"".join(render(result, fmt))


# --- JSON formats -----------------------------------------------------------------------------------------
#
# The header values and the rows are encoded in pieces of at most ROWS_PER_CHUNK values each: for
# ``object``/``array`` a piece is its values joined by commas (an encoded JSON array without its
# brackets), for the *Lines formats its values joined by newlines.


def _json_document(pieces: Iterator[bytes]) -> Iterator[bytes]:
    opened = False
    for piece in pieces:
        yield (b"," if opened else b"[") + piece
        opened = True
    yield b"]\n" if opened else b"[]\n"


def _json_lines(pieces: Iterator[bytes]) -> Iterator[bytes]:
    # Druid: values separated by "\n", then "\n\n" (the end of the last line, then one blank line).
    first = True
    for piece in pieces:
        yield piece if first else b"\n" + piece
        first = False
    yield b"\n\n"


def _json_pieces(result: SqlResult, fmt: ResultFormat, *, objects: bool, lines: bool) -> Iterator[bytes]:
    columns = result.columns
    if fmt.header:
        header = [_object_header(result, fmt)] if objects else _array_header(result, fmt)
        yield (b"\n" if lines else b",").join(header)
    rows = result.rows
    keys = [orjson.dumps(name) + b":" for name in columns]
    unique = len(set(columns)) == len(columns)
    for start in range(0, len(rows), ROWS_PER_CHUNK):
        chunk = rows[start : start + ROWS_PER_CHUNK]
        values: list[Any]
        if not objects:
            values = chunk
        elif unique:
            values = [dict(zip(columns, row, strict=False)) for row in chunk]
        else:
            # Repeated names (SELECT a, a): Druid writes every field, which a dict cannot hold.
            encoded = [_object_with_repeats(keys, row) for row in chunk]
            yield (b"\n" if lines else b",").join(encoded)
            continue
        if lines:
            yield b"\n".join(dumps(v) for v in values)
        else:
            yield dumps(values)[1:-1]


def _object_with_repeats(keys: list[bytes], row: Sequence[Any]) -> bytes:
    fields = (k + dumps(v) for k, v in zip(keys, row, strict=False))
    return b"{" + b",".join(fields) + b"}"


def _object_header(result: SqlResult, fmt: ResultFormat) -> bytes:
    """``{"col":null,...}``, or ``{"col":{"type":...,"sqlType":...},...}`` with types."""
    types = _header_types(result, fmt)
    fields = []
    for i, name in enumerate(result.columns):
        value = {key: names[i] for key, names in types} if types else None
        fields.append(orjson.dumps(name) + b":" + orjson.dumps(value))
    return b"{" + b",".join(fields) + b"}"


def _array_header(result: SqlResult, fmt: ResultFormat) -> list[bytes]:
    """``["col",...]``, then ``["STRING",...]`` (typesHeader), then ``["VARCHAR",...]`` (sqlTypesHeader)."""
    return [orjson.dumps(result.columns)] + [orjson.dumps(names) for _, names in _header_types(result, fmt)]


def _header_types(result: SqlResult, fmt: ResultFormat) -> list[tuple[str, list[str | None]]]:
    """The type rows the header carries: ``("type", native types)`` and/or ``("sqlType", SQL types)``."""
    width = len(result.columns)
    rows: list[tuple[str, list[str | None]]] = []
    if fmt.types_header:
        rows.append(("type", _padded(result.druid_types, width)))
    if fmt.sql_types_header:
        rows.append(("sqlType", _padded(result.sql_types, width)))
    return rows


def _padded(types: Sequence[str], width: int) -> list[str | None]:
    """Type names, None where unknown (Druid writes null for a column whose type it does not know)."""
    names: list[str | None] = [t or None for t in types[:width]]
    return names + [None] * (width - len(names))


# --- CSV --------------------------------------------------------------------------------------------------


def _csv(result: SqlResult, fmt: ResultFormat) -> Iterator[bytes]:
    lines: list[str] = []
    if fmt.header:
        lines.append(_csv_line(result.columns))
        for _, names in _header_types(result, fmt):
            lines.append(_csv_line(names))
    rows = result.rows
    for start in range(0, len(rows), ROWS_PER_CHUNK):
        for row in rows[start : start + ROWS_PER_CHUNK]:
            fields = [_csv_text(v) for v in row]
            # A lone empty field would be a blank line, which readers take for the end of the response.
            lines.append('""\n' if len(fields) == 1 and fields[0] == "" else _csv_line(fields))
        yield "".join(lines).encode()
        lines = []
    if lines:
        yield "".join(lines).encode()
    yield b"\n"


def _csv_line(fields: Sequence[str | None]) -> str:
    return ",".join(_csv_field(f) for f in fields) + "\n"


def _csv_field(text: str | None) -> str:
    if not text:
        return ""
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_text(value: Any) -> str:
    """A value as Druid's CSV writer prints it (Java's ``toString``); nulls are empty."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double_str(value)
    return dumps(value).decode()
