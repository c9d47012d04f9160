"""Evaluating Druid's native filters over a segment's columns.

Results follow Druid's SQL-compatible three-valued logic: every filter yields the rows where it is
TRUE and the rows where it is UNKNOWN (a null compared with a value); ``not`` keeps only rows that
were FALSE, so ``NOT (country = 'US')`` does not select rows whose country is null.

String predicates (selector, in, bound, like, regex, search, ...) are evaluated once per dictionary
value, giving a lookup table over codes. When the column has a stored bitmap index and few values
match, the result is the union of their bitmaps and no row is touched; otherwise it is the lookup
table applied to the codes. Numeric predicates are vectorised comparisons over the values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyroaring import BitMap

from grove.errors import InvalidQuery, Unsupported
from grove.query.expression.values import java_double_str
from grove.query.extraction import apply_extraction, search_predicate
from grove.query.rows import Rows
from grove.query.spec import filters as F
from grove.segment.columns import Column, NumericColumn, StringColumn
from grove.segment.encode import encode_strings

_BITMAP_UNION_LIMIT = 4096
_LOOKUP_LIMIT = 64  # IN lists longer than this are matched against the dictionary in Arrow


class ColumnSource(Protocol):
    """Where filters find columns: a segment, or a query's view of one with virtual columns."""

    @property
    def num_rows(self) -> int: ...

    def column(self, name: str) -> Column | None: ...


ExpressionMatcher = Callable[[str, int, int], tuple[np.ndarray, np.ndarray]]
"""Evaluates an expression filter over rows [lo, hi): returns (true mask, unknown mask)."""


@dataclass(frozen=True, slots=True)
class Match:
    """Rows where a filter is TRUE (``t``) and UNKNOWN (``u``, None when there are none)."""

    t: Rows
    u: Rows | None


