"""Time in SQL: units and periods, TIMESTAMP literals, and conditions on ``__time`` as query intervals.

Druid turns conditions on ``__time`` into the query's ``intervals`` so that segments outside them are
never opened (``docs/querying/sql-translation.md``, "Time filters"). :func:`split_time_conditions`
does the same: the WHERE clause's top-level conjuncts that are conditions on ``__time`` alone —
comparisons with a constant time, BETWEEN, IN, ``FLOOR(__time TO unit) = t``, ``TIME_IN_INTERVAL`` and
the like, and AND/OR/NOT of those — become an :class:`IntervalSet`; the other conjuncts stay a filter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from grove.common.granularity import PeriodGranularity
from grove.common.intervals import Interval
from grove.common.period import Period
from grove.common.time import MAX_INSTANT, MIN_INSTANT, format_timestamp, parse_timestamp, zone
from grove.errors import InvalidInput
from grove.query.expression.time_functions import EXTRACT_UNITS as NATIVE_EXTRACT_UNITS
from grove.sql.errors import SqlError
from grove.sql.text import IN_LIST_PREFIX
from grove.sql.tree import flatten

TIME = "__time"

# SQL time units (FLOOR/CEIL(... TO unit), DATE_TRUNC, TIMESTAMPADD) as ISO periods.
UNIT_PERIODS = {
    "MILLISECOND": "PT0.001S",
    "MILLISECONDS": "PT0.001S",
    "SECOND": "PT1S",
    "MINUTE": "PT1M",
    "HOUR": "PT1H",
    "DAY": "P1D",
    "WEEK": "P1W",
    "MONTH": "P1M",
    "QUARTER": "P3M",
    "YEAR": "P1Y",
    "DECADE": "P10Y",
    "CENTURY": "P100Y",
    "MILLENNIUM": "P1000Y",
}

# The units TIME_EXTRACT/EXTRACT take are those of Druid's native ``timestamp_extract``.
EXTRACT_UNITS = frozenset(NATIVE_EXTRACT_UNITS)

# Fixed-length interval units in milliseconds; MONTH and YEAR are counted in months.
INTERVAL_MILLIS = {
    "MILLISECOND": 1,
    "SECOND": 1000,
    "MINUTE": 60_000,
    "HOUR": 3_600_000,
    "DAY": 86_400_000,
    "WEEK": 7 * 86_400_000,
}
INTERVAL_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def unit_name(node: exp.Expression | None) -> str:
    """The upper-case name of a unit argument (``DAY``, ``'day'``, a bare word)."""
    if node is None:
        raise SqlError("A time unit is missing")
    if isinstance(node, exp.Literal | exp.Var):
        return str(node.this).upper()
    if isinstance(node, exp.Column):
        return node.name.upper()
    return node.sql().upper()


def unit_period(unit: str) -> str:
    period = UNIT_PERIODS.get(unit.upper().rstrip("S") if unit.upper() not in UNIT_PERIODS else unit.upper())
    if period is None:
        raise SqlError(f"Unsupported time unit [{unit}]")
    return period


def parse_sql_timestamp(text: str, tz_name: str) -> int:
    """A TIMESTAMP literal (``2000-01-01 00:00:00``, or ISO 8601) read in ``tz_name`` (epoch ms)."""
    try:
        return parse_timestamp(text, zone(tz_name))
    except InvalidInput:
        raise SqlError(f"Illegal TIMESTAMP literal [{text}]") from None


def parse_interval(text: str) -> tuple[int, int]:
    """An ISO-8601 interval (``start/end``, ``start/period``) as epoch ms (start, end)."""
    try:
        iv = Interval.parse(text)
    except InvalidInput:
        raise SqlError(f"Illegal interval literal [{text}]") from None
    return iv.start, iv.end


def granularity_of(spec: dict[str, Any]) -> PeriodGranularity:
    """The granularity object of a period granularity's JSON (for bucket arithmetic)."""
    origin = spec.get("origin")
    return PeriodGranularity(
        Period.parse(spec["period"]),
        zone(spec.get("timeZone")),
        parse_timestamp(origin) if isinstance(origin, str) else origin,
        tz_name=spec.get("timeZone"),
    )


# --- interval sets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntervalSet:
    """A union of disjoint, sorted half-open ranges of epoch ms inside eternity."""

    ranges: tuple[tuple[int, int], ...]

    @staticmethod
    def all() -> IntervalSet:
        return IntervalSet(((MIN_INSTANT, MAX_INSTANT),))

    @staticmethod
    def of(start: int, end: int) -> IntervalSet:
        start, end = max(start, MIN_INSTANT), min(end, MAX_INSTANT)
        return IntervalSet(((start, end),) if start < end else ())

    def union(self, other: IntervalSet) -> IntervalSet:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(self.ranges + other.ranges):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return IntervalSet(tuple(merged))

    def intersect(self, other: IntervalSet) -> IntervalSet:
        out = []
        for a0, a1 in self.ranges:
            for b0, b1 in other.ranges:
                lo, hi = max(a0, b0), min(a1, b1)
                if lo < hi:
                    out.append((lo, hi))
        return IntervalSet(tuple(sorted(out)))

    def complement(self) -> IntervalSet:
        out = []
        cursor = MIN_INSTANT
        for start, end in self.ranges:
            if start > cursor:
                out.append((cursor, start))
            cursor = max(cursor, end)
        if cursor < MAX_INSTANT:
            out.append((cursor, MAX_INSTANT))
        return IntervalSet(tuple(out))

    def is_all(self) -> bool:
        return self.ranges == ((MIN_INSTANT, MAX_INSTANT),)

    def to_json(self) -> list[str]:
        """ISO intervals for a native query; an empty set is one empty interval (matches nothing)."""
        if not self.ranges:
            return [str(Interval(0, 0))]
        return [f"{format_timestamp(a)}/{format_timestamp(b)}" for a, b in self.ranges]


