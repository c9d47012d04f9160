"""Reading input for batch ingestion: input sources cut into splits, splits read as Arrow batches.

:func:`create_splits` turns an ``inputSource`` (``local`` files or ``inline`` text) and an ``inputFormat``
into :class:`InputSplit` values — small, picklable units of parallel work: a byte range of a text file
cut at line boundaries (every line belongs to exactly one split), a compressed text file whole, a run of
Parquet row groups, or the inline text. :func:`read_split` streams one split as :class:`ReadBatch` values
of at most ``batch_rows`` rows, reading text in blocks so memory follows the batch size, not the file
size. Parsing is vectorised (Arrow's JSON, CSV and Parquet readers, see :mod:`grove.ingest.formats`);
only blocks Arrow refuses are read line by line to isolate the bad records, which are counted and never
fatal.

Local files follow Druid's ``local`` input source: ``baseDir`` is searched recursively and ``filter``
(default ``*``) matches file names at any depth; a filter with a ``/`` matches paths relative to
``baseDir`` instead, where ``**`` spans folders. ``files`` are added after, in the order given. Text files
ending in ``.gz``, ``.bz2``, ``.zst`` or ``.lz4`` are decompressed while reading and are one split each.
"""

from __future__ import annotations

import csv
import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from typing import Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from grove.errors import IngestionFailed, InvalidSpec, Unsupported
from grove.ingest.formats import BatchShaper, ParsedBlock, iter_parquet, text_parser

__all__ = ["InputSplit", "ReadBatch", "create_splits", "read_split"]

SOURCE_PATH = "spec.ioConfig.inputSource"
FORMAT_PATH = "spec.ioConfig.inputFormat"

_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd", ".lz4": "lz4"}
_TEXT_FORMATS = ("json", "csv", "tsv")
_BOM = b"\xef\xbb\xbf"
_MAX_SAMPLES = 10
_MIN_BLOCK = 64 << 10
_MAX_BLOCK = 8 << 20  # Arrow parses a few MB at a time fastest; larger blocks only cost memory


@dataclass(frozen=True)
class InputSplit:
    """One unit of parallel reading; small and picklable so it can be sent to a worker process.

    ``kind`` is ``text`` (bytes ``[start, end)`` of ``path``; ``end == -1`` reads to the end, as for a
    compressed file), ``parquet`` (``row_groups`` of ``path``) or ``inline`` (``data``). ``columns`` are the
    CSV/TSV column names found when the splits were made, so a split in the middle of a file needs no
    header; ``skip_lines`` header lines are skipped where the split starts (compressed and inline text).
    ``first_line`` counts the lines before ``start`` (-1 when unknown), for error messages. ``size`` is
    the approximate number of bytes to read, for scheduling.
    """

    kind: Literal["text", "parquet", "inline"]
    path: str = ""
    start: int = 0
    end: int = -1
    compression: str | None = None
    skip_lines: int = 0
    first_line: int = 0
    columns: tuple[str, ...] | None = None
    row_groups: tuple[int, ...] = ()
    data: str | None = None
    size: int = 0


@dataclass
class ReadBatch:
    """A table of raw columns as read, with the records it consumed and the ones that failed to parse.

    ``rows_read`` counts records consumed including bad ones; ``parse_errors`` the records that could not
    be parsed at all; ``error_samples`` a few short messages (``wiki.json line 17: malformed JSON``) that
    never contain row contents. Summed over all batches of a split they give the split's totals. The
    schema may differ between batches of one split when the data's types do.
    """

    table: pa.Table
    rows_read: int
    parse_errors: int
    error_samples: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------------
# Splits.