class FilterEngine:
    """Evaluates filters over the rows ``[lo, hi)`` of a column source."""

    def __init__(
        self,
        source: ColumnSource,
        lo: int = 0,
        hi: int | None = None,
        *,
        expression_matcher: ExpressionMatcher | None = None,
    ) -> None:
        self.source = source
        self.lo = lo
        self.hi = source.num_rows if hi is None else hi
        self._expressions = expression_matcher
        self._columns: dict[str, Column | None] = {}

    # --- public ---------------------------------------------------------------------------------

    def rows(self, f: Any) -> Rows:
        """The rows the filter selects (TRUE; UNKNOWN is not selected)."""
        if f is None:
            return Rows.all(self.lo, self.hi)
        return self.match(f).t

    def match(self, f: Any) -> Match:
        handler = _HANDLERS.get(type(f))
        if handler is None:
            raise Unsupported(f"Filter type [{getattr(f, 'type', type(f).__name__)}] is not supported")
        result: Match = handler(self, f)
        return result

    # --- columns --------------------------------------------------------------------------------

    def column(self, name: str) -> Column | None:
        if name not in self._columns:
            self._columns[name] = self.source.column(name)
        return self._columns[name]

    def _all(self) -> Rows:
        return Rows.all(self.lo, self.hi)

    def _none(self) -> Rows:
        return Rows.none(self.lo, self.hi)

    def _mask(self, mask: np.ndarray) -> Rows:
        return Rows.from_mask(self.lo, self.hi, mask)

    # --- building blocks ------------------------------------------------------------------------

    def _missing_column(self, matches_null: bool) -> Match:
        # A column the segment lacks is null in every row.
        return Match(self._all(), None) if matches_null else Match(self._none(), self._all())

    def string_predicate(
        self,
        name: str,
        predicate: Callable[[pa.Array], np.ndarray],
        *,
        matches_null: bool = False,
        extraction_fn: Any = None,
    ) -> Match:
        """Match rows whose string value satisfies ``predicate`` (evaluated on distinct values).

        ``predicate`` takes a string array and returns a boolean numpy array; it is never asked
        about nulls, whose outcome is ``matches_null``. With an extraction function, values are
        mapped first (and null maps through it too).
        """
        col = self.column(name)
        if col is None:
            if extraction_fn is None:
                return self._missing_column(matches_null)
            col = StringColumn(pa.array([], pa.large_string()), np.zeros(self.hi, dtype=np.uint8))
        if isinstance(col, NumericColumn):
            col = _numeric_as_strings(col, self.lo, self.hi)
            if col is None:
                return self._missing_column(matches_null)
            offset = self.lo
        elif isinstance(col, StringColumn):
            offset = 0
        else:
            raise InvalidQuery(f"Cannot filter on sketch column [{name}]")
        values = col.dictionary
        null_outcome = matches_null
        if extraction_fn is not None:
            extracted = apply_extraction(extraction_fn, pa.concat_arrays([pa.nulls(1, values.type), values]))
            lut = np.zeros(len(extracted), dtype=bool)
            valid = extracted.is_valid().to_numpy(zero_copy_only=False)
            if valid.any():
                lut[valid] = predicate(extracted.filter(pa.array(valid)))
            lut[~valid] = matches_null
            return self._lut_match(col, lut, offset, unknown=~valid)
        lut = np.empty(len(values) + 1, dtype=bool)
        lut[0] = null_outcome
        if len(values):
            lut[1:] = predicate(values)
        unknown = np.zeros(len(lut), dtype=bool)
        unknown[0] = not null_outcome
        return self._lut_match(col, lut, offset, unknown=unknown)

    def _lut_match(self, col: StringColumn, lut: np.ndarray, offset: int, unknown: np.ndarray) -> Match:
        """Rows whose codes hit ``lut`` (TRUE) or ``unknown`` (and none hit ``lut``)."""
        t = self._codes_rows(col, lut, offset)
        u = None
        if unknown.any():
            u = self._codes_rows(col, unknown, offset) - t
            if u.is_empty():
                u = None
        return Match(t, u)

    def _codes_rows(self, col: StringColumn, lut: np.ndarray, offset: int) -> Rows:
        hits = np.flatnonzero(lut)
        if len(hits) == 0:
            return self._none()
        if len(hits) == len(lut):
            return self._all()
        if offset == 0 and col.has_index and len(hits) <= _BITMAP_UNION_LIMIT:
            bitmaps = [col.bitmap(int(c)) for c in hits]
            bm = BitMap.union(*bitmaps) if len(bitmaps) > 1 else bitmaps[0]
            if self.lo > 0 or self.hi < self.source.num_rows:
                bm = bm & Rows.all(self.lo, self.hi).bitmap()
            return Rows(self.lo, self.hi, bitmap=bm)
        lo, hi = self.lo - offset, self.hi - offset
        if col.offsets is None:
            return self._mask(lut[col.codes[lo:hi]])
        start, stop = col.offsets[lo], col.offsets[hi]
        per_value = lut[col.codes[start:stop]].astype(np.int64)
        counts = np.add.reduceat(per_value, col.offsets[lo:hi] - start) if hi > lo else np.zeros(0, np.int64)
        return self._mask(counts > 0)

    def numeric_predicate(
        self, name: str, predicate: Callable[[np.ndarray], np.ndarray], *, matches_null: bool = False
    ) -> Match:
        col = self.column(name)
        if col is None:
            return self._missing_column(matches_null)
        if not isinstance(col, NumericColumn):
            raise InvalidQuery(f"Column [{name}] is not numeric")
        values = col.values[self.lo : self.hi]
        t = predicate(values)
        if col.nulls is None:
            return Match(self._mask(t), None)
        nulls = col.nulls[self.lo : self.hi]
        if matches_null:
            return Match(self._mask(t | nulls), None)
        return Match(self._mask(t & ~nulls), self._mask(nulls))


def _numeric_as_strings(col: NumericColumn, lo: int, hi: int) -> StringColumn | None:
    """A numeric column's rows ``[lo, hi)`` as a string column (Druid compares them as text)."""
    values = col.values[lo:hi]
    if col.kind == "long":
        arr = pa.array(values, mask=col.nulls[lo:hi] if col.nulls is not None else None)
        strings = pc.cast(arr, pa.large_string())
    else:
        arr = pa.array(values.astype(np.float64), mask=col.nulls[lo:hi] if col.nulls is not None else None)
        strings = _java_doubles(arr)
    return encode_strings(strings)


def _java_doubles(arr: pa.Array) -> pa.Array:
    """Doubles printed as Java prints them (``1.0``, ``1.5``, ``1.0E10``)."""
    encoded = pc.dictionary_encode(arr)
    texts = [None if v is None else java_double_str(v) for v in encoded.dictionary.to_pylist()]
    return pa.array(texts, pa.large_string()).take(encoded.indices)


