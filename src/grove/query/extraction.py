"""Applying Druid extraction functions to arrays of values.

Engines call :func:`apply_extraction` on distinct values (a dictionary), so per-value work here runs
once per distinct value, never per row. Inputs are strings (numbers arrive in their text form);
outputs are strings, null where Druid's function yields null.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.common.granularity import Granularity
from grove.common.joda import format_millis, parse_format
from grove.common.time import format_timestamp, parse_timestamp, zone
from grove.errors import InvalidInput, Unsupported
from grove.query.lookups import active_lookup
from grove.query.spec import extraction as X

_STRING = pa.large_string()


def _per_value(values: pa.Array, fn: Callable[[str | None], str | None]) -> pa.Array:
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    mapped = [fn(v) for v in encoded.dictionary.to_pylist()]
    return pa.array(mapped, _STRING).take(encoded.indices)


def _as_millis(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
        if math.isfinite(number):
            return int(number)
    except ValueError:
        pass
    try:
        return parse_timestamp(value)
    except InvalidInput:
        return None


def _time_format(fn: X.TimeFormatExtractionFn) -> Callable[[str | None], str | None]:
    tz = zone(fn.time_zone) if fn.time_zone else zone(None)
    granularity: Granularity | None = fn.granularity
    pattern = fn.format

    def apply(value: str | None) -> str | None:
        ms = _as_millis(value)
        if ms is None:
            return None
        if granularity is not None:
            ms = granularity.truncate(ms)
        if fn.as_millis:
            return str(ms)
        if pattern is None:
            return format_timestamp(ms, tz)
        return format_millis([ms], pattern, tz)[0]

    return apply


def _time_parse(fn: X.TimeParseExtractionFn) -> Callable[[str | None], str | None]:
    from_fmt = parse_format(fn.time_format)
    to_fmt = fn.result_format

    def apply(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = _strptime_millis(value, from_fmt)
        except ValueError:
            return value  # Druid returns the input unchanged when it cannot be parsed
        return format_millis([parsed], to_fmt)[0]

    return apply


def _strptime_millis(value: str, fmt: str) -> int:
    dt = datetime.strptime(value, fmt)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _regex(fn: X.RegexExtractionFn) -> Callable[[str | None], str | None]:
    compiled = re.compile(fn.expr)

    def apply(value: str | None) -> str | None:
        m = compiled.search(value) if value is not None else None
        if m is None:
            if fn.replace_missing_value:
                return fn.replace_missing_value_with
            return value
        try:
            return m.group(fn.index)
        except IndexError:
            raise InvalidInput(f"Regex [{fn.expr}] has no group [{fn.index}]") from None

    return apply


def _partial(fn: X.PartialExtractionFn) -> Callable[[str | None], str | None]:
    compiled = re.compile(fn.expr)
    return lambda v: v if v is not None and compiled.search(v) else None


def _lookup(table: dict[str, str], opts: X.LookupOptions) -> Callable[[str | None], str | None]:
    def apply(value: str | None) -> str | None:
        if value is not None and value in table:
            return table[value]
        if opts.retain_missing_value:
            return value
        return opts.replace_missing_value_with

    return apply


def _string_format(fn: X.StringFormatExtractionFn) -> Callable[[str | None], str | None]:
    def apply(value: str | None) -> str | None:
        if value is None:
            if fn.null_handling == "returnNull":
                return None
            value = "" if fn.null_handling == "emptyString" else "null"
        try:
            return fn.format % value
        except (TypeError, ValueError):
            raise Unsupported(f"stringFormat pattern [{fn.format}] is not supported") from None

    return apply


def _bucket(fn: X.BucketExtractionFn) -> Callable[[str | None], str | None]:
    def apply(value: str | None) -> str | None:
        try:
            x = float(value) if value is not None else None
        except ValueError:
            return None
        if x is None:
            return None
        b = math.floor((x - fn.offset) / fn.size) * fn.size + fn.offset
        return str(int(b)) if b == int(b) else repr(b)

    return apply


def apply_extraction(fn: Any, values: pa.Array) -> pa.Array:
    """Map ``values`` (strings) through the extraction function ``fn``; returns strings."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, _STRING)
    values = values.cast(_STRING)
    if isinstance(fn, X.IdentityExtractionFn):
        return values
    if isinstance(fn, X.UpperExtractionFn):
        return pc.utf8_upper(values)
    if isinstance(fn, X.LowerExtractionFn):
        return pc.utf8_lower(values)
    if isinstance(fn, X.StrlenExtractionFn):
        lengths = pc.utf8_length(values).fill_null(0)
        return pc.cast(lengths, _STRING)
    if isinstance(fn, X.SubstringExtractionFn):
        lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
        stop = None if fn.length is None else fn.index + fn.length
        sliced = (
            pc.utf8_slice_codeunits(values, fn.index, stop)
            if stop is not None
            else pc.utf8_slice_codeunits(values, fn.index)
        )
        # Druid yields null when the start index is past the end of the value.
        beyond = np.nan_to_num(lengths.astype(np.float64), nan=0) <= fn.index
        return pc.if_else(pa.array(beyond), pa.scalar(None, _STRING), sliced)
    if isinstance(fn, X.CascadeExtractionFn):
        for inner in fn.extraction_fns:
            values = apply_extraction(inner, values)
        return values
    if isinstance(fn, X.LookupExtractionFn):
        return _per_value(values, _lookup(dict(fn.lookup.map), fn))
    if isinstance(fn, X.RegisteredLookupExtractionFn):
        return active_lookup(fn.lookup, "lookup").apply(
            values,
            retain_missing=fn.retain_missing_value,
            replace_missing=fn.replace_missing_value_with,
        )
    per_value: dict[type, Callable[[Any], Callable[[str | None], str | None]]] = {
        X.TimeFormatExtractionFn: _time_format,
        X.TimeParseExtractionFn: _time_parse,
        X.RegexExtractionFn: _regex,
        X.PartialExtractionFn: _partial,
        X.StringFormatExtractionFn: _string_format,
        X.BucketExtractionFn: _bucket,
    }
    factory = per_value.get(type(fn))
    if factory is not None:
        return _per_value(values, factory(fn))
    if isinstance(fn, X.SearchQueryExtractionFn):
        keep = search_predicate(fn.query)(values.fill_null(""))
        return pc.if_else(pa.array(keep), values, pa.scalar(None, _STRING))
    raise Unsupported(f"Extraction function [{getattr(fn, 'type', fn)}] is not supported")


def search_predicate(query: Any) -> Callable[[pa.Array], np.ndarray]:
    """The predicate of a search query spec (contains, insensitive_contains, fragment, regex)."""
    if isinstance(query, X.InsensitiveContainsSearchQuerySpec):
        return lambda v: pc.match_substring(v, query.value, ignore_case=True).to_numpy(zero_copy_only=False)
    if isinstance(query, X.ContainsSearchQuerySpec):
        return lambda v: pc.match_substring(v, query.value, ignore_case=not query.case_sensitive).to_numpy(
            zero_copy_only=False
        )
    if isinstance(query, X.FragmentSearchQuerySpec):

        def fragments(v: pa.Array) -> np.ndarray:
            out = np.ones(len(v), dtype=bool)
            for frag in query.values:
                out &= pc.match_substring(v, frag, ignore_case=not query.case_sensitive).to_numpy(
                    zero_copy_only=False
                )
            return out

        return fragments
    if isinstance(query, X.RegexSearchQuerySpec):
        return lambda v: pc.match_substring_regex(v, query.pattern).to_numpy(zero_copy_only=False)
    raise Unsupported(f"Search query type [{getattr(query, 'type', query)}] is not supported")
