"""Event times from raw input columns: Druid's ``timestampSpec`` formats, vectorised, to epoch millis.

:func:`parse_timestamps` turns one column as read (strings, numbers, Arrow timestamps or dates) into int64
milliseconds since the epoch (UTC) plus a validity mask. It never raises for bad values: a value that is
missing or cannot be parsed gets ``False`` in the mask and the caller counts and drops the row.

Formats (case-insensitive, as in Druid's ``TimestampParser``):

* ``iso`` — ISO-8601: date only, date and time with ``T`` or a space, 1–9 fractional digits, ``Z`` or a
  numeric offset; no offset means UTC. (Druid's ``iso`` refuses the space separator; grove accepts it.)
* ``auto`` — ISO-8601 as above, a string of digits as millis, a number as millis, and Druid's trailing
  zone name (``2009-02-13 23:31:30 Asia/Shanghai``, read as local time in that zone).
* ``millis``, ``posix`` (seconds), ``micro``, ``nano`` — numbers or numeric strings; ``ruby`` — seconds
  with a fraction. Fractions are truncated toward zero like Druid's ``TimeUnit`` conversions.
* any other text is a Joda-Time ``DateTimeFormat`` pattern (``yyyy-MM-dd HH:mm:ss``,
  ``dd/MMM/yyyy:HH:mm:ss Z``); instants without a zone in the pattern are UTC.

Arrow timestamp columns (Parquet, or timestamps Arrow's JSON reader already recognised) and date columns
are taken as they are whatever the format says: they already are instants. Timestamp units below a
millisecond are floored. Numbers under ``iso`` or a pattern are read as their text, as Druid does, so
``20150912`` works with ``yyyyMMdd``.

Speed: ISO text goes through Arrow's own cast (tens of nanoseconds a row); fixed-width Joda patterns are
decoded from the string bytes with numpy; only values those cannot take go to a regex path, and only the
oddest forms (zone names, quoted values) to Python, once per distinct value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.common.time import MAX_INSTANT, MIN_INSTANT, parse_timestamp, zone
from grove.errors import IngestionFailed, InvalidInput, InvalidSpec

__all__ = ["check_timestamp_format", "parse_timestamps"]

FORMAT_PATH = "spec.dataSchema.timestampSpec.format"
MISSING_VALUE_PATH = "spec.dataSchema.timestampSpec.missingValue"

# Milliseconds per unit of each numeric format; ``micro``/``nano`` divide.
_NUMERIC_SCALE = {"millis": 1, "posix": 1000, "ruby": 1000, "micro": -1000, "nano": -1_000_000}

_TS_NS_UTC = pa.timestamp("ns", tz="UTC")
_TS_NS = pa.timestamp("ns")

# What Arrow's string→timestamp cast accepts, so the slow path can send each value to the right cast.
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_ISO_TIME = r"[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
_ISO_NAIVE_RE = rf"^{_ISO_DATE}(?:{_ISO_TIME})?$"
_ISO_AWARE_RE = rf"^{_ISO_DATE}{_ISO_TIME}(?:Z|[+-]\d{{2}}(?::?\d{{2}})?)$"
_DIGITS_RE = r"^\d{1,18}$"
_INT_RE = r"^\s*[+-]?\d{1,19}\s*$"
_FLOAT_RE = r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?\s*$"

# fmt: off
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
# fmt: on
_MONTH_NAMES = pa.array([m[:3] for m in _MONTHS] + list(_MONTHS))
_MONTH_OF_PREFIX = {m[:3].encode(): i + 1 for i, m in enumerate(_MONTHS)}
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def check_timestamp_format(fmt: str) -> None:
    """Raise InvalidSpec naming ``spec.dataSchema.timestampSpec.format`` when ``fmt`` cannot be parsed."""
    _compile(fmt)


def parse_timestamps(
    values: pa.Array | pa.ChunkedArray, fmt: str, missing_value: str | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch millis (int64) and a validity mask (bool) for ``values`` read with timestamp format ``fmt``.

    Null and empty values are missing: they take ``missing_value`` (an ISO-8601 string or epoch millis,
    Druid's ``missingValue``) when given, and are invalid otherwise. Unparseable values and instants
    outside Druid's eternity are invalid. Invalid rows hold 0 in the millis array. Raises InvalidSpec for
    a format that is not one of Druid's names and not a valid Joda-Time pattern, or for a bad
    ``missing_value``; never for the data.
    """
    parser = _compile(fmt)
    missing_ms = _missing_millis(missing_value)
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    if not chunks:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    try:
        parts = [_parse_array(chunk, parser, missing_ms) for chunk in chunks]
    except pa.ArrowException as e:  # a value shape the vectorised paths did not foresee: a bug, said plainly
        raise IngestionFailed(f"Cannot parse timestamps with format [{fmt}]: {e}") from None
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# --------------------------------------------------------------------------------------------------------
# Dispatch on the column's type.