# --- value parsing -------------------------------------------------------------------------------


def _as_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _parse_numbers(values: pa.Array) -> np.ndarray:
    """Strings as float64 (NaN where a value is not a number)."""
    try:
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out = []
        for v in values.to_pylist():
            n = _as_number(v)
            out.append(math.nan if n is None else n)
        return np.asarray(out, dtype=np.float64)


def _equal_strings(values: pa.Array, target: str) -> np.ndarray:
    return pc.equal(values, pa.scalar(target, values.type)).to_numpy(zero_copy_only=False)


def _in_strings(values: pa.Array, targets: pa.Array) -> np.ndarray:
    return pc.is_in(values, value_set=targets).to_numpy(zero_copy_only=False)


# --- handlers ------------------------------------------------------------------------------------


def _selector(e: FilterEngine, f: F.SelectorFilter | F.ExtractionFilter) -> Match:
    value = f.value
    if f.extraction_fn is None:
        col = e.column(f.dimension)
        if isinstance(col, NumericColumn):
            if value is None:
                return e.numeric_predicate(f.dimension, lambda v: np.zeros(len(v), bool), matches_null=True)
            number = _as_number(value)
            if number is None:
                return e.numeric_predicate(f.dimension, lambda v: np.zeros(len(v), bool))
            return e.numeric_predicate(f.dimension, lambda v: v == number)
        if isinstance(col, StringColumn) and value is not None:
            code = col.lookup(value)
            lut = np.zeros(col.cardinality, dtype=bool)
            if code > 0:
                lut[code] = True
            unknown = np.zeros(col.cardinality, dtype=bool)
            unknown[0] = True
            return e._lut_match(col, lut, 0, unknown)
    if value is None:
        return e.string_predicate(
            f.dimension, lambda v: np.zeros(len(v), bool), matches_null=True, extraction_fn=f.extraction_fn
        )
    return e.string_predicate(f.dimension, lambda v: _equal_strings(v, value), extraction_fn=f.extraction_fn)


def _in(e: FilterEngine, f: F.InFilter) -> Match:
    # The value set is prepared once per query (InFilter's cached properties), not once per segment.
    has_null = f.matches_null
    col = e.column(f.dimension)
    if f.extraction_fn is None and isinstance(col, NumericColumn):
        numbers = np.array([n for n in map(_as_number, f.strings) if n is not None], dtype=np.float64)
        return e.numeric_predicate(f.dimension, lambda v: np.isin(v, numbers), matches_null=has_null)
    if f.extraction_fn is None and isinstance(col, StringColumn):
        lut = np.zeros(col.cardinality, dtype=bool)
        if len(f.strings) > _LOOKUP_LIMIT and len(col.dictionary):
            # Many values: the dictionary probed against their set (built once per query), by the
            # dictionary's hashes (worked out once per segment).
            lut[1:] = f.string_set.members(col.dictionary, col.dictionary_hashes()).view(bool)
        elif f.strings:
            codes = col.lookup_many(f.strings)
            lut[codes[codes > 0]] = True
        lut[0] = has_null
        unknown = np.zeros(col.cardinality, dtype=bool)
        unknown[0] = not has_null
        return e._lut_match(col, lut, 0, unknown)
    return e.string_predicate(
        f.dimension,
        lambda v: _in_strings(v, f.string_array),
        matches_null=has_null,
        extraction_fn=f.extraction_fn,
    )


def _compare_bounds(
    values: np.ndarray, lower: Any, upper: Any, lower_strict: bool, upper_strict: bool
) -> np.ndarray:
    out = np.ones(len(values), dtype=bool)
    if lower is not None:
        out &= values > lower if lower_strict else values >= lower
    if upper is not None:
        out &= values < upper if upper_strict else values <= upper
    return out


def _bound(e: FilterEngine, f: F.BoundFilter) -> Match:
    # Druid's bound filter orders null before every value, so without a lower bound it matches null
    # (filters.md: "the bound filter matches null values if you don't specify a lower bound").
    return _bound_match(e, f, matches_null=f.lower is None)