def create_splits(
    input_source: Any,
    input_format: Any,
    target_bytes: int = 64 << 20,
    *,
    min_splits: int = 1,
    min_split_bytes: int = 4 << 20,
) -> list[InputSplit]:
    """Cut the input into splits of about ``target_bytes`` each, in a deterministic order.

    When that makes fewer than ``min_splits`` splits of an input larger than ``min_splits *
    min_split_bytes``, the same files are cut again into ``min_splits`` smaller ones (so that every
    worker gets a share), no smaller than ``min_split_bytes``.

    Raises InvalidSpec when ``baseDir`` or a file in ``files`` does not exist (naming
    ``spec.ioConfig.inputSource.baseDir`` or ``.files[i]``), when no file matches, or when a CSV/TSV
    format has neither ``columns`` nor ``findColumnsFromHeader``; Unsupported for an input source or
    format grove does not read; IngestionFailed when a file cannot be read.
    """
    target = max(1, int(target_bytes))
    fmt = input_format.type
    if fmt not in (*_TEXT_FORMATS, "parquet"):
        raise Unsupported(f"Unsupported input format [{fmt}] in {FORMAT_PATH}.type", f"{FORMAT_PATH}.type")
    source_type = input_source.type
    if source_type == "inline":
        if fmt == "parquet":
            raise InvalidSpec(f"Input format [parquet] cannot read inline data in {FORMAT_PATH}", FORMAT_PATH)
        data: str = input_source.data
        layout = _csv_layout(input_format, _head_lines(_open_inline(data), _header_lines(input_format)))
        columns, header_lines = layout if layout else (None, 0)
        return [InputSplit("inline", data=data, skip_lines=header_lines, columns=columns, size=len(data))]
    if source_type != "local":
        raise Unsupported(
            f"Unsupported input source [{source_type}] in {SOURCE_PATH}.type", f"{SOURCE_PATH}.type"
        )
    paths = _local_files(input_source)
    splits = _file_splits(paths, input_format, target)
    total = sum(split.size for split in splits)
    if len(splits) < min_splits and total > min_split_bytes * min_splits:
        splits = _file_splits(paths, input_format, max(min_split_bytes, total // min_splits))
    return splits


def _file_splits(paths: list[str], input_format: Any, target: int) -> list[InputSplit]:
    splits: list[InputSplit] = []
    for path in paths:
        if input_format.type == "parquet":
            splits += _parquet_splits(path, target)
        else:
            splits += _text_splits(path, input_format, target)
    return splits


def _local_files(source: Any) -> list[str]:
    base_dir = getattr(source, "base_dir", None)
    files: Sequence[str] = getattr(source, "files", None) or ()
    if not base_dir and not files:
        raise InvalidSpec(f"Input source [local] needs baseDir or files in {SOURCE_PATH}", SOURCE_PATH)
    found: list[str] = []
    if base_dir:
        if not os.path.isdir(base_dir):
            raise InvalidSpec(
                f"Input directory [{base_dir}] does not exist in {SOURCE_PATH}.baseDir",
                f"{SOURCE_PATH}.baseDir",
            )
        matches = _matcher(getattr(source, "filter", None) or "*")
        relative: list[str] = []
        for root, dirs, names in os.walk(base_dir, followlinks=True):
            dirs.sort()
            # One relative path per folder, not per file: baseDir may hold thousands of files.
            folder = os.path.relpath(root, base_dir).replace(os.sep, "/")
            prefix = "" if folder == "." else folder + "/"
            for name in names:
                rel = prefix + name
                if matches(rel) and os.path.isfile(os.path.join(root, name)):
                    relative.append(rel)
        found += [os.path.join(base_dir, rel) for rel in sorted(relative)]
    for i, path in enumerate(files):
        if not os.path.isfile(path):
            raise InvalidSpec(
                f"Input file [{path}] does not exist in {SOURCE_PATH}.files[{i}]", f"{SOURCE_PATH}.files[{i}]"
            )
        found.append(path)
    unique = list(dict.fromkeys(os.path.abspath(p) for p in found))
    if not unique:
        flt = getattr(source, "filter", None) or "*"
        raise InvalidSpec(
            f"No input files match filter [{flt}] under baseDir [{base_dir}]", f"{SOURCE_PATH}.filter"
        )
    return unique


def _matcher(pattern: str) -> Any:
    """Druid matches ``filter`` against file names; with a ``/`` grove matches relative paths (``**``)."""
    if "/" not in pattern:
        return lambda rel: fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], pattern)
    regex = _glob_regex(pattern)
    return lambda rel: regex.match(rel) is not None


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            # A character class as fnmatch reads it: ``[!...]`` negates, a leading ``]`` is literal.
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith(("^", "[")):
                body = "\\" + body
            out, i = out + "[" + body + "]", end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def _compression_of(path: str) -> str | None:
    for suffix, codec in _COMPRESSION.items():
        if path.lower().endswith(suffix):
            if not pa.Codec.is_available(codec):
                raise Unsupported(
                    f"Compression [{codec}] of input file [{path}] is not available", SOURCE_PATH
                )
            return codec
    return None