@dataclass(frozen=True)
class _Parser:
    kind: str  # "iso", "auto", "numeric" or "joda"
    scale: int = 1  # for "numeric": see _NUMERIC_SCALE
    joda: _JodaPattern | None = None


@lru_cache(maxsize=64)
def _compile(fmt: str) -> _Parser:
    if not isinstance(fmt, str) or not fmt:
        raise InvalidSpec(f"Invalid timestamp format [{fmt}] in {FORMAT_PATH}", FORMAT_PATH)
    name = fmt.lower()
    if name in ("iso", "auto"):
        return _Parser(name)
    if name in _NUMERIC_SCALE:
        return _Parser("numeric", _NUMERIC_SCALE[name])
    return _Parser("joda", joda=_compile_joda(fmt))


def _missing_millis(missing_value: str | int | None) -> int | None:
    if missing_value is None:
        return None
    if isinstance(missing_value, bool):
        raise InvalidSpec(f"Invalid missingValue in {MISSING_VALUE_PATH}", MISSING_VALUE_PATH)
    if isinstance(missing_value, int):
        return missing_value
    text = str(missing_value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return parse_timestamp(text)
    except InvalidInput:
        raise InvalidSpec(f"Invalid timestamp [{text}] in {MISSING_VALUE_PATH}", MISSING_VALUE_PATH) from None


def _parse_array(arr: pa.Array, parser: _Parser, missing_ms: int | None) -> tuple[np.ndarray, np.ndarray]:
    n = len(arr)
    typ = arr.type
    if pa.types.is_dictionary(typ):
        # Parse each distinct value once; the indices spread the results.
        present = ~_null_mask(arr)
        if len(arr.dictionary) == 0:
            return _fill_missing(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool), ~present, missing_ms)
        d_ms, d_ok = _parse_array(arr.dictionary, parser, missing_ms)
        pos = _fill(arr.indices.cast(pa.int64())).astype(np.intp)
        return _fill_missing(d_ms[pos], d_ok[pos] & present, ~present, missing_ms)

    missing = _null_mask(arr)
    if pa.types.is_null(typ):
        ms, ok = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    elif pa.types.is_timestamp(typ):
        ms, ok = _from_timestamp(arr), ~missing
    elif pa.types.is_date32(typ):
        ms, ok = _fill(arr.cast(pa.int32())).astype(np.int64) * 86_400_000, ~missing
    elif pa.types.is_date64(typ):
        ms, ok = _fill(arr.cast(pa.int64())), ~missing
    elif pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        if parser.kind in ("auto", "numeric"):
            ms, ok = _from_numbers(arr, parser.scale if parser.kind == "numeric" else 1)
        else:
            ms, ok = _parse_strings(arr.cast(pa.string()), parser)
    elif _is_text(typ):
        strings = arr if typ == pa.string() else arr.cast(pa.string())
        missing |= _empty_mask(strings)
        ms, ok = _parse_strings(strings, parser)
    elif pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        try:
            strings = arr.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            ms, ok = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
        else:
            missing |= _empty_mask(strings)
            ms, ok = _parse_strings(strings, parser)
    else:
        ms, ok = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    ok &= ~missing
    return _fill_missing(ms, ok, missing, missing_ms)


def _fill_missing(
    ms: np.ndarray, ok: np.ndarray, missing: np.ndarray, missing_ms: int | None
) -> tuple[np.ndarray, np.ndarray]:
    ok = ok & (ms >= MIN_INSTANT) & (ms <= MAX_INSTANT)
    if missing_ms is not None and missing.any():
        ms = np.where(missing, missing_ms, ms)
        ok = ok | missing
    ms = np.where(ok, ms, 0)
    return ms.astype(np.int64, copy=False), ok