def _bound_match(e: FilterEngine, f: F.BoundFilter, *, matches_null: bool) -> Match:
    col = e.column(f.dimension)
    if f.ordering == "numeric":
        lower, upper = _as_number(f.lower), _as_number(f.upper)
        if (f.lower is not None and lower is None) or (f.upper is not None and upper is None):
            return e.string_predicate(
                f.dimension, lambda v: np.zeros(len(v), bool), extraction_fn=f.extraction_fn
            )
        if f.extraction_fn is None and isinstance(col, NumericColumn):
            return e.numeric_predicate(
                f.dimension,
                lambda v: _compare_bounds(v.astype(np.float64), lower, upper, f.lower_strict, f.upper_strict),
                matches_null=matches_null,
            )

        def numeric(values: pa.Array) -> np.ndarray:
            nums = _parse_numbers(values)
            with np.errstate(invalid="ignore"):
                return _compare_bounds(nums, lower, upper, f.lower_strict, f.upper_strict) & ~np.isnan(nums)

        return e.string_predicate(
            f.dimension, numeric, matches_null=matches_null, extraction_fn=f.extraction_fn
        )
    if f.ordering == "lexicographic":

        def lexicographic(values: pa.Array) -> np.ndarray:
            out = np.ones(len(values), dtype=bool)
            if f.lower is not None:
                cmp = pc.greater if f.lower_strict else pc.greater_equal
                out &= cmp(values, pa.scalar(f.lower, values.type)).to_numpy(zero_copy_only=False)
            if f.upper is not None:
                cmp = pc.less if f.upper_strict else pc.less_equal
                out &= cmp(values, pa.scalar(f.upper, values.type)).to_numpy(zero_copy_only=False)
            return out

        return e.string_predicate(
            f.dimension, lexicographic, matches_null=matches_null, extraction_fn=f.extraction_fn
        )
    key = _ORDERING_KEYS[f.ordering]

    def ordered(values: pa.Array) -> np.ndarray:
        out = []
        lo = key(f.lower) if f.lower is not None else None
        hi = key(f.upper) if f.upper is not None else None
        for v in values.to_pylist():
            k = key(v)
            ok = k is not None
            if ok and lo is not None:
                ok = k > lo if f.lower_strict else k >= lo
            if ok and hi is not None:
                ok = k < hi if f.upper_strict else k <= hi
            out.append(ok)
        return np.asarray(out, dtype=bool)

    return e.string_predicate(f.dimension, ordered, matches_null=matches_null, extraction_fn=f.extraction_fn)


def _alphanumeric_key(value: str | None) -> Any:
    if value is None:
        return None
    parts = re.split(r"(\d+)", value)
    return _Alnum(tuple((0, int(p), len(p)) if p.isdigit() else (1, p, 0) for p in parts if p != ""))


@dataclass(frozen=True, order=True)
class _Alnum:
    parts: tuple[Any, ...]


def _strlen_key(value: str | None) -> Any:
    return None if value is None else (len(value), value)


def _version_key(value: str | None) -> Any:
    if value is None:
        return None
    return _Alnum(tuple((0, int(p), 0) if p.isdigit() else (1, p, 0) for p in re.split(r"[.\-_]", value)))


_ORDERING_KEYS: dict[str, Callable[[str | None], Any]] = {
    "alphanumeric": _alphanumeric_key,
    "strlen": _strlen_key,
    "version": _version_key,
}


def _typed_value(value: Any, type_name: str) -> Any:
    t = type_name.upper()
    if t in ("LONG", "DOUBLE", "FLOAT"):
        n = _as_number(value)
        return n
    return None if value is None else str(value)


def _equals(e: FilterEngine, f: F.EqualityFilter) -> Match:
    col = e.column(f.column)
    target = _typed_value(f.match_value, f.match_value_type)
    if isinstance(col, NumericColumn):
        if target is None or isinstance(target, str):
            number = _as_number(target)
            if number is None:
                return e.numeric_predicate(f.column, lambda v: np.zeros(len(v), bool))
            target = number
        return e.numeric_predicate(f.column, lambda v: v == target)
    if isinstance(target, float):
        number = target
        return e.string_predicate(f.column, lambda v: _parse_numbers(v) == number)
    text = str(target)
    return e.string_predicate(f.column, lambda v: _equal_strings(v, text))