ETERNITY = IntervalSet.all()

# --- conditions on __time -----------------------------------------------------------------------------

TimeValue = Callable[[exp.Expression], int | None]
"""The epoch-ms value of a constant time expression, or None when the node is not one."""

IsTime = Callable[[exp.Expression], "PeriodGranularity | bool | None"]
"""For an expression over ``__time``: True for ``__time`` itself, its granularity when it is a floor of
``__time`` (FLOOR, TIME_FLOOR, DATE_TRUNC), None for anything else."""


def split_time_conditions(
    where: exp.Expression | None, time_value: TimeValue, time_key: IsTime
) -> tuple[IntervalSet, exp.Expression | None]:
    """The intervals that the time conjuncts of ``where`` select, and the conjuncts left over."""
    if where is None:
        return ETERNITY, None
    intervals = ETERNITY
    rest: list[exp.Expression] = []
    for conjunct in _conjuncts(where):
        found = _ranges(conjunct, time_value, time_key)
        if found is None:
            rest.append(conjunct)
        else:
            intervals = intervals.intersect(found)
    if not rest:
        return intervals, None
    remaining = rest[0]
    for c in rest[1:]:
        remaining = exp.And(this=remaining, expression=c)
    return intervals, remaining


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    return flatten(node, exp.And)


_FLIP: dict[type[exp.Expression], type[exp.Expression]] = {
    exp.GT: exp.LT,
    exp.GTE: exp.LTE,
    exp.LT: exp.GT,
    exp.LTE: exp.GTE,
    exp.EQ: exp.EQ,
}


def _ranges(node: exp.Expression, value: TimeValue, key: IsTime) -> IntervalSet | None:
    """The time ranges a condition selects, or None when it is not a condition on ``__time`` alone."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And | exp.Or):
        # A chain of thousands of ORs (one per hour of a report) is walked without recursing on it.
        out: IntervalSet | None = None
        for operand in flatten(node, type(node)):
            found = _ranges(operand, value, key)
            if found is None:
                return None
            out = (
                found
                if out is None
                else out.intersect(found)
                if isinstance(node, exp.And)
                else out.union(found)
            )
        return out
    if isinstance(node, exp.Not):
        inner = _ranges(node.this, value, key)
        return inner.complement() if inner is not None else None
    if (
        isinstance(node, exp.Anonymous)
        and str(node.this).upper() == "TIME_IN_INTERVAL"
        and len(node.expressions) == 2
    ):
        subject, text = key(node.expressions[0]), node.expressions[1]
        if subject is not True or not isinstance(text, exp.Literal) or not text.is_string:
            return None
        return IntervalSet.of(*parse_interval(str(text.this)))
    if isinstance(node, exp.Between):
        subject = key(node.this)
        low, high = value(node.args["low"]), value(node.args["high"])
        if subject is None or low is None or high is None:
            return None
        return _compare(subject, exp.GTE, low).intersect(_compare(subject, exp.LTE, high))
    if isinstance(node, exp.In):
        subject = key(node.this)
        items = node.expressions
        if subject is None or node.args.get("query") is not None or not items:
            return None
        if len(items) == 1 and isinstance(items[0], exp.Column) and items[0].name.startswith(IN_LIST_PREFIX):
            return None  # literal lists of plain numbers or strings are not times
        out = IntervalSet(())
        for item in items:
            t = value(item)
            if t is None:
                return None
            out = out.union(_compare(subject, exp.EQ, t))
        return out
    if type(node) in _FLIP:
        op: type[exp.Expression] = type(node)
        subject, other = key(node.this), node.expression
        if subject is None:
            subject, other, op = key(node.expression), node.this, _FLIP[type(node)]
        t = value(other) if subject is not None else None
        if subject is None or t is None:
            return None
        return _compare(subject, op, t)
    return None


def _compare(subject: Any, op: type[exp.Expression], t: int) -> IntervalSet:
    """Times whose key (``__time`` itself when ``subject`` is True, else its floor) compares with t."""
    if subject is True:
        lo, hi = t, t + 1
    else:
        g: PeriodGranularity = subject
        start = g.truncate(t)
        if start != t:  # no bucket starts at t: floor(__time) = t never holds
            lo = hi = g.increment(start)
            if op is exp.EQ:
                return IntervalSet(())
        else:
            lo, hi = t, g.increment(t)
    if op is exp.EQ:
        return IntervalSet.of(lo, hi)
    if op is exp.GTE:
        return IntervalSet.of(lo, MAX_INSTANT)
    if op is exp.GT:
        return IntervalSet.of(hi, MAX_INSTANT)
    if op is exp.LT:
        return IntervalSet.of(MIN_INSTANT, lo)
    return IntervalSet.of(MIN_INSTANT, hi)  # LTE