def _text_splits(path: str, input_format: Any, target: int) -> list[InputSplit]:
    compression = _compression_of(path)
    size = _file_size(path)
    if size == 0:
        return []
    header_count = _header_lines(input_format)
    try:
        with _open_file(path, compression) as stream:
            head = _head_lines(stream, header_count)
    except (OSError, pa.ArrowException) as e:
        raise IngestionFailed(f"Cannot read input file [{path}]: {e}") from None
    layout = _csv_layout(input_format, head)
    if input_format.type != "json" and layout is None:
        return []  # nothing but (part of) a header
    columns, header_lines = layout if layout else (None, 0)
    if compression is not None:
        return [
            InputSplit(
                "text", path, compression=compression, skip_lines=header_lines, columns=columns, size=size
            )
        ]
    start = sum(len(line) for line in head[:header_lines])
    bounds = _line_bounds(path, start, size, target)
    return [
        InputSplit(
            "text", path, a, b, first_line=header_lines if a == start else -1, columns=columns, size=b - a
        )
        for a, b in pairwise(bounds)
        if b > a
    ]


def _line_bounds(path: str, start: int, size: int, target: int) -> list[int]:
    """``start``, then the first line start at or after every ``target`` bytes, then ``size``."""
    bounds = [start]
    try:
        with open(path, "rb") as f:
            pos = start + target
            while pos < size:
                f.seek(pos - 1)  # a newline just before ``pos`` makes ``pos`` itself a line start
                cut = -1
                while cut < 0:
                    chunk = f.read(1 << 16)
                    if not chunk:
                        break
                    nl = chunk.find(b"\n")
                    if nl >= 0:
                        cut = f.tell() - len(chunk) + nl + 1
                if cut < 0 or cut >= size:
                    break
                bounds.append(cut)
                pos = cut + target
    except OSError as e:
        raise IngestionFailed(f"Cannot read input file [{path}]: {e.strerror or e}") from None
    bounds.append(size)
    return bounds


def _parquet_splits(path: str, target: int) -> list[InputSplit]:
    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException) as e:
        raise IngestionFailed(f"Cannot read Parquet file [{path}]: {e}") from None
    splits: list[InputSplit] = []
    groups: list[int] = []
    size = 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        if group.num_rows == 0:
            continue
        groups.append(i)
        size += sum(group.column(c).total_compressed_size for c in range(group.num_columns))
        if size >= target:
            splits.append(InputSplit("parquet", path, row_groups=tuple(groups), size=size))
            groups, size = [], 0
    if groups:
        splits.append(InputSplit("parquet", path, row_groups=tuple(groups), size=size))
    return splits


def _header_lines(input_format: Any) -> int:
    """Lines to look at before data starts: ``skipHeaderRows`` plus the header row when there is one."""
    if input_format.type not in ("csv", "tsv"):
        return 0
    skip = int(getattr(input_format, "skip_header_rows", 0) or 0)
    return skip + (1 if _find_header(input_format) else 0)


def _find_header(input_format: Any) -> bool:
    find = getattr(input_format, "find_columns_from_header", None)
    columns = getattr(input_format, "columns", None) or ()
    if not find and not columns:
        raise InvalidSpec(
            f"Input format [{input_format.type}] needs columns or findColumnsFromHeader in {FORMAT_PATH}.columns",
            f"{FORMAT_PATH}.columns",
        )
    return bool(find)


def _csv_layout(input_format: Any, head: list[bytes]) -> tuple[tuple[str, ...], int] | None:
    """CSV/TSV columns and the number of header lines; None for JSON or when the header is missing."""
    if input_format.type not in ("csv", "tsv"):
        return None
    count = _header_lines(input_format)
    if not _find_header(input_format):
        return tuple(input_format.columns), count
    if len(head) < count:
        return None
    line = head[count - 1].decode("utf-8", errors="replace").removeprefix("\ufeff").rstrip("\r\n")
    delimiter = getattr(input_format, "delimiter", None) or ("\t" if input_format.type == "tsv" else ",")
    if input_format.type == "csv":
        names = next(csv.reader([line], delimiter=delimiter), [])
    else:
        names = line.split(delimiter)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InvalidSpec(
            f"Duplicate column [{dup}] in the header row", f"{FORMAT_PATH}.findColumnsFromHeader"
        )
    return tuple(names), count