def _range(e: FilterEngine, f: F.RangeFilter) -> Match:
    col = e.column(f.column)
    numeric = f.match_value_type.upper() in ("LONG", "DOUBLE", "FLOAT")
    if numeric:
        lower, upper = _as_number(f.lower), _as_number(f.upper)
        if isinstance(col, NumericColumn):
            return e.numeric_predicate(
                f.column,
                lambda v: _compare_bounds(v.astype(np.float64), lower, upper, f.lower_open, f.upper_open),
            )

        def parsed(values: pa.Array) -> np.ndarray:
            nums = _parse_numbers(values)
            with np.errstate(invalid="ignore"):
                return _compare_bounds(nums, lower, upper, f.lower_open, f.upper_open) & ~np.isnan(nums)

        return e.string_predicate(f.column, parsed)
    bound = F.BoundFilter(
        dimension=f.column,
        lower=None if f.lower is None else str(f.lower),
        upper=None if f.upper is None else str(f.upper),
        lower_strict=f.lower_open,
        upper_strict=f.upper_open,
    )
    return _bound_match(e, bound, matches_null=False)  # range never matches null (filters.md)


def _null(e: FilterEngine, f: F.NullFilter) -> Match:
    col = e.column(f.column)
    if col is None:
        return Match(e._all(), None)
    if isinstance(col, NumericColumn):
        if col.nulls is None:
            return Match(e._none(), None)
        return Match(e._mask(col.nulls[e.lo : e.hi].copy()), None)
    if isinstance(col, StringColumn):
        lut = np.zeros(col.cardinality, dtype=bool)
        lut[0] = True
        return Match(e._codes_rows(col, lut, 0), None)
    return Match(e._none(), None)


