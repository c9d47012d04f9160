"""Half-open time intervals ``[start, end)`` in epoch milliseconds, with Druid's ISO text form."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from grove.common.period import Period
from grove.common.time import MAX_INSTANT, MIN_INSTANT, format_timestamp, parse_timestamp
from grove.errors import InvalidInput


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(f"Invalid interval [{self}]: its end is before its start")

    @staticmethod
    def parse(text: str) -> Interval:
        """Parse ``start/end``, ``start/period`` or ``period/end`` (ISO-8601)."""
        if not isinstance(text, str) or text.count("/") != 1:
            raise InvalidInput(f"Invalid interval [{text}]")
        left, right = (p.strip() for p in text.split("/"))
        try:
            if left.upper().startswith("P"):
                end = parse_timestamp(right)
                return Interval(_minus(end, Period.parse(left)), end)
            start = parse_timestamp(left)
            if right.upper().startswith("P"):
                return Interval(start, Period.parse(right).add_to(start))
            return Interval(start, parse_timestamp(right))
        except InvalidInput as e:
            raise InvalidInput(f"Invalid interval [{text}]: {e.message}") from None

    @staticmethod
    def eternity() -> Interval:
        return Interval(MIN_INSTANT, MAX_INSTANT)

    @property
    def duration(self) -> int:
        return self.end - self.start

    def is_empty(self) -> bool:
        return self.end == self.start

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    def contains_instant(self, ms: int) -> bool:
        return self.start <= ms < self.end

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def intersect(self, other: Interval) -> Interval | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Interval(start, end) if start < end else None

    def __str__(self) -> str:
        return f"{format_timestamp(self.start)}/{format_timestamp(self.end)}"

    def to_json(self) -> str:
        return str(self)


def _minus(ms: int, period: Period) -> int:
    return period.add_to(ms, times=-1)


def condense(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge overlapping or abutting intervals."""
    out: list[Interval] = []
    for iv in sorted(intervals):
        if out and iv.start <= out[-1].end:
            if iv.end > out[-1].end:
                out[-1] = Interval(out[-1].start, iv.end)
        else:
            out.append(iv)
    return out


def subtract(base: Interval, holes: Iterable[Interval]) -> list[Interval]:
    """The parts of ``base`` not covered by any of ``holes``."""
    out: list[Interval] = []
    cursor = base.start
    for h in condense(holes):
        if h.end <= cursor or h.start >= base.end:
            continue
        if h.start > cursor:
            out.append(Interval(cursor, h.start))
        cursor = max(cursor, h.end)
    if cursor < base.end:
        out.append(Interval(cursor, base.end))
    return out