def _is_text(typ: pa.DataType) -> bool:
    return pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ)


def _null_mask(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.zeros(len(arr), dtype=bool)
    return _fill(arr.is_null())


def _empty_mask(strings: pa.Array) -> np.ndarray:
    return _fill(pc.equal(pc.binary_length(strings), 0), False)


def _fill(arr: pa.Array | pa.ChunkedArray, value: object = 0) -> np.ndarray:
    """``arr`` as numpy with nulls replaced by ``value`` (False for booleans)."""
    if arr.null_count:
        if pa.types.is_boolean(arr.type):
            value = bool(value)
        arr = pc.fill_null(arr, pa.scalar(value, type=arr.type))
    return arr.to_numpy(zero_copy_only=False)


def _from_timestamp(arr: pa.Array) -> np.ndarray:
    raw = _fill(arr.cast(pa.int64()))
    if arr.type.unit == "s":
        return raw * 1000
    return raw // {"ms": 1, "us": 1000, "ns": 1_000_000}[arr.type.unit]


def _from_numbers(arr: pa.Array, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Numbers in a numeric unit to millis; ``scale`` > 0 multiplies, < 0 divides (truncating)."""
    ok = ~_null_mask(arr)
    if pa.types.is_integer(arr.type):
        values = _fill(arr.cast(pa.int64()))
        if scale > 0:
            limit = MAX_INSTANT // scale
            ok &= (values >= -limit) & (values <= limit)
            return np.where(ok, values, 0) * scale, ok
        return _trunc_div(values, -scale), ok
    values = _fill(arr.cast(pa.float64()), np.nan)
    scaled = values * scale if scale > 0 else values / -scale
    ok &= np.isfinite(scaled) & (np.abs(scaled) <= MAX_INSTANT)
    return np.trunc(np.where(ok, scaled, 0)).astype(np.int64), ok


def _trunc_div(values: np.ndarray, divisor: int) -> np.ndarray:
    """Integer division rounding toward zero, like Java's ``TimeUnit`` conversions."""
    q = np.abs(values) // divisor
    return np.where(values < 0, -q, q)


# --------------------------------------------------------------------------------------------------------
# Strings.


def _parse_strings(strings: pa.Array, parser: _Parser) -> tuple[np.ndarray, np.ndarray]:
    if parser.kind == "numeric":
        return _numeric_strings(strings, parser.scale)
    if parser.kind == "joda":
        assert parser.joda is not None
        return _joda_strings(strings, parser.joda)
    return _iso_strings(strings, allow_millis=parser.kind == "auto")


def _numeric_strings(strings: pa.Array, scale: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        return _from_numbers(strings.cast(pa.int64()), scale)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Mixed content: integers exactly, decimals as doubles (Druid only takes integers here but the text
    # is unambiguous), anything else invalid. Quotes are stripped as Druid's ParserUtils does.
    text = pc.utf8_trim(strings, characters='"')
    is_int = _fill(pc.match_substring_regex(text, _INT_RE), False)
    is_float = _fill(pc.match_substring_regex(text, _FLOAT_RE), False) & ~is_int
    text = pc.utf8_ltrim(pc.utf8_trim_whitespace(text), characters="+")
    ms = np.zeros(len(strings), dtype=np.int64)
    ok = np.zeros(len(strings), dtype=bool)
    if is_int.any():
        try:
            ints = pc.if_else(pa.array(is_int), text, "0").cast(pa.int64())
        except pa.ArrowInvalid:  # beyond int64: approximate as doubles, the range check then decides
            is_float |= is_int
        else:
            i_ms, i_ok = _from_numbers(ints, scale)
            ms, ok = np.where(is_int, i_ms, ms), np.where(is_int, i_ok, ok)
    if is_float.any():
        f_ms, f_ok = _from_numbers(pc.if_else(pa.array(is_float), text, "0").cast(pa.float64()), scale)
        ms, ok = np.where(is_float, f_ms, ms), np.where(is_float, f_ok, ok)
    return ms, ok


def _iso_strings(strings: pa.Array, *, allow_millis: bool) -> tuple[np.ndarray, np.ndarray]:
    # Fast path: the whole array in one Arrow cast, first with offsets (the common ``...Z`` form), then
    # without. Nanoseconds keep every fraction digit the cast would otherwise refuse to drop.
    for typ in (_TS_NS_UTC, _TS_NS):
        try:
            ns = strings.cast(typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return _fill(ns.cast(pa.int64())) // 1_000_000, ~_null_mask(ns)

    n = len(strings)
    ms = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    todo = ~_null_mask(strings) & ~_empty_mask(strings)
    if allow_millis:
        digits = _fill(pc.match_substring_regex(strings, _DIGITS_RE), False) & todo
        if digits.any():
            ms = np.where(digits, _fill(pc.if_else(pa.array(digits), strings, "0").cast(pa.int64())), ms)
            ok |= digits
            todo &= ~digits
    for pattern, typ, dummy in (
        (_ISO_AWARE_RE, _TS_NS_UTC, "1970-01-01T00:00:00Z"),
        (_ISO_NAIVE_RE, _TS_NS, "1970-01-01"),
    ):
        if not todo.any():
            break
        mask = _fill(pc.match_substring_regex(strings, pattern), False) & todo
        if mask.any():
            got_ms, got = _cast_where(strings, mask, typ, dummy)
            ms = np.where(got, got_ms, ms)
            ok |= got
            todo &= ~got
    if todo.any():
        _per_distinct(strings, todo, lambda text: _iso_text(text, allow_millis), ms, ok)
    return ms, ok


def _cast_where(
    strings: pa.Array, mask: np.ndarray, typ: pa.DataType, dummy: str
) -> tuple[np.ndarray, np.ndarray]:
    """Cast the values under ``mask`` (others replaced by ``dummy``); parts that fail stay not ok.

    A value can match the ISO regex and still be refused (``2015-02-30``, a year outside the nanosecond
    range); halving the failing part isolates it in a few more casts instead of sending it all to Python.
    """
    n = len(strings)
    ms = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    pending = [(0, n)]
    while pending:
        start, stop = pending.pop()
        part_mask = mask[start:stop]
        if not part_mask.any():
            continue
        part = pc.if_else(pa.array(part_mask), strings.slice(start, stop - start), dummy)
        try:
            ns = part.cast(typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if stop - start > 64:
                mid = (start + stop) // 2
                pending += [(start, mid), (mid, stop)]
            continue
        ms[start:stop] = _fill(ns.cast(pa.int64())) // 1_000_000
        ok[start:stop] = part_mask
    return ms, ok


def _per_distinct(
    strings: pa.Array, mask: np.ndarray, parse: Callable[[str], int | None], ms: np.ndarray, ok: np.ndarray
) -> None:
    """Parse each distinct value under ``mask`` once in Python and spread the results into ``ms``/``ok``."""
    idx = np.flatnonzero(mask)
    sub = strings.take(pa.array(idx))
    distinct = pc.unique(sub)
    parsed = [parse(text) for text in distinct.to_pylist()]
    d_ok = np.array([p is not None for p in parsed], dtype=bool)
    d_ms = np.array([p if p is not None else 0 for p in parsed], dtype=np.int64)
    pos = _fill(pc.index_in(sub, value_set=distinct)).astype(np.intp)
    ms[idx] = d_ms[pos]
    ok[idx] = d_ok[pos]


def _iso_text(text: str, allow_millis: bool) -> int | None:
    """One ISO-8601 value in the forms the vectorised casts leave over, or None."""
    text = text.strip().strip('"').strip()
    if allow_millis and text.isascii() and text.isdigit():
        return int(text)
    try:
        return parse_timestamp(text)
    except InvalidInput:
        pass
    # Druid's ``auto`` reads a trailing zone name: ``2009-02-13 23:31:30 Asia/Shanghai``.
    head, _, zone_name = text.rpartition(" ")
    if head and zone_name:
        try:
            return parse_timestamp(head, zone(zone_name))
        except InvalidInput:
            return None
    return None


# --------------------------------------------------------------------------------------------------------
# Joda-Time patterns.


@dataclass(frozen=True)
class _Field:
    """One pattern letter run: ``kind`` names the calendar field, ``width`` is its fixed text width."""

    kind: str
    count: int
    regex: str
    width: int | None  # None when the printed width varies


@dataclass(frozen=True)
class _JodaPattern:
    pattern: str
    regex: str  # the whole pattern, with one named group per field
    fields: tuple[_Field, ...]
    # Fixed-width layout: (offset, field) pairs and literal (offset, byte) checks, or None.
    layout: tuple[tuple[tuple[int, _Field], ...], tuple[tuple[int, int], ...], int] | None


# Letters Joda-Time parses, mapped to a field kind. Week-based fields and zone names ('z') cannot be
# parsed by Joda either, so they are refused up front.
_JODA_KINDS = {
    "y": "year",
    "Y": "year",
    "u": "year",
    "M": "month",
    "d": "day",
    "D": "dayofyear",
    "H": "hour",
    "k": "hour24",
    "h": "clockhour",
    "K": "halfhour",
    "m": "minute",
    "s": "second",
    "S": "fraction",
    "a": "ampm",
    "E": "dayname",
    "e": "daynumber",
    "G": "era",
    "Z": "zone",
}
_NUMERIC_KINDS = {"year", "month", "day", "dayofyear", "hour", "hour24", "clockhour", "halfhour"}
_NUMERIC_KINDS |= {"minute", "second", "fraction", "daynumber"}


@lru_cache(maxsize=64)
def _compile_joda(pattern: str) -> _JodaPattern:
    tokens = _tokenize(pattern)
    fields: list[_Field] = []
    parts: list[str] = []
    layout_fields: list[tuple[int, _Field]] = []
    layout_literals: list[tuple[int, int]] = []
    pos: int | None = 0
    seen: set[str] = set()
    for i, (letter, count, literal) in enumerate(tokens):
        if letter is None:
            parts.append(re.escape(literal))
            if pos is not None:
                for ch in literal.encode():
                    layout_literals.append((pos, ch))
                    pos += 1
            continue
        kind = _JODA_KINDS[letter]
        if kind == "month" and count >= 3:
            kind = "monthname"
        if kind == "zone" and count >= 3:
            kind = "zoneid"
        if kind in seen:
            raise InvalidSpec(f"Timestamp format [{pattern}] repeats a field in {FORMAT_PATH}", FORMAT_PATH)
        seen.add(kind)
        next_numeric = i + 1 < len(tokens) and _is_numeric_token(tokens[i + 1])
        field = _make_field(kind, count, next_numeric)
        fields.append(field)
        parts.append(f"(?P<{kind}>{field.regex})")
        if pos is not None and field.width is not None:
            layout_fields.append((pos, field))
            pos += field.width
        else:
            pos = None
    regex = "(?i)^" + "".join(parts) + "$"
    try:
        re.compile(regex)
    except re.error:
        raise InvalidSpec(f"Unsupported timestamp format [{pattern}] in {FORMAT_PATH}", FORMAT_PATH) from None
    layout = (tuple(layout_fields), tuple(layout_literals), pos) if pos is not None else None
    return _JodaPattern(pattern, regex, tuple(fields), layout)


def _tokenize(pattern: str) -> list[tuple[str | None, int, str]]:
    """Joda pattern → (letter, count, "") for fields and (None, 0, text) for literals."""
    tokens: list[tuple[str | None, int, str]] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            end = i + 1
            text = ""
            while True:
                if end >= n:
                    raise InvalidSpec(
                        f"Unterminated quote in timestamp format [{pattern}] in {FORMAT_PATH}", FORMAT_PATH
                    )
                if pattern[end] == "'":
                    if end + 1 < n and pattern[end + 1] == "'":
                        text += "'"
                        end += 2
                        continue
                    break
                text += pattern[end]
                end += 1
            tokens.append((None, 0, text if end > i + 1 else "'"))
            i = end + 1
        elif ch.isascii() and ch.isalpha():
            if ch not in _JODA_KINDS:
                raise InvalidSpec(
                    f"Unsupported pattern letter [{ch}] in timestamp format [{pattern}] in {FORMAT_PATH}",
                    FORMAT_PATH,
                )
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            tokens.append((ch, j - i, ""))
            i = j
        else:
            tokens.append((None, 0, ch))
            i += 1
    # A quoted empty string ('') is a literal quote; merge adjacent literals for simpler regexes.
    merged: list[tuple[str | None, int, str]] = []
    for tok in tokens:
        if tok[0] is None and merged and merged[-1][0] is None:
            merged[-1] = (None, 0, merged[-1][2] + tok[2])
        else:
            merged.append(tok)
    if not any(t[0] is not None for t in merged):
        raise InvalidSpec(f"Timestamp format [{pattern}] has no fields in {FORMAT_PATH}", FORMAT_PATH)
    return merged


def _is_numeric_token(token: tuple[str | None, int, str]) -> bool:
    letter, count, _ = token
    if letter is None:
        return False
    kind = _JODA_KINDS[letter]
    return kind in _NUMERIC_KINDS and not (kind == "month" and count >= 3)


def _make_field(kind: str, count: int, next_numeric: bool) -> _Field:
    """Regex and fixed width of a field; Joda reads at most ``count`` digits before another number."""
    if kind == "year":
        if count == 2:
            return _Field("year2", 2, r"\d{2}", 2)
        digits = rf"\d{{1,{count}}}" if next_numeric else r"[+-]?\d{1,9}"
        return _Field(kind, count, digits, 4 if count == 4 else None)
    if kind == "fraction":
        return _Field(kind, count, rf"\d{{1,{count if next_numeric else 9}}}", count)
    if kind == "monthname":
        return _Field(kind, count, r"[A-Za-z]+", 3 if count == 3 else None)
    if kind == "dayname":
        return _Field(kind, count, r"[A-Za-z]+", 3 if count == 3 else None)
    if kind == "era":
        return _Field(kind, count, r"[A-Za-z]{2}", 2)
    if kind == "ampm":
        return _Field(kind, count, r"[AaPp][Mm]", 2)
    if kind == "zone":
        width = 5 if count == 1 else 6
        return _Field(kind, count, r"Z|[+-]\d{2}:?\d{2}", width)
    if kind == "zoneid":
        return _Field(kind, count, r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*", None)
    max_digits = 3 if kind == "dayofyear" else 2
    if kind == "daynumber":
        max_digits = 1
    fixed = count if count == max_digits else None
    return _Field(kind, count, rf"\d{{1,{max_digits}}}", fixed)


def _joda_strings(strings: pa.Array, pattern: _JodaPattern) -> tuple[np.ndarray, np.ndarray]:
    n = len(strings)
    ms = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    todo = ~_null_mask(strings)
    if pattern.layout is not None:
        _joda_fixed(strings, pattern, todo, ms, ok)
        todo &= ~ok
    if todo.any():
        _joda_regex(strings, pattern, todo, ms, ok)
    return ms, ok


def _joda_fixed(
    strings: pa.Array, pattern: _JodaPattern, todo: np.ndarray, ms: np.ndarray, ok: np.ndarray
) -> None:
    """Decode values printed at the pattern's fixed width straight from the string bytes."""
    assert pattern.layout is not None
    layout_fields, literals, width = pattern.layout
    buffers = strings.buffers()
    if buffers[2] is None or width == 0:
        return
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[strings.offset : strings.offset + len(strings) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    rows = np.flatnonzero(todo & (np.diff(offsets) == width))
    if rows.size == 0:
        return
    starts = offsets[:-1][rows]
    if rows.size == len(strings) and starts[-1] - starts[0] == width * (rows.size - 1):
        matrix = data[starts[0] : starts[0] + width * rows.size].reshape(rows.size, width)
    else:
        matrix = data[starts[:, None] + np.arange(width)]
    good = np.ones(rows.size, dtype=bool)
    for offset, byte in literals:
        column = matrix[:, offset]
        if chr(byte).isalpha():  # letters compare case-insensitively, as Joda does
            good &= (column | 0x20) == (byte | 0x20)
        else:
            good &= column == byte
    values: dict[str, np.ndarray] = {}
    for offset, field in layout_fields:
        assert field.width is not None
        value, valid = _decode_fixed(field, matrix[:, offset : offset + field.width])
        values[field.kind] = value
        good &= valid
    got_ms, got = _assemble(values, rows.size)
    good &= got
    ms[rows[good]] = got_ms[good]
    ok[rows[good]] = True


def _decode_fixed(field: _Field, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if field.kind in _NUMERIC_KINDS or field.kind == "year2":
        digits = block.astype(np.int64) - 48
        valid = np.asarray(((digits >= 0) & (digits <= 9)).all(axis=1), dtype=bool)
        value = np.zeros(block.shape[0], dtype=np.int64)
        for k in range(block.shape[1]):
            value = value * 10 + digits[:, k]
        if field.kind == "fraction":  # a fraction of a second: scale to exactly three digits
            w = block.shape[1]
            value = value * 10 ** (3 - w) if w <= 3 else value // 10 ** (w - 3)
        return value, valid
    if field.kind == "monthname":
        words = np.ascontiguousarray(block | 0x20).view("S3").ravel()
        distinct, inverse = np.unique(words, return_inverse=True)
        months = np.array([_MONTH_OF_PREFIX.get(bytes(w), 0) for w in distinct], dtype=np.int64)
        month = months[inverse.ravel()]
        return month, month > 0
    if field.kind == "ampm":
        lower = block.astype(np.int64) | 0x20
        valid = ((lower[:, 0] == ord("a")) | (lower[:, 0] == ord("p"))) & (lower[:, 1] == ord("m"))
        return (lower[:, 0] == ord("p")).astype(np.int64), valid
    if field.kind == "zone":
        sign = block[:, 0]
        digits = block.astype(np.int64) - 48
        if block.shape[1] == 6:
            hh, mm = digits[:, 1] * 10 + digits[:, 2], digits[:, 4] * 10 + digits[:, 5]
            colon = block[:, 3] == ord(":")
            numeric = np.c_[digits[:, 1:3], digits[:, 4:6]]
        else:
            hh, mm = digits[:, 1] * 10 + digits[:, 2], digits[:, 3] * 10 + digits[:, 4]
            colon = np.ones(block.shape[0], dtype=bool)
            numeric = digits[:, 1:5]
        valid = ((sign == ord("+")) | (sign == ord("-"))) & colon & ((numeric >= 0) & (numeric <= 9)).all(1)
        offset = (hh * 60 + mm) * np.where(sign == ord("-"), -1, 1)
        return offset, valid & (hh <= 23) & (mm <= 59)
    # Day names and eras are read but do not change the instant.
    letters = (block | 0x20).astype(np.int64)
    valid = np.asarray(((letters >= 97) & (letters <= 122)).all(axis=1), dtype=bool)
    return np.zeros(block.shape[0], dtype=np.int64), valid


def _joda_regex(
    strings: pa.Array, pattern: _JodaPattern, todo: np.ndarray, ms: np.ndarray, ok: np.ndarray
) -> None:
    """The general path: Arrow's regex extracts every field of the values still to do."""
    idx = np.flatnonzero(todo)
    sub = strings.take(pa.array(idx))
    matched = pc.extract_regex(sub, pattern.regex)
    present = ~_null_mask(matched)
    values: dict[str, np.ndarray] = {}
    good = present.copy()
    zone_ids: pa.Array | None = None
    for field in pattern.fields:
        text = pc.struct_field(matched, field.kind)
        if field.kind in _NUMERIC_KINDS or field.kind == "year2":
            if field.kind == "fraction":
                text = pc.utf8_slice_codeunits(pc.utf8_rpad(text, width=3, padding="0"), 0, 3)
            # Arrow's integer cast refuses a leading '+', which Joda's signed year allows.
            number = pc.cast(
                pc.if_else(pa.array(present), pc.utf8_ltrim(text, characters="+"), "0"), pa.int64()
            )
            values[field.kind] = _fill(number)
        elif field.kind == "monthname":
            month = pc.index_in(pc.utf8_lower(text), value_set=_MONTH_NAMES)
            good &= ~_null_mask(month)
            values[field.kind] = _fill(month) % 12 + 1
        elif field.kind == "ampm":
            values[field.kind] = _fill(pc.equal(pc.utf8_lower(text), "pm"), False).astype(np.int64)
        elif field.kind == "zone":
            offset, valid = _zone_offsets(text)
            values[field.kind] = offset
            good &= valid
        elif field.kind == "zoneid":
            zone_ids = text
    got_ms, got = _assemble(values, len(idx))
    good &= got
    if zone_ids is not None:
        got_ms, zone_ok = _apply_zone_ids(got_ms, zone_ids, good)
        good &= zone_ok
    ms[idx[good]] = got_ms[good]
    ok[idx[good]] = True


def _zone_offsets(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets in minutes east of UTC for ``Z``, ``+hhmm`` and ``+hh:mm``."""
    compact = pc.replace_substring(pc.utf8_upper(text), ":", "")
    is_z = _fill(pc.equal(compact, "Z"), False)
    numeric = _fill(pc.match_substring_regex(compact, r"^[+-]\d{4}$"), False)
    safe = pc.if_else(numeric, compact, "+0000")
    hh = _fill(pc.utf8_slice_codeunits(safe, 1, 3).cast(pa.int64()))
    mm = _fill(pc.utf8_slice_codeunits(safe, 3, 5).cast(pa.int64()))
    sign = np.where(_fill(pc.starts_with(safe, "-"), False), -1, 1)
    valid = is_z | (numeric & (hh <= 23) & (mm <= 59))
    return np.where(numeric, sign * (hh * 60 + mm), 0), valid


def _apply_zone_ids(
    local_ms: np.ndarray, zone_ids: pa.Array, good: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Local times in named zones to UTC, one Arrow ``assume_timezone`` per distinct zone."""
    out = local_ms.copy()
    ok = np.zeros(len(local_ms), dtype=bool)
    names = zone_ids.to_numpy(zero_copy_only=False)
    for name in pc.unique(pc.filter(zone_ids, pa.array(good))).to_pylist():
        rows = np.flatnonzero(good & (names == name))
        local = pa.array(local_ms[rows], type=pa.timestamp("ms"))
        try:
            zoned = pc.assume_timezone(local, timezone=name, ambiguous="earliest", nonexistent="earliest")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            continue  # an unknown zone name: those rows stay invalid
        out[rows] = _fill(zoned.cast(pa.int64()))
        ok[rows] = True
    return out, ok


def _assemble(values: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Epoch millis from decoded fields, with Joda's range checks; absent fields take Joda's defaults."""
    ok = np.ones(n, dtype=bool)
    if "year2" in values:
        # Joda's two-digit year: within a century starting 80 years before the current year.
        low = _current_year() - 80
        two = values["year2"]
        year = low + (two - low % 100) % 100
    else:
        year = values.get("year", np.full(n, 2000, dtype=np.int64))  # Joda's default year is 2000
    if "dayofyear" in values and "month" not in values and "monthname" not in values:
        doy = values["dayofyear"]
        leap = _is_leap(year)
        ok &= (doy >= 1) & (doy <= 365 + leap)
        days = _days_from_civil(year, np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)) + doy - 1
    else:
        month = values.get("month", values.get("monthname", np.ones(n, dtype=np.int64)))
        day = values.get("day", np.ones(n, dtype=np.int64))
        ok &= (month >= 1) & (month <= 12)
        month_c = np.clip(month, 1, 12)
        dim = _DAYS_IN_MONTH[month_c - 1] + (_is_leap(year) & (month_c == 2))
        ok &= (day >= 1) & (day <= dim)
        days = _days_from_civil(year, month_c, day)
    hour = np.zeros(n, dtype=np.int64)
    if "hour" in values:
        hour = values["hour"]
        ok &= hour <= 23
    elif "hour24" in values:
        ok &= (values["hour24"] >= 1) & (values["hour24"] <= 24)
        hour = values["hour24"] % 24
    elif "clockhour" in values:
        ok &= (values["clockhour"] >= 1) & (values["clockhour"] <= 12)
        hour = values["clockhour"] % 12 + 12 * values.get("ampm", 0)
    elif "halfhour" in values:
        ok &= values["halfhour"] <= 11
        hour = values["halfhour"] + 12 * values.get("ampm", 0)
    minute = values.get("minute", np.zeros(n, dtype=np.int64))
    second = values.get("second", np.zeros(n, dtype=np.int64))
    ok &= (minute <= 59) & (second <= 59) & (np.abs(year) <= 292_000_000)
    fraction = values.get("fraction", np.zeros(n, dtype=np.int64))
    ms = (((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + fraction
    if "zone" in values:
        ms = ms - values["zone"] * 60_000
    return np.where(ok, ms, 0), ok


def _is_leap(year: np.ndarray) -> np.ndarray:
    return ((year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))).astype(np.int64)


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), vectorised."""
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _current_year() -> int:
    return int(np.datetime64("now", "Y").astype(int)) + 1970