def like_regex(pattern: str, escape: str | None) -> str:
    """A SQL LIKE pattern as an anchored regular expression."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "^" + "".join(out) + "$"


def _like(e: FilterEngine, f: F.LikeFilter) -> Match:
    regex = like_regex(f.pattern, f.escape)
    return e.string_predicate(
        f.dimension,
        lambda v: pc.match_substring_regex(v, regex).to_numpy(zero_copy_only=False),
        extraction_fn=f.extraction_fn,
    )


def _regex(e: FilterEngine, f: F.RegexFilter) -> Match:
    compiled = re.compile(f.pattern)

    def matches(values: pa.Array) -> np.ndarray:
        try:
            return pc.match_substring_regex(values, f.pattern).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            # Arrow's RE2 lacks some Java regex features; fall back to Python's engine per value.
            return np.asarray([compiled.search(v) is not None for v in values.to_pylist()], dtype=bool)

    return e.string_predicate(f.dimension, matches, extraction_fn=f.extraction_fn)


def _search(e: FilterEngine, f: F.SearchFilter) -> Match:
    return e.string_predicate(f.dimension, search_predicate(f.query), extraction_fn=f.extraction_fn)


def _interval(e: FilterEngine, f: F.IntervalFilter) -> Match:
    if f.extraction_fn is not None:

        def within(values: pa.Array) -> np.ndarray:
            nums = _parse_numbers(values)
            out = np.zeros(len(nums), dtype=bool)
            for iv in f.intervals:
                out |= (nums >= iv.start) & (nums < iv.end)
            return out

        return e.string_predicate(f.dimension, within, extraction_fn=f.extraction_fn)
    col = e.column(f.dimension)
    if isinstance(col, NumericColumn):

        def inside(values: np.ndarray) -> np.ndarray:
            out = np.zeros(len(values), dtype=bool)
            for iv in f.intervals:
                out |= (values >= iv.start) & (values < iv.end)
            return out

        return e.numeric_predicate(f.dimension, inside)

    def inside_text(values: pa.Array) -> np.ndarray:
        nums = _parse_numbers(values)
        out = np.zeros(len(nums), dtype=bool)
        for iv in f.intervals:
            out |= (nums >= iv.start) & (nums < iv.end)
        return out

    return e.string_predicate(f.dimension, inside_text)


def _array_contains(e: FilterEngine, f: F.ArrayContainsElementFilter) -> Match:
    if f.element_match_value is None:
        return e.string_predicate(f.column, lambda v: np.zeros(len(v), bool), matches_null=True)
    value = f.element_match_value
    col = e.column(f.column)
    if isinstance(col, NumericColumn):
        number = _as_number(value)
        return e.numeric_predicate(
            f.column, lambda v: v == number if number is not None else np.zeros(len(v), bool)
        )
    text = str(value)
    return e.string_predicate(f.column, lambda v: _equal_strings(v, text))


def _and(e: FilterEngine, f: F.AndFilter) -> Match:
    t: Rows | None = None
    either: Rows | None = None  # rows TRUE or UNKNOWN in every child so far
    for child in f.fields:
        m = e.match(child)
        t = m.t if t is None else t & m.t
        tu = m.t if m.u is None else m.t | m.u
        either = tu if either is None else either & tu
        if t.is_empty() and (either is None or either.is_empty()):
            return Match(e._none(), None)
    assert t is not None and either is not None
    u = either - t
    return Match(t, None if u.is_empty() else u)


def _or(e: FilterEngine, f: F.OrFilter) -> Match:
    t: Rows | None = None
    u: Rows | None = None
    for child in f.fields:
        m = e.match(child)
        t = m.t if t is None else t | m.t
        if m.u is not None:
            u = m.u if u is None else u | m.u
    assert t is not None
    if u is not None:
        u = u - t
        if u.is_empty():
            u = None
    return Match(t, u)


def _not(e: FilterEngine, f: F.NotFilter) -> Match:
    m = e.match(f.field)
    covered = m.t if m.u is None else m.t | m.u
    return Match(covered.invert(), m.u)


def _true(e: FilterEngine, f: F.TrueFilter) -> Match:
    return Match(e._all(), None)


def _false(e: FilterEngine, f: F.FalseFilter) -> Match:
    return Match(e._none(), None)


def _column_values(e: FilterEngine, name: str, extraction_fn: Any) -> pa.Array:
    col = e.column(name)
    n = e.hi - e.lo
    if col is None:
        values = pa.nulls(n, pa.large_string())
    elif isinstance(col, StringColumn):
        if col.multi_value:
            raise Unsupported(f"columnComparison on multi-value column [{name}] is not supported")
        values = col.values_with_null().take(pa.array(col.codes[e.lo : e.hi]))
    elif isinstance(col, NumericColumn):
        strings = _numeric_as_strings(col, e.lo, e.hi)
        assert strings is not None
        values = strings.values_with_null().take(pa.array(strings.codes))
    else:
        raise InvalidQuery(f"Cannot compare sketch column [{name}]")
    if extraction_fn is not None:
        values = apply_extraction(extraction_fn, values)
    return values


def _column_comparison(e: FilterEngine, f: F.ColumnComparisonFilter) -> Match:
    arrays = [_column_values(e, d.dimension, getattr(d, "extraction_fn", None)) for d in f.dimensions]
    first = arrays[0]
    t = np.ones(e.hi - e.lo, dtype=bool)
    for other in arrays[1:]:
        eq = pc.equal(first, other)
        both_null = pc.and_(first.is_null(), other.is_null())
        t &= pc.or_(eq.fill_null(False), both_null).to_numpy(zero_copy_only=False)
    return Match(e._mask(t), None)


def _expression(e: FilterEngine, f: F.ExpressionFilter) -> Match:
    if e._expressions is None:
        raise Unsupported("Expression filters are not available here")
    t, u = e._expressions(f.expression, e.lo, e.hi)
    return Match(e._mask(t), e._mask(u) if u.any() else None)


_HANDLERS: dict[type, Callable[[FilterEngine, Any], Match]] = {
    F.SelectorFilter: _selector,
    F.ExtractionFilter: _selector,
    F.InFilter: _in,
    F.BoundFilter: _bound,
    F.EqualityFilter: _equals,
    F.RangeFilter: _range,
    F.NullFilter: _null,
    F.LikeFilter: _like,
    F.RegexFilter: _regex,
    F.SearchFilter: _search,
    F.IntervalFilter: _interval,
    F.ArrayContainsElementFilter: _array_contains,
    F.AndFilter: _and,
    F.OrFilter: _or,
    F.NotFilter: _not,
    F.TrueFilter: _true,
    F.FalseFilter: _false,
    F.ColumnComparisonFilter: _column_comparison,
    F.ExpressionFilter: _expression,
}