def _head_lines(stream: BinaryIO, count: int) -> list[bytes]:
    """The first ``count`` lines of ``stream``, each with its newline (the last one may lack it)."""
    if count <= 0:
        return []
    data = b""
    while data.count(b"\n") < count:
        chunk = stream.read(1 << 16)
        if not chunk:
            break
        data += chunk
    # Only "\n" ends a line, as for the block reader (``splitlines`` would also cut at a lone "\r").
    lines = [line + b"\n" for line in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    return [line for line in lines if line][:count]


# --------------------------------------------------------------------------------------------------------
# Reading.


def read_split(
    split: InputSplit,
    input_format: Any,
    *,
    batch_rows: int = 262_144,
    columns: Sequence[str] | None = None,
    string_columns: Sequence[str] = (),
    dictionary_columns: Sequence[str] = (),
) -> Iterator[ReadBatch]:
    """Stream ``split`` as batches of at most ``batch_rows`` rows.

    ``columns`` (when given) keeps only those output columns (after ``flattenSpec``), missing ones simply
    absent; ``string_columns`` come out as strings (JSON numbers and booleans as their text, arrays as
    lists of strings). Those of them also in ``dictionary_columns`` may come out of Parquet as Arrow
    dictionary arrays of strings, straight from the file's dictionary pages (not with a
    ``flattenSpec``, which may rename columns). Malformed records are counted in ``parse_errors``,
    never fatal. Raises InvalidSpec/Unsupported for a bad ``flattenSpec`` or format, IngestionFailed
    when the file cannot be read (missing, unreadable, corrupt compression or Parquet).
    """
    batch_rows = max(1, int(batch_rows))
    shaper = BatchShaper(input_format, columns, string_columns)
    if split.kind == "parquet":
        dictionary = frozenset(dictionary_columns) & shaper.string_columns
        if shaper.flatten is not None:
            dictionary = frozenset()
        for table in iter_parquet(split.path, split.row_groups, batch_rows, shaper.needed, dictionary):
            yield ReadBatch(shaper.shape(table), table.num_rows, 0, [])
        return
    parser = text_parser(input_format, split.columns, shaper)
    name = os.path.basename(split.path) if split.kind == "text" else "inline data"
    batcher = _Batcher(batch_rows)
    block_bytes = min(_MAX_BLOCK, max(_MIN_BLOCK, batch_rows * 128))
    lines = _LineCounter(split)
    try:
        for block, block_start in _blocks(split, block_bytes):
            parsed = parser.parse(block, partial(_locate, name, split, lines, block_start))
            if parsed.table.num_columns:
                parsed.table = shaper.shape(parsed.table)
            yield from batcher.add(parsed)
        yield from batcher.finish()
    finally:
        lines.close()


def _locate(name: str, split: InputSplit, lines: _LineCounter, block_start: int, i: int) -> str:
    """Where line ``i`` of the block starting at byte ``block_start`` of the split is, for messages."""
    line = lines.before(block_start) + i + 1
    if split.first_line >= 0:
        return f"{name} line {split.first_line + line}"
    return f"{name} line {line} after byte {split.start}"


class _LineCounter:
    """Counts the lines before a byte offset of a split on demand, reading the split a second time.

    Only error messages need line numbers, so the normal path never counts newlines; the first error
    pays for one pass over the bytes before it, later errors only for the bytes since the last one.
    """

    def __init__(self, split: InputSplit) -> None:
        self.split = split
        self.stream: BinaryIO | None = None
        self.offset = 0
        self.lines = 0

    def before(self, offset: int) -> int:
        if self.stream is None:
            self.stream = _open_split(self.split)
        while self.offset < offset:
            chunk = self.stream.read(min(1 << 20, offset - self.offset))
            if not chunk:
                break
            self.lines += chunk.count(b"\n")
            self.offset += len(chunk)
        return self.lines

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


def _blocks(split: InputSplit, block_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Blocks of whole lines of the split, each with its byte offset in the split."""
    remaining = split.end - split.start if split.end >= 0 else -1
    carry = b""
    carry_start = 0  # offset in the split of the first byte of ``carry``
    skip = split.skip_lines
    try:
        with _open_split(split) as stream:
            while True:
                want = block_bytes if remaining < 0 else min(block_bytes, remaining)
                chunk = stream.read(want) if want else b""
                if remaining >= 0:
                    remaining -= len(chunk)
                if carry_start == 0 and not carry and split.start == 0 and chunk.startswith(_BOM):
                    chunk = chunk[len(_BOM) :]
                    carry_start = len(_BOM)
                if not chunk:
                    block, carry = carry, b""
                else:
                    cut = chunk.rfind(b"\n") + 1
                    if cut == 0:  # a line longer than a block: read on
                        carry += chunk
                        continue
                    # One copy: the carried partial line joined to the chunk's whole lines.
                    block = carry + memoryview(chunk)[:cut] if carry else chunk[:cut]
                    carry = chunk[cut:]
                block_start = carry_start
                carry_start += len(block)
                while skip and block:  # header lines of a compressed or inline split
                    nl = block.find(b"\n")
                    dropped = nl + 1 if nl >= 0 else len(block)
                    block, block_start = block[dropped:], block_start + dropped
                    skip -= 1
                if block:
                    yield block, block_start
                if not chunk:
                    return
    except OSError as e:
        raise IngestionFailed(f"Cannot read input file [{split.path}]: {e.strerror or e}") from None
    except pa.ArrowException as e:
        raise IngestionFailed(f"Cannot read input file [{split.path}]: {e}") from None


class _Batcher:
    """Gathers parsed blocks into batches of exactly ``batch_rows`` rows (the last one fewer)."""

    def __init__(self, batch_rows: int) -> None:
        self.batch_rows = batch_rows
        self.table: pa.Table | None = None
        self.errors = 0
        self.samples: list[str] = []

    def add(self, parsed: ParsedBlock) -> Iterator[ReadBatch]:
        self.errors += parsed.parse_errors
        self.samples += parsed.error_samples[: _MAX_SAMPLES - len(self.samples)]
        table = parsed.table
        if table.num_rows == 0:
            return
        if self.table is None:
            self.table = table
        else:
            try:
                self.table = _concat(self.table, table)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                # The types changed between blocks (a column became text): a new batch starts here.
                yield from self._emit(self.table.num_rows)
                self.table = table
        while self.table is not None and self.table.num_rows >= self.batch_rows:
            yield from self._emit(self.batch_rows)

    def finish(self) -> Iterator[ReadBatch]:
        if self.table is not None and self.table.num_rows:
            yield from self._emit(self.table.num_rows)
        if self.errors:
            yield ReadBatch(pa.table({}), self.errors, self.errors, self.samples)
            self.errors, self.samples = 0, []

    def _emit(self, rows: int) -> Iterator[ReadBatch]:
        assert self.table is not None
        batch = self.table.slice(0, rows)
        rest = self.table.slice(rows)
        self.table = rest if rest.num_rows else None
        yield ReadBatch(batch, rows + self.errors, self.errors, self.samples)
        self.errors, self.samples = 0, []


def _concat(first: pa.Table, second: pa.Table) -> pa.Table:
    if first.num_columns == 0 and second.num_columns == 0:
        # Arrow loses the row count of tables without columns (no requested column was present).
        rows = first.num_rows + second.num_rows
        return pa.table({"rows": pa.nulls(rows)}).drop_columns(["rows"])
    return pa.concat_tables([first, second], promote_options="permissive")


# --------------------------------------------------------------------------------------------------------
# Opening input.


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError as e:
        raise IngestionFailed(f"Cannot read input file [{path}]: {e.strerror or e}") from None


def _open_file(path: str, compression: str | None, start: int = 0) -> BinaryIO:
    try:
        if compression is not None:
            stream: Any = pa.input_stream(path, compression=compression)
            return stream
        f = open(path, "rb")  # noqa: SIM115 - closed by the caller's ``with``
        f.seek(start)
        return f
    except OSError as e:
        raise IngestionFailed(f"Cannot read input file [{path}]: {e.strerror or e}") from None
    except pa.ArrowException as e:
        raise IngestionFailed(f"Cannot read input file [{path}]: {e}") from None


def _open_split(split: InputSplit) -> BinaryIO:
    """The split's bytes from its start: inline text, or the file (decompressed, or seeked to ``start``)."""
    if split.kind == "inline":
        return _open_inline(split.data or "")
    return _open_file(split.path, split.compression, split.start)


def _open_inline(data: str) -> BinaryIO:
    stream: Any = pa.BufferReader(data.encode())
    return stream
